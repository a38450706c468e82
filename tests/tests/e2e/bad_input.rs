//! Bad input gets a clear 4xx problem+json and changes nothing.

use poshub_tests::reqwest::Method;
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, order, TestHub, ADMIN_TOKEN};

/// Nothing moved: no orders, stock as loaded, ledger balanced.
async fn assert_untouched(hub: &TestHub, key: &str) {
    let listed = hub.get(key, "/api/v1/sales-orders").await;
    assert_eq!(
        listed.expect(200)["sales_orders"],
        json!([]),
        "no order was written"
    );
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "10");
    assert_eq!(hub.available("MUG", "BLR").await, "10");
    hub.assert_ledger_balances().await;
}

async fn raw_post(
    hub: &TestHub,
    key: &str,
    path: &str,
    body: &str,
    content_type: Option<&str>,
) -> poshub_tests::Answer {
    let mut req = hub
        .client
        .post(format!("{}{path}", hub.base))
        .bearer_auth(key)
        .body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    poshub_tests::answer(req.send().await.unwrap()).await
}

fn good() -> Value {
    order(
        "BAD-1",
        Some("BLR"),
        Some("9876543210"),
        &[("TOY-Red-S", 2, "250.00"), ("MUG", 1, "100.00")],
        "prepaid",
    )
}

