//! Sales orders: the canonical order document a store sends, the rules it must
//! pass (known codes, positive quantities, a total that adds up, allowed
//! payment types that cover the total), and the status machine.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes::{Code, PaymentType};
use crate::currency::Currency;
use crate::customer::{check_address, Contact, CustomerIn};
use crate::decimal::{Amount, Quantity, Rate, SignedAmount};
use crate::email::Email;
use crate::error::{DomainError, Problems};
use crate::phone::CountryCode;

/// Most lines one order may carry.
pub const MAX_LINES: usize = 500;

/// The canonical order document (store API body, and what connectors produce).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The storefront's own order number; unique per store.
    pub online_reference_no: String,
    /// Location code the order is fulfilled from. May be left out when the
    /// API key acts for exactly one location.
    #[serde(default)]
    pub location: Option<Code>,
    #[serde(default)]
    pub customer: Option<CustomerIn>,
    pub lines: Vec<LineIn>,
    #[serde(default)]
    pub shipping: Option<Shipping>,
    /// Lines that move no stock (gift cards sold, tips, custom items, fees,
    /// duties): recorded with the order and counted in its total.
    #[serde(default)]
    pub charges: Vec<Charge>,
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// What the customer is charged: lines, shipping and charges (each with
    /// its tax when prices exclude it).
    pub total: Amount,
    /// ISO 4217 code of every amount in the order; the store's currency when
    /// left out. An order in another currency is refused
    /// (`currency_mismatch`).
    #[serde(default)]
    pub currency: Option<Currency>,
    /// Whether line prices, shipping and charges include tax; the store's
    /// `prices_include_tax` when left out.
    #[serde(default)]
    pub prices_include_tax: Option<bool>,
    /// A storefront's test order: taken only by a store whose
    /// `accept_test_orders` is on (else `test_order_refused`).
    #[serde(default)]
    pub test: bool,
    /// When the customer placed the order on the storefront.
    #[serde(default)]
    pub placed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub reference_code: Code,
    pub quantity: Quantity,
    /// Price of one unit before discount.
    pub unit_price: Amount,
    /// Discount on the whole line.
    #[serde(default)]
    pub discount: Option<Amount>,
    /// Tax percentage; defaults to the item's tax rate.
    #[serde(default)]
    pub tax_rate: Option<Rate>,
    /// The storefront's own tax on the line after its discount. When given
    /// it is booked as is (the storefront's rounding, per line or on the
    /// subtotal, is kept) instead of being worked out from the rate.
    #[serde(default)]
    pub tax_amount: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Shipping {
    /// The shipping charge, written as the order's prices are: with its tax
    /// when they include tax, else without (the customer pays `tax` on top).
    pub amount: Amount,
    /// The tax on shipping, when the storefront charged any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Amount>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub address: Option<serde_json::Value>,
}

/// What a line that moves no stock is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// A gift card sold: money paid now, to be spent later.
    GiftCard,
    /// A tip for the merchant or their staff.
    Tip,
    /// A custom item or service without a variant in the catalogue.
    Custom,
    /// A fee (handling, payment, packaging ...); the only kind that may be
    /// negative, as a storefront's discount fee is.
    Fee,
    /// Import duties collected from the customer.
    Duty,
}

/// A line of an order that moves no stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Charge {
    pub kind: ChargeKind,
    /// Its title on the storefront, e.g. `Gift card` or `Tip`.
    #[serde(default)]
    pub title: Option<String>,
    /// What it costs, written as the order's prices are (with its tax when
    /// they include tax, else without).
    pub amount: SignedAmount,
    /// The tax on it, when the storefront charged any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Payment {
    #[serde(rename = "type")]
    pub kind: PaymentType,
    pub amount: Amount,
    /// Gateway transaction id or similar.
    #[serde(default)]
    pub reference: Option<String>,
}

/// What the order rules need to know about the store and the hub.
pub struct OrderRules<'a> {
    pub payment_types: &'a [PaymentType],
    pub prices_include_tax: bool,
    pub default_country: &'a CountryCode,
    /// The store's currency (its own, else the hub's).
    pub currency: Currency,
    /// Whether the store takes the storefront's test orders.
    pub accept_test_orders: bool,
}

/// A reference code as found in the catalogue.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub variant_id: i64,
    pub item_code: String,
    pub tax_rate: Rate,
}

