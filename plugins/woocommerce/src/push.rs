//! Outbound: the WooCommerce REST API v3 calls that carry the hub's changes,
//! and what WooCommerce's answers mean.
//!
//! URLs are built from the store's `base_url` (trailing `/` trimmed); the
//! host adds basic authentication from `consumer_key` / `consumer_secret`.
//!
//! - stock and price go through WooCommerce's batch endpoints:
//!   `POST {base}/wp-json/wc/v3/products/batch` for simple products (no
//!   parent in the mapping) and `POST .../products/{parent}/variations/batch`
//!   for the variations of one parent product (`products/batch` refuses
//!   variation ids), with `{"update": [{"id": N, ...}, ...]}`, at most 100
//!   items a request (WooCommerce's `woocommerce_rest_batch_items_limit`, or
//!   the store's `batch_items`). A request that would carry one item is the
//!   single-item `PUT .../products/{id}` or `.../products/{parent}/variations/{id}`
//!   instead, as before batching. Stock is `{"manage_stock": true,
//!   "stock_quantity": N}` (whole units, rounded down); price
//!   `{"regular_price": "199.00"}`;
//! - status: `PUT {base}/wp-json/wc/v3/orders/{id}` with `{"status": S}`,
//!   one request per order: billed -> `processing`, delivered ->
//!   `completed`, cancelled -> `cancelled`, returned -> `refunded`.
//!   Pending, ready, shipped, out for delivery and partially returned send
//!   nothing: WooCommerce's own statuses have no such step (an order stays
//!   `processing` until it is completed; tracking numbers need a
//!   shipment-tracking extension whose API differs per extension), and a
//!   partial refund is made in WooCommerce itself.
//!
//! A batch answers 200 with one entry per update, in request order: the
//! product or variation as saved, or `{"id", "error": {"code", "message",
//! "data": {"status"}}}` for an item WooCommerce refused on its own
//! (`WC_REST_Controller::batch_items`). Each change gets its own item's
//! outcome.

use std::str::FromStr;

use poshub_connector_sdk::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The REST API root under the site URL.
const API: &str = "wp-json/wc/v3";

/// Items WooCommerce takes in one batch request: the default of its
/// `woocommerce_rest_batch_items_limit` filter (`check_batch_limit`),
/// counted over create, update and delete together.
pub const BATCH_LIMIT: u32 = 100;

/// Where a stock or price update goes: the products endpoint, or the
/// variations of one parent product.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Products,
    Variations(String),
}

/// What an update sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stock,
    Price,
}

/// A stock or price change as one WooCommerce update.
#[derive(Debug, Clone)]
struct Update {
    /// Position of the change in the call's list.
    change: u32,
    kind: Kind,
    target: Target,
    /// The product or variation id, as mapped (digits).
    id: String,
    /// The same id as a number, as batch items carry it.
    number: u64,
    /// The fields to set (without the id).
    fields: Map<String, Value>,
    reference_code: String,
    /// The hub location of a stock level.
    location: Option<String>,
}

impl Update {
    /// What it is, for messages: "stock of `TEE-BLK-M` at BLR".
    fn what(&self) -> String {
        match (self.kind, &self.location) {
            (Kind::Stock, Some(location)) => {
                format!("stock of `{}` at {location}", self.reference_code)
            }
            (Kind::Stock, None) => format!("stock of `{}`", self.reference_code),
            (Kind::Price, _) => format!("price of `{}`", self.reference_code),
        }
    }

    /// The WooCommerce thing it updates, for messages: "product 56",
    /// "variation 23 of product 22".
    fn product(&self) -> String {
        match &self.target {
            Target::Products => format!("product {}", self.id),
            Target::Variations(parent) => format!("variation {} of product {parent}", self.id),
        }
    }

    /// The batch item: the id, then the fields.
    fn item(&self) -> Value {
        let mut item = Map::new();
        item.insert("id".into(), json!(self.number));
        item.extend(self.fields.clone());
        Value::Object(item)
    }
}

/// The store's `base_url` without its trailing `/`.
fn base_url(ctx: &CallContext) -> Result<&str, Error> {
    Ok(require_config(ctx, "base_url")?
        .trim()
        .trim_end_matches('/'))
}

