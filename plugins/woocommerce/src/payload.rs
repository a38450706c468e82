//! The parts of WooCommerce's REST API v3 order JSON the connector reads.
//!
//! Every field is optional and tolerant of `null`: WooCommerce versions and
//! extensions leave fields out or null them. Amounts and ids stay
//! [`Value`]s and are read exactly where they are used, so that an error can
//! name the line and field.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An order as WooCommerce posts it in `order.created` / `order.updated`.
#[derive(Debug, Deserialize)]
pub struct WcOrder {
    #[serde(default)]
    pub id: Value,
    /// The display number (equals `id` unless a sequential-numbers plugin runs).
    #[serde(default)]
    pub number: Value,
    #[serde(default)]
    pub status: Option<String>,
    /// Site-local creation time without an offset.
    #[serde(default)]
    pub date_created: Option<String>,
    /// UTC creation time without an offset.
    #[serde(default)]
    pub date_created_gmt: Option<String>,
    /// ISO 4217 code of every amount of the order.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub total: Value,
    /// The tax of the product and fee lines (as the order total counts it:
    /// rounded per line, or once on the subtotal).
    #[serde(default)]
    pub cart_tax: Value,
    #[serde(default)]
    pub shipping_total: Value,
    #[serde(default)]
    pub shipping_tax: Value,
    #[serde(default)]
    pub customer_note: Option<String>,
    #[serde(default)]
    pub billing: Value,
    #[serde(default)]
    pub shipping: Value,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub payment_method_title: Option<String>,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub line_items: Vec<LineItem>,
    #[serde(default, deserialize_with = "list")]
    pub tax_lines: Vec<TaxLine>,
    #[serde(default, deserialize_with = "list")]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default, deserialize_with = "list")]
    pub fee_lines: Vec<FeeLine>,
    #[serde(default, deserialize_with = "list")]
    pub coupon_lines: Vec<CouponLine>,
    #[serde(default, deserialize_with = "list")]
    pub refunds: Vec<RefundSummary>,
    /// The wrapper of the legacy API's payloads (`{"order": {...}}`), which
    /// this connector does not read: only present to say so.
    #[serde(default, rename = "order")]
    pub legacy_envelope: Option<Value>,
}

/// A product line.
#[derive(Debug, Deserialize)]
pub struct LineItem {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub product_id: Value,
    /// Non-zero when the line is a variation of `product_id`.
    #[serde(default)]
    pub variation_id: Value,
    #[serde(default)]
    pub quantity: Value,
    /// Line amount before discounts, without tax.
    #[serde(default)]
    pub subtotal: Value,
    #[serde(default)]
    pub subtotal_tax: Value,
    /// Line amount after discounts, without tax.
    #[serde(default)]
    pub total: Value,
    #[serde(default)]
    pub total_tax: Value,
    /// The tax rates applied: `id` is a tax line's `rate_id`.
    #[serde(default, deserialize_with = "list")]
    pub taxes: Vec<LineTax>,
    #[serde(default)]
    pub sku: Option<String>,
}

/// One tax rate's amounts on a line.
#[derive(Debug, Deserialize)]
pub struct LineTax {
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    pub subtotal: Value,
    #[serde(default)]
    pub total: Value,
}

/// An order-level tax rate (WooCommerce 5.7+ writes `rate_percent`).
#[derive(Debug, Deserialize)]
pub struct TaxLine {
    #[serde(default)]
    pub rate_id: Value,
    #[serde(default)]
    pub rate_percent: Value,
    #[serde(default)]
    pub compound: Option<bool>,
}

/// A shipping method charged on the order.
#[derive(Debug, Deserialize)]
pub struct ShippingLine {
    #[serde(default)]
    pub method_title: Option<String>,
}

/// A fee charged on the order that is not a product.
#[derive(Debug, Deserialize)]
pub struct FeeLine {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub total: Value,
    #[serde(default)]
    pub total_tax: Value,
}

/// A coupon used on the order.
#[derive(Debug, Deserialize)]
pub struct CouponLine {
    #[serde(default)]
    pub code: Option<String>,
}

/// A refund as listed on the order (`total` is negative).
#[derive(Debug, Deserialize)]
pub struct RefundSummary {
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub total: Value,
}

/// The body of `order.deleted`: only the id.
#[derive(Debug, Deserialize)]
pub struct Deleted {
    #[serde(default)]
    pub id: Value,
}

/// A WooCommerce id (a JSON number or digit string) as text; `None` for
/// absent, zero or anything else.
pub fn id_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (digits && text.bytes().any(|b| b != b'0')).then_some(text)
}

/// A trimmed, non-empty string.
pub fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A string field of a JSON object (billing, shipping), trimmed, non-empty.
pub fn field(object: &Value, key: &str) -> Option<String> {
    text(object.get(key).and_then(Value::as_str))
}

/// A list that may be `null`.
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
