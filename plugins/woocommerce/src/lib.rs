//! The WooCommerce connector (`woocommerce`).
//!
//! Inbound, it translates WooCommerce order webhooks (REST API v3 order JSON,
//! signed with HMAC-SHA256 of the store's `webhook_secret`, base64, in
//! `X-WC-Webhook-Signature`):
//!
//! - `order.created`: one `order` document ([`order`]);
//! - `order.updated`: the same `order` (the hub ignores an order it already
//!   has) plus a `cancellation` or `refund`s when the status says so
//!   ([`events`]);
//! - `order.deleted`: a `cancellation` of the order.
//!
//! WooCommerce also posts the unsigned, form-encoded body `webhook_id=N` when a
//! webhook is created; that ping becomes no documents at all.
//!
//! Outbound ([`push`]), it plans WooCommerce REST API v3 calls against the
//! store's `base_url`: stock and regular price of products and variations
//! through the batch endpoints (up to 100 a request: simple products
//! together, variations per parent product), and order status. The host adds HTTP basic authentication from the
//! store's `consumer_key` and `consumer_secret`, which never reach the plugin.
//!
//! WooCommerce line amounts exclude tax whatever the shop's "prices entered
//! with tax" setting, so a WooCommerce store is configured in the hub with
//! `prices_include_tax = false`. See `README.md` for every mapping rule.

use poshub_connector_sdk::*;
use serde_json::json;

mod amounts;
mod events;
mod order;
mod payload;
mod push;

/// The WooCommerce connector.
pub struct WooCommerce;

/// The header WooCommerce signs its webhook bodies in.
const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";

/// The webhook topics this connector translates.
const TOPICS: &[(&str, &str)] = &[
    ("order.created", "a new order: one order document"),
    (
        "order.updated",
        "an order changed: the order, plus a cancellation (status cancelled) or refunds (status refunded)",
    ),
    ("order.deleted", "an order was deleted: a cancellation"),
];

fn config_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "required": ["base_url", "consumer_key", "consumer_secret", "webhook_secret"],
        "properties": {
            "webhook_secret": {
                "type": "string",
                "description": "The webhook's secret in WooCommerce (HMAC-SHA256 key of X-WC-Webhook-Signature, base64)",
                "writeOnly": true
            },
            "base_url": {
                "type": "string",
                "format": "uri",
                "description": "The shop's site URL, e.g. https://shop.example.com; REST calls go to {base_url}/wp-json/wc/v3/..."
            },
            "consumer_key": {
                "type": "string",
                "description": "REST API consumer key (read/write), sent as the basic-auth user",
                "writeOnly": true
            },
            "consumer_secret": {
                "type": "string",
                "description": "REST API consumer secret, sent as the basic-auth password",
                "writeOnly": true
            },
            "location": {
                "type": "string",
                "description": "Hub location code the shop's orders are fulfilled from (optional: the store's only location when absent)"
            },
            "batch_items": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "description": "Stock levels or prices per WooCommerce batch request (optional, default 100, WooCommerce's own limit): lower it for a shop whose woocommerce_rest_batch_items_limit filter is lower, or whose host times out saving 100 products in one request"
            }
        }
    })
}

/// True for WooCommerce's webhook ping: the form-encoded body `webhook_id=N`
/// it posts once when a webhook is created.
fn is_ping(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let text = text.trim();
    !text.starts_with('{')
        && text
            .split('&')
            .any(|pair| pair.split_once('=').is_some_and(|(k, _)| k == "webhook_id"))
}

impl Connector for WooCommerce {
    fn describe() -> ConnectorInfo {
        let mut info = info("woocommerce", env!("CARGO_PKG_VERSION"), "WooCommerce");
        for (name, description) in TOPICS {
            info = info.topic(name, description);
        }
        // Shops live on their own domains; the host still only sends to the
        // host of the store's `base_url`.
        // Stock and prices go through WooCommerce's batch endpoints, up to
        // their limit of 100 items a request; an order's status is a
        // request of its own.
        info.host("*")
            .config_schema(config_schema())
            .basic_auth("consumer_key", "consumer_secret")
            .push_limits(push::BATCH_LIMIT, push::BATCH_LIMIT, 1)
            .build()
    }

    fn webhook_auth(topic: &str) -> Result<WebhookAuth, Error> {
        if TOPICS.iter().any(|(name, _)| *name == topic) {
            Ok(hmac_sha256_base64(SIGNATURE_HEADER))
        } else {
            Err(unsupported(format!(
                "no WooCommerce webhook topic `{topic}`"
            )))
        }
    }

    fn translate_webhook(
        ctx: &CallContext,
        topic: &str,
        _: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        if !TOPICS.iter().any(|(name, _)| *name == topic) {
            return Err(unsupported(format!(
                "no WooCommerce webhook topic `{topic}`"
            )));
        }
        if is_ping(body) {
            log(
                Level::Info,
                &format!("{topic}: WooCommerce webhook ping, nothing to do"),
            );
            return Ok(vec![]);
        }
        match topic {
            "order.created" => {
                let o: payload::WcOrder = parse_json(body)?;
                Ok(vec![Document::Order(order::translate(ctx, &o)?)])
            }
            "order.updated" => events::updated(ctx, &parse_json(body)?),
            _ => events::deleted(&parse_json(body)?),
        }
    }

    fn plan_push(
        ctx: &CallContext,
        _key: &str,
        changes: &[PendingChange],
    ) -> Result<PushPlan, Error> {
        Ok(push::plan_push(ctx, changes))
    }

    fn interpret_response(
        _: &CallContext,
        _key: &str,
        changes: &[PendingChange],
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Result<Reading, Error> {
        if push::is_batch(request) {
            return Ok(Reading::of(push::interpret_batch(
                changes, request, response,
            )));
        }
        Ok(Reading::of(
            changes
                .iter()
                .map(|p| push::interpret(&p.change, request, response))
                .collect(),
        ))
    }
}

register!(WooCommerce);

#[cfg(test)]
mod tests {
    use super::is_ping;

    #[test]
    fn recognises_the_webhook_ping() {
        assert!(is_ping(b"webhook_id=12"));
        assert!(is_ping(b"webhook_id=12&other=1\n"));
        assert!(!is_ping(br#"{"id":12,"webhook_id":"x=1"}"#));
        assert!(!is_ping(b"id=12"));
        assert!(!is_ping(&[0xff, 0xfe]));
    }
}
