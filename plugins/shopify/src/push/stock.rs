//! Stock levels through `inventorySetQuantities` (GraphQL Admin 2026-04 and
//! later), compare-and-set so that a sale made on Shopify is never erased.
//!
//! Each level carries, as its `changeFromQuantity`, the level the hub last
//! saw Shopify confirm (less what the store's own orders took since), or an
//! explicit `null` when the hub has never seen one (a first sync). Shopify
//! sets nothing when any compare is stale (`CHANGE_FROM_QUANTITY_STALE`):
//!
//! 1. the levels that were not stale are sent again at once, without the
//!    stale ones;
//! 2. a stale level is retried after a few seconds, for the first
//!    [`STALE_TRIES`] attempts: the sale's order webhook usually arrives
//!    meanwhile, the hub books it, and the next compare matches;
//! 3. after that, the connector reads Shopify's level (`nodes` of the
//!    inventory items at the location), reports the difference as drift
//!    (the sync log records it), and sets the level with the value just
//!    read as the compare.
//!
//! Every mutation is `@idempotent` (required from 2026-04) under a key made
//! of the host's batch key and a digest of the input, so a repeat of the
//! same request is applied once and a different request never reuses a key.

use std::collections::BTreeMap;

use poshub_connector_sdk::{
    config_error, invalid_input, log, retry, upstream, CallContext, Change, ChangeOutcome, Drift,
    Error, Level, PendingChange, PushPlan, Reading, StockLevel,
};
use serde_json::{json, Value};

use super::{carrying, mapped_gid, refuse, whole_units, STOCK_PER_REQUEST};
use crate::graphql::{self, UserError, MUTATION_COST};

/// The operation that sets levels.
pub const SET: &str = "PoshubSetStock";
/// The same, with compares just read from Shopify.
pub const SET_FRESH: &str = "PoshubSetStockFresh";
/// The operation that reads levels after stale compares.
pub const READ: &str = "PoshubReadStock";

/// Attempts with a stale compare before the level is read and set fresh.
pub const STALE_TRIES: u32 = 2;
/// Seconds before a stale level is tried again.
pub const STALE_WAIT_SECONDS: u32 = 2;

fn set_document(operation: &str) -> String {
    format!(
        "mutation {operation}($input: InventorySetQuantitiesInput!, $key: String!) {{
  inventorySetQuantities(input: $input) @idempotent(key: $key) {{
    inventoryAdjustmentGroup {{ id }}
    userErrors {{ code field message }}
  }}
}}"
    )
}

const READ_DOCUMENT: &str = "query PoshubReadStock($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $location) {
        quantities(names: [\"available\"]) { name quantity }
      }
    }
  }
}";

/// The stock changes in `changes` as `inventorySetQuantities` requests.
pub fn plan(
    ctx: &CallContext,
    key: &str,
    changes: &[(u32, &PendingChange)],
    plan: &mut PushPlan,
) -> Result<(), Error> {
    let mut quantities = Vec::new();
    for &(i, pending) in changes {
        match quantity(pending) {
            Ok(q) => quantities.push((i, q)),
            Err(e) => refuse(plan, i, e),
        }
    }
    for chunk in quantities.chunks(STOCK_PER_REQUEST as usize) {
        plan.requests.push(set(ctx, key, SET, chunk.to_vec())?);
    }
    Ok(())
}

/// The `InventoryQuantityInput` of a change, with the confirmed level as
/// its compare (an explicit `null` when there is none: Shopify refuses a
/// quantity that leaves `changeFromQuantity` out).
fn quantity(pending: &PendingChange) -> Result<Value, Error> {
    let s = stock_level(pending)?;
    let code = format!("`{}`", s.reference_code);
    let item = mapped_gid(
        s.external_inventory_id.as_deref(),
        "InventoryItem",
        &code,
        "inventory item",
        " in the store's mapping",
    )?;
    let location = mapped_gid(
        s.external_location_id.as_deref(),
        "Location",
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
    Ok(json!({
        "inventoryItemId": item,
        "locationId": location,
        "quantity": available,
        "changeFromQuantity": confirmed(pending),
    }))
}

fn stock_level(pending: &PendingChange) -> Result<&StockLevel, Error> {
    match &pending.change {
        Change::Stock(s) => Ok(s),
        _ => Err(invalid_input("not a stock change")),
    }
}

/// The level the hub last saw Shopify confirm, in whole units.
fn confirmed(pending: &PendingChange) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    let raw = pending.confirmed.as_deref()?;
    crate::json::to_decimal(&Value::String(raw.to_string()))?
        .floor()
        .to_i64()
}

