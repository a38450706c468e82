//! `POST /salesOrders`: the vendor's `{"salesOrder": {...}}` as a canonical
//! order.
//!
//! Every field is checked and every problem reported at once, in the
//! dialect's field names (`orderItems[1].itemAmount`). Numbers may arrive
//! as JSON numbers or as strings and are read from their digits, never
//! through float arithmetic. Sale prices include tax (as in the vendor's
//! product), so a gofrugal store is configured with prices_include_tax.
//!
//! Real clients of the vendor's API name some things in more than one way,
//! and all of them are read: `itemId` is the reference code of a row
//! without `itemReferenceCode`, `outletId` is `locationId`, `orderRemarks`
//! is `remarks`, the split address fields (`customerAddressLine1`,
//! `shippingAddress1`, ...) make address objects, and `paymentMode` may be
//! a name (`COD`, `card`, or one of the store's `payment_modes`).

use poshub_connector_sdk::{
    decimal, money, phone_hint, Customer, Order, OrderLine, Payment, Shipping,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use crate::failure::{Failure, Problems, Sent};
use crate::time::{to_rfc3339, Offset};

/// How far `itemAmount` may be from `salePrice × quantity − discount`.
const ITEM_AMOUNT_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The `status` values a new sales order may carry (any case).
const NEW_ORDER_STATUSES: [&str; 3] = ["pending", "placed", "new"];

/// The `paymentMode` values every store takes (numbers, and names in any
/// case) with their hub payment types.
const BUILT_IN_MODES: [(&str, &str); 8] = [
    ("1", "cod"),
    ("2", "card"),
    ("cod", "cod"),
    ("cash", "cod"),
    ("cash on delivery", "cod"),
    ("card", "card"),
    ("prepaid", "card"),
    ("online", "card"),
];

/// The names of [`BUILT_IN_MODES`], as an error message lists them.
const BUILT_IN_NAMES: &str = "COD, cash, cash on delivery, card, prepaid, online";

/// The split address fields of the customer, each with its key in the
/// address object.
const CUSTOMER_ADDRESS_PARTS: [(&str, &str); 8] = [
    ("line1", "customerAddressLine1"),
    ("line2", "customerAddressLine2"),
    ("line3", "customerAddressLine3"),
    ("area", "customerArea"),
    ("city", "customerCity"),
    ("state", "customerState"),
    ("country", "customerCountry"),
    ("pincode", "customerPincode"),
];

/// The split fields of the delivery address, each with its key in the
/// address object.
const SHIPPING_ADDRESS_PARTS: [(&str, &str); 9] = [
    ("name", "shippingName"),
    ("line1", "shippingAddress1"),
    ("line2", "shippingAddress2"),
    ("city", "shippingPlace"),
    ("state", "shippingState"),
    ("country", "shippingCountry"),
    ("pincode", "shippingPincode"),
    ("phone", "shippingMobile"),
    ("email", "shippingEmail"),
];

/// Order-level discounts, which the hub cannot book (discounts are per line).
const ORDER_DISCOUNTS: [&str; 2] = ["orderDiscAmt", "orderDiscPerc"];

/// What the store's config makes of `paymentMode`: the built-in modes, the
/// store's own names (`payment_modes`) and the mode of an order that names
/// none (`default_payment_mode`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentModes {
    /// The store's names: (as configured, normalised, hub payment type).
    named: Vec<(String, String, String)>,
    /// The hub payment type of an order without `paymentMode`.
    default: Option<String>,
}

