//! The bundled storefront connectors end to end: the real hub, real
//! payloads from `fixtures/`, and fake Shopify / WooCommerce
//! servers on 127.0.0.1 that check what the hub sends them (paths, bodies,
//! authentication) the way the platforms would: Shopify's GraphQL Admin
//! API through `poshub_tests::fake_shopify`, WooCommerce's REST API through
//! a generic fake storefront.

use std::time::Duration;

use poshub_tests::fake_shopify::{FakeShopify, FulfillmentOrderSpec, Plan};
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, fixture, sign, Answer, FakeStorefront, TestHub, ADMIN_TOKEN};
use reqwest::Method;

pub(crate) const SHOPIFY_SECRET: &str = "shopify-app-secret";
pub(crate) const SHOPIFY_TOKEN: &str = "shpat_test_token";
const SHOPIFY_LOCATION: &str = "905684977";
pub(crate) const LOCATION: u64 = 905684977;

/// Three plain items whose codes are the SKUs of the INR Shopify fixture.
pub(crate) async fn hrx_shoes(hub: &TestHub) {
    for code in ["tffffv456", "tffffv457", "tffffv458"] {
        hub.admin_post(
            "/admin/v1/items",
            json!({"item_code": code, "name": "HRX Shoes", "tax_rate": "18", "mrp": "60.00"}),
        )
        .await
        .expect(201);
        hub.admin_post(
            "/admin/v1/stock/inward",
            json!({"location": "BLR", "lines": [{"reference_code": code, "quantity": "10", "cost": "30.00", "price": "54.00"}]}),
        )
        .await
        .expect(200);
    }
}

pub(crate) async fn put_mappings(hub: &TestHub, store: &str, mappings: Value) -> Answer {
    hub.call(
        Method::PUT,
        &format!("/admin/v1/stores/{store}/mappings"),
        Some(ADMIN_TOKEN),
        Some(&mappings),
        &[],
    )
    .await
}

/// A Shopify store selling from BLR in the hub's currency, pushing to the
/// shop at `base`, its legacy API readable through the gofrugal dialect.
pub(crate) async fn shopify_store(hub: &TestHub, code: &str, secret: &str, base: &str) {
    shopify_store_in(hub, code, secret, base, json!({})).await
}

/// [`shopify_store`] with more store settings (`currency`,
/// `accept_test_orders` ...).
async fn shopify_store_in(hub: &TestHub, code: &str, secret: &str, base: &str, settings: Value) {
    let mut store = json!({"code": code, "name": "Shopify shop", "connector": "shopify",
           "config": {"webhook_secret": secret, "base_url": base, "access_token": SHOPIFY_TOKEN,
                      "allow_hosts": ["127.0.0.1"], "location_ids": {"BLR": SHOPIFY_LOCATION},
                      "api_dialect": "gofrugal"},
           "locations": ["BLR"], "payment_types": ["prepaid", "cod"], "prices_include_tax": false});
    for (k, v) in settings.as_object().unwrap() {
        store[k] = v.clone();
    }
    hub.admin_post("/admin/v1/stores", store).await.expect(201);
}

pub(crate) async fn shopify_webhook(
    hub: &TestHub,
    store: &str,
    topic: &str,
    body: &[u8],
    signature: &str,
) -> Answer {
    // Header names arrive in any case.
    hub.webhook(
        store,
        topic,
        body,
        None,
        &[("x-shopify-hmac-sha256", signature)],
    )
    .await
}

/// Waits until Shopify holds `available` of an inventory item at the
/// shop's location, set by the hub with its access token.
async fn shopify_level(fake: &FakeShopify, inventory_item: u64, available: i64) {
    let reached = fake
        .wait_until(Duration::from_secs(10), |f| {
            f.level(inventory_item, LOCATION) == Some(available)
        })
        .await;
    assert!(
        reached,
        "Shopify never held inventory item {inventory_item} at {available} (it holds {:?}): {:?}",
        fake.level(inventory_item, LOCATION),
        fake.calls()
            .iter()
            .map(|c| (&c.operation, c.status, &c.errors, &c.user_errors))
            .collect::<Vec<_>>()
    );
    let set = fake
        .calls()
        .into_iter()
        .rfind(|c| c.root_fields.iter().any(|f| f == "inventorySetQuantities"))
        .expect("a stock mutation");
    assert_eq!(set.header("x-shopify-access-token"), Some(SHOPIFY_TOKEN));
}

