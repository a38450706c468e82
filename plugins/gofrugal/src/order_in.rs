//! `POST /salesOrders`: the vendor's `{"salesOrder": {...}}` as a canonical
//! order.
//!
//! Every field is checked and every problem reported at once, in the
//! dialect's field names (`orderItems[1].itemAmount`). Numbers may arrive
//! as JSON numbers or as strings and are read from their digits, never
//! through float arithmetic. Sale prices include tax (as in the vendor's
//! product), so a gofrugal store is configured with prices_include_tax.

use poshub_connector_sdk::{
    decimal, money, phone_hint, Customer, Order, OrderLine, Payment, Shipping,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use crate::failure::{Failure, Problems};
use crate::time::{to_rfc3339, Offset};

/// How far `itemAmount` may be from `salePrice × quantity − discount`.
const ITEM_AMOUNT_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The `status` values a new sales order may carry (any case).
const NEW_ORDER_STATUSES: [&str; 3] = ["pending", "placed", "new"];

/// Translates a sales order body; `default_location` is the store's
/// configured `location`.
pub fn create_order(
    body: &[u8],
    offset: Offset,
    default_location: Option<&str>,
) -> Result<Order, Failure> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Failure::field("body", "invalid_json", format!("the body is not JSON: {e}"))
    })?;
    let Some(so) = value.get("salesOrder").and_then(Value::as_object) else {
        return Err(Failure::field(
            "salesOrder",
            "required",
            "the body must be {\"salesOrder\": {...}} with the order as an object",
        ));
    };
    let mut p = Problems::default();
    let order = read_order(so, offset, default_location, &mut p);
    p.into_result("the salesOrder")?;
    order.ok_or_else(|| Failure::new(400, "invalid_sales_order", "the salesOrder is not valid"))
}

fn read_order(
    so: &Map<String, Value>,
    offset: Offset,
    default_location: Option<&str>,
    p: &mut Problems,
) -> Option<Order> {
    let reference = required_text(so, "onlineReferenceNo", "onlineReferenceNo", p);
    let placed_at = placed_at(so, offset, p);
    check_status(so, p);
    let total = amount(so, "totalAmount", "totalAmount", p, Need::Required);
    let mode = payment_mode(so, p);
    let payment_reference = text(so, "paymentReference", "paymentReference", p);
    let lines = lines(so, p);
    let total_quantity = number(so, "totalQuantity", "totalQuantity", p, Need::Optional);
    if let (Some(lines), Some(stated)) = (&lines, &total_quantity) {
        check_total_quantity(stated, lines, p);
    }
    let customer = customer(so, p);
    let shipping = shipping(so, p);
    let location =
        text(so, "locationId", "locationId", p).or_else(|| default_location.map(str::to_string));
    let notes = text(so, "remarks", "remarks", p);

    let total = total?;
    let payments = match mode? {
        // A free order has nothing to pay.
        _ if total.value.is_zero() => vec![],
        PaymentMode::Cod => vec![payment("cod", &total, None)],
        PaymentMode::Card => vec![payment("card", &total, payment_reference)],
    };
    Some(Order {
        online_reference_no: reference?,
        location,
        customer,
        lines: lines?.into_iter().map(|l| l.line).collect(),
        shipping,
        payments,
        total: total.money(),
        placed_at,
        notes,
    })
}

/// An exact decimal read from the request, with its text.
#[derive(Debug, Clone)]
struct Num {
    text: String,
    value: Decimal,
}

impl Num {
    /// As money: at least two decimal places (`7` is `7.00`).
    fn money(&self) -> String {
        money(&self.text).unwrap_or_else(|_| self.text.clone())
    }
}

/// Whether a field must be there.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    Required,
    Optional,
}

/// The text of a string or number field; None when absent, null or blank.
fn text(obj: &Map<String, Value>, key: &str, path: &str, p: &mut Problems) -> Option<String> {
    match obj.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        other => {
            p.push(
                path,
                "invalid_type",
                format!("must be text, not {}", kind(other)),
            );
            None
        }
    }
}

