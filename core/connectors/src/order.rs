//! A connector's order in the model's types: [`OrderDraft`] is a
//! [`CanonicalOrder`] whose text parsed, with the lines the connector could
//! not name by reference code still open; once the hub has mapped them,
//! [`OrderDraft::finish`] makes it the store API's [`OrderRequest`].
//!
//! Text that does not parse is refused as the store API refuses the same
//! JSON body: one [`DomainError::Invalid`] naming the field by its path in
//! that body (`lines[1].unit_price`, `payments[0].type`) with code
//! `invalid_value` and the parser's words. The fields are checked in the
//! order the store API's parser meets them, so the one reported is the
//! same: its body's objects have their keys sorted (`serde_json` without
//! `preserve_order`), hence the alphabetical order below.

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use poshub_model::codes::{Code, PaymentType};
use poshub_model::currency::Currency;
use poshub_model::customer::CustomerIn;
use poshub_model::decimal::{Amount, Quantity, Rate, SignedAmount};
use poshub_model::order::{Charge, LineIn, OrderRequest, Payment, Shipping};
use poshub_model::DomainError;

use crate::types::{CanonicalOrder, ChargeText, LineKeys, OrderLine, PaymentText, ShippingText};

/// An order whose every figure parsed; lines may still wait for a code.
#[derive(Debug, Clone)]
pub struct OrderDraft {
    pub online_reference_no: String,
    pub location: Option<Code>,
    pub customer: Option<CustomerIn>,
    pub lines: Vec<DraftLine>,
    pub shipping: Option<Shipping>,
    pub charges: Vec<Charge>,
    pub payments: Vec<Payment>,
    pub total: Amount,
    pub currency: Option<Currency>,
    pub prices_include_tax: Option<bool>,
    pub test: bool,
    pub placed_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
}

/// An order line in the model's types.
#[derive(Debug, Clone)]
pub struct DraftLine {
    /// What the connector knew of the line, for mapping and messages.
    pub keys: LineKeys,
    /// `None` while the line is open (the connector named no code).
    pub reference_code: Option<Code>,
    pub quantity: Quantity,
    pub unit_price: Amount,
    pub discount: Option<Amount>,
    pub tax_rate: Option<Rate>,
    pub tax_amount: Option<Amount>,
}

/// The refusal of a field the store API's parser would refuse.
fn invalid(path: String, why: impl fmt::Display) -> DomainError {
    DomainError::invalid(path, "invalid_value", why.to_string())
}

/// Parses `raw` with `parse`; a refusal names the field by `path` (built
/// only then: a translation is on the hot path).
fn parse<T, E: fmt::Display>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
    path: impl FnOnce() -> String,
) -> Result<T, DomainError> {
    parse(raw).map_err(|e| invalid(path(), e))
}

/// Like [`parse`], for a field the connector may leave out.
fn parse_opt<T, E: fmt::Display>(
    raw: Option<&str>,
    parse_one: impl FnOnce(&str) -> Result<T, E>,
    path: impl FnOnce() -> String,
) -> Result<Option<T>, DomainError> {
    raw.map(|raw| parse(raw, parse_one, path)).transpose()
}

/// An RFC 3339 time as the store API reads one (`DateTime<Utc>`'s serde,
/// whose words a refusal repeats).
fn time(raw: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    raw.parse::<DateTime<FixedOffset>>()
        .map(|t| t.with_timezone(&Utc))
}

impl TryFrom<CanonicalOrder> for OrderDraft {
    type Error = DomainError;

