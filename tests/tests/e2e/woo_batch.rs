//! The WooCommerce connector's batched pushes end to end: the real hub, the
//! bundled connector and a fake WooCommerce (`poshub_tests::fake_woo`)
//! answering `products/batch` and `products/{id}/variations/batch` as
//! WooCommerce does (100-item limit, per-item errors, basic auth).

use std::time::Duration;

use poshub_tests::fake_woo::FakeWoo;
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, TestHub, ADMIN_TOKEN};
use reqwest::Method;

/// Variable product SHIRT: 12 colours x 10 sizes = 120 variations.
const SHIRT_PARENT: u64 = 5000;
/// Variable product CAP: 8 colours x 10 sizes = 80 variations.
const CAP_PARENT: u64 = 6000;
/// The CAP variant mapped to a variation the shop does not have.
const MISSING: u64 = 6999;

/// A hub item with one variant per combination of `colours` x `sizes`
/// (or of `sizes` alone), and its reference codes in order.
async fn item(hub: &TestHub, code: &str, colours: usize, sizes: usize) -> Vec<String> {
    let colour_values: Vec<String> = (1..=colours).map(|c| format!("C{c:02}")).collect();
    let size_values: Vec<String> = (1..=sizes).map(|s| format!("S{s:02}")).collect();
    let (attributes, template) = if colours == 0 {
        (
            json!([{"name": "size", "values": size_values}]),
            "{item_code}-{size}",
        )
    } else {
        (
            json!([{"name": "colour", "values": colour_values}, {"name": "size", "values": size_values}]),
            "{item_code}-{colour}-{size}",
        )
    };
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": code, "name": code, "tax_rate": "12", "mrp": "999.00",
               "attributes": attributes, "reference_code_template": template}),
    )
    .await
    .expect(201);
    if colours == 0 {
        size_values.iter().map(|s| format!("{code}-{s}")).collect()
    } else {
        colour_values
            .iter()
            .flat_map(|c| size_values.iter().map(move |s| format!("{code}-{c}-{s}")))
            .collect()
    }
}

/// A mapped variant: its code, WooCommerce id, parent, and first level.
struct Mapped {
    code: String,
    id: u64,
    parent: Option<u64>,
    level: i64,
}