/// The fixture's shop: the three HRX Shoes variants (product
/// 7905964785901) with their inventory items, and location 905684977.
pub(crate) fn hrx_shop(fake: &FakeShopify) {
    fake.location(LOCATION);
    for (variant, item) in HRX_VARIANTS {
        fake.variant(7905964785901, variant, item, "54.00");
    }
}

/// Variant and inventory item ids of tffffv456, 457 and 458 in the fixture.
pub(crate) const HRX_VARIANTS: [(u64, u64); 3] = [
    (43242963665133, 45338463404269),
    (43242963697901, 45338463437037),
    (43242963730669, 45338463469805),
];

async fn shopify_orders_flow_both_ways(hub: TestHub) {
    hub.load_catalogue().await;
    hrx_shoes(&hub).await;
    let fake = FakeShopify::start(SHOPIFY_TOKEN, Plan::Standard).await;
    hrx_shop(&fake);
    shopify_store(&hub, "SHOP", SHOPIFY_SECRET, &fake.base).await;
    let mapped = put_mappings(
        &hub,
        "SHOP",
        json!([{"reference_code": "tffffv456", "external_id": "43242963665133", "inventory_id": "45338463404269"},
               {"reference_code": "tffffv457", "external_id": "43242963697901", "inventory_id": "45338463437037"},
               {"reference_code": "tffffv458", "external_id": "43242963730669", "inventory_id": "45338463469805"}]),
    )
    .await;
    assert_eq!(mapped.expect(200)[0]["inventory_id"], "45338463404269");
    // Mapping pushes the first level, as an inventorySetQuantities mutation.
    shopify_level(&fake, 45338463404269, 10).await;
    let key = hub.api_key("SHOP", &["BLR"]).await;

    // The order was placed on Shopify: its level went down there first.
    for (_, item) in HRX_VARIANTS {
        fake.sell(item, LOCATION, 1);
    }
    let body = fixture("shopify/orders_create__sanjeev_inr_3_variants_sku_igst.json");
    let signature = sign(SHOPIFY_SECRET, &body);
    let hook = shopify_webhook(&hub, "SHOP", "orders/create", &body, &signature).await;
    let result = &hook.expect(200)["results"][0];
    assert_eq!(result["result"], "accepted", "{result}");
    let id = result["order_id"].as_i64().unwrap();
    // Redelivery (and orders/paid for the same order) creates nothing.
    let again = shopify_webhook(&hub, "SHOP", "orders/paid", &body, &signature).await;
    assert_eq!(again.expect(200)["results"][0]["result"], "duplicate");

    // The order through the store API.
    let order = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    let order = order.expect(200);
    assert_eq!(order["online_reference_no"], "4894495473901");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total"], "191.16");
    let lines: Vec<(&str, &str, &str, &str)> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["reference_code"].as_str().unwrap(),
                l["quantity"].as_str().unwrap(),
                l["unit_price"].as_str().unwrap(),
                l["tax_amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("tffffv456", "1", "54.00", "9.72"),
            ("tffffv457", "1", "54.00", "9.72"),
            ("tffffv458", "1", "54.00", "9.72")
        ]
    );
    assert_eq!(order["payments"][0]["type"], "prepaid");
    assert_eq!(order["payments"][0]["amount"], "191.16");
    // ... and through the legacy API dialect the store's config names.
    let compat = hub
        .call(
            Method::GET,
            &format!("/compat/SHOP/salesOrders/{id}"),
            None,
            None,
            &[("X-Auth-Token", &key)],
        )
        .await;
    let sales_order = &compat.expect(200)["salesOrder"];
    assert_eq!(sales_order["onlineReferenceNo"], "4894495473901");
    assert_eq!(sales_order["status"], "Pending");
    assert_eq!(sales_order["orderItems"].as_array().unwrap().len(), 3);

    // The reservation reaches Shopify as the new level of each variant.
    shopify_level(&fake, 45338463404269, 9).await;
    shopify_level(&fake, 45338463469805, 9).await;

    // Billing takes the reserved stock out (the level Shopify shows stays
    // 9); delivering plans a fulfilment: look up the fulfilment orders, then
    // fulfil the open one.
    let open: FulfillmentOrderSpec = (1046000778, "OPEN", &[(1, 1), (2, 1), (3, 1)]);
    let closed: FulfillmentOrderSpec = (1046000779, "CLOSED", &[]);
    fake.order(4894495473901, &[open, closed]);
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id}/bill"),
        json!({"payment_type": "prepaid"}),
    )
    .await
    .expect(201);
    hub.admin_post(&format!("/admin/v1/sales-orders/{id}/deliver"), json!({}))
        .await
        .expect(200);
    assert!(
        fake.wait_until(Duration::from_secs(5), |f| !f
            .fulfilled(4894495473901)
            .is_empty())
            .await,
        "a fulfilment reaches Shopify"
    );
    let fulfilment = &fake.fulfilled(4894495473901)[0];
    assert!(
        fulfilment.to_string().contains("1046000778")
            && !fulfilment.to_string().contains("1046000779"),
        "only the open fulfillment order is fulfilled: {fulfilment}"
    );
    // The hub records the row as sent once Shopify has answered the
    // fulfilment, a moment after the fake saw it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let sent = hub
            .admin_get("/admin/v1/stores/SHOP/sync-log?status=sent")
            .await;
        let recorded = sent
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "status" && e["sent_value"] == "delivered");
        if recorded {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the delivered status is recorded as sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A refund of a delivered line is a return: the unit goes back on hand
    // where it was sold from (Shopify hears the new level) and a credit
    // note refunds the line's share, tax included.
    let refund = json!({"id": 509562969, "order_id": 4894495473901u64, "note": "damaged in transit",
        "refund_line_items": [{"quantity": 1, "restock_type": "return",
                               "line_item": {"variant_id": 43242963665133u64, "sku": "tffffv456"}}],
        "transactions": [{"kind": "refund", "status": "success", "amount": "63.72"}]});
    let body = poshub_tests::serde_json::to_vec(&refund).unwrap();
    let hook = shopify_webhook(
        &hub,
        "SHOP",
        "refunds/create",
        &body,
        &sign(SHOPIFY_SECRET, &body),
    )
    .await;
    let result = &hook.expect(200)["results"][0];
    assert_eq!(result["document"], "refund");
    assert_eq!(result["result"], "returned", "{result}");
    assert_eq!(result["order_id"], id);
    let detail = result["detail"].as_str().unwrap();
    assert!(
        detail.contains("refund 509562969")
            && detail.contains("credit note BLR-CN-000001 for 63.72")
            && detail.contains("the storefront refunded 63.72"),
        "{detail}"
    );
    shopify_level(&fake, 45338463404269, 10).await;
    let returned = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    let returned = returned.expect(200);
    assert_eq!(returned["status"], "partially_returned");
    assert_eq!(returned["lines"][0]["returned_quantity"], "1");
    let credit_note = &returned["credit_notes"][0];
    assert_eq!(credit_note["amount"], "63.72");
    assert_eq!(credit_note["refund_id"], "509562969");
    assert_eq!(credit_note["reason"], "damaged in transit");
    assert_eq!(
        credit_note["lines"][0]["restocked"],
        json!([{"location": "BLR", "quantity": "1"}])
    );
    // Redelivery changes nothing.
    let again = shopify_webhook(
        &hub,
        "SHOP",
        "refunds/create",
        &body,
        &sign(SHOPIFY_SECRET, &body),
    )
    .await;
    assert_eq!(again.expect(200)["results"][0]["result"], "duplicate");
    assert_eq!(hub.available("tffffv456", "BLR").await, "10");
    // Product updates are storefront figures the hub owns: acknowledged, not applied.
    let body =
        fixture("shopify/products_update__sanjeev_hrx_shoes_3_variants_negative_inventory.json");
    let hook = shopify_webhook(
        &hub,
        "SHOP",
        "products/update",
        &body,
        &sign(SHOPIFY_SECRET, &body),
    )
    .await;
    let results = hook.expect(200)["results"].as_array().unwrap().clone();
    assert_eq!(
        results.len(),
        6,
        "a price and a level per variant: {results:?}"
    );
    assert!(results.iter().all(|r| r["result"] == "ignored"));
    assert!(results[0]["detail"]
        .as_str()
        .unwrap()
        .contains("the hub owns"));
    assert_eq!(hub.events("SHOP").await[0]["outcome"], "ignored");
    // Still the hub's own level (9 after the sale, 10 after the return).
    assert_eq!(hub.available("tffffv456", "BLR").await, "10");
}

