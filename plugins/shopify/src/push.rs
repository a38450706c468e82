//! Outbound: the Admin API requests that tell Shopify about a change in
//! the hub, and what Shopify's answers mean.
//!
//! * stock -> `POST inventory_levels/set.json` (whole units: the floor of a
//!   fractional level);
//! * price -> `PUT variants/{id}.json`;
//! * shipped -> `GET orders/{id}/fulfillment_orders.json`, then (in
//!   [`interpret`]) `POST fulfillments.json` with the carrier and tracking
//!   number for the fulfillment orders still open;
//! * delivered -> the same; an order shipped before has no open
//!   fulfillment order left, so nothing more is sent (Shopify learns of
//!   the delivery from the carrier's tracking);
//! * cancelled -> `POST orders/{id}/cancel.json`;
//! * other statuses (pending, billed, ready, out for delivery, returned,
//!   partially returned) -> nothing: Shopify has no such order state, and
//!   refunds are made in Shopify itself.
//!
//! The host adds `X-Shopify-Access-Token` from the store's secret.

use poshub_connector_sdk::{
    config_error, default_outcome, invalid_input, json_request, log, money, upstream, CallContext,
    Change, ChangeOutcome, Error, Header, HttpRequest, HttpResponse, Level, OrderStatus,
    PendingChange, PlannedRequest, Price, Reading, StatusChange, StockLevel,
};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Map, Value};

use crate::config::admin_base;
use crate::json::{get, list, text, to_decimal};

/// The requests for a change.
pub fn plan(ctx: &CallContext, change: &Change) -> Result<Vec<HttpRequest>, Error> {
    let admin = admin_base(ctx)?;
    match change {
        Change::Stock(s) => Ok(vec![stock(&admin, s)?]),
        Change::Price(p) => Ok(vec![price(&admin, p)?]),
        Change::Status(s) => status(&admin, s),
    }
}

/// What a response means: the fulfillment-order lookup of a shipment or a
/// delivery leads to the fulfilment itself; everything else is read the usual way (2xx
/// done, 429/503 retry after `Retry-After`, 5xx retryable, other refusals
/// final).
pub fn interpret(
    ctx: &CallContext,
    changes: &[PendingChange],
    request: &HttpRequest,
    response: &HttpResponse,
) -> Result<Reading, Error> {
    let lookup = request.method == "GET" && request.url.ends_with("/fulfillment_orders.json");
    match changes {
        [PendingChange {
            change: Change::Status(s),
            ..
        }] if lookup && (200..300).contains(&response.status) => fulfil_open(ctx, s, response),
        _ => Ok(Reading::all(changes.len(), default_outcome(response))),
    }
}

/// `POST inventory_levels/set.json` for a stock level.
fn stock(admin: &str, s: &StockLevel) -> Result<HttpRequest, Error> {
    let code = format!("`{}`", s.reference_code);
    let item = mapped_id(
        s.external_inventory_id.as_deref(),
        &code,
        "inventory item",
        " in the store's mapping",
    )?;
    let location = mapped_id(
        s.external_location_id.as_deref(),
        &format!("hub location `{}`", s.location),
        "location",
        ": add it to `location_ids` in the store's config",
    )?;
    let available = whole_units(&s.available).ok_or_else(|| {
        invalid_input(format!(
            "{code}: available `{}` is not a quantity",
            s.available
        ))
    })?;
    Ok(json_request(
        "POST",
        format!("{admin}/inventory_levels/set.json"),
        &json!({"location_id": location, "inventory_item_id": item, "available": available}),
        vec![],
    ))
}

/// The largest whole number of units not above a level (`3.5` -> 3,
/// `-0.5` -> -1): Shopify counts whole units.
fn whole_units(available: &str) -> Option<i64> {
    let level = to_decimal(&Value::String(available.to_string()))?;
    let whole = level.floor();
    if whole != level {
        log(
            Level::Info,
            &format!("Shopify counts whole units: publishing {whole} for {available}"),
        );
    }
    whole.to_i64()
}

/// `PUT variants/{id}.json` for a price.
fn price(admin: &str, p: &Price) -> Result<HttpRequest, Error> {
    let variant = mapped_id(
        p.external_id.as_deref(),
        &format!("`{}`", p.reference_code),
        "variant",
        " in the store's mapping",
    )?;
    let named = |what: &str, e: Error| {
        invalid_input(format!("`{}`: {what} {}", p.reference_code, e.message))
    };
    let amount = money(&p.price).map_err(|e| named("price", e))?;
    let mrp = match p.mrp.as_deref().filter(|m| !m.trim().is_empty()) {
        Some(m) => Value::String(money(m).map_err(|e| named("MRP", e))?),
        None => Value::Null,
    };
    Ok(json_request(
        "PUT",
        format!("{admin}/variants/{variant}.json"),
        &json!({"variant": {"id": variant, "price": amount, "compare_at_price": mrp}}),
        vec![],
    ))
}