async fn store_api_rejects_bad_orders(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let post = |body: Value| {
        let (hub, key) = (&hub, key.clone());
        async move { hub.post(&key, "/api/v1/sales-orders", body).await }
    };

    // Not JSON, not a JSON body, too large, too deep.
    raw_post(
        &hub,
        &key,
        "/api/v1/sales-orders",
        "{\"online_reference_no\": ",
        Some("application/json"),
    )
    .await
    .expect_problem(400, "malformed_json");
    raw_post(
        &hub,
        &key,
        "/api/v1/sales-orders",
        &good().to_string(),
        Some("text/plain"),
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    raw_post(
        &hub,
        &key,
        "/api/v1/sales-orders",
        &good().to_string(),
        None,
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    let huge = format!("{{\"notes\": \"{}\"}}", "x".repeat(1024 * 1024 + 1024));
    raw_post(
        &hub,
        &key,
        "/api/v1/sales-orders",
        &huge,
        Some("application/json"),
    )
    .await
    .expect_problem(413, "body_too_large");
    // Deep nesting where free-form JSON is allowed (an address) hits the
    // parser's depth limit; at the top level it is simply the wrong shape.
    let mut deep = good();
    deep["customer"]["address"] = json!("HOLE");
    let deep = deep.to_string().replace(
        "\"HOLE\"",
        &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
    );
    raw_post(
        &hub,
        &key,
        "/api/v1/sales-orders",
        &deep,
        Some("application/json"),
    )
    .await
    .expect_problem(400, "malformed_json");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    raw_post(
        &hub,
        &key,
        "/api/v1/sales-orders",
        &deep,
        Some("application/json"),
    )
    .await
    .expect_problem(422, "invalid_body");

    // Wrong types and unknown fields name the field.
    let mut b = good();
    b["lines"][0]["quantity"] = json!(2);
    let a = post(b).await;
    assert_eq!(
        a.expect_problem(422, "invalid_body")["errors"][0]["field"],
        "lines[0].quantity"
    );
    assert!(
        a.body["detail"].as_str().unwrap().contains("JSON strings"),
        "{}",
        a.text
    );
    let mut b = good();
    b["lines"][0]["qty"] = json!("2");
    let a = post(b).await;
    assert!(
        a.expect_problem(422, "invalid_body")["detail"]
            .as_str()
            .unwrap()
            .contains("qty"),
        "{}",
        a.text
    );
    let mut b = good();
    b["total"] = json!("12,00");
    assert_eq!(
        post(b).await.expect_problem(422, "invalid_body")["errors"][0]["field"],
        "total"
    );
    let mut b = good();
    b.as_object_mut().unwrap().remove("lines");
    post(b).await.expect_problem(422, "invalid_body");
    post(json!([1, 2]))
        .await
        .expect_problem(422, "invalid_body");

    // Negative and zero quantities.
    for q in ["-1", "0"] {
        let mut b = good();
        b["lines"][0]["quantity"] = json!(q);
        assert_eq!(
            post(b).await.expect_problem(422, "invalid_body")["errors"][0]["field"],
            "lines[0].quantity"
        );
    }

    // Rules that need the catalogue and the store.
    let mut b = good();
    b["lines"][1]["reference_code"] = json!("NO-SUCH-CODE");
    let a = post(b).await;
    let err = &a.expect_problem(422, "unknown_reference_code")["errors"][0];
    assert_eq!(err["field"], "lines[1].reference_code");
    assert!(err["message"].as_str().unwrap().contains("NO-SUCH-CODE"));
    let mut b = good();
    b["total"] = json!("599.00");
    b["payments"][0]["amount"] = json!("599.00");
    assert!(
        post(b).await.expect_problem(422, "total_mismatch")["detail"]
            .as_str()
            .unwrap()
            .contains("600.00")
    );
    let mut b = good();
    b["payments"][0]["type"] = json!("bitcoin");
    post(b)
        .await
        .expect_problem(422, "payment_type_not_allowed");
    let mut b = good();
    b["payments"][0]["amount"] = json!("500.00");
    post(b)
        .await
        .expect_problem(422, "payments_do_not_cover_total");
    let mut b = good();
    b["customer"]["phone"] = json!("call me maybe");
    post(b).await.expect_problem(422, "invalid_phone");
    let mut b = good();
    b["lines"] = json!([]);
    b["total"] = json!("0.00");
    b["payments"] = json!([]);
    post(b).await.expect_problem(422, "no_lines");
    let mut b = good();
    b["lines"][0]["discount"] = json!("600.00");
    post(b).await.expect_problem(422, "discount_exceeds_line");
    let mut b = good();
    b["location"] = json!("MUM");
    post(b).await.expect_problem(403, "location_out_of_scope");
    let mut b = good();
    b["location"] = json!("NOWHERE");
    post(b).await.expect_problem(403, "location_out_of_scope");
    let mut b = good();
    b["lines"][0]["quantity"] = json!("11");
    b["total"] = json!("2850.00");
    b["payments"][0]["amount"] = json!("2850.00");
    let a = post(b).await;
    let lines = &a.expect_problem(409, "insufficient_stock")["lines"];
    assert_eq!(
        lines,
        &json!([{"line": 0, "reference_code": "TOY-Red-S", "requested": "11", "available": "10"}])
    );

    // Keys.
    let unauth = hub
        .call(
            Method::POST,
            "/api/v1/sales-orders",
            None,
            Some(&good()),
            &[],
        )
        .await;
    unauth.expect_problem(401, "unauthorized");
    hub.call(
        Method::POST,
        "/api/v1/sales-orders",
        Some("psk_wrong"),
        Some(&good()),
        &[],
    )
    .await
    .expect_problem(401, "unauthorized");
    hub.call(Method::GET, "/api/v1/items", Some(ADMIN_TOKEN), None, &[])
        .await
        .expect_problem(401, "unauthorized");
    hub.call(Method::GET, "/admin/v1/stores", Some(&key), None, &[])
        .await
        .expect_problem(401, "unauthorized");

    // Queries.
    hub.get(&key, "/api/v1/items?cursor=bogus")
        .await
        .expect_problem(400, "invalid_cursor");
    hub.get(&key, "/api/v1/items?limit=0")
        .await
        .expect_problem(400, "invalid_limit");
    hub.get(&key, "/api/v1/items?limit=many")
        .await
        .expect_problem(400, "invalid_query");
    hub.get(&key, "/api/v1/items?updated_since=yesterday")
        .await
        .expect_problem(400, "invalid_query");
    hub.get(&key, "/api/v1/sales-orders?status=lost")
        .await
        .expect_problem(400, "invalid_status");
    hub.get(&key, "/api/v1/sales-orders/abc")
        .await
        .expect_problem(404, "not_found");
    hub.get(&key, "/api/v1/nothing-here")
        .await
        .expect_problem(404, "no_such_route");

    assert_untouched(&hub, &key).await;

    // A duplicate online reference number names the existing order.
    let first = post(good()).await;
    let id = first.expect(201)["id"].clone();
    let dup = post(good()).await;
    assert_eq!(
        dup.expect_problem(409, "duplicate_online_reference_no")["existing_id"],
        id
    );
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "8");
    hub.assert_ledger_balances().await;
}

async fn admin_api_rejects_bad_input(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;

    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "BLR", "name": "again"}),
    )
    .await
    .expect_problem(409, "duplicate_location");
    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "HAS SPACE", "name": "x"}),
    )
    .await
    .expect_problem(422, "invalid_body");
    // A template that does not tell sizes apart collides; nothing is created.
    let collision = hub
        .admin_post(
            "/admin/v1/items",
            json!({"item_code": "CAP", "name": "Cap", "attributes": [{"name": "color", "values": ["Red", "Blue"]}, {"name": "size", "values": ["S", "M"]}],
                   "reference_code_template": "{item_code}-{color}"}),
        )
        .await;
    assert!(
        collision.expect_problem(409, "reference_code_collision")["detail"]
            .as_str()
            .unwrap()
            .contains("CAP-Red")
    );
    hub.admin_get("/admin/v1/items/CAP")
        .await
        .expect_problem(404, "not_found");
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": "CAP", "name": "Cap", "attributes": [{"name": "color", "values": ["Red"]}], "reference_code_template": "{item_code}-{colour}"}),
    )
    .await
    .expect_problem(422, "invalid_template");
    // A new item whose code is already a variant's reference code.
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": "TOY-Red-S", "name": "clash"}),
    )
    .await
    .expect_problem(409, "reference_code_taken");
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": "MUG", "name": "again"}),
    )
    .await
    .expect_problem(409, "duplicate_item_code");

    // Stock: unknown codes and locations, negative results; nothing moves.
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "5"}, {"reference_code": "NOPE", "quantity": "1"}]}),
    )
    .await
    .expect_problem(422, "unknown_reference_code");
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "XXX", "lines": [{"reference_code": "MUG", "quantity": "5"}]}),
    )
    .await
    .expect_problem(422, "unknown_location");
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "-5"}]}),
    )
    .await
    .expect_problem(422, "invalid_body");
    hub.admin_post(
        "/admin/v1/stock/adjustments",
        json!({"location": "BLR", "lines": [{"reference_code": "TOY-Red-S", "quantity": "-1", "reason": "broken"}, {"reference_code": "MUG", "quantity": "-11", "reason": "count"}]}),
    )
    .await
    .expect_problem(422, "negative_stock");

    // Stores.
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "S2", "name": "x", "connector": "magento", "locations": ["BLR"]}),
    )
    .await
    .expect_problem(422, "unknown_connector");
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "S2", "name": "x", "locations": ["NOWHERE"]}),
    )
    .await
    .expect_problem(422, "unknown_location");
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "S2", "name": "x", "locations": ["BLR"], "alow_backorder": true}),
    )
    .await
    .expect_problem(422, "invalid_body");
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "WEB", "name": "x", "locations": ["BLR"]}),
    )
    .await
    .expect_problem(409, "duplicate_store");
    assert_eq!(
        hub.admin_get("/admin/v1/stores")
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    hub.admin_post("/admin/v1/stores/NOPE/api-users", json!({"name": "x"}))
        .await
        .expect_problem(404, "not_found");

    // Order actions out of order, and a payment type the store refuses.
    let o = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("O-1", None, None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    let id = o.expect(201)["id"].as_i64().unwrap();
    hub.admin_post(&format!("/admin/v1/sales-orders/{id}/deliver"), json!({}))
        .await
        .expect_problem(409, "invalid_status_transition");
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id}/bill"),
        json!({"payment_type": "card"}),
    )
    .await
    .expect_problem(422, "payment_type_not_allowed");
    hub.admin_post(&format!("/admin/v1/sales-orders/{id}/bill"), json!({}))
        .await
        .expect_problem(422, "invalid_body");
    hub.admin_post(
        "/admin/v1/sales-orders/999999/bill",
        json!({"payment_type": "cod"}),
    )
    .await
    .expect_problem(404, "not_found");
    let after = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    assert_eq!(after.expect(200)["status"], "pending");
    assert_eq!(after.body["bill_no"], json!(null));
    hub.admin_get("/admin/v1/bills/BLR-000001")
        .await
        .expect_problem(404, "not_found");

    // Stock untouched by any of the refusals above (MUG: 10 - 1 reserved).
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "10");
    hub.assert_ledger_balances().await;
}

both_backends!(store_api_bad_input, super::store_api_rejects_bad_orders);
both_backends!(admin_api_bad_input, super::admin_api_rejects_bad_input);
