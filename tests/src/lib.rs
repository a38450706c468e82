//! Test harness for poshub's end-to-end tests: a real hub on 127.0.0.1 port
//! 0 over a fresh database (a temp SQLite file, or a new schema in the
//! Postgres that `POSHUB_TEST_POSTGRES_URL` names), and a small client.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use poshub_db::Storage;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use reqwest;
pub use serde_json;

pub mod fake_shopify;
pub mod fake_woo;
pub mod pg_proxy;
pub mod typed;
pub mod vendure;
pub use typed::{Bill, Order, Problem};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The Postgres URL tests use, if any. Set but unreachable fails the test.
pub fn postgres_url() -> Option<String> {
    std::env::var("POSHUB_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh database URL for one test, or None when Postgres is not configured.
pub async fn fresh_database(backend: Backend) -> Option<(String, Option<tempfile::TempDir>)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("poshub.db").display());
            Some((url, Some(dir)))
        }
        Backend::Postgres => {
            let Some(base) = postgres_url() else {
                eprintln!(
                    "POSHUB_TEST_POSTGRES_URL is not set: skipping the Postgres run of this test"
                );
                return None;
            };
            Some((fresh_schema(&base).await, None))
        }
    }
}

/// Creates a new schema and returns a URL whose connections use it. Schemas
/// of earlier runs older than an hour are dropped.
async fn fresh_schema(base: &str) -> String {
    use sqlx::Connection;
    static N: AtomicU32 = AtomicU32::new(0);
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("POSHUB_TEST_POSTGRES_URL={base} is set but unreachable: {e}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'poshub_t_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for s in stale {
        let born = s
            .split('_')
            .nth(2)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(now);
        if born + 3600 < now {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {s} CASCADE"))
                .execute(&mut conn)
                .await;
        }
    }
    let schema = format!(
        "poshub_t_{now}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options%5Bsearch_path%5D={schema}")
}

/// A running hub.
pub struct TestHub {
    pub base: String,
    pub backend: Backend,
    pub storage: Arc<dyn Storage>,
    pub client: reqwest::Client,
    pub database_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
    /// The plugins directory, when the hub has one.
    pub plugins_dir: Option<tempfile::TempDir>,
}

/// An HTTP answer: status, headers and the JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.text
        );
        &self.body
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.text
        );
        assert_eq!(self.code(), code, "unexpected problem: {}", self.text);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "problems are problem+json"
        );
        &self.body
    }
}

impl TestHub {
    /// Starts a hub on a fresh database; None when the backend is not
    /// configured (Postgres without `POSHUB_TEST_POSTGRES_URL`).
    pub async fn start(backend: Backend) -> Option<TestHub> {
        let (url, dir) = fresh_database(backend).await?;
        Some(Self::start_on(backend, url, dir, None, None).await)
    }

    /// Starts a hub whose plugins directory holds these test plugins (file
    /// names as cargo builds them, e.g. `poshub_test_plugin_spin.wasm`).
    pub async fn start_with_plugins(backend: Backend, plugins: &[&str]) -> Option<TestHub> {
        let (url, dir) = fresh_database(backend).await?;
        let plugins_dir = tempfile::tempdir().expect("temp dir");
        for p in plugins {
            std::fs::copy(test_plugin(p), plugins_dir.path().join(p)).expect("copy test plugin");
        }
        let mut hub = Self::start_on(
            backend,
            url,
            dir,
            None,
            Some(plugins_dir.path().to_path_buf()),
        )
        .await;
        hub.plugins_dir = Some(plugins_dir);
        Some(hub)
    }

    /// Starts a hub on a fresh database whose sync worker runs with `sync`
    /// instead of [`test_sync_config`].
    pub async fn start_with_sync(
        backend: Backend,
        sync: poshub_server::sync::SyncConfig,
    ) -> Option<TestHub> {
        let (url, dir) = fresh_database(backend).await?;
        Some(Self::start_configured(backend, url, dir, None, None, sync).await)
    }

    /// Starts a hub on `database_url` whose sync worker runs with `sync`.
    pub async fn start_on_with_sync(
        backend: Backend,
        database_url: String,
        sync: poshub_server::sync::SyncConfig,
    ) -> TestHub {
        Self::start_configured(backend, database_url, None, None, None, sync).await
    }

    pub async fn start_on(
        backend: Backend,
        database_url: String,
        dir: Option<tempfile::TempDir>,
        tls: Option<poshub_server::Tls>,
        plugins_dir: Option<std::path::PathBuf>,
    ) -> TestHub {
        Self::start_configured(
            backend,
            database_url,
            dir,
            tls,
            plugins_dir,
            test_sync_config(),
        )
        .await
    }