/// Items one batch request may carry: the store's `batch_items` (1 to 100,
/// for a shop whose `woocommerce_rest_batch_items_limit` is lower, or whose
/// host times out on 100 saves in one request), else 100.
fn batch_items(ctx: &CallContext) -> Result<usize, Error> {
    let Some(raw) = config(ctx, "batch_items") else {
        return Ok(BATCH_LIMIT as usize);
    };
    raw.trim()
        .trim_matches('"')
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=BATCH_LIMIT).contains(n))
        .map(|n| n as usize)
        .ok_or_else(|| {
            config_error(format!(
                "the store's `batch_items` is `{raw}`: it must be a whole number from 1 to {BATCH_LIMIT} (items per WooCommerce batch request)"
            ))
        })
}

/// The requests that tell WooCommerce about a batch of changes, and the
/// changes refused alone.
///
/// Stock and price changes are grouped by endpoint (`products/batch`, or
/// `products/{parent}/variations/batch` per parent), in the order they
/// came, at most `batch_items` (100) a request; a group of one is the
/// single-item PUT. WooCommerce holds one stock figure and one regular
/// price per product: when two changes of the batch set the same product's
/// (two hub locations of the store map to one WooCommerce product, which
/// has no locations), only the last is sent, as it was the one that stuck
/// when each went on its own, and every earlier one is refused, naming the
/// one sent instead.
pub fn plan_push(ctx: &CallContext, changes: &[PendingChange]) -> PushPlan {
    let mut plan = PushPlan {
        requests: vec![],
        refused: vec![],
    };
    let refuse_all = |plan: &mut PushPlan, error: Error| {
        plan.refused = (0..changes.len() as u32)
            .map(|change| Refusal {
                change,
                error: error.clone(),
            })
            .collect();
    };
    let base = match base_url(ctx) {
        Ok(base) => base,
        Err(e) => {
            refuse_all(&mut plan, e);
            return plan;
        }
    };
    let size = batch_items(ctx);
    let mut updates: Vec<Update> = Vec::new();
    for (i, pending) in changes.iter().enumerate() {
        let i = i as u32;
        match &pending.change {
            Change::Status(s) => match status(base, s) {
                Ok(Some(request)) => plan
                    .requests
                    .push(PlannedRequest::carrying(request, vec![i])),
                Ok(None) => {}
                Err(error) => plan.refused.push(Refusal { change: i, error }),
            },
            change => match update(i, change) {
                Ok(u) => updates.push(u),
                Err(error) => plan.refused.push(Refusal { change: i, error }),
            },
        }
    }
    // The last update of a product wins; the earlier ones are refused.
    let mut kept: Vec<Update> = Vec::with_capacity(updates.len());
    for u in updates.into_iter().rev() {
        match kept
            .iter()
            .find(|k| k.kind == u.kind && k.number == u.number)
        {
            Some(later) => plan.refused.push(Refusal {
                change: u.change,
                error: superseded(&u, later),
            }),
            None => kept.push(u),
        }
    }
    kept.reverse();
    // Groups by endpoint and kind, in the order of their first change.
    let mut groups: Vec<((Kind, Target), Vec<Update>)> = Vec::new();
    for u in kept {
        let key = (u.kind, u.target.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(u),
            None => groups.push((key, vec![u])),
        }
    }
    for ((_, target), group) in groups {
        match &size {
            Ok(size) => {
                for chunk in group.chunks(*size) {
                    plan.requests.push(request_for(base, &target, chunk));
                }
            }
            // A wrong `batch_items` holds back stock and prices, not statuses.
            Err(e) => plan.refused.extend(group.iter().map(|u| Refusal {
                change: u.change,
                error: e.clone(),
            })),
        }
    }
    plan.refused.sort_by_key(|r| r.change);
    plan
}

