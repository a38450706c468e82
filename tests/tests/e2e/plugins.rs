//! Misbehaving plugins fail only their own call, with a clear recorded error
//! within their deadline; the hub and other stores carry on. A plugin that
//! imports outside the world is refused at load. A new version replaces the
//! old without dropping calls in flight.

use std::time::{Duration, Instant};

use poshub_tests::serde_json::json;
use poshub_tests::{order, Backend, TestHub};

const SECRET: &str = "s";

const BAD: [&str; 6] = [
    "poshub_test_plugin_trap.wasm",
    "poshub_test_plugin_spin.wasm",
    "poshub_test_plugin_membomb.wasm",
    "poshub_test_plugin_garbage.wasm",
    "poshub_test_plugin_logflood.wasm",
    "poshub_test_plugin_forbidden.wasm",
];

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn misbehaving_plugins_fail_only_their_own_calls() {
    let hub = TestHub::start_with_plugins(Backend::Sqlite, &BAD)
        .await
        .unwrap();
    hub.load_catalogue().await;

    // The forbidden import is refused at load, with a message naming it.
    let plugins = hub.admin_get("/admin/v1/plugins").await;
    let ids: Vec<_> = plugins
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ids.contains(&"test-spin".to_string()) && ids.contains(&"canonical".to_string()),
        "{ids:?}"
    );
    assert!(!ids.contains(&"test-forbidden".to_string()));
    let reload = hub.admin_post("/admin/v1/plugins/reload", json!({})).await;
    let failed = reload.expect(200)["failed"].as_array().unwrap().clone();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let why = failed[0].as_str().unwrap();
    assert!(
        why.contains("test:forbidden/network")
            && why.contains("outside the poshub connector world"),
        "{why}"
    );
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "EVIL", "name": "x", "connector": "test-forbidden", "locations": ["BLR"]}),
    )
    .await
    .expect_problem(422, "unknown_connector");

    for (store, connector) in [
        ("TRAP", "test-trap"),
        ("SPIN", "test-spin"),
        ("BOMB", "test-membomb"),
        ("JUNK", "test-garbage"),
        ("FLOOD", "test-logflood"),
        ("GOOD", "canonical"),
    ] {
        hub.create_connector_store(store, connector, SECRET, json!({}))
            .await;
    }
    let body = order("X-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod").to_string();

    // A panic is a trap: 502 with the panic message.
    let trap = hub
        .webhook("TRAP", "orders/create", body.as_bytes(), Some(SECRET), &[])
        .await;
    let detail = trap.expect_problem(502, "plugin_trap")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("test-trap refuses"), "{detail}");

    // An endless loop is stopped at the deadline while the hub serves
    // health checks and a healthy store's webhooks.
    let spinning = {
        let (client, url) = (
            hub.client.clone(),
            format!("{}/hooks/SPIN/orders/create", hub.base),
        );
        let (body, sig) = (body.clone(), poshub_tests::sign(SECRET, body.as_bytes()));
        (0..3)
            .map(|_| {
                let (client, url, body, sig) =
                    (client.clone(), url.clone(), body.clone(), sig.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    let res = client
                        .post(url)
                        .header("X-Poshub-Signature", sig)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    (poshub_tests::answer(res).await, started.elapsed())
                })
            })
            .collect::<Vec<_>>()
    };
    let mut healthy = 0;
    for i in 0..10 {
        let started = Instant::now();
        hub.admin_get("/healthz").await.expect(200);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "health check took {:?}",
            started.elapsed()
        );
        let good = order(
            &format!("GOOD-{i}"),
            Some("BLR"),
            None,
            &[("MUG", 1, "100.00")],
            "cod",
        )
        .to_string();
        let r = hub
            .webhook("GOOD", "orders/create", good.as_bytes(), Some(SECRET), &[])
            .await;
        assert_eq!(r.expect(200)["results"][0]["result"], "accepted");
        healthy += 1;
    }
    assert_eq!(healthy, 10);
    for task in spinning {
        let (answer, elapsed) = task.await.unwrap();
        assert_eq!(answer.status.as_u16(), 502, "{}", answer.text);
        assert_eq!(answer.code(), "plugin_timeout");
        assert!(
            elapsed < Duration::from_secs(3),
            "stopped at its 250 ms deadline, took {elapsed:?}"
        );
    }

    // Unbounded allocation hits the memory cap; the hub's memory stays put.
    let before = rss_kb();
    for _ in 0..5 {
        let bomb = hub
            .webhook("BOMB", "orders/create", body.as_bytes(), Some(SECRET), &[])
            .await;
        let detail = bomb.expect_problem(502, "plugin_out_of_memory")["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(detail.contains("33554432-byte memory limit"), "{detail}");
    }
    let grown_mb = rss_kb().saturating_sub(before) / 1024;
    assert!(
        grown_mb < 100,
        "the hub grew by {grown_mb} MiB over five 32 MiB memory bombs"
    );

    // Garbage out is validated like any order: refused with the reason.
    let neg = hub
        .webhook("JUNK", "orders/create", b"negative", Some(SECRET), &[])
        .await;
    let err = &neg.expect_problem(422, "invalid_body")["errors"][0];
    assert_eq!(err["field"], "lines[0].quantity");
    hub.webhook("JUNK", "orders/create", b"unknown-code", Some(SECRET), &[])
        .await
        .expect_problem(422, "unknown_reference_code");
    hub.webhook("JUNK", "orders/create", b"not-a-number", Some(SECRET), &[])
        .await
        .expect_problem(422, "invalid_body");

    // A log flood is cut off: the call fails, logs are capped.
    let flood = hub
        .webhook("FLOOD", "orders/create", body.as_bytes(), Some(SECRET), &[])
        .await;
    flood.expect_problem(502, "plugin_log_flood");
    let events = hub.events("FLOOD").await;
    let logs = events[0]["logs"].as_str().unwrap();
    assert!(logs.len() < 20_000, "logs are capped: {} bytes", logs.len());
    assert!(logs.contains("more log messages dropped over the cap"));

    // Every failure is on record against its store.
    for (store, code) in [
        ("TRAP", "plugin_trap"),
        ("SPIN", "plugin_timeout"),
        ("BOMB", "plugin_out_of_memory"),
        ("JUNK", "invalid_body"),
    ] {
        let events = hub.events(store).await;
        let detail = events[0]["detail"].as_str().unwrap();
        assert!(detail.starts_with(code), "{store}: {detail}");
        assert_ne!(events[0]["outcome"], "accepted");
    }
    // Nothing the bad plugins did moved stock: 10 MUG - 10 good orders.
    assert_eq!(hub.available("MUG", "BLR").await, "0");
    hub.assert_ledger_balances().await;
}

