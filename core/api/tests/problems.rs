//! The in-process tier: the real `poshub_api::router` over a real SQLite
//! storage in a temp dir, driven with `tower::ServiceExt::oneshot` (no
//! socket, no server process). It pins the problem+json SHAPE of the API's
//! refusals: content type, `type`, `title`, `status`, `code`, `detail`, the
//! extension members (`errors`, `existing_id`, `current_status`, `lines`) and
//! the headers, for the store API, the admin API, routing, webhooks and the
//! compat dialect. The end-to-end suite (`tests/tests/e2e`) checks the same
//! refusals change nothing; here they are cheap enough to check field by
//! field.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use poshub_api::extract::hash_key;
use poshub_api::{AppState, Metrics};
use poshub_connectors::{Host, Registry};
use serde_json::{json, Value};
use tower::ServiceExt;

const ADMIN: &str = "in-process-admin-token";

/// Every member a problem may have (RFC 9457's five and poshub's extensions).
const MEMBERS: [&str; 9] = [
    "type",
    "title",
    "status",
    "code",
    "detail",
    "errors",
    "lines",
    "existing_id",
    "current_status",
];

/// The router over a fresh SQLite database, with the bundled connectors.
struct Hub {
    app: Router,
    _dir: tempfile::TempDir,
}

/// One answer: status, headers, the body as text and as JSON (Null if not).
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
    body: Value,
}

impl Hub {
    async fn new() -> Hub {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        let storage = poshub_db::connect(&url).await.expect("storage opens");
        // The same compiled-plugin cache as the end-to-end tests: only the
        // first test process on a machine compiles the bundled connectors.
        let cache = std::env::temp_dir().join("poshub-test-plugin-cache");
        let registry = tokio::task::spawn_blocking(move || {
            let host = Host::new(Some(cache)).expect("plugin host");
            let (registry, report) =
                Registry::new(host, poshub_connectors::bundled::BUNDLED, None).expect("registry");
            assert!(report.failed.is_empty(), "{:?}", report.failed);
            registry
        })
        .await
        .unwrap();
        let state = AppState {
            storage,
            admin_token_hash: hash_key(ADMIN),
            default_country: Default::default(),
            registry: Arc::new(registry),
            metrics: Arc::new(Metrics::default()),
        };
        Hub {
            app: poshub_api::router(state),
            _dir: dir,
        }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    /// A request with an optional Bearer token and an optional JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    /// A POST of these bytes with this content type (None: no header).
    async fn raw(&self, path: &str, token: &str, content_type: Option<&str>, body: &str) -> Reply {
        let mut req = Request::post(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(ADMIN), body).await
    }

    /// Location BLR, the item MUG with 10 at BLR priced 100.00, the
    /// canonical store WEB (with `config`) selling from BLR, and a key for it.
    async fn with_store(&self, config: Value) -> String {
        self.admin(
            Method::POST,
            "/admin/v1/locations",
            Some(json!({"code": "BLR", "name": "Bengaluru"})),
        )
        .await
        .ok(201);
        self.admin(
            Method::POST,
            "/admin/v1/items",
            Some(json!({"item_code": "MUG", "name": "Mug", "tax_rate": "12", "mrp": "120.00"})),
        )
        .await
        .ok(201);
        self.admin(
            Method::POST,
            "/admin/v1/stock/inward",
            Some(json!({"location": "BLR", "lines": [
                {"reference_code": "MUG", "quantity": "10", "cost": "40.00", "price": "100.00"}]})),
        )
        .await
        .ok(200);
        self.admin(
            Method::POST,
            "/admin/v1/stores",
            Some(
                json!({"code": "WEB", "name": "Web", "connector": "canonical", "config": config,
                        "locations": ["BLR"], "payment_types": ["prepaid", "cod"],
                        "prices_include_tax": true}),
            ),
        )
        .await
        .ok(201);
        let key = self
            .admin(
                Method::POST,
                "/admin/v1/stores/WEB/api-users",
                Some(json!({"name": "web"})),
            )
            .await;
        key.ok(201)["api_key"].as_str().unwrap().to_string()
    }

    async fn place(&self, key: &str, body: Value) -> Reply {
        self.call(Method::POST, "/api/v1/sales-orders", Some(key), Some(body))
            .await
    }

    async fn webhook(&self, store: &str, topic: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::post(format!("/hooks/{store}/{topic}"))
            .header(header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(r#"{"id": 1}"#)).unwrap())
            .await
    }
}

/// `quantity` mugs at 100.00 each, paid `prepaid`, for reference `reference`.
fn mugs(reference: &str, quantity: u32) -> Value {
    let total = format!("{}.00", 100 * quantity);
    json!({
        "online_reference_no": reference,
        "customer": {"name": "Asha"},
        "lines": [{"reference_code": "MUG", "quantity": quantity.to_string(), "unit_price": "100.00"}],
        "payments": [{"type": "prepaid", "amount": total}],
        "total": total,
    })
}

impl Reply {
    #[track_caller]
    fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        &self.body
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the whole problem+json shape of a refusal with this status
    /// and code, and returns the body for the details of its kind.
    #[track_caller]
    fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        let body = self.body.as_object().unwrap_or_else(|| {
            panic!("a problem is a JSON object: {}", self.text);
        });
        for member in body.keys() {
            assert!(
                MEMBERS.contains(&member.as_str()),
                "unexpected member `{member}`: {}",
                self.text
            );
        }
        assert_eq!(body["type"], format!("urn:poshub:problem:{code}"));
        assert_eq!(body["title"], title(status), "{}", self.text);
        assert_eq!(body["status"], status, "{}", self.text);
        assert_eq!(body["code"], code, "{}", self.text);
        let detail = body["detail"].as_str().expect("detail is a string");
        assert!(!detail.is_empty(), "{}", self.text);
        // Only 401s ask for credentials.
        assert_eq!(
            self.header("www-authenticate"),
            (status == 401).then_some("Bearer"),
            "{}",
            self.text
        );
        &self.body
    }
}

/// The reason phrase every problem's `title` carries, written out.
fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        other => panic!("no title written out for {other}"),
    }
}

