//! The three business models of API users and locations, and store
//! isolation: a key sees only its own store's orders at its own locations.

use poshub_tests::serde_json::{self, json};
use poshub_tests::{both_backends, order, TestHub};

/// One user, one location: orders need no location, items show only it.
async fn one_user_one_location(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("SHOP", &["BLR"], false).await;
    let key = hub.api_key("SHOP", &["BLR"]).await;
    let o = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("S-1", None, None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    assert_eq!(o.expect(201)["location"], "BLR");
    let mug = hub.item_row(&key, "/api/v1/items", "MUG").await;
    assert_eq!(
        mug["locations"],
        json!([{"location": "BLR", "available": "9"}])
    );
    // MUM exists but the store does not sell from it.
    hub.get(&key, "/api/v1/items?location=MUM")
        .await
        .expect_problem(403, "location_out_of_scope");
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("S-2", Some("MUM"), None, &[("MUG", 1, "100.00")], "cod"),
    )
    .await
    .expect_problem(403, "location_out_of_scope");
    // An API user cannot be given a location its store does not sell from.
    hub.admin_post(
        "/admin/v1/stores/SHOP/api-users",
        json!({"name": "x", "locations": ["MUM"]}),
    )
    .await
    .expect_problem(422, "location_not_in_store");
}

