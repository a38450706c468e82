//! A fake Shopify GraphQL Admin API (2026-10) on 127.0.0.1 for end-to-end
//! tests and the initial-sync benchmark: `POST /admin/api/{version}/graphql.json`
//! answered as Shopify answers the operations the Shopify connector sends.
//!
//! Every document is parsed and validated against
//! `shopify_admin_2026_10.graphql` (a subset of Shopify's schema written
//! from its reference pages) with apollo-compiler, and its variables are
//! coerced to their declared types: a misspelt field, a wrong argument or a
//! variable of the wrong type fails as at Shopify, with no `data`. Then,
//! per root field (aliases honoured), the fake applies Shopify's rules and
//! answers exactly the fields the document selected:
//!
//! - `inventorySetQuantities` (mutations/inventorySetQuantities,
//!   input-objects/InventoryQuantityInput, changelog "making idempotency
//!   mandatory"): the `@idempotent(key:)` directive is required (its absence
//!   is a top-level error: the shape is UNCONFIRMED); every quantity must
//!   carry `changeFromQuantity` (explicit `null` opts out of the check; an
//!   omitted one is a user error); a compare that differs from the held
//!   level is `CHANGE_FROM_QUANTITY_STALE` naming
//!   `["input", "quantities", i, "changeFromQuantity"]`; unknown items and
//!   locations are `INVALID_INVENTORY_ITEM` / `INVALID_LOCATION`; any user
//!   error applies nothing (all or nothing: UNCONFIRMED, the payload's group
//!   is null then); a key seen before with the same input replays the first
//!   answer and applies nothing, with another input it is
//!   `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`;
//! - `productVariantsBulkUpdate` (one product per call, `allowPartialUpdates`);
//! - `nodes(ids:)` for inventory items (with `inventoryLevel(locationId:)`),
//!   variants and products; `order(id:)` with its fulfillment orders;
//! - `fulfillmentCreate` (open or in-progress fulfillment orders only) and
//!   `orderCancel` (`NOT_FOUND`, `INVALID` when already cancelled);
//! - input lists over 250 items are refused whole (usage/limits: "Input
//!   arguments that accept an array have a maximum size of 250");
//! - cost: 10 points a mutation field, 1 per object a query selects (a
//!   connection its `first`), a 1,000-point maximum a query; a leaky bucket
//!   per plan (Standard 2,000 restoring 100/s, Advanced 4,000 / 200, Plus
//!   20,000 / 1,000: restore rates from the rate-limits page, bucket sizes
//!   as observed in public responses, UNCONFIRMED); a request that does not
//!   fit is answered `THROTTLED` with the throttle status and applies
//!   nothing. Every answer carries `extensions.cost`.
//!
//! The access token must match (401 otherwise). Every call is recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Map, Value};

static SCHEMA: LazyLock<Valid<Schema>> = LazyLock::new(|| {
    Schema::parse_and_validate(
        include_str!("shopify_admin_2026_10.graphql"),
        "shopify_admin_2026_10.graphql",
    )
    .expect("the schema subset is valid")
});

/// Versions the fake answers.
const VERSIONS: &[&str] = &["2026-04", "2026-07", "2026-10"];
/// Shopify's maximum size of an input list.
const MAX_INPUT: usize = 250;
const MUTATION_COST: f64 = 10.0;
const MAX_QUERY_COST: f64 = 1000.0;

/// A shop's plan: its bucket of cost points and restore rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Standard,
    Advanced,
    Plus,
}

