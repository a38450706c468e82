//! Order statuses: Vendure finds orders by its own id, so each change first
//! reads the order by its code (the hub's online reference number), then:
//!
//! * shipped, out for delivery -> `addFulfillmentToOrder` for the order's
//!   lines (the fulfilment handler's `method` and `trackingCode` carry the
//!   carrier and tracking number), then `transitionFulfillmentToState`
//!   `Shipped`; an order that already has a fulfilment moves that one;
//! * delivered -> the same, then `Delivered`;
//! * cancelled -> `cancelOrder` (Vendure releases the order's
//!   allocations; the hub then re-sends the order's stock levels, see
//!   [`cancel_answered`]); an order Vendure already cancelled is done.

use poshub_connector_sdk::{
    config_error, retry, upstream, CallContext, Change, ChangeOutcome, Error, OrderStatus,
    PendingChange, PushPlan, Reading, StatusChange,
};
use serde_json::{json, Value};

use super::carrying;
use crate::config::fulfillment_handler;
use crate::graphql::{self, error_result};
use crate::json::{id, list, text};

/// The read of the order by its code.
pub const LOOKUP: &str = "PoshubOrder";
/// A fulfilment of the order's lines.
pub const FULFIL: &str = "PoshubFulfil";
/// A fulfilment's next state.
pub const TRANSITION: &str = "PoshubFulfilmentState";
/// The order's cancellation.
pub const CANCEL: &str = "PoshubCancel";

const LOOKUP_DOCUMENT: &str = "query PoshubOrder($code: String!) { \
orders(options: {filter: {code: {eq: $code}}, take: 1}) { \
items { id code state lines { id quantity } fulfillments { id state } } } }";

const FULFIL_DOCUMENT: &str = "mutation PoshubFulfil($input: FulfillOrderInput!) { \
addFulfillmentToOrder(input: $input) { \
... on Fulfillment { id state method trackingCode } \
... on ErrorResult { errorCode message } } }";

const TRANSITION_DOCUMENT: &str = "mutation PoshubFulfilmentState($id: ID!, $state: String!) { \
transitionFulfillmentToState(id: $id, state: $state) { \
... on Fulfillment { id state } \
... on FulfillmentStateTransitionError { transitionError fromState toState } \
... on ErrorResult { errorCode message } } }";

const CANCEL_DOCUMENT: &str = "mutation PoshubCancel($input: CancelOrderInput!) { \
cancelOrder(input: $input) { \
... on Order { id code state } \
... on ErrorResult { errorCode message } } }";

fn status(pending: &PendingChange) -> &StatusChange {
    match &pending.change {
        Change::Status(status) => status,
        _ => unreachable!("the status plan is given status changes only"),
    }
}

/// The fulfilment state a status asks for, if any.
fn wanted_state(status: OrderStatus) -> Option<&'static str> {
    match status {
        OrderStatus::Shipped | OrderStatus::OutForDelivery => Some("Shipped"),
        OrderStatus::Delivered => Some("Delivered"),
        _ => None,
    }
}

/// A lookup for each status Vendure has; the others are done as they are.
pub fn plan(
    ctx: &CallContext,
    changes: &[(u32, &PendingChange)],
    plan: &mut PushPlan,
) -> Result<(), Error> {
    for (at, pending) in changes {
        let change = status(pending);
        if wanted_state(change.status).is_none() && change.status != OrderStatus::Cancelled {
            continue;
        }
        let request = graphql::request(
            ctx,
            LOOKUP,
            LOOKUP_DOCUMENT,
            json!({"code": change.online_reference_no}),
        )?;
        plan.requests.push(carrying(request, vec![*at]));
    }
    Ok(())
}

/// One follow-up carrying the request's only change.
fn next(request: poshub_connector_sdk::HttpRequest) -> Reading {
    let mut reading = Reading::of(vec![ChangeOutcome::FollowUp]);
    reading.follow_ups.push(carrying(request, vec![0]));
    reading
}

fn failed(message: String, retryable: bool) -> Reading {
    Reading::of(vec![ChangeOutcome::Failed(upstream(message, retryable))])
}

fn transition(ctx: &CallContext, fulfilment: &str, state: &str) -> Result<Reading, Error> {
    Ok(next(graphql::request(
        ctx,
        TRANSITION,
        TRANSITION_DOCUMENT,
        json!({"id": fulfilment, "state": state}),
    )?))
}

/// The state after `from` on the way to `wanted` (Pending -> Shipped ->
/// Delivered), or none when it is there (or past it).
fn step(from: &str, wanted: &str) -> Option<&'static str> {
    match (from, wanted) {
        ("Delivered", _) | ("Shipped", "Shipped") => None,
        ("Shipped", _) => Some("Delivered"),
        _ => Some("Shipped"),
    }
}

