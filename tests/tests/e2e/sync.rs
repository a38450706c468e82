//! The sync engine end to end: the real hub, the bundled canonical connector
//! and a fake storefront on 127.0.0.1.

use std::time::{Duration, Instant};

use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, order, FakeStorefront, TestHub};

/// A canonical store pushing to `fake`, with MUG and TOY-Red-S mapped.
async fn pushing_store(hub: &TestHub, fake: &FakeStorefront) -> String {
    hub.load_catalogue().await;
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    let mapped = hub
        .call(
            reqwest::Method::PUT,
            "/admin/v1/stores/SHOP/mappings",
            Some(poshub_tests::ADMIN_TOKEN),
            Some(&json!([{"reference_code": "MUG", "external_id": "gid-mug"}, {"reference_code": "TOY-Red-S", "external_id": "gid-toy-red-s"}])),
            &[],
        )
        .await;
    assert_eq!(mapped.expect(200).as_array().unwrap().len(), 2);
    hub.api_key("SHOP", &["BLR"]).await
}

fn stock_of(r: &poshub_tests::Received, code: &str) -> Option<String> {
    (r.path == "/poshub/stock-levels" && r.body["reference_code"] == code && r.answered == 200)
        .then(|| r.body["available"].as_str().unwrap_or_default().to_string())
}

/// Waits for a push of `code` at `level`, within 2 s of now.
async fn expect_level(fake: &FakeStorefront, code: &str, level: &str) {
    let got = fake
        .wait_for(Duration::from_secs(2), |r| {
            stock_of(r, code).as_deref() == Some(level)
        })
        .await;
    assert!(
        got.is_some(),
        "no push of {code} at {level} within 2 s; got {:?}",
        fake.received()
            .iter()
            .map(|r| (&r.path, &r.body))
            .collect::<Vec<_>>()
    );
}

async fn changes_reach_the_storefront(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    let key = pushing_store(&hub, &fake).await;
    // Mapping queues a first push of the level and the price.
    expect_level(&fake, "MUG", "10").await;
    let price = fake
        .wait_for(Duration::from_secs(2), |r| {
            r.path == "/poshub/prices" && r.body["reference_code"] == "MUG"
        })
        .await;
    assert_eq!(price.unwrap().body["price"], "100.00");
    assert_eq!(
        fake.received()
            .iter()
            .filter(|r| r.body["external_id"] == "gid-mug")
            .count(),
        2
    );

    // A stock inward.
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "5"}]}),
    )
    .await
    .expect(200);
    expect_level(&fake, "MUG", "15").await;
    // An order reserves; the bill keeps the level and pushes the status.
    let o = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("S-1", None, None, &[("MUG", 2, "100.00")], "cod"),
        )
        .await;
    let id = o.expect(201)["id"].as_i64().unwrap();
    expect_level(&fake, "MUG", "13").await;
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id}/bill"),
        json!({"payment_type": "cod"}),
    )
    .await
    .expect(201);
    let billed = fake
        .wait_for(Duration::from_secs(2), |r| {
            r.path == "/poshub/orders/status" && r.body["status"] == "billed"
        })
        .await
        .expect("the billed status reaches the storefront within 2 s");
    assert_eq!(billed.body["online_reference_no"], "S-1");
    // A cancellation puts the stock back.
    let o2 = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("S-2", None, None, &[("MUG", 3, "100.00")], "cod"),
        )
        .await;
    let id2 = o2.expect(201)["id"].as_i64().unwrap();
    expect_level(&fake, "MUG", "10").await;
    hub.post(
        &key,
        &format!("/api/v1/sales-orders/{id2}/cancel"),
        json!({}),
    )
    .await
    .expect(200);
    expect_level(&fake, "MUG", "13").await;
    fake.wait_for(Duration::from_secs(2), |r| {
        r.path == "/poshub/orders/status" && r.body["status"] == "cancelled"
    })
    .await
    .expect("the cancellation reaches the storefront");
    // Unmapped variants are never pushed.
    assert!(fake
        .received()
        .iter()
        .all(|r| r.body["reference_code"] != "TOY-Blue-M"));
    // Each outbox row carries its own idempotency key, delivered once.
    let mut keys: Vec<_> = fake
        .received()
        .iter()
        .map(|r| r.idempotency_key.clone())
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "no row delivered twice");
    let metrics = hub
        .client
        .get(format!("{}/metrics", hub.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("poshub_sync_pushes_total{outcome=\"sent\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("poshub_sync_latency_seconds{quantile=\"0.95\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("poshub_outbox_depth{state=\"dead\"} 0"),
        "{metrics}"
    );
    let log = hub
        .admin_get("/admin/v1/stores/SHOP/sync-log?status=sent")
        .await;
    let log = log.expect(200).as_array().unwrap().clone();
    assert!(log.len() >= 6, "{log:?}");
    assert!(log[0]["request_summary"]
        .as_str()
        .unwrap()
        .starts_with(&format!("POST {}/poshub/", fake.base)));
    assert_eq!(log[0]["response_status"], 200);
}

async fn bursts_coalesce_into_few_pushes(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    pushing_store(&hub, &fake).await;
    expect_level(&fake, "MUG", "10").await;
    let before = fake.received().len();
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                hub.admin_post(
                    "/admin/v1/stock/adjustments",
                    json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "1", "reason": "count"}]}),
                )
                .await
                .expect(200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // 1000 changes: the last push carries the final level ...
    expect_level(&fake, "MUG", "1010").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushes: Vec<String> = fake.received()[before..]
        .iter()
        .filter_map(|r| stock_of(r, "MUG"))
        .collect();
    assert_eq!(pushes.last().map(String::as_str), Some("1010"));
    // ... and there were far fewer pushes than changes.
    assert!(
        pushes.len() < 200,
        "{} pushes for 1000 changes",
        pushes.len()
    );
    println!("1000 stock changes -> {} pushes", pushes.len());
}

