//! `poshub plugins run`: a build's answer to a real webhook body as JSON,
//! with its budget; exit 0 on an answer, 1 on a fault, 2 on bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn poshub(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poshub"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn bundled(name: &str) -> &'static [u8] {
    poshub_connectors::bundled::BUNDLED
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap()
        .1
}

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}

#[test]
fn plugins_run_translates_a_real_shopify_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("shopify.wasm");
    std::fs::write(&wasm, bundled("shopify.wasm")).unwrap();
    let cache = dir.path().join("cache");
    let body = fixture("shopify/orders_create__sanjeev_inr_3_variants_sku_igst.json");
    let out = poshub(&[
        "plugins",
        "run",
        wasm.to_str().unwrap(),
        "--plugin-cache",
        cache.to_str().unwrap(),
        "--store",
        "WEB",
        "--config",
        "shop_domain=sanjeev.myshopify.com",
        "--config",
        "limits.deadline_ms=2000",
        "webhook",
        "orders/create",
        body.to_str().unwrap(),
        "--header",
        "X-Shopify-Topic: orders/create",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["plugin"]["id"], "shopify");
    assert_eq!(report["plugin"]["world"], "0.3.0");
    assert_eq!(report["call"], "translate-webhook");
    assert_eq!(report["result"]["auth"]["header"], "X-Shopify-Hmac-Sha256");
    let order = &report["result"]["documents"][0];
    assert_eq!(order["kind"], "order");
    assert_eq!(order["currency"], "INR");
    assert_eq!(order["lines"].as_array().unwrap().len(), 3, "{order}");
    let budget = &report["budget"];
    assert_eq!(budget["deadline_ms"], 2000);
    assert!(budget["wall_us"].as_u64().unwrap() > 0, "{budget}");
    assert!(
        budget["memory_peak_bytes"].as_u64().unwrap() > 0,
        "{budget}"
    );
    assert!(budget["output_bytes"].as_u64().unwrap() > 0, "{budget}");

    // A body the build refuses: a fault as the hub records it, exit 1.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{not json").unwrap();
    let run_junk = |build: &std::path::Path| {
        poshub(&[
            "plugins",
            "run",
            build.to_str().unwrap(),
            "--plugin-cache",
            cache.to_str().unwrap(),
            "webhook",
            "orders/create",
            junk.to_str().unwrap(),
        ])
    };
    let out = run_junk(&wasm);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["fault"]["outcome"], "rejected");
    assert_eq!(report["fault"]["http_status"], 422);

    // Bad input is the command's error, exit 2: a setting without `=`, a
    // body file that is not there.
    for args in [
        vec!["--config", "novalue", "webhook", "orders/create", "x.json"],
        vec!["webhook", "orders/create", "/nonexistent/body.json"],
    ] {
        let mut all = vec!["plugins", "run", wasm.to_str().unwrap()];
        all.extend(args);
        let out = poshub(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }

    // A file the hub would not load: exit 1, saying why.
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm not really").unwrap();
    let out = run_junk(&broken);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("would not load"), "{stderr}");
}

#[test]
fn plugins_check_reports_what_the_hub_would_trip_over() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let check = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "plugins",
            "check",
            file.to_str().unwrap(),
            "--json",
            "--plugin-cache",
            cache.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = poshub(&args);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.code(), report)
    };
    let status_of = |report: &Value, name: &str| -> Vec<String> {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == name)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .collect()
    };
    // Every bundled connector passes (warnings allowed).
    for (name, bytes) in poshub_connectors::bundled::BUNDLED {
        let wasm = dir.path().join(name);
        std::fs::write(&wasm, bytes).unwrap();
        let (code, report) = check(&wasm, &[]);
        assert_eq!(code, Some(0), "{name}: {report:#}");
        assert_eq!(report["ok"], true);
        for c in report["checks"].as_array().unwrap() {
            assert_ne!(c["status"], "error", "{name}: {c}");
        }
    }
    let shopify = dir.path().join("shopify.wasm");
    let (_, report) = check(&shopify, &[]);
    assert_eq!(report["plugin"]["world"], "0.3.0");
    assert_eq!(status_of(&report, "hosts"), ["ok"]);
    assert_eq!(status_of(&report, "topics"), ["ok"]);

    // A store config checked against the build's schema: what is wrong,
    // by path; exit 1.
    let (code, report) = check(&shopify, &["--config", "webhook_secret=5"]);
    assert_eq!(code, Some(1));
    let bad = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "store config")
        .unwrap();
    assert_eq!(bad["status"], "error");
    let detail = bad["detail"].as_str().unwrap();
    assert!(
        detail.contains("/webhook_secret") && detail.contains("access_token"),
        "{detail}"
    );

    // A file the hub would not load.
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm not really").unwrap();
    let (code, report) = check(&broken, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(report["loaded"], false);
    assert_eq!(status_of(&report, "load"), ["error"]);
}