/// `poshub plugins run` (the toolkit under it) calls a build as the hub
/// does: a trap, a deadline and a memory-cap fault of the test plugins
/// are reported exactly as the hub recorded the same webhook in the
/// store's event log (outcome, status, detail), with the budget the call
/// used; a good build's documents come back with theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_reports_faults_as_the_hub_records_them() {
    use poshub_server::toolkit::{self, StoreSetup};
    let faulty = [
        ("TRAP", "test-trap", BAD[0], "plugin_trap"),
        ("SPIN", "test-spin", BAD[1], "plugin_timeout"),
        ("BOMB", "test-membomb", BAD[2], "plugin_out_of_memory"),
    ];
    let hub = TestHub::start_with_plugins(Backend::Sqlite, &BAD[..3])
        .await
        .unwrap();
    hub.load_catalogue().await;
    let body = order("X-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod").to_string();
    let cache = tempfile::tempdir().unwrap();
    for (store, connector, file, code) in faulty {
        hub.create_connector_store(store, connector, SECRET, json!({}))
            .await;
        hub.webhook(store, "orders/create", body.as_bytes(), Some(SECRET), &[])
            .await
            .expect_problem(502, code);
        let event = hub.events(store).await[0].clone();

        let plugin = toolkit::load(cache.path(), &poshub_tests::test_plugin(file))
            .await
            .unwrap();
        let config = json!({"webhook_secret": SECRET, "base_url": "http://127.0.0.1:9"});
        let report = toolkit::run_webhook(
            &plugin,
            &StoreSetup::new(store, config),
            "orders/create",
            vec![],
            body.as_bytes().to_vec(),
        )
        .await;
        assert!(!report.ok && report.result.is_none(), "{store}: {report:?}");
        assert_eq!(report.call, "translate-webhook");
        assert_eq!(report.plugin.id, connector);
        let fault = report.fault.as_ref().expect("a fault");
        assert_eq!(fault.code, code);
        assert_eq!(fault.outcome, event["outcome"], "{store}");
        assert_eq!(
            fault.http_status.map(i64::from),
            event["http_status"].as_i64(),
            "{store}"
        );
        assert_eq!(fault.detail, event["detail"], "{store}: as recorded");
        let budget = &report.budget;
        assert_eq!(
            (budget.deadline_ms, budget.memory_limit_bytes),
            (250, 32 << 20)
        );
        match store {
            "SPIN" => assert!(budget.wall_us >= 250_000, "ran to its deadline: {budget:?}"),
            "BOMB" => assert!(
                budget.memory_peak_bytes > 16 << 20 && budget.memory_peak_bytes <= 32 << 20,
                "grew up to its cap, not past it: {budget:?}"
            ),
            _ => assert!(
                budget.stdio_bytes > 0,
                "the panic went to stderr: {budget:?}"
            ),
        }
    }

    // A store's own limits are the call's: a wider deadline is still the
    // spinner's end, at the new deadline.
    let spin = toolkit::load(cache.path(), &poshub_tests::test_plugin(BAD[1]))
        .await
        .unwrap();
    let config = json!({"webhook_secret": SECRET, "limits": {"deadline_ms": 400}});
    let report = toolkit::run_webhook(
        &spin,
        &StoreSetup::new("SPIN", config),
        "orders/create",
        vec![],
        body.as_bytes().to_vec(),
    )
    .await;
    let fault = report.fault.unwrap();
    assert!(
        fault.detail.contains("its 400 ms deadline"),
        "{}",
        fault.detail
    );
    assert!(report.budget.wall_us >= 400_000);

    // A good build answers with its documents and what it used.
    let canonical = toolkit::load(
        cache.path(),
        &poshub_tests::test_plugin("poshub_connector_canonical.wasm"),
    )
    .await
    .unwrap();
    let report = toolkit::run_webhook(
        &canonical,
        &StoreSetup::new("GOOD", json!({"webhook_secret": SECRET})),
        "orders/create",
        vec![],
        body.as_bytes().to_vec(),
    )
    .await;
    assert!(report.ok && report.fault.is_none(), "{report:?}");
    let documents = &report.result.as_ref().unwrap()["documents"];
    assert_eq!(documents[0]["kind"], "order");
    assert_eq!(documents[0]["online_reference_no"], "X-1");
    assert_eq!(documents[0]["lines"][0]["keys"]["reference_code"], "MUG");
    let budget = &report.budget;
    assert!(
        budget.output_bytes > 0 && budget.memory_peak_bytes > 0,
        "{budget:?}"
    );
    assert!(budget.instantiate_us <= budget.wall_us);
}