// --- Credentials -----------------------------------------------------------

#[tokio::test]
async fn store_api_without_a_key_is_401_asking_for_bearer() {
    let hub = Hub::new().await;
    let reply = hub.call(Method::GET, "/api/v1/items", None, None).await;
    let p = reply.problem(401, "unauthorized");
    assert_eq!(
        p["detail"],
        "send the store's API key as `Authorization: Bearer <key>`"
    );
    // Another scheme is no key either.
    let mut req = Request::get("/api/v1/sales-orders");
    req = req.header(header::AUTHORIZATION, "Basic dTpw");
    let reply = hub.send(req.body(Body::empty()).unwrap()).await;
    reply.problem(401, "unauthorized");
}

#[tokio::test]
async fn store_api_with_an_unknown_key_is_401() {
    let hub = Hub::new().await;
    let reply = hub
        .call(Method::GET, "/api/v1/items", Some("psk_nobody"), None)
        .await;
    assert_eq!(
        reply.problem(401, "unauthorized")["detail"],
        "this API key is not valid"
    );
}

#[tokio::test]
async fn admin_api_refuses_a_missing_token_a_wrong_one_and_a_store_key() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let none = hub
        .call(Method::GET, "/admin/v1/locations", None, None)
        .await;
    assert_eq!(
        none.problem(401, "unauthorized")["detail"],
        "send the admin token as `Authorization: Bearer <token>`"
    );
    for token in ["not-the-token", key.as_str()] {
        let wrong = hub
            .call(Method::GET, "/admin/v1/locations", Some(token), None)
            .await;
        assert_eq!(
            wrong.problem(401, "unauthorized")["detail"],
            "this is not the admin token"
        );
    }
}

#[tokio::test]
async fn a_switched_off_store_is_403_for_its_keys() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    hub.admin(
        Method::PATCH,
        "/admin/v1/stores/WEB",
        Some(json!({"enabled": false})),
    )
    .await
    .ok(200);
    let reply = hub
        .call(Method::GET, "/api/v1/items", Some(&key), None)
        .await;
    let p = reply.problem(403, "store_disabled");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("store WEB is switched off"),
        "{}",
        reply.text
    );
}

// --- Bodies ----------------------------------------------------------------