async fn shopify_lines_map_by_variant_id(hub: TestHub) {
    hub.load_catalogue().await;
    let fake = FakeStorefront::start().await;
    // A Hong Kong shop: the order is in HKD.
    shopify_store_in(
        &hub,
        "SHOP",
        SHOPIFY_SECRET,
        &fake.base,
        json!({"currency": "HKD"}),
    )
    .await;
    // Every line of this real order has an empty SKU: only variant ids.
    let body = fixture("shopify/orders_create__membi_hk_phone_discounts_empty_sku.json");
    let signature = sign(SHOPIFY_SECRET, &body);
    put_mappings(
        &hub,
        "SHOP",
        json!([{"reference_code": "TOY-Red-S", "external_id": "50398373085484"},
               {"reference_code": "TOY-Green-S", "external_id": "50451770802476"},
               {"reference_code": "TOY-Blue-S", "external_id": "50460159082796"}]),
    )
    .await
    .expect(200);
    // The fourth line (Red Snowboard) maps to nothing: refused, naming it.
    let refused = shopify_webhook(&hub, "SHOP", "orders/create", &body, &signature).await;
    let problem = refused.expect_problem(422, "unmapped_line");
    assert_eq!(problem["errors"][0]["field"], "lines[3].reference_code");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("line 4")
            && message.contains("Red Snowboard")
            && message.contains("50466449883436"),
        "{message}"
    );
    let events = hub.events("SHOP").await;
    assert_eq!(events[0]["outcome"], "rejected");
    assert!(events[0]["detail"]
        .as_str()
        .unwrap()
        .contains("Red Snowboard"));
    assert_eq!(
        hub.available("TOY-Red-S", "BLR").await,
        "10",
        "nothing reserved"
    );

    put_mappings(
        &hub,
        "SHOP",
        json!([{"reference_code": "TOY-Red-M", "external_id": "50466449883436"}]),
    )
    .await
    .expect(200);
    let accepted = shopify_webhook(&hub, "SHOP", "orders/create", &body, &signature).await;
    let result = &accepted.expect(200)["results"][0];
    assert_eq!(result["result"], "accepted", "{result}");
    let order = hub
        .admin_get(&format!("/admin/v1/sales-orders/{}", result["order_id"]))
        .await;
    let order = order.expect(200);
    let codes: Vec<&str> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reference_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["TOY-Red-S", "TOY-Green-S", "TOY-Blue-S", "TOY-Red-M"]
    );
    assert_eq!(order["total"], "394.00");
    assert_eq!(hub.available("TOY-Red-M", "BLR").await, "9");
}