    async fn start_configured(
        backend: Backend,
        database_url: String,
        dir: Option<tempfile::TempDir>,
        tls: Option<poshub_server::Tls>,
        plugins_dir: Option<std::path::PathBuf>,
        sync: poshub_server::sync::SyncConfig,
    ) -> TestHub {
        let config = poshub_server::Config {
            database_url: database_url.clone(),
            admin_token: Some(ADMIN_TOKEN.to_string()),
            default_country: Default::default(),
            currency: None,
            plugins_dir,
            plugin_cache: Some(std::env::temp_dir().join("poshub-test-plugin-cache")),
            sync: Some(sync),
        };
        let hub = poshub_server::build(&config).await.expect("hub builds");
        let bound = poshub_server::bind("127.0.0.1:0".parse().unwrap(), tls).expect("bind");
        let base = bound.base_url();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            bound
                .serve(hub.router, async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        });
        TestHub {
            base,
            backend,
            storage: hub.storage,
            client: reqwest::Client::new(),
            database_url,
            shutdown: Some(tx),
            _dir: dir,
            plugins_dir: None,
        }
    }

    /// Any call; `token` goes in `Authorization: Bearer`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send().await.expect("request")).await
    }

    pub async fn admin_get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Some(ADMIN_TOKEN), None, &[])
            .await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(ADMIN_TOKEN), Some(&body), &[])
            .await
    }

    pub async fn get(&self, key: &str, path: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None, &[]).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(key), Some(&body), &[])
            .await
    }

    /// Creates an API user and returns its key.
    pub async fn api_key(&self, store: &str, locations: &[&str]) -> String {
        let a = self
            .admin_post(
                &format!("/admin/v1/stores/{store}/api-users"),
                json!({"name": format!("user for {locations:?}"), "locations": locations}),
            )
            .await;
        a.expect(201)["api_key"].as_str().unwrap().to_string()
    }

    /// Locations BLR and MUM, the matrix item TOY (Red/Green/Blue x S/M, six
    /// variants) and the plain item MUG; 10 of each at BLR and 5 at MUM,
    /// priced 250.00 (TOY) and 100.00 (MUG), tax 12%.
    pub async fn load_catalogue(&self) {
        for (code, name) in [("BLR", "Bengaluru"), ("MUM", "Mumbai")] {
            self.admin_post("/admin/v1/locations", json!({"code": code, "name": name}))
                .await
                .expect(201);
        }
        self.admin_post(
            "/admin/v1/items",
            json!({"item_code": "TOY", "name": "Toy car", "tax_rate": "12", "mrp": "300.00",
                   "attributes": [{"name": "color", "values": ["Red", "Green", "Blue"]},
                                  {"name": "size", "values": ["S", "M"]}],
                   "reference_code_template": "{item_code}-{color}-{size}"}),
        )
        .await
        .expect(201);
        self.admin_post(
            "/admin/v1/items",
            json!({"item_code": "MUG", "name": "Mug", "tax_rate": "12", "mrp": "120.00"}),
        )
        .await
        .expect(201);
        for (loc, qty) in [("BLR", "10"), ("MUM", "5")] {
            let mut lines: Vec<Value> = TOY_CODES
                .iter()
                .map(|c| json!({"reference_code": c, "quantity": qty, "cost": "150.00", "price": "250.00"}))
                .collect();
            lines.push(json!({"reference_code": "MUG", "quantity": qty, "cost": "40.00", "price": "100.00"}));
            self.admin_post(
                "/admin/v1/stock/inward",
                json!({"location": loc, "lines": lines}),
            )
            .await
            .expect(200);
        }
    }

    /// A store selling from `locations` (prices include tax; prepaid and cod).
    pub async fn create_store(&self, code: &str, locations: &[&str], allow_backorder: bool) {
        self.admin_post(
            "/admin/v1/stores",
            json!({"code": code, "name": format!("Store {code}"), "connector": "canonical",
                   "locations": locations, "payment_types": ["prepaid", "cod"],
                   "allow_backorder": allow_backorder, "prices_include_tax": true}),
        )
        .await
        .expect(201);
    }

    /// Available stock of a variant at a location, as the admin sees it.
    pub async fn available(&self, reference_code: &str, location: &str) -> String {
        let levels = self
            .admin_get(&format!("/admin/v1/stock/{reference_code}"))
            .await;
        levels
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["location"] == location)
            .map(|l| l["available"].as_str().unwrap().to_string())
            .unwrap_or_else(|| "0".to_string())
    }

    /// Asserts that every balance equals the sum of its ledger movements.
    pub async fn assert_ledger_balances(&self) {
        let mismatches = self.storage.verify_ledger().await.unwrap();
        assert!(
            mismatches.is_empty(),
            "ledger and balances disagree: {mismatches:?}"
        );
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The sync worker as tests run it: quick polls, short retries, few attempts.
pub fn test_sync_config() -> poshub_server::sync::SyncConfig {
    use std::time::Duration;
    poshub_server::sync::SyncConfig {
        poll: Duration::from_millis(20),
        retry_base: Duration::from_millis(200),
        max_attempts: 4,
        lease: Duration::from_secs(5),
        request_timeout: Duration::from_secs(3),
        ..Default::default()
    }
}

/// One request a fake storefront received.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: std::time::Instant,
    pub method: String,
    pub path: String,
    /// Headers as received (names lower-case).
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub idempotency_key: String,
    /// The status the fake answered.
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted answer: status and an optional `Retry-After` in seconds.
pub type Scripted = (u16, Option<u64>);

/// A leaky bucket of requests: size, leaked per second, level, when.
type RestBucket = (f64, f64, f64, std::time::Instant);

/// A storefront on 127.0.0.1 that records every push and answers from a
/// script (then 200).
#[derive(Clone)]
pub struct FakeStorefront {
    pub base: String,
    received: Arc<std::sync::Mutex<Vec<Received>>>,
    script: Arc<std::sync::Mutex<std::collections::VecDeque<Scripted>>>,
    fallback: Arc<std::sync::atomic::AtomicU16>,
    /// Headers every request must carry (the platform's authentication);
    /// a request without them gets 401, as a real storefront answers.
    required: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    /// Canned JSON bodies by (method, path).
    bodies: Arc<std::sync::Mutex<Vec<(String, String, Value)>>>,
    /// A REST call limit, as Shopify's REST Admin API had one: a leaky
    /// bucket of requests (size, leaked per second, and its level then).
    rate: Arc<std::sync::Mutex<Option<RestBucket>>>,
}

impl FakeStorefront {
    pub async fn start() -> FakeStorefront {
        let fake = FakeStorefront {
            base: String::new(),
            received: Default::default(),
            script: Default::default(),
            fallback: Arc::new(std::sync::atomic::AtomicU16::new(200)),
            required: Default::default(),
            bodies: Default::default(),
            rate: Default::default(),
        };
        let state = fake.clone();
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    let authentic = state.required.lock().unwrap().iter().all(|(k, v)| {
                        headers.get(k.as_str()).and_then(|h| h.to_str().ok()) == Some(v.as_str())
                    });
                    let limited = state.rate.lock().unwrap().as_mut().is_some_and(
                        |(size, leak, level, at)| {
                            let now = std::time::Instant::now();
                            *level = (*level - (now - *at).as_secs_f64() * *leak).max(0.0);
                            *at = now;
                            if *level + 1.0 > *size {
                                return true;
                            }
                            *level += 1.0;
                            false
                        },
                    );
                    let (status, retry_after) = if limited {
                        (429, Some(1))
                    } else if authentic {
                        state
                            .script
                            .lock()
                            .unwrap()
                            .pop_front()
                            .unwrap_or((state.fallback.load(Ordering::Relaxed), None))
                    } else {
                        (401, None)
                    };
                    let canned = state
                        .bodies
                        .lock()
                        .unwrap()
                        .iter()
                        .find(|(m, p, _)| *m == method.as_str() && *p == uri.path())
                        .map(|(_, _, b)| b.to_string())
                        .unwrap_or_else(|| "{}".into());
                    state.received.lock().unwrap().push(Received {
                        at: std::time::Instant::now(),
                        method: method.to_string(),
                        headers: headers
                            .iter()
                            .filter_map(|(k, v)| {
                                Some((k.to_string(), v.to_str().ok()?.to_string()))
                            })
                            .collect(),
                        path: uri.path().to_string(),
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        idempotency_key: headers
                            .get("idempotency-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string(),
                        answered: status,
                    });
                    let mut res = axum::response::Response::new(axum::body::Body::from(canned));
                    res.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    *res.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                    if let Some(secs) = retry_after {
                        res.headers_mut().insert("retry-after", secs.into());
                    }
                    res
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeStorefront { base, ..fake }
    }

    /// Limits requests as Shopify's REST Admin API did: a bucket of `size`
    /// requests leaking `per_second`; a request that finds it full is
    /// answered 429 with `Retry-After: 1`.
    pub fn rate_limit(&self, size: f64, per_second: f64) {
        *self.rate.lock().unwrap() = Some((size, per_second, 0.0, std::time::Instant::now()));
    }

    /// Answers these statuses (with an optional Retry-After) before the fallback.
    pub fn script(&self, answers: &[(u16, Option<u64>)]) {
        self.script.lock().unwrap().extend(answers.iter().copied());
    }

    /// Every request must carry this header with this value (else 401).
    pub fn require_header(&self, name: &str, value: &str) {
        self.required
            .lock()
            .unwrap()
            .push((name.to_ascii_lowercase(), value.to_string()));
    }

    /// Answers `method path` with this JSON body (and the scripted status).
    pub fn answer_json(&self, method: &str, path: &str, body: Value) {
        self.bodies
            .lock()
            .unwrap()
            .push((method.to_string(), path.to_string(), body));
    }

    /// What every request not scripted gets.
    pub fn answer_always(&self, status: u16) {
        self.fallback.store(status, Ordering::Relaxed);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until a received request satisfies `pred`, up to `within`.
    pub async fn wait_for(
        &self,
        within: std::time::Duration,
        pred: impl Fn(&Received) -> bool,
    ) -> Option<Received> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(r) = self.received().into_iter().find(|r| pred(r)) {
                return Some(r);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// The bytes of a fixture (`fixtures/PATH`, the shared fixtures copied verbatim), exactly as stored.
pub fn fixture(path: &str) -> Vec<u8> {
    let dir = std::env::var("POSHUB_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"));
    let file = dir.join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
}

/// A test plugin built by the build script.
pub fn test_plugin(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("POSHUB_TEST_PLUGINS")).join(file)
}

/// The base64 HMAC-SHA256 of `body` under `secret` (Shopify's and the
/// canonical connector's webhook signature).
pub fn sign(secret: &str, body: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl TestHub {
    /// A store on `connector` with a webhook secret, selling from BLR.
    pub async fn create_connector_store(
        &self,
        code: &str,
        connector: &str,
        secret: &str,
        extra: Value,
    ) {
        let mut config = json!({"webhook_secret": secret, "base_url": "http://127.0.0.1:9"});
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        self.admin_post(
            "/admin/v1/stores",
            json!({"code": code, "name": format!("Store {code}"), "connector": connector, "config": config,
                   "locations": ["BLR"], "payment_types": ["prepaid", "cod"], "prices_include_tax": true}),
        )
        .await
        .expect(201);
    }

    /// A store's sync log rows with this status (the newest 500).
    pub async fn sync_log(&self, store: &str, status: &str) -> Vec<Value> {
        self.admin_get(&format!(
            "/admin/v1/stores/{store}/sync-log?status={status}&limit=500"
        ))
        .await
        .expect(200)
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Posts a webhook signed with `secret` (None: unsigned).
    pub async fn webhook(
        &self,
        store: &str,
        topic: &str,
        body: &[u8],
        secret: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .client
            .post(format!("{}/hooks/{store}/{topic}", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = secret {
            req = req.header("X-Poshub-Signature", sign(s, body));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send().await.expect("request")).await
    }

    /// The row of `code` in the store API's items answer to `path`.
    pub async fn item_row(&self, key: &str, path: &str, code: &str) -> Value {
        let items = self.get(key, path).await;
        let rows = items.expect(200)["items"].as_array().unwrap();
        rows.iter()
            .find(|i| i["reference_code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code} not in {path}"))
    }

    /// Maps reference codes to a store's own ids (`PUT .../mappings`).
    pub async fn map(&self, store: &str, pairs: &[(&str, &str)]) -> Answer {
        let body: Vec<Value> = pairs
            .iter()
            .map(|(c, x)| json!({"reference_code": c, "external_id": x}))
            .collect();
        let path = format!("/admin/v1/stores/{store}/mappings");
        self.call(
            Method::PUT,
            &path,
            Some(ADMIN_TOKEN),
            Some(&json!(body)),
            &[],
        )
        .await
    }

    /// Waits (up to 10 s) until every row of the store's sync log is sent,
    /// and returns the log.
    pub async fn wait_all_sent(&self, store: &str) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let log = self
                .admin_get(&format!("/admin/v1/stores/{store}/sync-log"))
                .await;
            let log = log.expect(200).as_array().unwrap().clone();
            if !log.is_empty() && log.iter().all(|e| e["status"] == "sent") {
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not all rows were sent: {log:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The store's connector events, newest first.
    pub async fn events(&self, store: &str) -> Vec<Value> {
        self.admin_get(&format!("/admin/v1/stores/{store}/events"))
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .clone()
    }
}

pub async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

pub const TOY_CODES: [&str; 6] = [
    "TOY-Red-S",
    "TOY-Red-M",
    "TOY-Green-S",
    "TOY-Green-M",
    "TOY-Blue-S",
    "TOY-Blue-M",
];

/// An order body: `lines` as (reference code, quantity, unit price); total
/// and a single payment worked out (prices include tax).
pub fn order(
    reference: &str,
    location: Option<&str>,
    phone: Option<&str>,
    lines: &[(&str, u32, &str)],
    payment: &str,
) -> Value {
    use std::str::FromStr;
    let total: rust_decimal::Decimal = lines
        .iter()
        .map(|(_, q, p)| {
            rust_decimal::Decimal::from(*q) * rust_decimal::Decimal::from_str(p).unwrap()
        })
        .sum();
    let total = format!("{total:.2}");
    let mut body = json!({
        "online_reference_no": reference,
        "customer": {"name": "Test Customer", "email": "customer@example.com"},
        "lines": lines.iter().map(|(c, q, p)| json!({"reference_code": c, "quantity": q.to_string(), "unit_price": p})).collect::<Vec<_>>(),
        "payments": [{"type": payment, "amount": total}],
        "total": total,
    });
    if let Some(l) = location {
        body["location"] = json!(l);
    }
    if let Some(p) = phone {
        body["customer"]["phone"] = json!(p);
    }
    body
}

/// Runs a test body on SQLite and on Postgres: `both_backends!(name, body_fn)`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                if let Some(hub) = $crate::TestHub::start($crate::Backend::Sqlite).await {
                    $body(hub).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(hub) = $crate::TestHub::start($crate::Backend::Postgres).await {
                    $body(hub).await;
                }
            }
        }
    };
}

/// A catalogue of `variants` variants for the load benchmarks: items
/// `IT000000`... of five sizes each (`IT000000-S` ... `-XXL`), imported as
/// CSV in chunks of 4,000 items, without stock.
pub async fn import_variants(hub: &TestHub, variants: usize) {
    let items = variants.div_ceil(5);
    let chunk = 4_000;
    for start in (0..items).step_by(chunk) {
        let mut csv =
            String::from("item_code,name,tax_rate,price,attributes,reference_code_template\n");
        for i in start..(start + chunk).min(items) {
            csv.push_str(&format!(
                "IT{i:06},Item {i},12,{}.00,size=S|M|L|XL|XXL,{{item_code}}-{{size}}\n",
                100 + i % 400
            ));
        }
        let res = hub
            .client
            .post(format!("{}/admin/v1/import/items", hub.base))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("import");
        assert!(
            res.status().is_success(),
            "import: {}",
            res.text().await.unwrap_or_default()
        );
    }
}

/// `on_hand` of every variant at every location, with the inward movements
/// that put them there (the ledger balances). Written with two statements:
/// half a million inward lines through the API would take minutes and are
/// not what the benchmarks measure.
pub async fn stock_everywhere(hub: &TestHub, on_hand: i64) {
    let at = poshub_model::now();
    let balances =
        "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) \
                    SELECT v.id, l.id, $1, $2, $3 FROM variants v CROSS JOIN locations l";
    let movements =
        "INSERT INTO stock_movements (variant_id, location_id, kind, quantity, on_hand_delta, \
                     reserved_delta, cost, price, order_id, reference, at) \
                     SELECT v.id, l.id, 'inward', $1, $1, $2, NULL, NULL, NULL, 'BENCH', $3 \
                     FROM variants v CROSS JOIN locations l";
    match hub.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&hub.database_url)
                .await
                .expect("sqlite");
            for sql in [balances, movements] {
                sqlx::query(sql)
                    .bind(on_hand.to_string())
                    .bind("0")
                    .bind(at)
                    .execute(&pool)
                    .await
                    .expect("stock");
            }
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&hub.database_url)
                .await
                .expect("postgres");
            let (level, zero) = (
                rust_decimal::Decimal::from(on_hand),
                rust_decimal::Decimal::ZERO,
            );
            for sql in [balances, movements] {
                sqlx::query(sql)
                    .bind(level)
                    .bind(zero)
                    .bind(at)
                    .execute(&pool)
                    .await
                    .expect("stock");
            }
        }
    }
}