#[tokio::test]
async fn malformed_json_is_400() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let reply = hub
        .raw(
            "/api/v1/sales-orders",
            &key,
            Some("application/json"),
            r#"{"online_reference_no": "#,
        )
        .await;
    let p = reply.problem(400, "malformed_json");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("the body is not valid JSON: "),
        "{}",
        reply.text
    );
    assert!(p.get("errors").is_none(), "{}", reply.text);
}

#[tokio::test]
async fn a_body_not_sent_as_json_is_415() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let body = mugs("W-1", 1).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let reply = hub
            .raw("/api/v1/sales-orders", &key, content_type, &body)
            .await;
        assert_eq!(
            reply.problem(415, "unsupported_media_type")["detail"],
            "send the body as JSON with Content-Type: application/json",
            "{content_type:?}"
        );
    }
    // `+json` types and parameters are JSON.
    let reply = hub
        .raw(
            "/api/v1/sales-orders",
            &key,
            Some("application/vnd.poshub+json; charset=utf-8"),
            &body,
        )
        .await;
    reply.ok(201);
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_422_naming_it() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let mut body = mugs("W-1", 1);
    body["lines"] = json!("MUG");
    let reply = hub.place(&key, body).await;
    let p = reply.problem(422, "invalid_body");
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", reply.text);
    assert_eq!(errors[0]["field"], "lines");
    assert_eq!(errors[0]["code"], "invalid_value");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("invalid type: string \"MUG\""),
        "{message}"
    );
    assert_eq!(p["detail"], format!("lines: {message}"));
    // A nested field is named by its path.
    let mut body = mugs("W-1", 1);
    body["lines"][0]["quantity"] = json!({"n": 1});
    let reply = hub.place(&key, body).await;
    let p = reply.problem(422, "invalid_body");
    assert_eq!(
        p["errors"][0]["field"], "lines[0].quantity",
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn an_object_body_sent_as_an_array_is_422() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let reply = hub
        .raw(
            "/api/v1/sales-orders",
            &key,
            Some("application/json"),
            r#"["W-1"]"#,
        )
        .await;
    let p = reply.problem(422, "invalid_body");
    assert_eq!(p["detail"], "the body must be a JSON object");
    assert_eq!(
        p["errors"],
        json!([{"field": "", "code": "invalid_value", "message": "expected a JSON object, found an array"}])
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let huge = format!(r#"{{"notes": "{}"}}"#, "x".repeat(poshub_api::BODY_LIMIT));
    let reply = hub
        .raw(
            "/api/v1/sales-orders",
            &key,
            Some("application/json"),
            &huge,
        )
        .await;
    assert_eq!(
        reply.problem(413, "body_too_large")["detail"],
        "the request body is too large"
    );
    // Admin bodies too.
    let reply = hub
        .raw("/admin/v1/items", ADMIN, Some("application/json"), &huge)
        .await;
    reply.problem(413, "body_too_large");
}

#[tokio::test]
async fn a_bad_query_string_is_400() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let reply = hub
        .call(
            Method::GET,
            "/api/v1/sales-orders?limit=many",
            Some(&key),
            None,
        )
        .await;
    let p = reply.problem(400, "invalid_query");
    assert!(
        p["detail"].as_str().unwrap().contains("limit"),
        "{}",
        reply.text
    );
}

// --- Rules -----------------------------------------------------------------

#[tokio::test]
async fn a_rule_broken_by_one_field_is_422_with_that_field() {
    let hub = Hub::new().await;
    let reply = hub
        .admin(
            Method::POST,
            "/admin/v1/locations",
            Some(json!({"code": "BLR", "name": " "})),
        )
        .await;
    let p = reply.problem(422, "required");
    assert_eq!(
        p["errors"],
        json!([{"field": "name", "code": "required", "message": "a location needs a name"}])
    );
    assert_eq!(
        p["detail"],
        "validation failed: name: a location needs a name"
    );
}

#[tokio::test]
async fn rules_broken_by_several_fields_are_one_422_listing_each() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let mut body = mugs("W-1", 1);
    body["lines"][0]["reference_code"] = json!("NOPE");
    body["payments"][0]["type"] = json!("barter");
    let reply = hub.place(&key, body).await;
    let p = reply.problem(422, "validation_failed");
    let errors = p["errors"].as_array().unwrap();
    assert!(errors.len() >= 2, "{}", reply.text);
    for e in errors {
        let e = e.as_object().unwrap();
        let mut keys: Vec<&str> = e.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["code", "field", "message"], "{}", reply.text);
        assert!(e.values().all(|v| v.is_string()), "{}", reply.text);
    }
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"lines[0].reference_code"),
        "{}",
        reply.text
    );
    assert!(
        fields.iter().any(|f| f.starts_with("payments[0]")),
        "{}",
        reply.text
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("validation failed: "),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_duplicate_order_is_409_naming_the_existing_one() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let first = hub.place(&key, mugs("W-1", 1)).await;
    let id = first.ok(201)["id"].as_i64().unwrap();
    let again = hub.place(&key, mugs("W-1", 2)).await;
    let p = again.problem(409, "duplicate_online_reference_no");
    assert_eq!(p["existing_id"], id, "{}", again.text);
    assert_eq!(
        p["detail"],
        format!("this store already has order {id} with online_reference_no `W-1`")
    );
    // Other conflicts name no record.
    let location = hub
        .admin(
            Method::POST,
            "/admin/v1/locations",
            Some(json!({"code": "BLR", "name": "Again"})),
        )
        .await;
    let p = location.problem(409, "duplicate_location");
    assert!(p.get("existing_id").is_none(), "{}", location.text);
}

