//! Outbound: the Admin API requests that tell Vendure about changes in the
//! hub, and what Vendure's answers mean for each change.
//!
//! * stock -> the variants' stock levels are read first (`productVariants`
//!   by id, up to 100 a request: Vendure's default `adminListQueryLimit`),
//!   then `updateProductVariants` sets each level's `stockOnHand` to the
//!   hub's available quantity **plus what Vendure has allocated** to its
//!   own unfulfilled orders there, so that Vendure's saleable stock
//!   (on hand - allocated) is the hub's available stock ([`stock`]);
//! * price -> read the same way, then `updateProductVariants` with
//!   `price` in minor units in the channel's default currency ([`price`]);
//! * shipped / out for delivery / delivered -> the order by its code, then
//!   `addFulfillmentToOrder` (carrier and tracking number as the handler's
//!   `method` and `trackingCode`) and `transitionFulfillmentToState` to
//!   `Shipped`, then `Delivered`; cancelled -> `cancelOrder` ([`status`]);
//! * other statuses (pending, billed, ready, returned, partially returned)
//!   -> nothing: Vendure's order process has no such state.
//!
//! A read that finds the storefront's value differing from the one the hub
//! last saw confirmed reports it as drift.

use poshub_connector_sdk::{
    config_error, graphql_operation, CallContext, Change, ChangeOutcome, Error, HttpRequest,
    HttpResponse, PendingChange, PlannedRequest, PushPlan, Reading, Refusal,
};
use serde_json::{json, Value};

use crate::config::admin_api;
use crate::graphql;
use crate::json::{id, list};

mod price;
mod status;
mod stock;

/// Variants one request reads or sets: the Admin API's default list limit
/// (`apiOptions.adminListQueryLimit`, 100), above which `take` is refused.
pub const VARIANTS_PER_REQUEST: u32 = 100;

/// The requests for a batch of changes; a change that cannot be pushed is
/// refused on its own.
pub fn plan(ctx: &CallContext, changes: &[PendingChange]) -> Result<PushPlan, Error> {
    let mut plan = PushPlan {
        requests: vec![],
        refused: vec![],
    };
    if let Err(e) = admin_api(ctx) {
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
    stock::plan(ctx, &of(|c| matches!(c, Change::Stock(_))), &mut plan)?;
    price::plan(ctx, &of(|c| matches!(c, Change::Price(_))), &mut plan)?;
    status::plan(ctx, &of(|c| matches!(c, Change::Status(_))), &mut plan)?;
    Ok(plan)
}

/// What Vendure's answer to one of the requests means for each change it
/// carried, matched by the request's operation name.
pub fn interpret(
    ctx: &CallContext,
    changes: &[PendingChange],
    request: &HttpRequest,
    response: &HttpResponse,
) -> Result<Reading, Error> {
    let (operation, variables) = graphql_operation(request)
        .ok_or_else(|| config_error("a request this connector did not plan"))?;
    let data = match graphql::read(response) {
        graphql::Answered::Not(outcome) => return Ok(Reading::all(changes.len(), outcome)),
        graphql::Answered::Data(data) => data,
    };
    Ok(match operation.as_str() {
        stock::READ => stock::read_answered(ctx, changes, &data)?,
        stock::SET => stock::set_answered(changes, &variables, &data),
        price::READ => price::read_answered(ctx, changes, &data)?,
        price::SET => price::set_answered(ctx, changes, &data)?,
        status::LOOKUP => status::lookup_answered(ctx, changes, &data)?,
        status::FULFIL => status::fulfil_answered(ctx, changes, &data)?,
        status::TRANSITION => status::transition_answered(ctx, changes, &data)?,
        status::CANCEL => status::cancel_answered(changes, &data),
        other => {
            return Err(config_error(format!(
                "an answer to `{other}`, which this connector never asks"
            )))
        }
    })
}

/// A request carrying the changes at `changes` (Vendure has no request
/// budget: each costs 1).
fn carrying(request: HttpRequest, changes: Vec<u32>) -> PlannedRequest {
    PlannedRequest::carrying(request, changes)
}

fn refuse(plan: &mut PushPlan, change: u32, error: Error) {
    plan.refused.push(Refusal { change, error });
}

/// One read of the variants that a batch's changes name: each change comes
/// with its mapped Vendure variant id, or the error that refuses it alone.
/// The read carries the mapped ones; `document` takes `$ids` and `$take`.
fn read_variants(
    ctx: &CallContext,
    changes: Vec<(u32, Result<String, Error>)>,
    operation: &str,
    document: &str,
    plan: &mut PushPlan,
) -> Result<(), Error> {
    let mut carried = vec![];
    let mut ids: Vec<String> = vec![];
    for (at, variant) in changes {
        match variant {
            Ok(variant) => {
                if !ids.contains(&variant) {
                    ids.push(variant);
                }
                carried.push(at);
            }
            Err(e) => refuse(plan, at, e),
        }
    }
    if carried.is_empty() {
        return Ok(());
    }
    debug_assert!(ids.len() <= VARIANTS_PER_REQUEST as usize);
    let take = ids.len();
    let request = graphql::request(ctx, operation, document, json!({"ids": ids, "take": take}))?;
    plan.requests.push(carrying(request, carried));
    Ok(())
}

/// The items of a `productVariants` read.
fn read_items(data: &Value) -> &[Value] {
    list(
        data.pointer("/productVariants").unwrap_or(&Value::Null),
        "items",
    )
}

/// The variant with this id among `variants` (Vendure answers them sorted
/// by id, not in the order asked).
fn variant<'a>(variants: &'a [Value], variant_id: &str) -> Option<&'a Value> {
    variants
        .iter()
        .find(|v| v.get("id").and_then(id).as_deref() == Some(variant_id))
}

/// A change whose variant the read did not find.
fn no_variant(reference_code: &str, variant_id: &str) -> ChangeOutcome {
    ChangeOutcome::Failed(config_error(format!(
        "{reference_code}: Vendure has no product variant {variant_id} (deleted there, or a stale mapping)"
    )))
}
