//! A template connector for a made-up storefront, "Acme Shop". Copy it, rename
//! it, and change the payload shapes to your platform's.
//!
//! Acme posts orders as `{"id", "phone", "email", "items": [{"sku", "qty",
//! "price"}], "shipping_fee", "payment": "cod" | "card", "total"}` to the topic
//! `order.placed`, signed with HMAC-SHA256 (hex) in `X-Acme-Signature`, and
//! takes stock updates as `PUT {base_url}/api/stock/{sku}` with
//! `{"quantity": N}`.

use poshub_connector_sdk::*;
use serde::Deserialize;
use serde_json::json;

struct Acme;

#[derive(Deserialize)]
struct AcmeOrder {
    id: serde_json::Value,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    items: Vec<AcmeItem>,
    #[serde(default)]
    shipping_fee: Option<serde_json::Value>,
    payment: String,
    total: serde_json::Value,
}

#[derive(Deserialize)]
struct AcmeItem {
    sku: String,
    qty: serde_json::Value,
    price: serde_json::Value,
}

/// An amount from Acme's JSON (string or number), exactly.
fn amount(v: &serde_json::Value, field: &str) -> Result<String, Error> {
    let raw = decimal(v).ok_or_else(|| invalid_input(format!("{field} is not a number")))?;
    money(&raw)
}

impl Connector for Acme {
    fn describe() -> ConnectorInfo {
        info("acme", env!("CARGO_PKG_VERSION"), "Acme Shop")
            .topic("order.placed", "a new order")
            .host("*.acme.example")
            .config_schema(json!({
                "type": "object",
                "required": ["webhook_secret", "base_url"],
                "properties": {
                    "webhook_secret": {"type": "string", "writeOnly": true},
                    "base_url": {"type": "string", "format": "uri"}
                }
            }))
            .build()
    }

    fn webhook_auth(topic: &str) -> Result<WebhookAuth, Error> {
        match topic {
            "order.placed" => Ok(WebhookAuth {
                scheme: SignatureScheme::HmacSha256,
                header: "X-Acme-Signature".into(),
                encoding: SignatureEncoding::Hex,
            }),
            other => Err(unsupported(format!("Acme has no topic `{other}`"))),
        }
    }

    fn translate_webhook(
        _: &CallContext,
        topic: &str,
        _: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        if topic != "order.placed" {
            return Err(unsupported(format!("Acme has no topic `{topic}`")));
        }
        let o: AcmeOrder = parse_json(body)?;
        let mut lines = Vec::new();
        for (i, item) in o.items.iter().enumerate() {
            lines.push(OrderLine {
                // Acme's SKUs are the hub's reference codes.
                reference_code: Some(item.sku.clone()),
                external_id: None,
                sku: Some(item.sku.clone()),
                title: None,
                quantity: decimal(&item.qty)
                    .ok_or_else(|| invalid_input(format!("items[{i}].qty is not a number")))?,
                unit_price: amount(&item.price, &format!("items[{i}].price"))?,
                discount: None,
                tax_rate: None,
                tax_amount: None,
            });
        }
        let total = amount(&o.total, "total")?;
        let kind = if o.payment == "cod" { "cod" } else { "prepaid" };
        log(
            Level::Info,
            &format!("Acme order {} with {} lines", o.id, lines.len()),
        );
        Ok(vec![Document::Order(Order {
            online_reference_no: format!("ACME-{}", o.id.to_string().trim_matches('"')),
            location: None,
            customer: Some(Customer {
                name: None,
                phone: phone_hint([o.phone.as_deref()]),
                email: o.email,
                address: None,
            }),
            lines,
            shipping: match &o.shipping_fee {
                Some(fee) => Some(Shipping {
                    amount: amount(fee, "shipping_fee")?,
                    tax: None,
                    method: None,
                    address: None,
                }),
                None => None,
            },
            charges: vec![],
            payments: vec![Payment {
                kind: kind.into(),
                amount: total.clone(),
                reference: None,
            }],
            total,
            // Acme shops sell in one currency, the store's.
            currency: None,
            // Acme's prices are written as the store is set up in the hub.
            prices_include_tax: None,
            test: false,
            placed_at: None,
            notes: None,
        })])
    }

    fn plan_change(ctx: &CallContext, change: &PendingChange) -> Result<Vec<HttpRequest>, Error> {
        let base = require_config(ctx, "base_url")?.trim_end_matches('/');
        match &change.change {
            Change::Stock(s) => Ok(vec![json_request(
                "PUT",
                format!("{base}/api/stock/{}", s.reference_code),
                &json!({"quantity": s.available}),
                vec![],
            )]),
            _ => Err(unsupported("Acme only takes stock updates")),
        }
    }
}

register!(Acme);