async fn shopify_signatures_as_stored(hub: TestHub) {
    hub.load_catalogue().await;
    // The sample's two SKUs as reference codes.
    for code in ["706405908216", "706405907431"] {
        hub.admin_post(
            "/admin/v1/items",
            json!({"item_code": code, "name": "Hat", "tax_rate": "0", "mrp": "30.00"}),
        )
        .await
        .expect(201);
    }
    let fake = FakeStorefront::start().await;
    // Shopify's own signed sample: its real secret and signature, byte for byte.
    let secret = "00000000000000000000000000000000";
    // The sample is a USD test order.
    shopify_store_in(
        &hub,
        "SAMPLE",
        secret,
        &fake.base,
        json!({"currency": "USD", "accept_test_orders": true}),
    )
    .await;
    let body = fixture("shopify/orders_create__osiset_shopify_sample_signed_pretty.json");
    let signature = "hvTE9wpDzMcDnPEuHWvYZ58ElKn5vHs0LomurfNIuUc=";
    let verified = hub
        .webhook(
            "SAMPLE",
            "orders/create",
            &body,
            None,
            &[("X-SHOPIFY-HMAC-SHA256", signature)],
        )
        .await;
    // Past the signature: the sample is a voided test order that took no
    // money, so the hub refuses it for payment, not for authenticity.
    verified.expect_problem(422, "payments_do_not_cover_total");

    // A tampered body, a wrong secret and an empty secret are refused.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    shopify_store(&hub, "OTHER", "another-secret", &fake.base).await;
    shopify_store(&hub, "NOSECRET", "", &fake.base).await;
    for (store, bytes, code) in [
        ("SAMPLE", &tampered, "invalid_signature"),
        ("OTHER", &body, "invalid_signature"),
        ("NOSECRET", &body, "webhook_secret_missing"),
    ] {
        hub.webhook(
            store,
            "orders/create",
            bytes,
            None,
            &[("X-Shopify-Hmac-Sha256", signature)],
        )
        .await
        .expect_problem(401, code);
    }
    assert!(
        hub.admin_get("/admin/v1/sales-orders").await.expect(200)["sales_orders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

const WOO_SECRET: &str = "ec434676aa1de0e502389f515c38f89f653119ab35e9117c7a79e576";

async fn woocommerce_orders_flow_both_ways(hub: TestHub) {
    hub.load_catalogue().await;
    let fake = FakeStorefront::start().await;
    // Basic ck_live:cs_live
    let basic = "Basic Y2tfbGl2ZTpjc19saXZl";
    fake.require_header("Authorization", basic);
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "WOO", "name": "Woo shop", "connector": "woocommerce",
               "config": {"webhook_secret": WOO_SECRET, "base_url": fake.base,
                          "consumer_key": "ck_live", "consumer_secret": "cs_live", "api_dialect": "gofrugal"},
               "locations": ["BLR"], "payment_types": ["prepaid", "cod"], "prices_include_tax": false}),
    )
    .await
    .expect(201);
    // A simple product (MUG) and a variation of a variable product (TOY-Red-S).
    put_mappings(
        &hub,
        "WOO",
        json!([{"reference_code": "MUG", "external_id": "56"},
               {"reference_code": "TOY-Red-S", "external_id": "23", "parent_id": "22"}]),
    )
    .await
    .expect(200);
    let variation = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.path == "/wp-json/wc/v3/products/22/variations/23"
        })
        .await
        .expect("the variation's first level reaches WooCommerce");
    assert_eq!(variation.method, "PUT");
    assert_eq!(
        variation.answered, 200,
        "authenticated with the consumer key and secret"
    );
    let key = hub.api_key("WOO", &["BLR"]).await;

    // The signed order.created from the fixtures, with its real signature.
    let body = fixture("woocommerce/order_created__erpnext_74_cod_signed.json");
    let hook = hub
        .webhook(
            "WOO",
            "order.created",
            &body,
            None,
            &[(
                "x-wc-webhook-signature",
                "h1SjzQMPwd68MF5bficeFq20/RkQeRLsb9AVCUz/rLs=",
            )],
        )
        .await;
    let result = &hook.expect(200)["results"][0];
    assert_eq!(result["result"], "accepted", "{result}");
    let id = result["order_id"].as_i64().unwrap();
    let order = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    let order = order.expect(200);
    assert_eq!(order["online_reference_no"], "74");
    assert_eq!(order["lines"][0]["reference_code"], "MUG");
    assert_eq!(order["lines"][0]["unit_price"], "499.00");
    assert_eq!(order["shipping"]["amount"], "150.00");
    assert_eq!(order["total"], "649.00");
    assert_eq!(order["payments"][0]["type"], "cod");
    let compat = hub
        .call(
            Method::GET,
            &format!("/compat/WOO/salesOrders?id={id}"),
            None,
            None,
            &[("X-Auth-Token", &key)],
        )
        .await;
    assert_eq!(compat.expect(200)["salesOrder"]["onlineReferenceNo"], "74");

    // The reservation reaches WooCommerce as the product's stock quantity.
    let level = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.path == "/wp-json/wc/v3/products/56"
                && r.body["stock_quantity"] == 9
                && r.answered == 200
        })
        .await
        .expect("MUG at 9 reaches WooCommerce");
    assert_eq!(level.method, "PUT");
    assert_eq!(
        level.body,
        json!({"manage_stock": true, "stock_quantity": 9})
    );

    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id}/bill"),
        json!({"payment_type": "cod"}),
    )
    .await
    .expect(201);
    hub.admin_post(&format!("/admin/v1/sales-orders/{id}/deliver"), json!({}))
        .await
        .expect(200);
    let completed = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.path == "/wp-json/wc/v3/orders/74" && r.body["status"] == "completed"
        })
        .await
        .expect("the delivered status reaches WooCommerce");
    assert_eq!(completed.method, "PUT");
    assert_eq!(completed.body, json!({"status": "completed"}));
    // (The bill's `processing` push may be coalesced into this one.)

    // WooCommerce's unsigned set-up ping is acknowledged; nothing else
    // passes unsigned.
    let ping = hub
        .webhook("WOO", "order.created", b"webhook_id=17", None, &[])
        .await;
    assert_eq!(ping.expect(200)["results"][0]["result"], "ignored");
    hub.webhook("WOO", "order.created", b"webhook_id=17&status=x", None, &[])
        .await
        .expect_problem(401, "invalid_signature");

    // Tampered and wrongly signed bodies change nothing.
    let mut tampered = body.clone();
    tampered[5] ^= 1;
    for (bytes, signature) in [
        (&tampered, "h1SjzQMPwd68MF5bficeFq20/RkQeRLsb9AVCUz/rLs="),
        (&body, sign("wrong", &body).as_str()),
    ] {
        hub.webhook(
            "WOO",
            "order.created",
            bytes,
            None,
            &[("X-WC-Webhook-Signature", signature)],
        )
        .await
        .expect_problem(401, "invalid_signature");
    }
}