impl PaymentModes {
    /// From the store's `payment_modes` (a JSON object of name -> hub
    /// payment type) and `default_payment_mode` (a `paymentMode` value).
    /// The error is for the merchant: what is wrong with the config.
    pub fn from_config(
        payment_modes: Option<&str>,
        default_payment_mode: Option<&str>,
    ) -> Result<PaymentModes, String> {
        let mut modes = PaymentModes::default();
        if let Some(raw) = payment_modes {
            let object: Map<String, Value> = serde_json::from_str(raw).map_err(|_| {
                format!(
                    "the store's `payment_modes` must be a JSON object of paymentMode names and \
                     hub payment types, e.g. {{\"UPI\": \"upi\"}}, not `{raw}`"
                )
            })?;
            for (name, kind) in object {
                let normalised = normalise(&name);
                let kind = kind
                    .as_str()
                    .map(|k| k.trim().to_ascii_lowercase())
                    .filter(|k| is_payment_type(k))
                    .ok_or_else(|| {
                        format!(
                            "the store's `payment_modes` maps `{name}` to {kind}, not a hub payment \
                             type (lower-case letters, digits and _, e.g. cod, card, upi)"
                        )
                    })?;
                if normalised.is_empty() {
                    return Err("the store's `payment_modes` has an empty name".to_string());
                }
                modes
                    .named
                    .push((name.trim().to_string(), normalised, kind));
            }
        }
        if let Some(raw) = default_payment_mode {
            let kind = modes.resolve(raw).ok_or_else(|| {
                format!(
                    "the store's `default_payment_mode` `{raw}` is not a payment mode; use 1, 2, \
                     one of {BUILT_IN_NAMES}, or a name of its `payment_modes`"
                )
            })?;
            modes.default = Some(kind);
        }
        Ok(modes)
    }

    /// The hub payment type of a `paymentMode` value: the store's own names
    /// first, then 1, 2 and the built-in names; any case, spaces trimmed.
    pub fn resolve(&self, raw: &str) -> Option<String> {
        let key = normalise(raw);
        self.named
            .iter()
            .find(|(_, name, _)| *name == key)
            .map(|(_, _, kind)| kind.clone())
            .or_else(|| {
                BUILT_IN_MODES
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, kind)| kind.to_string())
            })
    }
}

/// A name as it is matched: trimmed, lower case, one space between words.
fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The hub's rule for a payment type: 1 to 32 of `a-z`, `0-9` and `_`.
fn is_payment_type(kind: &str) -> bool {
    (1..=32).contains(&kind.len())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Which alternative field names a (valid) sales order body used, for
/// naming the fields of the hub's errors about it.
pub fn sent(body: &[u8]) -> Sent {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Sent::default();
    };
    let Some(so) = value.get("salesOrder").and_then(Value::as_object) else {
        return Sent::default();
    };
    let item_id_rows = so
        .get("orderItems")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .enumerate()
                .filter(|(_, row)| row.as_object().is_some_and(keyed_by_item_id))
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    Sent {
        item_id_rows,
        outlet_id: blank(so.get("locationId")) && !blank(so.get("outletId")),
        order_remarks: blank(so.get("remarks")) && !blank(so.get("orderRemarks")),
    }
}

/// Absent, null or blank text.
fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// A row without `itemReferenceCode` that names its item by `itemId`
/// (text or a number): its reference code is the `itemId`.
fn keyed_by_item_id(row: &Map<String, Value>) -> bool {
    let item_id = match row.get("itemId") {
        Some(Value::Number(_)) => true,
        Some(Value::String(s)) => !s.trim().is_empty(),
        _ => false,
    };
    item_id && blank(row.get("itemReferenceCode"))
}

/// Translates a sales order body; `default_location` is the store's
/// configured `location`, `modes` what its config makes of `paymentMode`.
pub fn create_order(
    body: &[u8],
    offset: Offset,
    default_location: Option<&str>,
    modes: &PaymentModes,
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
    let order = read_order(so, offset, default_location, modes, &mut p);
    p.into_result("the salesOrder")?;
    order.ok_or_else(|| Failure::new(400, "invalid_sales_order", "the salesOrder is not valid"))
}

