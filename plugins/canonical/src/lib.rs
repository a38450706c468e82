//! The canonical connector (`canonical`): a storefront that already speaks
//! the hub's own JSON. Its webhook `orders/create` takes exactly the body of
//! `POST /api/v1/sales-orders`; `orders/cancelled` takes
//! `{"online_reference_no", "reason"}`; `refunds/create` takes
//! `{"online_reference_no", "refund_id", "lines": [{"reference_code",
//! "quantity"}], "amount", "reason", "restock"}`. Pushes go to the store's `base_url`
//! as the hub's own JSON. Bodies are signed with HMAC-SHA256 of the store's
//! `webhook_secret`, base64, in `X-Poshub-Signature`.

use poshub_connector_sdk::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub struct Canonical;

/// The hub's order body (store API v1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    online_reference_no: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    customer: Option<CustomerBody>,
    lines: Vec<LineBody>,
    #[serde(default)]
    shipping: Option<ShippingBody>,
    #[serde(default)]
    charges: Vec<ChargeBody>,
    #[serde(default)]
    payments: Vec<PaymentBody>,
    total: String,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    prices_include_tax: Option<bool>,
    #[serde(default)]
    test: bool,
    #[serde(default)]
    placed_at: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    address: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineBody {
    reference_code: String,
    quantity: String,
    unit_price: String,
    #[serde(default)]
    discount: Option<String>,
    #[serde(default)]
    tax_rate: Option<String>,
    #[serde(default)]
    tax_amount: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippingBody {
    amount: String,
    #[serde(default)]
    tax: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    address: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChargeBody {
    kind: String,
    #[serde(default)]
    title: Option<String>,
    amount: String,
    #[serde(default)]
    tax: Option<String>,
}

/// A charge kind as the store API writes it.
fn charge_kind(kind: &str) -> Result<ChargeKind, Error> {
    Ok(match kind {
        "gift_card" => ChargeKind::GiftCard,
        "tip" => ChargeKind::Tip,
        "custom" => ChargeKind::Custom,
        "fee" => ChargeKind::Fee,
        "duty" => ChargeKind::Duty,
        other => {
            return Err(invalid_input(format!(
                "charge kind `{other}` is not one of gift_card, tip, custom, fee, duty"
            )))
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    #[serde(rename = "type")]
    kind: String,
    amount: String,
    #[serde(default)]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    online_reference_no: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    online_reference_no: String,
    refund_id: String,
    #[serde(default)]
    lines: Vec<RefundLineBody>,
    #[serde(default)]
    amount: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default = "yes")]
    restock: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundLineBody {
    #[serde(default)]
    reference_code: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    quantity: String,
}

fn yes() -> bool {
    true
}

fn address(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// Translates the hub's own order JSON into the canonical order record.
pub fn translate_order(body: &[u8]) -> Result<Order, Error> {
    let o: OrderBody = parse_json(body)?;
    Ok(Order {
        online_reference_no: o.online_reference_no,
        location: o.location,
        customer: o.customer.map(|c| Customer {
            name: c.name,
            phone: phone_hint([c.phone.as_deref()]).or(c.phone),
            email: c.email,
            address: address(c.address),
        }),
        lines: o
            .lines
            .into_iter()
            .map(|l| OrderLine {
                reference_code: Some(l.reference_code),
                external_id: None,
                sku: None,
                title: None,
                quantity: l.quantity,
                unit_price: l.unit_price,
                discount: l.discount,
                tax_rate: l.tax_rate,
                tax_amount: l.tax_amount,
            })
            .collect(),
        shipping: o.shipping.map(|s| Shipping {
            amount: s.amount,
            tax: s.tax,
            method: s.method,
            address: address(s.address),
        }),
        payments: o
            .payments
            .into_iter()
            .map(|p| Payment {
                kind: p.kind,
                amount: p.amount,
                reference: p.reference,
            })
            .collect(),
        charges: o
            .charges
            .into_iter()
            .map(|c| {
                Ok(Charge {
                    kind: charge_kind(&c.kind)?,
                    title: c.title,
                    amount: c.amount,
                    tax: c.tax,
                })
            })
            .collect::<Result<_, Error>>()?,
        total: o.total,
        currency: o.currency,
        prices_include_tax: o.prices_include_tax,
        test: o.test,
        placed_at: o.placed_at,
        notes: o.notes,
    })
}

#[derive(Serialize)]
struct StockPush<'a> {
    reference_code: &'a str,
    external_id: Option<&'a str>,
    location: &'a str,
    available: &'a str,
}

fn status_name(s: OrderStatus) -> &'static str {
    match s {
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

impl Connector for Canonical {
    fn describe() -> ConnectorInfo {
        info("canonical", env!("CARGO_PKG_VERSION"), "poshub")
            .topic("orders/create", "a new order, the body of POST /api/v1/sales-orders")
            .topic("orders/cancelled", "{\"online_reference_no\", \"reason\"}: the storefront cancelled an order")
            .topic("refunds/create", "{\"online_reference_no\", \"refund_id\", \"lines\", \"amount\", \"reason\", \"restock\"}: goods or money went back")
            // Pushes go wherever the merchant points `base_url`.
            .host("*")
            .config_schema(json!({
                "type": "object",
                "properties": {
                    "webhook_secret": {"type": "string", "description": "HMAC-SHA256 key for X-Poshub-Signature (base64)", "writeOnly": true},
                    "base_url": {"type": "string", "format": "uri", "description": "Where stock, price and status pushes go"}
                }
            }))
            .build()
    }

    fn webhook_auth(topic: &str) -> Result<WebhookAuth, Error> {
        match topic {
            "orders/create" | "orders/cancelled" | "refunds/create" => {
                Ok(hmac_sha256_base64("X-Poshub-Signature"))
            }
            other => Err(unsupported(format!("no webhook topic `{other}`"))),
        }
    }

    fn translate_webhook(
        _: &CallContext,
        topic: &str,
        _: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        match topic {
            "orders/create" => Ok(vec![Document::Order(translate_order(body)?)]),
            "orders/cancelled" => {
                let c: CancelBody = parse_json(body)?;
                Ok(vec![Document::Cancellation(Cancellation {
                    online_reference_no: c.online_reference_no,
                    reason: c.reason,
                })])
            }
            "refunds/create" => {
                let r: RefundBody = parse_json(body)?;
                Ok(vec![Document::Refund(Refund {
                    online_reference_no: r.online_reference_no,
                    refund_id: r.refund_id,
                    lines: r
                        .lines
                        .into_iter()
                        .map(|l| ReturnLine {
                            reference_code: l.reference_code,
                            external_id: l.external_id,
                            quantity: l.quantity,
                        })
                        .collect(),
                    amount: r.amount,
                    reason: r.reason,
                    restock: r.restock,
                })])
            }
            other => Err(unsupported(format!("no webhook topic `{other}`"))),
        }
    }

    fn plan_change(ctx: &CallContext, change: &PendingChange) -> Result<Vec<HttpRequest>, Error> {
        let base = require_config(ctx, "base_url")?.trim_end_matches('/');
        Ok(vec![match &change.change {
            Change::Stock(s) => json_request(
                "POST",
                format!("{base}/poshub/stock-levels"),
                &StockPush {
                    reference_code: &s.reference_code,
                    external_id: s.external_id.as_deref(),
                    location: &s.location,
                    available: &s.available,
                },
                vec![],
            ),
            Change::Price(p) => json_request(
                "POST",
                format!("{base}/poshub/prices"),
                &json!({"reference_code": p.reference_code, "external_id": p.external_id, "price": p.price, "mrp": p.mrp}),
                vec![],
            ),
            Change::Status(s) => json_request(
                "POST",
                format!("{base}/poshub/orders/status"),
                &json!({"order_id": s.order_id, "online_reference_no": s.online_reference_no,
                        "status": status_name(s.status), "carrier": s.carrier, "tracking_number": s.tracking_number}),
                vec![],
            ),
        }])
    }
}

register!(Canonical);