async fn woocommerce_storefront_outage_is_retried(hub: TestHub) {
    hub.load_catalogue().await;
    let fake = FakeStorefront::start().await;
    // Rate limited first, then a server error, then fine.
    fake.script(&[(429, Some(1)), (500, None)]);
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "WOO", "name": "Woo shop", "connector": "woocommerce",
               "config": {"webhook_secret": WOO_SECRET, "base_url": fake.base,
                          "consumer_key": "ck_live", "consumer_secret": "cs_live"},
               "locations": ["BLR"], "payment_types": ["cod"], "prices_include_tax": false}),
    )
    .await
    .expect(201);
    put_mappings(
        &hub,
        "WOO",
        json!([{"reference_code": "MUG", "external_id": "56"}]),
    )
    .await
    .expect(200);
    // Mapping queues the first level and the first price; both must get
    // through whichever of them met the 429 and the 500.
    let kind = |r: &poshub_tests::Received| {
        if r.body.get("stock_quantity").is_some() {
            "stock"
        } else {
            "price"
        }
    };
    for wanted in ["stock", "price"] {
        fake.wait_for(Duration::from_secs(10), |r| {
            r.path == "/wp-json/wc/v3/products/56" && r.answered == 200 && kind(r) == wanted
        })
        .await
        .unwrap_or_else(|| panic!("the {wanted} push gets through after the 429 and the 500"));
    }
    let received = fake.received();
    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(&answered[..2], [429, 500], "{answered:?}");
    for failed in &received[..2] {
        let next = received
            .iter()
            .find(|r| r.at > failed.at && kind(r) == kind(failed))
            .expect("a failed push is tried again");
        if failed.answered == 429 {
            assert!(
                next.at - failed.at >= Duration::from_millis(900),
                "Retry-After: 1 honoured ({:?})",
                next.at - failed.at
            );
        }
    }
}