/// A line that passed every rule, with its amounts worked out.
#[derive(Debug, Clone, Serialize)]
pub struct ValidLine {
    pub variant_id: i64,
    pub reference_code: String,
    pub item_code: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub tax_rate: Decimal,
    pub tax_amount: Decimal,
    /// Line total including tax.
    pub amount: Decimal,
}

/// An order that passed every rule except stock (checked under the lock).
#[derive(Debug, Clone)]
pub struct ValidOrder {
    pub online_reference_no: String,
    pub lines: Vec<ValidLine>,
    pub contact: Contact,
    pub shipping: Option<Shipping>,
    pub charges: Vec<Charge>,
    pub payments: Vec<Payment>,
    pub total: Decimal,
    pub currency: Currency,
    pub test: bool,
    pub placed_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
}

/// What the customer pays for `amount` with `tax`: the amount itself when
/// prices include tax, else the amount and its tax.
fn charged(amount: Decimal, tax: Option<Amount>, prices_include_tax: bool) -> Option<Decimal> {
    match tax {
        Some(tax) if !prices_include_tax => amount.checked_add(tax.value()),
        _ => Some(amount),
    }
}

impl OrderRequest {
    /// Applies every order rule. `catalog[i]` is line i's reference code as
    /// found in the catalogue (None: unknown). All problems are reported at
    /// once.
    pub fn validate(
        &self,
        catalog: &[Option<CatalogEntry>],
        rules: &OrderRules,
    ) -> Result<ValidOrder, DomainError> {
        // Another currency's amounts are not checked as if they were the
        // store's: the order is refused for that alone.
        let currency = rules.currency;
        if let Some(given) = self.currency {
            Currency::expect(currency, given, "currency")?;
        }
        if self.test && !rules.accept_test_orders {
            return Err(DomainError::invalid(
                "test",
                "test_order_refused",
                "this is a test order of the storefront; the store takes test orders only with `accept_test_orders` on",
            ));
        }
        let prices_include_tax = self.prices_include_tax.unwrap_or(rules.prices_include_tax);
        let mut p = Problems::default();
        self.check_minor_units(currency, &mut p);
        let reference = self.online_reference_no.trim();
        if reference.is_empty() || reference.chars().count() > 64 {
            p.push(
                "online_reference_no",
                "invalid_online_reference_no",
                "must be 1 to 64 characters",
            );
        }
        // A gift card sold on its own moves no stock but is still a sale.
        if self.lines.is_empty() && self.charges.is_empty() {
            p.push("lines", "no_lines", "an order needs at least one line");
        }
        if self.lines.len() > MAX_LINES {
            p.push(
                "lines",
                "too_many_lines",
                format!("at most {MAX_LINES} lines per order"),
            );
        }
        let contact = self.contact(rules.default_country, &mut p);

        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, (line, found)) in self.lines.iter().zip(catalog).enumerate() {
            let Some(entry) = found else {
                p.push(
                    format!("lines[{i}].reference_code"),
                    "unknown_reference_code",
                    format!("no variant has reference code `{}`", line.reference_code),
                );
                continue;
            };
            let qty = line.quantity.value();
            // Quantities and prices may each have 18 integer digits; their
            // product may not fit a decimal (whose `*` would panic).
            let Some(gross) = qty.checked_mul(line.unit_price.value()) else {
                p.push(
                    format!("lines[{i}]"),
                    "line_too_large",
                    format!(
                        "{qty} x {} is more than an order line can hold",
                        line.unit_price
                    ),
                );
                continue;
            };
            let discount = line.discount.map(Amount::value).unwrap_or_default();
            if discount > gross {
                p.push(
                    format!("lines[{i}].discount"),
                    "discount_exceeds_line",
                    format!("discount {discount} is more than the line's {gross}"),
                );
                continue;
            }
            let net = gross - discount;
            let rate = line.tax_rate.unwrap_or(entry.tax_rate).value();
            let taxed = match line.tax_amount.map(Amount::value) {
                // The storefront's own tax, inside the line's amount.
                Some(tax) if prices_include_tax => {
                    if tax > net {
                        p.push(
                            format!("lines[{i}].tax_amount"),
                            "tax_exceeds_line",
                            format!("tax {tax} is more than the line's {net}, which includes it"),
                        );
                        continue;
                    }
                    Some((tax, net))
                }
                // The storefront's own tax, on top of the line's amount.
                Some(tax) => net.checked_add(tax).map(|amount| (tax, amount)),
                None if prices_include_tax => {
                    let tax =
                        currency.round(net - net / (Decimal::ONE + rate / Decimal::ONE_HUNDRED));
                    Some((tax, net))
                }
                None => net.checked_mul(rate).and_then(|x| {
                    let tax = currency.round(x / Decimal::ONE_HUNDRED);
                    Some((tax, net.checked_add(tax)?))
                }),
            };
            let Some((tax, amount)) = taxed else {
                p.push(
                    format!("lines[{i}]"),
                    "line_too_large",
                    format!("the line's tax on {net} is more than an order line can hold"),
                );
                continue;
            };
            lines.push(ValidLine {
                variant_id: entry.variant_id,
                reference_code: line.reference_code.to_string(),
                item_code: entry.item_code.clone(),
                quantity: qty,
                unit_price: line.unit_price.value(),
                discount,
                tax_rate: rate,
                tax_amount: tax,
                amount,
            });
        }

