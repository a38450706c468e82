//! Commerce rules end to end: location-group sourcing, price lists, payment
//! policy and channel buffers, through the real hub.

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use poshub_tests::reqwest::Method;
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, order, Answer, FakeStorefront, TestHub, ADMIN_TOKEN};

async fn patch_store(hub: &TestHub, code: &str, body: Value) -> Answer {
    hub.call(
        Method::PATCH,
        &format!("/admin/v1/stores/{code}"),
        Some(ADMIN_TOKEN),
        Some(&body),
        &[],
    )
    .await
}

/// RFC 3339 for now plus `secs` (negative: in the past).
fn at(secs: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn errors_of(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_string(),
                        e["code"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn admin_delete(hub: &TestHub, path: &str) -> Answer {
    hub.call(Method::DELETE, path, Some(ADMIN_TOKEN), None, &[])
        .await
}

/// Available stock of a variant at each location, as (location, available).
async fn levels(hub: &TestHub, code: &str) -> Vec<(String, String)> {
    hub.admin_get(&format!("/admin/v1/stock/{code}"))
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().to_string(),
                l["available"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn a_group_store_sources_and_splits_orders(hub: TestHub) {
    hub.load_catalogue().await;
    // The member order is the priority: Mumbai first.
    let g = hub
        .admin_post(
            "/admin/v1/location-groups",
            json!({"code": "WEST", "name": "West", "locations": ["MUM", "BLR"]}),
        )
        .await;
    assert_eq!(g.expect(201)["locations"], json!(["MUM", "BLR"]));
    let groups = hub.admin_get("/admin/v1/location-groups").await;
    assert_eq!(groups.expect(200)[0]["locations"], json!(["MUM", "BLR"]));

    // A store that sells from the group takes its locations from it.
    let store = hub
        .admin_post(
            "/admin/v1/stores",
            json!({"code": "GRP", "name": "Group store", "sell_from_group": "WEST"}),
        )
        .await;
    let store = store.expect(201);
    assert_eq!(store["locations"], json!(["BLR", "MUM"]));
    assert_eq!(store["sell_from_group"], "WEST");
    assert_eq!(store["sourcing"], "priority");
    assert_eq!(
        store["payment_policy"],
        json!({"cod_limit": null, "allow_partial_prepayment": true})
    );
    assert_eq!(store["stock_buffer"], Value::Null);
    assert_eq!(store["enforce_prices"], false);
    let key = hub.api_key("GRP", &["BLR", "MUM"]).await;

    // The group answers the sum over its members.
    let row = hub
        .item_row(&key, "/api/v1/items?location_group=WEST", "TOY-Red-S")
        .await;
    assert_eq!(row["available"], "15");
    assert_eq!(
        row["locations"],
        json!([{"location": "BLR", "available": "10"}, {"location": "MUM", "available": "5"}])
    );

    // 12 is more than either member has: Mumbai's 5 first, then 7 from Bengaluru.
    let o = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("G-1", None, None, &[("TOY-Red-S", 12, "250.00")], "prepaid"),
        )
        .await;
    let o = o.expect(201).clone();
    assert_eq!(o["location_group"], "WEST");
    assert_eq!(o["location"], "BLR", "booked where most units come from");
    assert_eq!(
        o["lines"][0]["allocations"],
        json!([{"location": "BLR", "quantity": "7"}, {"location": "MUM", "quantity": "5"}])
    );
    assert_eq!(
        levels(&hub, "TOY-Red-S").await,
        [("BLR".into(), "3".into()), ("MUM".into(), "0".into())]
    );
    // The store's reading of the order shows the same.
    let read = hub
        .get(&key, &format!("/api/v1/sales-orders/{}", o["id"]))
        .await;
    assert_eq!(
        read.expect(200)["lines"][0]["allocations"],
        o["lines"][0]["allocations"]
    );

    // Not enough over the whole group: 409 with what the group has, nothing written.
    let short = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order(
                "G-2",
                None,
                None,
                &[("TOY-Red-S", 4, "250.00"), ("MUG", 1, "100.00")],
                "prepaid",
            ),
        )
        .await;
    let body = short.expect_problem(409, "insufficient_stock");
    assert_eq!(
        body["lines"],
        json!([{"line": 0, "reference_code": "TOY-Red-S", "requested": "4", "available": "3"}])
    );
    assert_eq!(levels(&hub, "MUG").await[0].1, "10");

    // Naming the group's code is the same as naming no location.
    let o2 = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order(
                "G-3",
                Some("WEST"),
                None,
                &[("TOY-Red-S", 2, "250.00")],
                "cod",
            ),
        )
        .await;
    assert_eq!(
        o2.expect(201)["lines"][0]["allocations"],
        json!([{"location": "BLR", "quantity": "2"}])
    );
    // Naming a member takes only from it.
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order(
            "G-4",
            Some("MUM"),
            None,
            &[("TOY-Red-S", 1, "250.00")],
            "cod",
        ),
    )
    .await
    .expect_problem(409, "insufficient_stock");

    // Most stock first: MUG has 10 at Bengaluru and 5 at Mumbai.
    let p = patch_store(&hub, "GRP", json!({"sourcing": "most_stock"})).await;
    assert_eq!(p.expect(200)["sourcing"], "most_stock");
    let o3 = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order(
                "G-5",
                None,
                None,
                &[("MUG", 7, "100.00"), ("MUG", 4, "100.00")],
                "prepaid",
            ),
        )
        .await;
    let o3 = o3.expect(201).clone();
    assert_eq!(
        o3["lines"][0]["allocations"],
        json!([{"location": "BLR", "quantity": "7"}])
    );
    // Then Mumbai (5) has more than Bengaluru (3).
    assert_eq!(
        o3["lines"][1]["allocations"],
        json!([{"location": "MUM", "quantity": "4"}])
    );

    // Billing and cancelling move the stock where it is held.
    let id = o["id"].as_i64().unwrap();
    let bill = hub
        .admin_post(
            &format!("/admin/v1/sales-orders/{id}/bill"),
            json!({"payment_type": "prepaid"}),
        )
        .await;
    assert_eq!(bill.expect(201)["bill_no"], "BLR-000001");
    let on_hand: Vec<String> = hub
        .admin_get("/admin/v1/stock/TOY-Red-S")
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["on_hand"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(on_hand, ["3", "0"]);
    hub.admin_post(&format!("/admin/v1/sales-orders/{id}/cancel"), json!({}))
        .await
        .expect(200);
    let id3 = o3["id"].as_i64().unwrap();
    hub.post(
        &key,
        &format!("/api/v1/sales-orders/{id3}/cancel"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(
        levels(&hub, "TOY-Red-S").await,
        [("BLR".into(), "8".into()), ("MUM".into(), "5".into())]
    );
    assert_eq!(
        levels(&hub, "MUG").await,
        [("BLR".into(), "10".into()), ("MUM".into(), "5".into())]
    );
    hub.assert_ledger_balances().await;
}

async fn group_settings_are_checked(hub: TestHub) {
    hub.load_catalogue().await;
    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "DEL", "name": "Delhi"}),
    )
    .await
    .expect(201);
    hub.admin_post(
        "/admin/v1/location-groups",
        json!({"code": "NORTH", "name": "North", "locations": ["DEL", "BLR"]}),
    )
    .await
    .expect(201);
    // The store's locations must cover the group.
    let r = hub
        .admin_post(
            "/admin/v1/stores",
            json!({"code": "X", "name": "X", "locations": ["BLR"], "sell_from_group": "NORTH"}),
        )
        .await;
    assert!(r.expect_problem(422, "group_not_in_store")["detail"]
        .as_str()
        .unwrap()
        .contains("DEL"));
    let r = hub
        .admin_post(
            "/admin/v1/stores",
            json!({"code": "X", "name": "X", "sell_from_group": "NOPE"}),
        )
        .await;
    r.expect_problem(422, "unknown_location_group");
    hub.admin_post("/admin/v1/stores", json!({"code": "X", "name": "X"}))
        .await
        .expect_problem(422, "required");
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    patch_store(&hub, "WEB", json!({"sell_from_group": "NORTH"}))
        .await
        .expect_problem(422, "group_not_in_store");
    patch_store(&hub, "NOPE", json!({"name": "x"}))
        .await
        .expect_problem(404, "not_found");
    let r = patch_store(&hub, "WEB", json!({"name": " ", "payment_types": []})).await;
    assert_eq!(
        errors_of(r.expect_problem(422, "validation_failed")),
        [
            ("name".to_string(), "required".to_string()),
            ("payment_types".to_string(), "required".to_string())
        ]
    );
    let r = patch_store(&hub, "WEB", json!({"stock_buffer": {"units": 2}})).await;
    assert_eq!(
        errors_of(r.expect_problem(422, "invalid_body")),
        [(
            "stock_buffer.units".to_string(),
            "invalid_value".to_string()
        )]
    );
    // Nothing changed; then a change of name and payment types only.
    let r = patch_store(
        &hub,
        "WEB",
        json!({"name": "Web shop", "payment_types": ["prepaid"]}),
    )
    .await;
    let store = r.expect(200);
    assert_eq!(store["name"], "Web shop");
    assert_eq!(store["payment_types"], json!(["prepaid"]));
    assert_eq!(store["locations"], json!(["BLR", "MUM"]));
    assert_eq!(store["stock_buffer"], Value::Null);
    // A key acting for none of the group's locations cannot source from it.
    hub.admin_post(
        "/admin/v1/location-groups",
        json!({"code": "ONE", "name": "One", "locations": ["MUM"]}),
    )
    .await
    .expect(201);
    patch_store(
        &hub,
        "WEB",
        json!({"sell_from_group": "ONE", "payment_types": ["prepaid", "cod"]}),
    )
    .await
    .expect(200);
    let blr = hub.api_key("WEB", &["BLR"]).await;
    hub.post(
        &blr,
        "/api/v1/sales-orders",
        order("N-1", None, None, &[("MUG", 1, "100.00")], "cod"),
    )
    .await
    .expect_problem(403, "location_out_of_scope");
    // ... but may still name its own location.
    let o = hub
        .post(
            &blr,
            "/api/v1/sales-orders",
            order("N-2", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod"),
        )
        .await;
    assert_eq!(o.expect(201)["location"], "BLR");
    assert!(o.body.get("location_group").is_none());
    // Clearing the group brings back the old rule.
    let r = patch_store(&hub, "WEB", json!({"sell_from_group": null})).await;
    assert_eq!(r.expect(200)["sell_from_group"], Value::Null);
    hub.assert_ledger_balances().await;
}

async fn price_lists_set_the_price_in_force(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    let key = hub.api_key("WEB", &["BLR", "MUM"]).await;
    let mug = hub.item_row(&key, "/api/v1/items", "MUG").await;
    assert_eq!(
        (&mug["price"], &mug["price_source"]),
        (&json!("100.00"), &json!("last_inward"))
    );

    // A list in force, an expired one and a future one.
    let diwali = hub
        .admin_post(
            "/admin/v1/stores/WEB/price-lists",
            json!({"code": "DIWALI", "name": "Diwali", "valid_from": at(-3600), "valid_to": at(86400),
                   "prices": [{"reference_code": "MUG", "price": "89.00"}]}),
        )
        .await;
    let diwali = diwali.expect(201);
    assert_eq!(diwali["in_force"], true);
    assert_eq!(diwali["store"], "WEB");
    assert_eq!(diwali["location"], Value::Null);
    assert_eq!(
        diwali["prices"],
        json!([{"reference_code": "MUG", "price": "89.00"}])
    );
    let old = hub
        .admin_post(
            "/admin/v1/stores/WEB/price-lists",
            json!({"code": "OLD", "name": "Last month", "valid_from": at(-864000), "valid_to": at(-86400),
                   "prices": [{"reference_code": "MUG", "price": "50.00"}, {"reference_code": "TOY-Red-S", "price": "10.00"}]}),
        )
        .await;
    assert_eq!(old.expect(201)["in_force"], false);
    hub.admin_post(
        "/admin/v1/stores/WEB/price-lists",
        json!({"code": "NEXT", "name": "Next month", "valid_from": at(864000),
               "prices": [{"reference_code": "MUG", "price": "60.00"}]}),
    )
    .await
    .expect(201);
    let mug = hub.item_row(&key, "/api/v1/items", "MUG").await;
    assert_eq!(mug["price"], "89.00");
    assert_eq!(mug["price_source"], "price_list:DIWALI");
    let toy = hub.item_row(&key, "/api/v1/items", "TOY-Red-S").await;
    assert_eq!(
        (&toy["price"], &toy["price_source"]),
        (&json!("250.00"), &json!("last_inward")),
        "the expired list does not apply"
    );

    // A location's list beats the store-wide one, at that location only.
    hub.admin_post(
        "/admin/v1/stores/WEB/price-lists",
        json!({"code": "BLR-DEAL", "name": "Bengaluru deal", "location": "BLR",
               "prices": [{"reference_code": "MUG", "price": "79.00"}]}),
    )
    .await
    .expect(201);
    let blr = hub
        .item_row(&key, "/api/v1/items?location=BLR", "MUG")
        .await;
    assert_eq!(
        (&blr["price"], &blr["price_source"]),
        (&json!("79.00"), &json!("price_list:BLR-DEAL"))
    );
    let mum = hub
        .item_row(&key, "/api/v1/items?location=MUM", "MUG")
        .await;
    assert_eq!(mum["price_source"], "price_list:DIWALI");
    // Another store does not see WEB's lists.
    hub.create_store("APP", &["BLR"], false).await;
    let app = hub.api_key("APP", &["BLR"]).await;
    let other = hub.item_row(&app, "/api/v1/items", "MUG").await;
    assert_eq!(other["price_source"], "last_inward");

    // Enforced prices: the order's lines and total must follow the list.
    let p = patch_store(&hub, "WEB", json!({"enforce_prices": true})).await;
    assert_eq!(p.expect(200)["enforce_prices"], true);
    let wrong = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("P-1", Some("MUM"), None, &[("MUG", 2, "100.00")], "prepaid"),
        )
        .await;
    let body = wrong.expect(422);
    let errors = errors_of(body);
    assert!(
        errors.contains(&("lines[0].unit_price".into(), "price_mismatch".into())),
        "{errors:?}"
    );
    // The total is checked against the list's prices (2 x 89.00), not the line's.
    assert!(
        errors.contains(&("total".into(), "total_mismatch".into())),
        "{errors:?}"
    );
    let detail = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "price_mismatch")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("89.00 (price_list:DIWALI)"), "{detail}");
    let right = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("P-2", Some("MUM"), None, &[("MUG", 2, "89.00")], "prepaid"),
        )
        .await;
    let right = right.expect(201);
    assert_eq!(right["total"], "178.00");
    assert_eq!(right["lines"][0]["unit_price"], "89.00");
    // At Bengaluru the location's list is the price.
    let r = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("P-3", Some("BLR"), None, &[("MUG", 1, "89.00")], "prepaid"),
        )
        .await;
    let body = r.expect_problem(422, "validation_failed");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("lines add up to 79.00; lines[0].unit_price: MUG costs 79.00 (price_list:BLR-DEAL), not 89.00"));
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("P-4", Some("BLR"), None, &[("MUG", 1, "79.00")], "prepaid"),
    )
    .await
    .expect(201);

    // Deleting the list brings back the last-inward price; the expired one stays out.
    admin_delete(&hub, "/admin/v1/stores/WEB/price-lists/DIWALI")
        .await
        .expect(204);
    let mug = hub
        .item_row(&key, "/api/v1/items?location=MUM", "MUG")
        .await;
    assert_eq!(
        (&mug["price"], &mug["price_source"]),
        (&json!("100.00"), &json!("last_inward"))
    );
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("P-5", Some("MUM"), None, &[("MUG", 1, "100.00")], "prepaid"),
    )
    .await
    .expect(201);
    let lists = hub.admin_get("/admin/v1/stores/WEB/price-lists").await;
    let lists: Vec<(String, bool)> = lists
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().into(),
                l["in_force"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lists,
        [
            ("OLD".into(), false),
            ("BLR-DEAL".into(), true),
            ("NEXT".into(), false)
        ]
    );
    // A retired code can be used again.
    hub.admin_post(
        "/admin/v1/stores/WEB/price-lists",
        json!({"code": "DIWALI", "name": "Diwali again", "prices": [{"reference_code": "MUG", "price": "95.00"}]}),
    )
    .await
    .expect(201);

    // Bad lists are refused whole.
    let r = hub
        .admin_post(
            "/admin/v1/stores/WEB/price-lists",
            json!({"code": "BAD", "name": "Bad", "prices": [{"reference_code": "MUG", "price": "1.00"}, {"reference_code": "NOPE", "price": "1.00"}]}),
        )
        .await;
    assert_eq!(
        errors_of(r.expect_problem(422, "unknown_reference_code")),
        [(
            "prices[1].reference_code".to_string(),
            "unknown_reference_code".to_string()
        )]
    );
    hub.admin_post(
        "/admin/v1/stores/WEB/price-lists",
        json!({"code": "DIWALI", "name": "Twice", "prices": [{"reference_code": "MUG", "price": "1.00"}]}),
    )
    .await
    .expect_problem(409, "duplicate_price_list");
    hub.admin_post(
        "/admin/v1/stores/APP/price-lists",
        json!({"code": "M", "name": "Mumbai", "location": "MUM", "prices": [{"reference_code": "MUG", "price": "1.00"}]}),
    )
    .await
    .expect_problem(422, "location_not_in_store");
    hub.admin_post(
        "/admin/v1/stores/WEB/price-lists",
        json!({"code": "W", "name": "Backwards", "valid_from": at(100), "valid_to": at(10),
               "prices": [{"reference_code": "MUG", "price": "1.00"}]}),
    )
    .await
    .expect_problem(422, "invalid_validity");
    let r = hub
        .admin_post(
            "/admin/v1/stores/WEB/price-lists",
            json!({"code": "F", "name": "Float", "prices": [{"reference_code": "MUG", "price": 1.5}]}),
        )
        .await;
    assert_eq!(
        errors_of(r.expect_problem(422, "invalid_body")),
        [("prices[0].price".to_string(), "invalid_value".to_string())]
    );
    admin_delete(&hub, "/admin/v1/stores/WEB/price-lists/NOPE")
        .await
        .expect_problem(404, "not_found");
    let lists = hub.admin_get("/admin/v1/stores/WEB/price-lists").await;
    assert_eq!(lists.expect(200).as_array().unwrap().len(), 4);
    hub.assert_ledger_balances().await;
}

