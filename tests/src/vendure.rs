//! Real Vendure in the tests: the test bed in `tests/vendure` (Vendure
//! 3.7.3 from npm, pinned by its lockfile, on a file-backed sql.js
//! database, with the connector's Vendure plugin compiled from
//! `plugins/vendure/vendure-plugin`), started and stopped by the harness.
//!
//! `tests/vendure/setup` (run by `scripts/test`) installs it; a test that
//! finds it missing fails and says so. The server listens on a port the
//! harness picks, seeds the hub's demo catalogue on its first start, and
//! prints one `POSHUB_VENDURE_READY {...}` line with its API key and ids.
//!
//! Between Vendure and the hub sits a [`Relay`]: the plugin posts its
//! signed events to the relay, which forwards them to the hub byte for
//! byte and keeps what it forwarded, so that a test can redeliver an event
//! exactly as Vendure sent it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The line the test bed prints once it serves.
const READY: &str = "POSHUB_VENDURE_READY ";

/// How long a cold start (schema, catalogue, API key) may take.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The test bed's folder.
pub fn bed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vendure")
}

/// A running Vendure server.
pub struct Vendure {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    pub port: u16,
    /// An Admin API key of the superadmin (`vendure-api-key`).
    pub api_key: String,
    /// The default stock location's id.
    pub stock_location: String,
    /// SKU -> product variant id.
    pub variants: HashMap<String, String>,
    pub client: reqwest::Client,
    child: Option<tokio::process::Child>,
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Vendure {
    /// Starts Vendure on a fresh database, its plugin posting to `hub_url`
    /// for store `store` signed with `secret`.
    pub async fn start(hub_url: &str, store: &str, secret: &str) -> Vendure {
        let setup_done = bed().join("build/poshub-plugin/index.js").exists()
            && bed().join("node_modules/@vendure/core").exists();
        assert!(
            setup_done,
            "the Vendure test bed is not installed: run tests/vendure/setup (scripts/test does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let env = vec![
            ("VENDURE_PORT".to_string(), port.to_string()),
            (
                "VENDURE_DB".to_string(),
                dir.path().join("vendure.sqlite").display().to_string(),
            ),
            ("POSHUB_HUB_URL".to_string(), hub_url.to_string()),
            ("POSHUB_STORE".to_string(), store.to_string()),
            ("POSHUB_WEBHOOK_SECRET".to_string(), secret.to_string()),
            ("POSHUB_RETRY_DELAY_MS".to_string(), "300".to_string()),
        ];
        let mut vendure = Vendure {
            base: format!("http://127.0.0.1:{port}"),
            port,
            api_key: String::new(),
            stock_location: String::new(),
            variants: HashMap::new(),
            client: reqwest::Client::new(),
            child: None,
            env,
            _dir: dir,
        };
        vendure.boot().await;
        vendure
    }

    async fn boot(&mut self) {
        let started = Instant::now();
        let mut child = tokio::process::Command::new("node")
            .arg("server.js")
            .current_dir(bed())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Node 20 is on every machine of this kind)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.expect("Vendure's stdout") {
                if let Some(json) = line.strip_prefix(READY) {
                    return Some(json.to_string());
                }
                eprintln!("vendure: {line}");
            }
            None
        })
        .await
        .expect("Vendure started within the timeout")
        .expect("Vendure printed its READY line before exiting");
        // Keep draining its output, or it blocks once the pipe is full.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("vendure: {line}");
            }
        });
        let ready: Value = serde_json::from_str(&ready).expect("READY is JSON");
        self.api_key = ready["apiKey"].as_str().expect("apiKey").to_string();
        self.stock_location = id(&ready["stockLocationId"]);
        self.variants = ready["variants"]
            .as_object()
            .expect("variants")
            .iter()
            .map(|(sku, v)| (sku.clone(), id(v)))
            .collect();
        self.child = Some(child);
        eprintln!("Vendure served after {:?}", started.elapsed());
    }

    /// Stops the server (SIGKILL: nothing is flushed that the database
    /// file does not already hold).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill Vendure");
        }
        // Until the port refuses, the hub could still reach it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "Vendure still answers");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts it again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.boot().await;
    }

    /// A variant's id, by SKU.
    pub fn variant(&self, sku: &str) -> &str {
        self.variants
            .get(sku)
            .unwrap_or_else(|| panic!("Vendure has no variant {sku}"))
    }

    /// An Admin API call with the API key: its `data` (panics on errors).
    pub async fn admin(&self, query: &str, variables: Value) -> Value {
        let answer = self.admin_raw(query, variables).await;
        assert!(
            answer.get("errors").is_none(),
            "Vendure Admin API errors: {answer}"
        );
        answer["data"].clone()
    }

    /// An Admin API call with the API key: the whole answer.
    pub async fn admin_raw(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/admin-api", self.base))
            .header("vendure-api-key", &self.api_key)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("Admin API answers")
            .json()
            .await
            .expect("Admin API answers JSON")
    }

    /// A variant's (stock on hand, allocated) at the default stock
    /// location, and its price in minor units.
    pub async fn variant_stock(&self, sku: &str) -> (i64, i64, i64) {
        let data = self
            .admin(
                "query($id: ID!) { productVariant(id: $id) { price stockLevels { stockLocationId stockOnHand stockAllocated } prices { currencyCode price } } }",
                json!({"id": self.variant(sku)}),
            )
            .await;
        let variant = &data["productVariant"];
        let level = variant["stockLevels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| id(&l["stockLocationId"]) == self.stock_location)
            .cloned()
            .unwrap_or(json!({"stockOnHand": 0, "stockAllocated": 0}));
        (
            level["stockOnHand"].as_i64().unwrap(),
            level["stockAllocated"].as_i64().unwrap(),
            variant["prices"][0]["price"].as_i64().unwrap(),
        )
    }

    /// Waits (up to `within`) until `check` holds for a variant's
    /// (on hand, allocated, price), and returns them.
    pub async fn wait_stock(
        &self,
        sku: &str,
        within: Duration,
        check: impl Fn((i64, i64, i64)) -> bool,
    ) -> (i64, i64, i64) {
        let deadline = Instant::now() + within;
        loop {
            let now = self.variant_stock(sku).await;
            if check(now) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "{sku} in Vendure is still (on hand, allocated, price) {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An order by its code: id, state, lines, fulfilments.
    pub async fn order(&self, code: &str) -> Value {
        let data = self
            .admin(
                "query($code: String!) { orders(options: {filter: {code: {eq: $code}}}) { items { id code state totalWithTax lines { id quantity productVariant { sku } } fulfillments { id state method trackingCode } } } }",
                json!({"code": code}),
            )
            .await;
        data["orders"]["items"][0].clone()
    }

    /// Waits (up to 15 s) until an order is in `state`.
    pub async fn wait_order_state(&self, code: &str, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let order = self.order(code).await;
            if order["state"] == state {
                return order;
            }
            assert!(
                Instant::now() < deadline,
                "Vendure order {code} is still {order}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A customer's order through the Shop API, as a storefront places it:
    /// cart, customer, address, shipping, payment with the test payment
    /// handler. Returns the order's code.
    pub async fn place_order(&self, lines: &[(&str, i64)], email: &str) -> String {
        let mut shop = Shop {
            vendure: self,
            token: None,
        };
        for (sku, quantity) in lines {
            let added = shop
                .call(
                    "mutation($id: ID!, $q: Int!) { addItemToOrder(productVariantId: $id, quantity: $q) { ... on Order { id code } ... on ErrorResult { errorCode message } } }",
                    json!({"id": self.variant(sku), "q": quantity}),
                )
                .await;
            assert!(
                added["addItemToOrder"]["code"].is_string(),
                "addItemToOrder: {added}"
            );
        }
        let customer = shop
            .call(
                "mutation($input: CreateCustomerInput!) { setCustomerForOrder(input: $input) { ... on Order { id } ... on ErrorResult { errorCode message } } }",
                json!({"input": {"emailAddress": email, "firstName": "Asha", "lastName": "Rao", "phoneNumber": "+91 98450 12345"}}),
            )
            .await;
        assert!(
            customer["setCustomerForOrder"]["id"].is_string(),
            "setCustomerForOrder: {customer}"
        );
        let address = shop
            .call(
                "mutation($input: CreateAddressInput!) { setOrderShippingAddress(input: $input) { ... on Order { id } ... on ErrorResult { errorCode message } } }",
                json!({"input": {"fullName": "Asha Rao", "streetLine1": "12 MG Road", "city": "Bengaluru",
                                 "province": "Karnataka", "postalCode": "560001", "countryCode": "IN",
                                 "phoneNumber": "+91 98450 12345"}}),
            )
            .await;
        assert!(
            address["setOrderShippingAddress"]["id"].is_string(),
            "setOrderShippingAddress: {address}"
        );
        let methods = shop
            .call("query { eligibleShippingMethods { id code } }", json!({}))
            .await;
        let method = methods["eligibleShippingMethods"][0]["id"].clone();
        let set = shop
            .call(
                "mutation($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) { ... on Order { id } ... on ErrorResult { errorCode message } } }",
                json!({"id": [method]}),
            )
            .await;
        assert!(
            set["setOrderShippingMethod"]["id"].is_string(),
            "setOrderShippingMethod: {set}"
        );
        let arranging = shop
            .call(
                "mutation { transitionOrderToState(state: \"ArrangingPayment\") { ... on Order { id state } ... on OrderStateTransitionError { errorCode message transitionError } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            arranging["transitionOrderToState"]["state"], "ArrangingPayment",
            "{arranging}"
        );
        let paid = shop
            .call(
                "mutation { addPaymentToOrder(input: {method: \"standard-payment\", metadata: {}}) { ... on Order { code state } ... on ErrorResult { errorCode message } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            paid["addPaymentToOrder"]["state"], "PaymentSettled",
            "addPaymentToOrder: {paid}"
        );
        paid["addPaymentToOrder"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for Vendure {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// A Shop API session (Vendure's bearer token, from its first answer's
/// `vendure-auth-token` header).
struct Shop<'a> {
    vendure: &'a Vendure,
    token: Option<String>,
}

impl Shop<'_> {
    async fn call(&mut self, query: &str, variables: Value) -> Value {
        let mut request = self
            .vendure
            .client
            .post(format!("{}/shop-api", self.vendure.base))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("Shop API answers");
        if let Some(token) = response
            .headers()
            .get("vendure-auth-token")
            .and_then(|t| t.to_str().ok())
        {
            self.token = Some(token.to_string());
        }
        let answer: Value = response.json().await.expect("Shop API answers JSON");
        assert!(answer.get("errors").is_none(), "Shop API errors: {answer}");
        answer["data"].clone()
    }
}

/// An id as text (Vendure writes them as strings; a number is read too).
fn id(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A port nobody listens on now (the harness gives it to Vendure, and
/// keeps it across a restart).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An event the relay forwarded: its path, headers, body, and the hub's
/// answer.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Relayed {
    /// Whether the body holds `needle` (an order code, say).
    pub fn body_has(&self, needle: &str) -> bool {
        String::from_utf8_lossy(&self.body).contains(needle)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Forwards every request to the hub unchanged and keeps a copy.
pub struct Relay {
    pub base: String,
    seen: Arc<Mutex<Vec<Relayed>>>,
}

impl Relay {
    pub async fn start(hub: &str) -> Relay {
        let seen: Arc<Mutex<Vec<Relayed>>> = Default::default();
        let (kept, hub, client) = (seen.clone(), hub.to_string(), reqwest::Client::new());
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: axum::body::Bytes| {
                let (kept, hub, client) = (kept.clone(), hub.clone(), client.clone());
                async move {
                    let path = uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    let mut forward = client.request(method, format!("{hub}{path}"));
                    let mut copied = vec![];
                    for (name, value) in &headers {
                        let value = value.to_str().unwrap_or_default().to_string();
                        if !matches!(name.as_str(), "host" | "content-length") {
                            forward = forward.header(name.as_str(), &value);
                        }
                        copied.push((name.to_string(), value));
                    }
                    let answer = forward.body(body.to_vec()).send().await;
                    let (status, text) = match answer {
                        Ok(a) => (a.status().as_u16(), a.bytes().await.unwrap_or_default()),
                        Err(_) => (502, Default::default()),
                    };
                    kept.lock().unwrap().push(Relayed {
                        path,
                        headers: copied,
                        body: body.to_vec(),
                        status,
                    });
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        [("content-type", "application/json")],
                        text,
                    )
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind relay");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("relay serves");
        });
        Relay { base, seen }
    }

    /// What was forwarded so far.
    pub fn seen(&self) -> Vec<Relayed> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) for a forwarded event that `wanted` picks.
    pub async fn wait_for(&self, wanted: impl Fn(&Relayed) -> bool) -> Relayed {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(found) = self.seen().into_iter().find(|r| wanted(r)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no such event reached the hub; relayed: {:?}",
                self.seen()
                    .iter()
                    .map(|r| (&r.path, r.status))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
