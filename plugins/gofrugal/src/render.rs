//! The hub's canonical answers (store API v1 JSON) in the dialect: sales
//! orders and item pages, with money and quantities as exact JSON numbers
//! and times in the vendor format at the store's offset.

use std::collections::BTreeMap;

use poshub_connector_sdk::{Error, ErrorKind};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde_json::Value;

use crate::json::Json;
use crate::time::{to_vendor, Instant, Offset};

/// A sales order as the hub answers it.
#[derive(Debug, Deserialize)]
pub struct HubOrder {
    id: i64,
    online_reference_no: String,
    #[serde(default)]
    location: Option<String>,
    status: String,
    #[serde(default)]
    customer: Option<HubCustomer>,
    #[serde(default)]
    lines: Vec<HubLine>,
    #[serde(default)]
    shipping: Option<HubShipping>,
    #[serde(default)]
    payments: Vec<HubPayment>,
    total: String,
    #[serde(default)]
    bill_no: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    placed_at: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Default, Deserialize)]
struct HubCustomer {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HubLine {
    line_no: i64,
    reference_code: String,
    item_code: String,
    quantity: String,
    unit_price: String,
    #[serde(default)]
    discount: Option<String>,
    tax_rate: String,
    #[serde(default)]
    tax_amount: Option<String>,
    amount: String,
}

#[derive(Debug, Deserialize)]
struct HubShipping {
    amount: String,
    #[serde(default)]
    method: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HubPayment {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    reference: Option<String>,
}

/// A page of sales orders as the hub answers it.
#[derive(Debug, Deserialize)]
pub struct HubOrderPage {
    sales_orders: Vec<HubOrder>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// A page of items (one row per variant) as the hub answers it.
#[derive(Debug, Deserialize)]
pub struct HubItemPage {
    items: Vec<HubItem>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HubItem {
    item_code: String,
    name: String,
    reference_code: String,
    #[serde(default)]
    attributes: serde_json::Map<String, Value>,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    mrp: Option<String>,
    tax_rate: String,
    available: String,
    #[serde(default)]
    locations: Vec<HubLocationStock>,
    updated_at: String,
}

#[derive(Debug, Deserialize)]
struct HubLocationStock {
    location: String,
    available: String,
}

/// The hub answered something this connector cannot read: a bug on one
/// side or the other, not the storefront's fault.
pub fn internal(message: impl Into<String>) -> Error {
    Error {
        kind: ErrorKind::Internal,
        message: message.into(),
        retryable: false,
    }
}

/// Parses the hub's answer body as `T`.
pub fn parse<T: for<'de> Deserialize<'de>>(body: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| internal(format!("the hub's answer is not {what}: {e}")))
}

/// An exact decimal of the hub's answer as a JSON number.
fn num(text: &str, field: &str) -> Result<Json, Error> {
    Json::number(text).ok_or_else(|| {
        internal(format!(
            "the hub's answer has `{text}` in `{field}`, not a decimal"
        ))
    })
}

fn opt_num(text: Option<&str>, field: &str) -> Result<Json, Error> {
    text.map_or(Ok(Json::Null), |t| num(t, field))
}

fn dec(text: &str, field: &str) -> Result<Decimal, Error> {
    text.parse::<Decimal>().map_err(|_| {
        internal(format!(
            "the hub's answer has `{text}` in `{field}`, not a decimal"
        ))
    })
}

/// A time of the hub's answer in the vendor format.
fn vendor_time(rfc3339: &str, field: &str, offset: Offset) -> Result<Json, Error> {
    to_vendor(rfc3339, offset).map(Json::String).ok_or_else(|| {
        internal(format!(
            "the hub's answer has `{rfc3339}` in `{field}`, not an RFC 3339 time"
        ))
    })
}

/// The vendor's status names.
fn status_name(status: &str) -> String {
    match status {
        "pending" => "Pending".to_string(),
        "billed" => "Billed".to_string(),
        "ready" => "Ready".to_string(),
        "shipped" => "Shipped".to_string(),
        "out_for_delivery" => "OutForDelivery".to_string(),
        "delivered" => "Delivered".to_string(),
        "cancelled" => "Cancelled".to_string(),
        "returned" => "Returned".to_string(),
        "partially_returned" => "PartiallyReturned".to_string(),
        other => other.to_string(),
    }
}

impl HubOrder {
    /// When the customer placed it: `placed_at`, else when the hub took it.
    fn created(&self) -> &str {
        self.placed_at.as_deref().unwrap_or(&self.created_at)
    }

