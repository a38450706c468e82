//! Prices through `productVariantsBulkUpdate`, which updates the variants
//! of one product: the changes are grouped by product (the mapping's parent
//! id) and up to [`PRODUCTS_PER_DOCUMENT`] products' updates go aliased in
//! one document, each with `allowPartialUpdates: true` so that one refused
//! variant does not hold back the others. A variant mapped without its
//! product is looked up first (`nodes` of the variants).

use poshub_connector_sdk::{
    config_error, money, upstream, CallContext, Change, ChangeOutcome, Error, PendingChange,
    PlannedRequest, PushPlan, Reading,
};
use serde_json::{json, Map, Value};

use super::{carrying, mapped_gid, refuse};
use crate::graphql::{self, MUTATION_COST};

/// The operation that sets prices.
pub const SET: &str = "PoshubSetPrices";
/// The operation that finds the products of variants mapped without one.
pub const LOOKUP: &str = "PoshubVariantProducts";

/// Products whose variants one document updates (each alias is a mutation
/// costing 10 points: 250 points a document).
pub const PRODUCTS_PER_DOCUMENT: usize = 25;

const LOOKUP_DOCUMENT: &str = "query PoshubVariantProducts($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant { id product { id } }
  }
}";

/// A variant's price update, before its product is known or with it.
struct Update {
    at: u32,
    product: Option<String>,
    input: Value,
}

/// The price changes in `changes` as `productVariantsBulkUpdate` requests.
pub fn plan(
    ctx: &CallContext,
    changes: &[(u32, &PendingChange)],
    plan: &mut PushPlan,
) -> Result<(), Error> {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for &(at, pending) in changes {
        match update(at, pending) {
            Ok(u) if u.product.is_some() => known.push(u),
            Ok(u) => unknown.push(u),
            Err(e) => refuse(plan, at, e),
        }
    }
    plan.requests.extend(set(ctx, known)?);
    if !unknown.is_empty() {
        plan.requests.push(lookup(ctx, &unknown)?);
    }
    Ok(())
}

fn update(at: u32, pending: &PendingChange) -> Result<Update, Error> {
    let Change::Price(p) = &pending.change else {
        return Err(config_error("not a price change"));
    };
    let code = format!("`{}`", p.reference_code);
    let variant = mapped_gid(
        p.external_id.as_deref(),
        "ProductVariant",
        &code,
        "variant",
        " in the store's mapping",
    )?;
    let product = p
        .external_parent_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            graphql::gid("Product", id).ok_or_else(|| {
                config_error(format!(
                    "{code}: Shopify product id `{id}` is not a number or a Product gid"
                ))
            })
        })
        .transpose()?;
    let named = |what: &str, e: Error| config_error(format!("{code}: {what} {}", e.message));
    let amount = money(&p.price).map_err(|e| named("price", e))?;
    let compare_at = match p.mrp.as_deref().filter(|m| !m.trim().is_empty()) {
        Some(m) => Value::String(money(m).map_err(|e| named("MRP", e))?),
        None => Value::Null,
    };
    Ok(Update {
        at,
        product,
        input: json!({"id": variant, "price": amount, "compareAtPrice": compare_at}),
    })
}

/// Documents of up to [`PRODUCTS_PER_DOCUMENT`] aliased
/// `productVariantsBulkUpdate`, one per product; a request's changes are
/// listed product by product, in the order of its aliases.
fn set(ctx: &CallContext, updates: Vec<Update>) -> Result<Vec<PlannedRequest>, Error> {
    let mut products: Vec<(String, Vec<Update>)> = Vec::new();
    for u in updates {
        let product = u.product.clone().unwrap_or_default();
        match products.iter_mut().find(|(p, _)| *p == product) {
            Some((_, group)) => group.push(u),
            None => products.push((product, vec![u])),
        }
    }
    products
        .chunks(PRODUCTS_PER_DOCUMENT)
        .map(|chunk| {
            let mut declared = Vec::new();
            let mut fields = Vec::new();
            let mut variables = Map::new();
            let mut at = Vec::new();
            for (k, (product, group)) in chunk.iter().enumerate() {
                declared.push(format!("$p{k}: ID!, $v{k}: [ProductVariantsBulkInput!]!"));
                fields.push(format!(
                    "  p{k}: productVariantsBulkUpdate(productId: $p{k}, variants: $v{k}, \
                     allowPartialUpdates: true) {{\n    productVariants {{ id }}\n    \
                     userErrors {{ code field message }}\n  }}"
                ));
                variables.insert(format!("p{k}"), Value::String(product.clone()));
                variables.insert(
                    format!("v{k}"),
                    group.iter().map(|u| u.input.clone()).collect(),
                );
                at.extend(group.iter().map(|u| u.at));
            }
            let query = format!(
                "mutation {SET}({}) {{\n{}\n}}",
                declared.join(", "),
                fields.join("\n")
            );
            let cost = MUTATION_COST * chunk.len() as u32;
            Ok(carrying(
                graphql::request(ctx, SET, &query, Value::Object(variables))?,
                at,
                cost,
            ))
        })
        .collect()
}