/// Why an update is not sent: a later one of the batch sets the same product.
fn superseded(dropped: &Update, kept: &Update) -> Error {
    let figure = match dropped.kind {
        Kind::Stock => "one stock figure",
        Kind::Price => "one regular price",
    };
    let mut message = format!(
        "{} not sent: WooCommerce holds {figure} for {}, and the same batch sets it from the {} (sent instead; the last one wins, as it did when each was sent on its own)",
        dropped.what(),
        dropped.product(),
        kept.what(),
    );
    if dropped.kind == Kind::Stock && dropped.location != kept.location {
        message.push_str(
            ". A WooCommerce shop has no stock locations: let the store sell from the one hub location its orders ship from",
        );
    }
    config_error(message)
}

/// The request carrying these updates (of one endpoint and kind): the
/// single-item PUT for one, else the batch.
fn request_for(base: &str, target: &Target, chunk: &[Update]) -> PlannedRequest {
    let prefix = match target {
        Target::Products => format!("{base}/{API}/products"),
        Target::Variations(parent) => format!("{base}/{API}/products/{parent}/variations"),
    };
    let changes = chunk.iter().map(|u| u.change).collect();
    let request = match chunk {
        [one] => json_request(
            "PUT",
            format!("{prefix}/{}", one.id),
            &Value::Object(one.fields.clone()),
            vec![],
        ),
        many => json_request(
            "POST",
            format!("{prefix}/batch"),
            &json!({"update": many.iter().map(Update::item).collect::<Vec<_>>()}),
            vec![],
        ),
    };
    PlannedRequest::carrying(request, changes)
}

/// A stock or price change as an update, checked.
fn update(change: u32, c: &Change) -> Result<Update, Error> {
    match c {
        Change::Stock(s) => {
            let (target, id, number) = mapped(
                &s.reference_code,
                s.external_id.as_deref(),
                s.external_parent_id.as_deref(),
            )?;
            let mut fields = Map::new();
            fields.insert("manage_stock".into(), json!(true));
            fields.insert("stock_quantity".into(), json!(whole_units(s)?));
            Ok(Update {
                change,
                kind: Kind::Stock,
                target,
                id,
                number,
                fields,
                reference_code: s.reference_code.clone(),
                location: Some(s.location.clone()).filter(|l| !l.is_empty()),
            })
        }
        Change::Price(p) => {
            let (target, id, number) = mapped(
                &p.reference_code,
                p.external_id.as_deref(),
                p.external_parent_id.as_deref(),
            )?;
            let mut fields = Map::new();
            fields.insert("regular_price".into(), json!(regular_price(p)?));
            Ok(Update {
                change,
                kind: Kind::Price,
                target,
                id,
                number,
                fields,
                reference_code: p.reference_code.clone(),
                location: None,
            })
        }
        Change::Status(_) => Err(unsupported("an order status is no product update")),
    }
}

/// A stock level in whole units.
fn whole_units(s: &StockLevel) -> Result<i64, Error> {
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
    Decimal::from_str(available)
        .ok()
        .and_then(|d| d.floor().to_i64())
        .ok_or_else(not_a_level)
}

/// The regular price as WooCommerce writes prices: a string.
fn regular_price(p: &Price) -> Result<String, Error> {
    money(&p.price)
        .ok()
        .filter(|m| !m.starts_with('-'))
        .ok_or_else(|| {
            invalid_input(format!(
                "price of `{}`: `{}` is not an amount",
                p.reference_code, p.price
            ))
        })
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

/// Where a mapped product or variation is updated, and its id (as mapped
/// and as a number).
fn mapped(
    reference_code: &str,
    external_id: Option<&str>,
    parent_id: Option<&str>,
) -> Result<(Target, String, u64), Error> {
    let id = external_id
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            config_error(format!(
                "`{reference_code}` has no WooCommerce product or variation id in the store's mapping"
            ))
        })?;
    let number = mapped_id(reference_code, "product or variation id", id)?;
    let target = match parent_id.map(str::trim).filter(|p| !p.is_empty()) {
        Some(parent) => {
            mapped_id(reference_code, "parent product id", parent)?;
            Target::Variations(parent.to_string())
        }
        None => Target::Products,
    };
    Ok((target, id.to_string(), number))
}