async fn batched_pushes_reach_woocommerce(hub: TestHub) {
    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "BLR", "name": "Bengaluru"}),
    )
    .await
    .expect(201);
    let shirts = item(&hub, "SHIRT", 12, 10).await;
    let caps = item(&hub, "CAP", 8, 10).await;
    let plains = item(&hub, "PLAIN", 0, 30).await;
    let mut mapped = Vec::new();
    for (i, code) in shirts.iter().enumerate() {
        mapped.push((code, SHIRT_PARENT + 1 + i as u64, Some(SHIRT_PARENT)));
    }
    for (i, code) in caps.iter().enumerate() {
        mapped.push((code, CAP_PARENT + 1 + i as u64, Some(CAP_PARENT)));
    }
    for (i, code) in plains.iter().enumerate() {
        mapped.push((code, 7001 + i as u64, None));
    }
    // One CAP variant points at a variation the shop does not have.
    let stale = caps[37].clone();
    let mapped: Vec<Mapped> = mapped
        .into_iter()
        .enumerate()
        .map(|(i, (code, id, parent))| Mapped {
            code: code.clone(),
            id: if *code == stale { MISSING } else { id },
            parent,
            level: (i % 17) as i64 + 1,
        })
        .collect();
    assert_eq!(mapped.len(), 230);
    let lines: Vec<Value> = mapped
        .iter()
        .map(|m| json!({"reference_code": m.code, "quantity": m.level.to_string(), "cost": "100.00", "price": "250.00"}))
        .collect();
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": lines}),
    )
    .await
    .expect(200);

    let fake = FakeWoo::start("ck_live", "cs_live").await;
    fake.add_variable(SHIRT_PARENT, (1..=120).map(|i| SHIRT_PARENT + i));
    fake.add_variable(CAP_PARENT, (1..=80).map(|i| CAP_PARENT + i));
    fake.add_products(7001..=7030);
    assert!(fake.held(MISSING).is_none());
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "WOO", "name": "Woo shop", "connector": "woocommerce",
               "config": {"webhook_secret": "s", "base_url": fake.base,
                          "consumer_key": "ck_live", "consumer_secret": "cs_live"},
               "locations": ["BLR"], "payment_types": ["cod"], "prices_include_tax": false}),
    )
    .await
    .expect(201);
    // All 230 mapped at once: each gets a first level and price.
    let mappings: Vec<Value> = mapped
        .iter()
        .map(|m| match m.parent {
            Some(p) => json!({"reference_code": m.code, "external_id": m.id.to_string(), "parent_id": p.to_string()}),
            None => json!({"reference_code": m.code, "external_id": m.id.to_string()}),
        })
        .collect();
    hub.call(
        Method::PUT,
        "/admin/v1/stores/WOO/mappings",
        Some(ADMIN_TOKEN),
        Some(&json!(mappings)),
        &[],
    )
    .await
    .expect(200);

    let arrived = fake
        .wait_until(Duration::from_secs(20), |f| {
            mapped.iter().filter(|m| m.id != MISSING).all(|m| {
                f.held(m.id).is_some_and(|h| {
                    h.manage_stock
                        && h.stock_quantity == Some(m.level)
                        && h.regular_price == "250.00"
                })
            })
        })
        .await;
    assert!(
        arrived,
        "the first levels and prices reach WooCommerce: {:?}",
        fake.requests()
            .iter()
            .map(|r| (&r.method, &r.path, r.status, r.items().len()))
            .collect::<Vec<_>>()
    );
    // The stale mapping is dead-lettered alone (its level and its price),
    // not retried: WooCommerce said the variation does not exist.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let dead = hub.sync_log("WOO", "dead").await;
        if dead.len() >= 2 {
            break dead;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stale mapping's rows did not die: {dead:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut subjects: Vec<&str> = dead
        .iter()
        .map(|d| d["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [stale.clone(), format!("{stale}@BLR")],
        "{dead:?}"
    );
    for d in &dead {
        assert_eq!(d["attempts"], 1, "not retried: {d}");
        assert_eq!(d["response_status"], 200, "{d}");
        let error = d["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("no variation {MISSING} of product {CAP_PARENT}")),
            "{error}"
        );
        assert!(
            error.contains(&format!(
                "mapping of `{stale}` points at a product that no longer exists"
            )),
            "{error}"
        );
        assert!(
            d["request_summary"].as_str().unwrap().ends_with(&format!(
                "/wp-json/wc/v3/products/{CAP_PARENT}/variations/batch"
            )),
            "{d}"
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let sent = hub.sync_log("WOO", "sent").await;
        if sent.len() == 2 * 229 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} rows sent of {}",
            sent.len(),
            2 * 229
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Few requests: at most ceil(n / 100) per product group and kind, all
    // authenticated, none refused whole.
    let requests = fake.requests();
    assert!(
        requests.iter().all(|r| r.status == 200),
        "{:?}",
        requests
            .iter()
            .map(|r| (&r.path, r.status))
            .collect::<Vec<_>>()
    );
    let group = |path: &str, stock: bool| {
        requests
            .iter()
            .filter(|r| r.path == path && r.sets_stock() == stock)
            .map(|r| r.items().len())
            .collect::<Vec<_>>()
    };
    for stock in [true, false] {
        let shirt = group(
            &format!("/wp-json/wc/v3/products/{SHIRT_PARENT}/variations/batch"),
            stock,
        );
        let cap = group(
            &format!("/wp-json/wc/v3/products/{CAP_PARENT}/variations/batch"),
            stock,
        );
        let simple = group("/wp-json/wc/v3/products/batch", stock);
        assert!(shirt.len() <= 2, "120 SHIRT variations: {shirt:?}");
        assert!(cap.len() <= 1, "80 CAP variations: {cap:?}");
        assert!(simple.len() <= 1, "30 simple products: {simple:?}");
        assert_eq!(shirt.iter().sum::<usize>(), 120);
        assert_eq!(cap.iter().sum::<usize>(), 80);
        assert_eq!(simple.iter().sum::<usize>(), 30);
        assert!(shirt.iter().chain(&cap).chain(&simple).all(|&n| n <= 100));
    }
    let first = requests.len();
    assert!(first <= 8, "{first} requests for 460 changes");
    println!("230 levels and 230 prices -> {first} requests");

    // A later change of three SHIRT variations and a simple product: the
    // variations go in one batch, the lone product as its single PUT.
    let later: Vec<&Mapped> = vec![&mapped[0], &mapped[1], &mapped[119], &mapped[200]];
    let lines: Vec<Value> = later
        .iter()
        .map(|m| json!({"reference_code": m.code, "quantity": "5", "cost": "100.00"}))
        .collect();
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": lines}),
    )
    .await
    .expect(200);
    let arrived = fake
        .wait_until(Duration::from_secs(10), |f| {
            later.iter().all(|m| f.stock(m.id) == Some(m.level + 5))
        })
        .await;
    assert!(arrived, "the later levels reach WooCommerce");
    let requests = fake.requests();
    let after: Vec<_> = requests[first..].iter().collect();
    assert_eq!(after.len(), 2, "{after:?}");
    let batch = after
        .iter()
        .find(|r| r.path == format!("/wp-json/wc/v3/products/{SHIRT_PARENT}/variations/batch"))
        .expect("the SHIRT variations in one batch");
    assert_eq!(batch.method, "POST");
    let ids: Vec<u64> = batch
        .items()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [mapped[0].id, mapped[1].id, mapped[119].id]);
    let single = after
        .iter()
        .find(|r| r.path == format!("/wp-json/wc/v3/products/{}", mapped[200].id))
        .expect("the simple product on its own");
    assert_eq!(single.method, "PUT");
    assert_eq!(
        single.body,
        json!({"manage_stock": true, "stock_quantity": mapped[200].level + 5})
    );
    // Nothing else changed in the shop.
    assert_eq!(fake.stock(mapped[2].id), Some(mapped[2].level));
}

both_backends!(woo_batch, super::batched_pushes_reach_woocommerce);