fn read_order(
    so: &Map<String, Value>,
    offset: Offset,
    default_location: Option<&str>,
    modes: &PaymentModes,
    p: &mut Problems,
) -> Option<Order> {
    let reference = required_text(so, "onlineReferenceNo", "onlineReferenceNo", p);
    let placed_at = placed_at(so, offset, p);
    check_status(so, p);
    let total = amount(so, "totalAmount", "totalAmount", p, Need::Required);
    check_order_discounts(so, p);
    let mode = payment_mode(so, modes, p);
    let payment_reference = text(so, "paymentReference", "paymentReference", p);
    let lines = lines(so, p);
    let total_quantity = number(so, "totalQuantity", "totalQuantity", p, Need::Optional);
    if let (Some(lines), Some(stated)) = (&lines, &total_quantity) {
        check_total_quantity(stated, lines, p);
    }
    let customer = customer(so, p);
    let shipping = shipping(so, p);
    let location = location(so, p).or_else(|| default_location.map(str::to_string));
    let notes = notes(so, p);

    let total = total?;
    let payments = match mode? {
        // A free order has nothing to pay.
        _ if total.value.is_zero() => vec![],
        // Cash on delivery has no gateway reference yet.
        kind if kind == "cod" => vec![payment(&kind, &total, None)],
        kind => vec![payment(&kind, &total, payment_reference)],
    };
    Some(Order {
        online_reference_no: reference?,
        location,
        customer,
        lines: lines?.into_iter().map(|l| l.line).collect(),
        shipping,
        charges: vec![],
        payments,
        total: total.money(),
        // The vendor's API has one currency, the POS's.
        currency: None,
        // In this dialect a salePrice includes tax, as in the vendor's product.
        prices_include_tax: Some(true),
        test: false,
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

/// `locationId`, or its alias `outletId`; both may be given when they agree.
fn location(so: &Map<String, Value>, p: &mut Problems) -> Option<String> {
    let location_id = text(so, "locationId", "locationId", p);
    let outlet_id = text(so, "outletId", "outletId", p);
    match (location_id, outlet_id) {
        (Some(location), Some(outlet)) if location != outlet => {
            p.push(
                "outletId",
                "location_mismatch",
                format!(
                    "outletId `{outlet}` and locationId `{location}` name different locations; \
                     send one of them"
                ),
            );
            None
        }
        (location, outlet) => location.or(outlet),
    }
}

/// `remarks`, or its alias `orderRemarks`; both, one per line, when they differ.
fn notes(so: &Map<String, Value>, p: &mut Problems) -> Option<String> {
    let remarks = text(so, "remarks", "remarks", p);
    let order_remarks = text(so, "orderRemarks", "orderRemarks", p);
    match (remarks, order_remarks) {
        (Some(a), Some(b)) if a != b => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b),
    }
}

/// An order-level discount cannot be booked (the hub's discounts are per
/// line): a non-zero one is refused rather than ignored, which would charge
/// the customer more than the storefront did.
fn check_order_discounts(so: &Map<String, Value>, p: &mut Problems) {
    for key in ORDER_DISCOUNTS {
        if let Some(n) = number(so, key, key, p, Need::Optional) {
            if !n.value.is_zero() {
                p.push(
                    key,
                    "order_discount_not_supported",
                    format!(
                        "an order-level discount ({}) cannot be booked; give the items their \
                         discountPercentage instead",
                        n.text
                    ),
                );
            }
        }
    }
}

/// The hub payment type of the vendor's `paymentMode` (see [`PaymentModes`]);
/// without one, the store's `default_payment_mode`.
fn payment_mode(so: &Map<String, Value>, modes: &PaymentModes, p: &mut Problems) -> Option<String> {
    let Some(raw) = text(so, "paymentMode", "paymentMode", p) else {
        // A value of the wrong type was reported by `text`.
        if !blank(so.get("paymentMode")) {
            return None;
        }
        if modes.default.is_none() {
            p.push("paymentMode", "required", "`paymentMode` is required");
        }
        return modes.default.clone();
    };
    if let Some(kind) = modes.resolve(&raw) {
        return Some(kind);
    }
    let mut message =
        format!("`{raw}` is not a payment mode; use 1 (cash on delivery) or 2 (card)");
    // A name gets the names.
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        message.push_str(", or a name: ");
        message.push_str(BUILT_IN_NAMES);
        for (name, _, _) in &modes.named {
            message.push_str(", ");
            message.push_str(name);
        }
    }
    p.push("paymentMode", "invalid_payment_mode", message);
    None
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
    let own_reference = text(row, "itemReferenceCode", &at("itemReferenceCode"), p);
    let external_id = text(row, "itemId", &at("itemId"), p);
    // Without an itemReferenceCode, the itemId is the reference code: a
    // plain item's reference code is its item code in the hub.
    let reference = own_reference.or_else(|| {
        if keyed_by_item_id(row) {
            return external_id.clone();
        }
        // A value of the wrong type was reported by `text`.
        if blank(row.get("itemReferenceCode")) && blank(row.get("itemId")) {
            p.push(
                at("itemReferenceCode"),
                "required",
                "`itemReferenceCode` (or `itemId`) is required",
            );
        }
        None
    });
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
            tax_amount: None,
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

/// `customerAddress` as is, or, with any of the split fields
/// ([`CUSTOMER_ADDRESS_PARTS`]), an object `{"address", "line1", ...,
/// "city", "state", "country", "pincode"}`.
fn customer_address(so: &Map<String, Value>, p: &mut Problems) -> Option<String> {
    let base = address(so, "customerAddress", p);
    folded(base, parts(so, &CUSTOMER_ADDRESS_PARTS, p))
}

/// The split address fields that are there, with their object keys.
fn parts(
    obj: &Map<String, Value>,
    fields: &[(&'static str, &str)],
    p: &mut Problems,
) -> Vec<(&'static str, String)> {
    fields
        .iter()
        .filter_map(|(name, key)| text(obj, key, key, p).map(|v| (*name, v)))
        .collect()
}

/// An address with its split fields: the address as it is when there are
/// none, else an object with them (a text address under `address`).
fn folded(base: Option<Address>, parts: Vec<(&str, String)>) -> Option<String> {
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
/// address: `shippingAddress` as is, or with `shippingName` or any of the
/// split fields ([`SHIPPING_ADDRESS_PARTS`]) an object `{"name", "address",
/// "line1", ...}`. None when the order says nothing about shipping.
fn shipping(so: &Map<String, Value>, p: &mut Problems) -> Option<Shipping> {
    let charge = amount(so, "shippingCharge", "shippingCharge", p, Need::Optional);
    let method = text(so, "shippingMethod", "shippingMethod", p);
    let base = address(so, "shippingAddress", p);
    let address = folded(base, parts(so, &SHIPPING_ADDRESS_PARTS, p));
    if charge.is_none() && method.is_none() && address.is_none() {
        return None;
    }
    Some(Shipping {
        amount: charge.map_or_else(|| "0.00".to_string(), |c| c.money()),
        tax: None,
        method,
        address,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DEFAULT_OFFSET;
    use serde_json::json;

    fn order(so: Value, modes: &PaymentModes) -> Result<Order, Failure> {
        let body = json!({ "salesOrder": so }).to_string();
        create_order(body.as_bytes(), DEFAULT_OFFSET, None, modes)
    }

    fn fields(failure: &Failure) -> Vec<(&str, &str)> {
        failure
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    /// One row of 2 × 125, cash on delivery.
    fn minimal() -> Value {
        json!({
            "onlineReferenceNo": "A-1",
            "totalAmount": 250,
            "paymentMode": 1,
            "orderItems": [{"itemReferenceCode": "MUG-01", "quantity": 2, "salePrice": 125}]
        })
    }

    #[test]
    fn payment_modes_by_number_and_name() {
        let modes = PaymentModes::default();
        for (raw, kind) in [
            ("1", Some("cod")),
            ("2", Some("card")),
            ("COD", Some("cod")),
            ("cash", Some("cod")),
            (" Cash  On\tDelivery ", Some("cod")),
            ("Card", Some("card")),
            ("PREPAID", Some("card")),
            ("online", Some("card")),
            ("UPI", None),
            ("3", None),
            ("", None),
        ] {
            assert_eq!(modes.resolve(raw).as_deref(), kind, "{raw}");
        }
    }

    #[test]
    fn the_stores_payment_names_come_first() {
        let modes = PaymentModes::from_config(
            Some(r#"{"The Pet Project - Website": "card", "UPI": "UPI", "online": "upi"}"#),
            Some("the pet project - website"),
        )
        .unwrap();
        assert_eq!(
            modes.resolve("the PET project - website").as_deref(),
            Some("card")
        );
        assert_eq!(modes.resolve("upi").as_deref(), Some("upi"));
        assert_eq!(modes.resolve("Online").as_deref(), Some("upi"));
        assert_eq!(modes.resolve("cash").as_deref(), Some("cod"));
        assert_eq!(modes.default.as_deref(), Some("card"));
        let numbered = PaymentModes::from_config(None, Some("1")).unwrap();
        assert_eq!(numbered.default.as_deref(), Some("cod"));
    }

    #[test]
    fn a_bad_payment_config_is_the_merchants_error() {
        for (modes, default) in [
            (Some("[1]"), None),
            (Some("UPI=upi"), None),
            (Some(r#"{"UPI": "U P I"}"#), None),
            (Some(r#"{"UPI": 3}"#), None),
            (Some(r#"{" ": "upi"}"#), None),
            (None, Some("9")),
            (None, Some("upi")),
        ] {
            let e = PaymentModes::from_config(modes, default).unwrap_err();
            assert!(e.starts_with("the store's `"), "{modes:?} {default:?}: {e}");
        }
    }

    #[test]
    fn a_missing_payment_mode_is_the_stores_default() {
        let mut so = minimal();
        so.as_object_mut().unwrap().remove("paymentMode");
        let e = order(so.clone(), &PaymentModes::default()).unwrap_err();
        assert_eq!(fields(&e), [("paymentMode", "required")]);

        let modes = PaymentModes::from_config(None, Some("cod")).unwrap();
        let o = order(so.clone(), &modes).unwrap();
        assert_eq!(o.payments.len(), 1);
        assert_eq!(o.payments[0].kind, "cod");
        assert_eq!(o.payments[0].amount, "250.00");

        // Blank is absent; the wrong type is refused even with a default.
        so["paymentMode"] = json!(" ");
        assert_eq!(order(so.clone(), &modes).unwrap().payments[0].kind, "cod");
        so["paymentMode"] = json!(true);
        let e = order(so, &modes).unwrap_err();
        assert_eq!(fields(&e), [("paymentMode", "invalid_type")]);
    }

    #[test]
    fn a_named_payment_mode_lists_the_names() {
        let mut so = minimal();
        so["paymentMode"] = json!("UPI");
        so["paymentReference"] = json!("T-1");
        let e = order(so.clone(), &PaymentModes::default()).unwrap_err();
        assert_eq!(fields(&e), [("paymentMode", "invalid_payment_mode")]);
        assert_eq!(
            e.errors[0].message,
            "`UPI` is not a payment mode; use 1 (cash on delivery) or 2 (card), or a name: \
             COD, cash, cash on delivery, card, prepaid, online"
        );
        let modes = PaymentModes::from_config(Some(r#"{"Manual": "cod"}"#), None).unwrap();
        let e = order(so.clone(), &modes).unwrap_err();
        assert!(e.errors[0].message.ends_with("prepaid, online, Manual"));

        // A mapped type other than cod keeps the payment's reference.
        let modes = PaymentModes::from_config(Some(r#"{"UPI": "upi"}"#), None).unwrap();
        let o = order(so, &modes).unwrap();
        assert_eq!(o.payments[0].kind, "upi");
        assert_eq!(o.payments[0].reference.as_deref(), Some("T-1"));
    }

    #[test]
    fn item_id_is_the_reference_code_of_a_row_without_one() {
        let mut so = minimal();
        so["orderItems"] = json!([
            {"itemId": 5012, "quantity": 1, "salePrice": 125},
            {"itemId": " 5020 ", "itemReferenceCode": "", "quantity": 1, "salePrice": 125},
            {"itemId": "5030", "itemReferenceCode": "MUG-01", "quantity": 1, "salePrice": 0}
        ]);
        let o = order(so.clone(), &PaymentModes::default()).unwrap();
        let codes: Vec<_> = o
            .lines
            .iter()
            .map(|l| (l.reference_code.as_deref(), l.external_id.as_deref()))
            .collect();
        assert_eq!(
            codes,
            [
                (Some("5012"), Some("5012")),
                (Some("5020"), Some("5020")),
                (Some("MUG-01"), Some("5030")),
            ]
        );
        let body = json!({ "salesOrder": so }).to_string();
        assert_eq!(sent(body.as_bytes()).item_id_rows, [0, 1]);

        // Neither: required; an itemId of the wrong type is reported as such.
        so["orderItems"] = json!([
            {"quantity": 1, "salePrice": 125},
            {"itemId": {"id": 1}, "quantity": 1, "salePrice": 125}
        ]);
        let e = order(so, &PaymentModes::default()).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                ("orderItems[0].itemReferenceCode", "required"),
                ("orderItems[1].itemId", "invalid_type"),
            ]
        );
    }

    #[test]
    fn outlet_id_and_order_remarks_are_aliases() {
        let mut so = minimal();
        so["outletId"] = json!(314);
        so["orderRemarks"] = json!("ring twice");
        let o = order(so.clone(), &PaymentModes::default()).unwrap();
        assert_eq!(o.location.as_deref(), Some("314"));
        assert_eq!(o.notes.as_deref(), Some("ring twice"));
        let body = json!({ "salesOrder": so.clone() }).to_string();
        let s = sent(body.as_bytes());
        assert!(s.outlet_id && s.order_remarks);

        so["locationId"] = json!("314");
        so["remarks"] = json!("gate code 12");
        let o = order(so.clone(), &PaymentModes::default()).unwrap();
        assert_eq!(o.location.as_deref(), Some("314"));
        assert_eq!(o.notes.as_deref(), Some("gate code 12\nring twice"));
        let body = json!({ "salesOrder": so.clone() }).to_string();
        assert_eq!(sent(body.as_bytes()), Sent::default());

        so["locationId"] = json!("BLR");
        let e = order(so, &PaymentModes::default()).unwrap_err();
        assert_eq!(fields(&e), [("outletId", "location_mismatch")]);
    }

    #[test]
    fn an_order_level_discount_is_refused() {
        let mut so = minimal();
        so["orderDiscAmt"] = json!("0.00");
        so["orderDiscPerc"] = json!(0);
        assert!(order(so.clone(), &PaymentModes::default()).is_ok());
        so["orderDiscAmt"] = json!("25");
        so["orderDiscPerc"] = json!(10);
        let e = order(so.clone(), &PaymentModes::default()).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                ("orderDiscAmt", "order_discount_not_supported"),
                ("orderDiscPerc", "order_discount_not_supported"),
            ]
        );
        so["orderDiscAmt"] = json!("ten");
        so.as_object_mut().unwrap().remove("orderDiscPerc");
        let e = order(so, &PaymentModes::default()).unwrap_err();
        assert_eq!(fields(&e), [("orderDiscAmt", "invalid_number")]);
    }

    #[test]
    fn split_address_fields_make_address_objects() {
        let mut so = minimal();
        so["customerName"] = json!("Asha Rao");
        so["customerAddressLine1"] = json!("12, 4th Cross");
        so["customerAddressLine2"] = json!("Indiranagar");
        so["customerAddressLine3"] = json!("Near the park");
        so["customerArea"] = json!("HAL 2nd Stage");
        so["customerCity"] = json!("Bengaluru");
        so["customerCountry"] = json!("India");
        so["customerPincode"] = json!(560038);
        so["shippingAddress1"] = json!("7 MG Road");
        so["shippingAddress2"] = json!("Floor 2");
        so["shippingPlace"] = json!("Mysuru");
        so["shippingState"] = json!("Karnataka");
        so["shippingCountry"] = json!("India");
        so["shippingPincode"] = json!("570001");
        so["shippingMobile"] = json!("+91 98450 12345");
        let o = order(so.clone(), &PaymentModes::default()).unwrap();
        let customer: Value =
            serde_json::from_str(o.customer.unwrap().address.as_deref().unwrap()).unwrap();
        assert_eq!(
            customer,
            json!({"line1": "12, 4th Cross", "line2": "Indiranagar", "line3": "Near the park",
                   "area": "HAL 2nd Stage", "city": "Bengaluru", "country": "India",
                   "pincode": "560038"})
        );
        let shipping = o.shipping.unwrap();
        assert_eq!(shipping.amount, "0.00");
        let address: Value = serde_json::from_str(shipping.address.as_deref().unwrap()).unwrap();
        assert_eq!(
            address,
            json!({"line1": "7 MG Road", "line2": "Floor 2", "city": "Mysuru",
                   "state": "Karnataka", "country": "India", "pincode": "570001",
                   "phone": "+91 98450 12345"})
        );

        // A text address is kept under `address`.
        so["shippingAddress"] = json!("7 MG Road, Mysuru");
        let o = order(so, &PaymentModes::default()).unwrap();
        let address: Value =
            serde_json::from_str(o.shipping.unwrap().address.as_deref().unwrap()).unwrap();
        assert_eq!(address["address"], "7 MG Road, Mysuru");
        assert_eq!(address["line1"], "7 MG Road");
    }
}