fn price_of(r: &poshub_tests::Received, code: &str) -> Option<String> {
    (r.path == "/poshub/prices" && r.body["reference_code"] == code && r.answered == 200)
        .then(|| r.body["price"].as_str().unwrap_or_default().to_string())
}

fn stock_of(r: &poshub_tests::Received, code: &str) -> Option<String> {
    (r.path == "/poshub/stock-levels" && r.body["reference_code"] == code && r.answered == 200)
        .then(|| r.body["available"].as_str().unwrap_or_default().to_string())
}

/// Waits for a push that `pick` reads as `value`, after the first `skip` requests.
async fn expect_push(
    fake: &FakeStorefront,
    skip: usize,
    within: Duration,
    value: &str,
    pick: impl Fn(&poshub_tests::Received) -> Option<String>,
) {
    let deadline = Instant::now() + within;
    loop {
        if fake.received()[skip.min(fake.received().len())..]
            .iter()
            .any(|r| pick(r).as_deref() == Some(value))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no push of {value}; got {:?}",
            fake.received()
                .iter()
                .map(|r| (&r.path, &r.body))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn price_pushes_follow_the_lists(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    hub.load_catalogue().await;
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    hub.map("SHOP", &[("MUG", "gid-mug")]).await.expect(200);
    expect_push(&fake, 0, Duration::from_secs(3), "100.00", |r| {
        price_of(r, "MUG")
    })
    .await;
    hub.wait_all_sent("SHOP").await;

    // A list ending in two seconds: pushed now, and taken back by
    // reconciliation once it has expired.
    let before = fake.received().len();
    hub.admin_post(
        "/admin/v1/stores/SHOP/price-lists",
        json!({"code": "FLASH", "name": "Flash sale", "valid_to": at(2),
               "prices": [{"reference_code": "MUG", "price": "89.00"}]}),
    )
    .await
    .expect(201);
    expect_push(&fake, before, Duration::from_secs(2), "89.00", |r| {
        price_of(r, "MUG")
    })
    .await;
    let log = hub.wait_all_sent("SHOP").await;
    let price = log.iter().find(|e| e["kind"] == "price").unwrap();
    assert_eq!(price["sent_value"], "89");
    assert_eq!(price["source"], "price_list:FLASH");
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(
        r.expect(200)["requeued"],
        0,
        "in step while the list is in force"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = fake.received().len();
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(r.expect(200)["requeued"], 1, "the expired price");
    expect_push(&fake, before, Duration::from_secs(2), "100.00", |r| {
        price_of(r, "MUG")
    })
    .await;
    let log = hub.wait_all_sent("SHOP").await;
    let price = log.iter().find(|e| e["kind"] == "price").unwrap();
    assert_eq!(price["source"], "last_inward");

    // Deleting a list in force pushes the price it no longer sets.
    hub.admin_post(
        "/admin/v1/stores/SHOP/price-lists",
        json!({"code": "WEEK", "name": "This week", "prices": [{"reference_code": "MUG", "price": "92.50"}]}),
    )
    .await
    .expect(201);
    expect_push(&fake, before, Duration::from_secs(2), "92.50", |r| {
        price_of(r, "MUG")
    })
    .await;
    let before = fake.received().len();
    admin_delete(&hub, "/admin/v1/stores/SHOP/price-lists/WEEK")
        .await
        .expect(204);
    expect_push(&fake, before, Duration::from_secs(2), "100.00", |r| {
        price_of(r, "MUG")
    })
    .await;
    hub.wait_all_sent("SHOP").await;
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(r.expect(200)["requeued"], 0);
}

async fn payment_policy_is_enforced(hub: TestHub) {
    hub.load_catalogue().await;
    let store = hub
        .admin_post(
            "/admin/v1/stores",
            json!({"code": "WEB", "name": "Web", "locations": ["BLR"], "payment_types": ["prepaid", "cod"],
                   "payment_policy": {"cod_limit": "500.00", "allow_partial_prepayment": false}}),
        )
        .await;
    assert_eq!(
        store.expect(201)["payment_policy"],
        json!({"cod_limit": "500.00", "allow_partial_prepayment": false})
    );
    let key = hub.api_key("WEB", &["BLR"]).await;

    // Pay on delivery above the cap.
    let r = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("C-1", None, None, &[("MUG", 6, "100.00")], "cod"),
        )
        .await;
    let body = r.expect_problem(422, "cod_over_limit");
    assert_eq!(
        errors_of(body),
        [("payments[0].type".to_string(), "cod_over_limit".to_string())]
    );
    assert!(body["detail"].as_str().unwrap().contains("500.00"));
    // Up to the cap is fine.
    let cod = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("C-2", None, None, &[("MUG", 5, "100.00")], "cod"),
        )
        .await;
    let cod_id = cod.expect(201)["id"].as_i64().unwrap();
    // Part prepaid, part on delivery.
    let mut mixed = order("C-3", None, None, &[("MUG", 2, "100.00")], "prepaid");
    mixed["payments"] =
        json!([{"type": "prepaid", "amount": "50.00"}, {"type": "cod", "amount": "150.00"}]);
    let r = hub.post(&key, "/api/v1/sales-orders", mixed.clone()).await;
    assert_eq!(
        errors_of(r.expect_problem(422, "partial_prepayment_not_allowed")),
        [(
            "payments".to_string(),
            "partial_prepayment_not_allowed".to_string()
        )]
    );
    // A type the store does not take.
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("C-4", None, None, &[("MUG", 1, "100.00")], "upi"),
    )
    .await
    .expect_problem(422, "payment_type_not_allowed");
    // Every rule broken at once is reported at once.
    let mut all = order("C-5", None, None, &[("MUG", 6, "100.00")], "prepaid");
    all["payments"] =
        json!([{"type": "upi", "amount": "100.00"}, {"type": "cod", "amount": "500.00"}]);
    let r = hub.post(&key, "/api/v1/sales-orders", all).await;
    let codes: Vec<String> = errors_of(r.expect_problem(422, "validation_failed"))
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(
        codes,
        [
            "payment_type_not_allowed",
            "cod_over_limit",
            "partial_prepayment_not_allowed"
        ]
    );
    // Refusals wrote nothing: only C-2 holds stock.
    assert_eq!(hub.available("MUG", "BLR").await, "5");
    let orders = hub.admin_get("/admin/v1/sales-orders?store=WEB").await;
    assert_eq!(
        orders.expect(200)["sales_orders"].as_array().unwrap().len(),
        1
    );

    // The bill must use an allowed type, and a cod bill stays under the cap.
    let pre = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("C-6", None, None, &[("TOY-Red-S", 3, "250.00")], "prepaid"),
        )
        .await;
    let pre_id = pre.expect(201)["id"].as_i64().unwrap();
    let bill = |id: i64, t: &'static str| {
        let hub = &hub;
        async move {
            hub.admin_post(
                &format!("/admin/v1/sales-orders/{id}/bill"),
                json!({"payment_type": t}),
            )
            .await
        }
    };
    let r = bill(pre_id, "cod").await;
    assert_eq!(
        errors_of(r.expect_problem(422, "cod_over_limit")),
        [("payment_type".to_string(), "cod_over_limit".to_string())]
    );
    bill(pre_id, "upi")
        .await
        .expect_problem(422, "payment_type_not_allowed");
    bill(pre_id, "prepaid").await.expect(201);
    bill(cod_id, "cod").await.expect(201);

    // Raising the cap and allowing part payments (the policy is replaced whole).
    let p = patch_store(
        &hub,
        "WEB",
        json!({"payment_policy": {"cod_limit": "1000.00"}}),
    )
    .await;
    assert_eq!(
        p.expect(200)["payment_policy"],
        json!({"cod_limit": "1000.00", "allow_partial_prepayment": true})
    );
    hub.post(&key, "/api/v1/sales-orders", mixed)
        .await
        .expect(201);
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("C-7", None, None, &[("TOY-Red-M", 4, "250.00")], "cod"),
    )
    .await
    .expect(201);
    hub.assert_ledger_balances().await;
}

