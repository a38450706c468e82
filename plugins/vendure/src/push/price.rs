//! Prices: read the variants' prices, then set those that differ with
//! `updateProductVariants` (`price`, in minor units, in the channel's
//! default currency; Vendure reads it with or without tax as the channel's
//! `pricesIncludeTax` says, which must match the store's
//! `prices_include_tax` in the hub).

use std::collections::BTreeMap;

use poshub_connector_sdk::{
    config_error, retry, upstream, CallContext, Change, ChangeOutcome, Drift, Error, PendingChange,
    Price, PushPlan, Reading,
};
use serde_json::{json, Value};

use super::{carrying, no_variant, read_items, read_variants, variant};
use crate::config::money_precision;
use crate::graphql::{self, mapped};
use crate::json::{list, text};
use crate::money::{from_minor, to_minor};

/// The read of the variants' prices.
pub const READ: &str = "PoshubPrices";
/// The write of the prices that differ.
pub const SET: &str = "PoshubSetPrices";

const READ_DOCUMENT: &str = "query PoshubPrices($ids: [String!]!, $take: Int!) { \
productVariants(options: {filter: {id: {in: $ids}}, take: $take}) { \
items { id sku currencyCode prices { currencyCode price } } } }";

const SET_DOCUMENT: &str = "mutation PoshubSetPrices($input: [UpdateProductVariantInput!]!) { \
updateProductVariants(input: $input) { id currencyCode prices { currencyCode price } } }";

fn price(pending: &PendingChange) -> &Price {
    match &pending.change {
        Change::Price(price) => price,
        _ => unreachable!("the price plan is given price changes only"),
    }
}

/// One read for the batch's mapped variants; an unmapped one, or a price
/// that is not an amount, is refused.
pub fn plan(
    ctx: &CallContext,
    changes: &[(u32, &PendingChange)],
    plan: &mut PushPlan,
) -> Result<(), Error> {
    let precision = money_precision(ctx);
    let mapped = changes
        .iter()
        .map(|(at, pending)| {
            let change = price(pending);
            let checked = precision.clone().and_then(|p| {
                to_minor(&change.price, p).ok_or_else(|| {
                    config_error(format!(
                        "{}: price `{}` is not an amount",
                        change.reference_code, change.price
                    ))
                })
            });
            let variant =
                checked.and_then(|_| mapped(change.external_id.as_deref(), &change.reference_code));
            (*at, variant)
        })
        .collect();
    read_variants(ctx, mapped, READ, READ_DOCUMENT, plan)
}

/// A variant's price in its (the channel's default) currency, in minor
/// units.
fn current(variant: &Value) -> Option<i64> {
    let currency = text(variant, "currencyCode");
    list(variant, "prices")
        .iter()
        .find(|p| currency.is_none() || text(p, "currencyCode") == currency)
        .and_then(|p| p.get("price"))
        .and_then(Value::as_i64)
}

/// The read answered: drift where Vendure's price is not the one the hub
/// last saw confirmed, a write for the prices that differ, a failure for a
/// variant Vendure does not have.
pub fn read_answered(
    ctx: &CallContext,
    changes: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let precision = money_precision(ctx)?;
    let items = read_items(data);
    let mut reading = Reading::of(vec![]);
    let mut input: BTreeMap<String, i64> = BTreeMap::new();
    let mut written = vec![];
    for (i, pending) in changes.iter().enumerate() {
        let change = price(pending);
        let variant_id = change.external_id.clone().unwrap_or_default();
        let Some(variant) = variant(items, &variant_id) else {
            reading
                .outcomes
                .push(no_variant(&change.reference_code, &variant_id));
            continue;
        };
        let wanted = to_minor(&change.price, precision).unwrap_or_default();
        let found = current(variant);
        if let (Some(found), Some(confirmed)) = (
            found,
            pending
                .confirmed
                .as_deref()
                .and_then(|c| to_minor(c, precision)),
        ) {
            if found != confirmed {
                reading.drift.push(Drift {
                    change: i as u32,
                    found: from_minor(found, precision).to_string(),
                });
            }
        }
        if found == Some(wanted) {
            reading.outcomes.push(ChangeOutcome::Done);
            continue;
        }
        input.insert(variant_id, wanted);
        written.push(i as u32);
        reading.outcomes.push(ChangeOutcome::FollowUp);
    }
    if !written.is_empty() {
        let input: Vec<Value> = input
            .into_iter()
            .map(|(variant, price)| json!({"id": variant, "price": price}))
            .collect();
        let request = graphql::request(ctx, SET, SET_DOCUMENT, json!({"input": input}))?;
        reading.follow_ups.push(carrying(request, written));
    }
    Ok(reading)
}

/// The write answered: done when the variant's price is now the one sent.
pub fn set_answered(
    ctx: &CallContext,
    changes: &[PendingChange],
    data: &Value,
) -> Result<Reading, Error> {
    let precision = money_precision(ctx)?;
    let answered = list(data, "updateProductVariants");
    let outcomes = changes
        .iter()
        .map(|pending| {
            let change = price(pending);
            let variant_id = change.external_id.clone().unwrap_or_default();
            let wanted = to_minor(&change.price, precision);
            let now = variant(answered, &variant_id).and_then(current);
            match now {
                None => ChangeOutcome::Failed(upstream(
                    format!(
                        "{}: Vendure's answer has no price for variant {variant_id}",
                        change.reference_code
                    ),
                    true,
                )),
                Some(n) if Some(n) == wanted => ChangeOutcome::Done,
                Some(n) => retry(
                    0,
                    format!(
                        "{}: Vendure holds {} after setting {}",
                        change.reference_code,
                        from_minor(n, precision),
                        change.price
                    ),
                ),
            }
        })
        .collect();
    Ok(Reading::of(outcomes))
}