/// `poshub plugins check` names every reason the hub would refuse a test
/// plugin, or would trip over it later.
#[tokio::test]
async fn check_names_what_the_hub_refuses() {
    use poshub_server::toolkit::{self, Status};
    let cache = tempfile::tempdir().unwrap();
    let forbidden = poshub_tests::test_plugin("poshub_test_plugin_forbidden.wasm");
    let report = toolkit::check(cache.path(), &forbidden, None).await;
    assert!(!report.ok && !report.loaded);
    assert_eq!(report.checks.len(), 1);
    let why = &report.checks[0].detail;
    assert!(why.contains("`test:forbidden/network`"), "{why}");

    let legacy = poshub_tests::test_plugin("poshub_test_plugin_world_0_1.wasm");
    let report = toolkit::check(cache.path(), &legacy, None).await;
    assert!(report.ok, "{report:?}");
    let load = &report.checks[0];
    assert_eq!((load.name, load.status), ("load", Status::Warn));
    assert!(
        load.detail.contains("poshub:connector@0.1.0"),
        "{}",
        load.detail
    );
    let wanderer = poshub_tests::test_plugin("poshub_test_plugin_wanderer.wasm");
    let report = toolkit::check(cache.path(), &wanderer, None).await;
    let hosts: Vec<_> = report.checks.iter().filter(|c| c.name == "hosts").collect();
    assert_eq!(hosts[0].status, Status::Warn, "{hosts:?}");
}