/// A mapped WooCommerce id: digits only, so it cannot change the URL's
/// path, and a number WooCommerce can hold (its ids are unsigned 64-bit).
fn mapped_id(reference_code: &str, what: &str, id: &str) -> Result<u64, Error> {
    is_id(id)
        .then(|| id.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| {
            config_error(format!(
                "the store's mapping of `{reference_code}` has {what} `{id}`, which is not a WooCommerce id (digits)"
            ))
        })
}

fn is_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// The message for a REST API key WooCommerce refused.
fn refused_key(status: u16) -> Error {
    config_error(format!(
        "WooCommerce refused the REST API key ({status}): check the store's consumer_key and consumer_secret, that the key has read/write permission, and that base_url is https (WooCommerce takes basic auth only over HTTPS)"
    ))
}

/// What WooCommerce's answer to a single-item request means: the usual
/// reading, except that a 404 on a product or variation, or the 400
/// `woocommerce_rest_product_invalid_id` / `..._variation_invalid_id` that
/// `WC_REST_CRUD_Controller::update_item` answers for an id it does not
/// have, means the store's mapping is stale, and 401/403 mean the REST API
/// key is wrong.
pub fn interpret(change: &Change, request: &HttpRequest, response: &HttpResponse) -> ChangeOutcome {
    let status = response.status;
    let reference_code = match change {
        Change::Stock(s) => Some(&s.reference_code),
        Change::Price(p) => Some(&p.reference_code),
        Change::Status(_) => None,
    };
    let invalid_id = || {
        serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|b| b.get("code").and_then(Value::as_str).map(str::to_string))
            .is_some_and(|code| {
                matches!(
                    code.as_str(),
                    "woocommerce_rest_product_invalid_id"
                        | "woocommerce_rest_product_variation_invalid_id"
                )
            })
    };
    match (status, reference_code) {
        (400, Some(code)) if invalid_id() => ChangeOutcome::Failed(upstream(
            format!(
                "WooCommerce has no product at {} (400 invalid id): the store's mapping of `{code}` points at a product that no longer exists; map it to the current product or variation",
                request.url
            ),
            false,
        )),
        (404, Some(code)) => ChangeOutcome::Failed(upstream(
            format!(
                "WooCommerce has no product at {} (404): the store's mapping of `{code}` points at a product that no longer exists; map it to the current product or variation",
                request.url
            ),
            false,
        )),
        (401 | 403, _) => ChangeOutcome::Failed(refused_key(status)),
        _ => default_outcome(response),
    }
}

/// True for a request [`plan_push`] sent to a batch endpoint.
pub fn is_batch(request: &HttpRequest) -> bool {
    request.method == "POST" && request.url.ends_with("/batch")
}