fn required_text(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    p: &mut Problems,
) -> Option<String> {
    let found = text(obj, key, path, p);
    // A value of the wrong type was reported by `text`; absent, null or
    // blank is missing.
    let missing = matches!(obj.get(key), None | Some(Value::Null | Value::String(_)));
    if found.is_none() && missing {
        p.push(path, "required", format!("`{key}` is required"));
    }
    found
}

/// A number field (JSON number or numeric string), exactly.
fn number(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    p: &mut Problems,
    need: Need,
) -> Option<Num> {
    let raw = obj.get(key).filter(|v| !v.is_null());
    let Some(raw) = raw else {
        if need == Need::Required {
            p.push(path, "required", format!("`{key}` is required"));
        }
        return None;
    };
    let parsed = decimal(raw).and_then(|text| {
        let value = text.parse::<Decimal>().ok()?;
        Some(Num { text, value })
    });
    if parsed.is_none() {
        p.push(
            path,
            "invalid_number",
            format!("{} is not a number such as 199.00", shown(raw)),
        );
    }
    parsed
}

/// A non-negative amount of money.
fn amount(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    p: &mut Problems,
    need: Need,
) -> Option<Num> {
    let n = number(obj, key, path, p, need)?;
    if n.value.is_sign_negative() && !n.value.is_zero() {
        p.push(
            path,
            "out_of_range",
            format!("{} must not be negative", n.text),
        );
        return None;
    }
    Some(n)
}

/// A percentage from 0 to 100.
fn percentage(obj: &Map<String, Value>, key: &str, path: &str, p: &mut Problems) -> Option<Num> {
    let n = number(obj, key, path, p, Need::Optional)?;
    if n.value < Decimal::ZERO || n.value > Decimal::ONE_HUNDRED {
        p.push(
            path,
            "out_of_range",
            format!("{} must be between 0 and 100", n.text),
        );
        return None;
    }
    Some(n)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value as shown in a message: `"abc"`, `true`, `a list`.
fn shown(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => format!("`{}`", v_text(v)),
        other => kind(other).to_string(),
    }
}

fn v_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn placed_at(so: &Map<String, Value>, offset: Offset, p: &mut Problems) -> Option<String> {
    let raw = text(so, "createdAt", "createdAt", p)?;
    let converted = to_rfc3339(&raw, offset);
    if converted.is_none() {
        p.push(
            "createdAt",
            "invalid_date",
            format!("`{raw}` is not a date and time such as 2026-11-01 14:30:00 (or RFC 3339)"),
        );
    }
    converted
}

fn check_status(so: &Map<String, Value>, p: &mut Problems) {
    if let Some(status) = text(so, "status", "status", p) {
        if !NEW_ORDER_STATUSES.contains(&status.to_ascii_lowercase().as_str()) {
            p.push(
                "status",
                "invalid_status",
                format!("a new sales order is Pending, Placed or New, not `{status}`"),
            );
        }
    }
}

/// The vendor's `paymentMode`.
#[derive(Clone, Copy)]
enum PaymentMode {
    /// 1: cash on delivery.
    Cod,
    /// 2: paid by card (or any prepaid gateway).
    Card,
}

fn payment_mode(so: &Map<String, Value>, p: &mut Problems) -> Option<PaymentMode> {
    let raw = required_text(so, "paymentMode", "paymentMode", p)?;
    match raw.as_str() {
        "1" => Some(PaymentMode::Cod),
        "2" => Some(PaymentMode::Card),
        _ => {
            p.push(
                "paymentMode",
                "invalid_payment_mode",
                format!("`{raw}` is not a payment mode; use 1 (cash on delivery) or 2 (card)"),
            );
            None
        }
    }
}

fn payment(kind: &str, total: &Num, reference: Option<String>) -> Payment {
    Payment {
        kind: kind.to_string(),
        amount: total.money(),
        reference,
    }
}

/// A line with the quantity the order's `totalQuantity` is checked against.
struct Line {
    line: OrderLine,
    quantity: Decimal,
}

