//! Several `poshub serve` processes on one Postgres database: any takes
//! orders, every outbox row is delivered by exactly one of them, and the rows
//! a killed process had claimed are delivered by the other after the lease.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{self, RunningHub};

const TOKEN: &str = "multi-hub-admin";

fn start_hub(db: &str, dir: &std::path::Path) -> RunningHub {
    let cache = dir.join("cache");
    common::start_hub(
        &[
            "--database",
            db,
            "--sync-lease-secs",
            "3",
            "--sync-retry-base-ms",
            "200",
            "--plugin-cache",
            cache.to_str().unwrap(),
        ],
        TOKEN,
    )
}

/// (idempotency key, worker, reference code, available) of one 2xx delivery.
type Delivered = (String, String, String, String);

#[derive(Clone, Default)]
struct Fake {
    deliveries: Arc<Mutex<Vec<Delivered>>>,
    slow: Arc<std::sync::atomic::AtomicBool>,
}

async fn start_fake() -> (String, Fake) {
    let fake = Fake::default();
    let state = fake.clone();
    let app = axum::Router::new().fallback(
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                if state.slow.load(std::sync::atomic::Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                if body["available"].is_string() {
                    state.deliveries.lock().unwrap().push((
                        h("idempotency-key"),
                        h("x-poshub-worker"),
                        body["reference_code"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        body["available"].as_str().unwrap_or_default().to_string(),
                    ));
                }
                "{}"
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let res = client
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

const CODES: [&str; 5] = ["A", "B", "C", "D", "E"];

/// Waits until the storefront's last level of every code is `expected`.
async fn wait_levels(fake: &Fake, expected: &HashMap<String, String>, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let last: HashMap<String, String> = fake
            .deliveries
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, c, a)| (c.clone(), a.clone()))
            .collect();
        if expected.iter().all(|(c, a)| last.get(c) == Some(a)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "levels {last:?} never reached {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hubs_share_one_outbox() {
    let Some(db) = common::fresh_schema("multi").await else {
        eprintln!("POSHUB_TEST_POSTGRES_URL is not set: skipping the two-hub test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (fake_url, fake) = start_fake().await;
    let mut a = start_hub(&db, dir.path());
    let b = start_hub(&db, dir.path());
    let client = reqwest::Client::new();
    let admin = |hub: &RunningHub, path: &str| format!("{}/admin/v1/{path}", hub.base);

    let (s, _) = call(
        &client,
        reqwest::Method::POST,
        admin(&a, "locations"),
        TOKEN,
        json!({"code": "BLR", "name": "B"}),
    )
    .await;
    assert_eq!(s, 201);
    for code in CODES {
        let (s, _) = call(
            &client,
            reqwest::Method::POST,
            admin(&a, "items"),
            TOKEN,
            json!({"item_code": code, "name": code}),
        )
        .await;
        assert_eq!(s, 201);
    }
    let lines: Vec<Value> = CODES
        .iter()
        .map(|c| json!({"reference_code": c, "quantity": "500", "price": "10.00"}))
        .collect();
    let (s, _) = call(
        &client,
        reqwest::Method::POST,
        admin(&b, "stock/inward"),
        TOKEN,
        json!({"location": "BLR", "lines": lines}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(&client, reqwest::Method::POST, admin(&a, "stores"), TOKEN,
        json!({"code": "WEB", "name": "W", "config": {"base_url": fake_url}, "locations": ["BLR"], "payment_types": ["cod"]})).await;
    assert_eq!(s, 201);
    let maps: Vec<Value> = CODES
        .iter()
        .map(|c| json!({"reference_code": c, "external_id": format!("x-{c}")}))
        .collect();
    let (s, _) = call(
        &client,
        reqwest::Method::PUT,
        admin(&b, "stores/WEB/mappings"),
        TOKEN,
        json!(maps),
    )
    .await;
    assert_eq!(s, 200);
    let (s, user) = call(
        &client,
        reqwest::Method::POST,
        admin(&a, "stores/WEB/api-users"),
        TOKEN,
        json!({"name": "app"}),
    )
    .await;
    assert_eq!(s, 201);
    let key = user["api_key"].as_str().unwrap().to_string();

    // Orders posted to both hubs at once.
    let post_orders = |from: usize, to: usize, hubs: Vec<String>| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let mut tasks = Vec::new();
            for i in from..to {
                let (client, key, base) =
                    (client.clone(), key.clone(), hubs[i % hubs.len()].clone());
                tasks.push(tokio::spawn(async move {
                    let code = CODES[i % CODES.len()];
                    let body = json!({"online_reference_no": format!("O-{i}"), "lines": [{"reference_code": code, "quantity": "1", "unit_price": "10.00"}],
                                      "payments": [{"type": "cod", "amount": "10.00"}], "total": "10.00"});
                    call(&client, reqwest::Method::POST, format!("{base}/api/v1/sales-orders"), &key, body).await.0
                }));
            }
            for t in tasks {
                assert_eq!(t.await.unwrap(), 201);
            }
        }
    };
    post_orders(0, 100, vec![a.base.clone(), b.base.clone()]).await;
    let expected: HashMap<String, String> = CODES
        .iter()
        .map(|c| (c.to_string(), "480".to_string()))
        .collect();
    wait_levels(&fake, &expected, Duration::from_secs(20)).await;
    {
        let deliveries = fake.deliveries.lock().unwrap().clone();
        let mut keys: Vec<_> = deliveries.iter().map(|d| d.0.clone()).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "an outbox row was delivered twice");
        let workers: std::collections::HashSet<_> =
            deliveries.iter().map(|d| d.1.clone()).collect();
        println!("{n} stock pushes by {} workers", workers.len());
    }

    // Kill -9 one hub while it has pushes in flight: the other delivers them.
    fake.slow.store(true, std::sync::atomic::Ordering::Relaxed);
    post_orders(100, 150, vec![a.base.clone(), b.base.clone()]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    drop(a);
    let killed_at = Instant::now();
    let expected: HashMap<String, String> = CODES
        .iter()
        .map(|c| (c.to_string(), "470".to_string()))
        .collect();
    wait_levels(&fake, &expected, Duration::from_secs(30)).await;
    println!(
        "after kill -9 the survivor caught up in {:?}",
        killed_at.elapsed()
    );
    // Nothing is left undelivered.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, log) = call(
            &client,
            reqwest::Method::GET,
            admin(&b, "stores/WEB/sync-log?limit=500"),
            TOKEN,
            Value::Null,
        )
        .await;
        assert_eq!(s, 200);
        let open: Vec<_> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] != "sent")
            .cloned()
            .collect();
        if open.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rows never delivered after the kill: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(b);
}