#[tokio::test]
async fn short_stock_is_409_listing_each_line() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let reply = hub.place(&key, mugs("W-1", 12)).await;
    let p = reply.problem(409, "insufficient_stock");
    assert_eq!(
        p["detail"],
        "not enough stock: line 0 (MUG): 12 requested, 10 available"
    );
    let lines = p["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{}", reply.text);
    assert_eq!(lines[0]["reference_code"], "MUG");
    assert_eq!(lines[0]["line"], 0);
    assert_eq!(lines[0]["requested"], "12");
    assert_eq!(lines[0]["available"], "10");
}

#[tokio::test]
async fn a_step_out_of_order_is_409_naming_the_current_status() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let id = hub.place(&key, mugs("W-1", 1)).await.ok(201)["id"]
        .as_i64()
        .unwrap();
    let reply = hub
        .admin(
            Method::POST,
            &format!("/admin/v1/sales-orders/{id}/deliver"),
            Some(json!({})),
        )
        .await;
    let p = reply.problem(409, "invalid_status_transition");
    assert_eq!(p["current_status"], "pending");
    assert_eq!(p["detail"], "cannot deliver an order that is pending");
}

#[tokio::test]
async fn a_reused_idempotency_key_is_422() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    let post = |body: Value| {
        Request::post("/api/v1/sales-orders")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "k-1")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    hub.send(post(mugs("W-1", 1))).await.ok(201);
    let reply = hub.send(post(mugs("W-1", 2))).await;
    assert_eq!(
        reply.problem(422, "idempotency_key_reused")["detail"],
        "the Idempotency-Key was already used with a different request body"
    );
}

#[tokio::test]
async fn unknown_records_are_404() {
    let hub = Hub::new().await;
    let key = hub.with_store(json!({})).await;
    for (path, detail) in [
        ("/api/v1/sales-orders/999", None),
        (
            "/api/v1/sales-orders/abc",
            Some("sales order abc not found"),
        ),
        ("/api/v1/sales-orders/-1", Some("sales order -1 not found")),
    ] {
        let reply = hub.call(Method::GET, path, Some(&key), None).await;
        let p = reply.problem(404, "not_found");
        if let Some(d) = detail {
            assert_eq!(p["detail"], d, "{path}");
        }
    }
    let reply = hub
        .admin(
            Method::POST,
            "/admin/v1/stores/NOPE/api-users",
            Some(json!({"name": "x"})),
        )
        .await;
    reply.problem(404, "not_found");
    let reply = hub.admin(Method::GET, "/admin/v1/items/NOPE", None).await;
    reply.problem(404, "not_found");
}