fn lines(so: &Map<String, Value>, p: &mut Problems) -> Option<Vec<Line>> {
    let rows = match so.get("orderItems") {
        Some(Value::Array(rows)) if !rows.is_empty() => rows,
        Some(Value::Array(_)) => {
            p.push(
                "orderItems",
                "no_items",
                "a sales order needs at least one item",
            );
            return None;
        }
        None | Some(Value::Null) => {
            p.push("orderItems", "required", "`orderItems` is required");
            return None;
        }
        Some(other) => {
            p.push(
                "orderItems",
                "invalid_type",
                format!("must be a list of items, not {}", kind(other)),
            );
            return None;
        }
    };
    let read: Vec<Option<Line>> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Object(obj) => line(i, obj, p),
            other => {
                p.push(
                    format!("orderItems[{i}]"),
                    "invalid_type",
                    format!("must be an object, not {}", kind(other)),
                );
                None
            }
        })
        .collect();
    read.into_iter().collect()
}

/// Row `i` of `orderItems`.
fn line(i: usize, row: &Map<String, Value>, p: &mut Problems) -> Option<Line> {
    let at = |key: &str| format!("orderItems[{i}].{key}");
    let reference = required_text(row, "itemReferenceCode", &at("itemReferenceCode"), p);
    let external_id = text(row, "itemId", &at("itemId"), p);
    let title = text(row, "itemName", &at("itemName"), p);
    let quantity = number(row, "quantity", &at("quantity"), p, Need::Required).filter(|q| {
        let positive = q.value > Decimal::ZERO;
        if !positive {
            p.push(
                at("quantity"),
                "out_of_range",
                format!("{} must be more than zero", q.text),
            );
        }
        positive
    });
    let price = amount(row, "salePrice", &at("salePrice"), p, Need::Required);
    let pct = match row.get("discountPercentage") {
        None | Some(Value::Null) => Some(None),
        Some(_) => percentage(row, "discountPercentage", &at("discountPercentage"), p).map(Some),
    };
    let tax = percentage(row, "taxPercentage", &at("taxPercentage"), p);
    let item_amount = amount(row, "itemAmount", &at("itemAmount"), p, Need::Optional);

    let (quantity, price, pct) = (quantity?, price?, pct?);
    let Some((gross, discount)) = amounts(&price, &quantity, pct.as_ref()) else {
        p.push(
            at("salePrice"),
            "out_of_range",
            "salePrice × quantity is too large",
        );
        return None;
    };
    if let Some(stated) = &item_amount {
        let expected = gross - discount;
        if (stated.value - expected).abs() > ITEM_AMOUNT_TOLERANCE {
            p.push(
                at("itemAmount"),
                "item_amount_mismatch",
                format!(
                    "itemAmount is {} but salePrice × quantity − discount is {}",
                    stated.text,
                    money_text(expected)
                ),
            );
        }
    }
    Some(Line {
        line: OrderLine {
            reference_code: Some(reference?),
            external_id,
            sku: None,
            title,
            quantity: quantity.value.normalize().to_string(),
            unit_price: price.money(),
            discount: (!discount.is_zero()).then(|| money_text(discount)),
            tax_rate: tax.map(|t| t.value.normalize().to_string()),
        },
        quantity: quantity.value,
    })
}

/// The line's gross amount (`salePrice × quantity`) and its discount
/// (`gross × pct / 100`, rounded half up to cents); None on overflow.
fn amounts(price: &Num, quantity: &Num, pct: Option<&Num>) -> Option<(Decimal, Decimal)> {
    let gross = price.value.checked_mul(quantity.value)?;
    let discount = match pct {
        None => Decimal::ZERO,
        Some(pct) => gross
            .checked_mul(pct.value)?
            .checked_div(Decimal::ONE_HUNDRED)?
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    };
    Some((gross, discount))
}

/// Money with at least two decimal places.
fn money_text(value: Decimal) -> String {
    let value = value.normalize();
    if value.scale() < 2 {
        format!("{value:.2}")
    } else {
        value.to_string()
    }
}

