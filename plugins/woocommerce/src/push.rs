//! Outbound: the WooCommerce REST API v3 calls that carry the hub's changes,
//! and what WooCommerce's answers mean.
//!
//! URLs are built from the store's `base_url` (trailing `/` trimmed); the
//! host adds basic authentication from `consumer_key` / `consumer_secret`.
//!
//! - stock: `PUT {base}/wp-json/wc/v3/products/{id}` or, for a variation
//!   (the mapping has its parent product), `.../products/{parent}/variations/{id}`
//!   with `{"manage_stock": true, "stock_quantity": N}` (whole units, rounded
//!   down);
//! - price: the same URLs with `{"regular_price": "199.00"}`;
//! - status: `PUT {base}/wp-json/wc/v3/orders/{id}` with `{"status": S}`:
//!   billed -> `processing`, delivered -> `completed`, cancelled ->
//!   `cancelled`, returned -> `refunded`. Pending, ready, shipped, out for
//!   delivery and partially returned send nothing: WooCommerce's own
//!   statuses have no such step (an order stays `processing` until it is
//!   completed; tracking numbers need a shipment-tracking extension whose
//!   API differs per extension), and a partial refund is made in
//!   WooCommerce itself.

use std::str::FromStr;

use poshub_connector_sdk::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::json;

/// The REST API root under the site URL.
const API: &str = "wp-json/wc/v3";

/// The requests that tell WooCommerce about a change.
pub fn plan(ctx: &CallContext, change: &Change) -> Result<Vec<HttpRequest>, Error> {
    let base = require_config(ctx, "base_url")?
        .trim()
        .trim_end_matches('/');
    match change {
        Change::Stock(s) => Ok(vec![stock(base, s)?]),
        Change::Price(p) => Ok(vec![price(base, p)?]),
        Change::Status(s) => Ok(status(base, s)?.into_iter().collect()),
    }
}

/// Stock of a product or variation, in whole units.
fn stock(base: &str, s: &StockLevel) -> Result<HttpRequest, Error> {
    let url = product_url(
        base,
        &s.reference_code,
        s.external_id.as_deref(),
        s.external_parent_id.as_deref(),
    )?;
    let not_a_level = || {
        invalid_input(format!(
            "stock of `{}`: `{}` is not a whole-unit level WooCommerce can take",
            s.reference_code, s.available
        ))
    };
    let available = s.available.trim();
    if !is_plain_decimal(available) {
        return Err(not_a_level());
    }
    // WooCommerce counts whole units: a fractional level is rounded down so
    // that the shop never sells what the hub does not have.
    let units = Decimal::from_str(available)
        .ok()
        .and_then(|d| d.floor().to_i64())
        .ok_or_else(not_a_level)?;
    Ok(json_request(
        "PUT",
        url,
        &json!({"manage_stock": true, "stock_quantity": units}),
        vec![],
    ))
}

/// The regular price of a product or variation (WooCommerce prices are strings).
fn price(base: &str, p: &Price) -> Result<HttpRequest, Error> {
    let url = product_url(
        base,
        &p.reference_code,
        p.external_id.as_deref(),
        p.external_parent_id.as_deref(),
    )?;
    let price = money(&p.price)
        .ok()
        .filter(|m| !m.starts_with('-'))
        .ok_or_else(|| {
            invalid_input(format!(
                "price of `{}`: `{}` is not an amount",
                p.reference_code, p.price
            ))
        })?;
    Ok(json_request(
        "PUT",
        url,
        &json!({"regular_price": price}),
        vec![],
    ))
}

/// The order status WooCommerce should show, if any.
fn status(base: &str, s: &StatusChange) -> Result<Option<HttpRequest>, Error> {
    let target = match s.status {
        OrderStatus::Billed => "processing",
        OrderStatus::Delivered => "completed",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Returned => "refunded",
        // Nothing in WooCommerce says "accepted", "packed", "handed to a
        // carrier", "on its way" or "some lines returned": the order stays
        // `processing` until it is completed.
        OrderStatus::Pending
        | OrderStatus::Ready
        | OrderStatus::Shipped
        | OrderStatus::OutForDelivery
        | OrderStatus::PartiallyReturned => return Ok(None),
    };
    let id = s.online_reference_no.trim();
    if !is_id(id) {
        return Err(invalid_input(format!(
            "order {}: `{}` is not a WooCommerce order id (digits), so its status cannot be sent",
            s.order_id, s.online_reference_no
        )));
    }
    Ok(Some(json_request(
        "PUT",
        format!("{base}/{API}/orders/{id}"),
        &json!({"status": target}),
        vec![],
    )))
}

/// The URL of a mapped product, or of a variation when the mapping names
/// its parent product.
fn product_url(
    base: &str,
    reference_code: &str,
    external_id: Option<&str>,
    parent_id: Option<&str>,
) -> Result<String, Error> {
    let id = external_id
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            config_error(format!(
                "`{reference_code}` has no WooCommerce product or variation id in the store's mapping"
            ))
        })?;
    let id = mapped_id(reference_code, "product or variation id", id)?;
    match parent_id.map(str::trim).filter(|p| !p.is_empty()) {
        Some(parent) => {
            let parent = mapped_id(reference_code, "parent product id", parent)?;
            Ok(format!("{base}/{API}/products/{parent}/variations/{id}"))
        }
        None => Ok(format!("{base}/{API}/products/{id}")),
    }
}

/// A mapped WooCommerce id: digits only, so it cannot change the URL's path.
fn mapped_id<'a>(reference_code: &str, what: &str, id: &'a str) -> Result<&'a str, Error> {
    if is_id(id) {
        Ok(id)
    } else {
        Err(config_error(format!(
            "the store's mapping of `{reference_code}` has {what} `{id}`, which is not a WooCommerce id (digits)"
        )))
    }
}

fn is_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// What WooCommerce's answer means: the usual reading, except that a 404 on
/// a product or variation means the store's mapping is stale, and 401/403
/// mean the REST API key is wrong.
pub fn interpret(change: &Change, request: &HttpRequest, response: &HttpResponse) -> ChangeOutcome {
    let status = response.status;
    let reference_code = match change {
        Change::Stock(s) => Some(&s.reference_code),
        Change::Price(p) => Some(&p.reference_code),
        Change::Status(_) => None,
    };
    match (status, reference_code) {
        (404, Some(code)) => ChangeOutcome::Failed(upstream(
            format!(
                "WooCommerce has no product at {} (404): the store's mapping of `{code}` points at a product that no longer exists; map it to the current product or variation",
                request.url
            ),
            false,
        )),
        (401 | 403, _) => ChangeOutcome::Failed(config_error(format!(
            "WooCommerce refused the REST API key ({status}): check the store's consumer_key and consumer_secret, that the key has read/write permission, and that base_url is https (WooCommerce takes basic auth only over HTTPS)"
        ))),
        _ => default_outcome(response),
    }
}
