//! Order statuses: a shipment or delivery fulfils the order's fulfillment
//! orders still open (`fulfillmentCreate`, one per fulfillment order since
//! each belongs to one location, with the carrier and tracking number); a
//! cancellation is `orderCancel` (reason `OTHER`, no restock: the hub
//! publishes the released stock itself, no customer notification, no
//! refund: refunds are made in Shopify).

use poshub_connector_sdk::{
    config_error, invalid_input, log, upstream, CallContext, Change, ChangeOutcome, Error, Level,
    OrderStatus, PendingChange, PushPlan, Reading, StatusChange,
};
use serde_json::{json, Map, Value};

use super::{carrying, refuse};
use crate::graphql::{self, MUTATION_COST};

/// The operation that finds an order's fulfillment orders.
pub const LOOKUP: &str = "PoshubFulfillmentOrders";
/// The operation that fulfils them.
pub const FULFIL: &str = "PoshubFulfil";
/// The operation that cancels an order.
pub const CANCEL: &str = "PoshubCancel";

/// Fulfillment orders read per order.
const FULFILLMENT_ORDERS: u32 = 20;

const LOOKUP_DOCUMENT: &str = "query PoshubFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 20) {
      nodes { id status }
    }
  }
}";

const CANCEL_DOCUMENT: &str = "mutation PoshubCancel($id: ID!, $note: String) {
  orderCancel(orderId: $id, reason: OTHER, restock: false, notifyCustomer: false, staffNote: $note) {
    job { id }
    orderCancelUserErrors { code field message }
  }
}";

/// The status changes in `changes` as requests.
pub fn plan(
    ctx: &CallContext,
    changes: &[(u32, &PendingChange)],
    plan: &mut PushPlan,
) -> Result<(), Error> {
    for &(at, pending) in changes {
        let Change::Status(s) = &pending.change else {
            continue;
        };
        let order = match order_gid(s) {
            Ok(order) => order,
            Err(e) => {
                refuse(plan, at, e);
                continue;
            }
        };
        match s.status {
            OrderStatus::Shipped | OrderStatus::Delivered => {
                let request =
                    graphql::request(ctx, LOOKUP, LOOKUP_DOCUMENT, json!({ "id": order }))?;
                plan.requests
                    .push(carrying(request, vec![at], 3 + FULFILLMENT_ORDERS));
            }
            OrderStatus::Cancelled => {
                let note = format!("Cancelled in poshub (order {})", s.order_id);
                let request = graphql::request(
                    ctx,
                    CANCEL,
                    CANCEL_DOCUMENT,
                    json!({"id": order, "note": note}),
                )?;
                plan.requests
                    .push(carrying(request, vec![at], MUTATION_COST));
            }
            OrderStatus::Pending
            | OrderStatus::Billed
            | OrderStatus::Ready
            | OrderStatus::OutForDelivery
            | OrderStatus::Returned
            | OrderStatus::PartiallyReturned => {}
        }
    }
    Ok(())
}

fn order_gid(s: &StatusChange) -> Result<String, Error> {
    graphql::gid("Order", &s.online_reference_no).ok_or_else(|| {
        invalid_input(format!(
            "order {}: `{}` is not a Shopify order id",
            s.order_id, s.online_reference_no
        ))
    })
}

/// After the lookup: fulfil every fulfillment order still `OPEN` or
/// `IN_PROGRESS`, or nothing is left to do.
pub fn lookup_answered(
    ctx: &CallContext,
    carried: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let [PendingChange {
        change: Change::Status(s),
        ..
    }] = carried
    else {
        return Ok(Reading::all(
            carried.len(),
            ChangeOutcome::Failed(config_error("a fulfillment lookup carries one status")),
        ));
    };
    let order = &data["order"];
    if order.is_null() {
        return Ok(Reading::of(vec![ChangeOutcome::Failed(config_error(
            format!(
                "order {}: Shopify has no order {}",
                s.order_id, s.online_reference_no
            ),
        ))]));
    }
    let mut open = Vec::new();
    for fo in order["fulfillmentOrders"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let status = fo["status"].as_str().unwrap_or_default();
        match fo["id"].as_str() {
            Some(id) if matches!(status, "OPEN" | "IN_PROGRESS") => open.push(id.to_string()),
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
        return Ok(Reading::of(vec![ChangeOutcome::Done]));
    }
    let mut declared = Vec::new();
    let mut fields = Vec::new();
    let mut variables = Map::new();
    for (k, id) in open.iter().enumerate() {
        declared.push(format!("$f{k}: FulfillmentInput!"));
        fields.push(format!(
            "  f{k}: fulfillmentCreate(fulfillment: $f{k}) {{\n    fulfillment {{ id status }}\n    \
             userErrors {{ field message }}\n  }}"
        ));
        let mut fulfillment = Map::new();
        fulfillment.insert(
            "lineItemsByFulfillmentOrder".into(),
            json!([{ "fulfillmentOrderId": id }]),
        );
        fulfillment.insert("notifyCustomer".into(), Value::Bool(false));
        if let Some(tracking) = tracking_info(s) {
            fulfillment.insert("trackingInfo".into(), tracking);
        }
        variables.insert(format!("f{k}"), Value::Object(fulfillment));
    }
    let query = format!(
        "mutation {FULFIL}({}) {{\n{}\n}}",
        declared.join(", "),
        fields.join("\n")
    );
    let request = graphql::request(ctx, FULFIL, &query, Value::Object(variables))?;
    Ok(Reading {
        follow_ups: vec![carrying(
            request,
            vec![0],
            MUTATION_COST * open.len() as u32,
        )],
        ..Reading::of(vec![ChangeOutcome::FollowUp])
    })
}

/// `{company, number}` from the change's carrier and tracking number.
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

/// What the aliased `fulfillmentCreate` answered.
pub fn fulfil_answered(carried: &[PendingChange], data: &Value) -> Reading {
    let refused: Vec<String> = data
        .as_object()
        .into_iter()
        .flat_map(|fields| fields.values())
        .flat_map(|payload| graphql::user_errors(payload, "userErrors"))
        .map(|e| e.shown())
        .collect();
    let outcome = if refused.is_empty() {
        ChangeOutcome::Done
    } else {
        ChangeOutcome::Failed(upstream(
            format!("Shopify refused the fulfilment: {}", refused.join("; ")),
            false,
        ))
    };
    Reading::all(carried.len(), outcome)
}

/// What `orderCancel` answered.
pub fn cancel_answered(carried: &[PendingChange], data: &Value) -> Reading {
    let errors = graphql::user_errors(&data["orderCancel"], "orderCancelUserErrors");
    let outcome = match errors.first() {
        None if data["orderCancel"].is_null() => {
            ChangeOutcome::Failed(upstream("Shopify answered no orderCancel", true))
        }
        None => ChangeOutcome::Done,
        Some(e) => ChangeOutcome::Failed(upstream(
            format!("Shopify refused the cancellation: {}", e.shown()),
            false,
        )),
    };
    Reading::all(carried.len(), outcome)
}