/// A plugin built for `poshub:connector@0.1.0`, before the world carried
/// tax amounts, charges and currencies: it still loads, says so, and its
/// orders are booked (through the host's adapter), on both backends.
async fn a_plugin_built_for_world_0_1_keeps_working(hub: TestHub) {
    let dir = hub.plugins_dir.as_ref().unwrap().path().to_path_buf();
    std::fs::copy(
        poshub_tests::test_plugin("poshub_test_plugin_world_0_1.wasm"),
        dir.join("old.wasm"),
    )
    .unwrap();
    let r = hub.admin_post("/admin/v1/plugins/reload", json!({})).await;
    assert_eq!(r.expect(200)["loaded"], json!(["test-world-0-1@0.1.0"]));
    let listed = hub.admin_get("/admin/v1/plugins").await;
    let plugins = listed.expect(200).as_array().unwrap().clone();
    let world = |id: &str| {
        plugins
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["world"].clone())
    };
    assert_eq!(world("test-world-0-1"), Some(json!("0.1.0")));
    assert_eq!(world("canonical"), Some(json!("0.3.0")));

    hub.load_catalogue().await;
    let fake = poshub_tests::FakeStorefront::start().await;
    hub.create_connector_store(
        "OLD",
        "test-world-0-1",
        SECRET,
        json!({"base_url": fake.base}),
    )
    .await;
    // 2 x 100.00 mugs, 12% inside the price, due on delivery.
    let body = order("OLD-1", Some("BLR"), None, &[("MUG", 2, "100.00")], "cod");
    let bytes = body.to_string();
    let hook = hub
        .webhook("OLD", "orders/create", bytes.as_bytes(), Some(SECRET), &[])
        .await;
    let result = &hook.expect(200)["results"][0];
    assert_eq!(result["result"], "accepted", "{result}");
    let got = hub
        .admin_get(&format!("/admin/v1/sales-orders/{}", result["order_id"]))
        .await;
    let got = got.expect(200);
    assert_eq!(got["total"], "200.00");
    assert_eq!(got["currency"], "INR");
    assert_eq!(got["notes"], "built for poshub:connector@0.1.0");
    assert_eq!(got["lines"][0]["tax_amount"], "21.43");
    assert_eq!(hub.available("MUG", "BLR").await, "8");
    let events = hub.events("OLD").await;
    assert!(events[0]["logs"]
        .as_str()
        .unwrap()
        .contains("translated by a 0.1.0 component"));

    // It pushes too, one change per request, through the host's adapter of
    // the worlds before batched pushes.
    pushes_through_the_adapter(&hub, &fake, "OLD", "0.1.0", "8").await;
}