/// `totalQuantity` must be the sum of the items' quantities.
fn check_total_quantity(stated: &Num, lines: &[Line], p: &mut Problems) {
    let sum = lines
        .iter()
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.quantity));
    if let Some(sum) = sum.filter(|sum| *sum != stated.value) {
        p.push(
            "totalQuantity",
            "total_quantity_mismatch",
            format!(
                "totalQuantity is {} but the items' quantities add up to {}",
                stated.text,
                sum.normalize()
            ),
        );
    }
}

fn customer(so: &Map<String, Value>, p: &mut Problems) -> Option<Customer> {
    let name = text(so, "customerName", "customerName", p);
    let mobile = text(so, "customerMobile", "customerMobile", p);
    let phone = text(so, "customerPhone", "customerPhone", p);
    let email = text(so, "customerEmail", "customerEmail", p);
    let address = customer_address(so, p);
    let customer = Customer {
        name,
        phone: phone_hint([mobile.as_deref(), phone.as_deref()]),
        email,
        address,
    };
    let empty = customer.name.is_none()
        && customer.phone.is_none()
        && customer.email.is_none()
        && customer.address.is_none();
    (!empty).then_some(customer)
}

/// A free-form address field: text, or an object.
enum Address {
    Text(String),
    Object(Map<String, Value>),
}

fn address(obj: &Map<String, Value>, key: &str, p: &mut Problems) -> Option<Address> {
    match obj.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(Address::Text(s.trim().to_string()))
            .filter(|a| !matches!(a, Address::Text(t) if t.is_empty())),
        Value::Object(o) => Some(Address::Object(o.clone())),
        other => {
            p.push(
                key,
                "invalid_type",
                format!("must be text or an object, not {}", kind(other)),
            );
            None
        }
    }
}

/// `customerAddress` as is, or, with `customerCity`, `customerState` or
/// `customerPincode`, an object `{"address", "city", "state", "pincode"}`.
fn customer_address(so: &Map<String, Value>, p: &mut Problems) -> Option<String> {
    let base = address(so, "customerAddress", p);
    let parts: Vec<(&str, String)> = [
        ("city", "customerCity"),
        ("state", "customerState"),
        ("pincode", "customerPincode"),
    ]
    .into_iter()
    .filter_map(|(name, key)| text(so, key, key, p).map(|v| (name, v)))
    .collect();
    if parts.is_empty() {
        return base.map(address_text);
    }
    let mut object = match base {
        Some(Address::Object(o)) => o,
        Some(Address::Text(t)) => Map::from_iter([("address".to_string(), Value::String(t))]),
        None => Map::new(),
    };
    for (name, value) in parts {
        object.insert(name.to_string(), Value::String(value));
    }
    Some(Value::Object(object).to_string())
}

fn address_text(a: Address) -> String {
    match a {
        Address::Text(t) => t,
        Address::Object(o) => Value::Object(o).to_string(),
    }
}

/// `shippingCharge` (0 when absent), `shippingMethod`, and the delivery
/// address: `shippingAddress` as is, or with `shippingName` an object
/// `{"name", "address"}`. None when the order says nothing about shipping.
fn shipping(so: &Map<String, Value>, p: &mut Problems) -> Option<Shipping> {
    let charge = amount(so, "shippingCharge", "shippingCharge", p, Need::Optional);
    let method = text(so, "shippingMethod", "shippingMethod", p);
    let name = text(so, "shippingName", "shippingName", p);
    let base = address(so, "shippingAddress", p);
    let address = match (name, base) {
        (None, base) => base.map(address_text),
        (Some(name), base) => {
            let mut object = match base {
                Some(Address::Object(o)) => o,
                Some(Address::Text(t)) => {
                    Map::from_iter([("address".to_string(), Value::String(t))])
                }
                None => Map::new(),
            };
            object.insert("name".to_string(), Value::String(name));
            Some(Value::Object(object).to_string())
        }
    };
    if charge.is_none() && method.is_none() && address.is_none() {
        return None;
    }
    Some(Shipping {
        amount: charge.map_or_else(|| "0.00".to_string(), |c| c.money()),
        method,
        address,
    })
}