        self.check_charges(&mut p);
        let total = self.total.value();
        if lines.len() == self.lines.len() && !(lines.is_empty() && self.charges.is_empty()) {
            let shipping = match &self.shipping {
                Some(s) => charged(s.amount.value(), s.tax, prices_include_tax),
                None => Some(Decimal::ZERO),
            };
            let charges = self.charges.iter().try_fold(Decimal::ZERO, |sum, c| {
                sum.checked_add(charged(c.amount.value(), c.tax, prices_include_tax)?)
            });
            let computed = lines
                .iter()
                .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.amount))
                .and_then(|sum| sum.checked_add(shipping?))
                .and_then(|sum| sum.checked_add(charges?));
            let shipping = shipping.unwrap_or_default();
            // Where the hub works a line's tax out from its rate, the
            // storefront may have rounded it on the order's subtotal
            // instead: allow half a minor unit per such line (and at least
            // one). Lines with the storefront's own tax amounts add up
            // exactly, to the minor unit.
            let computed_taxes = self.lines.iter().filter(|l| l.tax_amount.is_none()).count();
            let unit = currency.minor_unit();
            let tolerance = if computed_taxes == 0 {
                Decimal::ZERO
            } else {
                (unit / Decimal::TWO * Decimal::from(computed_taxes)).max(unit)
            };
            let round_money = |v: Decimal| currency.round(v);
            match computed {
                None => p.push(
                    "lines",
                    "order_too_large",
                    "the lines add up to more than an order can hold",
                ),
                Some(computed) if (round_money(computed) - total).abs() > tolerance => p.push(
                    "total",
                    "total_mismatch",
                    format!(
                        "total is {total} but the lines{}{} add up to {}",
                        if shipping.is_zero() {
                            ""
                        } else {
                            " and shipping"
                        },
                        if self.charges.is_empty() {
                            ""
                        } else {
                            " and charges"
                        },
                        round_money(computed)
                    ),
                ),
                Some(_) => {}
            }
        }
        self.check_payments(total, rules, &mut p);
        p.into_result()?;
        Ok(ValidOrder {
            online_reference_no: reference.to_string(),
            lines,
            contact: contact.unwrap_or_default(),
            shipping: self.shipping.clone(),
            charges: self.charges.clone(),
            payments: self.payments.clone(),
            total,
            currency,
            test: self.test,
            // Kept to the microsecond, as both backends store a time.
            placed_at: self
                .placed_at
                .map(|t| chrono::SubsecRound::trunc_subsecs(t, 6)),
            notes: self.notes.clone(),
        })
    }

    /// Money the customer pays is written in whole minor units of the
    /// currency (no cents in `JPY`). Unit prices may carry more places (a
    /// storefront's line subtotal divided by its quantity).
    fn check_minor_units(&self, currency: Currency, p: &mut Problems) {
        let mut amounts = vec![("total".to_string(), self.total.value())];
        for (i, line) in self.lines.iter().enumerate() {
            if let Some(d) = line.discount {
                amounts.push((format!("lines[{i}].discount"), d.value()));
            }
            if let Some(t) = line.tax_amount {
                amounts.push((format!("lines[{i}].tax_amount"), t.value()));
            }
        }
        if let Some(s) = &self.shipping {
            amounts.push(("shipping.amount".into(), s.amount.value()));
            if let Some(t) = s.tax {
                amounts.push(("shipping.tax".into(), t.value()));
            }
        }
        for (i, c) in self.charges.iter().enumerate() {
            amounts.push((format!("charges[{i}].amount"), c.amount.value()));
            if let Some(t) = c.tax {
                amounts.push((format!("charges[{i}].tax"), t.value()));
            }
        }
        for (i, pay) in self.payments.iter().enumerate() {
            amounts.push((format!("payments[{i}].amount"), pay.amount.value()));
        }
        for (field, amount) in amounts {
            if !currency.fits(amount) {
                let places = currency.minor_units();
                p.push(
                    field,
                    "too_many_decimals",
                    format!(
                        "{amount} has more decimal places than {currency}'s {places}{}",
                        if places == 0 {
                            " (it has no minor unit)"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
    }

    /// Only fees may be negative (a storefront's discount fee); every
    /// charge has at most 200 characters of title.
    fn check_charges(&self, p: &mut Problems) {
        for (i, c) in self.charges.iter().enumerate() {
            if c.amount.value().is_sign_negative()
                && !c.amount.value().is_zero()
                && c.kind != ChargeKind::Fee
            {
                p.push(
                    format!("charges[{i}].amount"),
                    "negative_charge",
                    "only a fee may be negative",
                );
            }
            if c.title.as_ref().is_some_and(|t| t.chars().count() > 200) {
                p.push(
                    format!("charges[{i}].title"),
                    "title_too_long",
                    "at most 200 characters",
                );
            }
        }
    }

    fn contact(&self, country: &CountryCode, p: &mut Problems) -> Option<Contact> {
        let contact = self
            .customer
            .clone()
            .unwrap_or_default()
            .contact(country, p)?;
        let shipping = self.shipping.as_ref().and_then(|s| s.address.as_ref());
        check_address("shipping.address", shipping, p);
        Some(contact)
    }

    fn check_payments(&self, total: Decimal, rules: &OrderRules, p: &mut Problems) {
        let mut paid = Decimal::ZERO;
        let mut on_delivery = false;
        for (i, pay) in self.payments.iter().enumerate() {
            if !rules.payment_types.contains(&pay.kind) {
                let allowed: Vec<_> = rules
                    .payment_types
                    .iter()
                    .map(PaymentType::as_str)
                    .collect();
                p.push(
                    format!("payments[{i}].type"),
                    "payment_type_not_allowed",
                    format!(
                        "`{}` is not accepted by this store; allowed: {}",
                        pay.kind,
                        allowed.join(", ")
                    ),
                );
            }
            if pay.amount.value().is_zero() {
                p.push(
                    format!("payments[{i}].amount"),
                    "zero_payment",
                    "a payment must be more than zero",
                );
            }
            on_delivery |= pay.kind.is_pay_on_delivery();
            paid += pay.amount.value();
        }
        if paid > total {
            p.push(
                "payments",
                "payments_exceed_total",
                format!("payments add up to {paid}, more than the total {total}"),
            );
        } else if paid < total && !on_delivery {
            p.push(
                "payments",
                "payments_do_not_cover_total",
                format!(
                    "payments add up to {paid} but the total is {total}; add a payment, or a `{}` payment for pay on delivery",
                    PaymentType::CASH_ON_DELIVERY
                ),
            );
        }
    }
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted; its stock is reserved.
    Pending,
    /// Turned into a sales bill; its stock is sold.
    Billed,
    /// Packed and waiting for the carrier (or the customer).
    Ready,
    /// Handed to a carrier, with a tracking number.
    Shipped,
    /// With the courier on the way to the customer.
    OutForDelivery,
    Delivered,
    Cancelled,
    /// Everything delivered came back.
    Returned,
    /// Some of what was delivered came back.
    PartiallyReturned,
}

/// What a merchant or store can do to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Bill,
    Ready,
    Ship,
    OutForDelivery,
    Deliver,
    Cancel,
    /// Cancel some lines or quantities.
    CancelLines,
    /// Take back delivered goods.
    Return,
}

impl OrderAction {
    pub fn verb(self) -> &'static str {
        match self {
            OrderAction::Bill => "bill",
            OrderAction::Ready => "mark ready",
            OrderAction::Ship => "ship",
            OrderAction::OutForDelivery => "send out for delivery",
            OrderAction::Deliver => "deliver",
            OrderAction::Cancel => "cancel",
            OrderAction::CancelLines => "cancel lines of",
            OrderAction::Return => "book a return of",
        }
    }
}

/// The outcome of applying an action to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The order moves to a new status.
    To(OrderStatus),
    /// The order is already where the action leads (cancel is idempotent).
    AlreadyThere,
    /// The action applies to some of the order's lines; the status that
    /// follows depends on what is left of them (see [`crate::lifecycle`]).
    Lines,
}

impl OrderStatus {
    /// Every status, in the order an order goes through them.
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::Pending,
        OrderStatus::Billed,
        OrderStatus::Ready,
        OrderStatus::Shipped,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Returned,
        OrderStatus::PartiallyReturned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Billed => "billed",
            OrderStatus::Ready => "ready",
            OrderStatus::Shipped => "shipped",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
            OrderStatus::PartiallyReturned => "partially_returned",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// `pending -> billed -> ready -> shipped -> out_for_delivery ->
    /// delivered`, where `ready` and `out_for_delivery` may be skipped, a
    /// billed order may be delivered straight away and a ready one collected
    /// (delivered) without shipping. `pending | billed | ready -> cancelled`,
    /// whole or line by line; `delivered | partially_returned` take returns.
    pub fn apply(self, action: OrderAction) -> Result<Transition, DomainError> {
        use OrderAction::*;
        use OrderStatus::*;
        match (self, action) {
            (Pending, Bill) => Ok(Transition::To(Billed)),
            (Billed, OrderAction::Ready) => Ok(Transition::To(OrderStatus::Ready)),
            (Billed | OrderStatus::Ready, Ship) => Ok(Transition::To(Shipped)),
            (Shipped, OrderAction::OutForDelivery) => {
                Ok(Transition::To(OrderStatus::OutForDelivery))
            }
            (Billed | OrderStatus::Ready | Shipped | OrderStatus::OutForDelivery, Deliver) => {
                Ok(Transition::To(Delivered))
            }
            (Pending | Billed | OrderStatus::Ready, Cancel) => Ok(Transition::To(Cancelled)),
            (Cancelled, Cancel) => Ok(Transition::AlreadyThere),
            (Pending | Billed | OrderStatus::Ready, CancelLines) => Ok(Transition::Lines),
            (Delivered | PartiallyReturned, Return) => Ok(Transition::Lines),
            (current, action) => Err(DomainError::InvalidTransition {
                current,
                action: action.verb(),
            }),
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order as read back by stores and the merchant.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: i64,
    pub online_reference_no: String,
    /// Store code.
    pub store: String,
    /// Location code (for a group-sourced order, the member that gives the
    /// most units; its bills are numbered there).
    pub location: String,
    /// The location group the order was sourced from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_group: Option<String>,
    pub status: OrderStatus,
    pub customer: CustomerRef,
    pub lines: Vec<OrderLine>,
    pub shipping: Option<Shipping>,
    /// Lines that move no stock.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    pub payments: Vec<Payment>,
    /// What the customer is charged: `original_total` less the lines
    /// cancelled since (returns are refunded by credit notes instead).
    pub total: Amount,
    /// The currency of every amount of the order.
    pub currency: Currency,
    /// A storefront's test order.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// The total the order was placed with.
    pub original_total: Amount,
    /// Set once the order is billed.
    pub bill_no: Option<String>,
    pub notes: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<HistoryEntry>,
    /// Carrier, tracking number and when each delivery step happened.
    pub delivery: crate::lifecycle::Delivery,
    /// Credit notes of returns and of lines cancelled after billing.
    pub credit_notes: Vec<crate::lifecycle::CreditNote>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerRef {
    pub id: i64,
    pub name: Option<String>,
    pub phone: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Email>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub line_no: i32,
    pub reference_code: String,
    pub item_code: String,
    pub quantity: Quantity,
    pub unit_price: Amount,
    pub discount: Amount,
    pub tax_rate: Rate,
    pub tax_amount: Amount,
    /// Line total including tax.
    pub amount: Amount,
    /// Units cancelled since the order was placed.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "crate::stock::ser_qty")]
    pub cancelled_quantity: Decimal,
    /// Units that came back after delivery.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "crate::stock::ser_qty")]
    pub returned_quantity: Decimal,
    /// Where the line's stock is held, per location.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<LineAllocation>,
}

/// The part of an order line one location holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineAllocation {
    pub location: String,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    /// Who made the change: `store`, `admin`, ...
    pub by: String,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules<'a>(types: &'a [PaymentType], country: &'a CountryCode) -> OrderRules<'a> {
        OrderRules {
            payment_types: types,
            prices_include_tax: false,
            default_country: country,
            currency: Currency::DEFAULT,
            accept_test_orders: false,
        }
    }

    fn entry() -> Option<CatalogEntry> {
        Some(CatalogEntry {
            variant_id: 1,
            item_code: "TOY1".into(),
            tax_rate: Rate::parse("18").unwrap(),
        })
    }

    fn order(json: serde_json::Value) -> OrderRequest {
        serde_json::from_value(json).unwrap()
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "online_reference_no": "WEB-1",
            "customer": {"name": "Asha", "phone": "98765 43210", "email": "Asha@Example.com"},
            "lines": [{"reference_code": "TOY1-Red-S", "quantity": "2", "unit_price": "100.00", "discount": "10.00"}],
            "shipping": {"amount": "50.00", "method": "courier"},
            "payments": [{"type": "prepaid", "amount": "274.20"}],
            "total": "274.20"
        })
    }

    #[test]
    fn tax_is_added_when_prices_exclude_it() {
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        let v = order(base())
            .validate(&[entry()], &rules(&types, &cc))
            .unwrap();
        // (2 x 100 - 10) = 190, +18% = 34.20, +50 shipping = 274.20
        assert_eq!(v.lines[0].tax_amount.to_string(), "34.20");
        assert_eq!(v.contact.phone.unwrap().as_str(), "+919876543210");
        let email = v.contact.email.as_ref().map(Email::as_str);
        assert_eq!(email, Some("asha@example.com"));
    }

    fn codes(err: DomainError) -> Vec<(String, String)> {
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    /// The first problem a prepaid-only store finds with `body` (one
    /// catalogue entry per line).
    fn first_problem(body: serde_json::Value) -> (String, String) {
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        let request = order(body);
        let entries: Vec<_> = request.lines.iter().map(|_| entry()).collect();
        let err = request.validate(&entries, &rules(&types, &cc)).unwrap_err();
        codes(err).remove(0)
    }

    /// fuzz/regressions/order_json/line-quantity-times-price-overflows: 18
    /// integer digits of quantity times 18 of price overflowed the decimal
    /// and `*` panicked (a 500 for `POST /api/v1/sales-orders`).
    #[test]
    fn a_line_too_large_for_a_decimal_is_refused_not_a_panic() {
        let mut body = base();
        body["lines"][0]["quantity"] = "999999999999999999".into();
        body["lines"][0]["unit_price"] = "999999999999999999".into();
        assert_eq!(
            first_problem(body),
            ("lines[0]".to_string(), "line_too_large".to_string())
        );
    }

    /// The product fits (10^28) but 18% tax on it does not.
    #[test]
    fn tax_too_large_for_a_decimal_is_refused_not_a_panic() {
        let mut body = base();
        body["lines"][0]["quantity"] = "100000000000000000".into();
        body["lines"][0]["unit_price"] = "100000000000".into();
        assert_eq!(
            first_problem(body),
            ("lines[0]".to_string(), "line_too_large".to_string())
        );
    }

    /// Each line fits (5 x 10^28, no tax) but their sum does not.
    #[test]
    fn lines_adding_up_beyond_a_decimal_are_refused_not_a_panic() {
        let mut body = base();
        let line = serde_json::json!({"reference_code": "TOY1-Red-S", "quantity": "500000000000000000",
                                      "unit_price": "100000000000", "tax_rate": "0"});
        body["lines"] = serde_json::json!([line.clone(), line]);
        assert_eq!(
            first_problem(body),
            ("lines".to_string(), "order_too_large".to_string())
        );
    }

    fn store_rules<'a>(
        types: &'a [PaymentType],
        country: &'a CountryCode,
        currency: &str,
    ) -> OrderRules<'a> {
        OrderRules {
            currency: Currency::parse(currency).unwrap(),
            ..rules(types, country)
        }
    }

    /// WooCommerce's order 318 (AUD, a tax-inclusive shop): line totals
    /// without tax, the tax beside them; shipping 15.00 with 7.50 tax.
    #[test]
    fn the_storefronts_own_taxes_are_booked_whatever_the_store_setting() {
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        let body = serde_json::json!({
            "online_reference_no": "318", "currency": "AUD", "prices_include_tax": false,
            "lines": [{"reference_code": "CAP", "quantity": "1", "unit_price": "45.45", "discount": "0.00",
                       "tax_rate": "10", "tax_amount": "4.55"}],
            "shipping": {"amount": "15.00", "tax": "7.50"},
            "payments": [{"type": "prepaid", "amount": "72.50"}],
            "total": "72.50"
        });
        for store_includes_tax in [true, false] {
            let rules = OrderRules {
                prices_include_tax: store_includes_tax,
                ..store_rules(&types, &cc, "AUD")
            };
            let v = order(body.clone()).validate(&[entry()], &rules).unwrap();
            assert_eq!(v.lines[0].tax_amount.to_string(), "4.55");
            assert_eq!(v.lines[0].amount.to_string(), "50.00");
            assert_eq!(v.currency.code(), "AUD");
        }
        // Exactly: a cent off is not rounding when the taxes are the
        // storefront's own.
        let mut off = body.clone();
        off["total"] = "72.51".into();
        off["payments"][0]["amount"] = "72.51".into();
        let err = order(off)
            .validate(&[entry()], &store_rules(&types, &cc, "AUD"))
            .unwrap_err();
        assert_eq!(codes(err)[0].1, "total_mismatch");
        // Included tax: the line's amount is its price, the tax inside it.
        let mut inside = body.clone();
        inside["prices_include_tax"] = true.into();
        inside["lines"][0]["unit_price"] = "50.00".into();
        inside["shipping"]["amount"] = "22.50".into();
        let v = order(inside)
            .validate(&[entry()], &store_rules(&types, &cc, "AUD"))
            .unwrap();
        assert_eq!(v.lines[0].amount.to_string(), "50.00");
        assert_eq!(v.lines[0].tax_amount.to_string(), "4.55");
    }

    #[test]
    fn another_currency_is_refused_naming_both() {
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        let mut body = base();
        body["currency"] = "AUD".into();
        let err = order(body)
            .validate(&[entry()], &rules(&types, &cc))
            .unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!()
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "currency_mismatch");
        assert!(errors[0].message.contains("AUD") && errors[0].message.contains("INR"));
    }

    #[test]
    fn amounts_are_in_whole_minor_units() {
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        // 2 x 100 - 10 = 190 JPY, no tax, 50 shipping: 240.
        let mut body = base();
        body["lines"][0]["tax_rate"] = "0".into();
        body["total"] = "240".into();
        body["payments"][0]["amount"] = "240".into();
        let jpy = store_rules(&types, &cc, "JPY");
        assert!(order(body.clone()).validate(&[entry()], &jpy).is_ok());
        body["shipping"]["amount"] = "50.50".into();
        body["total"] = "240.50".into();
        body["payments"][0]["amount"] = "240.50".into();
        let fields: Vec<_> = codes(order(body).validate(&[entry()], &jpy).unwrap_err())
            .into_iter()
            .filter(|(_, c)| c == "too_many_decimals")
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, ["total", "shipping.amount", "payments[0].amount"]);
    }

    #[test]
    fn test_orders_and_charges() {
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        // A gift card sold on its own: no stock line, still a sale.
        let gift = serde_json::json!({
            "online_reference_no": "1003", "test": true, "lines": [],
            "charges": [{"kind": "gift_card", "title": "GiftCard", "amount": "10.00"}],
            "payments": [{"type": "prepaid", "amount": "10.00"}], "total": "10.00"
        });
        let err = order(gift.clone())
            .validate(&[], &rules(&types, &cc))
            .unwrap_err();
        assert_eq!(
            codes(err),
            [("test".to_string(), "test_order_refused".to_string())]
        );
        let taking = OrderRules {
            accept_test_orders: true,
            ..rules(&types, &cc)
        };
        let v = order(gift.clone()).validate(&[], &taking).unwrap();
        assert!(v.test && v.lines.is_empty());
        assert_eq!(v.charges.len(), 1);
        // Only a fee may be negative.
        let mut tip = gift;
        tip["test"] = false.into();
        tip["charges"] = serde_json::json!([{"kind": "tip", "amount": "-1.00"}, {"kind": "gift_card", "amount": "11.00"}]);
        let err = order(tip).validate(&[], &rules(&types, &cc)).unwrap_err();
        assert_eq!(
            codes(err),
            [(
                "charges[0].amount".to_string(),
                "negative_charge".to_string()
            )]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut body = base();
        body["total"] = "999.00".into();
        body["payments"][0]["type"] = "bitcoin".into();
        body["customer"]["phone"] = "call me".into();
        let types = [PaymentType::parse("prepaid").unwrap()];
        let cc = CountryCode::default();
        let err = order(body)
            .validate(&[None], &rules(&types, &cc))
            .unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!()
        };
        let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
        assert!(codes.contains(&"unknown_reference_code"), "{codes:?}");
        assert!(codes.contains(&"payment_type_not_allowed"), "{codes:?}");
        assert!(codes.contains(&"invalid_phone"), "{codes:?}");
        assert!(
            codes.contains(&"payments_exceed_total")
                || codes.contains(&"payments_do_not_cover_total")
        );
    }

    #[test]
    fn totals_must_add_up_and_payments_cover_them() {
        let types = [
            PaymentType::parse("prepaid").unwrap(),
            PaymentType::parse("cod").unwrap(),
        ];
        let cc = CountryCode::default();
        let mut body = base();
        body["total"] = "274.00".into();
        body["payments"][0]["amount"] = "274.00".into();
        let err = order(body)
            .validate(&[entry()], &rules(&types, &cc))
            .unwrap_err();
        assert!(err.to_string().contains("add up to 274.20"), "{err}");

        let mut body = base();
        body["payments"][0]["amount"] = "100.00".into();
        let err = order(body.clone())
            .validate(&[entry()], &rules(&types, &cc))
            .unwrap_err();
        assert!(err.to_string().contains("pay on delivery"), "{err}");

        // The rest is paid on delivery.
        body["payments"] = serde_json::json!([{"type": "prepaid", "amount": "100.00"}, {"type": "cod", "amount": "174.20"}]);
        assert!(order(body)
            .validate(&[entry()], &rules(&types, &cc))
            .is_ok());
    }

    #[test]
    fn status_machine() {
        use OrderAction::*;
        use OrderStatus::*;
        assert_eq!(Pending.apply(Bill).unwrap(), Transition::To(Billed));
        assert_eq!(Billed.apply(Deliver).unwrap(), Transition::To(Delivered));
        assert_eq!(Billed.apply(Cancel).unwrap(), Transition::To(Cancelled));
        assert_eq!(Cancelled.apply(Cancel).unwrap(), Transition::AlreadyThere);
        assert!(matches!(
            Delivered.apply(Cancel),
            Err(DomainError::InvalidTransition {
                current: Delivered,
                ..
            })
        ));
        assert!(Pending.apply(Deliver).is_err());
        assert!(Cancelled.apply(Bill).is_err());
    }

    /// The whole table: every (status, action) pair, allowed or not.
    #[test]
    fn every_transition() {
        use OrderAction as A;
        use OrderStatus as S;
        use Transition::{AlreadyThere, Lines, To};
        let actions = [
            A::Bill,
            A::Ready,
            A::Ship,
            A::OutForDelivery,
            A::Deliver,
            A::Cancel,
            A::CancelLines,
            A::Return,
        ];
        // One row per status, one column per action above; `no` = 409.
        let no: Option<Transition> = None;
        let to = |s| Some(To(s));
        let (lines, same) = (Some(Lines), Some(AlreadyThere));
        #[rustfmt::skip]
        let table: [(S, [Option<Transition>; 8]); 9] = [
            //                    bill             ready          ship             out for delivery        deliver            cancel              lines  return
            (S::Pending,          [to(S::Billed),  no,            no,              no,                     no,                to(S::Cancelled),   lines, no]),
            (S::Billed,           [no,             to(S::Ready),  to(S::Shipped),  no,                     to(S::Delivered),  to(S::Cancelled),   lines, no]),
            (S::Ready,            [no,             no,            to(S::Shipped),  no,                     to(S::Delivered),  to(S::Cancelled),   lines, no]),
            (S::Shipped,          [no,             no,            no,              to(S::OutForDelivery),  to(S::Delivered),  no,                 no,    no]),
            (S::OutForDelivery,   [no,             no,            no,              no,                     to(S::Delivered),  no,                 no,    no]),
            (S::Delivered,        [no,             no,            no,              no,                     no,                no,                 no,    lines]),
            (S::Cancelled,        [no,             no,            no,              no,                     no,                same,               no,    no]),
            (S::Returned,         [no,             no,            no,              no,                     no,                no,                 no,    no]),
            (S::PartiallyReturned,[no,             no,            no,              no,                     no,                no,                 no,    lines]),
        ];
        for (status, row) in table {
            for (action, expected) in actions.iter().zip(row) {
                match (status.apply(*action), expected) {
                    (Ok(got), Some(want)) => assert_eq!(got, want, "{status} {action:?}"),
                    (
                        Err(DomainError::InvalidTransition {
                            current,
                            action: verb,
                        }),
                        None,
                    ) => {
                        assert_eq!(current, status);
                        assert_eq!(verb, action.verb());
                    }
                    (got, want) => panic!("{status} {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn statuses_round_trip_their_names() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(OrderStatus::parse("out-for-delivery"), None);
    }
}