    fn try_from(o: CanonicalOrder) -> Result<Self, DomainError> {
        // Alphabetical, as the module says; `customer` has nothing to parse.
        let charges = o
            .charges
            .into_iter()
            .enumerate()
            .map(|(i, c)| charge(i, c))
            .collect::<Result<_, _>>()?;
        let currency = parse_opt(o.currency.as_deref(), Currency::parse, || "currency".into())?;
        let lines = o
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| line(i, l))
            .collect::<Result<_, _>>()?;
        let location = parse_opt(o.location.as_deref(), Code::parse, || "location".into())?;
        let payments = o
            .payments
            .into_iter()
            .enumerate()
            .map(|(i, p)| payment(i, p))
            .collect::<Result<_, _>>()?;
        let placed_at = parse_opt(o.placed_at.as_deref(), time, || "placed_at".into())?;
        let shipping = o.shipping.map(shipping).transpose()?;
        let total = parse(&o.total, Amount::parse, || "total".into())?;
        Ok(OrderDraft {
            online_reference_no: o.online_reference_no,
            location,
            customer: o.customer.map(|c| CustomerIn {
                name: c.name,
                phone: c.phone,
                email: c.email,
                address: c.address,
            }),
            lines,
            shipping,
            charges,
            payments,
            total,
            currency,
            prices_include_tax: o.prices_include_tax,
            test: o.test,
            placed_at,
            notes: o.notes,
        })
    }
}

fn line(i: usize, l: OrderLine) -> Result<DraftLine, DomainError> {
    let at = |field: &str| format!("lines[{i}].{field}");
    let discount = parse_opt(l.discount.as_deref(), Amount::parse, || at("discount"))?;
    let quantity = parse(&l.quantity, Quantity::parse, || at("quantity"))?;
    // No code, or an empty one: open until the hub maps the line.
    let reference_code = parse_opt(
        l.keys.reference_code.as_deref().filter(|c| !c.is_empty()),
        Code::parse,
        || at("reference_code"),
    )?;
    let tax_amount = parse_opt(l.tax_amount.as_deref(), Amount::parse, || at("tax_amount"))?;
    let tax_rate = parse_opt(l.tax_rate.as_deref(), Rate::parse, || at("tax_rate"))?;
    let unit_price = parse(&l.unit_price, Amount::parse, || at("unit_price"))?;
    Ok(DraftLine {
        keys: l.keys,
        reference_code,
        quantity,
        unit_price,
        discount,
        tax_rate,
        tax_amount,
    })
}

fn charge(i: usize, c: ChargeText) -> Result<Charge, DomainError> {
    let at = |field: &str| format!("charges[{i}].{field}");
    let amount = parse(&c.amount, SignedAmount::parse, || at("amount"))?;
    let tax = parse_opt(c.tax.as_deref(), Amount::parse, || at("tax"))?;
    Ok(Charge {
        kind: c.kind,
        title: c.title,
        amount,
        tax,
    })
}

fn payment(i: usize, p: PaymentText) -> Result<Payment, DomainError> {
    let at = |field: &str| format!("payments[{i}].{field}");
    let amount = parse(&p.amount, Amount::parse, || at("amount"))?;
    let kind = parse(&p.kind, PaymentType::parse, || at("type"))?;
    Ok(Payment {
        kind,
        amount,
        reference: p.reference,
    })
}

fn shipping(s: ShippingText) -> Result<Shipping, DomainError> {
    let amount = parse(&s.amount, Amount::parse, || "shipping.amount".into())?;
    let tax = parse_opt(s.tax.as_deref(), Amount::parse, || "shipping.tax".into())?;
    Ok(Shipping {
        amount,
        tax,
        method: s.method,
        address: s.address,
    })
}

