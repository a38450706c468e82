//! A fake Shopify on 127.0.0.1 for end-to-end tests and benchmarks: the
//! GraphQL Admin API, version 2026-10, as far as the Shopify connector uses
//! it. The rules and their sources (shopify.dev pages as read in
//! `plugins/shopify/GRAPHQL-NOTES.md`, which gives each page's api_version);
//! UNCONFIRMED marks a choice the docs do not back.
//!
//! - `POST /admin/api/{2026-04,2026-07,2026-10}/graphql.json` (notes §8:
//!   the endpoint; the other two supported versions answer the same), any
//!   other path or method 404 `{"errors":"Not Found"}` (UNCONFIRMED shape);
//!   answers carry `X-Shopify-API-Version`.
//! - `X-Shopify-Access-Token` must be the shop's token, else 401
//!   `{"errors":"[API] Invalid API key or access token (unrecognized login
//!   or wrong password)"}` (notes §8 for the header; the body is Shopify's
//!   well-known one, UNCONFIRMED from docs). A body that is not a JSON
//!   object with a `query` string: 400
//!   `{"errors":{"query":"Required parameter missing or invalid"}}`
//!   (UNCONFIRMED).
//! - Every document is parsed and validated (apollo-compiler) against
//!   `shopify_admin_2026_10.graphql`, a hand-written SUBSET of the 2026-10
//!   schema holding only what this fake serves; an invalid one answers 200
//!   with apollo's messages and `extensions.code`
//!   `GRAPHQL_VALIDATION_FAILED`, no `data` (the code is Shopify's, the
//!   messages are apollo's, not Shopify's wording). Variables are coerced to
//!   their declared types (GraphQL spec CoerceVariableValues); a failure is
//!   `INVALID_VARIABLE` (UNCONFIRMED code). An omitted input field stays
//!   omitted, so an omitted `changeFromQuantity` is told from an explicit
//!   `null`; the raw variables are kept in each [`ShopifyCall`].
//!   `operationName` naming no operation (or several operations without
//!   one): `BAD_REQUEST` (UNCONFIRMED).
//! - Input arrays: any list argument over 250 items (also inside input
//!   objects: `quantities`, `variants`, `ids`...) refuses the request whole,
//!   `MAX_INPUT_SIZE_EXCEEDED`, "The input array size of 251 is greater than
//!   the maximum allowed of 250." (the limit: /docs/api/usage/limits, notes
//!   §1; code and message UNCONFIRMED).
//! - `inventorySetQuantities` without `@idempotent(key:)` on the field is
//!   refused whole, top-level `BAD_REQUEST` (required as of 2026-04:
//!   changelog "making idempotency mandatory", notes §2; the error's shape
//!   is UNCONFIRMED, the docs say only "an error at runtime").
//! - Cost, before execution (rate-limits page, notes §7): a mutation root
//!   field costs 10 (UNCONFIRMED: third-party summary, captured answers); in
//!   a query an object, interface or union field costs 1 plus its
//!   selection (an abstract type: the most expensive possible type, as the
//!   docs' default cost table says), scalars and enums 0; a connection
//!   (`...Connection` type) costs 2 plus `first` (or `last`, default 1)
//!   times its node's cost (`nodes` or `edges { node }`; UNCONFIRMED); a
//!   list field with an `ids` argument counts once per id. Over 1000:
//!   `MAX_COST_EXCEEDED` (the limit: older official text; code UNCONFIRMED).
//!   A leaky bucket per fake, in real time: `Plan::Standard` 2000 restoring
//!   100/s, `Advanced` 4000/200, `Plus` 20000/1000 (restore rates
//!   confirmed; maximums observed in captured answers, Advanced's inferred
//!   as 20 × its rate: UNCONFIRMED). A request costing more than is
//!   available answers HTTP 200 `THROTTLED` (shape from Shopify's library
//!   mocks; the status UNCONFIRMED) with `actualQueryCost: null` and
//!   applies nothing; otherwise the cost is taken and every answer carries
//!   `extensions.cost` (the actual cost is the requested one: UNCONFIRMED
//!   simplification, Shopify refunds the difference).
//! - Execution: each root field (aliases honoured, mutations in order) is
//!   resolved to a full value, then projected through its selection set
//!   (aliases, nested selections, arguments, `__typename`, fragments, inline
//!   fragments on `Node`, `@skip`/`@include`).
//!
//! Root fields:
//! - `inventorySetQuantities` (mutation page and input objects, 2026-07 and
//!   2026-10): `name` `available` or `on_hand` (else `INVALID_NAME`),
//!   `reason` one of [`REASONS`] (else `INVALID_REASON`; the list is the
//!   one public integrations use, UNCONFIRMED from docs), every quantity's
//!   `changeFromQuantity` present (omitted: a userError with code null and
//!   field `["input","quantities","i","changeFromQuantity"]`: UNCONFIRMED
//!   shape) and, unless null, equal to the held quantity (else
//!   `CHANGE_FROM_QUANTITY_STALE`; an item not stocked there holds 0);
//!   unknown item `INVALID_INVENTORY_ITEM`, unknown location
//!   `INVALID_LOCATION`, a repeated item and location
//!   `NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR`, beyond ±1,000,000,000
//!   `INVALID_QUANTITY_TOO_HIGH`/`_TOO_LOW` (enum page); field paths as
//!   public integrations see them (`["input","quantities","0",
//!   "inventoryItemId"]`). Any userError applies nothing. An item not yet
//!   stocked at a known location becomes stocked (2026-10 removed
//!   `ITEM_NOT_STOCKED_AT_LOCATION`: changelog). The group answers the docs
//!   example's shape: `reason` as its display string ("Inventory
//!   correction" for `correction`, per the example; others capitalised:
//!   UNCONFIRMED), an `available` and an `on_hand` change per quantity
//!   (on_hand = available here, nothing is committed), `quantityAfterChange`
//!   null as in every docs example. Idempotency (implementing-idempotency
//!   page, changelog): a key seen before with the same `input` replays the
//!   first answer (errors included) and applies nothing; with another input
//!   `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`. Keys are kept for the fake's life
//!   (the retention window is UNCONFIRMED).
//! - `productVariantsBulkUpdate` (2026-01 mutation page): unknown product
//!   `PRODUCT_DOES_NOT_EXIST` `["productId"]`; a variant not of that product
//!   `PRODUCT_VARIANT_DOES_NOT_EXIST` `["variants","i","id"]` (no id:
//!   `PRODUCT_VARIANT_ID_MISSING`); a negative price or compare-at price
//!   `GREATER_THAN_OR_EQUAL_TO` `["variants","i","price"]` (captured
//!   answer); not a decimal `INVALID_INPUT`; `price: null` `BLANK`;
//!   `compareAtPrice: null` clears it (UNCONFIRMED, commonly done). Without
//!   `allowPartialUpdates` any error applies nothing and `productVariants`
//!   is null (UNCONFIRMED); with it the valid variants are applied and
//!   listed. Money is held as a 2-decimal string.
//! - `nodes(ids:)`, `order(id:)`, `job(id:)`: unknown or malformed ids are
//!   null (Shopify refuses a malformed gid: UNCONFIRMED simplification).
//!   `InventoryItem.inventoryLevel(locationId:)` null when not stocked
//!   there (notes §3); `quantities(names:)` in the order of `names`.
//!   Connections take `first`/`after`/`last`/`before`/`reverse`; with
//!   neither `first` nor `last` they list everything (Shopify refuses that:
//!   UNCONFIRMED simplification). A job is done once asked for.
//! - `fulfillmentCreate` (2026-07 mutation page): every fulfillment order
//!   must exist, be `OPEN` or `IN_PROGRESS` (the statuses' descriptions) and
//!   belong to one order; listed line items must be the order's, with
//!   0 < quantity ≤ remaining; none listed fulfils all that remains (docs).
//!   Plain `UserError {field, message}`, any applies nothing (messages
//!   UNCONFIRMED). A fulfillment order with nothing left becomes `CLOSED`,
//!   else `IN_PROGRESS`; the fulfilment is `SUCCESS` with its tracking.
//! - `orderCancel` (2026-01 mutation page): unknown order `NOT_FOUND`,
//!   already cancelled `INVALID` (docs: "hasn't already been cancelled"),
//!   staff note over 255 characters `INVALID`, each also in the deprecated
//!   `userErrors`; otherwise the order is cancelled (reason, restock,
//!   notifyCustomer, staffNote, refundMethod recorded), its unstarted
//!   fulfillment orders become `CANCELLED` and started ones `CLOSED`
//!   (UNCONFIRMED) and a `job {id done:false}` answers (docs example).
//!
//! Every request is recorded as a [`ShopifyCall`], in the same lock that
//! applies it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apollo_compiler::executable::{Field, OperationType, Selection, SelectionSet};
use apollo_compiler::parser::SourceSpan;
use apollo_compiler::response::GraphQLError;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ast, ExecutableDocument, Schema};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The schema subset the fake validates against (see its header).
pub const SCHEMA_SDL: &str = include_str!("shopify_admin_2026_10.graphql");

static SCHEMA: LazyLock<Valid<Schema>> = LazyLock::new(|| {
    Schema::parse_and_validate(SCHEMA_SDL, "shopify_admin_2026_10.graphql")
        .unwrap_or_else(|e| panic!("the fake Shopify's schema is invalid: {e}"))
});

/// The API versions served (the same schema for each).
pub const VERSIONS: [&str; 3] = ["2026-04", "2026-07", "2026-10"];
/// The single query cost limit.
pub const MAX_QUERY_COST: u32 = 1000;
/// The largest input array.
pub const MAX_INPUT_ARRAY: usize = 250;
/// What a mutation root field costs.
pub const MUTATION_COST: u32 = 10;
/// The `reason`s `inventorySetQuantities` takes.
pub const REASONS: [&str; 17] = [
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

const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";
const RATE_LIMITS_DOC: &str = "https://shopify.dev/api/usage/rate-limits";

/// The shop's plan: its cost bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Standard,
    Advanced,
    Plus,
}

impl Plan {
    /// The bucket's size (`maximumAvailable`).
    pub fn maximum_available(self) -> f64 {
        match self {
            Plan::Standard => 2000.0,
            Plan::Advanced => 4000.0,
            Plan::Plus => 20000.0,
        }
    }