/// An `inventorySetQuantities` request for `quantities` (positions in the
/// call's list of changes, with their inputs).
fn set(
    ctx: &CallContext,
    key: &str,
    operation: &str,
    quantities: Vec<(u32, Value)>,
) -> Result<poshub_connector_sdk::PlannedRequest, Error> {
    let (at, quantities): (Vec<u32>, Vec<Value>) = quantities.into_iter().unzip();
    let input = json!({
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": format!("gid://poshub/StockPush/{key}"),
        "quantities": quantities,
    });
    let idempotency = graphql::idempotency_key(key, &input);
    let request = graphql::request(
        ctx,
        operation,
        &set_document(operation),
        json!({"input": input, "key": idempotency}),
    )?;
    Ok(carrying(request, at, MUTATION_COST))
}

/// What `inventorySetQuantities` answered for the levels it carried.
pub fn set_answered(
    ctx: &CallContext,
    key: &str,
    operation: &str,
    carried: &[PendingChange],
    variables: &Value,
    data: &Value,
) -> Result<Reading, Error> {
    let n = carried.len();
    let payload = &data["inventorySetQuantities"];
    if payload.is_null() {
        return Ok(Reading::all(
            n,
            ChangeOutcome::Failed(upstream("Shopify answered no inventorySetQuantities", true)),
        ));
    }
    let errors = graphql::user_errors(payload, "userErrors");
    if errors.is_empty() {
        return Ok(Reading::all(n, ChangeOutcome::Done));
    }
    let applied = !payload["inventoryAdjustmentGroup"].is_null();
    let sent = variables["input"]["quantities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut fates: Vec<Option<ChangeOutcome>> = vec![None; n];
    let mut stale = Vec::new();
    for e in &errors {
        let Some(j) = e.index_in("quantities").filter(|&j| j < n) else {
            return Ok(Reading::all(n, whole_request(e)));
        };
        match e.code.as_deref() {
            Some("CHANGE_FROM_QUANTITY_STALE" | "COMPARE_QUANTITY_STALE") => {
                if !stale.contains(&j) {
                    stale.push(j);
                }
            }
            _ => fates[j] = Some(ChangeOutcome::Failed(refused(&carried[j], e))),
        }
    }
    let mut reading = Reading::of(vec![]);
    let mut again = Vec::new();
    let mut to_read: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for j in stale {
        if fates[j].is_some() {
            continue;
        }
        let pending = &carried[j];
        fates[j] = Some(if operation == SET_FRESH {
            retry(
                1,
                "Shopify's level changed again while it was being read: trying again",
            )
        } else if pending.attempts < STALE_TRIES {
            retry(
                STALE_WAIT_SECONDS,
                format!(
                    "Shopify held another level than the hub last saw confirmed ({}): a sale \
                     the hub has not heard of yet? Trying again shortly",
                    pending.confirmed.as_deref().unwrap_or("none")
                ),
            )
        } else {
            let location = sent
                .get(j)
                .and_then(|q| q["locationId"].as_str())
                .unwrap_or_default()
                .to_string();
            to_read.entry(location).or_default().push(j as u32);
            ChangeOutcome::FollowUp
        });
    }
    for (j, fate) in fates.iter_mut().enumerate() {
        if fate.is_none() {
            *fate = Some(if applied {
                ChangeOutcome::Done
            } else {
                again.push((j as u32, sent.get(j).cloned().unwrap_or(Value::Null)));
                ChangeOutcome::FollowUp
            });
        }
    }
    if !again.is_empty() {
        // Shopify set none of them: the others go again without the stale.
        reading.follow_ups.push(set(ctx, key, operation, again)?);
    }
    for (location, at) in to_read {
        let ids: Vec<Value> = at
            .iter()
            .map(|&j| sent[j as usize]["inventoryItemId"].clone())
            .collect();
        let request = graphql::request(
            ctx,
            READ,
            READ_DOCUMENT,
            json!({"ids": ids, "location": location}),
        )?;
        let cost = 1 + 3 * at.len() as u32;
        reading.follow_ups.push(carrying(request, at, cost));
    }
    reading.outcomes = fates
        .into_iter()
        .map(|f| f.unwrap_or(ChangeOutcome::Done))
        .collect();
    Ok(reading)
}

/// What an error that names no quantity means for all of them.
fn whole_request(e: &UserError) -> ChangeOutcome {
    match e.code.as_deref() {
        Some("IDEMPOTENCY_CONCURRENT_REQUEST") => {
            retry(1, "Shopify is still working on the same request")
        }
        Some("IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED") => retry(
            0,
            "Shopify asks for a new idempotency key: the next attempt has one",
        ),
        _ => ChangeOutcome::Failed(upstream(
            format!("Shopify refused the levels: {}", e.shown()),
            false,
        )),
    }
}

/// Why Shopify refused one level.
fn refused(pending: &PendingChange, e: &UserError) -> Error {
    let (code, location) = match &pending.change {
        Change::Stock(s) => (s.reference_code.as_str(), s.location.as_str()),
        _ => ("?", "?"),
    };
    match e.code.as_deref() {
        Some("INVALID_INVENTORY_ITEM" | "NON_MUTABLE_INVENTORY_ITEM") => config_error(format!(
            "`{code}`: {}: the store's mapping names an inventory item Shopify does not have",
            e.shown()
        )),
        Some("INVALID_LOCATION") => config_error(format!(
            "hub location `{location}`: {}: fix `location_ids` in the store's config",
            e.shown()
        )),
        _ => upstream(
            format!("`{code}`: Shopify refused the level: {}", e.shown()),
            false,
        ),
    }
}

/// What Shopify holds for the levels whose compares stayed stale: drift
/// where it differs from what the hub expected, and the level set with the
/// value just read as the compare.
pub fn read_answered(
    ctx: &CallContext,
    key: &str,
    carried: &[PendingChange],
    variables: &Value,
    data: &Value,
) -> Result<Reading, Error> {
    let nodes = data["nodes"].as_array().cloned().unwrap_or_default();
    let location = variables["location"].as_str().unwrap_or_default();
    let mut reading = Reading::of(vec![]);
    let mut fresh = Vec::new();
    for (j, pending) in carried.iter().enumerate() {
        let node = nodes.get(j).filter(|n| !n.is_null());
        let asked = variables["ids"][j].as_str().unwrap_or_default();
        let Some(node) = node else {
            let code = stock_level(pending).map_or("?", |s| s.reference_code.as_str());
            reading
                .outcomes
                .push(ChangeOutcome::Failed(config_error(format!(
                    "`{code}`: Shopify has no inventory item {asked}: the store's mapping is stale"
                ))));
            continue;
        };
        let found = node["inventoryLevel"]["quantities"]
            .as_array()
            .and_then(|qs| qs.iter().find(|q| q["name"] == "available"))
            .and_then(|q| q["quantity"].as_i64());
        let expected = confirmed(pending);
        if found != expected {
            let held = found.unwrap_or(0);
            log(
                Level::Info,
                &format!(
                    "{asked} at {location}: Shopify holds {held}, the hub expected {}",
                    expected.map_or("none".to_string(), |e| e.to_string())
                ),
            );
            reading.drift.push(Drift {
                change: j as u32,
                found: held.to_string(),
            });
        }
        let mut quantity = quantity(pending)?;
        quantity["changeFromQuantity"] = found.map_or(Value::Null, Value::from);
        fresh.push((j as u32, quantity));
        reading.outcomes.push(ChangeOutcome::FollowUp);
    }
    if !fresh.is_empty() {
        reading.follow_ups.push(set(ctx, key, SET_FRESH, fresh)?);
    }
    Ok(reading)
}