// --- Routing ---------------------------------------------------------------

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let hub = Hub::new().await;
    for path in ["/nope", "/api/v1/nope", "/admin/v1/sales-orders/1/nope"] {
        let reply = hub.call(Method::GET, path, Some(ADMIN), None).await;
        assert_eq!(
            reply.problem(404, "no_such_route")["detail"],
            "no such route; see /api/v1/openapi.json",
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let hub = Hub::new().await;
    for (method, path) in [
        (Method::DELETE, "/api/v1/items"),
        (Method::PUT, "/api/v1/sales-orders"),
        (Method::GET, "/hooks/WEB/orders/create"),
    ] {
        let reply = hub.call(method.clone(), path, Some(ADMIN), None).await;
        assert_eq!(
            reply.problem(405, "method_not_allowed")["detail"],
            "this route does not take that method",
            "{method} {path}"
        );
    }
}

// --- Webhooks --------------------------------------------------------------

#[tokio::test]
async fn a_webhook_for_an_unknown_store_is_404() {
    let hub = Hub::new().await;
    let reply = hub.webhook("NOPE", "orders/create", &[]).await;
    assert_eq!(
        reply.problem(404, "not_found")["detail"],
        "store NOPE not found"
    );
}

#[tokio::test]
async fn a_webhook_for_a_store_without_a_secret_is_401() {
    let hub = Hub::new().await;
    hub.with_store(json!({})).await;
    let reply = hub
        .webhook("WEB", "orders/create", &[("X-Poshub-Signature", "c2ln")])
        .await;
    assert_eq!(
        reply.problem(401, "webhook_secret_missing")["detail"],
        "this store has no webhook_secret configured; webhooks cannot be verified"
    );
}

#[tokio::test]
async fn a_webhook_with_a_bad_or_no_signature_is_401() {
    let hub = Hub::new().await;
    hub.with_store(json!({"webhook_secret": "s3cret"})).await;
    for headers in [&[("X-Poshub-Signature", "c2lnbmF0dXJl")][..], &[]] {
        let reply = hub.webhook("WEB", "orders/create", headers).await;
        assert_eq!(
            reply.problem(401, "invalid_signature")["detail"],
            "the X-Poshub-Signature header does not hold a valid signature of this body",
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn a_webhook_topic_the_connector_lacks_is_404() {
    let hub = Hub::new().await;
    hub.with_store(json!({"webhook_secret": "s3cret"})).await;
    let reply = hub.webhook("WEB", "products/update", &[]).await;
    assert_eq!(
        reply.problem(404, "unknown_topic")["detail"],
        "canonical: no webhook topic `products/update`"
    );
}

#[tokio::test]
async fn a_webhook_over_the_limit_is_413() {
    let hub = Hub::new().await;
    hub.with_store(json!({"webhook_secret": "s3cret"})).await;
    let req = Request::post("/hooks/WEB/orders/create")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; poshub_api::BODY_LIMIT + 1]))
        .unwrap();
    hub.send(req).await.problem(413, "body_too_large");
}

// --- The compat dialect ----------------------------------------------------

#[tokio::test]
async fn compat_for_an_unknown_store_or_one_without_a_dialect_is_a_404_problem() {
    let hub = Hub::new().await;
    let reply = hub
        .call(Method::GET, "/compat/NOPE/salesOrders", None, None)
        .await;
    assert_eq!(
        reply.problem(404, "not_found")["detail"],
        "store NOPE not found"
    );
    // WEB is a canonical store whose config names no dialect.
    hub.with_store(json!({})).await;
    let reply = hub
        .call(Method::GET, "/compat/WEB/salesOrders", None, None)
        .await;
    assert_eq!(
        reply.problem(404, "not_found")["detail"],
        "store WEB speaks no API dialect: its connector `canonical` has none and its config names no `api_dialect`"
    );
}

#[tokio::test]
async fn compat_without_a_key_is_401_in_the_dialect() {
    let hub = Hub::new().await;
    hub.with_store(json!({"api_dialect": "gofrugal"})).await;
    let reply = hub
        .call(Method::GET, "/compat/WEB/salesOrders", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    // The dialect renders the hub's problem in the vendor's error shape.
    assert_eq!(reply.body["status"], "failure", "{}", reply.text);
    assert_eq!(reply.body["code"], "unauthorized", "{}", reply.text);
    assert_eq!(
        reply.body["message"],
        "send one of the store's API keys in X-Auth-Token"
    );
    assert_eq!(reply.body["error"]["code"], 4401, "{}", reply.text);
    // A store API key sent the store API's way is not the dialect's header.
    let key = "psk_whatever";
    let reply = hub
        .call(Method::GET, "/compat/WEB/salesOrders", Some(key), None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_eq!(reply.body["code"], "unauthorized", "{}", reply.text);
}
