//! A new merchant's first day, as one story.

use poshub_tests::serde_json::json;
use poshub_tests::{both_backends, order, TestHub, TOY_CODES};

async fn new_user_walkthrough(hub: TestHub) {
    // Locations, a 3 x 2 matrix item and a plain item, stock at two places.
    hub.load_catalogue().await;
    let toy = hub.admin_get("/admin/v1/items/TOY").await;
    let codes: Vec<&str> = toy.expect(200)["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["reference_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, TOY_CODES, "six reference codes from the template");
    assert_eq!(
        toy.body["variants"][2]["attributes"],
        json!({"color": "Green", "size": "S"})
    );

    // A store and its API user.
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    let key = hub.api_key("WEB", &["BLR", "MUM"]).await;
    assert!(key.starts_with("psk_"));

    // The store lists items with price and stock: one location, then all.
    let blr = hub.get(&key, "/api/v1/items?location=BLR&limit=500").await;
    let items = blr.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 7);
    let red_s = items
        .iter()
        .find(|i| i["reference_code"] == "TOY-Red-S")
        .unwrap();
    assert_eq!(red_s["price"], "250.00");
    assert_eq!(red_s["mrp"], "300.00");
    assert_eq!(red_s["available"], "10");
    assert_eq!(red_s["attributes"]["color"], "Red");
    assert_eq!(
        red_s["locations"],
        json!([{"location": "BLR", "available": "10"}])
    );
    let mug = hub
        .item_row(&key, "/api/v1/items?location=all", "MUG")
        .await;
    assert_eq!(mug["available"], "15");
    assert_eq!(
        mug["locations"],
        json!([{"location": "BLR", "available": "10"}, {"location": "MUM", "available": "5"}])
    );

    // Cursor pagination walks every variant exactly once.
    let mut seen = vec![];
    let mut path = "/api/v1/items?limit=3".to_string();
    loop {
        let page = hub.get(&key, &path).await;
        let body = page.expect(200);
        for i in body["items"].as_array().unwrap() {
            seen.push(i["reference_code"].as_str().unwrap().to_string());
        }
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/items?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let since = now_rfc3339();

    // An order with a new phone creates the customer.
    let first = order(
        "WEB-1001",
        Some("BLR"),
        Some("98765 43210"),
        &[("TOY-Red-S", 2, "250.00"), ("MUG", 1, "100.00")],
        "cod",
    );
    let created = hub
        .call(
            reqwest::Method::POST,
            "/api/v1/sales-orders",
            Some(&key),
            Some(&first),
            &[("Idempotency-Key", "k-1001")],
        )
        .await;
    let o1 = created.expect(201).clone();
    assert_eq!(o1["status"], "pending");
    assert_eq!(o1["total"], "600.00");
    assert_eq!(o1["customer"]["phone"], "+919876543210");
    assert_eq!(o1["history"][0]["status"], "pending");
    assert!(created.headers.get("location").is_some());

    // The same phone, written differently, finds the same customer.
    let second = order(
        "WEB-1002",
        Some("BLR"),
        Some("+91 98765-43210"),
        &[("TOY-Green-M", 1, "250.00")],
        "prepaid",
    );
    let o2 = hub
        .post(&key, "/api/v1/sales-orders", second)
        .await
        .expect(201)
        .clone();
    assert_eq!(
        o2["customer"]["id"], o1["customer"]["id"],
        "customer reused by phone"
    );

    // Replaying the first request with its Idempotency-Key answers the same
    // response and makes no second order.
    let replay = hub
        .call(
            reqwest::Method::POST,
            "/api/v1/sales-orders",
            Some(&key),
            Some(&first),
            &[("Idempotency-Key", "k-1001")],
        )
        .await;
    assert_eq!(replay.expect(201), &o1);
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");
    let mut other = first.clone();
    other["notes"] = json!("changed");
    hub.call(
        reqwest::Method::POST,
        "/api/v1/sales-orders",
        Some(&key),
        Some(&other),
        &[("Idempotency-Key", "k-1001")],
    )
    .await
    .expect_problem(422, "idempotency_key_reused");
    let listed = hub.get(&key, "/api/v1/sales-orders").await;
    assert_eq!(
        listed.expect(200)["sales_orders"].as_array().unwrap().len(),
        2
    );

    // Stock is reserved on accept.
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "8");
    let changed = hub
        .get(
            &key,
            &format!("/api/v1/items?updated_since={}", urlencode(&since)),
        )
        .await;
    let changed: Vec<_> = changed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference_code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        changed.contains(&"TOY-Red-S".to_string()) && changed.contains(&"MUG".to_string()),
        "{changed:?}"
    );
    assert!(
        !changed.contains(&"TOY-Blue-M".to_string()),
        "untouched variants are not listed: {changed:?}"
    );

    // The store reads the status.
    let id = o1["id"].as_i64().unwrap();
    let read = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    assert_eq!(read.expect(200)["status"], "pending");

    // The merchant bills and delivers.
    let bill = hub
        .admin_post(
            &format!("/admin/v1/sales-orders/{id}/bill"),
            json!({"payment_type": "cod"}),
        )
        .await;
    let bill = bill.expect(201).clone();
    assert_eq!(bill["bill_no"], "BLR-000001");
    assert_eq!(bill["payment_type"], "cod");
    assert_eq!(bill["total"], "600.00");
    let levels = hub.admin_get("/admin/v1/stock/TOY-Red-S").await;
    let blr_level = levels
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location"] == "BLR")
        .unwrap()
        .clone();
    assert_eq!(
        (
            blr_level["on_hand"].as_str(),
            blr_level["reserved"].as_str()
        ),
        (Some("8"), Some("0"))
    );
    let delivered = hub
        .admin_post(&format!("/admin/v1/sales-orders/{id}/deliver"), json!({}))
        .await;
    let delivered = delivered.expect(200).clone();
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(delivered["bill_no"], "BLR-000001");
    let statuses: Vec<_> = delivered["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("pending"), json!("billed"), json!("delivered")]
    );
    let seen_by_store = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    assert_eq!(seen_by_store.expect(200)["status"], "delivered");
    hub.admin_get("/admin/v1/bills/BLR-000001")
        .await
        .expect(200);
    // A delivered order cannot be cancelled; the answer names its status.
    let refused = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(
        refused.expect_problem(409, "invalid_status_transition")["current_status"],
        "delivered"
    );

    // Another order is cancelled and its stock is available again.
    let third = order(
        "WEB-1003",
        Some("MUM"),
        None,
        &[("TOY-Blue-M", 5, "250.00")],
        "prepaid",
    );
    let o3 = hub
        .post(&key, "/api/v1/sales-orders", third)
        .await
        .expect(201)
        .clone();
    assert_eq!(hub.available("TOY-Blue-M", "MUM").await, "0");
    let id3 = o3["id"].as_i64().unwrap();
    let cancelled = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id3}/cancel"),
            json!({"reason": "customer changed mind"}),
        )
        .await;
    assert_eq!(cancelled.expect(200)["status"], "cancelled");
    assert_eq!(hub.available("TOY-Blue-M", "MUM").await, "5");
    // Cancelling again is a no-op.
    let again = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id3}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(again.expect(200)["history"].as_array().unwrap().len(), 2);
    let pending = hub.get(&key, "/api/v1/sales-orders?status=pending").await;
    let refs: Vec<_> = pending.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["online_reference_no"].clone())
        .collect();
    assert_eq!(refs, [json!("WEB-1002")]);

    // A billed order that is cancelled puts its stock back on hand.
    let id2 = o2["id"].as_i64().unwrap();
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id2}/bill"),
        json!({"payment_type": "prepaid"}),
    )
    .await
    .expect(201);
    assert_eq!(hub.available("TOY-Green-M", "BLR").await, "9");
    hub.admin_post(&format!("/admin/v1/sales-orders/{id2}/cancel"), json!({}))
        .await
        .expect(200);
    assert_eq!(hub.available("TOY-Green-M", "BLR").await, "10");
    let bill2 = hub.admin_get("/admin/v1/bills/BLR-000002").await;
    assert_eq!(bill2.expect(200)["status"], "cancelled");

    hub.assert_ledger_balances().await;
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

both_backends!(walkthrough, super::new_user_walkthrough);
