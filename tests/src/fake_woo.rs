//! A fake WooCommerce on 127.0.0.1 for end-to-end tests: the REST API v3
//! product and variation updates the WooCommerce connector sends, answered
//! as WooCommerce's own PHP answers them (`woocommerce/woocommerce`,
//! `plugins/woocommerce/includes/rest-api/Controllers/Version3/`):
//!
//! - `POST|PUT|PATCH /wp-json/wc/v3/products/batch` and
//!   `.../products/{id}/variations/batch` (`WC_REST_Controller::batch_items`):
//!   more than the limit (100, `woocommerce_rest_batch_items_limit`) of
//!   create + update + delete items is refused whole with 413
//!   `woocommerce_rest_request_entity_too_large`; otherwise 200 with one
//!   `update` entry per item in request order: the product or variation as
//!   saved, or `{"id": <as sent>, "error": {...}}` for an unknown id
//!   (`woocommerce_rest_product_invalid_id` /
//!   `woocommerce_rest_product_variation_invalid_id`, status 400, from
//!   `WC_REST_CRUD_Controller::update_item`) or a variation id sent to
//!   `products/batch` (`woocommerce_rest_invalid_product_id`, status 404);
//!   nothing processed is `[]`;
//! - `PUT|POST|PATCH /wp-json/wc/v3/products/{id}` and
//!   `.../products/{parent}/variations/{id}`: the single update, 400
//!   `..._invalid_id` for an unknown id (as `update_item` answers);
//! - basic authentication with the consumer key and secret on every
//!   request (401 `woocommerce_rest_authentication_error` when wrong,
//!   `woocommerce_rest_cannot_batch` / `..._cannot_edit` when missing);
//! - any other path: 404 `rest_no_route`.
//!
//! Stock follows WooCommerce's rules: `stock_quantity` is taken only with
//! `manage_stock` on (else dropped, the item still saved), as an integer
//! (`intval`), and `stock_status` follows it. Every request is counted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

/// A product or variation's stock and price as the fake holds them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Held {
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    /// As WooCommerce stores it: a decimal string, `""` when unset.
    pub regular_price: String,
    /// The parent product of a variation; None for a product.
    pub parent: Option<u64>,
    /// True for a variable product (the parent of variations).
    pub variable: bool,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct WooRequest {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub body: Value,
    /// The status it answered.
    pub status: u16,
}

impl WooRequest {
    /// True for a request to a batch endpoint.
    pub fn is_batch(&self) -> bool {
        self.path.ends_with("/batch")
    }

    /// The `update` items of a batch request (none for a single update).
    pub fn items(&self) -> Vec<Value> {
        self.body["update"].as_array().cloned().unwrap_or_default()
    }

    /// True when it sets stock (a single update's body or a batch's items
    /// carry `stock_quantity`).
    pub fn sets_stock(&self) -> bool {
        if self.is_batch() {
            self.items()
                .iter()
                .any(|i| i.get("stock_quantity").is_some())
        } else {
            self.body.get("stock_quantity").is_some()
        }
    }
}

#[derive(Default)]
struct State {
    objects: BTreeMap<u64, Held>,
    requests: Vec<WooRequest>,
    authorization: String,
    limit: usize,
}