/// Two users, two locations: each sees and acts only for its own.
async fn two_users_two_locations(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    let blr = hub.api_key("WEB", &["BLR"]).await;
    let mum = hub.api_key("WEB", &["MUM"]).await;
    let a = hub
        .post(
            &blr,
            "/api/v1/sales-orders",
            order("A-1", None, None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    let a_id = a.expect(201)["id"].as_i64().unwrap();
    let b = hub
        .post(
            &mum,
            "/api/v1/sales-orders",
            order("B-1", None, None, &[("MUG", 2, "100.00")], "cod"),
        )
        .await;
    assert_eq!(b.expect(201)["location"], "MUM");
    let b_id = b.body["id"].as_i64().unwrap();

    let listed = hub.get(&blr, "/api/v1/sales-orders").await;
    let ids: Vec<_> = listed.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [a_id]);
    hub.get(&blr, &format!("/api/v1/sales-orders/{b_id}"))
        .await
        .expect_problem(404, "not_found");
    hub.post(
        &blr,
        &format!("/api/v1/sales-orders/{b_id}/cancel"),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    hub.post(
        &blr,
        "/api/v1/sales-orders",
        order("A-2", Some("MUM"), None, &[("MUG", 1, "100.00")], "cod"),
    )
    .await
    .expect_problem(403, "location_out_of_scope");
    let mug = hub
        .item_row(&mum, "/api/v1/items?location=all", "MUG")
        .await;
    assert_eq!(
        mug["locations"],
        json!([{"location": "MUM", "available": "3"}])
    );
    assert_eq!(mug["available"], "3");
    hub.get(&mum, "/api/v1/items?location=BLR")
        .await
        .expect_problem(403, "location_out_of_scope");
    // The order at MUM is untouched.
    assert_eq!(
        hub.admin_get(&format!("/admin/v1/sales-orders/{b_id}"))
            .await
            .expect(200)["status"],
        "pending"
    );
}

/// Two users, one location: both act for it and see each other's orders.
async fn two_users_one_location(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let app = hub.api_key("WEB", &["BLR"]).await;
    let site = hub.api_key("WEB", &["BLR"]).await;
    let a = hub
        .post(
            &app,
            "/api/v1/sales-orders",
            order("APP-1", None, None, &[("MUG", 4, "100.00")], "cod"),
        )
        .await;
    let a_id = a.expect(201)["id"].as_i64().unwrap();
    hub.post(
        &site,
        "/api/v1/sales-orders",
        order("SITE-1", None, None, &[("MUG", 4, "100.00")], "cod"),
    )
    .await
    .expect(201);
    // They draw on the same stock.
    let mug = hub
        .item_row(&site, "/api/v1/items?location=BLR", "MUG")
        .await;
    assert_eq!(mug["available"], "2");
    let listed = hub.get(&site, "/api/v1/sales-orders").await;
    assert_eq!(
        listed.expect(200)["sales_orders"].as_array().unwrap().len(),
        2
    );
    let seen = hub
        .get(&site, &format!("/api/v1/sales-orders/{a_id}"))
        .await;
    assert_eq!(seen.expect(200)["online_reference_no"], "APP-1");
}

/// A key of one store never sees another store's orders, even at a shared
/// location; online reference numbers are unique per store only.
async fn stores_are_isolated(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("ONE", &["BLR"], false).await;
    hub.create_store("TWO", &["BLR"], false).await;
    let one = hub.api_key("ONE", &["BLR"]).await;
    let two = hub.api_key("TWO", &["BLR"]).await;
    let a = hub
        .post(
            &one,
            "/api/v1/sales-orders",
            order("X-1", None, None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    let a_id = a.expect(201)["id"].as_i64().unwrap();
    hub.post(
        &two,
        "/api/v1/sales-orders",
        order("X-1", None, None, &[("MUG", 1, "100.00")], "cod"),
    )
    .await
    .expect(201);
    hub.get(&two, &format!("/api/v1/sales-orders/{a_id}"))
        .await
        .expect_problem(404, "not_found");
    hub.post(
        &two,
        &format!("/api/v1/sales-orders/{a_id}/cancel"),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    let listed = hub.get(&two, "/api/v1/sales-orders").await;
    assert_eq!(
        listed.expect(200)["sales_orders"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        hub.admin_get(&format!("/admin/v1/sales-orders/{a_id}"))
            .await
            .expect(200)["status"],
        "pending"
    );
}

both_backends!(one_user_one_location_model, super::one_user_one_location);
both_backends!(
    two_users_two_locations_model,
    super::two_users_two_locations
);
both_backends!(two_users_one_location_model, super::two_users_one_location);
both_backends!(store_isolation, super::stores_are_isolated);

/// A location group sums availability over its members in the key's scope;
/// an order with no contact at all is booked to the store's walk-in customer.
async fn groups_and_walk_in_customers(hub: TestHub) {
    hub.load_catalogue().await;
    hub.admin_post(
        "/admin/v1/location-groups",
        json!({"code": "WEST", "name": "West", "locations": ["MUM", "BLR"]}),
    )
    .await
    .expect(201);
    hub.admin_post(
        "/admin/v1/location-groups",
        json!({"code": "BAD", "name": "x", "locations": ["NOWHERE"]}),
    )
    .await
    .expect_problem(422, "unknown_location");
    let groups = hub.admin_get("/admin/v1/location-groups").await;
    assert_eq!(
        groups.expect(200),
        &json!([{"code": "WEST", "name": "West", "locations": ["MUM", "BLR"]}])
    );
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    let both = hub.api_key("WEB", &["BLR", "MUM"]).await;
    let mug = hub
        .item_row(&both, "/api/v1/items?location_group=WEST", "MUG")
        .await;
    assert_eq!(mug["available"], "15");
    let blr_only = hub.api_key("WEB", &["BLR"]).await;
    let items = hub
        .get(&blr_only, "/api/v1/items?location_group=WEST")
        .await;
    let mug = items.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference_code"] == "MUG")
        .unwrap()
        .clone();
    assert_eq!(
        mug["available"], "10",
        "only the members in the key's scope count"
    );
    hub.get(&both, "/api/v1/items?location_group=NOPE")
        .await
        .expect_problem(404, "not_found");
    hub.get(&both, "/api/v1/items?location_group=WEST&location=BLR")
        .await
        .expect_problem(400, "invalid_query");

    let mut anonymous = order("ANON-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod");
    anonymous.as_object_mut().unwrap().remove("customer");
    let a = hub.post(&both, "/api/v1/sales-orders", anonymous).await;
    assert_eq!(a.expect(201)["customer"]["name"], "Walk-in customer (WEB)");
    // E-mail only: found again by e-mail.
    let e1 = hub
        .post(
            &both,
            "/api/v1/sales-orders",
            order("MAIL-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    let e2 = hub
        .post(
            &both,
            "/api/v1/sales-orders",
            order("MAIL-2", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    assert_eq!(
        e1.expect(201)["customer"]["id"],
        e2.expect(201)["customer"]["id"]
    );
    assert_eq!(e1.body["customer"]["email"], "customer@example.com");
}

both_backends!(
    location_groups_and_walk_in,
    super::groups_and_walk_in_customers
);

async fn switch(hub: &TestHub, enabled: bool) -> poshub_tests::Answer {
    let body = json!({"enabled": enabled});
    hub.call(
        poshub_tests::reqwest::Method::PATCH,
        "/admin/v1/stores/WEB",
        Some(poshub_tests::ADMIN_TOKEN),
        Some(&body),
        &[],
    )
    .await
}

/// A store the merchant switches off accepts nothing (keys, webhooks, the
/// legacy dialect) until it is switched on again.
async fn a_switched_off_store_accepts_nothing(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_connector_store(
        "WEB",
        "canonical",
        "s3cret",
        json!({"api_dialect": "gofrugal"}),
    )
    .await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    assert_eq!(switch(&hub, false).await.expect(200)["enabled"], false);
    hub.get(&key, "/api/v1/items")
        .await
        .expect_problem(403, "store_disabled");
    let body =
        serde_json::to_vec(&order("W-1", None, None, &[("MUG", 1, "100.00")], "cod")).unwrap();
    hub.webhook("WEB", "orders/create", &body, Some("s3cret"), &[])
        .await
        .expect_problem(403, "store_disabled");
    let compat = hub
        .call(
            poshub_tests::reqwest::Method::GET,
            "/compat/WEB/salesOrders",
            None,
            None,
            &[("X-Auth-Token", &key)],
        )
        .await;
    assert_eq!(compat.status.as_u16(), 403, "{}", compat.text);
    assert_eq!(hub.events("WEB").await[0]["outcome"], "rejected");
    assert_eq!(hub.available("MUG", "BLR").await, "10");

    assert_eq!(switch(&hub, true).await.expect(200)["enabled"], true);
    hub.get(&key, "/api/v1/items").await.expect(200);
    let hook = hub
        .webhook("WEB", "orders/create", &body, Some("s3cret"), &[])
        .await;
    assert_eq!(hook.expect(200)["results"][0]["result"], "accepted");
    assert_eq!(hub.available("MUG", "BLR").await, "9");
}

both_backends!(
    switched_off_store,
    super::a_switched_off_store_accepts_nothing
);