/// What WooCommerce's answer to a batch request means for each change it
/// carried (`changes`, in the request's order, one item each).
pub fn interpret_batch(
    changes: &[PendingChange],
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<ChangeOutcome> {
    let status = response.status;
    let all = |outcome: ChangeOutcome| vec![outcome; changes.len()];
    let answer: Option<Value> = serde_json::from_slice(&response.body).ok();
    let said = || {
        answer
            .as_ref()
            .and_then(|a| a.get("message"))
            .and_then(Value::as_str)
            .map(|m| format!(": \"{m}\""))
            .unwrap_or_default()
    };
    match status {
        401 | 403 => return all(ChangeOutcome::Failed(refused_key(status))),
        // check_batch_limit: over the limit, nothing of the request was
        // processed. The connector never sends more than the store's
        // `batch_items`, so the shop's limit is lower than that.
        413 => {
            return all(ChangeOutcome::Failed(upstream(
                format!(
                    "WooCommerce refused a batch of {} items (413){}: the shop's `woocommerce_rest_batch_items_limit` filter allows fewer items per request than that (WooCommerce's default is {BATCH_LIMIT}); set the store's `batch_items` config to the shop's limit (or remove the filter), then retry these changes",
                    changes.len(),
                    said(),
                ),
                false,
            )))
        }
        404 => {
            return all(ChangeOutcome::Failed(upstream(
                format!(
                    "WooCommerce has no batch endpoint at {} (404){}: check the store's base_url and that WooCommerce's REST API is enabled",
                    request.url,
                    said(),
                ),
                false,
            )))
        }
        200..=299 => {}
        _ => return all(default_outcome(response)),
    }
    let Some(answer) = answer else {
        let excerpt =
            String::from_utf8_lossy(&response.body[..response.body.len().min(200)]).to_string();
        return all(ChangeOutcome::Failed(upstream(
            format!(
                "WooCommerce answered the batch at {} with {status} but no JSON (a host or plugin page?): {excerpt}",
                request.url
            ),
            true,
        )));
    };
    // `{"update": [...]}`; with nothing processed PHP writes `[]`.
    let items: &[Value] = answer
        .get("update")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    changes
        .iter()
        .enumerate()
        .map(|(j, pending)| {
            let u = match update(0, &pending.change) {
                Ok(u) => u,
                Err(e) => return ChangeOutcome::Failed(e),
            };
            // The answer keeps the request's order; the id it echoes must
            // agree (an item without one is taken by its position).
            let item = items
                .get(j)
                .filter(|item| match item.get("id") {
                    None | Some(Value::Null) => true,
                    Some(_) => item_id(item) == Some(u.number),
                })
                .or_else(|| {
                    let mut same = items.iter().filter(|i| item_id(i) == Some(u.number));
                    same.next().filter(|_| same.next().is_none())
                });
            match item {
                None => retry(
                    0,
                    format!(
                        "WooCommerce's answer to the batch at {} has no item for {} ({})",
                        request.url,
                        u.product(),
                        u.what()
                    ),
                ),
                Some(item) => match item.get("error") {
                    None | Some(Value::Null) => ChangeOutcome::Done,
                    Some(error) => item_failure(&u, error, request),
                },
            }
        })
        .collect()
}

/// A batch item's `id`: a number, or the digits as sent.
fn item_id(item: &Value) -> Option<u64> {
    match item.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What an item's `error` (`{"code", "message", "data": {"status"}}`)
/// means for its change. WooCommerce translates `message` into the shop's
/// language, so only `code` and the status decide.
fn item_failure(u: &Update, error: &Value, request: &HttpRequest) -> ChangeOutcome {
    let code = error.get("code").and_then(Value::as_str).unwrap_or("");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let status = error
        .get("data")
        .and_then(|d| d.get("status"))
        .and_then(Value::as_u64)
        .unwrap_or(400);
    let said = format!("{status} {code}: \"{message}\"");
    let failed = |message: String, retryable: bool| {
        ChangeOutcome::Failed(upstream(
            format!("{message} (in the batch at {})", request.url),
            retryable,
        ))
    };
    match code {
        // products/batch found the id, but it is a variation
        // (WC_REST_Products_Controller::prepare_object_for_database).
        "woocommerce_rest_invalid_product_id" if u.target == Target::Products => failed(
            format!(
                "WooCommerce's {} is a variation ({said}): the store's mapping of `{}` needs its parent product id, as WooCommerce updates a variation only under its parent",
                u.product(),
                u.reference_code
            ),
            false,
        ),
        // update_item of an unknown id (WC_REST_CRUD_Controller).
        "woocommerce_rest_product_invalid_id" | "woocommerce_rest_product_variation_invalid_id" => {
            gone(u, &said, failed)
        }
        _ if status == 404 => gone(u, &said, failed),
        _ if status >= 500 || status == 408 || status == 429 => failed(
            format!("WooCommerce failed to update {} ({said})", u.product()),
            true,
        ),
        _ => failed(
            format!("WooCommerce refused the update of {} ({said})", u.product()),
            false,
        ),
    }
}

/// The failure of an update whose product or variation WooCommerce does
/// not have: the store's mapping is stale.
fn gone(u: &Update, said: &str, failed: impl Fn(String, bool) -> ChangeOutcome) -> ChangeOutcome {
    failed(
        format!(
            "WooCommerce has no {} ({said}): the store's mapping of `{}` points at a product that no longer exists; map it to the current product or variation",
            u.product(),
            u.reference_code
        ),
        false,
    )
}