both_backends!(
    changes_reach_the_storefront_within_2s,
    super::changes_reach_the_storefront
);
both_backends!(
    a_burst_of_1000_changes_coalesces,
    super::bursts_coalesce_into_few_pushes
);

fn attempts_of(fake: &FakeStorefront, code: &str) -> Vec<(Instant, u16, Value)> {
    fake.received()
        .into_iter()
        .filter(|r| r.path == "/poshub/stock-levels" && r.body["reference_code"] == code)
        .map(|r| (r.at, r.answered, r.body))
        .collect()
}

async fn failed_pushes_retry_with_growing_delays(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    fake.script(&[(500, None), (500, None), (500, None)]);
    hub.load_catalogue().await;
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    hub.map("SHOP", &[("MUG", "gid-mug")]).await.expect(200);
    // The price push may take some of the scripted failures too; look at the stock row.
    fake.wait_for(Duration::from_secs(10), |r| stock_of(r, "MUG").is_some())
        .await
        .expect("delivered after retries");
    let log = hub.wait_all_sent("SHOP").await;
    let stock = log.iter().find(|e| e["kind"] == "stock").unwrap().clone();
    let tries = attempts_of(&fake, "MUG");
    let delivered = tries.iter().filter(|(_, s, _)| *s == 200).count();
    assert_eq!(delivered, 1, "arrives once");
    let all: Vec<_> = fake
        .received()
        .into_iter()
        .map(|r| (r.at, r.answered, r.path, r.idempotency_key))
        .collect();
    // Each row's attempts come at growing intervals (200 ms, 400 ms, 800 ms, +-20%).
    for key in all
        .iter()
        .map(|a| a.3.clone())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let times: Vec<Instant> = all.iter().filter(|a| a.3 == key).map(|a| a.0).collect();
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        for w in gaps.windows(2) {
            assert!(w[1] > w[0], "delays grow: {gaps:?}");
        }
        if let Some(first) = gaps.first() {
            assert!(
                *first >= Duration::from_millis(150),
                "backoff, not a hot loop: {gaps:?}"
            );
        }
    }
    assert_eq!(stock["attempts"].as_i64().unwrap() as usize, tries.len());
}

