//! Stock: read the variants' stock levels, then set `stockOnHand` so that
//! Vendure's saleable quantity is the hub's available quantity.
//!
//! Vendure counts stock as `stockOnHand` (in the building) and
//! `stockAllocated` (promised to its own placed but unfulfilled orders);
//! what it sells is on hand - allocated (- the out-of-stock threshold).
//! The hub's available quantity already leaves out the units its orders
//! reserve, Vendure's orders included once their event has arrived, so
//! setting `stockOnHand` to the hub's figure would count Vendure's
//! allocations twice (and, after a fulfilment turned them into a sale,
//! leave Vendure short). The connector therefore sets on hand = available
//! + allocated, read just before the write.

use std::collections::BTreeMap;

use poshub_connector_sdk::{
    config_error, log, retry, upstream, CallContext, Change, ChangeOutcome, Error, Level,
    PendingChange, PushPlan, Reading, StockLevel,
};
use serde_json::{json, Value};

use super::{carrying, no_variant, read_items, read_variants, variant};
use crate::graphql::{self, mapped};
use crate::json::{id, list};

/// The read of the variants' stock levels.
pub const READ: &str = "PoshubStockLevels";
/// The write of their stock on hand.
pub const SET: &str = "PoshubSetStock";

const READ_DOCUMENT: &str = "query PoshubStockLevels($ids: [String!]!, $take: Int!) { \
productVariants(options: {filter: {id: {in: $ids}}, take: $take}) { \
items { id sku stockLevels { stockLocationId stockOnHand stockAllocated } } } }";

const SET_DOCUMENT: &str = "mutation PoshubSetStock($input: [UpdateProductVariantInput!]!) { \
updateProductVariants(input: $input) { id stockLevels { stockLocationId stockOnHand stockAllocated } } }";

fn level(pending: &PendingChange) -> &StockLevel {
    match &pending.change {
        Change::Stock(level) => level,
        _ => unreachable!("the stock plan is given stock changes only"),
    }
}

/// One read for the batch's mapped variants; an unmapped one is refused.
pub fn plan(
    ctx: &CallContext,
    changes: &[(u32, &PendingChange)],
    plan: &mut PushPlan,
) -> Result<(), Error> {
    let mapped = changes
        .iter()
        .map(|(at, pending)| {
            let level = level(pending);
            (
                *at,
                mapped(level.external_id.as_deref(), &level.reference_code),
            )
        })
        .collect();
    read_variants(ctx, mapped, READ, READ_DOCUMENT, plan)
}

/// A variant's level at one stock location.
struct Found {
    location: String,
    on_hand: i64,
    allocated: i64,
}

/// Where a change's level is kept: the stock location the store maps the
/// hub location to, else the variant's only stock location.
fn found_level(level: &StockLevel, variant: &Value) -> Result<Found, Error> {
    let levels = list(variant, "stockLevels");
    let read = |l: &Value| Found {
        location: l.get("stockLocationId").and_then(id).unwrap_or_default(),
        on_hand: l.get("stockOnHand").and_then(Value::as_i64).unwrap_or(0),
        allocated: l.get("stockAllocated").and_then(Value::as_i64).unwrap_or(0),
    };
    match level.external_location_id.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(wanted) => Ok(levels
            .iter()
            .map(read)
            .find(|f| f.location == wanted)
            // A stock location the variant has no level at yet: Vendure
            // creates it on the write, with nothing allocated.
            .unwrap_or(Found {
                location: wanted.to_string(),
                on_hand: 0,
                allocated: 0,
            })),
        None => match levels {
            [only] => Ok(read(only)),
            [] => Err(config_error(format!(
                "{}: the Vendure variant has no stock level; map hub location {} to a Vendure stock location (location_ids)",
                level.reference_code, level.location
            ))),
            _ => Err(config_error(format!(
                "{}: the Vendure variant is stocked at {} stock locations; map hub location {} to one of them (location_ids)",
                level.reference_code,
                levels.len(),
                level.location
            ))),
        },
    }
}

/// The hub's available quantity in whole units (Vendure counts whole
/// units): the largest whole number not above it.
fn whole_units(raw: &str) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    let value: rust_decimal::Decimal = raw.trim().parse().ok()?;
    let whole = value.floor();
    if whole != value {
        log(
            Level::Info,
            &format!("Vendure counts whole units: publishing {whole} for {raw}"),
        );
    }
    whole.to_i64()
}

