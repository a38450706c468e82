//! Issue 8, security: one test per claim. Store isolation, admin routes
//! closed to store keys, keys stored hashed, oversized and deeply nested
//! bodies refused with a 4xx problem and nothing written.

use poshub_tests::reqwest::Method;
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, order, TestHub, ADMIN_TOKEN};

/// Two stores on the same location, each with one pending order.
async fn two_stores(hub: &TestHub) -> (String, String, i64) {
    hub.load_catalogue().await;
    hub.create_store("A", &["BLR"], false).await;
    hub.create_store("B", &["BLR"], false).await;
    let a = hub.api_key("A", &["BLR"]).await;
    let b = hub.api_key("B", &["BLR"]).await;
    hub.post(
        &a,
        "/api/v1/sales-orders",
        order("A-1", None, None, &[("MUG", 1, "100.00")], "cod"),
    )
    .await
    .expect(201);
    let placed = hub
        .post(
            &b,
            "/api/v1/sales-orders",
            order("B-1", None, None, &[("MUG", 2, "100.00")], "cod"),
        )
        .await;
    let b_id = placed.expect(201)["id"].as_i64().unwrap();
    (a, b, b_id)
}

/// Store A's key cannot read, list, cancel or return store B's order: 404
/// each time, and B's order, its reservation and the ledger are unchanged.
async fn store_key_cannot_touch_another_stores_orders(hub: TestHub) {
    let (a, b, b_id) = two_stores(&hub).await;
    let before = hub
        .admin_get(&format!("/admin/v1/sales-orders/{b_id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(before["status"], "pending");
    assert_eq!(hub.available("MUG", "BLR").await, "7");

    hub.get(&a, &format!("/api/v1/sales-orders/{b_id}"))
        .await
        .expect_problem(404, "not_found");
    let listed = hub.get(&a, "/api/v1/sales-orders").await;
    let refs: Vec<_> = listed.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["online_reference_no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refs, ["A-1"], "A lists only its own order");
    hub.post(
        &a,
        &format!("/api/v1/sales-orders/{b_id}/cancel"),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    hub.post(
        &a,
        &format!("/api/v1/sales-orders/{b_id}/returns"),
        json!({"lines": [{"line_no": 1, "quantity": "1"}], "reason": "x", "refund_id": "RMA-1"}),
    )
    .await
    .expect_problem(404, "not_found");

    let after = hub
        .admin_get(&format!("/admin/v1/sales-orders/{b_id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(after, before, "B's order is unchanged");
    assert_eq!(hub.available("MUG", "BLR").await, "7", "reservations stand");
    // B itself still sees it.
    assert_eq!(
        hub.get(&b, &format!("/api/v1/sales-orders/{b_id}"))
            .await
            .expect(200)["online_reference_no"],
        "B-1"
    );
    hub.assert_ledger_balances().await;
}

/// A key scoped to BLR cannot read items or place orders at MUM (403), and
/// nothing is written.
async fn store_key_cannot_reach_locations_outside_its_scope(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    let blr = hub.api_key("WEB", &["BLR"]).await;
    hub.get(&blr, "/api/v1/items?location=MUM")
        .await
        .expect_problem(403, "location_out_of_scope");
    hub.post(
        &blr,
        "/api/v1/sales-orders",
        order("OUT-1", Some("MUM"), None, &[("MUG", 1, "100.00")], "cod"),
    )
    .await
    .expect_problem(403, "location_out_of_scope");
    // `all` shows only BLR.
    let mug = hub
        .item_row(&blr, "/api/v1/items?location=all", "MUG")
        .await;
    assert_eq!(
        mug["locations"],
        json!([{"location": "BLR", "available": "10"}])
    );
    assert_eq!(hub.available("MUG", "MUM").await, "5");
    assert_eq!(
        hub.get(&blr, "/api/v1/sales-orders").await.expect(200)["sales_orders"],
        json!([])
    );
}

/// Every admin route of the OpenAPI document refuses a store key (401 or
/// 403, never 2xx), whatever the method.
async fn admin_routes_refuse_store_keys(hub: TestHub) {
    let (a, _, b_id) = two_stores(&hub).await;
    let doc = hub.get(&a, "/api/v1/openapi.json").await;
    let paths = doc.expect(200)["paths"].as_object().unwrap().clone();
    let mut tried = 0;
    for (path, ops) in &paths {
        if !path.starts_with("/admin/") {
            continue;
        }
        let concrete = path
            .replace("{id}", &b_id.to_string())
            .replace("{code}", "B")
            .replace("{store}", "B")
            .replace("{reference_code}", "MUG");
        let concrete: String = {
            // Any other parameter gets a plausible value.
            let mut out = String::new();
            let mut in_param = false;
            for c in concrete.chars() {
                match c {
                    '{' => {
                        in_param = true;
                        out.push('1');
                    }
                    '}' => in_param = false,
                    _ if !in_param => out.push(c),
                    _ => {}
                }
            }
            out
        };
        for method in ops.as_object().unwrap().keys() {
            let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !matches!(
                m,
                Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                continue;
            }
            let body = json!({});
            let body = (m != Method::GET && m != Method::DELETE).then_some(&body);
            let got = hub.call(m.clone(), &concrete, Some(&a), body, &[]).await;
            assert!(
                matches!(got.status.as_u16(), 401 | 403),
                "{m} {concrete} answered a store key with {}: {}",
                got.status,
                got.text
            );
            tried += 1;
        }
    }
    assert!(tried >= 20, "only {tried} admin operations in the document");
    eprintln!("{tried} admin operations refused a store key");
    // The admin token still works, and nothing changed.
    assert_eq!(
        hub.admin_get(&format!("/admin/v1/sales-orders/{b_id}"))
            .await
            .expect(200)["status"],
        "pending"
    );
    assert_eq!(hub.available("MUG", "BLR").await, "7");
    hub.assert_ledger_balances().await;
}

/// Keys are stored hashed: the `api_users` table holds the key's SHA-256
/// (hex) and never the key text.
async fn keys_are_stored_hashed(hub: TestHub) {
    use sha2::Digest;
    hub.load_catalogue().await;
    hub.create_store("A", &["BLR"], false).await;
    let key = hub.api_key("A", &["BLR"]).await;
    assert!(key.len() >= 32, "a key long enough to guess nothing: {key}");
    let rows: Vec<String> = match hub.backend {
        poshub_tests::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&hub.database_url).await.unwrap();
            let rows: Vec<(String, String, String)> =
                sqlx::query_as("SELECT name, key_hash, COALESCE(key_prefix, '') FROM api_users")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows.into_iter()
                .map(|(a, b, c)| format!("{a}|{b}|{c}"))
                .collect()
        }
        poshub_tests::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&hub.database_url).await.unwrap();
            let rows: Vec<(String, String, String)> =
                sqlx::query_as("SELECT name, key_hash, COALESCE(key_prefix, '') FROM api_users")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows.into_iter()
                .map(|(a, b, c)| format!("{a}|{b}|{c}"))
                .collect()
        }
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    let hash = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    assert!(rows[0].contains(&hash), "the SHA-256 is stored: {rows:?}");
    assert!(
        !rows[0].contains(&key),
        "the key text is not stored: {rows:?}"
    );
    // The key still authenticates.
    hub.get(&key, "/api/v1/sales-orders").await.expect(200);
}

/// Nothing was written: no orders, MUG at BLR as loaded, ledger balanced.
async fn assert_nothing_written(hub: &TestHub, key: &str) {
    assert_eq!(
        hub.get(key, "/api/v1/sales-orders").await.expect(200)["sales_orders"],
        json!([])
    );
    assert_eq!(hub.available("MUG", "BLR").await, "10");
    hub.assert_ledger_balances().await;
}

async fn raw(
    hub: &TestHub,
    path: &str,
    key: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> poshub_tests::Answer {
    let mut req = hub
        .client
        .post(format!("{}{path}", hub.base))
        .header("content-type", "application/json")
        .body(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    poshub_tests::answer(req.send().await.unwrap()).await
}

fn assert_problem_4xx(a: &poshub_tests::Answer, what: &str) {
    eprintln!("{what}: {} {}", a.status, a.code());
    assert!(
        a.status.is_client_error(),
        "{what}: {} {}",
        a.status,
        a.text
    );
    assert_eq!(
        a.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}: problems are problem+json"
    );
}

/// 10,000 nested arrays in place of a value.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A body over the 1 MiB limit gets 413 problem+json, on the store API, the
/// admin API and webhooks; nothing is written.
async fn oversized_bodies_get_413(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_connector_store("HOOK", "canonical", "s3cret", json!({}))
        .await;
    hub.create_store("A", &["BLR"], false).await;
    let key = hub.api_key("A", &["BLR"]).await;
    let mut big = order("BIG-1", None, None, &[("MUG", 1, "100.00")], "cod");
    big["notes"] = json!("x".repeat(1024 * 1024 + 16));
    let big = big.to_string().into_bytes();
    raw(&hub, "/api/v1/sales-orders", Some(&key), big.clone(), &[])
        .await
        .expect_problem(413, "body_too_large");
    raw(&hub, "/admin/v1/items", Some(ADMIN_TOKEN), big.clone(), &[])
        .await
        .expect_problem(413, "body_too_large");
    let sig = poshub_tests::sign("s3cret", &big);
    let hook = raw(
        &hub,
        "/hooks/HOOK/orders/create",
        None,
        big,
        &[("X-Poshub-Signature", sig)],
    )
    .await;
    hook.expect_problem(413, "body_too_large");
    assert_nothing_written(&hub, &key).await;
    assert!(hub
        .admin_get("/admin/v1/sales-orders")
        .await
        .expect(200)
        .to_string()
        .find("BIG-1")
        .is_none());
}

/// 10,000 nested arrays in an order body and in a (signed) webhook body
/// get a 4xx problem, never a 500 or a crash; the hub answers afterwards
/// and nothing is written.
async fn deeply_nested_json_gets_4xx(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_connector_store("HOOK", "canonical", "s3cret", json!({}))
        .await;
    hub.create_store("A", &["BLR"], false).await;
    let key = hub.api_key("A", &["BLR"]).await;
    let deep = nested(10_000);
    // Where free-form JSON is allowed (an address) and as the whole body.
    let mut in_address = order("DEEP-1", None, None, &[("MUG", 1, "100.00")], "cod");
    in_address["customer"]["address"] = json!("HOLE");
    let in_address = in_address.to_string().replace("\"HOLE\"", &deep);
    for (what, body) in [
        ("order address", in_address.clone()),
        ("order body", deep.clone()),
    ] {
        let a = raw(
            &hub,
            "/api/v1/sales-orders",
            Some(&key),
            body.into_bytes(),
            &[],
        )
        .await;
        assert_problem_4xx(&a, what);
    }
    let mut in_lines = order("DEEP-2", None, None, &[("MUG", 1, "100.00")], "cod");
    in_lines["lines"][0]["extra"] = json!("HOLE");
    let in_lines = in_lines.to_string().replace("\"HOLE\"", &deep);
    let a = raw(
        &hub,
        "/api/v1/sales-orders",
        Some(&key),
        in_lines.into_bytes(),
        &[],
    )
    .await;
    assert_problem_4xx(&a, "order line");
    for (what, body) in [
        ("webhook body", deep.clone()),
        ("webhook address", in_address),
    ] {
        let sig = poshub_tests::sign("s3cret", body.as_bytes());
        let a = raw(
            &hub,
            "/hooks/HOOK/orders/create",
            None,
            body.into_bytes(),
            &[("X-Poshub-Signature", sig)],
        )
        .await;
        assert_problem_4xx(&a, what);
    }
    let a = raw(
        &hub,
        "/admin/v1/items",
        Some(ADMIN_TOKEN),
        deep.into_bytes(),
        &[],
    )
    .await;
    assert_problem_4xx(&a, "admin body");
    // Still serving, nothing written.
    hub.call(Method::GET, "/healthz", None, None, &[])
        .await
        .expect(200);
    assert_nothing_written(&hub, &key).await;
    let orders: Value = hub
        .admin_get("/admin/v1/sales-orders")
        .await
        .expect(200)
        .clone();
    let s = orders.to_string();
    assert!(!s.contains("DEEP-1") && !s.contains("DEEP-2"), "{s}");
}

both_backends!(
    store_a_cannot_read_list_cancel_or_return_store_b_orders,
    super::store_key_cannot_touch_another_stores_orders
);
both_backends!(
    store_key_cannot_see_locations_outside_scope,
    super::store_key_cannot_reach_locations_outside_its_scope
);
both_backends!(
    every_admin_route_refuses_a_store_key,
    super::admin_routes_refuse_store_keys
);
both_backends!(api_keys_are_stored_hashed, super::keys_are_stored_hashed);
both_backends!(
    oversized_bodies_get_413_and_write_nothing,
    super::oversized_bodies_get_413
);
both_backends!(
    deeply_nested_json_gets_4xx_and_writes_nothing,
    super::deeply_nested_json_gets_4xx
);

/// Waits (up to 10 s) for the store's sync log to hold a dead row and
/// returns it.
async fn dead_row(hub: &TestHub, store: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = hub
            .admin_get(&format!("/admin/v1/stores/{store}/sync-log"))
            .await;
        let log = log.expect(200).as_array().unwrap().clone();
        if let Some(dead) = log.iter().find(|e| e["status"] == "dead") {
            return dead.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{store}: no dead row: {log:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A plugin (declaring every host) plans pushes outside the store's
/// `base_url`: to another host, to the cloud metadata address, to loopback
/// (v4 and v6) not named in the store's config. Each is refused, recorded
/// dead in the sync log, and never reaches the network; a push to the
/// named 127.0.0.1 storefront goes, without the plugin's spoofed `Host`.
async fn planned_requests_outside_the_store_are_refused(backend: poshub_tests::Backend) {
    let Some(hub) =
        TestHub::start_with_plugins(backend, &["poshub_test_plugin_wanderer.wasm"]).await
    else {
        return;
    };
    hub.load_catalogue().await;
    let fake = poshub_tests::FakeStorefront::start().await;
    fake.answer_always(200);
    let port = fake
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let cases = [
        (
            "OFFLIST",
            fake.base.clone(),
            "http://evil.example/steal".to_string(),
        ),
        (
            "META",
            fake.base.clone(),
            "http://169.254.169.254/latest/meta-data/".to_string(),
        ),
        (
            "LOOP",
            "http://storefront.example".to_string(),
            format!("http://127.0.0.1:{port}/loop"),
        ),
        (
            "LOOP6",
            "http://storefront.example".to_string(),
            format!("http://[::1]:{port}/loop6"),
        ),
    ];
    for (store, base, target) in &cases {
        hub.create_connector_store(
            store,
            "test-wanderer",
            "s",
            json!({"base_url": base, "target": target}),
        )
        .await;
        hub.map(store, &[("MUG", "gid-mug")]).await.expect(200);
    }
    hub.create_connector_store(
        "NAMED",
        "test-wanderer",
        "s",
        json!({"base_url": fake.base, "target": format!("{}/ok", fake.base), "host_header": "169.254.169.254"}),
    )
    .await;
    hub.map("NAMED", &[("MUG", "gid-mug")]).await.expect(200);

    for (store, _, target) in &cases {
        let dead = dead_row(&hub, store).await;
        let error = dead["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("refused to send"),
            "{store} -> {target}: {dead:?}"
        );
        assert!(dead["response_status"].is_null(), "{store}: {dead:?}");
    }
    let sent = hub.wait_all_sent("NAMED").await;
    assert!(!sent.is_empty());
    let got = fake
        .wait_for(std::time::Duration::from_secs(5), |r| r.path == "/ok")
        .await
        .expect("the named storefront got its push");
    assert_eq!(
        got.header("host"),
        Some(format!("127.0.0.1:{port}").as_str()),
        "the planned Host header is dropped"
    );
    let paths: Vec<String> = fake.received().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.iter().all(|p| p == "/ok"),
        "only the allowed push reached the network: {paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plugin_requests_outside_allow_list_loopback_or_link_local_are_refused_sqlite() {
    planned_requests_outside_the_store_are_refused(poshub_tests::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plugin_requests_outside_allow_list_loopback_or_link_local_are_refused_postgres() {
    planned_requests_outside_the_store_are_refused(poshub_tests::Backend::Postgres).await;
}