    /// Whether it was created at or after `bound`.
    fn created_since(&self, bound: Instant) -> bool {
        Instant::parse_rfc3339(self.created()).is_none_or(|at| at >= bound)
    }

    /// The order in the dialect.
    pub fn to_json(&self, offset: Offset) -> Result<Json, Error> {
        let customer = self.customer.as_ref();
        let total_quantity = self.lines.iter().try_fold(Decimal::ZERO, |sum, l| {
            Ok::<_, Error>(sum + dec(&l.quantity, "lines[].quantity")?)
        })?;
        let shipping = self.shipping.as_ref();
        let cod = self.payments.iter().any(|p| p.kind == "cod");
        let payment_reference = self.payments.iter().find_map(|p| p.reference.clone());
        let items = self
            .lines
            .iter()
            .map(HubLine::to_json)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json::object([
            ("id", Json::int(self.id)),
            ("onlineReferenceNo", Json::str(&self.online_reference_no)),
            (
                "createdAt",
                vendor_time(self.created(), "placed_at", offset)?,
            ),
            (
                "updatedAt",
                vendor_time(&self.updated_at, "updated_at", offset)?,
            ),
            ("status", Json::str(status_name(&self.status))),
            ("billNo", Json::opt_str(self.bill_no.clone())),
            ("locationId", Json::opt_str(self.location.clone())),
            (
                "totalQuantity",
                num(&total_quantity.normalize().to_string(), "lines")?,
            ),
            ("totalAmount", num(&self.total, "total")?),
            ("paymentMode", Json::int(if cod { 1 } else { 2 })),
            ("paymentReference", Json::opt_str(payment_reference)),
            (
                "customerName",
                Json::opt_str(customer.and_then(|c| c.name.clone())),
            ),
            (
                "customerMobile",
                Json::opt_str(customer.and_then(|c| c.phone.clone())),
            ),
            (
                "customerEmail",
                Json::opt_str(customer.and_then(|c| c.email.clone())),
            ),
            (
                "shippingCharge",
                num(
                    shipping.map_or("0.00", |s| s.amount.as_str()),
                    "shipping.amount",
                )?,
            ),
            (
                "shippingMethod",
                Json::opt_str(shipping.and_then(|s| s.method.clone())),
            ),
            ("remarks", Json::opt_str(self.notes.clone())),
            ("orderItems", Json::Array(items)),
        ]))
    }
}

impl HubLine {
    fn to_json(&self) -> Result<Json, Error> {
        let discount = self.discount.as_deref().unwrap_or("0.00");
        Ok(Json::object([
            ("rowNo", Json::int(self.line_no)),
            ("itemReferenceCode", Json::str(&self.reference_code)),
            ("itemId", Json::str(&self.item_code)),
            ("salePrice", num(&self.unit_price, "lines[].unit_price")?),
            ("quantity", num(&self.quantity, "lines[].quantity")?),
            (
                "discountPercentage",
                num(&self.discount_percentage()?, "lines[].discount")?,
            ),
            ("discountAmount", num(discount, "lines[].discount")?),
            ("taxPercentage", num(&self.tax_rate, "lines[].tax_rate")?),
            (
                "taxAmount",
                opt_num(self.tax_amount.as_deref(), "lines[].tax_amount")?,
            ),
            ("itemAmount", num(&self.amount, "lines[].amount")?),
        ]))
    }