/// The requests for an order's new status.
fn status(admin: &str, s: &StatusChange) -> Result<Vec<HttpRequest>, Error> {
    let order = || {
        shopify_id(&s.online_reference_no).ok_or_else(|| {
            invalid_input(format!(
                "order {}: `{}` is not a Shopify order id",
                s.order_id, s.online_reference_no
            ))
        })
    };
    Ok(match s.status {
        OrderStatus::Shipped | OrderStatus::Delivered => vec![HttpRequest {
            method: "GET".to_string(),
            url: format!("{admin}/orders/{}/fulfillment_orders.json", order()?),
            headers: vec![Header {
                name: "accept".to_string(),
                value: "application/json".to_string(),
            }],
            body: None,
        }],
        OrderStatus::Cancelled => vec![json_request(
            "POST",
            format!("{admin}/orders/{}/cancel.json", order()?),
            &json!({}),
            vec![],
        )],
        OrderStatus::Pending
        | OrderStatus::Billed
        | OrderStatus::Ready
        | OrderStatus::OutForDelivery
        | OrderStatus::Returned
        | OrderStatus::PartiallyReturned => vec![],
    })
}

/// After the lookup: fulfil every fulfillment order still `open` or
/// `in_progress` in one request, or nothing is left to do.
fn fulfil_open(
    ctx: &CallContext,
    s: &StatusChange,
    response: &HttpResponse,
) -> Result<Reading, Error> {
    let body: Value = match serde_json::from_slice(&response.body) {
        Ok(body) => body,
        Err(e) => {
            return Ok(Reading::all(
                1,
                ChangeOutcome::Failed(upstream(
                    format!(
                        "order {}: the fulfillment orders answer is not JSON: {e}",
                        s.online_reference_no
                    ),
                    false,
                )),
            ))
        }
    };
    let mut open = Vec::new();
    for fo in list(&body, "fulfillment_orders") {
        let status = text(fo, "status").unwrap_or_default();
        match get(fo, "id").and_then(Value::as_u64) {
            Some(id) if matches!(status, "open" | "in_progress") => open.push(id),
            Some(id) => log(
                Level::Info,
                &format!("fulfillment order {id} is {status}: not fulfilled"),
            ),
            None => log(Level::Warn, "a fulfillment order without an id: skipped"),
        }
    }
    if open.is_empty() {
        log(
            Level::Info,
            &format!(
                "order {}: no open fulfillment order, nothing to fulfil",
                s.online_reference_no
            ),
        );
        return Ok(Reading::all(1, ChangeOutcome::Done));
    }
    let mut fulfillment = Map::new();
    fulfillment.insert(
        "line_items_by_fulfillment_order".into(),
        open.iter()
            .map(|id| json!({"fulfillment_order_id": id}))
            .collect(),
    );
    fulfillment.insert("notify_customer".into(), Value::Bool(false));
    if let Some(tracking) = tracking_info(s) {
        fulfillment.insert("tracking_info".into(), tracking);
    }
    let fulfil = json_request(
        "POST",
        format!("{}/fulfillments.json", admin_base(ctx)?),
        &json!({ "fulfillment": fulfillment }),
        vec![],
    );
    Ok(Reading {
        follow_ups: vec![PlannedRequest::carrying(fulfil, vec![0])],
        ..Reading::of(vec![ChangeOutcome::FollowUp])
    })
}

/// `{"company", "number"}` from the change's carrier and tracking number.
fn tracking_info(s: &StatusChange) -> Option<Value> {
    let mut info = Map::new();
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    if let Some(company) = present(&s.carrier) {
        info.insert("company".into(), Value::String(company));
    }
    if let Some(number) = present(&s.tracking_number) {
        info.insert("number".into(), Value::String(number));
    }
    (!info.is_empty()).then_some(Value::Object(info))
}

/// A Shopify id the hub filled in from the store's mapping or config: a
/// config error naming `what` (and how to fix it) when missing or not a
/// Shopify id.
fn mapped_id(raw: Option<&str>, what: &str, kind: &str, fix: &str) -> Result<u64, Error> {
    let raw = raw
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| config_error(format!("{what} has no Shopify {kind} id{fix}")))?;
    shopify_id(raw).ok_or_else(|| {
        config_error(format!(
            "{what}: Shopify {kind} id `{raw}` is not a number{fix}"
        ))
    })
}

/// A Shopify id: an unsigned integer.
fn shopify_id(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    raw.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| raw.parse().ok())
        .flatten()
}