    /// Points restored per second (`restoreRate`).
    pub fn restore_rate(self) -> f64 {
        match self {
            Plan::Standard => 100.0,
            Plan::Advanced => 200.0,
            Plan::Plus => 1000.0,
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct ShopifyCall {
    pub at: Instant,
    /// `operationName`, else the operation's own name.
    pub operation: Option<String>,
    /// The root fields' names (not their aliases), in document order.
    pub root_fields: Vec<String>,
    pub query: String,
    /// The variables as sent (Null when none).
    pub variables: Value,
    /// Lower-cased header name → value.
    pub headers: BTreeMap<String, String>,
    pub status: u16,
    pub throttled: bool,
    /// The top-level errors' `extensions.code`s.
    pub errors: Vec<String>,
    /// The user errors' codes (`""` for one whose code is null).
    pub user_errors: Vec<String>,
    /// The requested cost (0 when the request got no cost).
    pub cost: u32,
}

impl ShopifyCall {
    /// A header's value (the name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

struct Bucket {
    maximum: f64,
    rate: f64,
    available: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self) {
        let now = Instant::now();
        self.available =
            (self.available + (now - self.at).as_secs_f64() * self.rate).min(self.maximum);
        self.at = now;
    }

    fn status(&self) -> Value {
        json!({"maximumAvailable": self.maximum,
               "currentlyAvailable": self.available.max(0.0).floor() as u64,
               "restoreRate": self.rate})
    }
}

/// A fulfillment order to set up: its id, status as Shopify's enum
/// (`OPEN`, `CLOSED`...) and its (line item id, quantity) lines.
pub type FulfillmentOrderSpec<'a> = (u64, &'a str, &'a [(u64, i64)]);

#[derive(Default)]
struct Item {
    variant: Option<u64>,
    /// Location → available.
    levels: BTreeMap<u64, i64>,
}

struct Variant {
    product: u64,
    item: u64,
    price: String,
    compare_at: Option<String>,
}

struct LineItem {
    id: u64,
    total: i64,
    remaining: i64,
}

struct FulfillmentOrder {
    order: u64,
    status: String,
    lines: Vec<LineItem>,
}

#[derive(Default)]
struct OrderState {
    fulfillment_orders: Vec<u64>,
    cancelled: Option<Value>,
    fulfilments: Vec<Value>,
}

struct State {
    bucket: Bucket,
    locations: BTreeSet<u64>,
    items: HashMap<u64, Item>,
    variants: HashMap<u64, Variant>,
    products: BTreeMap<u64, Vec<u64>>,
    orders: BTreeMap<u64, OrderState>,
    fulfillment_orders: HashMap<u64, FulfillmentOrder>,
    /// Line item → its fulfillment order.
    line_items: HashMap<u64, u64>,
    fulfillments: HashMap<u64, Value>,
    groups: HashMap<u64, Value>,
    jobs: HashSet<String>,
    /// Key → (the first input, the first answer).
    idempotency: HashMap<String, (Value, Value)>,
    next_id: u64,
    calls: Vec<ShopifyCall>,
}

/// The fake shop.
#[derive(Clone)]
pub struct FakeShopify {
    /// The shop's URL, e.g. `http://127.0.0.1:41234`: the store's `base_url`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeShopify {
    /// Starts a shop whose Admin API access token is `access_token`.
    pub async fn start(access_token: &str, plan: Plan) -> FakeShopify {
        LazyLock::force(&SCHEMA);
        let state = Arc::new(Mutex::new(State {
            bucket: Bucket {
                maximum: plan.maximum_available(),
                rate: plan.restore_rate(),
                available: plan.maximum_available(),
                at: Instant::now(),
            },
            locations: BTreeSet::new(),
            items: HashMap::new(),
            variants: HashMap::new(),
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            fulfillment_orders: HashMap::new(),
            line_items: HashMap::new(),
            fulfillments: HashMap::new(),
            groups: HashMap::new(),
            jobs: HashSet::new(),
            idempotency: HashMap::new(),
            next_id: 1,
            calls: Vec::new(),
        }));
        let served = state.clone();
        let token = Arc::new(access_token.to_string());
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: axum::body::Bytes| {
                let state = served.clone();
                let token = token.clone();
                async move {
                    let headers: BTreeMap<String, String> = headers
                        .iter()
                        .filter_map(|(k, v)| {
                            Some((k.as_str().to_string(), v.to_str().ok()?.into()))
                        })
                        .collect();
                    let body: Option<Value> = serde_json::from_slice(&body).ok();
                    let prepared =
                        prepare(&token, method.as_str(), uri.path(), &headers, body.as_ref());
                    let mut state = state.lock().unwrap();
                    let served = match prepared {
                        Prepared::Done(served) => served,
                        Prepared::Run(run) => state.run(*run),
                    };
                    let body_field = |k: &str| body.as_ref().and_then(|b| b.get(k)).cloned();
                    state.calls.push(ShopifyCall {
                        at: Instant::now(),
                        operation: served.operation.clone(),
                        root_fields: served.root_fields.clone(),
                        query: body_field("query")
                            .and_then(|q| q.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        variables: body_field("variables").unwrap_or(Value::Null),
                        headers,
                        status: served.status,
                        throttled: served.throttled,
                        errors: top_level_codes(&served.body),
                        user_errors: served.user_errors.clone(),
                        cost: served.cost,
                    });
                    drop(state);
                    let mut res = axum::response::Response::new(axum::body::Body::from(
                        served.body.to_string(),
                    ));
                    res.headers_mut().insert(
                        "content-type",
                        "application/json; charset=utf-8".parse().unwrap(),
                    );
                    if let Some(v) = served.version.and_then(|v| v.parse().ok()) {
                        res.headers_mut().insert("x-shopify-api-version", v);
                    }
                    *res.status_mut() = axum::http::StatusCode::from_u16(served.status).unwrap();
                    res
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeShopify { base, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Registers a location.
    pub fn location(&self, id: u64) {
        self.with(|s| {
            s.locations.insert(id);
        });
    }

    /// Stocks an inventory item at a location (both registered as needed).
    pub fn stock(&self, inventory_item: u64, location: u64, available: i64) {
        self.stock_many(location, [(inventory_item, available)]);
    }

    /// Stocks many inventory items at one location.
    pub fn stock_many(&self, location: u64, levels: impl IntoIterator<Item = (u64, i64)>) {
        self.with(|s| {
            s.locations.insert(location);
            for (item, available) in levels {
                s.items
                    .entry(item)
                    .or_default()
                    .levels
                    .insert(location, available);
            }
        });
    }

    /// A product's variant with its inventory item (stocked nowhere yet)
    /// and price (a decimal string).
    pub fn variant(&self, product: u64, variant: u64, inventory_item: u64, price: &str) {
        let price = money(&json!(price))
            .map(money_string)
            .unwrap_or_else(|| panic!("price {price} is not a decimal"));
        self.with(|s| {
            let variants = s.products.entry(product).or_default();
            if !variants.contains(&variant) {
                variants.push(variant);
            }
            s.items.entry(inventory_item).or_default().variant = Some(variant);
            s.variants.insert(
                variant,
                Variant {
                    product,
                    item: inventory_item,
                    price,
                    compare_at: None,
                },
            );
        });
    }

    /// An order and its fulfillment orders: (id, status as Shopify's enum,
    /// line items as (id, quantity), all of it remaining).
    pub fn order(&self, order_id: u64, fulfillment_orders: &[FulfillmentOrderSpec<'_>]) {
        self.with(|s| {
            let mut ids = Vec::new();
            for (fo, status, lines) in fulfillment_orders {
                ids.push(*fo);
                for (line, _) in *lines {
                    s.line_items.insert(*line, *fo);
                }
                s.fulfillment_orders.insert(
                    *fo,
                    FulfillmentOrder {
                        order: order_id,
                        status: status.to_string(),
                        lines: lines
                            .iter()
                            .map(|(id, q)| LineItem {
                                id: *id,
                                total: *q,
                                remaining: *q,
                            })
                            .collect(),
                    },
                );
            }
            s.orders.insert(
                order_id,
                OrderState {
                    fulfillment_orders: ids,
                    ..OrderState::default()
                },
            );
        });
    }

    /// A sale on the storefront: `available` goes down by `quantity`.
    pub fn sell(&self, inventory_item: u64, location: u64, quantity: i64) {
        self.with(|s| {
            s.locations.insert(location);
            *s.items
                .entry(inventory_item)
                .or_default()
                .levels
                .entry(location)
                .or_insert(0) -= quantity;
        });
    }

    /// `available` of an item at a location (None when not stocked there).
    pub fn level(&self, inventory_item: u64, location: u64) -> Option<i64> {
        self.with(|s| {
            s.items
                .get(&inventory_item)
                .and_then(|i| i.levels.get(&location).copied())
        })
    }

    /// How many items are stocked at a location.
    pub fn count_at(&self, location: u64) -> usize {
        self.with(|s| {
            s.items
                .values()
                .filter(|i| i.levels.contains_key(&location))
                .count()
        })
    }

    /// A variant's price and compare-at price.
    pub fn price(&self, variant: u64) -> Option<(String, Option<String>)> {
        self.with(|s| {
            s.variants
                .get(&variant)
                .map(|v| (v.price.clone(), v.compare_at.clone()))
        })
    }

    /// The fulfilments made of an order, oldest first: each
    /// `{id, fulfillmentOrderIds, lineItems, trackingInfo, notifyCustomer, message}`.
    pub fn fulfilled(&self, order: u64) -> Vec<Value> {
        self.with(|s| {
            s.orders
                .get(&order)
                .map(|o| o.fulfilments.clone())
                .unwrap_or_default()
        })
    }

    /// How an order was cancelled: `{reason, restock, notifyCustomer,
    /// staffNote, refundMethod, cancelledAt}`; None while it is not.
    pub fn cancelled(&self, order: u64) -> Option<Value> {
        self.with(|s| s.orders.get(&order).and_then(|o| o.cancelled.clone()))
    }

    /// Every request received, in order.
    pub fn calls(&self) -> Vec<ShopifyCall> {
        self.with(|s| s.calls.clone())
    }

    /// How many requests were throttled.
    pub fn throttled(&self) -> usize {
        self.with(|s| s.calls.iter().filter(|c| c.throttled).count())
    }

    /// Sets the points available in the bucket now (to drain it).
    pub fn set_bucket(&self, available: f64) {
        self.with(|s| {
            s.bucket.available = available.min(s.bucket.maximum);
            s.bucket.at = Instant::now();
        });
    }

    /// The points available in the bucket now.
    pub fn bucket(&self) -> f64 {
        self.with(|s| {
            s.bucket.refill();
            s.bucket.available
        })
    }

    /// Waits until `done` holds of the shop, up to `within`; answers whether it did.
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

// --- Requests -----------------------------------------------------------

/// An answer and what the call record needs of it.
struct Served {
    status: u16,
    body: Value,
    version: Option<String>,
    operation: Option<String>,
    root_fields: Vec<String>,
    throttled: bool,
    user_errors: Vec<String>,
    cost: u32,
}

impl Served {
    fn new(status: u16, body: Value) -> Served {
        Served {
            status,
            body,
            version: None,
            operation: None,
            root_fields: Vec::new(),
            throttled: false,
            user_errors: Vec::new(),
            cost: 0,
        }
    }
}

/// A valid request, ready to run under the lock.
struct Run {
    served: Served,
    doc: Valid<ExecutableDocument>,
    operation_name: Option<String>,
    vars: Map<String, Value>,
    cost: u32,
}

enum Prepared {
    Done(Served),
    Run(Box<Run>),
}

fn top_level_codes(body: &Value) -> Vec<String> {
    body.get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
        .collect()
}

fn locations(doc: &ExecutableDocument, span: Option<SourceSpan>) -> Value {
    json!(span
        .and_then(|s| s.line_column(&doc.sources))
        .map(|lc| vec![json!({"line": lc.line, "column": lc.column})])
        .unwrap_or_default())
}

fn error(message: &str, locations: Value, code: &str) -> Value {
    json!({"message": message, "locations": locations, "extensions": {"code": code}})
}

fn graphql_error(mut e: GraphQLError, code: &str) -> Value {
    e.extensions.insert("code", code.into());
    serde_json::to_value(e).unwrap_or(Value::Null)
}

/// Everything that needs no state: routing, authentication, parsing,
/// validation, variables, input sizes, the directive, the cost.
fn prepare(
    token: &str,
    method: &str,
    path: &str,
    headers: &BTreeMap<String, String>,
    body: Option<&Value>,
) -> Prepared {
    let version = path
        .strip_prefix("/admin/api/")
        .and_then(|r| r.strip_suffix("/graphql.json"))
        .filter(|v| VERSIONS.contains(v));
    let Some(version) = version.filter(|_| method == "POST") else {
        return Prepared::Done(Served::new(404, json!({"errors": "Not Found"})));
    };
    let mut served = Served::new(200, Value::Null);
    served.version = Some(version.to_string());
    if headers.get("x-shopify-access-token").map(String::as_str) != Some(token) {
        served.status = 401;
        served.body = json!({"errors": INVALID_TOKEN});
        return Prepared::Done(served);
    }
    let Some(query) = body.and_then(|b| b.get("query")).and_then(Value::as_str) else {
        served.status = 400;
        served.body = json!({"errors": {"query": "Required parameter missing or invalid"}});
        return Prepared::Done(served);
    };
    let body = body.unwrap_or(&Value::Null);
    let operation_name = body
        .get("operationName")
        .and_then(Value::as_str)
        .map(str::to_string);
    served.operation = operation_name.clone();
    let doc = match ExecutableDocument::parse_and_validate(&SCHEMA, query, "query.graphql") {
        Ok(doc) => doc,
        Err(invalid) => {
            if let Ok(op) = invalid.partial.operations.get(operation_name.as_deref()) {
                if served.operation.is_none() {
                    served.operation = op.name.as_ref().map(|n| n.to_string());
                }
                served.root_fields = op
                    .selection_set
                    .selections
                    .iter()
                    .filter_map(|s| match s {
                        Selection::Field(f) => Some(f.name.to_string()),
                        _ => None,
                    })
                    .collect();
            }
            let errors: Vec<Value> = invalid
                .errors
                .iter()
                .map(|d| graphql_error(d.to_json(), "GRAPHQL_VALIDATION_FAILED"))
                .collect();
            served.body = json!({"errors": errors});
            return Prepared::Done(served);
        }
    };
    let op = match doc.operations.get(operation_name.as_deref()) {
        Ok(op) => op,
        Err(e) => {
            served.body =
                json!({"errors": [error(&e.message().to_string(), json!([]), "BAD_REQUEST")]});
            return Prepared::Done(served);
        }
    };
    if served.operation.is_none() {
        served.operation = op.name.as_ref().map(|n| n.to_string());
    }
    let raw = match body.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            served.body = json!({"errors": [error("Variables must be a JSON object", json!([]), "INVALID_VARIABLE")]});
            return Prepared::Done(served);
        }
    };
    let raw = match apollo_compiler::response::JsonValue::from(Value::Object(raw)) {
        apollo_compiler::response::JsonValue::Object(m) => m,
        _ => unreachable!("an object stays an object"),
    };
    let vars = match apollo_compiler::request::coerce_variable_values(&SCHEMA, op, &raw) {
        Ok(coerced) => match serde_json::to_value(&*coerced) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        },
        Err(e) => {
            served.body = json!({"errors": [graphql_error(e.to_graphql_error(&doc.sources), "INVALID_VARIABLE")]});
            return Prepared::Done(served);
        }
    };
    let ctx = Ctx {
        doc: &doc,
        vars: &vars,
    };
    let mutation = op.operation_type == OperationType::Mutation;
    let root_type = if mutation { "Mutation" } else { "QueryRoot" };
    let root = collect_fields(&ctx, &[&op.selection_set], root_type);
    served.root_fields = root.iter().map(|(_, f)| f[0].name.to_string()).collect();
    if let Some((size, field)) = oversized(&ctx, &op.selection_set, &mut HashSet::new()) {
        let message = format!(
            "The input array size of {size} is greater than the maximum allowed of {MAX_INPUT_ARRAY}."
        );
        served.body = json!({"errors": [error(&message, locations(&doc, field.name.location()), "MAX_INPUT_SIZE_EXCEEDED")]});
        return Prepared::Done(served);
    }
    let missing: Vec<Value> = root
        .iter()
        .map(|(_, f)| f[0])
        .filter(|f| f.name == "inventorySetQuantities" && f.directives.get("idempotent").is_none())
        .map(|f| {
            let mut e = error(
                "The @idempotent directive is required for this mutation as of API version 2026-04.",
                locations(&doc, f.name.location()),
                "BAD_REQUEST",
            );
            e["path"] = json!([f.response_key().as_str()]);
            e
        })
        .collect();
    if !missing.is_empty() {
        served.body = json!({"errors": missing});
        return Prepared::Done(served);
    }
    let cost = if mutation {
        MUTATION_COST as u64
            * root
                .iter()
                .filter(|(_, f)| f[0].name != "__typename")
                .count() as u64
    } else {
        root.iter().map(|(_, f)| field_cost(&ctx, f)).sum()
    };
    Prepared::Run(Box::new(Run {
        served,
        operation_name,
        cost: u32::try_from(cost).unwrap_or(u32::MAX),
        doc,
        vars,
    }))
}

// --- Walking documents ----------------------------------------------------

struct Ctx<'a> {
    doc: &'a ExecutableDocument,
    vars: &'a Map<String, Value>,
}

type Grouped<'a> = Vec<(&'a str, Vec<&'a Field>)>;

/// CollectFields of the GraphQL spec: the fields of `sets` that apply to
/// an object of type `typename`, grouped by response key in order.
fn collect_fields<'a>(ctx: &Ctx<'a>, sets: &[&'a SelectionSet], typename: &str) -> Grouped<'a> {
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    for set in sets {
        collect_into(ctx, set, typename, &mut out, &mut visited);
    }
    out
}

fn collect_into<'a>(
    ctx: &Ctx<'a>,
    set: &'a SelectionSet,
    typename: &str,
    out: &mut Grouped<'a>,
    visited: &mut HashSet<&'a str>,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                if !included(ctx, &field.directives) {
                    continue;
                }
                let key = field.response_key().as_str();
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, fields)) => fields.push(&**field),
                    None => out.push((key, vec![&**field])),
                }
            }
            Selection::FragmentSpread(spread) => {
                if !included(ctx, &spread.directives)
                    || !visited.insert(spread.fragment_name.as_str())
                {
                    continue;
                }
                if let Some(fragment) = ctx.doc.fragments.get(&spread.fragment_name) {
                    if applies(fragment.type_condition(), typename) {
                        collect_into(ctx, &fragment.selection_set, typename, out, visited);
                    }
                }
            }
            Selection::InlineFragment(inline) => {
                if included(ctx, &inline.directives)
                    && inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| applies(c, typename))
                {
                    collect_into(ctx, &inline.selection_set, typename, out, visited);
                }
            }
        }
    }
}