async fn a_buffer_protects_the_shop_floor(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    hub.load_catalogue().await;
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    hub.map("SHOP", &[("MUG", "gid-mug"), ("TOY-Red-S", "gid-red-s")])
        .await
        .expect(200);
    let key = hub.api_key("SHOP", &["BLR"]).await;
    expect_push(&fake, 0, Duration::from_secs(3), "10", |r| {
        stock_of(r, "MUG")
    })
    .await;
    hub.wait_all_sent("SHOP").await;

    // Two units held back: the store is shown and pushed 8 of 10.
    let before = fake.received().len();
    let p = patch_store(&hub, "SHOP", json!({"stock_buffer": {"units": "2"}})).await;
    assert_eq!(p.expect(200)["stock_buffer"], json!({"units": "2"}));
    expect_push(&fake, before, Duration::from_secs(2), "8", |r| {
        stock_of(r, "MUG")
    })
    .await;
    expect_push(&fake, before, Duration::from_secs(2), "8", |r| {
        stock_of(r, "TOY-Red-S")
    })
    .await;
    let mug = hub.item_row(&key, "/api/v1/items", "MUG").await;
    assert_eq!(mug["available"], "8");
    assert_eq!(
        mug["locations"],
        json!([{"location": "BLR", "available": "8"}])
    );
    let log = hub.wait_all_sent("SHOP").await;
    let stock = log
        .iter()
        .find(|e| e["kind"] == "stock" && e["subject"] == "MUG@BLR")
        .unwrap();
    assert_eq!(stock["sent_value"], "8");
    assert_eq!(stock["source"], "stock_buffer (available 10)");
    // Other stores still see everything.
    hub.create_store("WEB", &["BLR"], false).await;
    let web = hub.api_key("WEB", &["BLR"]).await;
    assert_eq!(
        hub.item_row(&web, "/api/v1/items", "MUG").await["available"],
        "10"
    );

    // The store may not reserve the held-back units.
    let r = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("B-1", None, None, &[("MUG", 9, "100.00")], "prepaid"),
        )
        .await;
    assert_eq!(
        r.expect_problem(409, "insufficient_stock")["lines"][0]["available"],
        "8"
    );
    let before = fake.received().len();
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("B-2", None, None, &[("MUG", 7, "100.00")], "prepaid"),
    )
    .await
    .expect(201);
    // 3 left on the floor, shown as 1.
    expect_push(&fake, before, Duration::from_secs(2), "1", |r| {
        stock_of(r, "MUG")
    })
    .await;
    assert_eq!(hub.available("MUG", "BLR").await, "3");
    assert_eq!(
        hub.item_row(&key, "/api/v1/items", "MUG").await["available"],
        "1"
    );
    // The floor still sells its units: shown 0, never below.
    let before = fake.received().len();
    hub.post(
        &web,
        "/api/v1/sales-orders",
        order("W-1", None, None, &[("MUG", 2, "100.00")], "prepaid"),
    )
    .await
    .expect(201);
    expect_push(&fake, before, Duration::from_secs(2), "0", |r| {
        stock_of(r, "MUG")
    })
    .await;
    assert_eq!(
        hub.item_row(&key, "/api/v1/items", "MUG").await["available"],
        "0"
    );

    // A share and a cap: 1 unit + 10% (rounded up) held back, at most 30 shown.
    let before = fake.received().len();
    patch_store(
        &hub,
        "SHOP",
        json!({"stock_buffer": {"units": "1", "percent": "10", "max": "30"}}),
    )
    .await
    .expect(200);
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "24"}]}),
    )
    .await
    .expect(200);
    // 25 available: 25 - 1 - ceil(2.5) = 21.
    expect_push(&fake, before, Duration::from_secs(2), "21", |r| {
        stock_of(r, "MUG")
    })
    .await;
    assert_eq!(
        hub.item_row(&key, "/api/v1/items", "MUG").await["available"],
        "21"
    );
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "75"}]}),
    )
    .await
    .expect(200);
    // 100 available: 100 - 1 - 10 = 89, capped at 30.
    expect_push(&fake, before, Duration::from_secs(2), "30", |r| {
        stock_of(r, "MUG")
    })
    .await;
    assert_eq!(
        hub.item_row(&key, "/api/v1/items", "MUG").await["available"],
        "30"
    );
    hub.wait_all_sent("SHOP").await;
    let r = hub
        .admin_post("/admin/v1/stores/SHOP/reconcile", json!({}))
        .await;
    assert_eq!(
        r.expect(200)["requeued"],
        0,
        "pushes and reconciliation agree"
    );

    // Removing the buffer publishes everything again.
    let before = fake.received().len();
    let p = patch_store(&hub, "SHOP", json!({"stock_buffer": null})).await;
    assert_eq!(p.expect(200)["stock_buffer"], Value::Null);
    expect_push(&fake, before, Duration::from_secs(2), "100", |r| {
        stock_of(r, "MUG")
    })
    .await;
    hub.assert_ledger_balances().await;
}

