//! The Vendure connector (`vendure`).
//!
//! Vendure sends no webhooks of its own; the connector's Vendure plugin
//! (`vendure-plugin/`, added to the merchant's `vendure-config.ts`)
//! subscribes to Vendure's order events and posts them to
//! `/hooks/{store}/{topic}`, signed with the store's `webhook_secret`
//! (base64 HMAC-SHA256 of the raw body in `X-Poshub-Hmac-Sha256`, verified
//! by the host). Each body is `{"event", "eventId", "occurredAt", "order",
//! "refund"?}` with the order in the Admin API's field names and money in
//! Vendure's integer minor units:
//!
//! | topic | Vendure event | documents |
//! | --- | --- | --- |
//! | `orders/placed` | `OrderPlacedEvent` | an order ([`order`]) |
//! | `orders/cancelled` | `OrderStateTransitionEvent` to `Cancelled` | a cancellation |
//! | `refunds/settled` | `RefundStateTransitionEvent` to `Settled` | a refund of money |
//!
//! Outbound ([`push`]), stock levels, prices, fulfilments and
//! cancellations go to the Admin API (`{base_url}/admin-api`), with the
//! store's `api_key` in `vendure-api-key` or its `auth_token` as a bearer
//! token, added by the host. See README.md for every mapping rule and what
//! real Vendure taught us.

use poshub_connector_sdk::*;
use serde_json::Value;

mod config;
mod graphql;
mod json;
mod money;
mod order;
mod push;

use config::OrderSettings;

/// The header the connector's Vendure plugin signs bodies in.
pub const SIGNATURE_HEADER: &str = "X-Poshub-Hmac-Sha256";

/// The webhook topics and what each carries.
const TOPICS: &[(&str, &str)] = &[
    (
        "orders/placed",
        "an order was placed (OrderPlacedEvent): the order",
    ),
    (
        "orders/cancelled",
        "an order moved to Cancelled in Vendure: its cancellation",
    ),
    (
        "refunds/settled",
        "a refund was settled in Vendure: money back on the order",
    ),
];

pub struct Vendure;

impl Connector for Vendure {
    fn describe() -> ConnectorInfo {
        TOPICS
            .iter()
            .fold(
                info("vendure", env!("CARGO_PKG_VERSION"), "Vendure"),
                |builder, (name, description)| builder.topic(name, description),
            )
            // Vendure is self-hosted: the host still only sends to the
            // host of the store's `base_url`.
            .host("*")
            .config_schema(config::schema())
            .secret_header("vendure-api-key", "api_key")
            .bearer("auth_token")
            .push_limits(push::VARIANTS_PER_REQUEST, push::VARIANTS_PER_REQUEST, 1)
            .push_concurrency(2)
            .build()
    }

    fn webhook_auth(topic: &str) -> Result<WebhookAuth, Error> {
        if TOPICS.iter().any(|(name, _)| *name == topic) {
            Ok(hmac_sha256_base64(SIGNATURE_HEADER))
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
        let order = body
            .get("order")
            .filter(|o| o.is_object())
            .ok_or_else(|| invalid_input(format!("a {topic} body has an `order` object")))?;
        match topic {
            "orders/placed" => {
                let settings = OrderSettings::read(ctx)?;
                Ok(vec![Document::Order(order::translate(order, &settings)?)])
            }
            "orders/cancelled" => Ok(vec![Document::Cancellation(Cancellation {
                online_reference_no: json::required_text(order, "code", "the order")?.to_string(),
                reason: json::text(&body, "cancellationReason")
                    .or_else(|| json::text(order, "cancellationReason"))
                    .map(str::to_string),
            })]),
            "refunds/settled" => Ok(vec![Document::Refund(refund(ctx, &body, order)?)]),
            other => Err(unsupported(format!("no webhook topic `{other}`"))),
        }
    }

    fn plan_push(ctx: &CallContext, _: &str, changes: &[PendingChange]) -> Result<PushPlan, Error> {
        push::plan(ctx, changes)
    }

    fn interpret_response(
        ctx: &CallContext,
        _: &str,
        changes: &[PendingChange],
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Result<Reading, Error> {
        push::interpret(ctx, changes, request, response)
    }
}

/// A settled refund: money back on the order. Vendure's refunds move no
/// stock (its cancellations do), so no lines come back and nothing is
/// restocked.
fn refund(ctx: &CallContext, body: &Value, order: &Value) -> Result<Refund, Error> {
    let refund = body
        .get("refund")
        .filter(|r| r.is_object())
        .ok_or_else(|| invalid_input("a refunds/settled body has a `refund` object"))?;
    let precision = config::money_precision(ctx)?;
    Ok(Refund {
        online_reference_no: json::required_text(order, "code", "the order")?.to_string(),
        refund_id: refund
            .get("id")
            .and_then(json::id)
            .ok_or_else(|| invalid_input("the refund has no id"))?,
        lines: vec![],
        amount: Some(money::shown(money::amount(
            refund,
            "total",
            "the refund",
            precision,
        )?)),
        reason: json::text(refund, "reason").map(str::to_string),
        restock: false,
    })
}

register!(Vendure);