async fn retry_after_is_honoured(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    fake.answer_always(200);
    hub.load_catalogue().await;
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    // No price yet on this variant would still push the price; only stock matters here.
    fake.script(&[(429, Some(2))]);
    hub.map("SHOP", &[("MUG", "gid-mug")]).await.expect(200);
    fake.wait_for(Duration::from_secs(6), |r| {
        r.answered == 200 && r.path == "/poshub/stock-levels"
    })
    .await
    .expect("delivered");
    fake.wait_for(Duration::from_secs(6), |r| {
        r.answered == 200 && r.path == "/poshub/prices"
    })
    .await
    .expect("delivered");
    let all = fake.received();
    let refused = all.iter().find(|r| r.answered == 429).unwrap();
    let next = all
        .iter()
        .find(|r| r.idempotency_key == refused.idempotency_key && r.answered == 200)
        .unwrap();
    assert!(
        next.at - refused.at >= Duration::from_secs(2),
        "waited {:?} after Retry-After: 2",
        next.at - refused.at
    );
}

async fn dead_letters_are_listed_and_retried(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    fake.answer_always(500);
    let _key = pushing_store(&hub, &fake).await;
    // 4 attempts (200 + 400 + 800 ms apart), then dead.
    let deadline = Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let log = hub
            .admin_get("/admin/v1/stores/SHOP/sync-log?status=dead")
            .await;
        let dead = log.expect(200).as_array().unwrap().clone();
        if dead.len() >= 4 {
            break dead;
        }
        assert!(Instant::now() < deadline, "rows did not die: {dead:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(dead[0]["attempts"], 4);
    assert_eq!(dead[0]["response_status"], 500);
    assert!(
        dead[0]["error"]
            .as_str()
            .unwrap()
            .contains("gave up after 4 attempts"),
        "{:?}",
        dead[0]
    );
    let before = fake.received().len();
    // The storefront recovers; the operator retries one, then all.
    fake.answer_always(200);
    let one = dead[0]["id"].as_i64().unwrap();
    let r = hub
        .admin_post(
            &format!("/admin/v1/stores/SHOP/sync-log/{one}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(r.expect(200)["requeued"], 1);
    hub.admin_post(
        &format!("/admin/v1/stores/SHOP/sync-log/{one}/retry"),
        json!({}),
    )
    .await
    .expect_problem(409, "not_dead");
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/sync-log/retry", json!({}))
        .await;
    assert_eq!(r.expect(200)["requeued"], 3);
    expect_level(&fake, "MUG", "10").await;
    expect_level(&fake, "TOY-Red-S", "10").await;
    // Every row delivered (not merely out of the dead letters) before reconciling.
    hub.wait_all_sent("SHOP").await;
    assert!(fake.received().len() >= before + 4);
    // In sync now: reconciliation finds nothing to do.
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(r.expect(200)["requeued"], 0);
}

async fn reconciliation_brings_back_a_drifted_store(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    let key = pushing_store(&hub, &fake).await;
    hub.wait_all_sent("SHOP").await;
    // The storefront goes away for good (4xx: not retried); an order's push is lost.
    fake.answer_always(410);
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("D-1", None, None, &[("MUG", 4, "100.00")], "cod"),
    )
    .await
    .expect(201);
    let deadline = Instant::now() + Duration::from_secs(5);
    while hub
        .admin_get("/admin/v1/stores/SHOP/sync-log?status=dead")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the push was not dead-lettered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It comes back; reconciliation queues exactly what differs.
    fake.answer_always(200);
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(r.expect(200)["requeued"], 1, "only MUG at BLR drifted");
    expect_level(&fake, "MUG", "6").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(r.expect(200)["requeued"], 0);
}

both_backends!(
    backoff_on_500s,
    super::failed_pushes_retry_with_growing_delays
);
both_backends!(retry_after_2s, super::retry_after_is_honoured);
both_backends!(dead_letters, super::dead_letters_are_listed_and_retried);
both_backends!(
    reconciliation,
    super::reconciliation_brings_back_a_drifted_store
);