async fn legacy_api_dialect(hub: TestHub) {
    hub.load_catalogue().await;
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "LEGACY", "name": "Legacy storefront", "connector": "gofrugal",
               "config": {"utc_offset": "+05:30"},
               "locations": ["BLR", "MUM"], "payment_types": ["cod", "card"], "prices_include_tax": true}),
    )
    .await
    .expect(201);
    let key = hub.api_key("LEGACY", &["BLR"]).await;
    let auth = [("X-Auth-Token", key.as_str())];
    let sales_order = json!({"salesOrder": {
    "onlineReferenceNo": "GF-1001", "createdAt": "2026-11-27 10:15:00", "status": "Pending",
    "totalQuantity": 3, "totalAmount": 590.00, "paymentMode": 1,
    "customerName": "Asha Rao", "customerMobile": "98765 43210", "customerEmail": "asha@example.com",
    "customerAddress": "12 MG Road, Bengaluru", "shippingCharge": 40,
    "orderItems": [
        {"itemId": 1, "itemReferenceCode": "TOY-Red-S", "itemName": "Toy car", "salePrice": 250.00,
         "quantity": 2, "discountPercentage": 10, "taxPercentage": 12, "itemAmount": 450.00},
        {"itemId": 2, "itemReferenceCode": "MUG", "itemName": "Mug", "salePrice": "100.00",
         "quantity": 1, "taxPercentage": 12, "itemAmount": 100.00}
    ]}});
    let created = hub
        .call(
            Method::POST,
            "/compat/LEGACY/salesOrders",
            None,
            Some(&sales_order),
            &auth,
        )
        .await;
    // Money travels as exact JSON numbers, as the original API wrote them.
    assert!(
        created.text.contains("\"totalAmount\":590.00"),
        "{}",
        created.text
    );
    let created = created.expect(201);
    assert_eq!(created["status"], "success");
    let id = created["salesOrder"]["id"].as_i64().unwrap();
    assert_eq!(created["salesOrder"]["onlineReferenceNo"], "GF-1001");
    assert_eq!(created["salesOrder"]["paymentMode"], 1);

    // The same order through the store API, in canonical terms.
    let order = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    let order = order.expect(200);
    assert_eq!(order["lines"][0]["reference_code"], "TOY-Red-S");
    assert_eq!(order["lines"][0]["discount"], "50.00");
    assert_eq!(order["customer"]["phone"], "+919876543210");
    assert_eq!(order["payments"][0]["type"], "cod");
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "8");

    // One order, the list with the original's createdAt filter, and items.
    let one = hub
        .call(
            Method::GET,
            &format!("/compat/LEGACY/salesOrders/{id}"),
            None,
            None,
            &auth,
        )
        .await;
    assert_eq!(
        one.expect(200)["salesOrder"]["customerMobile"],
        "+919876543210"
    );
    let listed = hub
        .call(
            Method::GET,
            "/compat/LEGACY/salesOrders?q=createdAt>=2026-11-01+00:00:00",
            None,
            None,
            &auth,
        )
        .await;
    assert_eq!(
        listed.expect(200)["salesOrders"].as_array().unwrap().len(),
        1
    );
    let items = hub
        .call(
            Method::GET,
            "/compat/LEGACY/items?locationId=BLR",
            None,
            None,
            &auth,
        )
        .await;
    assert!(
        items.text.contains("\"salePrice\":250.00"),
        "{}",
        items.text
    );
    let items = items.expect(200)["items"].as_array().unwrap().clone();
    let toy = items
        .iter()
        .find(|i| i["itemId"] == "TOY")
        .expect("TOY listed");
    assert_eq!(toy["locationId"], "BLR");
    let red = toy["stock"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["itemReferenceCode"] == "TOY-Red-S")
        .unwrap();
    assert_eq!(red["stock"], 8);
    assert_eq!(red["salePrice"], 250.0);

    // The dialect's own errors: no key, a duplicate, a mismatch.
    let no_key = hub
        .call(Method::GET, "/compat/LEGACY/salesOrders", None, None, &[])
        .await;
    assert_eq!(no_key.status.as_u16(), 401);
    assert_eq!(no_key.body["status"], "failure");
    let duplicate = hub
        .call(
            Method::POST,
            "/compat/LEGACY/salesOrders",
            None,
            Some(&sales_order),
            &auth,
        )
        .await;
    assert_eq!(duplicate.status.as_u16(), 409, "{}", duplicate.text);
    assert_eq!(duplicate.body["status"], "failure");
    let mut wrong = sales_order.clone();
    wrong["salesOrder"]["onlineReferenceNo"] = "GF-1002".into();
    wrong["salesOrder"]["totalQuantity"] = 4.into();
    let refused = hub
        .call(
            Method::POST,
            "/compat/LEGACY/salesOrders",
            None,
            Some(&wrong),
            &auth,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.text);
    assert!(refused.text.contains("totalQuantity"), "{}", refused.text);
    // Another store's key reads nothing here.
    hub.create_store("OTHER", &["BLR"], false).await;
    let other = hub.api_key("OTHER", &["BLR"]).await;
    let foreign = hub
        .call(
            Method::GET,
            &format!("/compat/LEGACY/salesOrders/{id}"),
            None,
            None,
            &[("X-Auth-Token", &other)],
        )
        .await;
    assert_eq!(foreign.status.as_u16(), 401);
    assert_eq!(
        hub.available("TOY-Red-S", "BLR").await,
        "8",
        "refusals reserve nothing"
    );
}

both_backends!(shopify_orders, super::shopify_orders_flow_both_ways);
both_backends!(shopify_variant_ids, super::shopify_lines_map_by_variant_id);
both_backends!(shopify_signatures, super::shopify_signatures_as_stored);
both_backends!(woocommerce_orders, super::woocommerce_orders_flow_both_ways);
both_backends!(
    woocommerce_retries,
    super::woocommerce_storefront_outage_is_retried
);
both_backends!(legacy_dialect, super::legacy_api_dialect);
