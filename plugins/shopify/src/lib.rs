//! The Shopify connector (`shopify`).
//!
//! Inbound, Shopify's webhooks (signed with the app secret: base64
//! HMAC-SHA256 of the raw body in `X-Shopify-Hmac-Sha256`, verified by the
//! host) become canonical documents:
//!
//! | topic | documents |
//! | --- | --- |
//! | `orders/create`, `orders/paid` | an order |
//! | `orders/updated` | the order, a refund per element of `refunds`, a cancellation when `cancelled_at` is set |
//! | `orders/cancelled` | a cancellation (`cancel_reason`) |
//! | `refunds/create` | a refund |
//! | `products/create`, `products/update` | per variant a price and a stock level |
//! | `inventory_levels/update` | a stock level |
//!
//! An order's `online-reference-no` is Shopify's numeric order `id`, so the
//! hub's dedupe makes `orders/paid` after `orders/create` (or a redelivery)
//! harmless. Outbound, stock, prices and order statuses become GraphQL Admin
//! API requests (see [`push`]), batched and paced by the store's cost budget. The connector is a pure translator: no network,
//! clock or secrets; see README.md for every mapping rule.

use poshub_connector_sdk::*;
use serde_json::Value;

mod catalog;
mod config;
mod graphql;
mod json;
mod order;
mod push;
mod refund;

use config::OrderSettings;

/// The webhook topics and what each carries.
const TOPICS: &[(&str, &str)] = &[
    ("orders/create", "a new order"),
    (
        "orders/paid",
        "an order was paid (the same order again: deduplicated by id)",
    ),
    (
        "orders/updated",
        "an order changed: the order, its refunds, and its cancellation when cancelled",
    ),
    ("orders/cancelled", "an order was cancelled"),
    ("refunds/create", "money or goods came back on an order"),
    (
        "products/create",
        "a new product: its variants' prices and stock (informational)",
    ),
    (
        "products/update",
        "a product changed: its variants' prices and stock (informational)",
    ),
    (
        "inventory_levels/update",
        "an inventory item's available stock at a location (informational)",
    ),
];

pub struct Shopify;

impl Connector for Shopify {
    fn describe() -> ConnectorInfo {
        TOPICS
            .iter()
            .fold(
                info("shopify", env!("CARGO_PKG_VERSION"), "Shopify"),
                |builder, (name, description)| builder.topic(name, description),
            )
            .host("*.myshopify.com")
            .config_schema(config::schema())
            .secret_header("X-Shopify-Access-Token", "access_token")
            .push_limits(push::STOCK_PER_REQUEST, push::PRICES_PER_REQUEST, 1)
            .push_concurrency(2)
            .build()
    }

    fn webhook_auth(topic: &str) -> Result<WebhookAuth, Error> {
        if TOPICS.iter().any(|(name, _)| *name == topic) {
            Ok(hmac_sha256_base64("X-Shopify-Hmac-Sha256"))
        } else {
            Err(unsupported(format!("no webhook topic `{topic}`")))
        }
    }

    fn translate_webhook(
        ctx: &CallContext,
        topic: &str,
        _: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        let body: Value = parse_json(body)?;
        if !body.is_object() {
            return Err(invalid_input(format!(
                "a {topic} body must be a JSON object, not `{}`",
                json::shown(&body)
            )));
        }
        match topic {
            "orders/create" | "orders/paid" => {
                let settings = OrderSettings::read(ctx)?;
                Ok(vec![Document::Order(order::translate(&body, &settings)?)])
            }
            "orders/updated" => order_updated(ctx, &body),
            "orders/cancelled" => Ok(vec![Document::Cancellation(cancellation(&body)?)]),
            "refunds/create" => Ok(vec![Document::Refund(refund::translate(&body, None)?)]),
            "products/create" | "products/update" => catalog::product(&body),
            "inventory_levels/update" => catalog::inventory_level(&body),
            other => Err(unsupported(format!("no webhook topic `{other}`"))),
        }
    }

    fn plan_push(
        ctx: &CallContext,
        key: &str,
        changes: &[PendingChange],
    ) -> Result<PushPlan, Error> {
        push::plan(ctx, key, changes)
    }

    fn interpret_response(
        ctx: &CallContext,
        key: &str,
        changes: &[PendingChange],
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Result<Reading, Error> {
        push::interpret(ctx, key, changes, request, response)
    }
}

/// `orders/updated`: the order (ignored by the hub when it already has it),
/// each of its refunds (ignored when already seen), and a cancellation when
/// the order is cancelled.
fn order_updated(ctx: &CallContext, body: &Value) -> Result<Vec<Document>, Error> {
    let settings = OrderSettings::read(ctx)?;
    let order = order::translate(body, &settings)?;
    let order_id = order.online_reference_no.clone();
    let mut docs = vec![Document::Order(order)];
    for (i, r) in json::list(body, "refunds").iter().enumerate() {
        let refund = refund::translate(r, Some(&order_id))
            .map_err(|e| invalid_input(format!("refunds[{i}]: {}", e.message)))?;
        docs.push(Document::Refund(refund));
    }
    if json::get(body, "cancelled_at").is_some() {
        docs.push(Document::Cancellation(cancellation(body)?));
    }
    Ok(docs)
}

/// An order's cancellation, with Shopify's `cancel_reason` (`customer`,
/// `fraud`, `inventory`, `declined`, `other`).
fn cancellation(order: &Value) -> Result<Cancellation, Error> {
    Ok(Cancellation {
        online_reference_no: json::required_id(order, "id", "the order")?,
        reason: json::text(order, "cancel_reason").map(str::to_string),
    })
}

register!(Shopify);
