//! An order's life after acceptance: delivery tracking (ready, shipped with
//! a carrier and tracking number, out for delivery, delivered), partial
//! cancellation and returns line by line, and the credit notes that refund
//! them.
//!
//! The rules here are pure: storage hands over each line's state, gets back
//! which lines move by how much and what that is worth, and writes it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::decimal::{quantity_string, round_money, Amount, Quantity};
use crate::error::{DomainError, Problems};
use crate::order::{OrderAction, OrderStatus};
use crate::stock::ser_qty;

/// Longest free text kept for a reason, carrier or tracking number.
pub const MAX_TEXT: usize = 500;
/// Longest storefront refund id.
pub const MAX_REFUND_ID: usize = 128;

/// Where an order is on its way to the customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub ready_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub out_for_delivery_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Body of the admin `ship` action.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    /// Who carries the parcel, e.g. `Delhivery`.
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
}

/// One step along an order's delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStep {
    Ready,
    Ship {
        carrier: String,
        tracking_number: String,
    },
    OutForDelivery,
    Deliver,
}

impl DeliveryStep {
    pub fn action(&self) -> OrderAction {
        match self {
            DeliveryStep::Ready => OrderAction::Ready,
            DeliveryStep::Ship { .. } => OrderAction::Ship,
            DeliveryStep::OutForDelivery => OrderAction::OutForDelivery,
            DeliveryStep::Deliver => OrderAction::Deliver,
        }
    }

    /// What the order's history says about the step.
    pub fn note(&self) -> Option<String> {
        match self {
            DeliveryStep::Ship {
                carrier,
                tracking_number,
            } => Some(format!(
                "shipped by {carrier}, tracking number {tracking_number}"
            )),
            _ => None,
        }
    }
}

impl ShipRequest {
    /// Both fields are required: a shipment nobody can track is not shipped.
    pub fn step(&self) -> Result<DeliveryStep, DomainError> {
        let mut p = Problems::default();
        let carrier = required_text(&self.carrier, "carrier", &mut p);
        let tracking_number = required_text(&self.tracking_number, "tracking_number", &mut p);
        p.into_result()?;
        Ok(DeliveryStep::Ship {
            carrier,
            tracking_number,
        })
    }
}

fn required_text(raw: &str, field: &str, p: &mut Problems) -> String {
    let text = raw.trim();
    if text.is_empty() {
        p.push(field, "required", format!("{field} must not be empty"));
    } else if text.chars().count() > 128 {
        p.push(
            field,
            "too_long",
            format!("{field} is at most 128 characters"),
        );
    }
    text.to_string()
}

/// A reason as kept: trimmed, capped, None when blank.
pub fn clean_reason(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(MAX_TEXT).collect())
}

/// Which line of an order, and how much of it. A line is named by its
/// `line_no`, or by its reference code (spread over the order's lines with
/// that code, in line order, when there are several).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    #[serde(default)]
    pub line_no: Option<i32>,
    #[serde(default)]
    pub reference_code: Option<Code>,
    pub quantity: Quantity,
}

/// Body of `POST .../cancel`: without `lines`, the whole order.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why, kept in the order's history (and on a credit note).
    #[serde(default)]
    pub reason: Option<String>,
    /// Lines or quantities to cancel; leave out to cancel the whole order.
    #[serde(default)]
    pub lines: Option<Vec<LineQuantity>>,
}

/// A partial cancellation as storage takes it.
#[derive(Debug, Clone, Default)]
pub struct LineCancellation {
    pub lines: Vec<LineQuantity>,
    pub reason: Option<String>,
    /// The storefront's refund id: a second cancellation with the same id
    /// changes nothing.
    pub refund_id: Option<String>,
}

/// Body of `POST .../returns`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<LineQuantity>,
    #[serde(default)]
    pub reason: Option<String>,
    /// Whether the goods go back on hand (true) or are written off.
    #[serde(default = "yes")]
    pub restock: bool,
    /// Where restocked goods go; by default where each line was sold from.
    #[serde(default)]
    pub location: Option<Code>,
    /// The storefront's refund id: a second return with the same id changes
    /// nothing and answers the first credit note.
    #[serde(default)]
    pub refund_id: Option<String>,
}

fn yes() -> bool {
    true
}

/// Checks a refund id: 1 to 128 characters once trimmed.
pub fn refund_id(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(id) if id.is_empty() || id.chars().count() > MAX_REFUND_ID => {
            Err(DomainError::invalid(
                "refund_id",
                "invalid_refund_id",
                format!("a refund id is 1 to {MAX_REFUND_ID} characters"),
            ))
        }
        Some(id) => Ok(Some(id.to_string())),
    }
}