fn applies(condition: &str, typename: &str) -> bool {
    condition == typename || SCHEMA.is_subtype(condition, typename)
}

/// `@skip(if:)` / `@include(if:)`.
fn included(ctx: &Ctx<'_>, directives: &ast::DirectiveList) -> bool {
    let flag = |name: &str| {
        directives
            .get(name)
            .and_then(|d| d.specified_argument_by_name("if"))
            .and_then(|v| value_json(ctx, v))
            .and_then(|v| v.as_bool())
    };
    flag("skip") != Some(true) && flag("include") != Some(false)
}

/// A value of the document as JSON, variables substituted; None for a
/// variable not provided (so an input field given as one stays omitted).
fn value_json(ctx: &Ctx<'_>, value: &ast::Value) -> Option<Value> {
    Some(match value {
        ast::Value::Null => Value::Null,
        ast::Value::Enum(name) => json!(name.as_str()),
        ast::Value::Variable(name) => return ctx.vars.get(name.as_str()).cloned(),
        ast::Value::String(s) => json!(s),
        ast::Value::Float(f) => json!(f.try_to_f64().ok()?),
        ast::Value::Int(i) => json!(i.as_str().parse::<i64>().ok()?),
        ast::Value::Boolean(b) => json!(b),
        ast::Value::List(items) => Value::Array(
            items
                .iter()
                .map(|i| value_json(ctx, i).unwrap_or(Value::Null))
                .collect(),
        ),
        ast::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), value_json(ctx, v)?)))
                .collect(),
        ),
    })
}

/// A field's arguments, with the schema's defaults for those not given.
fn arguments(ctx: &Ctx<'_>, field: &Field) -> Map<String, Value> {
    let mut args = Map::new();
    for arg in &field.arguments {
        if let Some(v) = value_json(ctx, &arg.value) {
            args.insert(arg.name.to_string(), v);
        }
    }
    for def in &field.definition.arguments {
        if !args.contains_key(def.name.as_str()) {
            if let Some(v) = def.default_value.as_ref().and_then(|d| value_json(ctx, d)) {
                args.insert(def.name.to_string(), v);
            }
        }
    }
    args
}

