//! Many stores racing for the last units: never oversold.

use poshub_tests::{both_backends, order, TestHub};

/// 50 concurrent orders for the last 10 units: exactly 10 accepted.
async fn last_ten_units(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let body = order(
                &format!("RACE-{i}"),
                None,
                None,
                &[("TOY-Red-S", 1, "250.00")],
                "cod",
            );
            hub.post(&key, "/api/v1/sales-orders", body).await
        }));
    }
    let mut accepted = 0;
    let mut refused = 0;
    for t in tasks {
        let a = t.await.unwrap();
        match a.status.as_u16() {
            201 => accepted += 1,
            409 => {
                assert_eq!(a.code(), "insufficient_stock", "{}", a.text);
                assert_eq!(a.body["lines"][0]["requested"], "1");
                assert_eq!(a.body["lines"][0]["available"], "0");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", a.text),
        }
    }
    assert_eq!((accepted, refused), (10, 40));
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "0");
    let levels = hub.admin_get("/admin/v1/stock/TOY-Red-S").await;
    let blr = levels
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location"] == "BLR")
        .unwrap()
        .clone();
    assert_eq!(
        (blr["on_hand"].as_str(), blr["reserved"].as_str()),
        (Some("10"), Some("10"))
    );
    hub.assert_ledger_balances().await;
}

/// With backorders allowed the store may sell beyond stock; available goes
/// negative and says how much is owed.
async fn backorders(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], true).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("BO-1", None, None, &[("MUG", 12, "100.00")], "cod"),
    )
    .await
    .expect(201);
    assert_eq!(hub.available("MUG", "BLR").await, "-2");
    hub.assert_ledger_balances().await;
}

/// Orders arriving together (on SQLite they are placed set-wise and committed
/// together): the ones that fail leave nothing behind, the others are all
/// kept, and a duplicate names the order that won even when both arrived in
/// the same batch.
async fn good_and_bad_together(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            // Pairs share a reference and a body: one wins, one is a duplicate.
            let code = poshub_tests::TOY_CODES[if i % 3 == 0 { i / 6 } else { i / 3 } % 6];
            let (reference, lines): (String, Vec<(&str, u32, &str)>) = match i % 3 {
                0 => (format!("DUP-{}", i / 6), vec![(code, 1, "250.00")]),
                // An unknown code: refused as a whole.
                1 => (
                    format!("BAD-{i}"),
                    vec![(code, 1, "250.00"), ("NOPE", 1, "1.00")],
                ),
                _ => (format!("OK-{i}"), vec![(code, 1, "250.00")]),
            };
            let phone = format!("+91 98450 {:05}", if i % 3 == 0 { i / 6 } else { 100 + i });
            let body = order(&reference, None, Some(&phone), &lines, "cod");
            (i, hub.post(&key, "/api/v1/sales-orders", body).await)
        }));
    }
    let mut created = std::collections::HashMap::new();
    let mut reserved = std::collections::HashMap::<String, u32>::new();
    let mut duplicates = Vec::new();
    let mut invalid = 0;
    for t in tasks {
        let (i, a) = t.await.unwrap();
        match (i % 3, a.status.as_u16()) {
            (0 | 2, 201) => {
                let reference = a.body["online_reference_no"].as_str().unwrap().to_string();
                assert!(created
                    .insert(reference, a.body["id"].as_i64().unwrap())
                    .is_none());
                let code = a.body["lines"][0]["reference_code"].as_str().unwrap();
                *reserved.entry(code.to_string()).or_default() += 1;
            }
            (0, 409) => {
                assert_eq!(a.code(), "duplicate_online_reference_no", "{}", a.text);
                duplicates.push(a.body["existing_id"].as_i64().unwrap());
            }
            (1, 422) => invalid += 1,
            (kind, status) => panic!("order {i} (kind {kind}) got {status}: {}", a.text),
        }
    }
    assert_eq!((created.len(), duplicates.len(), invalid), (30, 10, 20));
    // Every duplicate names an order that was kept.
    for id in &duplicates {
        assert!(created.values().any(|c| c == id), "duplicate names {id}");
    }
    let all = hub.admin_get("/admin/v1/sales-orders?limit=500").await;
    let all = all.expect(200)["sales_orders"].as_array().unwrap().clone();
    assert_eq!(all.len(), 30, "only the accepted orders exist");
    for o in &all {
        let reference = o["online_reference_no"].as_str().unwrap();
        assert_eq!(created.get(reference), o["id"].as_i64().as_ref());
    }
    // The accepted orders' units are reserved, nothing more.
    for code in poshub_tests::TOY_CODES {
        let expected = 10 - reserved.get(code).copied().unwrap_or(0);
        assert_eq!(
            hub.available(code, "BLR").await,
            expected.to_string(),
            "{code}"
        );
    }
    hub.assert_ledger_balances().await;
}

both_backends!(fifty_orders_for_ten_units, super::last_ten_units);
both_backends!(orders_that_arrive_together, super::good_and_bad_together);
both_backends!(backorder_policy, super::backorders);

/// Two hubs on one Postgres racing for the last 10 units of one variant,
/// each taking orders in batches of its own, from the same three repeat
/// customers (their rows are upserted by both): exactly 10 accepted, none
/// lost or doubled, no deadlock, the ledger balanced.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hubs_race_for_the_last_ten_units() {
    let Some(first) = TestHub::start(poshub_tests::Backend::Postgres).await else {
        return;
    };
    first.load_catalogue().await;
    first.create_store("WEB", &["BLR"], false).await;
    let key = first.api_key("WEB", &["BLR"]).await;
    let second = TestHub::start_on(
        poshub_tests::Backend::Postgres,
        first.database_url.clone(),
        None,
        None,
        None,
    )
    .await;
    let hubs = [std::sync::Arc::new(first), std::sync::Arc::new(second)];
    let phones = ["9845012345", "9845012346", "9845012347"];
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (hub, key) = (hubs[i % 2].clone(), key.clone());
        let phone = phones[i % 3];
        tasks.push(tokio::spawn(async move {
            let body = order(
                &format!("TWO-{i}"),
                None,
                Some(phone),
                &[("TOY-Red-S", 1, "250.00"), ("MUG", 1, "100.00")],
                "cod",
            );
            hub.post(&key, "/api/v1/sales-orders", body).await
        }));
    }
    let mut accepted = std::collections::BTreeSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let a = t.await.unwrap();
        match a.status.as_u16() {
            201 => {
                accepted.insert(format!("TWO-{i}"));
            }
            409 => assert_eq!(a.code(), "insufficient_stock", "{}", a.text),
            other => panic!("order {i}: unexpected {other}: {}", a.text),
        }
    }
    assert_eq!(accepted.len(), 10, "{accepted:?}");
    let all = hubs[1].admin_get("/admin/v1/sales-orders?limit=500").await;
    let kept: std::collections::BTreeSet<String> = all.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["online_reference_no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, accepted, "exactly the acknowledged orders exist");
    assert_eq!(hubs[0].available("TOY-Red-S", "BLR").await, "0");
    assert_eq!(hubs[0].available("MUG", "BLR").await, "0");
    hubs[0].assert_ledger_balances().await;
}