#[test]
fn plugins_run_plans_a_push_and_reads_the_storefronts_answer() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("shopify.wasm");
    std::fs::write(&wasm, bundled("shopify.wasm")).unwrap();
    let cache = dir.path().join("cache");
    let write = |name: &str, value: Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let changes = write(
        "changes.json",
        serde_json::json!([{"id": 41, "attempts": 0, "confirmed": "9", "change": {
            "kind": "stock", "reference_code": "MUG",
            "external_id": "gid://shopify/ProductVariant/101", "location": "BLR",
            "external_location_id": "gid://shopify/Location/7", "external_parent_id": null,
            "external_inventory_id": "gid://shopify/InventoryItem/501", "available": "7"}}]),
    );
    let run = |store: &str, call: &[&str]| {
        let mut args = vec![
            "plugins",
            "run",
            wasm.to_str().unwrap(),
            "--plugin-cache",
            cache.to_str().unwrap(),
            "--config",
            "access_token=shpat_x",
            "--config",
        ];
        args.push(store);
        args.extend(call);
        let out = poshub(&args);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };

    // The plan: one GraphQL request with compare-and-set, allowed out.
    let (code, plan) = run(
        "base_url=https://sanjeev.myshopify.com",
        &["push", &changes, "--key", "batch-1"],
    );
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(plan["call"], "plan-push");
    let planned = &plan["result"]["requests"][0];
    assert_eq!(planned["changes"], serde_json::json!([0]));
    assert_eq!(planned["egress"], "ok");
    let request = &planned["request"];
    assert_eq!(request["method"], "POST");
    assert!(request["url"]
        .as_str()
        .unwrap()
        .starts_with("https://sanjeev.myshopify.com/admin/api/"));
    let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    let quantity = &body["variables"]["input"]["quantities"][0];
    assert_eq!(
        (&quantity["quantity"], &quantity["changeFromQuantity"]),
        (&serde_json::json!(7), &serde_json::json!(9))
    );
    // The token is the hub's to add: the plan carries none.
    assert!(!request.to_string().contains("shpat_x"), "{request}");

    // A host the build does not declare: the worker would not send it.
    let (_, plan) = run("base_url=https://evil.example.com", &["push", &changes]);
    let egress = plan["result"]["requests"][0]["egress"].as_str().unwrap();
    assert!(egress.starts_with("refused to send"), "{egress}");

    // Shopify's answers, read back: done, with the bucket it reported; a
    // stale compare quantity, tried again later.
    let request_file = write("request.json", request.clone());
    let done = write(
        "done.json",
        serde_json::json!({"status": 200, "headers": [], "body": serde_json::json!({
            "data": {"inventorySetQuantities": {"inventoryAdjustmentGroup":
                {"id": "gid://shopify/InventoryAdjustmentGroup/1"}, "userErrors": []}},
            "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990,
                                   "restoreRate": 100.0}}}}).to_string()}),
    );
    let (code, read) = run(
        "base_url=https://sanjeev.myshopify.com",
        &["response", &changes, &request_file, &done],
    );
    assert_eq!(code, Some(0), "{read:#}");
    assert_eq!(read["result"]["outcomes"][0]["outcome"], "done");
    assert_eq!(read["result"]["budget"]["available"], 1990);
    let stale = write(
        "stale.json",
        serde_json::json!({"status": 200, "headers": [], "body": serde_json::json!({
            "data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": null,
                "userErrors": [{"code": "CHANGE_FROM_QUANTITY_STALE",
                    "field": ["input", "quantities", "0", "changeFromQuantity"],
                    "message": "The compare quantity is stale"}]}}}).to_string()}),
    );
    let (_, read) = run(
        "base_url=https://sanjeev.myshopify.com",
        &["response", &changes, &request_file, &stale],
    );
    assert_eq!(
        read["result"]["outcomes"][0]["outcome"], "retry",
        "{read:#}"
    );

    // A changes file that is not a list of changes: the command's error.
    let junk = write("junk.json", serde_json::json!({"kind": "stock"}));
    let out = poshub(&["plugins", "run", wasm.to_str().unwrap(), "push", &junk]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn plugins_run_speaks_an_api_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("gofrugal.wasm");
    std::fs::write(&wasm, bundled("gofrugal.wasm")).unwrap();
    let cache = dir.path().join("cache");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let run = |call: &[&str]| {
        let mut args = vec![
            "plugins",
            "run",
            wasm.to_str().unwrap(),
            "--plugin-cache",
            cache.to_str().unwrap(),
            "dialect",
        ];
        args.extend(call);
        let out = poshub(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let items = write(
        "items.json",
        r#"{"method": "GET", "path": "/items", "query": "locationId=BLR"}"#,
    );
    let plan = run(&["plan", &items]);
    assert_eq!(plan["call"], "plan-api");
    assert_eq!(plan["result"]["command"], "list-items");
    assert_eq!(plan["result"]["args"]["location"], "BLR");

    let answer = write("answer.json", r#"{"items": [], "next_cursor": null}"#);
    let rendered = run(&["render", &items, &answer, "--status", "200"]);
    assert_eq!(rendered["result"]["status"], 200);
    let body: Value = serde_json::from_str(rendered["result"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["items"], serde_json::json!([]), "{body}");

    // A body it cannot read: the connector answers in the dialect itself.
    let bad = write(
        "bad.json",
        r#"{"method": "POST", "path": "/salesOrders", "body": "{not json"}"#,
    );
    let plan = run(&["plan", &bad]);
    assert_eq!(plan["result"]["command"], "respond");
    assert!(
        plan["result"]["args"]["status"].as_u64().unwrap() >= 400,
        "{plan:#}"
    );
}