async fn concurrent_group_orders_never_oversell(hub: TestHub) {
    hub.load_catalogue().await;
    hub.admin_post(
        "/admin/v1/location-groups",
        json!({"code": "ALL", "name": "All", "locations": ["BLR", "MUM"]}),
    )
    .await
    .expect(201);
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "GRP", "name": "Group", "sell_from_group": "ALL", "sourcing": "most_stock"}),
    )
    .await
    .expect(201);
    let key = hub.api_key("GRP", &["BLR", "MUM"]).await;
    let hub = std::sync::Arc::new(hub);
    // 16 orders of 2 + 2 units, the two variants in either order: 15 of each
    // in the group serve 7 of them.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let lines = if i % 2 == 0 {
                [("TOY-Red-S", 2, "250.00"), ("MUG", 2, "100.00")]
            } else {
                [("MUG", 2, "100.00"), ("TOY-Red-S", 2, "250.00")]
            };
            let r = hub
                .post(
                    &key,
                    "/api/v1/sales-orders",
                    order(&format!("CC-{i}"), None, None, &lines, "prepaid"),
                )
                .await;
            r.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        9,
        "{statuses:?}"
    );
    for code in ["TOY-Red-S", "MUG"] {
        let left: u32 = levels(&hub, code)
            .await
            .iter()
            .map(|(_, a)| a.parse::<u32>().unwrap())
            .sum();
        assert_eq!(left, 1, "{code}");
    }
    hub.assert_ledger_balances().await;
}

both_backends!(
    concurrent_group_orders,
    super::concurrent_group_orders_never_oversell
);
both_backends!(
    group_sourcing_splits_orders,
    super::a_group_store_sources_and_splits_orders
);
both_backends!(group_settings, super::group_settings_are_checked);
both_backends!(price_lists, super::price_lists_set_the_price_in_force);
both_backends!(price_pushes, super::price_pushes_follow_the_lists);
both_backends!(payment_policy, super::payment_policy_is_enforced);
both_backends!(channel_buffer, super::a_buffer_protects_the_shop_floor);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_the_commerce_calls() {
    let hub = TestHub::start(poshub_tests::Backend::Sqlite).await.unwrap();
    let doc = hub.admin_get("/api/v1/openapi.json").await;
    let doc = doc.expect(200);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/admin/v1/stores/{code}", "patch"),
        ("/admin/v1/stores/{code}/price-lists", "post"),
        ("/admin/v1/stores/{code}/price-lists", "get"),
        ("/admin/v1/stores/{code}/price-lists/{list}", "delete"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "StorePatch",
        "NewPriceList",
        "PriceList",
        "PaymentPolicy",
        "StockBuffer",
        "Sourcing",
        "LineAllocation",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
}