/// Why a credit note was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CreditNoteKind {
    /// Delivered goods came back.
    Return,
    /// Lines of a billed order were cancelled.
    Cancellation,
}

impl CreditNoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditNoteKind::Return => "return",
            CreditNoteKind::Cancellation => "cancellation",
        }
    }

    pub fn parse(s: &str) -> CreditNoteKind {
        if s == "cancellation" {
            CreditNoteKind::Cancellation
        } else {
            CreditNoteKind::Return
        }
    }
}

/// A credit note: money owed back to the customer against a bill.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditNote {
    /// `<location code>-CN-<number>`, counting per location like bills.
    pub credit_note_no: String,
    pub kind: CreditNoteKind,
    /// The bill it corrects.
    pub bill_no: String,
    pub order_id: i64,
    pub online_reference_no: String,
    pub store: String,
    pub location: String,
    /// The lines' share of their amounts, tax included.
    pub amount: Amount,
    pub tax_amount: Amount,
    pub reason: Option<String>,
    /// The storefront's refund id, when the storefront sent one.
    pub refund_id: Option<String>,
    /// `store` or `admin`.
    pub by: String,
    pub lines: Vec<CreditNoteLine>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditNoteLine {
    pub line_no: i32,
    pub reference_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub quantity: Decimal,
    pub amount: Amount,
    pub tax_amount: Amount,
    /// Where goods went back on hand; empty when written off.
    pub restocked: Vec<Restock>,
    /// Units that came back but not into stock.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub written_off: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Restock {
    pub location: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub quantity: Decimal,
}

/// The credit note number for the `seq`-th credit note of a location.
pub fn credit_note_number(location_code: &str, seq: i64) -> String {
    format!("{location_code}-CN-{seq:06}")
}

/// What the rules need to know about one line of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct LineState {
    pub line_no: i32,
    pub variant_id: i64,
    /// The code the order was placed with.
    pub reference_code: String,
    /// The variant's code today (it may have been renamed since).
    pub current_code: String,
    pub quantity: Decimal,
    pub cancelled: Decimal,
    pub returned: Decimal,
    /// Line total including tax, for `quantity` units.
    pub amount: Decimal,
    pub tax_amount: Decimal,
}

impl LineState {
    /// Units still ordered (and, once delivered, delivered).
    pub fn open(&self) -> Decimal {
        self.quantity - self.cancelled
    }

    /// Units delivered and not yet back.
    pub fn returnable(&self) -> Decimal {
        self.open() - self.returned
    }

    fn answers_to(&self, code: &str) -> bool {
        self.reference_code == code || self.current_code == code
    }

    /// The share of `of` (the line amount or its tax) for `gone` units.
    /// Shares are worked out on the running total so that they add up to
    /// the line exactly once every unit is gone, whatever the rounding.
    fn share(&self, of: Decimal, gone: Decimal) -> Decimal {
        if self.quantity.is_zero() {
            return Decimal::ZERO;
        }
        round_money(of * gone / self.quantity)
    }
}

/// Cancelling or returning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Cancel,
    Return,
}

/// One order line and how many of its units move, with what they are worth.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePart {
    pub line_no: i32,
    pub variant_id: i64,
    pub reference_code: String,
    pub quantity: Decimal,
    pub amount: Decimal,
    pub tax_amount: Decimal,
}

/// What a partial cancellation or a return does to an order.
#[derive(Debug, Clone, PartialEq)]
pub struct LinesPlan {
    /// In line order, one per line touched.
    pub parts: Vec<LinePart>,
    pub amount: Decimal,
    pub tax_amount: Decimal,
    /// Nothing is left to cancel (cancel) or to return (return) afterwards.
    pub nothing_left: bool,
}