fn lookup(ctx: &CallContext, updates: &[Update]) -> Result<PlannedRequest, Error> {
    let ids: Vec<Value> = updates.iter().map(|u| u.input["id"].clone()).collect();
    let cost = 1 + 2 * ids.len() as u32;
    Ok(carrying(
        graphql::request(ctx, LOOKUP, LOOKUP_DOCUMENT, json!({ "ids": ids }))?,
        updates.iter().map(|u| u.at).collect(),
        cost,
    ))
}

/// What each aliased update answered for the variants it carried.
pub fn set_answered(carried: &[PendingChange], variables: &Value, data: &Value) -> Reading {
    let mut outcomes = Vec::with_capacity(carried.len());
    for k in 0.. {
        let Some(sent) = variables.get(format!("v{k}")).and_then(Value::as_array) else {
            break;
        };
        let product = variables[format!("p{k}")].as_str().unwrap_or_default();
        let payload = &data[format!("p{k}")];
        let errors = graphql::user_errors(payload, "userErrors");
        let whole = errors.iter().find(|e| e.index_in("variants").is_none());
        for (j, variant) in sent.iter().enumerate() {
            let code = carried
                .get(outcomes.len())
                .map_or("?".to_string(), |p| match &p.change {
                    Change::Price(p) => p.reference_code.clone(),
                    _ => "?".to_string(),
                });
            let own = errors.iter().find(|e| e.index_in("variants") == Some(j));
            outcomes.push(match (own.or(whole), payload.is_null()) {
                (Some(e), _) => ChangeOutcome::Failed(match e.code.as_deref() {
                    Some("PRODUCT_DOES_NOT_EXIST" | "PRODUCT_VARIANT_DOES_NOT_EXIST")
                    | Some("MUST_BE_FOR_THIS_PRODUCT") => config_error(format!(
                        "`{code}`: {} (product {product}, variant {}): the store's mapping is stale",
                        e.shown(),
                        variant["id"].as_str().unwrap_or("?")
                    )),
                    _ => upstream(
                        format!("`{code}`: Shopify refused the price: {}", e.shown()),
                        false,
                    ),
                }),
                (None, true) => ChangeOutcome::Failed(upstream(
                    format!("Shopify answered nothing for product {product}"),
                    true,
                )),
                (None, false) => ChangeOutcome::Done,
            });
        }
    }
    // A change the variables did not list (never planned so): not sent.
    while outcomes.len() < carried.len() {
        outcomes.push(ChangeOutcome::Failed(upstream(
            "the price was not in the request",
            true,
        )));
    }
    Reading::of(outcomes)
}

/// The products of the variants looked up: their updates follow.
pub fn lookup_answered(
    ctx: &CallContext,
    carried: &[PendingChange],
    variables: &Value,
    data: &Value,
) -> Result<Reading, Error> {
    let nodes = data["nodes"].as_array().cloned().unwrap_or_default();
    let mut reading = Reading::of(vec![]);
    let mut found = Vec::new();
    for (j, pending) in carried.iter().enumerate() {
        let product = nodes
            .get(j)
            .and_then(|n| n["product"]["id"].as_str())
            .map(str::to_string);
        match (product, update(j as u32, pending)) {
            (Some(product), Ok(mut u)) => {
                u.product = Some(product);
                found.push(u);
                reading.outcomes.push(ChangeOutcome::FollowUp);
            }
            (None, Ok(_)) => {
                let asked = variables["ids"][j].as_str().unwrap_or("?");
                reading
                    .outcomes
                    .push(ChangeOutcome::Failed(config_error(format!(
                        "Shopify has no variant {asked}: the store's mapping is stale"
                    ))));
            }
            (_, Err(e)) => reading.outcomes.push(ChangeOutcome::Failed(e)),
        }
    }
    reading.follow_ups = set(ctx, found)?;
    Ok(reading)
}