impl Plan {
    fn bucket(self) -> (f64, f64) {
        match self {
            Plan::Standard => (2_000.0, 100.0),
            Plan::Advanced => (4_000.0, 200.0),
            Plan::Plus => (20_000.0, 1_000.0),
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct ShopifyCall {
    pub at: Instant,
    /// The operation's name.
    pub operation: Option<String>,
    /// The root fields' names (not their aliases).
    pub root_fields: Vec<String>,
    pub query: String,
    pub variables: Value,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub status: u16,
    pub throttled: bool,
    /// Codes of the top-level errors.
    pub errors: Vec<String>,
    /// Codes of the user errors (`""` for one without a code).
    pub user_errors: Vec<String>,
    pub cost: u32,
}

impl ShopifyCall {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Variant {
    product: u64,
    item: u64,
    price: String,
    compare_at: Option<String>,
}

/// A fulfillment order to set up: its id, status (`OPEN`, `CLOSED` ...) and
/// (line item id, quantity) lines.
pub type FulfillmentOrderSpec<'a> = (u64, &'a str, &'a [(u64, i64)]);

struct FulfillmentOrder {
    id: u64,
    status: String,
    lines: Vec<(u64, i64, i64)>,
}

#[derive(Default)]
struct State {
    token: String,
    levels: HashMap<(u64, u64), i64>,
    items: HashMap<u64, ()>,
    locations: HashMap<u64, ()>,
    variants: BTreeMap<u64, Variant>,
    orders: BTreeMap<u64, Vec<FulfillmentOrder>>,
    fulfilled: BTreeMap<u64, Vec<Value>>,
    cancelled: BTreeMap<u64, Value>,
    /// Idempotency key -> (input, the payload answered).
    keys: HashMap<String, (Value, Value)>,
    calls: Vec<ShopifyCall>,
    bucket: (f64, f64, f64, Option<Instant>),
    groups: u64,
}

/// The fake shop.
#[derive(Clone)]
pub struct FakeShopify {
    /// `http://127.0.0.1:PORT`: the store's `base_url`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeShopify {
    /// Starts a shop whose Admin API token is `access_token`, on `plan`.
    pub async fn start(access_token: &str, plan: Plan) -> FakeShopify {
        LazyLock::force(&SCHEMA);
        let (maximum, restore) = plan.bucket();
        let state = Arc::new(Mutex::new(State {
            token: access_token.to_string(),
            bucket: (maximum, restore, maximum, None),
            ..State::default()
        }));
        let served = state.clone();
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: axum::body::Bytes| {
                let state = served.clone();
                async move {
                    let (status, answer) = serve(&state, &method, uri.path(), &headers, &body);
                    let mut res =
                        axum::response::Response::new(axum::body::Body::from(answer.to_string()));
                    res.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    *res.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                    res
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeShopify { base, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// A location of the shop.
    pub fn location(&self, id: u64) {
        self.with(|s| s.locations.insert(id, ()));
    }

    /// An inventory item stocked at a location with `available`.
    pub fn stock(&self, item: u64, location: u64, available: i64) {
        self.stock_many(location, [(item, available)]);
    }

    /// Many inventory items at one location.
    pub fn stock_many(&self, location: u64, items: impl IntoIterator<Item = (u64, i64)>) {
        self.with(|s| {
            s.locations.insert(location, ());
            for (item, available) in items {
                s.items.insert(item, ());
                s.levels.insert((item, location), available);
            }
        });
    }

    /// A product's variant with its inventory item and price.
    pub fn variant(&self, product: u64, variant: u64, item: u64, price: &str) {
        self.with(|s| {
            s.items.insert(item, ());
            s.variants.insert(
                variant,
                Variant {
                    product,
                    item,
                    price: price.to_string(),
                    compare_at: None,
                },
            );
        });
    }

    /// An order and its fulfillment orders: (id, status, [(line item id, quantity)]).
    pub fn order(&self, order: u64, fulfillment_orders: &[FulfillmentOrderSpec<'_>]) {
        self.with(|s| {
            s.orders.insert(
                order,
                fulfillment_orders
                    .iter()
                    .map(|(id, status, lines)| FulfillmentOrder {
                        id: *id,
                        status: status.to_string(),
                        lines: lines.iter().map(|(l, q)| (*l, *q, *q)).collect(),
                    })
                    .collect(),
            );
        });
    }

    /// A sale made on the storefront: `quantity` fewer available.
    pub fn sell(&self, item: u64, location: u64, quantity: i64) {
        self.with(|s| *s.levels.entry((item, location)).or_insert(0) -= quantity);
    }

    pub fn level(&self, item: u64, location: u64) -> Option<i64> {
        self.with(|s| s.levels.get(&(item, location)).copied())
    }

    /// Items stocked at a location.
    pub fn count_at(&self, location: u64) -> usize {
        self.with(|s| s.levels.keys().filter(|(_, l)| *l == location).count())
    }

    /// A variant's price and compare-at price.
    pub fn price(&self, variant: u64) -> Option<(String, Option<String>)> {
        self.with(|s| {
            s.variants
                .get(&variant)
                .map(|v| (v.price.clone(), v.compare_at.clone()))
        })
    }

    /// The fulfilments created for an order (their `FulfillmentInput`).
    pub fn fulfilled(&self, order: u64) -> Vec<Value> {
        self.with(|s| s.fulfilled.get(&order).cloned().unwrap_or_default())
    }

    /// How an order was cancelled, if it was.
    pub fn cancelled(&self, order: u64) -> Option<Value> {
        self.with(|s| s.cancelled.get(&order).cloned())
    }

    /// Drains (or fills) the cost bucket to `available` points.
    pub fn set_bucket(&self, available: f64) {
        self.with(|s| {
            s.bucket.2 = available;
            s.bucket.3 = Some(Instant::now());
        });
    }

    pub fn calls(&self) -> Vec<ShopifyCall> {
        self.with(|s| s.calls.clone())
    }

    /// How many requests were answered `THROTTLED`.
    pub fn throttled(&self) -> usize {
        self.with(|s| s.calls.iter().filter(|c| c.throttled).count())
    }

    /// Waits until `done` holds of the shop, up to `within`.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&FakeShopify) -> bool) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if done(self) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The number of a gid of `kind`.
fn id_of(kind: &str, value: &Value) -> Option<u64> {
    value
        .as_str()?
        .strip_prefix("gid://shopify/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

fn error(message: &str, code: &str) -> Value {
    json!({"message": message, "extensions": {"code": code}})
}

fn serve(
    state: &Mutex<State>,
    method: &axum::http::Method,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> (u16, Value) {
    let version = path
        .strip_prefix("/admin/api/")
        .and_then(|p| p.strip_suffix("/graphql.json"));
    if method != axum::http::Method::POST || !version.is_some_and(|v| VERSIONS.contains(&v)) {
        return (404, json!({"errors": "Not Found"}));
    }
    let mut s = state.lock().unwrap();
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut call = ShopifyCall {
        at: Instant::now(),
        operation: request["operationName"].as_str().map(str::to_string),
        root_fields: vec![],
        query: request["query"].as_str().unwrap_or_default().to_string(),
        variables: request["variables"].clone(),
        headers: header_list,
        status: 200,
        throttled: false,
        errors: vec![],
        user_errors: vec![],
        cost: 0,
    };
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    let (status, answer) = if token != Some(s.token.as_str()) {
        (
            401,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        )
    } else if !request.is_object() {
        (400, json!({"errors": "Bad Request: the body is not JSON"}))
    } else {
        (200, run(&mut s, &request, &mut call))
    };
    call.status = status;
    call.errors = answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
        .collect();
    call.throttled = call.errors.iter().any(|c| c == "THROTTLED");
    s.calls.push(call);
    (status, answer)
}

/// Validates, costs and executes a document.
fn run(s: &mut State, request: &Value, call: &mut ShopifyCall) -> Value {
    let query = request["query"].as_str().unwrap_or_default();
    let doc = match ExecutableDocument::parse_and_validate(&SCHEMA, query, "request.graphql") {
        Ok(doc) => doc,
        Err(e) => {
            let errors: Vec<Value> = e
                .errors
                .iter()
                .map(|d| error(&d.error.to_string(), "GRAPHQL_VALIDATION_FAILED"))
                .collect();
            return json!({ "errors": errors });
        }
    };
    let Ok(operation) = doc.operations.get(request["operationName"].as_str()) else {
        return json!({"errors": [error("No operation with that name", "BAD_REQUEST")]});
    };
    if call.operation.is_none() {
        call.operation = operation.name.as_ref().map(|n| n.to_string());
    }
    let variables = request
        .get("variables")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let coerced = serde_json::from_value(variables.clone())
        .map_err(|e| e.to_string())
        .and_then(|map| {
            apollo_compiler::request::coerce_variable_values(&SCHEMA, operation, &map)
                .map_err(|e| e.message().to_string())
        });
    if let Err(message) = coerced {
        return json!({"errors": [error(&message, "INVALID_VARIABLE")]});
    }
    let fields: Vec<&Field> = operation
        .selection_set
        .selections
        .iter()
        .filter_map(|s| match s {
            Selection::Field(f) => Some(&**f),
            _ => None,
        })
        .collect();
    call.root_fields = fields.iter().map(|f| f.name.to_string()).collect();
    let mutation = operation.operation_type.is_mutation();
    // Arguments with variables put in, as sent (an omitted key stays out).
    let args: Vec<Map<String, Value>> = fields
        .iter()
        .map(|f| {
            f.arguments
                .iter()
                .map(|a| (a.name.to_string(), literal(&a.value, &variables)))
                .collect()
        })
        .collect();
    for a in &args {
        if let Some(n) = oversized(&Value::Object(a.clone())) {
            return json!({"errors": [error(
                &format!("The input array size of {n} is greater than the maximum allowed of {MAX_INPUT}."),
                "MAX_INPUT_SIZE_EXCEEDED",
            )]});
        }
    }
    let requested = if mutation {
        MUTATION_COST * fields.len() as f64
    } else {
        fields
            .iter()
            .zip(&args)
            .map(|(f, a)| query_cost(f, a))
            .sum()
    };
    call.cost = requested as u32;
    let (maximum, restore, ref mut available, ref mut at) = s.bucket;
    let now = Instant::now();
    if let Some(then) = at {
        *available = (*available + (now - *then).as_secs_f64() * restore).min(maximum);
    }
    *at = Some(now);
    let status = |available: f64| json!({"maximumAvailable": maximum, "currentlyAvailable": available.floor(), "restoreRate": restore});
    if requested > MAX_QUERY_COST {
        return json!({"errors": [error(
            &format!("Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."),
            "MAX_COST_EXCEEDED",
        )], "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": null,
            "throttleStatus": status(*available)}}});
    }
    if requested > *available {
        return json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
            "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": null,
            "throttleStatus": status(*available)}}});
    }
    *available -= requested;
    let left = *available;
    let mut data = Map::new();
    for (field, args) in fields.iter().zip(args) {
        let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
        let full = match (field.name.as_str(), mutation) {
            ("inventorySetQuantities", true) => {
                let Some(key) = field
                    .directives
                    .get("idempotent")
                    .and_then(|d| d.specified_argument_by_name("key"))
                    .map(|v| literal(v, &variables))
                    .and_then(|v| v.as_str().map(str::to_string))
                else {
                    return json!({"errors": [error(
                        "The @idempotent directive is required for this mutation as of API version 2026-04.",
                        "BAD_REQUEST",
                    )]});
                };
                set_quantities(s, &key, &args)
            }
            ("productVariantsBulkUpdate", true) => bulk_update(s, &args),
            ("fulfillmentCreate", true) => fulfil(s, &args),
            ("orderCancel", true) => cancel(s, &args),
            ("nodes", false) => Value::Array(
                args["ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|id| node(s, id))
                    .collect(),
            ),
            ("order", false) => order(s, &args["id"]),
            ("job", false) => json!({"__typename": "Job", "id": args["id"], "done": true}),
            _ => Value::Null,
        };
        for e in full
            .get("userErrors")
            .or_else(|| full.get("orderCancelUserErrors"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            call.user_errors
                .push(e["code"].as_str().unwrap_or_default().to_string());
        }
        data.insert(
            key,
            project(s, &doc, &full, &field.selection_set, &variables),
        );
    }
    json!({"data": data, "extensions": {"cost": {"requestedQueryCost": requested,
        "actualQueryCost": requested, "throttleStatus": status(left)}}})
}

/// A document value as JSON, with variables put in as sent.
fn literal(value: &apollo_compiler::ast::Value, variables: &Value) -> Value {
    use apollo_compiler::ast::Value as V;
    match value {
        V::Null => Value::Null,
        V::Enum(n) => Value::String(n.to_string()),
        V::Variable(n) => variables.get(n.as_str()).cloned().unwrap_or(Value::Null),
        V::String(s) => Value::String(s.clone()),
        V::Float(f) => f.try_to_f64().map(Value::from).unwrap_or(Value::Null),
        V::Int(i) => i
            .as_str()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        V::Boolean(b) => Value::Bool(*b),
        V::List(items) => items.iter().map(|i| literal(i, variables)).collect(),
        V::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), literal(v, variables)))
                .collect(),
        ),
    }
}

/// The size of the first input list over the limit, if any.
fn oversized(value: &Value) -> Option<usize> {
    match value {
        Value::Array(items) if items.len() > MAX_INPUT => Some(items.len()),
        Value::Array(items) => items.iter().find_map(oversized),
        Value::Object(fields) => fields.values().find_map(oversized),
        _ => None,
    }
}

/// A query field's requested cost: 1 an object, a list of ids or a
/// connection's `first` times what each element selects.
fn query_cost(field: &Field, args: &Map<String, Value>) -> f64 {
    let inner: f64 = field
        .selection_set
        .selections
        .iter()
        .map(|s| match s {
            Selection::Field(f) => {
                let a: Map<String, Value> = f
                    .arguments
                    .iter()
                    .map(|a| (a.name.to_string(), literal(&a.value, &Value::Null)))
                    .collect();
                query_cost(f, &a)
            }
            Selection::InlineFragment(i) => i
                .selection_set
                .selections
                .iter()
                .filter_map(|s| match s {
                    Selection::Field(f) => Some(query_cost(f, &Map::new())),
                    _ => None,
                })
                .sum(),
            Selection::FragmentSpread(_) => 1.0,
        })
        .sum();
    if field.selection_set.selections.is_empty() {
        return 0.0;
    }
    let times = match (args.get("ids"), args.get("first")) {
        (Some(Value::Array(ids)), _) => ids.len() as f64,
        (_, Some(first)) => first.as_f64().unwrap_or(1.0) + 2.0,
        _ => 1.0,
    };
    times * (1.0 + inner)
}

/// A resolved value cut to what the selection set asks for (aliases,
/// inline fragments on `__typename`, fields with arguments resolved here).
fn project(
    s: &State,
    doc: &ExecutableDocument,
    full: &Value,
    selections: &SelectionSet,
    variables: &Value,
) -> Value {
    if selections.selections.is_empty() || full.is_null() {
        return full.clone();
    }
    if let Value::Array(items) = full {
        return items
            .iter()
            .map(|i| project(s, doc, i, selections, variables))
            .collect();
    }
    let mut out = Map::new();
    project_into(s, doc, full, selections, variables, &mut out);
    Value::Object(out)
}

fn project_into(
    s: &State,
    doc: &ExecutableDocument,
    full: &Value,
    selections: &SelectionSet,
    variables: &Value,
    out: &mut Map<String, Value>,
) {
    for selection in &selections.selections {
        match selection {
            Selection::Field(f) => {
                let key = f.alias.as_ref().unwrap_or(&f.name).to_string();
                let args: Map<String, Value> = f
                    .arguments
                    .iter()
                    .map(|a| (a.name.to_string(), literal(&a.value, variables)))
                    .collect();
                let value = resolve(s, full, f.name.as_str(), &args);
                out.insert(key, project(s, doc, &value, &f.selection_set, variables));
            }
            Selection::InlineFragment(i) => {
                let applies = i
                    .type_condition
                    .as_ref()
                    .is_none_or(|t| full["__typename"] == t.as_str());
                if applies {
                    project_into(s, doc, full, &i.selection_set, variables, out);
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.fragment_name) {
                    if full["__typename"] == fragment.type_condition().as_str() {
                        project_into(s, doc, full, &fragment.selection_set, variables, out);
                    }
                }
            }
        }
    }
}

/// A field of a resolved object: the ones with arguments are worked out
/// from the shop's state.
fn resolve(s: &State, parent: &Value, name: &str, args: &Map<String, Value>) -> Value {
    match (parent["__typename"].as_str(), name) {
        (Some("InventoryItem"), "inventoryLevel") => {
            let item = id_of("InventoryItem", &parent["id"]).unwrap_or_default();
            let Some(location) = args.get("locationId").and_then(|l| id_of("Location", l)) else {
                return Value::Null;
            };
            match s.levels.get(&(item, location)) {
                Some(available) => json!({"__typename": "InventoryLevel",
                    "id": format!("gid://shopify/InventoryLevel/{item}?inventory_item_id={item}"),
                    "location": {"__typename": "Location", "id": gid("Location", location)},
                    "__quantities": {"available": available, "on_hand": available}}),
                None => Value::Null,
            }
        }
        (Some("InventoryLevel"), "quantities") => args
            .get("names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| {
                let q = parent["__quantities"].get(n.as_str()?)?;
                Some(json!({"__typename": "InventoryQuantity", "name": n, "quantity": q}))
            })
            .collect(),
        (_, "__typename") => parent["__typename"].clone(),
        _ => parent.get(name).cloned().unwrap_or(Value::Null),
    }
}

fn user_error(code: &str, field: &[String], message: &str) -> Value {
    json!({"__typename": "InventorySetQuantitiesUserError", "code": code, "field": field, "message": message})
}

fn path(i: usize, leaf: &str) -> Vec<String> {
    vec![
        "input".into(),
        "quantities".into(),
        i.to_string(),
        leaf.into(),
    ]
}

fn set_quantities(s: &mut State, key: &str, args: &Map<String, Value>) -> Value {
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    if let Some((first_input, answered)) = s.keys.get(key) {
        if *first_input == input {
            return answered.clone();
        }
        return json!({"inventoryAdjustmentGroup": null, "userErrors": [
            {"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "field": null,
             "message": "The same idempotency key cannot be used with different operation parameters."}]});
    }
    let mut errors = Vec::new();
    let name = input["name"].as_str().unwrap_or_default();
    if !matches!(name, "available" | "on_hand") {
        errors.push(json!({"code": "INVALID_NAME", "field": ["input", "name"],
            "message": "The quantity name must be either 'available' or 'on_hand'."}));
    }
    const REASONS: &[&str] = &[
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    ];
    if !REASONS.contains(&input["reason"].as_str().unwrap_or_default()) {
        errors.push(
            json!({"code": "INVALID_REASON", "field": ["input", "reason"],
            "message": "The specified reason is invalid."}),
        );
    }
    let quantities = input["quantities"].as_array().cloned().unwrap_or_default();
    let mut sets = Vec::new();
    let mut seen = HashMap::new();
    for (i, q) in quantities.iter().enumerate() {
        let item =
            id_of("InventoryItem", &q["inventoryItemId"]).filter(|i| s.items.contains_key(i));
        let location = id_of("Location", &q["locationId"]).filter(|l| s.locations.contains_key(l));
        let (Some(item), Some(location)) = (item, location) else {
            if item.is_none() {
                errors.push(user_error(
                    "INVALID_INVENTORY_ITEM",
                    &path(i, "inventoryItemId"),
                    "The specified inventory item could not be found.",
                ));
            } else {
                errors.push(user_error(
                    "INVALID_LOCATION",
                    &path(i, "locationId"),
                    "The specified location could not be found.",
                ));
            }
            continue;
        };
        if seen.insert((item, location), i).is_some() {
            errors.push(user_error(
                "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                &path(i, "inventoryItemId"),
                "The combination of inventoryItemId and locationId must be unique.",
            ));
            continue;
        }
        let held = s.levels.get(&(item, location)).copied();
        match q.get("changeFromQuantity") {
            None => errors.push(json!({"code": null, "field": path(i, "changeFromQuantity"),
                "message": "changeFromQuantity must be provided for each quantity (explicitly null to opt out)"})),
            Some(Value::Null) => {}
            Some(compare) if compare.as_i64() != Some(held.unwrap_or(0)) => {
                errors.push(user_error(
                    "CHANGE_FROM_QUANTITY_STALE",
                    &path(i, "changeFromQuantity"),
                    "The changeFromQuantity value does not match persisted value.",
                ))
            }
            Some(_) => {}
        }
        let Some(quantity) = q["quantity"].as_i64() else {
            continue;
        };
        sets.push((item, location, quantity, held.unwrap_or(0)));
    }
    let answer = if errors.is_empty() {
        s.groups += 1;
        let mut changes = Vec::new();
        for (item, location, quantity, before) in sets {
            s.levels.insert((item, location), quantity);
            for name in ["available", "on_hand"] {
                changes.push(json!({"__typename": "InventoryChange", "name": name,
                    "delta": quantity - before, "quantityAfterChange": null,
                    "item": {"__typename": "InventoryItem", "id": gid("InventoryItem", item)},
                    "location": {"__typename": "Location", "id": gid("Location", location)}}));
            }
        }
        json!({"inventoryAdjustmentGroup": {"__typename": "InventoryAdjustmentGroup",
            "id": gid("InventoryAdjustmentGroup", s.groups), "reason": "Inventory correction",
            "referenceDocumentUri": input["referenceDocumentUri"], "createdAt": "2026-12-02T00:00:00Z",
            "changes": changes}, "userErrors": []})
    } else {
        json!({"inventoryAdjustmentGroup": null, "userErrors": errors})
    };
    s.keys.insert(key.to_string(), (input, answer.clone()));
    answer
}

fn bulk_update(s: &mut State, args: &Map<String, Value>) -> Value {
    let product = args
        .get("productId")
        .and_then(|p| id_of("Product", p))
        .filter(|p| s.variants.values().any(|v| v.product == *p));
    let Some(product) = product else {
        return json!({"product": null, "productVariants": null, "userErrors": [
            {"code": "PRODUCT_DOES_NOT_EXIST", "field": ["productId"], "message": "Product does not exist"}]});
    };
    let partial = args.get("allowPartialUpdates") == Some(&Value::Bool(true));
    let variants = args
        .get("variants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut valid = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let field = |leaf: &str| json!(["variants", i.to_string(), leaf]);
        let Some(id) = id_of("ProductVariant", &v["id"])
            .filter(|id| s.variants.get(id).is_some_and(|x| x.product == product))
        else {
            errors.push(
                json!({"code": "PRODUCT_VARIANT_DOES_NOT_EXIST", "field": field("id"),
                "message": "Product variant does not exist"}),
            );
            continue;
        };
        let price = v.get("price").and_then(Value::as_str);
        if price.is_some_and(|p| p.trim_start().starts_with('-')) {
            errors.push(
                json!({"code": "GREATER_THAN_OR_EQUAL_TO", "field": field("price"),
                "message": "Price must be greater than or equal to 0"}),
            );
            continue;
        }
        valid.push((id, v.clone()));
    }
    if !errors.is_empty() && !partial {
        valid.clear();
    }
    let mut updated = Vec::new();
    for (id, v) in valid {
        let held = s.variants.get_mut(&id).expect("checked");
        if let Some(price) = v.get("price").and_then(Value::as_str) {
            held.price = price.to_string();
        }
        if let Some(compare) = v.get("compareAtPrice") {
            held.compare_at = compare.as_str().map(str::to_string);
        }
        updated.push(
            json!({"__typename": "ProductVariant", "id": gid("ProductVariant", id),
            "price": held.price, "compareAtPrice": held.compare_at}),
        );
    }
    json!({"product": {"__typename": "Product", "id": gid("Product", product)},
        "productVariants": updated, "userErrors": errors})
}

fn node(s: &State, id: &Value) -> Value {
    if let Some(item) = id_of("InventoryItem", id).filter(|i| s.items.contains_key(i)) {
        let variant = s.variants.iter().find(|(_, v)| v.item == item).map(
            |(vid, _)| json!({"__typename": "ProductVariant", "id": gid("ProductVariant", *vid)}),
        );
        return json!({"__typename": "InventoryItem", "id": id, "variant": variant});
    }
    if let Some((vid, v)) = id_of("ProductVariant", id).and_then(|v| s.variants.get_key_value(&v)) {
        return json!({"__typename": "ProductVariant", "id": gid("ProductVariant", *vid),
            "price": v.price, "compareAtPrice": v.compare_at,
            "product": {"__typename": "Product", "id": gid("Product", v.product)},
            "inventoryItem": {"__typename": "InventoryItem", "id": gid("InventoryItem", v.item)}});
    }
    if let Some(p) = id_of("Product", id).filter(|p| s.variants.values().any(|v| v.product == *p)) {
        return json!({"__typename": "Product", "id": gid("Product", p)});
    }
    Value::Null
}

fn order(s: &State, id: &Value) -> Value {
    let Some((order, fos)) = id_of("Order", id).and_then(|o| s.orders.get_key_value(&o)) else {
        return Value::Null;
    };
    let nodes: Vec<Value> = fos
        .iter()
        .map(|fo| {
            let lines: Vec<Value> = fo
                .lines
                .iter()
                .map(|(l, total, remaining)| {
                    json!({"__typename": "FulfillmentOrderLineItem",
                    "id": gid("FulfillmentOrderLineItem", *l), "totalQuantity": total,
                    "remainingQuantity": remaining})
                })
                .collect();
            json!({"__typename": "FulfillmentOrder", "id": gid("FulfillmentOrder", fo.id),
                "status": fo.status, "lineItems": {"nodes": lines}})
        })
        .collect();
    json!({"__typename": "Order", "id": gid("Order", *order),
        "cancelledAt": s.cancelled.get(order).map(|_| "2026-12-02T00:00:00Z"),
        "fulfillmentOrders": {"nodes": nodes}})
}

fn fulfil(s: &mut State, args: &Map<String, Value>) -> Value {
    let input = args.get("fulfillment").cloned().unwrap_or(Value::Null);
    let wanted: Vec<u64> = input["lineItemsByFulfillmentOrder"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| id_of("FulfillmentOrder", &l["fulfillmentOrderId"]))
        .collect();
    let owner = s.orders.iter().find_map(|(order, fos)| {
        wanted
            .iter()
            .all(|w| fos.iter().any(|fo| fo.id == *w))
            .then_some(*order)
    });
    let open = owner.is_some_and(|o| {
        s.orders[&o]
            .iter()
            .filter(|fo| wanted.contains(&fo.id))
            .all(|fo| matches!(fo.status.as_str(), "OPEN" | "IN_PROGRESS"))
    });
    let (Some(order), true, false) = (owner, open, wanted.is_empty()) else {
        return json!({"fulfillment": null, "userErrors": [{"__typename": "UserError",
            "field": ["fulfillment"], "message": "Fulfillment order is not open or does not exist"}]});
    };
    for fo in s.orders.get_mut(&order).expect("found").iter_mut() {
        if wanted.contains(&fo.id) {
            fo.status = "CLOSED".into();
            for line in &mut fo.lines {
                line.2 = 0;
            }
        }
    }
    s.fulfilled.entry(order).or_default().push(input.clone());
    s.groups += 1;
    json!({"fulfillment": {"__typename": "Fulfillment", "id": gid("Fulfillment", s.groups),
        "status": "SUCCESS", "trackingInfo": [input["trackingInfo"].clone()]}, "userErrors": []})
}

fn cancel(s: &mut State, args: &Map<String, Value>) -> Value {
    let order = args.get("orderId").and_then(|o| id_of("Order", o));
    let problem = match order {
        Some(o) if !s.orders.contains_key(&o) => Some(("NOT_FOUND", "Order does not exist")),
        None => Some(("NOT_FOUND", "Order does not exist")),
        Some(o) if s.cancelled.contains_key(&o) => {
            Some(("INVALID", "Order has already been cancelled"))
        }
        Some(_) => None,
    };
    if let Some((code, message)) = problem {
        return json!({"job": null, "orderCancelUserErrors": [{"__typename": "OrderCancelUserError",
            "code": code, "field": ["orderId"], "message": message}], "userErrors": []});
    }
    let order = order.expect("checked");
    s.cancelled.insert(
        order,
        json!({"reason": args.get("reason"), "restock": args.get("restock"),
               "notifyCustomer": args.get("notifyCustomer"), "staffNote": args.get("staffNote")}),
    );
    s.groups += 1;
    json!({"job": {"__typename": "Job", "id": format!("gid://shopify/Job/{}", s.groups), "done": false},
        "orderCancelUserErrors": [], "userErrors": []})
}
