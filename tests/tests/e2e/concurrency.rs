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

both_backends!(fifty_orders_for_ten_units, super::last_ten_units);
both_backends!(backorder_policy, super::backorders);
