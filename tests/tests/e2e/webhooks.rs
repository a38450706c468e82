//! Webhook ingress through the bundled canonical connector: signed webhooks
//! become orders through the same path as the store API; redelivery creates
//! nothing; a bad signature writes nothing.

use poshub_tests::serde_json::json;
use poshub_tests::{both_backends, order, TestHub};

const SECRET: &str = "canonical-secret";

async fn signed_webhooks_become_orders(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_connector_store("WEB", "canonical", SECRET, json!({}))
        .await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let body = order(
        "HOOK-1",
        Some("BLR"),
        Some("98765 43210"),
        &[("TOY-Red-S", 2, "250.00")],
        "cod",
    )
    .to_string();

    let first = hub
        .webhook("WEB", "orders/create", body.as_bytes(), Some(SECRET), &[])
        .await;
    let results = first.expect(200)["results"].clone();
    assert_eq!(results[0]["result"], "accepted");
    let id = results[0]["order_id"].as_i64().unwrap();
    let listed = hub.get(&key, "/api/v1/sales-orders").await;
    let orders = listed.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["id"], id);
    assert_eq!(orders[0]["online_reference_no"], "HOOK-1");
    assert_eq!(orders[0]["customer"]["phone"], "+919876543210");
    assert_eq!(
        hub.available("TOY-Red-S", "BLR").await,
        "8",
        "the webhook reserved stock"
    );

    // Redelivery: 2xx, nothing new.
    let again = hub
        .webhook("WEB", "orders/create", body.as_bytes(), Some(SECRET), &[])
        .await;
    let r = &again.expect(200)["results"][0];
    assert_eq!(
        (r["result"].as_str(), r["order_id"].as_i64()),
        (Some("duplicate"), Some(id))
    );
    assert_eq!(
        hub.get(&key, "/api/v1/sales-orders").await.body["sales_orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "8");

    // Wrong, missing or foreign signatures: 401, nothing written.
    let other = order(
        "HOOK-2",
        Some("BLR"),
        None,
        &[("TOY-Red-S", 1, "250.00")],
        "cod",
    )
    .to_string();
    hub.webhook(
        "WEB",
        "orders/create",
        other.as_bytes(),
        Some("not-the-secret"),
        &[],
    )
    .await
    .expect_problem(401, "invalid_signature");
    hub.webhook("WEB", "orders/create", other.as_bytes(), None, &[])
        .await
        .expect_problem(401, "invalid_signature");
    let tampered = hub
        .webhook(
            "WEB",
            "orders/create",
            other.as_bytes(),
            None,
            &[(
                "X-Poshub-Signature",
                &poshub_tests::sign(SECRET, body.as_bytes()),
            )],
        )
        .await;
    tampered.expect_problem(401, "invalid_signature");
    assert_eq!(
        hub.get(&key, "/api/v1/sales-orders").await.body["sales_orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "8");

    // The same validation as the store API: an unknown code is refused with the reason.
    let bad = order("HOOK-3", Some("BLR"), None, &[("NOPE", 1, "250.00")], "cod").to_string();
    let refused = hub
        .webhook("WEB", "orders/create", bad.as_bytes(), Some(SECRET), &[])
        .await;
    refused.expect_problem(422, "unknown_reference_code");
    let not_json = hub
        .webhook("WEB", "orders/create", b"{oops", Some(SECRET), &[])
        .await;
    assert!(not_json.expect_problem(422, "connector_rejected")["detail"]
        .as_str()
        .unwrap()
        .contains("canonical"));
    hub.webhook("WEB", "products/update", b"{}", Some(SECRET), &[])
        .await
        .expect_problem(404, "unknown_topic");
    hub.webhook(
        "NOSTORE",
        "orders/create",
        body.as_bytes(),
        Some(SECRET),
        &[],
    )
    .await
    .expect_problem(404, "not_found");

    // The storefront cancels the order.
    let cancel = json!({"online_reference_no": "HOOK-1", "reason": "customer called"}).to_string();
    let cancelled = hub
        .webhook(
            "WEB",
            "orders/cancelled",
            cancel.as_bytes(),
            Some(SECRET),
            &[],
        )
        .await;
    assert_eq!(cancelled.expect(200)["results"][0]["result"], "cancelled");
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "10");
    let o = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    assert_eq!(o.expect(200)["status"], "cancelled");

    // Every webhook is on record with its outcome and reason.
    let events = hub.events("WEB").await;
    let outcomes: Vec<_> = events
        .iter()
        .rev()
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        outcomes,
        [
            "accepted",
            "duplicate",
            "unauthorized",
            "unauthorized",
            "unauthorized",
            "rejected",
            "rejected",
            "rejected",
            "accepted"
        ]
    );
    assert!(
        events[3]["detail"]
            .as_str()
            .unwrap()
            .contains("unknown_reference_code"),
        "{:?}",
        events[3]
    );
    // The secret is write-only.
    let store = hub.admin_get("/admin/v1/stores/WEB").await;
    assert_eq!(store.expect(200)["config"]["webhook_secret"], "********");
    hub.assert_ledger_balances().await;
}

async fn a_store_without_a_secret_accepts_no_webhooks(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_connector_store("WEB", "canonical", "", json!({}))
        .await;
    let body = order("HOOK-1", Some("BLR"), None, &[("MUG", 1, "100.00")], "cod").to_string();
    // Even a body "signed" with the empty key is refused.
    hub.webhook("WEB", "orders/create", body.as_bytes(), Some(""), &[])
        .await
        .expect_problem(401, "webhook_secret_missing");
    assert_eq!(hub.available("MUG", "BLR").await, "10");
}

both_backends!(canonical_webhooks, super::signed_webhooks_become_orders);
both_backends!(
    webhook_secret_required,
    super::a_store_without_a_secret_accepts_no_webhooks
);