    /// `discount / (unit_price × quantity) × 100`, to two places.
    fn discount_percentage(&self) -> Result<String, Error> {
        let discount = match self.discount.as_deref() {
            Some(d) => dec(d, "lines[].discount")?,
            None => Decimal::ZERO,
        };
        let gross = dec(&self.unit_price, "lines[].unit_price")?
            .checked_mul(dec(&self.quantity, "lines[].quantity")?);
        let pct = gross
            .filter(|g| !g.is_zero())
            .and_then(|g| discount.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(g))
            .unwrap_or(Decimal::ZERO)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Ok(format!("{pct:.2}"))
    }
}

/// A created order: `{"status": "success", "result": {"status": "success",
/// "id"}, "salesOrder": {...}}`. `result` is what the vendor answers, and
/// what real clients check (`result.status == "success"`).
pub fn created_order(body: &str, offset: Offset) -> Result<Json, Error> {
    let order: HubOrder = parse(body, "a sales order")?;
    Ok(Json::object([
        ("status", Json::str("success")),
        (
            "result",
            Json::object([
                ("status", Json::str("success")),
                ("id", Json::int(order.id)),
            ]),
        ),
        ("salesOrder", order.to_json(offset)?),
    ]))
}

/// One order: `{"salesOrder": {...}}`.
pub fn one_order(body: &str, offset: Offset) -> Result<Json, Error> {
    let order: HubOrder = parse(body, "a sales order")?;
    Ok(Json::object([("salesOrder", order.to_json(offset)?)]))
}

/// A page of orders: `{"salesOrders": [...], "nextCursor"}`, without the
/// orders created before `created_since` (the hub filtered on update time).
pub fn order_page(
    body: &str,
    offset: Offset,
    created_since: Option<Instant>,
) -> Result<Json, Error> {
    let page: HubOrderPage = parse(body, "a page of sales orders")?;
    let orders = page
        .sales_orders
        .iter()
        .filter(|o| created_since.is_none_or(|bound| o.created_since(bound)))
        .map(|o| o.to_json(offset))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json::object([
        ("salesOrders", Json::Array(orders)),
        ("nextCursor", Json::opt_str(page.next_cursor)),
    ]))
}

/// One `(itemId, locationId)` entry of an items page, as it is gathered.
struct ItemEntry<'a> {
    item: &'a HubItem,
    location: Option<&'a str>,
    stock: Vec<Json>,
}

/// A page of items: one entry per (item, location) with one `stock` entry
/// per variant of the item at that location, in the order the hub listed
/// them. `location` is the query's `locationId`, named on the entries of a
/// variant the hub gave no per-location breakdown for.
pub fn item_page(body: &str, offset: Offset, location: Option<&str>) -> Result<Json, Error> {
    let page: HubItemPage = parse(body, "a page of items")?;
    let mut entries: Vec<ItemEntry> = Vec::new();
    let mut index: BTreeMap<(&str, Option<&str>), usize> = BTreeMap::new();
    for item in &page.items {
        let stocks: Vec<(Option<&str>, &str)> = if item.locations.is_empty() {
            vec![(location, item.available.as_str())]
        } else {
            item.locations
                .iter()
                .map(|l| (Some(l.location.as_str()), l.available.as_str()))
                .collect()
        };
        for (at, available) in stocks {
            let key = (item.item_code.as_str(), at);
            let slot = *index.entry(key).or_insert_with(|| {
                entries.push(ItemEntry {
                    item,
                    location: at,
                    stock: vec![],
                });
                entries.len() - 1
            });
            let stock = stock_entry(item, available, offset)?;
            if let Some(entry) = entries.get_mut(slot) {
                entry.stock.push(stock);
            }
        }
    }
    let items = entries
        .into_iter()
        .map(|e| {
            Json::object([
                ("itemId", Json::str(&e.item.item_code)),
                ("itemName", Json::str(&e.item.name)),
                ("locationId", Json::opt_str(e.location)),
                ("stock", Json::Array(e.stock)),
            ])
        })
        .collect();
    Ok(Json::object([
        ("items", Json::Array(items)),
        ("nextCursor", Json::opt_str(page.next_cursor)),
    ]))
}

/// One variant's stock at one location.
fn stock_entry(item: &HubItem, available: &str, offset: Offset) -> Result<Json, Error> {
    Ok(Json::object([
        ("stock", num(available, "items[].locations[].available")?),
        ("mrp", opt_num(item.mrp.as_deref(), "items[].mrp")?),
        (
            "salePrice",
            opt_num(item.price.as_deref(), "items[].price")?,
        ),
        ("itemReferenceCode", Json::str(&item.reference_code)),
        ("taxPercentage", num(&item.tax_rate, "items[].tax_rate")?),
        (
            "itemTimeStamp",
            vendor_time(&item.updated_at, "items[].updated_at", offset)?,
        ),
        (
            "attributes",
            Json::from_value(&Value::Object(item.attributes.clone())),
        ),
    ]))
}