/// Maps MUG for `store` and waits for its level to reach `fake`, planned by
/// a connector built for `world`.
async fn pushes_through_the_adapter(
    hub: &TestHub,
    fake: &poshub_tests::FakeStorefront,
    store: &str,
    world: &str,
    level: &str,
) {
    hub.map(store, &[("MUG", "old-mug")]).await.expect(200);
    let pushed = fake
        .wait_for(std::time::Duration::from_secs(5), |r| {
            r.path == "/poshub/stock-levels" && r.body["reference_code"] == "MUG"
        })
        .await
        .unwrap_or_else(|| panic!("no push from the {world} component"));
    assert_eq!(pushed.body["available"], level);
    assert_eq!(pushed.body["world"], world);
    assert_eq!(pushed.body["external_id"], "old-mug");
    let log = hub.wait_all_sent(store).await;
    let stock = log.iter().find(|e| e["kind"] == "stock").unwrap();
    assert_eq!(stock["sent_value"], level);
    assert_eq!(stock["response_status"], 200);
}

/// A plugin built for `poshub:connector@0.2.0`, before batched pushes: it
/// loads, says so, and its one-change pushes reach the storefront.
async fn a_plugin_built_for_world_0_2_still_pushes(hub: TestHub) {
    let dir = hub.plugins_dir.as_ref().unwrap().path().to_path_buf();
    std::fs::copy(
        poshub_tests::test_plugin("poshub_test_plugin_world_0_2.wasm"),
        dir.join("old.wasm"),
    )
    .unwrap();
    let r = hub.admin_post("/admin/v1/plugins/reload", json!({})).await;
    assert_eq!(r.expect(200)["loaded"], json!(["test-world-0-2@0.2.0"]));
    let listed = hub.admin_get("/admin/v1/plugins").await;
    let old = listed
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "test-world-0-2")
        .cloned()
        .unwrap();
    assert_eq!(old["world"], "0.2.0");

    hub.load_catalogue().await;
    let fake = poshub_tests::FakeStorefront::start().await;
    hub.create_connector_store(
        "OLD2",
        "test-world-0-2",
        SECRET,
        json!({"base_url": fake.base}),
    )
    .await;
    pushes_through_the_adapter(&hub, &fake, "OLD2", "0.2.0", "10").await;
}

mod world_0_2 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        let hub =
            poshub_tests::TestHub::start_with_plugins(poshub_tests::Backend::Sqlite, &[]).await;
        super::a_plugin_built_for_world_0_2_still_pushes(hub.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        if let Some(hub) =
            poshub_tests::TestHub::start_with_plugins(poshub_tests::Backend::Postgres, &[]).await
        {
            super::a_plugin_built_for_world_0_2_still_pushes(hub).await;
        }
    }
}

