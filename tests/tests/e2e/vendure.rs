//! The Vendure connector against real Vendure (3.7.3 from npm, the test bed
//! in `tests/vendure`, see `poshub_tests::vendure`): every step is checked
//! on both sides, in the hub's API and in Vendure's own Admin API.
//!
//! The hub holds the demo catalogue (TEE 3 x 3, MUG, NOTEBOOK; 25 of each
//! at BLR); Vendure holds the same catalogue, SKUs equal to the reference
//! codes, and sells from its default stock location, which the store maps
//! to BLR. Vendure's plugin posts its events through a relay that keeps
//! what it forwarded, for the redelivery and signature steps.

use std::time::{Duration, Instant};

use poshub_tests::serde_json::{json, Value};
use poshub_tests::vendure::{Relay, Relayed, Vendure};
use poshub_tests::{sign, Backend, TestHub};

const SECRET: &str = "vendure-webhook-secret";
const STORE: &str = "VEN";

/// Retries long enough to outlast a Vendure restart (a few seconds).
fn patient_sync() -> poshub_server::sync::SyncConfig {
    poshub_server::sync::SyncConfig {
        max_attempts: 40,
        retry_cap: Duration::from_secs(1),
        ..poshub_tests::test_sync_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vendure_sqlite() {
    if let Some(hub) = TestHub::start_with_sync(Backend::Sqlite, patient_sync()).await {
        story(hub).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vendure_postgres() {
    if let Some(hub) = TestHub::start_with_sync(Backend::Postgres, patient_sync()).await {
        story(hub).await;
    }
}

/// The hub's order for a Vendure order code, waiting (up to 20 s) for its
/// event to arrive.
async fn hub_order(hub: &TestHub, code: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = hub
            .admin_get(&format!("/admin/v1/sales-orders?store={STORE}&limit=500"))
            .await;
        if let Some(order) = page.expect(200)["sales_orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["online_reference_no"] == code)
        {
            return order.clone();
        }
        assert!(Instant::now() < deadline, "the hub has no order {code}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn hub_orders(hub: &TestHub) -> usize {
    hub.admin_get(&format!("/admin/v1/sales-orders?store={STORE}&limit=500"))
        .await
        .expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .len()
}

/// Waits (up to `within`) for the hub's available stock to be `wanted`.
async fn wait_available(hub: &TestHub, code: &str, wanted: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = hub.available(code, "BLR").await;
        if now == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{code} at BLR is {now}, not {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn hub_status(hub: &TestHub, id: i64, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let order = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
        if order.expect(200)["status"] == wanted {
            return order.body.clone();
        }
        assert!(
            Instant::now() < deadline,
            "hub order {id} is {}, not {wanted}",
            order.body["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn saleable((on_hand, allocated, _): (i64, i64, i64)) -> i64 {
    on_hand - allocated
}

/// Re-posts an event the relay forwarded, with its own headers.
async fn redeliver(hub: &TestHub, event: &Relayed, signature: &str) -> poshub_tests::Answer {
    let mut request = hub
        .client
        .post(format!("{}{}", hub.base, event.path))
        .header("content-type", "application/json")
        .header("X-Poshub-Hmac-Sha256", signature)
        .body(event.body.clone());
    if let Some(id) = event.header("x-poshub-event-id") {
        request = request.header("X-Poshub-Event-Id", id);
    }
    poshub_tests::answer(request.send().await.expect("hub answers")).await
}

async fn story(hub: TestHub) {
    poshub_server::demo::load(&*hub.storage)
        .await
        .expect("demo catalogue");
    let relay = Relay::start(&hub.base).await;
    let mut vendure = Vendure::start(&relay.base, STORE, SECRET).await;
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": STORE, "name": "Vendure shop", "connector": "vendure",
               "config": {"webhook_secret": SECRET, "base_url": vendure.base, "api_key": vendure.api_key,
                          "location_ids": {"BLR": vendure.stock_location}},
               "locations": ["BLR"], "payment_types": ["prepaid", "cod"], "prices_include_tax": true}),
    )
    .await
    .expect(201);
    // The API key is a secret: write-only in the hub's API.
    let shown = hub.admin_get(&format!("/admin/v1/stores/{STORE}")).await;
    assert_eq!(shown.expect(200)["config"]["api_key"], "********");
    let pairs: Vec<(&str, &str)> = vendure
        .variants
        .iter()
        .map(|(sku, id)| (sku.as_str(), id.as_str()))
        .collect();
    assert_eq!(pairs.len(), 11, "Vendure's catalogue: {pairs:?}");
    hub.map(STORE, &pairs).await.expect(200);
    hub.admin_post(&format!("/admin/v1/stores/{STORE}/reconcile"), json!({}))
        .await;

    // The hub's levels and prices reach Vendure (it starts with 0 on hand).
    for sku in ["TEE-Blue-M", "MUG", "NOTEBOOK"] {
        vendure
            .wait_stock(sku, Duration::from_secs(20), |s| s.0 == 25 && s.1 == 0)
            .await;
    }
    assert_eq!(vendure.variant_stock("TEE-Blue-M").await.2, 59900);

    // A customer orders through Vendure's Shop API; the plugin's signed
    // event becomes a hub order that reserves stock.
    let code = vendure
        .place_order(&[("TEE-Blue-M", 2), ("MUG", 1)], "asha@example.com")
        .await;
    let placed = relay
        .wait_for(|r| r.path.ends_with("/orders/placed") && r.body_has(&code))
        .await;
    assert!(
        (200..300).contains(&placed.status),
        "the hub took the event: {placed:?}"
    );
    let order = hub_order(&hub, &code).await;
    eprintln!("hub order: {order:#}");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["location"], "BLR");
    assert_eq!(order["currency"], "INR");
    // 2 x 599.00 + 249.00 + 50.00 shipping, tax included.
    assert_eq!(order["total"], "1497.00");
    let lines = order["lines"].as_array().unwrap();
    let line = |code: &str| {
        lines
            .iter()
            .find(|l| l["reference_code"] == code)
            .unwrap_or_else(|| panic!("no line {code}: {lines:?}"))
            .clone()
    };
    assert_eq!(line("TEE-Blue-M")["quantity"], "2");
    assert_eq!(line("TEE-Blue-M")["unit_price"], "599.00");
    assert_eq!(line("MUG")["unit_price"], "249.00");
    assert_eq!(order["customer"]["name"], "Asha Rao");
    assert_eq!(order["customer"]["phone"], "+919845012345");
    assert_eq!(order["customer"]["email"], "asha@example.com");
    let vendure_order = vendure.order(&code).await;
    assert_eq!(vendure_order["totalWithTax"], 149700);
    wait_available(&hub, "TEE-Blue-M", "23", Duration::from_secs(10)).await;
    wait_available(&hub, "MUG", "24", Duration::from_secs(10)).await;
    // Vendure shows the same: 25 on hand, 2 allocated to its order.
    let blue = vendure
        .wait_stock("TEE-Blue-M", Duration::from_secs(15), |s| saleable(s) == 23)
        .await;
    assert_eq!((blue.0, blue.1), (25, 2));

    // Stock taken in at the hub shows in Vendure within 2 s.
    let inward = Instant::now();
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "TEE-Red-S", "quantity": "10", "cost": "310.00", "price": "599.00"}]}),
    )
    .await
    .expect(200);
    vendure
        .wait_stock("TEE-Red-S", Duration::from_secs(2), |s| s.0 == 35)
        .await;
    eprintln!("inward reached Vendure in {:?}", inward.elapsed());

    // Billed and shipped in the hub: a Vendure fulfilment with the
    // carrier and tracking code, and the order Shipped.
    let id = order["id"].as_i64().unwrap();
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id}/bill"),
        json!({"payment_type": "prepaid"}),
    )
    .await
    .expect(201);
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id}/ship"),
        json!({"carrier": "Delhivery", "tracking_number": "DLV0012345"}),
    )
    .await
    .expect(200);
    let shipped = vendure.wait_order_state(&code, "Shipped").await;
    assert_eq!(shipped["fulfillments"][0]["method"], "Delhivery");
    assert_eq!(shipped["fulfillments"][0]["trackingCode"], "DLV0012345");
    // The fulfilment made Vendure's allocation a sale: 23 on hand, none
    // allocated, 23 saleable, as the hub has it.
    vendure
        .wait_stock("TEE-Blue-M", Duration::from_secs(15), |s| {
            s.0 == 23 && s.1 == 0
        })
        .await;
    assert_eq!(hub.available("TEE-Blue-M", "BLR").await, "23");

    // Cancelled in the hub: Vendure cancels its order and releases the
    // allocation; its own cancellation event changes nothing more.
    let second = vendure
        .place_order(&[("NOTEBOOK", 3)], "ravi@example.com")
        .await;
    let second_order = hub_order(&hub, &second).await;
    wait_available(&hub, "NOTEBOOK", "22", Duration::from_secs(10)).await;
    let second_id = second_order["id"].as_i64().unwrap();
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{second_id}/cancel"),
        json!({"reason": "out of stock at the counter"}),
    )
    .await
    .expect(200);
    vendure.wait_order_state(&second, "Cancelled").await;
    vendure
        .wait_stock("NOTEBOOK", Duration::from_secs(15), |s| {
            s.1 == 0 && saleable(s) == 25
        })
        .await;
    let echoed = relay
        .wait_for(|r| r.path.ends_with("/orders/cancelled") && r.body_has(&second))
        .await;
    assert!((200..300).contains(&echoed.status), "{echoed:?}");
    assert_eq!(hub.available("NOTEBOOK", "BLR").await, "25");

    // Cancelled in Vendure: the hub releases its reservation.
    let third = vendure
        .place_order(&[("MUG", 1)], "meera@example.com")
        .await;
    let third_order = hub_order(&hub, &third).await;
    wait_available(&hub, "MUG", "23", Duration::from_secs(10)).await;
    let vendure_third = vendure.order(&third).await;
    let cancelled = vendure
        .admin(
            "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { ... on Order { state } ... on ErrorResult { errorCode message } } }",
            json!({"input": {"orderId": vendure_third["id"], "reason": "customer changed their mind"}}),
        )
        .await;
    assert_eq!(
        cancelled["cancelOrder"]["state"], "Cancelled",
        "{cancelled}"
    );
    hub_status(&hub, third_order["id"].as_i64().unwrap(), "cancelled").await;
    wait_available(&hub, "MUG", "24", Duration::from_secs(15)).await;
    vendure
        .wait_stock("MUG", Duration::from_secs(15), |s| {
            s.1 == 0 && saleable(s) == 24
        })
        .await;

    // A redelivered event creates nothing; a wrong signature is refused.
    let orders = hub_orders(&hub).await;
    assert_eq!(orders, 3);
    let signature = placed
        .header("x-poshub-hmac-sha256")
        .expect("the plugin signs its events")
        .to_string();
    assert_eq!(signature, sign(SECRET, &placed.body));
    let again = redeliver(&hub, &placed, &signature).await;
    assert!(again.status.is_success(), "{again:?}");
    assert_eq!(hub_orders(&hub).await, orders);
    assert_eq!(hub.available("TEE-Blue-M", "BLR").await, "23");
    let forged = redeliver(&hub, &placed, &sign("not-the-secret", &placed.body)).await;
    assert_eq!(forged.status.as_u16(), 401, "{forged:?}");
    assert_eq!(hub_orders(&hub).await, orders);

    // Vendure down: the push retries, and catches up once it is back.
    vendure.stop().await;
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "NOTEBOOK", "quantity": "5", "cost": "60.00", "price": "129.00"}]}),
    )
    .await
    .expect(200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = hub
            .admin_get(&format!("/admin/v1/stores/{STORE}/sync-log"))
            .await
            .expect(200)
            .clone();
        let retrying = log.as_array().unwrap().iter().any(|r| {
            r["subject"] == "NOTEBOOK@BLR"
                && r["status"] == "failed"
                && r["attempts"].as_i64().unwrap_or(0) > 0
        });
        if retrying {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no retried NOTEBOOK push: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    vendure.restart().await;
    vendure
        .wait_stock("NOTEBOOK", Duration::from_secs(20), |s| s.0 == 30)
        .await;
    assert!(hub.sync_log(STORE, "dead").await.is_empty());
}