impl LinesPlan {
    /// "line 2 x1, line 3 x2", for the order's history.
    pub fn describe(&self) -> String {
        self.parts
            .iter()
            .map(|p| format!("line {} x{}", p.line_no, quantity_string(p.quantity)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The status after a return: `returned` once everything is back.
    pub fn status_after_return(&self) -> OrderStatus {
        if self.nothing_left {
            OrderStatus::Returned
        } else {
            OrderStatus::PartiallyReturned
        }
    }
}

/// Resolves the asked lines against the order's lines and checks that each
/// asks no more than is left: for a cancellation what is still ordered, for
/// a return what was delivered and has not come back. Every problem is
/// reported at once, naming the request line.
pub fn plan_lines(
    lines: &[LineState],
    asked: &[LineQuantity],
    purpose: Purpose,
) -> Result<LinesPlan, DomainError> {
    let mut p = Problems::default();
    if asked.is_empty() {
        p.push(
            "lines",
            "no_lines",
            "name at least one line (leave `lines` out to cancel the whole order)",
        );
    }
    let left = |l: &LineState| match purpose {
        Purpose::Cancel => l.open(),
        Purpose::Return => l.returnable(),
    };
    let mut taken = vec![Decimal::ZERO; lines.len()];
    for (i, a) in asked.iter().enumerate() {
        let qty = a.quantity.value();
        let candidates: Vec<usize> = match (a.line_no, &a.reference_code) {
            (None, None) => {
                p.push(
                    format!("lines[{i}]"),
                    "line_required",
                    "name the line by `line_no` or `reference_code`",
                );
                continue;
            }
            (Some(no), code) => match lines.iter().position(|l| l.line_no == no) {
                None => {
                    p.push(
                        format!("lines[{i}].line_no"),
                        "unknown_line",
                        format!("the order has no line {no}"),
                    );
                    continue;
                }
                Some(at)
                    if code
                        .as_ref()
                        .is_some_and(|c| !lines[at].answers_to(c.as_str())) =>
                {
                    p.push(
                        format!("lines[{i}].reference_code"),
                        "line_mismatch",
                        format!(
                            "line {no} is `{}`, not `{}`",
                            lines[at].reference_code,
                            code.as_ref().map(Code::as_str).unwrap_or_default()
                        ),
                    );
                    continue;
                }
                Some(at) => vec![at],
            },
            (None, Some(code)) => {
                let found: Vec<usize> = (0..lines.len())
                    .filter(|&at| lines[at].answers_to(code.as_str()))
                    .collect();
                if found.is_empty() {
                    p.push(
                        format!("lines[{i}].reference_code"),
                        "unknown_line",
                        format!("the order has no line with reference code `{code}`"),
                    );
                    continue;
                }
                found
            }
        };
        // Spread over the candidates in line order; what no candidate can
        // take is an error naming the last of them.
        let mut rest = qty;
        for (k, &at) in candidates.iter().enumerate() {
            let room = (left(&lines[at]) - taken[at]).max(Decimal::ZERO);
            let last = k + 1 == candidates.len();
            let take = if last { rest } else { rest.min(room) };
            if take > room {
                let l = &lines[at];
                let (code, message) = match purpose {
                    Purpose::Cancel => (
                        "quantity_exceeds_remaining",
                        format!(
                            "line {} ({}) has {} left to cancel; {} asked",
                            l.line_no,
                            l.reference_code,
                            quantity_string(room),
                            quantity_string(take)
                        ),
                    ),
                    Purpose::Return => (
                        "quantity_exceeds_delivered",
                        format!(
                            "line {} ({}): {} delivered, {} already returned, so at most {} can come back; {} asked",
                            l.line_no,
                            l.reference_code,
                            quantity_string(l.open()),
                            quantity_string(l.returned),
                            quantity_string(room),
                            quantity_string(take)
                        ),
                    ),
                };
                p.push(format!("lines[{i}].quantity"), code, message);
                break;
            }
            taken[at] += take;
            rest -= take;
            if rest.is_zero() {
                break;
            }
        }
    }
    p.into_result()?;

    let mut parts = Vec::new();
    for (l, &q) in lines.iter().zip(&taken) {
        if q.is_zero() {
            continue;
        }
        let before = l.cancelled + l.returned;
        let after = before + q;
        parts.push(LinePart {
            line_no: l.line_no,
            variant_id: l.variant_id,
            reference_code: l.reference_code.clone(),
            quantity: q,
            amount: l.share(l.amount, after) - l.share(l.amount, before),
            tax_amount: l.share(l.tax_amount, after) - l.share(l.tax_amount, before),
        });
    }
    let nothing_left = lines.iter().zip(&taken).all(|(l, q)| left(l) == *q);
    Ok(LinesPlan {
        amount: parts.iter().map(|p| p.amount).sum(),
        tax_amount: parts.iter().map(|p| p.tax_amount).sum(),
        parts,
        nothing_left,
    })
}

/// Takes `quantity` from a line's allocations (location, quantity in
/// sourcing order), last location first: the overflow locations of a split
/// line give back before the first one does. Answers (index, taken) pairs
/// and what the allocations could not cover.
pub fn take_last_first(
    allocations: &[Decimal],
    quantity: Decimal,
) -> (Vec<(usize, Decimal)>, Decimal) {
    let mut rest = quantity;
    let mut out = Vec::new();
    for (i, held) in allocations.iter().enumerate().rev() {
        if rest.is_zero() {
            break;
        }
        let take = rest.min(*held);
        if take > Decimal::ZERO {
            out.push((i, take));
            rest -= take;
        }
    }
    (out, rest)
}

/// A storefront's refund that returns goods, as its connector reported it.
#[derive(Debug, Clone)]
pub struct StorefrontRefund {
    /// The storefront's own id: a redelivered refund changes nothing.
    pub refund_id: String,
    pub lines: Vec<LineQuantity>,
    pub reason: Option<String>,
    /// Whether the goods go back on hand (else they are written off).
    pub restock: bool,
}

/// What a storefront's refund of goods does to an order, by its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundBooking {
    /// The goods reached the customer and come back: a return, restocked
    /// where they were sold from (or written off) and credited.
    Return,
    /// The goods have not reached the customer: the lines are cancelled
    /// (released, or back on hand) and, once billed, credited.
    CancelLines,
    /// Nothing to book, and why.
    Nothing(&'static str),
}

/// How the hub books a storefront's refund of goods for an order in
/// `status`. (A refund of money only books nothing, whatever the status.)
pub fn refund_booking(status: OrderStatus) -> RefundBooking {
    use OrderStatus::*;
    match status {
        Cancelled => RefundBooking::Nothing("the order is already cancelled"),
        Delivered | PartiallyReturned | Returned => RefundBooking::Return,
        Pending | Billed | Ready | Shipped | OutForDelivery => RefundBooking::CancelLines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_returns_delivered_goods_and_cancels_the_rest() {
        use OrderStatus::*;
        let table = [
            (Pending, RefundBooking::CancelLines),
            (Billed, RefundBooking::CancelLines),
            (Ready, RefundBooking::CancelLines),
            (Shipped, RefundBooking::CancelLines),
            (OutForDelivery, RefundBooking::CancelLines),
            (Delivered, RefundBooking::Return),
            (PartiallyReturned, RefundBooking::Return),
            (Returned, RefundBooking::Return),
            (
                Cancelled,
                RefundBooking::Nothing("the order is already cancelled"),
            ),
        ];
        for (status, booked) in table {
            assert_eq!(refund_booking(status), booked, "{status:?}");
        }
    }

    fn d(v: &str) -> Decimal {
        v.parse().unwrap()
    }

    fn line(no: i32, code: &str, qty: &str, amount: &str) -> LineState {
        LineState {
            line_no: no,
            variant_id: i64::from(no) * 10,
            reference_code: code.into(),
            current_code: code.into(),
            quantity: d(qty),
            cancelled: Decimal::ZERO,
            returned: Decimal::ZERO,
            amount: d(amount),
            tax_amount: round_money(d(amount) * d("12") / d("112")),
        }
    }

    fn ask(no: Option<i32>, code: Option<&str>, qty: &str) -> LineQuantity {
        LineQuantity {
            line_no: no,
            reference_code: code.map(|c| Code::parse(c).unwrap()),
            quantity: Quantity::parse(qty).unwrap(),
        }
    }

    fn codes(e: DomainError) -> Vec<(String, String)> {
        let DomainError::Invalid(errors) = e else {
            panic!("{e:?}")
        };
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_partial_cancel_takes_its_share_of_the_line() {
        let lines = [line(1, "MUG", "3", "100.00"), line(2, "TOY", "2", "500.00")];
        let plan = plan_lines(&lines, &[ask(Some(1), None, "1")], Purpose::Cancel).unwrap();
        assert_eq!(plan.parts.len(), 1);
        assert_eq!(plan.parts[0].amount, d("33.33"));
        assert!(!plan.nothing_left);
        assert_eq!(plan.describe(), "line 1 x1");
        // Cancelling the rest of both lines leaves nothing.
        let mut after = lines.clone();
        after[0].cancelled = d("1");
        let plan = plan_lines(
            &after,
            &[ask(Some(1), None, "2"), ask(None, Some("TOY"), "2")],
            Purpose::Cancel,
        )
        .unwrap();
        // 100.00 - 33.33: the shares add up to the line exactly.
        assert_eq!(plan.parts[0].amount, d("66.67"));
        assert_eq!(plan.amount, d("566.67"));
        assert!(plan.nothing_left);
    }

    #[test]
    fn asking_more_than_is_left_names_the_line() {
        let mut lines = [line(1, "MUG", "3", "100.00"), line(2, "TOY", "2", "500.00")];
        lines[0].cancelled = d("1");
        let err = plan_lines(&lines, &[ask(Some(1), None, "3")], Purpose::Cancel).unwrap_err();
        assert_eq!(
            codes(err.clone()),
            [(
                "lines[0].quantity".into(),
                "quantity_exceeds_remaining".into()
            )]
        );
        assert!(
            err.to_string()
                .contains("line 1 (MUG) has 2 left to cancel; 3 asked"),
            "{err}"
        );
        // Two request lines for the same order line add up.
        let err = plan_lines(
            &lines,
            &[ask(Some(2), None, "1"), ask(None, Some("TOY"), "2")],
            Purpose::Cancel,
        )
        .unwrap_err();
        assert_eq!(
            codes(err),
            [(
                "lines[1].quantity".into(),
                "quantity_exceeds_remaining".into()
            )]
        );
    }

    #[test]
    fn returns_count_what_was_delivered_and_not_yet_back() {
        let mut lines = [line(1, "MUG", "3", "100.00")];
        lines[0].cancelled = d("1");
        lines[0].returned = d("1");
        let err = plan_lines(&lines, &[ask(Some(1), None, "2")], Purpose::Return).unwrap_err();
        assert!(
            err.to_string()
                .contains("2 delivered, 1 already returned, so at most 1 can come back; 2 asked"),
            "{err}"
        );
        let plan = plan_lines(&lines, &[ask(Some(1), None, "1")], Purpose::Return).unwrap();
        assert!(plan.nothing_left);
        assert_eq!(plan.status_after_return(), OrderStatus::Returned);
        // 100.00 x 3/3 - 100.00 x 2/3
        assert_eq!(plan.amount, d("33.33"));
    }

    #[test]
    fn lines_are_named_by_number_or_code() {
        let lines = [line(1, "MUG", "1", "100.00"), line(2, "MUG", "2", "200.00")];
        // A code spreads over its lines in line order.
        let plan = plan_lines(&lines, &[ask(None, Some("MUG"), "2")], Purpose::Cancel).unwrap();
        let split: Vec<_> = plan.parts.iter().map(|p| (p.line_no, p.quantity)).collect();
        assert_eq!(split, [(1, d("1")), (2, d("1"))]);
        let err = plan_lines(
            &lines,
            &[
                ask(None, None, "1"),
                ask(Some(9), None, "1"),
                ask(None, Some("CUP"), "1"),
                ask(Some(1), Some("TOY"), "1"),
            ],
            Purpose::Return,
        )
        .unwrap_err();
        assert_eq!(
            codes(err),
            [
                ("lines[0]".into(), "line_required".into()),
                ("lines[1].line_no".into(), "unknown_line".into()),
                ("lines[2].reference_code".into(), "unknown_line".into()),
                ("lines[3].reference_code".into(), "line_mismatch".into()),
            ]
        );
        let err = plan_lines(&lines, &[], Purpose::Return).unwrap_err();
        assert_eq!(codes(err), [("lines".into(), "no_lines".into())]);
        // A renamed variant still finds its line.
        let mut renamed = lines.clone();
        renamed[0].current_code = "MUG-WHITE".into();
        let plan = plan_lines(
            &renamed,
            &[ask(None, Some("MUG-WHITE"), "1")],
            Purpose::Cancel,
        )
        .unwrap();
        assert_eq!(plan.parts[0].line_no, 1);
    }

    #[test]
    fn allocations_give_back_last_location_first() {
        let (taken, short) = take_last_first(&[d("4"), d("2")], d("3"));
        assert_eq!(taken, [(1, d("2")), (0, d("1"))]);
        assert!(short.is_zero());
        let (taken, short) = take_last_first(&[d("1"), d("0")], d("2"));
        assert_eq!(taken, [(0, d("1"))]);
        assert_eq!(short, d("1"));
    }

    #[test]
    fn shipping_needs_a_carrier_and_a_tracking_number() {
        let ok = ShipRequest {
            carrier: " Delhivery ".into(),
            tracking_number: "AWB123".into(),
        };
        assert_eq!(
            ok.step().unwrap(),
            DeliveryStep::Ship {
                carrier: "Delhivery".into(),
                tracking_number: "AWB123".into()
            }
        );
        let bad = ShipRequest {
            carrier: "".into(),
            tracking_number: " ".into(),
        };
        assert_eq!(
            codes(bad.step().unwrap_err()),
            [
                ("carrier".into(), "required".into()),
                ("tracking_number".into(), "required".into())
            ]
        );
    }

    #[test]
    fn numbers_and_refund_ids() {
        assert_eq!(credit_note_number("BLR", 7), "BLR-CN-000007");
        assert_eq!(refund_id(Some(" r-1 ")).unwrap().as_deref(), Some("r-1"));
        assert!(refund_id(Some("")).is_err());
        assert_eq!(clean_reason(Some("  ")), None);
    }
}