mod world_0_1 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        let hub =
            poshub_tests::TestHub::start_with_plugins(poshub_tests::Backend::Sqlite, &[]).await;
        super::a_plugin_built_for_world_0_1_keeps_working(hub.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        if let Some(hub) =
            poshub_tests::TestHub::start_with_plugins(poshub_tests::Backend::Postgres, &[]).await
        {
            super::a_plugin_built_for_world_0_1_keeps_working(hub).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hot_reload_swaps_versions_without_dropping_calls_in_flight() {
    let hub = TestHub::start_with_plugins(Backend::Sqlite, &[])
        .await
        .unwrap();
    let dir = hub.plugins_dir.as_ref().unwrap().path().to_path_buf();
    let file = dir.join("versioned.wasm");
    std::fs::copy(
        poshub_tests::test_plugin("poshub_test_plugin_versioned_v1.wasm"),
        &file,
    )
    .unwrap();
    let r = hub.admin_post("/admin/v1/plugins/reload", json!({})).await;
    assert_eq!(r.expect(200)["loaded"], json!(["test-versioned@1.0.0"]));
    hub.load_catalogue().await;
    // A generous deadline so that the slow call finishes on its own.
    hub.create_connector_store(
        "VER",
        "test-versioned",
        SECRET,
        json!({"limits": {"deadline_ms": 10000}}),
    )
    .await;
    let key = hub.api_key("VER", &["BLR"]).await;

    // A slow call starts on version 1 ...
    let slow_body = order("SLOW-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod").to_string();
    let slow = {
        let (client, url) = (
            hub.client.clone(),
            format!("{}/hooks/VER/orders/create", hub.base),
        );
        let sig = poshub_tests::sign(SECRET, slow_body.as_bytes());
        tokio::spawn(async move {
            let res = client
                .post(url)
                .header("X-Poshub-Signature", sig)
                .header("x-slow", "1500000000")
                .body(slow_body)
                .send()
                .await
                .unwrap();
            poshub_tests::answer(res).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // ... version 2 replaces the file and is reloaded mid-call (SIGHUP does the same).
    std::fs::copy(
        poshub_tests::test_plugin("poshub_test_plugin_versioned_v2.wasm"),
        &file,
    )
    .unwrap();
    let r = hub.admin_post("/admin/v1/plugins/reload", json!({})).await;
    assert_eq!(r.expect(200)["loaded"], json!(["test-versioned@2.0.0"]));
    assert!(
        !slow.is_finished(),
        "the slow call was still in flight during the reload"
    );
    let listed = hub.admin_get("/admin/v1/plugins").await;
    let v = listed
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "test-versioned")
        .unwrap()
        .clone();
    assert_eq!(v["version"], "2.0.0");

    // New calls run on version 2; the call in flight finished on version 1.
    let fast = order("FAST-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod").to_string();
    let r = hub
        .webhook("VER", "orders/create", fast.as_bytes(), Some(SECRET), &[])
        .await;
    let fast_id = r.expect(200)["results"][0]["order_id"].as_i64().unwrap();
    let answer = slow.await.unwrap();
    let slow_id = answer.expect(200)["results"][0]["order_id"]
        .as_i64()
        .unwrap();
    let notes = |id: i64| {
        let hub = &hub;
        let key = key.clone();
        async move {
            hub.get(&key, &format!("/api/v1/sales-orders/{id}"))
                .await
                .body["notes"]
                .clone()
        }
    };
    assert_eq!(notes(slow_id).await, "translated by test-versioned 1.0.0");
    assert_eq!(notes(fast_id).await, "translated by test-versioned 2.0.0");

    // A broken replacement keeps the working version in service.
    std::fs::write(&file, b"not wasm at all").unwrap();
    let r = hub.admin_post("/admin/v1/plugins/reload", json!({})).await;
    let body = r.expect(200);
    assert!(
        body["failed"][0]
            .as_str()
            .unwrap()
            .contains("versioned.wasm"),
        "{body}"
    );
    let listed = hub.admin_get("/admin/v1/plugins").await;
    let v = listed
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "test-versioned")
        .unwrap()
        .clone();
    assert_eq!(v["version"], "2.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_connector_works_as_its_readme_says() {
    let hub = TestHub::start_with_plugins(Backend::Sqlite, &["acme_connector.wasm"])
        .await
        .unwrap();
    hub.load_catalogue().await;
    let plugins = hub.admin_get("/admin/v1/plugins").await;
    let acme = plugins
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "acme")
        .cloned()
        .expect("acme listed");
    assert_eq!(acme["topics"], json!(["order.placed"]));
    assert_eq!(acme["hosts"], json!(["*.acme.example"]));
    hub.create_connector_store("ACME", "acme", "shared-with-acme", json!({}))
        .await;
    let body = json!({"id": 123, "phone": "98450 12345", "items": [{"sku": "MUG", "qty": 2, "price": 100}],
                      "payment": "cod", "total": "200.00"})
    .to_string();
    let sig = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"shared-with-acme").unwrap();
        mac.update(body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let r = hub
        .webhook(
            "ACME",
            "order.placed",
            body.as_bytes(),
            None,
            &[("X-Acme-Signature", &sig)],
        )
        .await;
    let id = r.expect(200)["results"][0]["order_id"].as_i64().unwrap();
    let o = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    let o = o.expect(200);
    assert_eq!(o["online_reference_no"], "ACME-123");
    assert_eq!(o["total"], "200.00");
    assert_eq!(o["customer"]["phone"], "+919845012345");
    assert!(hub.events("ACME").await[0]["logs"]
        .as_str()
        .unwrap()
        .contains("Acme order 123 with 1 lines"));
}