/// The read answered: per change, the on-hand figure to set (a follow-up
/// write for those that differ) and a failure for a variant Vendure does
/// not have.
///
/// No drift is reported: Vendure's own orders lower its saleable quantity
/// (by allocating) before their event reaches the hub, so a saleable
/// figure below the last confirmed one is usually a sale, not an edit, and
/// on hand - which such a sale leaves alone - is not what the hub confirmed.
pub fn read_answered(
    ctx: &CallContext,
    changes: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let items = read_items(data);
    let mut reading = Reading::of(vec![]);
    // variant id -> (stock location -> on hand to set), in a stable order.
    let mut input: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut written = vec![];
    for (i, pending) in changes.iter().enumerate() {
        let level = level(pending);
        let variant_id = level.external_id.clone().unwrap_or_default();
        let Some(variant) = variant(items, &variant_id) else {
            reading
                .outcomes
                .push(no_variant(&level.reference_code, &variant_id));
            continue;
        };
        let found = match found_level(level, variant) {
            Ok(found) => found,
            Err(e) => {
                reading.outcomes.push(ChangeOutcome::Failed(e));
                continue;
            }
        };
        let Some(available) = whole_units(&level.available) else {
            reading
                .outcomes
                .push(ChangeOutcome::Failed(config_error(format!(
                    "{}: available `{}` is not a quantity",
                    level.reference_code, level.available
                ))));
            continue;
        };
        let mut on_hand = available + found.allocated;
        if on_hand < 0 {
            log(
                Level::Warn,
                &format!(
                    "{}: available {available} with {} allocated would be {on_hand} on hand; Vendure gets 0",
                    level.reference_code, found.allocated
                ),
            );
            on_hand = 0;
        }
        if on_hand == found.on_hand {
            reading.outcomes.push(ChangeOutcome::Done);
            continue;
        }
        input
            .entry(variant_id)
            .or_default()
            .insert(found.location, on_hand);
        written.push(i as u32);
        reading.outcomes.push(ChangeOutcome::FollowUp);
    }
    if !written.is_empty() {
        let input: Vec<Value> = input
            .into_iter()
            .map(|(variant, levels)| {
                json!({
                    "id": variant,
                    "stockLevels": levels
                        .into_iter()
                        .map(|(location, on_hand)| json!({"stockLocationId": location, "stockOnHand": on_hand}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        let request = graphql::request(ctx, SET, SET_DOCUMENT, json!({"input": input}))?;
        reading.follow_ups.push(carrying(request, written));
    }
    Ok(reading)
}

/// The write answered: each change is done when its variant's level now
/// holds what was sent.
pub fn set_answered(changes: &[PendingChange], variables: &Value, data: &Value) -> Reading {
    let sent = list(variables, "input");
    let answered = list(data, "updateProductVariants");
    let outcomes = changes
        .iter()
        .map(|pending| {
            let level = level(pending);
            let variant_id = level.external_id.clone().unwrap_or_default();
            let Some(levels) = variant(sent, &variant_id).map(|v| list(v, "stockLevels")) else {
                return ChangeOutcome::Failed(config_error("a change this write did not carry"));
            };
            let location = match level.external_location_id.as_deref().map(str::trim) {
                Some(l) if !l.is_empty() => Some(l.to_string()),
                _ => match levels {
                    [only] => only.get("stockLocationId").and_then(id),
                    _ => None,
                },
            };
            let wanted = levels
                .iter()
                .find(|l| l.get("stockLocationId").and_then(id) == location)
                .and_then(|l| l.get("stockOnHand"))
                .and_then(Value::as_i64);
            let now = variant(answered, &variant_id)
                .map(|v| list(v, "stockLevels"))
                .and_then(|levels| {
                    levels
                        .iter()
                        .find(|l| l.get("stockLocationId").and_then(id) == location)
                })
                .and_then(|l| l.get("stockOnHand"))
                .and_then(Value::as_i64);
            match (wanted, now) {
                (Some(w), Some(n)) if w == n => ChangeOutcome::Done,
                (_, None) => ChangeOutcome::Failed(upstream(
                    format!(
                        "{}: Vendure's answer has no stock level of variant {variant_id} at that location",
                        level.reference_code
                    ),
                    true,
                )),
                (w, Some(n)) => retry(
                    0,
                    format!(
                        "{}: Vendure holds {n} on hand after setting {}",
                        level.reference_code,
                        w.map(|w| w.to_string()).unwrap_or_default()
                    ),
                ),
            }
        })
        .collect();
    Reading::of(outcomes)
}