/// The fake shop.
#[derive(Clone)]
pub struct FakeWoo {
    /// The site URL, e.g. `http://127.0.0.1:41234`: the store's `base_url`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

const API: &str = "/wp-json/wc/v3/";

impl FakeWoo {
    /// Starts a shop whose REST API key is `consumer_key` / `consumer_secret`.
    pub async fn start(consumer_key: &str, consumer_secret: &str) -> FakeWoo {
        use base64::Engine;
        let authorization = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{consumer_key}:{consumer_secret}"))
        );
        let state = Arc::new(Mutex::new(State {
            authorization,
            limit: 100,
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
                    let authorization = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let mut state = state.lock().unwrap();
                    let (status, answer) =
                        state.serve(method.as_str(), uri.path(), authorization, &body);
                    state.requests.push(WooRequest {
                        at: Instant::now(),
                        method: method.to_string(),
                        path: uri.path().to_string(),
                        body,
                        status,
                    });
                    let mut res =
                        axum::response::Response::new(axum::body::Body::from(answer.to_string()));
                    res.headers_mut().insert(
                        "content-type",
                        "application/json; charset=UTF-8".parse().unwrap(),
                    );
                    *res.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                    res
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeWoo { base, state }
    }

    /// Adds simple products.
    pub fn add_products(&self, ids: impl IntoIterator<Item = u64>) {
        let mut state = self.state.lock().unwrap();
        for id in ids {
            state.objects.insert(id, Held::default());
        }
    }

    /// Adds a variable product and its variations.
    pub fn add_variable(&self, parent: u64, variations: impl IntoIterator<Item = u64>) {
        let mut state = self.state.lock().unwrap();
        state.objects.insert(
            parent,
            Held {
                variable: true,
                ..Held::default()
            },
        );
        for id in variations {
            state.objects.insert(
                id,
                Held {
                    parent: Some(parent),
                    ..Held::default()
                },
            );
        }
    }

    /// Lowers (or raises) the batch limit, as the shop's
    /// `woocommerce_rest_batch_items_limit` filter would.
    pub fn set_batch_limit(&self, limit: usize) {
        self.state.lock().unwrap().limit = limit;
    }

    /// What the shop holds for a product or variation.
    pub fn held(&self, id: u64) -> Option<Held> {
        self.state.lock().unwrap().objects.get(&id).cloned()
    }

    /// The stock quantity of a product or variation (None when unmanaged
    /// or unknown).
    pub fn stock(&self, id: u64) -> Option<i64> {
        self.held(id).and_then(|h| h.stock_quantity)
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<WooRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Waits until `done` holds of the shop, up to `within`; answers whether it did.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&FakeWoo) -> bool) -> bool {
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

/// A `WP_Error` as the REST server writes it.
fn wp_error(code: &str, message: &str, status: u16) -> Value {
    json!({"code": code, "message": message, "data": {"status": status}})
}

/// The REST server's answer to a path it has no route for.
fn no_route() -> (u16, Value) {
    (
        404,
        wp_error(
            "rest_no_route",
            "No route was found matching the URL and request method.",
            404,
        ),
    )
}

/// Where a request goes.
enum Route {
    /// `products/batch` or `products/{parent}/variations/batch`.
    Batch(Option<u64>),
    /// `products/{id}` or `products/{parent}/variations/{id}`.
    Single(Option<u64>, u64),
}

fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix(API)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match parts[..] {
        ["products", "batch"] => Some(Route::Batch(None)),
        ["products", id] => Some(Route::Single(None, number(id)?)),
        ["products", parent, "variations", "batch"] => Some(Route::Batch(Some(number(parent)?))),
        ["products", parent, "variations", id] => {
            Some(Route::Single(Some(number(parent)?), number(id)?))
        }
        _ => None,
    }
}

/// PHP's `(int)` / `intval` of a JSON value.
fn intval(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .unwrap_or(0),
        Value::String(s) => {
            let s = s.trim();
            let end = s
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                .map_or(s.len(), |(i, _)| i);
            s[..end].parse().unwrap_or(0)
        }
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// `wc_string_to_bool`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "1" | "yes" | "true"),
        _ => false,
    }
}

impl State {
    fn serve(
        &mut self,
        method: &str,
        path: &str,
        authorization: Option<String>,
        body: &Value,
    ) -> (u16, Value) {
        if !matches!(method, "POST" | "PUT" | "PATCH") {
            return no_route();
        }
        let Some(route) = route(path) else {
            return no_route();
        };
        match authorization {
            // WC_REST_Authentication: a wrong key or secret.
            Some(a) if a != self.authorization => {
                return (
                    401,
                    wp_error(
                        "woocommerce_rest_authentication_error",
                        "Consumer secret is invalid.",
                        401,
                    ),
                )
            }
            Some(_) => {}
            // Not logged in: the permission checks refuse.
            None => {
                return match route {
                    Route::Batch(_) => (
                        401,
                        wp_error(
                            "woocommerce_rest_cannot_batch",
                            "Sorry, you are not allowed to batch manipulate this resource.",
                            401,
                        ),
                    ),
                    Route::Single(..) => (
                        401,
                        wp_error(
                            "woocommerce_rest_cannot_edit",
                            "Sorry, you are not allowed to edit this resource.",
                            401,
                        ),
                    ),
                }
            }
        }
        match route {
            Route::Batch(parent) => self.batch(parent, body),
            Route::Single(parent, id) => {
                // update_item_permissions_check of the variations
                // controller (a batch skips it).
                let held_parent = self.objects.get(&id).and_then(|h| h.parent);
                if let (Some(p), Some(h)) = (parent, held_parent) {
                    if p != h {
                        return (
                            403,
                            wp_error(
                                "woocommerce_rest_cannot_edit",
                                "Parent product does not match current variation.",
                                403,
                            ),
                        );
                    }
                }
                let mut item = body.as_object().cloned().unwrap_or_default();
                item.insert("id".into(), json!(id));
                match self.update(parent, &Value::Object(item)) {
                    Ok(saved) => (200, saved),
                    Err(error) => {
                        let status = error["data"]["status"].as_u64().unwrap_or(400) as u16;
                        (status, error)
                    }
                }
            }
        }
    }

