//! Outbound: the GraphQL Admin API requests that tell Shopify about changes
//! in the hub, and what Shopify's answers mean for each change.
//!
//! * stock -> `inventorySetQuantities`, up to 250 levels a request, each
//!   with the level the hub last saw confirmed as its `changeFromQuantity`
//!   and the request under an `@idempotent` key ([`stock`]);
//! * price -> `productVariantsBulkUpdate` per product, several products
//!   aliased in one document ([`price`]);
//! * shipped / delivered -> the order's fulfillment orders, then
//!   `fulfillmentCreate` with the carrier and tracking number for those
//!   still open; cancelled -> `orderCancel` ([`status`]);
//! * other statuses (pending, billed, ready, out for delivery, returned,
//!   partially returned) -> nothing: Shopify has no such order state, and
//!   refunds are made in Shopify itself.
//!
//! Every request is `POST {base_url}/admin/api/{version}/graphql.json`;
//! the host adds `X-Shopify-Access-Token` from the store's secret. Answers
//! carry the store's cost budget, which the host paces the store by.

use poshub_connector_sdk::{
    config_error, graphql_operation, log, CallContext, Change, Error, HttpRequest, HttpResponse,
    Level, PendingChange, PlannedRequest, PushPlan, Reading, Refusal,
};

use crate::config::graphql_endpoint;
use crate::graphql;
use crate::json::to_decimal;

mod price;
mod status;
mod stock;

/// Levels one `inventorySetQuantities` carries: Shopify's maximum for an
/// input list ("Input arguments that accept an array have a maximum size of
/// 250").
pub const STOCK_PER_REQUEST: u32 = 250;
/// Prices one request carries (at most 250 variants in one document).
pub const PRICES_PER_REQUEST: u32 = 250;

/// The requests for a batch of changes; a change that cannot be pushed is
/// refused on its own.
pub fn plan(ctx: &CallContext, key: &str, changes: &[PendingChange]) -> Result<PushPlan, Error> {
    let mut plan = PushPlan {
        requests: vec![],
        refused: vec![],
    };
    // A store that names no endpoint (or an unsupported version) cannot be
    // pushed to: each change says why.
    if let Err(e) = graphql_endpoint(ctx) {
        for i in 0..changes.len() {
            refuse(&mut plan, i as u32, e.clone());
        }
        return Ok(plan);
    }
    let of = |wanted: fn(&Change) -> bool| -> Vec<(u32, &PendingChange)> {
        changes
            .iter()
            .enumerate()
            .filter(|(_, p)| wanted(&p.change))
            .map(|(i, p)| (i as u32, p))
            .collect()
    };
    stock::plan(ctx, key, &of(|c| matches!(c, Change::Stock(_))), &mut plan)?;
    price::plan(ctx, &of(|c| matches!(c, Change::Price(_))), &mut plan)?;
    status::plan(ctx, &of(|c| matches!(c, Change::Status(_))), &mut plan)?;
    Ok(plan)
}

/// What Shopify's answer to one of the requests means for each change it
/// carried, matched by the request's operation name.
pub fn interpret(
    ctx: &CallContext,
    key: &str,
    changes: &[PendingChange],
    request: &HttpRequest,
    response: &HttpResponse,
) -> Result<Reading, Error> {
    let (operation, variables) = graphql_operation(request)
        .ok_or_else(|| config_error("a request this connector did not plan"))?;
    let answer = graphql::read(response);
    let mut reading = match answer.answered {
        graphql::Answered::Not(outcome) => Reading::all(changes.len(), outcome),
        graphql::Answered::Data(data) => match operation.as_str() {
            stock::SET | stock::SET_FRESH => {
                stock::set_answered(ctx, key, &operation, changes, &variables, &data)?
            }
            stock::READ => stock::read_answered(ctx, key, changes, &variables, &data)?,
            price::SET => price::set_answered(changes, &variables, &data),
            price::LOOKUP => price::lookup_answered(ctx, changes, &variables, &data)?,
            status::LOOKUP => status::lookup_answered(ctx, changes, &data)?,
            status::FULFIL => status::fulfil_answered(changes, &data),
            status::CANCEL => status::cancel_answered(changes, &data),
            other => {
                return Err(config_error(format!(
                    "an answer to `{other}`, which this connector never asks"
                )))
            }
        },
    };
    reading.budget = answer.budget;
    Ok(reading)
}

/// A request carrying the changes at `changes`, costing `cost` points.
fn carrying(request: HttpRequest, changes: Vec<u32>, cost: u32) -> PlannedRequest {
    PlannedRequest {
        request,
        changes,
        cost,
    }
}

fn refuse(plan: &mut PushPlan, change: u32, error: Error) {
    plan.refused.push(Refusal { change, error });
}

/// A Shopify object's gid from an id the hub filled in from the store's
/// mapping or config: a config error naming `what` (and how to fix it)
/// when missing or not a Shopify id.
fn mapped_gid(
    raw: Option<&str>,
    kind: &str,
    what: &str,
    label: &str,
    fix: &str,
) -> Result<String, Error> {
    let raw = raw
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| config_error(format!("{what} has no Shopify {label} id{fix}")))?;
    graphql::gid(kind, raw).ok_or_else(|| {
        config_error(format!(
            "{what}: Shopify {label} id `{raw}` is not a number or a {kind} gid{fix}"
        ))
    })
}

/// The largest whole number of units not above a level (`3.5` -> 3,
/// `-0.5` -> -1): Shopify counts whole units.
fn whole_units(level: &str) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    let value = to_decimal(&serde_json::Value::String(level.to_string()))?;
    let whole = value.floor();
    if whole != value {
        log(
            Level::Info,
            &format!("Shopify counts whole units: publishing {whole} for {level}"),
        );
    }
    whole.to_i64()
}