impl OrderDraft {
    /// Lines still waiting for a reference code, with what the connector
    /// knew of each.
    pub fn open_lines(&self) -> impl Iterator<Item = (usize, &LineKeys)> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.reference_code.is_none())
            .map(|(i, l)| (i, &l.keys))
    }

    /// Gives line `i` the reference code the hub mapped it to (refused, on
    /// that line's path, when it is not a code).
    pub fn map_line(&mut self, i: usize, code: &str) -> Result<(), DomainError> {
        let code = parse(code, Code::parse, || format!("lines[{i}].reference_code"))?;
        if let Some(line) = self.lines.get_mut(i) {
            line.reference_code = Some(code);
        }
        Ok(())
    }

    /// The store API's request; a line still open is refused as the store
    /// API refuses a `null` code.
    pub fn finish(self) -> Result<OrderRequest, DomainError> {
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(LineIn {
                    reference_code: l.reference_code.ok_or_else(|| {
                        invalid(
                            format!("lines[{i}].reference_code"),
                            "invalid type: null, expected a string",
                        )
                    })?,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    discount: l.discount,
                    tax_rate: l.tax_rate,
                    tax_amount: l.tax_amount,
                })
            })
            .collect::<Result<_, DomainError>>()?;
        Ok(OrderRequest {
            online_reference_no: self.online_reference_no,
            location: self.location,
            customer: self.customer,
            lines,
            shipping: self.shipping,
            charges: self.charges,
            payments: self.payments,
            total: self.total,
            currency: self.currency,
            prices_include_tax: self.prices_include_tax,
            test: self.test,
            placed_at: self.placed_at,
            notes: self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use poshub_model::order::ChargeKind;
    use serde_json::json;

    use super::*;
    use crate::types::CustomerText;

    /// An order using every field, each line named by a code.
    fn full() -> CanonicalOrder {
        let line = |code: &str| OrderLine {
            keys: LineKeys {
                reference_code: Some(code.into()),
                external_id: Some("4410".into()),
                sku: Some(code.into()),
                title: Some("Mug".into()),
            },
            quantity: "2".into(),
            unit_price: "199.00".into(),
            discount: Some("10.00".into()),
            tax_rate: Some("18".into()),
            tax_amount: Some("30.00".into()),
        };
        CanonicalOrder {
            online_reference_no: "WEB-1".into(),
            location: Some("BLR".into()),
            customer: Some(CustomerText {
                name: Some("Asha".into()),
                phone: Some("+91 98450 12345".into()),
                email: None,
                address: Some(json!({"city": "Bengaluru"})),
            }),
            lines: vec![line("MUG-01"), line("MUG-02")],
            shipping: Some(ShippingText {
                amount: "49.00".into(),
                tax: Some("8.82".into()),
                method: Some("courier".into()),
                address: Some(json!("12, 4th Cross")),
            }),
            charges: vec![ChargeText {
                kind: ChargeKind::Fee,
                title: Some("Discount".into()),
                amount: "-5.00".into(),
                tax: Some("0.00".into()),
            }],
            payments: vec![PaymentText {
                kind: "card".into(),
                amount: "800.00".into(),
                reference: Some("pay_1".into()),
            }],
            total: "800.00".into(),
            currency: Some("INR".into()),
            prices_include_tax: Some(false),
            test: true,
            placed_at: Some("2026-11-27T07:00:00+05:30".into()),
            notes: Some("call first".into()),
        }
    }

    /// What the store API's parser (`extract::parse_json`) says of the
    /// same body: the request, or the field and message it refuses.
    fn store_api(order: &CanonicalOrder) -> Result<serde_json::Value, (String, String)> {
        let bytes = serde_json::to_vec(&order.to_json()).unwrap();
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize::<_, OrderRequest>(de)
            .map(|r| serde_json::to_value(r).unwrap())
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                let msg = msg.split(" at line ").next().unwrap().to_string();
                (if path == "." { String::new() } else { path }, msg)
            })
    }

    /// What the conversion says of it.
    fn converted(order: &CanonicalOrder) -> Result<serde_json::Value, (String, String)> {
        OrderDraft::try_from(order.clone())
            .and_then(OrderDraft::finish)
            .map(|r| serde_json::to_value(r).unwrap())
            .map_err(|e| match e {
                DomainError::Invalid(mut errors) => {
                    assert_eq!(errors.len(), 1, "one refusal, as the parser's");
                    let f = errors.remove(0);
                    assert_eq!(f.code, "invalid_value");
                    (f.field, f.message)
                }
                other => panic!("{other:?}"),
            })
    }

    type Break = (&'static str, fn(&mut CanonicalOrder));

    /// One way to break each field that parses.
    const BREAKS: &[Break] = &[
        ("charge amount", |o| o.charges[0].amount = "1.23456".into()),
        ("charge tax", |o| o.charges[0].tax = Some("-1".into())),
        ("currency", |o| o.currency = Some("XAU".into())),
        ("discount", |o| o.lines[1].discount = Some("x".into())),
        ("quantity", |o| o.lines[0].quantity = "0".into()),
        ("code", |o| {
            o.lines[1].keys.reference_code = Some("A B".into())
        }),
        ("tax amount", |o| o.lines[0].tax_amount = Some("".into())),
        ("tax rate", |o| o.lines[0].tax_rate = Some("101".into())),
        ("unit price", |o| o.lines[1].unit_price = "1e3".into()),
        ("location", |o| o.location = Some("".into())),
        ("payment amount", |o| o.payments[0].amount = "-800".into()),
        ("payment type", |o| {
            o.payments[0].kind = "Credit Card".into()
        }),
        ("placed at", |o| o.placed_at = Some("27/11/2026".into())),
        ("shipping amount", |o| {
            o.shipping.as_mut().unwrap().amount = " 49".into()
        }),
        ("shipping tax", |o| {
            o.shipping.as_mut().unwrap().tax = Some("1.".into())
        }),
        ("total", |o| o.total = "800,00".into()),
    ];

    #[test]
    fn a_valid_order_is_the_request_the_store_api_parses() {
        let order = full();
        assert!(store_api(&order).is_ok());
        assert_eq!(converted(&order), store_api(&order));
        // A world 0.1.0 order: no charges, currency, tax mode or test flag.
        let mut old = full();
        old.charges.clear();
        (old.currency, old.prices_include_tax, old.test) = (None, None, false);
        old.shipping.as_mut().unwrap().tax = None;
        assert_eq!(converted(&old), store_api(&old));
    }

    #[test]
    fn each_refusal_names_the_field_and_says_what_the_store_api_says() {
        for (what, break_it) in BREAKS {
            let mut order = full();
            break_it(&mut order);
            let expected = store_api(&order).expect_err(what);
            assert_eq!(converted(&order), Err(expected), "{what}");
        }
    }

    #[test]
    fn of_two_refusals_the_one_reported_is_the_store_apis() {
        for (first, break_first) in BREAKS {
            for (second, break_second) in BREAKS {
                let mut order = full();
                break_first(&mut order);
                break_second(&mut order);
                assert_eq!(converted(&order), store_api(&order), "{first} and {second}");
            }
        }
    }

    #[test]
    fn the_output_cap_counts_an_order_as_its_json_body() {
        use crate::plugin::json_size as json;
        let mut order = full();
        assert_eq!(crate::plugin::order_size(&order), json(&order.to_json()));
        order.lines[0].keys.reference_code = None;
        (order.customer, order.shipping, order.test) = (None, None, false);
        order.charges.clear();
        assert_eq!(crate::plugin::order_size(&order), json(&order.to_json()));
    }

    #[test]
    fn an_open_line_waits_for_the_hubs_code() {
        let mut order = full();
        order.lines[0].keys.reference_code = None;
        order.lines[1].keys.reference_code = Some(String::new());
        let open: Vec<usize> = order.open_lines().map(|(i, _)| i).collect();
        assert_eq!(open, [0, 1]);
        let mut draft = OrderDraft::try_from(order.clone()).unwrap();
        let open: Vec<usize> = draft.open_lines().map(|(i, _)| i).collect();
        assert_eq!(open, [0, 1]);
        assert_eq!(draft.lines[0].keys.sku.as_deref(), Some("MUG-01"));

        // Finished early, an open line is what the store API says of null.
        let mut patched = order.to_json();
        patched["lines"][1]["reference_code"] = "MUG-02".into();
        let bytes = serde_json::to_vec(&patched).unwrap();
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let e = serde_path_to_error::deserialize::<_, OrderRequest>(de).unwrap_err();
        let said = e.inner().to_string();
        let Err(DomainError::Invalid(errors)) = draft.clone().finish() else {
            panic!("an open line is refused");
        };
        assert_eq!(errors[0].field, e.path().to_string());
        assert!(said.starts_with(&errors[0].message), "{said}");

        let e = draft.map_line(0, "not a code").unwrap_err();
        assert!(e.to_string().contains("lines[0].reference_code"), "{e}");
        draft.map_line(0, "MUG-01").unwrap();
        draft.map_line(1, "MUG-02").unwrap();
        assert_eq!(
            serde_json::to_value(draft.finish().unwrap()).unwrap(),
            store_api(&full()).unwrap()
        );
    }
}