/// The order found: cancel it, or fulfil it (or move its fulfilment on).
pub fn lookup_answered(
    ctx: &CallContext,
    changes: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let change = status(&changes[0]);
    let code = &change.online_reference_no;
    let Some(order) = list(data.pointer("/orders").unwrap_or(&Value::Null), "items")
        .iter()
        .find(|o| text(o, "code") == Some(code.as_str()))
    else {
        return Ok(failed(format!("Vendure has no order {code}"), false));
    };
    let order_id = order.get("id").and_then(id).unwrap_or_default();
    let state = text(order, "state").unwrap_or("");
    if change.status == OrderStatus::Cancelled {
        if state == "Cancelled" {
            return Ok(Reading::of(vec![ChangeOutcome::Done]));
        }
        return Ok(next(graphql::request(
            ctx,
            CANCEL,
            CANCEL_DOCUMENT,
            json!({"input": {"orderId": order_id, "reason": "cancelled in the POS", "cancelShipping": true}}),
        )?));
    }
    let wanted = wanted_state(change.status).unwrap_or("Shipped");
    if state == "Cancelled" {
        return Ok(failed(
            format!("Vendure order {code} is cancelled: it cannot be {wanted}"),
            false,
        ));
    }
    if let Some(fulfilment) = list(order, "fulfillments")
        .iter()
        .find(|f| text(f, "state") != Some("Cancelled"))
    {
        let fulfilment_id = fulfilment.get("id").and_then(id).unwrap_or_default();
        return match step(text(fulfilment, "state").unwrap_or(""), wanted) {
            None => Ok(Reading::of(vec![ChangeOutcome::Done])),
            Some(state) => transition(ctx, &fulfilment_id, state),
        };
    }
    let lines: Vec<Value> = list(order, "lines")
        .iter()
        .filter(|l| l.get("quantity").and_then(Value::as_i64).unwrap_or(0) > 0)
        .map(|l| json!({"orderLineId": l.get("id").and_then(id), "quantity": l.get("quantity")}))
        .collect();
    if lines.is_empty() {
        return Ok(failed(
            format!("Vendure order {code} has no lines left to fulfil"),
            false,
        ));
    }
    let arguments = json!([
        {"name": "method", "value": change.carrier.clone().unwrap_or_default()},
        {"name": "trackingCode", "value": change.tracking_number.clone().unwrap_or_default()},
    ]);
    Ok(next(graphql::request(
        ctx,
        FULFIL,
        FULFIL_DOCUMENT,
        json!({"input": {"lines": lines, "handler": {"code": fulfillment_handler(ctx), "arguments": arguments}}}),
    )?))
}

/// The fulfilment created: move it to `Shipped`.
pub fn fulfil_answered(
    ctx: &CallContext,
    changes: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let change = status(&changes[0]);
    let payload = data.get("addFulfillmentToOrder").unwrap_or(&Value::Null);
    // Another push of the same order (two status changes in flight at
    // once) fulfilled it meanwhile: the next attempt finds that fulfilment.
    if text(payload, "errorCode") == Some("ITEMS_ALREADY_FULFILLED_ERROR") {
        return Ok(Reading::of(vec![retry(
            1,
            format!(
                "order {} was fulfilled meanwhile: moving that fulfilment instead",
                change.online_reference_no
            ),
        )]));
    }
    if let Some(error) = error_result(payload) {
        return Ok(failed(
            format!(
                "Vendure refused a fulfilment of order {}: {error}",
                change.online_reference_no
            ),
            false,
        ));
    }
    let Some(fulfilment) = payload.get("id").and_then(id) else {
        return Ok(failed(
            "Vendure's answer to addFulfillmentToOrder has no fulfilment".to_string(),
            true,
        ));
    };
    let wanted = wanted_state(change.status).unwrap_or("Shipped");
    match step(text(payload, "state").unwrap_or("Pending"), wanted) {
        None => Ok(Reading::of(vec![ChangeOutcome::Done])),
        Some(state) => transition(ctx, &fulfilment, state),
    }
}

/// The fulfilment moved: on to `Delivered` when that is the status, else
/// done.
pub fn transition_answered(
    ctx: &CallContext,
    changes: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let change = status(&changes[0]);
    let payload = data
        .get("transitionFulfillmentToState")
        .unwrap_or(&Value::Null);
    if let Some(error) = text(payload, "transitionError")
        .map(str::to_string)
        .or_else(|| error_result(payload))
    {
        return Ok(failed(
            format!(
                "Vendure refused to move the fulfilment of order {}: {error}",
                change.online_reference_no
            ),
            false,
        ));
    }
    let (Some(fulfilment), Some(state)) = (payload.get("id").and_then(id), text(payload, "state"))
    else {
        return Err(config_error(
            "Vendure's answer to transitionFulfillmentToState has no fulfilment",
        ));
    };
    match step(state, wanted_state(change.status).unwrap_or("Shipped")) {
        None => Ok(Reading::of(vec![ChangeOutcome::Done])),
        Some(next_state) => transition(ctx, &fulfilment, next_state),
    }
}

/// The order cancelled (or Vendure's reason why not).
///
/// Vendure's `cancelOrder` releases the order's allocations, which raises
/// its saleable stock (on hand - allocated). The hub re-sends the order's
/// stock levels once a cancellation is confirmed, so that a level pushed
/// while the allocation still stood (on hand = available + allocated) is
/// set again without it.
pub fn cancel_answered(changes: &[PendingChange], data: &Value) -> Reading {
    let change = status(&changes[0]);
    let payload = data.get("cancelOrder").unwrap_or(&Value::Null);
    if let Some(error) = error_result(payload) {
        return failed(
            format!(
                "Vendure refused to cancel order {}: {error}",
                change.online_reference_no
            ),
            false,
        );
    }
    match text(payload, "state") {
        Some("Cancelled") => Reading::of(vec![ChangeOutcome::Done]),
        other => failed(
            format!(
                "Vendure order {} is {} after cancelOrder",
                change.online_reference_no,
                other.unwrap_or("in no state")
            ),
            false,
        ),
    }
}