    /// `WC_REST_Controller::batch_items`, updates only (the fake creates
    /// and deletes nothing: such items get an error of their own).
    fn batch(&mut self, parent: Option<u64>, body: &Value) -> (u16, Value) {
        let empty = Map::new();
        let params = body.as_object().unwrap_or(&empty);
        let count = |key: &str| {
            params
                .get(key)
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        };
        let total = count("create") + count("update") + count("delete");
        if total > self.limit {
            return (
                413,
                wp_error(
                    "woocommerce_rest_request_entity_too_large",
                    &format!(
                        "Unable to accept more than {} items for this request.",
                        self.limit
                    ),
                    413,
                ),
            );
        }
        let mut answer = Map::new();
        let unsupported = |id: Value| {
            json!({"id": id, "error": {"code": "fake_woo_unsupported",
                "message": "The fake WooCommerce only updates.", "data": {"status": 400}}})
        };
        if count("create") > 0 {
            answer.insert(
                "create".into(),
                params["create"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|_| unsupported(json!(0)))
                    .collect(),
            );
        }
        if count("update") > 0 {
            let mut updated = Vec::new();
            for item in params["update"].as_array().unwrap() {
                // The variations controller merges the URL's product id
                // into each item (an item's own `product_id` wins).
                let mut item = item.clone();
                if let (Some(p), Some(o)) = (parent, item.as_object_mut()) {
                    o.entry("product_id").or_insert(json!(p));
                }
                updated.push(match self.update(parent, &item) {
                    Ok(saved) => saved,
                    Err(error) => json!({"id": item.get("id").cloned().unwrap_or(Value::Null), "error": error}),
                });
            }
            answer.insert("update".into(), Value::Array(updated));
        }
        if count("delete") > 0 {
            answer.insert(
                "delete".into(),
                params["delete"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|id| unsupported(id.clone()))
                    .collect(),
            );
        }
        if answer.is_empty() {
            // PHP's empty array() encodes as a list.
            return (200, json!([]));
        }
        (200, Value::Object(answer))
    }

    /// `update_item` of a product (`parent` None) or of a variation of
    /// `parent` (the URL's, or the item's `product_id`): the object as
    /// saved, or the WP_Error's body.
    fn update(&mut self, parent: Option<u64>, item: &Value) -> Result<Value, Value> {
        let id = u64::try_from(intval(item.get("id").unwrap_or(&Value::Null))).unwrap_or(0);
        let parent = match (parent, item.get("product_id")) {
            (Some(_), Some(p)) => Some(u64::try_from(intval(p)).unwrap_or(0)),
            (parent, _) => parent,
        };
        let found = self.objects.get(&id).cloned();
        let mut held = match (parent, found) {
            (None, Some(h)) if h.parent.is_some() => {
                // WC_REST_Products_Controller::prepare_object_for_database.
                return Err(wp_error(
                    "woocommerce_rest_invalid_product_id",
                    "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
                    404,
                ));
            }
            (None, Some(h)) => h,
            (Some(_), Some(h)) if h.parent.is_some() => h,
            (None, None) => {
                return Err(wp_error(
                    "woocommerce_rest_product_invalid_id",
                    "Invalid ID.",
                    400,
                ))
            }
            (Some(_), _) => {
                return Err(wp_error(
                    "woocommerce_rest_product_variation_invalid_id",
                    "Invalid ID.",
                    400,
                ))
            }
        };
        if let Some(p) = parent {
            // v3 sets the URL's product as the variation's parent, checked
            // by nothing in a batch (code-read; see the research notes).
            held.parent = Some(p);
        }
        if let Some(manage) = item.get("manage_stock") {
            held.manage_stock = truthy(manage);
        }
        if held.manage_stock && !held.variable {
            if let Some(q) = item.get("stock_quantity").filter(|q| !q.is_null()) {
                held.stock_quantity = Some(intval(q));
            }
        } else {
            held.manage_stock = false;
            held.stock_quantity = None;
        }
        if let Some(price) = item.get("regular_price").and_then(Value::as_str) {
            if !held.variable {
                held.regular_price = price.trim().to_string();
            }
        }
        self.objects.insert(id, held.clone());
        Ok(saved(id, &held))
    }
}

/// A product or variation as the REST API writes it (the fields that
/// matter here).
fn saved(id: u64, held: &Held) -> Value {
    let stock_status = match (held.manage_stock, held.stock_quantity) {
        (true, Some(q)) if q <= 0 => "outofstock",
        _ => "instock",
    };
    let self_link = match held.parent {
        Some(parent) => format!("{API}products/{parent}/variations/{id}"),
        None => format!("{API}products/{id}"),
    };
    json!({
        "id": id,
        "type": match (held.parent, held.variable) {
            (Some(_), _) => "variation",
            (None, true) => "variable",
            (None, false) => "simple",
        },
        "parent_id": held.parent.unwrap_or(0),
        "sku": "",
        "price": held.regular_price,
        "regular_price": held.regular_price,
        "sale_price": "",
        "manage_stock": held.manage_stock,
        "stock_quantity": held.stock_quantity,
        "stock_status": stock_status,
        "backorders": "no",
        "_links": {"self": [{"href": self_link}]}
    })
}