/// The first list argument (anywhere in the document) over the limit.
fn oversized<'a>(
    ctx: &Ctx<'a>,
    set: &'a SelectionSet,
    visited: &mut HashSet<&'a str>,
) -> Option<(usize, &'a Field)> {
    fn too_long(v: &Value) -> Option<usize> {
        match v {
            Value::Array(items) if items.len() > MAX_INPUT_ARRAY => Some(items.len()),
            Value::Array(items) => items.iter().find_map(too_long),
            Value::Object(m) => m.values().find_map(too_long),
            _ => None,
        }
    }
    for selection in &set.selections {
        let found = match selection {
            Selection::Field(field) => field
                .arguments
                .iter()
                .find_map(|a| too_long(&value_json(ctx, &a.value)?))
                .map(|n| (n, &**field))
                .or_else(|| oversized(ctx, &field.selection_set, visited)),
            Selection::FragmentSpread(spread) => {
                if visited.insert(spread.fragment_name.as_str()) {
                    ctx.doc
                        .fragments
                        .get(&spread.fragment_name)
                        .and_then(|f| oversized(ctx, &f.selection_set, visited))
                } else {
                    None
                }
            }
            Selection::InlineFragment(inline) => oversized(ctx, &inline.selection_set, visited),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

// --- Cost -----------------------------------------------------------------

fn is_composite(type_name: &str) -> bool {
    matches!(
        SCHEMA.types.get(type_name),
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
    )
}

/// The object types a value of this type can be.
fn possible_types(type_name: &str) -> Vec<&'static str> {
    let schema: &'static Schema = &SCHEMA;
    match schema.types.get(type_name) {
        Some(ExtendedType::Object(o)) => vec![o.name.as_str()],
        Some(ExtendedType::Interface(_)) => schema
            .types
            .values()
            .filter_map(|t| match t {
                ExtendedType::Object(o) if o.implements_interfaces.contains(type_name) => {
                    Some(o.name.as_str())
                }
                _ => None,
            })
            .collect(),
        Some(ExtendedType::Union(u)) => u.members.iter().map(|m| m.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// The cost of selecting `sets` on a value of `type_name`: the most
/// expensive of its possible types.
fn selection_cost<'a>(ctx: &Ctx<'a>, sets: &[&'a SelectionSet], type_name: &str) -> u64 {
    possible_types(type_name)
        .into_iter()
        .map(|t| {
            collect_fields(ctx, sets, t)
                .iter()
                .map(|(_, f)| field_cost(ctx, f))
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0)
}

fn field_cost<'a>(ctx: &Ctx<'a>, fields: &[&'a Field]) -> u64 {
    let field = fields[0];
    let inner = field.ty().inner_named_type().as_str();
    if !is_composite(inner) {
        return 0;
    }
    let sets: Vec<&SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
    if inner.ends_with("Connection") {
        let args = arguments(ctx, field);
        let n = args
            .get("first")
            .or(args.get("last"))
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let element = |children: &[&'a Field]| {
            let child_sets: Vec<&SelectionSet> =
                children.iter().map(|f| &f.selection_set).collect();
            1 + selection_cost(ctx, &child_sets, children[0].ty().inner_named_type())
        };
        let per = collect_fields(ctx, &sets, inner)
            .iter()
            .map(|(_, children)| match children[0].name.as_str() {
                "nodes" => element(children),
                "edges" => {
                    let edge_sets: Vec<&SelectionSet> =
                        children.iter().map(|f| &f.selection_set).collect();
                    collect_fields(ctx, &edge_sets, children[0].ty().inner_named_type())
                        .iter()
                        .filter(|(_, f)| f[0].name == "node")
                        .map(|(_, f)| element(f))
                        .max()
                        .unwrap_or(0)
                }
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        return 2 + n * per;
    }
    let times = if field.ty().is_list() {
        arguments(ctx, field)
            .get("ids")
            .and_then(Value::as_array)
            .map_or(1, |ids| ids.len() as u64)
    } else {
        1
    };
    times * (1 + selection_cost(ctx, &sets, inner))
}

// --- Values ---------------------------------------------------------------

fn gid(kind: &str, id: impl std::fmt::Display) -> String {
    format!("gid://shopify/{kind}/{id}")
}

fn reference(gid: String) -> Value {
    json!({ "__ref": gid })
}

fn split_gid(g: &str) -> Option<(&str, &str)> {
    g.strip_prefix("gid://shopify/")?.split_once('/')
}

/// The numeric id of a gid of this kind.
fn gid_id(value: Option<&Value>, kind: &str) -> Option<u64> {
    let (k, rest) = split_gid(value?.as_str()?)?;
    if k != kind {
        return None;
    }
    rest.split('?').next()?.parse().ok()
}

/// A list input (a single value coerces to a list of one).
fn list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
    }
}

fn money(value: &Value) -> Option<Decimal> {
    let s = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Decimal::from_str(&s).ok()
}

fn money_string(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

fn join<'a>(base: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    [base, rest].concat()
}

fn user_error(typename: &str, code: Option<&str>, field: Option<&[&str]>, message: &str) -> Value {
    let mut e = json!({"__typename": typename, "field": field, "message": message});
    if typename != "UserError" {
        e["code"] = json!(code);
    }
    e
}

fn reason_display(reason: &str) -> String {
    if reason == "correction" {
        return "Inventory correction".into();
    }
    let words = reason.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Now as an ISO-8601 UTC date time.
fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn level_value(item: u64, location: u64, available: i64) -> Value {
    const NAMES: [&str; 8] = [
        "available",
        "on_hand",
        "committed",
        "reserved",
        "incoming",
        "damaged",
        "quality_control",
        "safety_stock",
    ];
    let quantities: Vec<Value> = NAMES
        .iter()
        .map(|name| {
            let quantity = if matches!(*name, "available" | "on_hand") {
                available
            } else {
                0
            };
            json!({"__typename": "InventoryQuantity", "name": name, "quantity": quantity})
        })
        .collect();
    json!({
        "__typename": "InventoryLevel",
        "id": format!("{}?inventory_item_id={item}", gid("InventoryLevel", location)),
        "item": reference(gid("InventoryItem", item)),
        "location": reference(gid("Location", location)),
        "quantities": quantities,
    })
}

fn line_value(line: &LineItem) -> Value {
    json!({"__typename": "FulfillmentOrderLineItem", "id": gid("FulfillmentOrderLineItem", line.id),
           "remainingQuantity": line.remaining, "totalQuantity": line.total})
}

/// A connection over `items` per the field's arguments.
fn connection(args: &Map<String, Value>, type_name: &str, items: &Value) -> Value {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut items = list(Some(items));
    if args.get("reverse").and_then(Value::as_bool) == Some(true) {
        items.reverse();
    }
    let len = items.len();
    let cursor = |i: usize| engine.encode(format!("fake-cursor:{i}"));
    let position = |key: &str| -> Option<usize> {
        let bytes = engine.decode(args.get(key)?.as_str()?).ok()?;
        String::from_utf8(bytes)
            .ok()?
            .strip_prefix("fake-cursor:")?
            .parse()
            .ok()
    };
    let mut start = position("after").map_or(0, |i| i + 1).min(len);
    let mut end = position("before").unwrap_or(len).min(len).max(start);
    if let Some(n) = args.get("first").and_then(Value::as_u64) {
        end = end.min(start + n as usize);
    }
    if let Some(n) = args.get("last").and_then(Value::as_u64) {
        start = start.max(end.saturating_sub(n as usize));
    }
    let edge_type = type_name.replace("Connection", "Edge");
    json!({
        "__typename": type_name,
        "nodes": items[start..end],
        "edges": (start..end)
            .map(|i| json!({"__typename": edge_type, "cursor": cursor(i), "node": items[i]}))
            .collect::<Vec<_>>(),
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": end < len,
            "hasPreviousPage": start > 0,
            "startCursor": (start < end).then(|| cursor(start)),
            "endCursor": (start < end).then(|| cursor(end - 1)),
        },
    })
}

// --- Execution --------------------------------------------------------------

impl State {
    fn next(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn cost_extension(&self, requested: u32, actual: Option<u32>) -> Value {
        json!({"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                        "throttleStatus": self.bucket.status()}})
    }

    /// Runs a prepared request: the bucket, then each root field.
    fn run(&mut self, run: Run) -> Served {
        let Run {
            mut served,
            doc,
            operation_name,
            vars,
            cost,
        } = run;
        served.cost = cost;
        self.bucket.refill();
        if cost > MAX_QUERY_COST {
            let message = format!(
                "Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n\
                 See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n\
                 cost of a query is calculated.\n\n\
                 To query larger amounts of data with fewer limits, bulk operations should be used instead.\n\
                 See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
            );
            served.body = json!({
                "errors": [{"message": message, "extensions": {"code": "MAX_COST_EXCEEDED",
                    "cost": cost, "maxCost": MAX_QUERY_COST, "documentation": RATE_LIMITS_DOC}}],
                "extensions": self.cost_extension(cost, None),
            });
            return served;
        }
        if f64::from(cost) > self.bucket.available {
            served.throttled = true;
            served.body = json!({
                "errors": [{"message": "Throttled",
                            "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC}}],
                "extensions": self.cost_extension(cost, None),
            });
            return served;
        }
        self.bucket.available -= f64::from(cost);
        let op = doc
            .operations
            .get(operation_name.as_deref())
            .expect("prepare found the operation");
        let ctx = Ctx {
            doc: &doc,
            vars: &vars,
        };
        let root_type = if op.operation_type == OperationType::Mutation {
            "Mutation"
        } else {
            "QueryRoot"
        };
        let mut data = Map::new();
        for (key, fields) in collect_fields(&ctx, &[&op.selection_set], root_type) {
            let field = fields[0];
            let value = if field.name == "__typename" {
                json!(root_type)
            } else {
                let full = self.resolve_root(&ctx, field);
                let errors = full
                    .get("orderCancelUserErrors")
                    .or_else(|| full.get("userErrors"))
                    .and_then(Value::as_array);
                for e in errors.into_iter().flatten() {
                    let code = e["code"].as_str().unwrap_or_default();
                    served.user_errors.push(code.to_string());
                }
                self.project(&ctx, &full, &fields)
            };
            data.insert(key.to_string(), value);
        }
        served.body = json!({"data": data, "extensions": self.cost_extension(cost, Some(cost))});
        served
    }

    fn resolve_root(&mut self, ctx: &Ctx<'_>, field: &Field) -> Value {
        let args = arguments(ctx, field);
        let arg = |name: &str| args.get(name).unwrap_or(&Value::Null);
        let node_of = |s: &State, kind: &str| {
            arg("id")
                .as_str()
                .filter(|g| split_gid(g).is_some_and(|(k, _)| k == kind))
                .and_then(|g| s.node(g))
                .unwrap_or(Value::Null)
        };
        match field.name.as_str() {
            "nodes" => Value::Array(
                list(args.get("ids"))
                    .into_iter()
                    .map(|id| {
                        id.as_str()
                            .and_then(|g| self.node(g))
                            .unwrap_or(Value::Null)
                    })
                    .collect(),
            ),
            "order" => node_of(self, "Order"),
            "job" => node_of(self, "Job"),
            "inventorySetQuantities" => {
                let key = field
                    .directives
                    .get("idempotent")
                    .and_then(|d| d.specified_argument_by_name("key"))
                    .and_then(|v| value_json(ctx, v))
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                self.inventory_set_quantities(arg("input"), &key)
            }
            "productVariantsBulkUpdate" => self.variants_bulk_update(&args),
            "fulfillmentCreate" => self.fulfillment_create(&args),
            "orderCancel" => self.order_cancel(&args),
            _ => Value::Null,
        }
    }

    /// The full value of a node, links as `{"__ref": gid}`.
    fn node(&self, g: &str) -> Option<Value> {
        let (kind, rest) = split_gid(g)?;
        if kind == "Job" {
            return self
                .jobs
                .contains(g)
                .then(|| json!({"__typename": "Job", "id": g, "done": true}));
        }
        let (number, query) = rest.split_once('?').unwrap_or((rest, ""));
        let id: u64 = number.parse().ok()?;
        match kind {
            "InventoryItem" => {
                let item = self.items.get(&id)?;
                let levels: Map<String, Value> = item
                    .levels
                    .iter()
                    .map(|(loc, q)| (gid("Location", loc), level_value(id, *loc, *q)))
                    .collect();
                Some(json!({
                    "__typename": "InventoryItem",
                    "id": gid("InventoryItem", id),
                    "variant": item.variant.map(|v| reference(gid("ProductVariant", v))),
                    "inventoryLevel": {"__by_location": levels},
                }))
            }
            "InventoryLevel" => {
                let item: u64 = query.strip_prefix("inventory_item_id=")?.parse().ok()?;
                let available = *self.items.get(&item)?.levels.get(&id)?;
                Some(level_value(item, id, available))
            }
            "Location" => self.locations.contains(&id).then(|| {
                json!({"__typename": "Location", "id": gid("Location", id),
                       "name": format!("Location {id}")})
            }),
            "ProductVariant" => {
                let v = self.variants.get(&id)?;
                Some(json!({
                    "__typename": "ProductVariant",
                    "id": gid("ProductVariant", id),
                    "price": v.price,
                    "compareAtPrice": v.compare_at,
                    "product": reference(gid("Product", v.product)),
                    "inventoryItem": reference(gid("InventoryItem", v.item)),
                }))
            }
            "Product" => self
                .products
                .contains_key(&id)
                .then(|| json!({"__typename": "Product", "id": gid("Product", id)})),
            "Order" => {
                let o = self.orders.get(&id)?;
                let cancelled = o.cancelled.as_ref();
                Some(json!({
                    "__typename": "Order",
                    "id": gid("Order", id),
                    "cancelledAt": cancelled.map(|c| c["cancelledAt"].clone()),
                    "cancelReason": cancelled.map(|c| c["reason"].clone()),
                    "fulfillmentOrders": o.fulfillment_orders.iter()
                        .map(|fo| reference(gid("FulfillmentOrder", fo)))
                        .collect::<Vec<_>>(),
                }))
            }
            "FulfillmentOrder" => {
                let fo = self.fulfillment_orders.get(&id)?;
                Some(json!({
                    "__typename": "FulfillmentOrder",
                    "id": gid("FulfillmentOrder", id),
                    "status": fo.status,
                    "orderId": gid("Order", fo.order),
                    "order": reference(gid("Order", fo.order)),
                    "lineItems": fo.lines.iter().map(line_value).collect::<Vec<_>>(),
                }))
            }
            "FulfillmentOrderLineItem" => {
                let fo = self.fulfillment_orders.get(self.line_items.get(&id)?)?;
                fo.lines.iter().find(|l| l.id == id).map(line_value)
            }
            "Fulfillment" => self.fulfillments.get(&id).cloned(),
            "InventoryAdjustmentGroup" => self.groups.get(&id).cloned(),
            _ => None,
        }
    }

    /// Projects a full value through the selection of `fields` (one
    /// response key's fields).
    fn project<'a>(&self, ctx: &Ctx<'a>, value: &Value, fields: &[&'a Field]) -> Value {
        match value {
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.project(ctx, v, fields)).collect())
            }
            Value::Object(o) => {
                if let Some(g) = o.get("__ref") {
                    return match g.as_str().and_then(|g| self.node(g)) {
                        Some(node) => self.project(ctx, &node, fields),
                        None => Value::Null,
                    };
                }
                let typename = o.get("__typename").and_then(Value::as_str).unwrap_or("");
                let sets: Vec<&SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
                let mut out = Map::new();
                for (key, children) in collect_fields(ctx, &sets, typename) {
                    let child = children[0];
                    let v = if child.name == "__typename" {
                        json!(typename)
                    } else {
                        let raw = o.get(child.name.as_str()).unwrap_or(&Value::Null);
                        let raw = with_arguments(ctx, typename, child, raw);
                        self.project(ctx, &raw, &children)
                    };
                    out.insert(key.to_string(), v);
                }
                Value::Object(out)
            }
            scalar => scalar.clone(),
        }
    }

    fn inventory_set_quantities(&mut self, input: &Value, key: &str) -> Value {
        if let Some((first_input, answer)) = self.idempotency.get(key) {
            if first_input == input {
                return answer.clone();
            }
            return json!({
                "__typename": "InventorySetQuantitiesPayload",
                "inventoryAdjustmentGroup": null,
                "userErrors": [user_error("InventorySetQuantitiesUserError",
                    Some("IDEMPOTENCY_KEY_PARAMETER_MISMATCH"), None,
                    "The same idempotency key cannot be used with different operation parameters.")],
            });
        }
        let answer = self.set_quantities(input);
        self.idempotency
            .insert(key.to_string(), (input.clone(), answer.clone()));
        answer
    }

    fn set_quantities(&mut self, input: &Value) -> Value {
        const ERROR: &str = "InventorySetQuantitiesUserError";
        let name = input["name"].as_str().unwrap_or_default();
        let reason = input["reason"].as_str().unwrap_or_default();
        let mut errors = Vec::new();
        if !matches!(name, "available" | "on_hand") {
            errors.push(user_error(
                ERROR,
                Some("INVALID_NAME"),
                Some(&["input", "name"]),
                "The quantity name must be either 'available' or 'on_hand'.",
            ));
        }
        if !REASONS.contains(&reason) {
            errors.push(user_error(
                ERROR,
                Some("INVALID_REASON"),
                Some(&["input", "reason"]),
                "The specified reason is invalid.",
            ));
        }
        let quantities = list(input.get("quantities"));
        let mut seen = HashSet::with_capacity(quantities.len());
        let mut sets = Vec::with_capacity(quantities.len());
        for (i, q) in quantities.iter().enumerate() {
            let i = i.to_string();
            let at = |leaf: &'static str| -> [&str; 4] { ["input", "quantities", &i, leaf] };
            let item = gid_id(q.get("inventoryItemId"), "InventoryItem")
                .filter(|id| self.items.contains_key(id));
            let location =
                gid_id(q.get("locationId"), "Location").filter(|id| self.locations.contains(id));
            if item.is_none() {
                errors.push(user_error(
                    ERROR,
                    Some("INVALID_INVENTORY_ITEM"),
                    Some(&at("inventoryItemId")),
                    "The specified inventory item could not be found.",
                ));
            }
            if location.is_none() {
                errors.push(user_error(
                    ERROR,
                    Some("INVALID_LOCATION"),
                    Some(&at("locationId")),
                    "The specified location could not be found.",
                ));
            }
            let quantity = q["quantity"].as_i64().unwrap_or_default();
            if quantity > 1_000_000_000 {
                errors.push(user_error(
                    ERROR,
                    Some("INVALID_QUANTITY_TOO_HIGH"),
                    Some(&at("quantity")),
                    "The total quantity can't be higher than 1,000,000,000.",
                ));
            } else if quantity < -1_000_000_000 {
                errors.push(user_error(
                    ERROR,
                    Some("INVALID_QUANTITY_TOO_LOW"),
                    Some(&at("quantity")),
                    "The total quantity can't be lower than -1,000,000,000.",
                ));
            }
            let change_from = q.get("changeFromQuantity");
            if change_from.is_none() {
                errors.push(user_error(
                    ERROR,
                    None,
                    Some(&at("changeFromQuantity")),
                    "changeFromQuantity must be provided for each quantity (explicitly null to opt out)",
                ));
            }
            let (Some(item), Some(location)) = (item, location) else {
                continue;
            };
            if !seen.insert((item, location)) {
                errors.push(user_error(
                    ERROR,
                    Some("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"),
                    Some(&["input", "quantities", &i]),
                    "The combination of inventoryItemId and locationId must be unique.",
                ));
                continue;
            }
            let held = self.items[&item].levels.get(&location).copied();
            if let Some(expected) = change_from.filter(|c| !c.is_null()) {
                if expected.as_i64() != Some(held.unwrap_or(0)) {
                    errors.push(user_error(
                        ERROR,
                        Some("CHANGE_FROM_QUANTITY_STALE"),
                        Some(&at("changeFromQuantity")),
                        "The changeFromQuantity value does not match persisted value.",
                    ));
                }
            }
            sets.push((item, location, held.unwrap_or(0), quantity));
        }
        if !errors.is_empty() {
            return json!({"__typename": "InventorySetQuantitiesPayload",
                          "inventoryAdjustmentGroup": null, "userErrors": errors});
        }
        let other = if name == "available" {
            "on_hand"
        } else {
            "available"
        };
        let mut changes = Vec::with_capacity(sets.len() * 2);
        for (item, location, held, quantity) in sets {
            self.items
                .get_mut(&item)
                .expect("checked")
                .levels
                .insert(location, quantity);
            for n in [name, other] {
                changes.push(json!({
                    "__typename": "InventoryChange",
                    "name": n,
                    "delta": quantity - held,
                    "quantityAfterChange": null,
                    "ledgerDocumentUri": null,
                    "item": reference(gid("InventoryItem", item)),
                    "location": reference(gid("Location", location)),
                }));
            }
        }
        let id = self.next();
        let group = json!({
            "__typename": "InventoryAdjustmentGroup",
            "id": gid("InventoryAdjustmentGroup", id),
            "createdAt": now_utc(),
            "reason": reason_display(reason),
            "referenceDocumentUri": input.get("referenceDocumentUri").cloned().unwrap_or(Value::Null),
            "changes": changes,
        });
        self.groups.insert(id, group.clone());
        json!({"__typename": "InventorySetQuantitiesPayload",
               "inventoryAdjustmentGroup": group, "userErrors": []})
    }

    fn variants_bulk_update(&mut self, args: &Map<String, Value>) -> Value {
        const ERROR: &str = "ProductVariantsBulkUpdateUserError";
        const PAYLOAD: &str = "ProductVariantsBulkUpdatePayload";
        let Some(product) =
            gid_id(args.get("productId"), "Product").filter(|p| self.products.contains_key(p))
        else {
            return json!({"__typename": PAYLOAD, "product": null, "productVariants": null,
                "userErrors": [user_error(ERROR, Some("PRODUCT_DOES_NOT_EXIST"),
                    Some(&["productId"]), "Product does not exist")]});
        };
        let partial = args.get("allowPartialUpdates").and_then(Value::as_bool) == Some(true);
        let mut errors = Vec::new();
        let mut updates = Vec::new();
        for (i, v) in list(args.get("variants")).into_iter().enumerate() {
            let i = i.to_string();
            let before = errors.len();
            let id = match v.get("id") {
                None | Some(Value::Null) => {
                    errors.push(user_error(
                        ERROR,
                        Some("PRODUCT_VARIANT_ID_MISSING"),
                        Some(&["variants", &i, "id"]),
                        "Product variant is missing ID attribute",
                    ));
                    None
                }
                id => {
                    let id = gid_id(id, "ProductVariant")
                        .filter(|id| self.variants.get(id).is_some_and(|v| v.product == product));
                    if id.is_none() {
                        errors.push(user_error(
                            ERROR,
                            Some("PRODUCT_VARIANT_DOES_NOT_EXIST"),
                            Some(&["variants", &i, "id"]),
                            "Product variant does not exist",
                        ));
                    }
                    id
                }
            };
            // Some(Some(p)): set; Some(None): clear; None: keep.
            let mut decimal = |key: &'static str, label: &str| -> Option<Option<String>> {
                let value = v.get(key)?;
                if value.is_null() {
                    if key == "price" {
                        errors.push(user_error(
                            ERROR,
                            Some("BLANK"),
                            Some(&["variants", &i, key]),
                            "Price can't be blank",
                        ));
                    }
                    return Some(None);
                }
                match money(value) {
                    None => {
                        errors.push(user_error(
                            ERROR,
                            Some("INVALID_INPUT"),
                            Some(&["variants", &i, key]),
                            &format!("{label} is invalid"),
                        ));
                        None
                    }
                    Some(d) if d.is_sign_negative() && !d.is_zero() => {
                        errors.push(user_error(
                            ERROR,
                            Some("GREATER_THAN_OR_EQUAL_TO"),
                            Some(&["variants", &i, key]),
                            &format!("{label} must be greater than or equal to 0"),
                        ));
                        None
                    }
                    Some(d) => Some(Some(money_string(d))),
                }
            };
            let price = decimal("price", "Price");
            let compare_at = decimal("compareAtPrice", "Compare at price");
            if let (Some(id), true) = (id, errors.len() == before) {
                updates.push((id, price.flatten(), compare_at));
            }
        }
        if !errors.is_empty() && !partial {
            return json!({"__typename": PAYLOAD, "product": reference(gid("Product", product)),
                          "productVariants": null, "userErrors": errors});
        }
        let mut updated = Vec::with_capacity(updates.len());
        for (id, price, compare_at) in updates {
            let variant = self.variants.get_mut(&id).expect("checked");
            if let Some(p) = price {
                variant.price = p;
            }
            if let Some(c) = compare_at {
                variant.compare_at = c;
            }
            updated.push(reference(gid("ProductVariant", id)));
        }
        json!({"__typename": PAYLOAD, "product": reference(gid("Product", product)),
               "productVariants": updated, "userErrors": errors})
    }

    fn fulfillment_create(&mut self, args: &Map<String, Value>) -> Value {
        const PAYLOAD: &str = "FulfillmentCreatePayload";
        let input = args.get("fulfillment").unwrap_or(&Value::Null);
        let groups = list(input.get("lineItemsByFulfillmentOrder"));
        let mut errors = Vec::new();
        let error =
            |field: &[&str], message: &str| user_error("UserError", None, Some(field), message);
        if groups.is_empty() {
            errors.push(error(
                &["fulfillment", "lineItemsByFulfillmentOrder"],
                "Line items by fulfillment order can't be blank.",
            ));
        }
        let mut order = None;
        let mut plan: Vec<(u64, Vec<(usize, i64)>)> = Vec::new();
        for (i, g) in groups.into_iter().enumerate() {
            let i = i.to_string();
            let base = ["fulfillment", "lineItemsByFulfillmentOrder", &i];
            let found = gid_id(g.get("fulfillmentOrderId"), "FulfillmentOrder")
                .and_then(|id| Some((id, self.fulfillment_orders.get(&id)?)));
            let Some((id, fo)) = found else {
                errors.push(error(
                    &join(&base, &["fulfillmentOrderId"]),
                    "Fulfillment order does not exist.",
                ));
                continue;
            };
            if !matches!(fo.status.as_str(), "OPEN" | "IN_PROGRESS") {
                errors.push(error(
                    &join(&base, &["fulfillmentOrderId"]),
                    &format!(
                        "Fulfillment order {id} has an unfulfillable status= {}.",
                        fo.status.to_ascii_lowercase()
                    ),
                ));
                continue;
            }
            if *order.get_or_insert(fo.order) != fo.order {
                errors.push(error(
                    &join(&base, &["fulfillmentOrderId"]),
                    "All fulfillment orders must belong to the same order.",
                ));
                continue;
            }
            if plan.iter().any(|(p, _)| *p == id) {
                errors.push(error(
                    &join(&base, &["fulfillmentOrderId"]),
                    "A fulfillment order can only be given once.",
                ));
                continue;
            }
            let mut lines = Vec::new();
            match g.get("fulfillmentOrderLineItems") {
                None | Some(Value::Null) => {
                    lines.extend(
                        fo.lines
                            .iter()
                            .enumerate()
                            .filter(|(_, l)| l.remaining > 0)
                            .map(|(k, l)| (k, l.remaining)),
                    );
                }
                Some(listed) => {
                    for (j, li) in list(Some(listed)).into_iter().enumerate() {
                        let j = j.to_string();
                        let index = gid_id(li.get("id"), "FulfillmentOrderLineItem")
                            .and_then(|lid| fo.lines.iter().position(|l| l.id == lid));
                        let Some(k) = index else {
                            errors.push(error(
                                &join(&base, &["fulfillmentOrderLineItems", &j, "id"]),
                                "Fulfillment order line item does not exist.",
                            ));
                            continue;
                        };
                        let quantity = li["quantity"].as_i64().unwrap_or_default();
                        let taken: i64 =
                            lines.iter().filter(|(x, _)| *x == k).map(|(_, q)| q).sum();
                        if quantity <= 0 || quantity + taken > fo.lines[k].remaining {
                            errors.push(error(
                                &join(&base, &["fulfillmentOrderLineItems", &j, "quantity"]),
                                "Invalid fulfillment order line item quantity requested.",
                            ));
                            continue;
                        }
                        lines.push((k, quantity));
                    }
                }
            }
            if lines.is_empty() && errors.is_empty() {
                errors.push(error(
                    &join(&base, &["fulfillmentOrderId"]),
                    "Fulfillment order has no line items left to fulfill.",
                ));
            }
            plan.push((id, lines));
        }
        let (Some(order), true) = (order, errors.is_empty()) else {
            return json!({"__typename": PAYLOAD, "fulfillment": null, "userErrors": errors});
        };
        let mut fulfilled_lines = Vec::new();
        for (fo_id, lines) in &plan {
            let fo = self.fulfillment_orders.get_mut(fo_id).expect("checked");
            for (k, q) in lines {
                fo.lines[*k].remaining -= q;
                fulfilled_lines.push(json!({
                    "fulfillmentOrderId": gid("FulfillmentOrder", fo_id),
                    "id": gid("FulfillmentOrderLineItem", fo.lines[*k].id),
                    "quantity": q,
                }));
            }
            fo.status = if fo.lines.iter().all(|l| l.remaining == 0) {
                "CLOSED".into()
            } else {
                "IN_PROGRESS".into()
            };
        }
        let tracking = input.get("trackingInfo").cloned().unwrap_or(Value::Null);
        let many = |plural: &str, single: &str| -> Vec<Value> {
            let listed = list(tracking.get(plural));
            if listed.is_empty() {
                tracking.get(single).into_iter().cloned().collect()
            } else {
                listed.into_iter().cloned().collect()
            }
        };
        let (numbers, urls) = (many("numbers", "number"), many("urls", "url"));
        let company = tracking.get("company").cloned().unwrap_or(Value::Null);
        let entries = numbers
            .len()
            .max(urls.len())
            .max(usize::from(!company.is_null()));
        let tracking_info: Vec<Value> = (0..entries)
            .map(|k| {
                json!({"__typename": "FulfillmentTrackingInfo", "company": company,
                       "number": numbers.get(k).cloned().unwrap_or(Value::Null),
                       "url": urls.get(k).cloned().unwrap_or(Value::Null)})
            })
            .collect();
        let id = self.next();
        let fulfillment = json!({
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", id),
            "status": "SUCCESS",
            "createdAt": now_utc(),
            "trackingInfo": tracking_info,
        });
        self.fulfillments.insert(id, fulfillment.clone());
        let record = json!({
            "id": gid("Fulfillment", id),
            "fulfillmentOrderIds": plan.iter().map(|(fo, _)| gid("FulfillmentOrder", fo)).collect::<Vec<_>>(),
            "lineItems": fulfilled_lines,
            "trackingInfo": tracking,
            "notifyCustomer": input.get("notifyCustomer").and_then(Value::as_bool).unwrap_or(false),
            "message": args.get("message").cloned().unwrap_or(Value::Null),
        });
        self.orders
            .entry(order)
            .or_default()
            .fulfilments
            .push(record);
        json!({"__typename": PAYLOAD, "fulfillment": fulfillment, "userErrors": []})
    }

    fn order_cancel(&mut self, args: &Map<String, Value>) -> Value {
        let refuse = |code: &str, field: &[&str], message: &str| {
            json!({"__typename": "OrderCancelPayload", "job": null,
                   "orderCancelUserErrors": [user_error("OrderCancelUserError", Some(code), Some(field), message)],
                   "userErrors": [user_error("UserError", None, Some(field), message)]})
        };
        let Some(order) =
            gid_id(args.get("orderId"), "Order").filter(|o| self.orders.contains_key(o))
        else {
            return refuse("NOT_FOUND", &["orderId"], "Order does not exist");
        };
        if self.orders[&order].cancelled.is_some() {
            return refuse("INVALID", &["orderId"], "Order has already been cancelled");
        }
        let staff_note = args.get("staffNote").cloned().unwrap_or(Value::Null);
        if staff_note.as_str().is_some_and(|s| s.chars().count() > 255) {
            return refuse(
                "INVALID",
                &["staffNote"],
                "Staff note is too long (maximum is 255 characters)",
            );
        }
        let fulfillment_orders = self.orders[&order].fulfillment_orders.clone();
        for fo in fulfillment_orders {
            if let Some(fo) = self.fulfillment_orders.get_mut(&fo) {
                let started = fo.lines.iter().any(|l| l.remaining < l.total);
                if !matches!(fo.status.as_str(), "CLOSED" | "CANCELLED") {
                    fo.status = if started { "CLOSED" } else { "CANCELLED" }.into();
                }
            }
        }
        let job = format!(
            "gid://shopify/Job/00000000-0000-4000-8000-{:012x}",
            self.next()
        );
        self.jobs.insert(job.clone());
        let o = self.orders.get_mut(&order).expect("checked");
        o.cancelled = Some(json!({
            "reason": args.get("reason").cloned().unwrap_or(Value::Null),
            "restock": args.get("restock").cloned().unwrap_or(Value::Null),
            "notifyCustomer": args.get("notifyCustomer").and_then(Value::as_bool).unwrap_or(false),
            "staffNote": staff_note,
            "refundMethod": args.get("refundMethod").cloned().unwrap_or(Value::Null),
            "cancelledAt": now_utc(),
        }));
        json!({"__typename": "OrderCancelPayload",
               "job": {"__typename": "Job", "id": job, "done": false},
               "orderCancelUserErrors": [], "userErrors": []})
    }
}

/// Applies a field's arguments to its full value (the fields whose answer
/// depends on them).
fn with_arguments<'v>(
    ctx: &Ctx<'_>,
    typename: &str,
    field: &Field,
    raw: &'v Value,
) -> Cow<'v, Value> {
    let inner = field.ty().inner_named_type().as_str();
    let has_args = !field.definition.arguments.is_empty();
    if !has_args {
        return Cow::Borrowed(raw);
    }
    let args = arguments(ctx, field);
    if inner.ends_with("Connection") {
        return Cow::Owned(connection(&args, inner, raw));
    }
    let strings = |key: &str| -> Option<Vec<&str>> {
        args.get(key).filter(|v| !v.is_null()).map(|v| {
            list(Some(v))
                .into_iter()
                .filter_map(Value::as_str)
                .collect()
        })
    };
    match (typename, field.name.as_str()) {
        ("InventoryItem", "inventoryLevel") => Cow::Owned(
            args.get("locationId")
                .and_then(Value::as_str)
                .and_then(|loc| raw.get("__by_location")?.get(loc))
                .cloned()
                .unwrap_or(Value::Null),
        ),
        ("InventoryLevel", "quantities") => {
            let held = raw.as_array().map(Vec::as_slice).unwrap_or_default();
            Cow::Owned(Value::Array(
                strings("names")
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|n| held.iter().find(|q| q["name"] == n).cloned())
                    .collect(),
            ))
        }
        ("InventoryAdjustmentGroup", "changes") => {
            let (items, locations, names) = (
                strings("inventoryItemIds"),
                strings("locationIds"),
                strings("quantityNames"),
            );
            let keep = |filter: &Option<Vec<&str>>, v: &Value| {
                filter
                    .as_ref()
                    .is_none_or(|f| v.as_str().is_some_and(|s| f.contains(&s)))
            };
            Cow::Owned(Value::Array(
                list(Some(raw))
                    .into_iter()
                    .filter(|c| {
                        keep(&items, &c["item"]["__ref"])
                            && keep(&locations, &c["location"]["__ref"])
                            && keep(&names, &c["name"])
                    })
                    .cloned()
                    .collect(),
            ))
        }
        ("Fulfillment", "trackingInfo") => match args.get("first").and_then(Value::as_u64) {
            Some(n) => Cow::Owned(Value::Array(
                list(Some(raw))
                    .into_iter()
                    .take(n as usize)
                    .cloned()
                    .collect(),
            )),
            None => Cow::Borrowed(raw),
        },
        _ => Cow::Borrowed(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "shpat_fake_test_token";
    const ITEM: u64 = 30322695;
    const LOCATION: u64 = 124656943;

    const SET: &str = r#"
        mutation inventorySetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
          inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
            inventoryAdjustmentGroup {
              reason
              referenceDocumentUri
              changes { name delta quantityAfterChange }
            }
            userErrors { code field message }
          }
        }"#;

    async fn post(fake: &FakeShopify, version: &str, token: &str, body: Value) -> (u16, Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/admin/api/{version}/graphql.json", fake.base))
            .header("X-Shopify-Access-Token", token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn gql(fake: &FakeShopify, query: &str, variables: Value) -> Value {
        let (status, body) = post(
            fake,
            "2026-10",
            TOKEN,
            json!({"query": query, "variables": variables}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    fn quantity(item: u64, quantity: i64, change_from: Option<i64>) -> Value {
        json!({"inventoryItemId": gid("InventoryItem", item), "locationId": gid("Location", LOCATION),
               "quantity": quantity, "changeFromQuantity": change_from})
    }

    fn set_vars(key: &str, quantities: Vec<Value>) -> Value {
        json!({"input": {"name": "available", "reason": "correction", "quantities": quantities},
               "idempotencyKey": key})
    }

    fn codes(body: &Value) -> Vec<String> {
        top_level_codes(body)
    }

    #[test]
    fn the_schema_subset_parses() {
        assert!(SCHEMA.types.contains_key("InventorySetQuantitiesInput"));
        assert_eq!(possible_types("Node").len(), 10);
    }

    #[tokio::test]
    async fn the_docs_example_answers_its_shape_and_sets_the_level() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(ITEM, LOCATION, 1);
        let variables = json!({
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": "logistics://some.warehouse/take/2026-02-23T13:14:15Z",
                "quantities": [{
                    "inventoryItemId": "gid://shopify/InventoryItem/30322695",
                    "locationId": "gid://shopify/Location/124656943",
                    "quantity": 42,
                    "changeFromQuantity": 1
                }]
            },
            "idempotencyKey": "550e8400-e29b-41d4-a716-446655440000"
        });
        let body = gql(&fake, SET, variables).await;
        assert_eq!(
            body["data"],
            json!({"inventorySetQuantities": {
                "inventoryAdjustmentGroup": {
                    "reason": "Inventory correction",
                    "referenceDocumentUri": "logistics://some.warehouse/take/2026-02-23T13:14:15Z",
                    "changes": [
                        {"name": "available", "delta": 41, "quantityAfterChange": null},
                        {"name": "on_hand", "delta": 41, "quantityAfterChange": null}
                    ]
                },
                "userErrors": []
            }})
        );
        assert_eq!(
            body["extensions"]["cost"],
            json!({"requestedQueryCost": 10, "actualQueryCost": 10,
                   "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990,
                                      "restoreRate": 100.0}})
        );
        assert_eq!(fake.level(ITEM, LOCATION), Some(42));
        let call = &fake.calls()[0];
        assert_eq!(call.operation.as_deref(), Some("inventorySetQuantities"));
        assert_eq!(call.root_fields, ["inventorySetQuantities"]);
        assert_eq!(call.header("X-Shopify-Access-Token"), Some(TOKEN));
        assert_eq!(call.cost, 10);
        assert!(call.user_errors.is_empty() && call.errors.is_empty());
    }

    #[tokio::test]
    async fn a_stale_compare_applies_nothing_and_names_its_index() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(1, LOCATION, 5);
        fake.stock(2, LOCATION, 7);
        let body = gql(
            &fake,
            SET,
            set_vars("k1", vec![quantity(1, 9, Some(5)), quantity(2, 9, Some(6))]),
        )
        .await;
        let payload = &body["data"]["inventorySetQuantities"];
        assert_eq!(payload["inventoryAdjustmentGroup"], Value::Null);
        assert_eq!(
            payload["userErrors"],
            json!([{"code": "CHANGE_FROM_QUANTITY_STALE",
                    "field": ["input", "quantities", "1", "changeFromQuantity"],
                    "message": "The changeFromQuantity value does not match persisted value."}])
        );
        assert_eq!(
            (fake.level(1, LOCATION), fake.level(2, LOCATION)),
            (Some(5), Some(7))
        );
        assert_eq!(fake.calls()[0].user_errors, ["CHANGE_FROM_QUANTITY_STALE"]);
    }

    #[tokio::test]
    async fn unknown_items_locations_and_duplicates_are_user_errors() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(1, LOCATION, 5);
        fake.location(77);
        let mut elsewhere = quantity(1, 3, None);
        elsewhere["locationId"] = json!(gid("Location", 99));
        let vars = set_vars(
            "k",
            vec![
                quantity(404, 1, None),
                elsewhere,
                quantity(1, 2, None),
                quantity(1, 2, None),
            ],
        );
        let body = gql(&fake, SET, vars).await;
        let errors = &body["data"]["inventorySetQuantities"]["userErrors"];
        let got: Vec<(Value, Value)> = errors
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["code"].clone(), e["field"].clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    json!("INVALID_INVENTORY_ITEM"),
                    json!(["input", "quantities", "0", "inventoryItemId"])
                ),
                (
                    json!("INVALID_LOCATION"),
                    json!(["input", "quantities", "1", "locationId"])
                ),
                (
                    json!("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"),
                    json!(["input", "quantities", "3"])
                ),
            ]
        );
        assert_eq!(fake.level(1, LOCATION), Some(5));
        // An item stocked nowhere yet, at a known location, becomes stocked.
        let mut at_77 = quantity(1, 4, None);
        at_77["locationId"] = json!(gid("Location", 77));
        let body = gql(&fake, SET, set_vars("k2", vec![at_77])).await;
        assert_eq!(
            body["data"]["inventorySetQuantities"]["userErrors"],
            json!([])
        );
        assert_eq!(fake.level(1, 77), Some(4));
        assert_eq!(fake.count_at(77), 1);
    }

    #[tokio::test]
    async fn an_idempotent_replay_applies_once_and_a_mismatch_is_refused() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(ITEM, LOCATION, 10);
        let vars = set_vars("key-1", vec![quantity(ITEM, 12, Some(10))]);
        let first = gql(&fake, SET, vars.clone()).await;
        assert_eq!(fake.level(ITEM, LOCATION), Some(12));
        fake.sell(ITEM, LOCATION, 1);
        let replay = gql(&fake, SET, vars).await;
        assert_eq!(replay["data"], first["data"], "the first answer, replayed");
        assert_eq!(fake.level(ITEM, LOCATION), Some(11), "not applied again");
        let other = gql(
            &fake,
            SET,
            set_vars("key-1", vec![quantity(ITEM, 20, Some(11))]),
        )
        .await;
        assert_eq!(
            other["data"]["inventorySetQuantities"],
            json!({"inventoryAdjustmentGroup": null, "userErrors": [{
                "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "field": null,
                "message": "The same idempotency key cannot be used with different operation parameters."}]})
        );
        assert_eq!(fake.level(ITEM, LOCATION), Some(11));
        // A key whose first attempt failed is replayed too.
        let stale = set_vars("key-2", vec![quantity(ITEM, 30, Some(1))]);
        let failed = gql(&fake, SET, stale.clone()).await;
        fake.stock(ITEM, LOCATION, 1);
        assert_eq!(gql(&fake, SET, stale).await["data"], failed["data"]);
        assert_eq!(fake.level(ITEM, LOCATION), Some(1));
        // Without the directive: refused whole.
        let bare = "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }";
        let body = gql(
            &fake,
            bare,
            json!({"input": set_vars("", vec![quantity(ITEM, 5, None)])["input"]}),
        )
        .await;
        assert_eq!(codes(&body), ["BAD_REQUEST"]);
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("@idempotent"));
        assert!(body.get("data").is_none());
        assert_eq!(fake.level(ITEM, LOCATION), Some(1));
    }

    #[tokio::test]
    async fn an_omitted_change_from_quantity_is_not_an_explicit_null() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(ITEM, LOCATION, 3);
        let mut omitted = quantity(ITEM, 8, None);
        omitted
            .as_object_mut()
            .unwrap()
            .remove("changeFromQuantity");
        let body = gql(&fake, SET, set_vars("a", vec![omitted])).await;
        assert_eq!(
            body["data"]["inventorySetQuantities"]["userErrors"],
            json!([{"code": null, "field": ["input", "quantities", "0", "changeFromQuantity"],
                    "message": "changeFromQuantity must be provided for each quantity (explicitly null to opt out)"}])
        );
        assert_eq!(fake.level(ITEM, LOCATION), Some(3));
        // In a literal too.
        let literal = format!(
            r#"mutation {{ inventorySetQuantities(input: {{name: "available", reason: "correction",
                 quantities: [{{inventoryItemId: "{}", locationId: "{}", quantity: 8}}]}})
                 @idempotent(key: "b") {{ userErrors {{ field }} }} }}"#,
            gid("InventoryItem", ITEM),
            gid("Location", LOCATION)
        );
        let body = gql(&fake, &literal, Value::Null).await;
        assert_eq!(
            body["data"]["inventorySetQuantities"]["userErrors"][0]["field"],
            json!(["input", "quantities", "0", "changeFromQuantity"])
        );
        assert_eq!(fake.level(ITEM, LOCATION), Some(3));
        // Explicit null skips the check, whatever is held.
        let body = gql(&fake, SET, set_vars("c", vec![quantity(ITEM, 8, None)])).await;
        assert_eq!(
            body["data"]["inventorySetQuantities"]["userErrors"],
            json!([])
        );
        assert_eq!(fake.level(ITEM, LOCATION), Some(8));
    }

    #[tokio::test]
    async fn invalid_documents_and_variables_are_refused() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(ITEM, LOCATION, 3);
        let misspelt = SET.replace("quantityAfterChange", "quantityAfterChnage");
        let body = gql(
            &fake,
            &misspelt,
            set_vars("a", vec![quantity(ITEM, 1, None)]),
        )
        .await;
        assert_eq!(codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
        assert!(body.get("data").is_none());
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("quantityAfterChnage"));
        assert!(body["errors"][0]["locations"][0]["line"].is_u64());
        // Missing required variable, unknown input field, a wrong type.
        let missing = gql(&fake, SET, json!({"idempotencyKey": "x"})).await;
        assert_eq!(codes(&missing), ["INVALID_VARIABLE"]);
        let mut unknown = set_vars("x", vec![quantity(ITEM, 1, None)]);
        unknown["input"]["quantities"][0]["compareQuantity"] = json!(3);
        assert_eq!(codes(&gql(&fake, SET, unknown).await), ["INVALID_VARIABLE"]);
        let mut wrong = set_vars("x", vec![quantity(ITEM, 1, None)]);
        wrong["input"]["quantities"][0]["quantity"] = json!("1");
        assert_eq!(codes(&gql(&fake, SET, wrong).await), ["INVALID_VARIABLE"]);
        let mut null = set_vars("x", vec![quantity(ITEM, 1, None)]);
        null["input"]["quantities"][0]["quantity"] = Value::Null;
        assert_eq!(codes(&gql(&fake, SET, null).await), ["INVALID_VARIABLE"]);
        assert_eq!(fake.level(ITEM, LOCATION), Some(3));
        let calls = fake.calls();
        assert_eq!(calls[0].errors, ["GRAPHQL_VALIDATION_FAILED"]);
        assert_eq!(
            calls[0].operation.as_deref(),
            Some("inventorySetQuantities")
        );
        // Wrong token, wrong path, not JSON.
        let (status, body) = post(
            &fake,
            "2026-10",
            "nope",
            json!({"query": "{ job(id: \"x\") { id } }"}),
        )
        .await;
        assert_eq!((status, body), (401, json!({"errors": INVALID_TOKEN})));
        let (status, body) =
            post(&fake, "2025-01", TOKEN, json!({"query": "{ __typename }"})).await;
        assert_eq!((status, body), (404, json!({"errors": "Not Found"})));
        let (status, _) = post(&fake, "2026-04", TOKEN, json!("not an object")).await;
        assert_eq!(status, 400);
        let (status, body) =
            post(&fake, "2026-07", TOKEN, json!({"query": "{ __typename }"})).await;
        assert_eq!(
            (status, &body["data"]),
            (200, &json!({"__typename": "QueryRoot"}))
        );
    }

    #[tokio::test]
    async fn a_drained_bucket_throttles_and_refills() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(ITEM, LOCATION, 3);
        fake.set_bucket(5.0);
        let vars = set_vars("t", vec![quantity(ITEM, 4, Some(3))]);
        let body = gql(&fake, SET, vars.clone()).await;
        assert_eq!(
            body["errors"],
            json!([{"message": "Throttled", "extensions": {"code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits"}}])
        );
        assert!(body.get("data").is_none());
        let cost = &body["extensions"]["cost"];
        assert_eq!(cost["requestedQueryCost"], 10);
        assert_eq!(cost["actualQueryCost"], Value::Null);
        assert_eq!(cost["throttleStatus"]["maximumAvailable"], json!(2000.0));
        assert_eq!(cost["throttleStatus"]["restoreRate"], json!(100.0));
        let available = cost["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap();
        assert!((5..10).contains(&available), "{available}");
        assert_eq!(fake.level(ITEM, LOCATION), Some(3), "nothing applied");
        assert_eq!(fake.throttled(), 1);
        assert!(fake.calls()[0].throttled);
        // 100 points a second: 10 more within 0.1 s.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let body = gql(&fake, SET, vars).await;
        assert_eq!(
            body["data"]["inventorySetQuantities"]["userErrors"],
            json!([])
        );
        assert_eq!(fake.level(ITEM, LOCATION), Some(4));
        assert_eq!(fake.throttled(), 1);
        assert!(fake.bucket() < 20.0);
    }

    #[tokio::test]
    async fn aliased_bulk_updates_with_a_partial_failure() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.variant(1, 11, 111, "10.00");
        fake.variant(2, 21, 211, "20");
        fake.variant(2, 22, 221, "22.00");
        fake.variant(3, 31, 311, "30.00");
        let query = r#"
            mutation Prices($a: [ProductVariantsBulkInput!]!, $b: [ProductVariantsBulkInput!]!, $c: [ProductVariantsBulkInput!]!) {
              first: productVariantsBulkUpdate(productId: "gid://shopify/Product/1", variants: $a) {
                productVariants { id price compareAtPrice } userErrors { code field message }
              }
              second: productVariantsBulkUpdate(productId: "gid://shopify/Product/2", variants: $b) {
                product { id } productVariants { id } userErrors { code field }
              }
              third: productVariantsBulkUpdate(productId: "gid://shopify/Product/3", variants: $c, allowPartialUpdates: true) {
                productVariants { id price } userErrors { code field }
              }
            }"#;
        let vars = json!({
            "a": [{"id": gid("ProductVariant", 11), "price": "12.5", "compareAtPrice": "15.00"}],
            "b": [{"id": gid("ProductVariant", 21), "price": "25.00"},
                  {"id": gid("ProductVariant", 22), "price": "-1.00"}],
            "c": [{"id": gid("ProductVariant", 11), "price": "1.00"},
                  {"id": gid("ProductVariant", 31), "price": "33.00", "compareAtPrice": null}],
        });
        let body = gql(&fake, query, vars).await;
        let data = &body["data"];
        assert_eq!(
            data["first"],
            json!({"productVariants": [{"id": gid("ProductVariant", 11), "price": "12.50",
                                        "compareAtPrice": "15.00"}], "userErrors": []})
        );
        assert_eq!(
            data["second"],
            json!({"product": {"id": gid("Product", 2)}, "productVariants": null,
                   "userErrors": [{"code": "GREATER_THAN_OR_EQUAL_TO", "field": ["variants", "1", "price"]}]})
        );
        assert_eq!(
            data["third"],
            json!({"productVariants": [{"id": gid("ProductVariant", 31), "price": "33.00"}],
                   "userErrors": [{"code": "PRODUCT_VARIANT_DOES_NOT_EXIST", "field": ["variants", "0", "id"]}]})
        );
        assert_eq!(fake.price(11), Some(("12.50".into(), Some("15.00".into()))));
        assert_eq!(
            fake.price(21),
            Some(("20.00".into(), None)),
            "all or nothing"
        );
        assert_eq!(fake.price(22), Some(("22.00".into(), None)));
        assert_eq!(fake.price(31), Some(("33.00".into(), None)));
        let call = &fake.calls()[0];
        assert_eq!(call.root_fields, ["productVariantsBulkUpdate"; 3]);
        assert_eq!(call.cost, 30);
        assert_eq!(
            call.user_errors,
            ["GREATER_THAN_OR_EQUAL_TO", "PRODUCT_VARIANT_DOES_NOT_EXIST"]
        );
        let unknown = gql(
            &fake,
            "mutation { productVariantsBulkUpdate(productId: \"gid://shopify/Product/9\", variants: []) { userErrors { code field } } }",
            Value::Null,
        )
        .await;
        assert_eq!(
            unknown["data"]["productVariantsBulkUpdate"]["userErrors"],
            json!([{"code": "PRODUCT_DOES_NOT_EXIST", "field": ["productId"]}])
        );
    }

    #[tokio::test]
    async fn more_than_250_quantities_are_refused_whole() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock_many(LOCATION, (1..=251).map(|i| (i, 0)));
        let quantities = (1..=251).map(|i| quantity(i, 5, None)).collect();
        let body = gql(&fake, SET, set_vars("big", quantities)).await;
        assert_eq!(codes(&body), ["MAX_INPUT_SIZE_EXCEEDED"]);
        assert_eq!(
            body["errors"][0]["message"],
            "The input array size of 251 is greater than the maximum allowed of 250."
        );
        assert!(body.get("data").is_none());
        assert_eq!(fake.level(1, LOCATION), Some(0));
        // 250 pass.
        let quantities = (1..=250).map(|i| quantity(i, 5, Some(0))).collect();
        let body = gql(&fake, SET, set_vars("ok", quantities)).await;
        assert_eq!(
            body["data"]["inventorySetQuantities"]["userErrors"],
            json!([])
        );
        assert_eq!(fake.level(250, LOCATION), Some(5));
        assert_eq!(fake.level(251, LOCATION), Some(0));
    }

    #[tokio::test]
    async fn reading_levels_costs_per_id_and_projects_fragments() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.stock(1, LOCATION, 4);
        fake.variant(5, 50, 2, "9.99");
        fake.location(LOCATION);
        let query = r#"
            query Levels($ids: [ID!]!, $locationId: ID!) {
              nodes(ids: $ids) {
                __typename
                ... on InventoryItem {
                  id
                  level: inventoryLevel(locationId: $locationId) {
                    quantities(names: ["on_hand", "available"]) { name quantity }
                  }
                }
                ...Variant
              }
            }
            fragment Variant on ProductVariant { price product { id } }"#;
        let ids = json!([
            gid("InventoryItem", 1),
            gid("InventoryItem", 2),
            gid("InventoryItem", 3),
            gid("ProductVariant", 50)
        ]);
        let body = gql(
            &fake,
            query,
            json!({"ids": ids, "locationId": gid("Location", LOCATION)}),
        )
        .await;
        assert_eq!(
            body["data"]["nodes"],
            json!([
                {"__typename": "InventoryItem", "id": gid("InventoryItem", 1),
                 "level": {"quantities": [{"name": "on_hand", "quantity": 4}, {"name": "available", "quantity": 4}]}},
                {"__typename": "InventoryItem", "id": gid("InventoryItem", 2), "level": null},
                null,
                {"__typename": "ProductVariant", "price": "9.99", "product": {"id": gid("Product", 5)}},
            ])
        );
        // Per id: the node 1, inventoryLevel 1, quantities 1.
        assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 12);
        // A connection: 2 + first × its nodes' cost.
        fake.order(7, &[(70, "OPEN", &[(1, 1)])]);
        let heavy = "{ order(id: \"gid://shopify/Order/7\") { fulfillmentOrders(first: 50) { nodes { id lineItems(first: 50) { nodes { id } } } } } }";
        let body = gql(&fake, heavy, Value::Null).await;
        assert_eq!(codes(&body), ["MAX_COST_EXCEEDED"]);
        // 1 + (2 + 50 × (1 + (2 + 50 × 1))).
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "Query cost is 2653, which exceeds the single query max cost limit (1000)"
            ),
            "{message}"
        );
        assert!(body.get("data").is_none());
    }

    #[tokio::test]
    async fn fulfilment_closes_the_fulfillment_order() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.order(
            9,
            &[
                (90, "OPEN", &[(901, 2), (902, 1)]),
                (91, "CLOSED", &[]),
                (92, "OPEN", &[(921, 3)]),
            ],
        );
        let create = r#"
            mutation Fulfil($fulfillment: FulfillmentInput!) {
              fulfillmentCreate(fulfillment: $fulfillment, message: "on its way") {
                fulfillment { id status trackingInfo { company number url } }
                userErrors { field message }
              }
            }"#;
        let tracking = json!({"company": "DHL Express", "number": "1234567890",
                              "url": "https://example.com/track/1234567890"});
        let body = gql(
            &fake,
            create,
            json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": gid("FulfillmentOrder", 90)}],
                                   "trackingInfo": tracking, "notifyCustomer": true}}),
        )
        .await;
        let payload = &body["data"]["fulfillmentCreate"];
        assert_eq!(payload["userErrors"], json!([]));
        assert_eq!(payload["fulfillment"]["status"], "SUCCESS");
        assert_eq!(payload["fulfillment"]["trackingInfo"], json!([tracking]));
        let read = r#"query($id: ID!) { order(id: $id) { id fulfillmentOrders(first: 10) {
                        nodes { id status lineItems(first: 10) { nodes { id remainingQuantity totalQuantity } } } } } }"#;
        let order = gql(&fake, read, json!({"id": gid("Order", 9)})).await;
        let nodes = &order["data"]["order"]["fulfillmentOrders"]["nodes"];
        assert_eq!(nodes[0]["status"], "CLOSED");
        assert_eq!(
            nodes[0]["lineItems"]["nodes"],
            json!([{"id": gid("FulfillmentOrderLineItem", 901), "remainingQuantity": 0, "totalQuantity": 2},
                   {"id": gid("FulfillmentOrderLineItem", 902), "remainingQuantity": 0, "totalQuantity": 1}])
        );
        assert_eq!(nodes[1]["status"], "CLOSED");
        let fulfilled = fake.fulfilled(9);
        assert_eq!(fulfilled.len(), 1);
        assert_eq!(
            fulfilled[0]["fulfillmentOrderIds"],
            json!([gid("FulfillmentOrder", 90)])
        );
        assert_eq!(fulfilled[0]["trackingInfo"], tracking);
        assert_eq!(fulfilled[0]["notifyCustomer"], true);
        // A closed one is refused; a listed quantity leaves it in progress.
        let again = gql(
            &fake,
            create,
            json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": gid("FulfillmentOrder", 90)}]}}),
        )
        .await;
        assert_eq!(
            again["data"]["fulfillmentCreate"]["fulfillment"],
            Value::Null
        );
        assert_eq!(
            again["data"]["fulfillmentCreate"]["userErrors"][0]["field"],
            json!([
                "fulfillment",
                "lineItemsByFulfillmentOrder",
                "0",
                "fulfillmentOrderId"
            ])
        );
        let part = gql(
            &fake,
            create,
            json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": gid("FulfillmentOrder", 92),
                "fulfillmentOrderLineItems": [{"id": gid("FulfillmentOrderLineItem", 921), "quantity": 1}]}]}}),
        )
        .await;
        assert_eq!(part["data"]["fulfillmentCreate"]["userErrors"], json!([]));
        let order = gql(&fake, read, json!({"id": gid("Order", 9)})).await;
        let third = &order["data"]["order"]["fulfillmentOrders"]["nodes"][2];
        assert_eq!(third["status"], "IN_PROGRESS");
        assert_eq!(third["lineItems"]["nodes"][0]["remainingQuantity"], 2);
        assert_eq!(fake.fulfilled(9).len(), 2);
    }

    #[tokio::test]
    async fn cancelling_twice_is_invalid() {
        let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
        fake.order(148977776, &[(1, "OPEN", &[(11, 1)])]);
        let cancel = r#"
            mutation OrderCancel($orderId: ID!, $notifyCustomer: Boolean, $refundMethod: OrderCancelRefundMethodInput!,
                                 $restock: Boolean!, $reason: OrderCancelReason!, $staffNote: String) {
              orderCancel(orderId: $orderId, notifyCustomer: $notifyCustomer, refundMethod: $refundMethod,
                          restock: $restock, reason: $reason, staffNote: $staffNote) {
                job { id done }
                orderCancelUserErrors { code field message }
                userErrors { field message }
              }
            }"#;
        let vars = json!({
            "orderId": "gid://shopify/Order/148977776",
            "notifyCustomer": true,
            "refundMethod": {"originalPaymentMethodsRefund": true},
            "restock": true,
            "reason": "CUSTOMER",
            "staffNote": "Wrong size. Customer reached out saying they already re-purchased the correct size."
        });
        let first = gql(&fake, cancel, vars.clone()).await;
        let payload = &first["data"]["orderCancel"];
        assert_eq!(payload["job"]["done"], false);
        assert_eq!(
            (&payload["orderCancelUserErrors"], &payload["userErrors"]),
            (&json!([]), &json!([]))
        );
        let cancelled = fake.cancelled(148977776).expect("cancelled");
        assert_eq!(
            (
                &cancelled["reason"],
                &cancelled["restock"],
                &cancelled["notifyCustomer"]
            ),
            (&json!("CUSTOMER"), &json!(true), &json!(true))
        );
        let job = payload["job"]["id"].as_str().unwrap().to_string();
        let polled = gql(
            &fake,
            "query($id: ID!) { job(id: $id) { id done } }",
            json!({"id": job}),
        )
        .await;
        assert_eq!(polled["data"]["job"], json!({"id": job, "done": true}));
        let second = gql(&fake, cancel, vars.clone()).await;
        assert_eq!(second["data"]["orderCancel"]["job"], Value::Null);
        assert_eq!(
            second["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"],
            "INVALID"
        );
        assert_eq!(fake.calls()[2].user_errors, ["INVALID"]);
        let mut unknown = vars;
        unknown["orderId"] = json!("gid://shopify/Order/1");
        let third = gql(&fake, cancel, unknown).await;
        assert_eq!(
            third["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"],
            "NOT_FOUND"
        );
        let order = gql(
            &fake,
            "{ order(id: \"gid://shopify/Order/148977776\") { cancelledAt cancelReason } }",
            Value::Null,
        )
        .await;
        assert_eq!(order["data"]["order"]["cancelReason"], "CUSTOMER");
        assert!(order["data"]["order"]["cancelledAt"].is_string());
    }
}
