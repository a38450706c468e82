//! Shopify's GraphQL Admin API end to end: the real hub and the bundled
//! Shopify connector against `poshub_tests::fake_shopify`, which checks
//! every document against the 2026-10 schema and holds Shopify's rules for
//! `inventorySetQuantities` (compare quantities, idempotency keys, the
//! 250-item limit, the cost bucket). The shop is the one of the real INR
//! order fixture: HRX Shoes tffffv456/457/458 at location 905684977.

use std::time::Duration;

use poshub_tests::fake_shopify::{FakeShopify, Plan, ShopifyCall};
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, fixture, sign, TestHub};

use super::connectors::{
    hrx_shoes, hrx_shop, put_mappings, shopify_store, shopify_webhook, HRX_VARIANTS, LOCATION,
    SHOPIFY_SECRET, SHOPIFY_TOKEN,
};

const CODES: [&str; 3] = ["tffffv456", "tffffv457", "tffffv458"];
const PRODUCT: u64 = 7905964785901;

/// The hub with the three HRX Shoes (10 each at BLR), the fake shop, and
/// the store mapped to it; returns once Shopify holds the first levels.
async fn mapped_shop(hub: &TestHub) -> FakeShopify {
    hub.load_catalogue().await;
    hrx_shoes(hub).await;
    let fake = FakeShopify::start(SHOPIFY_TOKEN, Plan::Standard).await;
    hrx_shop(&fake);
    shopify_store(hub, "SHOP", SHOPIFY_SECRET, &fake.base).await;
    put_mappings(hub, "SHOP", json!(hrx_mappings()))
        .await
        .expect(200);
    levels(&fake, 10).await;
    fake
}

/// The three variants' mappings: variant, product and inventory item.
fn hrx_mappings() -> Vec<Value> {
    CODES
        .iter()
        .zip(HRX_VARIANTS)
        .map(|(code, (variant, item))| {
            json!({"reference_code": code, "external_id": variant.to_string(),
                   "parent_id": PRODUCT.to_string(), "inventory_id": item.to_string()})
        })
        .collect()
}

/// Waits until Shopify holds `available` of all three.
async fn levels(fake: &FakeShopify, available: i64) {
    let reached = fake
        .wait_until(Duration::from_secs(20), |f| {
            HRX_VARIANTS
                .iter()
                .all(|(_, item)| f.level(*item, LOCATION) == Some(available))
        })
        .await;
    assert!(
        reached,
        "Shopify holds {:?}, not {available} each: {:?}",
        HRX_VARIANTS
            .iter()
            .map(|(_, item)| fake.level(*item, LOCATION))
            .collect::<Vec<_>>(),
        summary(&fake.calls())
    );
}

fn summary(calls: &[ShopifyCall]) -> Vec<String> {
    calls
        .iter()
        .map(|c| {
            format!(
                "{:?} {} {:?} {:?}",
                c.operation, c.status, c.errors, c.user_errors
            )
        })
        .collect()
}

/// The stock mutations Shopify received, oldest first.
fn stock_sets(fake: &FakeShopify) -> Vec<ShopifyCall> {
    fake.calls()
        .into_iter()
        .filter(|c| c.root_fields.iter().any(|f| f == "inventorySetQuantities"))
        .collect()
}

fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

async fn inward(hub: &TestHub, codes: &[&str], quantity: &str) {
    let lines: Vec<Value> = codes
        .iter()
        .map(|c| json!({"reference_code": c, "quantity": quantity, "cost": "30.00", "price": "54.00"}))
        .collect();
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": lines}),
    )
    .await
    .expect(200);
}

/// A stock change reaches Shopify as one `inventorySetQuantities` with the
/// level the hub last saw confirmed as its compare quantity, under an
/// idempotency key; prices go as `productVariantsBulkUpdate`.
async fn stock_reaches_shopify_as_a_compare_and_set(hub: TestHub) {
    let fake = mapped_shop(&hub).await;
    // The first levels: nothing confirmed yet, so an explicit null compare,
    // the three in one mutation.
    let first = &stock_sets(&fake)[0];
    assert_eq!(first.operation.as_deref(), Some("PoshubSetStock"));
    assert_eq!(first.header("x-shopify-access-token"), Some(SHOPIFY_TOKEN));
    let quantities = first.variables["input"]["quantities"].as_array().unwrap();
    assert_eq!(quantities.len(), 3, "one mutation for the three levels");
    assert!(quantities.iter().all(|q| q["changeFromQuantity"].is_null()
        && q.as_object().unwrap().contains_key("changeFromQuantity")));

    inward(&hub, &["tffffv456"], "5").await;
    let reached = fake
        .wait_until(Duration::from_secs(10), |f| {
            f.level(45338463404269, LOCATION) == Some(15)
        })
        .await;
    assert!(reached, "{:?}", summary(&fake.calls()));
    let set = stock_sets(&fake).pop().unwrap();
    assert!(
        set.query
            .contains("inventorySetQuantities(input: $input) @idempotent(key: $key)"),
        "{}",
        set.query
    );
    assert_eq!(
        set.variables["input"]["quantities"],
        json!([{"inventoryItemId": gid("InventoryItem", 45338463404269),
                "locationId": gid("Location", LOCATION),
                "quantity": 15, "changeFromQuantity": 10}])
    );
    let key = set.variables["key"].as_str().unwrap();
    assert!(key.starts_with("poshub-"), "{key}");
    assert!(set.user_errors.is_empty(), "{:?}", set.user_errors);
    // The other two were not touched again.
    assert_eq!(fake.level(45338463437037, LOCATION), Some(10));

    // Prices: one productVariantsBulkUpdate for the product's variants.
    let priced = fake
        .wait_until(Duration::from_secs(10), |f| {
            HRX_VARIANTS
                .iter()
                .all(|(v, _)| f.price(*v).is_some_and(|(p, _)| p == "54.00"))
        })
        .await;
    assert!(priced, "{:?}", summary(&fake.calls()));
    let prices: Vec<ShopifyCall> = fake
        .calls()
        .into_iter()
        .filter(|c| {
            c.root_fields
                .iter()
                .any(|f| f == "productVariantsBulkUpdate")
        })
        .collect();
    assert_eq!(prices.len(), 1, "{:?}", summary(&prices));
    assert_eq!(prices[0].variables["p0"], gid("Product", PRODUCT));
    assert_eq!(prices[0].variables["v0"].as_array().unwrap().len(), 3);
    assert_eq!(fake.throttled(), 0);
}

/// A sale made on Shopify before a push (its order webhook delayed) makes
/// the push's compare stale: Shopify keeps the sale, the push is retried,
/// and once the webhook has arrived both sides hold the same level.
async fn a_sale_on_shopify_is_not_erased(hub: TestHub) {
    let fake = mapped_shop(&hub).await;
    // The fixture's order is placed on Shopify: one of each, 10 -> 9 there.
    for (_, item) in HRX_VARIANTS {
        fake.sell(item, LOCATION, 1);
    }
    // Meanwhile the hub receives 5 of each (10 -> 15) and pushes 15 with
    // the compare 10, which Shopify no longer holds.
    inward(&hub, &CODES, "5").await;
    let stale = fake
        .wait_until(Duration::from_secs(10), |f| {
            f.calls().iter().any(|c| {
                c.user_errors
                    .iter()
                    .any(|e| e == "CHANGE_FROM_QUANTITY_STALE")
            })
        })
        .await;
    assert!(stale, "{:?}", summary(&fake.calls()));
    // The sale is not erased.
    for (_, item) in HRX_VARIANTS {
        assert_eq!(fake.level(item, LOCATION), Some(9));
    }
    // The hub records the rows as waiting to be tried again (a moment
    // after Shopify answered), saying why.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let retried = hub.sync_log("SHOP", "failed").await;
        let said = retried
            .iter()
            .any(|e| e["error"].as_str().unwrap_or_default().contains("sale"));
        if said {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no row waits for a retry: {retried:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The order webhook arrives: the hub books the sale (15 -> 14), and the
    // retried push's compare (10 less the store's own sale) now matches.
    let body = fixture("shopify/orders_create__sanjeev_inr_3_variants_sku_igst.json");
    let hook = shopify_webhook(
        &hub,
        "SHOP",
        "orders/create",
        &body,
        &sign(SHOPIFY_SECRET, &body),
    )
    .await;
    assert_eq!(hook.expect(200)["results"][0]["result"], "accepted");
    levels(&fake, 14).await;
    for code in CODES {
        assert_eq!(hub.available(code, "BLR").await, "14");
    }
    // No drift: the level was never read and overwritten.
    let sent = hub.sync_log("SHOP", "sent").await;
    assert!(sent.iter().all(|e| e.get("drift").is_none()), "{sent:?}");
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.operation.as_deref() == Some("PoshubReadStock")));
}

/// A change Shopify made that the hub never hears of: after the bounded
/// retries the connector reads Shopify's level, the sync log records the
/// drift, and the level is set from a fresh compare.
async fn drift_is_read_recorded_and_set_fresh(hub: TestHub) {
    let fake = mapped_shop(&hub).await;
    // Two units taken on Shopify (a count there), no webhook ever.
    fake.sell(45338463404269, LOCATION, 2);
    inward(&hub, &["tffffv456"], "5").await;
    let reached = fake
        .wait_until(Duration::from_secs(30), |f| {
            f.level(45338463404269, LOCATION) == Some(15)
        })
        .await;
    assert!(reached, "{:?}", summary(&fake.calls()));
    let operations: Vec<Option<String>> = fake.calls().into_iter().map(|c| c.operation).collect();
    let read = operations
        .iter()
        .position(|o| o.as_deref() == Some("PoshubReadStock"))
        .expect("Shopify's level was read");
    assert_eq!(
        operations[read + 1].as_deref(),
        Some("PoshubSetStockFresh"),
        "{operations:?}"
    );
    let fresh = stock_sets(&fake).pop().unwrap();
    assert_eq!(
        fresh.variables["input"]["quantities"][0]["changeFromQuantity"],
        8
    );
    // The hub records the push as sent a moment after Shopify answered.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let entry = loop {
        let sent = hub.sync_log("SHOP", "sent").await;
        if let Some(entry) = sent
            .iter()
            .find(|e| e["kind"] == "stock" && e["sent_value"] == "15")
        {
            break entry.clone();
        }
        assert!(std::time::Instant::now() < deadline, "{sent:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        entry["drift"], "the storefront held 8 where the hub expected 10",
        "{entry}"
    );
    assert_eq!(hub.available("tffffv456", "BLR").await, "15");
}

/// One variant mapped to an inventory item and variant Shopify does not
/// have: the others of its batch are delivered, and only its rows die.
async fn one_unknown_variant_fails_alone(hub: TestHub) {
    hub.load_catalogue().await;
    hrx_shoes(&hub).await;
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": "tffffv459", "name": "HRX Shoes", "tax_rate": "18", "mrp": "60.00"}),
    )
    .await
    .expect(201);
    inward(&hub, &["tffffv459"], "10").await;
    let fake = FakeShopify::start(SHOPIFY_TOKEN, Plan::Standard).await;
    hrx_shop(&fake);
    shopify_store(&hub, "SHOP", SHOPIFY_SECRET, &fake.base).await;
    let mut mappings = hrx_mappings();
    mappings.insert(
        1,
        json!({"reference_code": "tffffv459", "external_id": "43242963999999",
               "parent_id": PRODUCT.to_string(), "inventory_id": "45338463999999"}),
    );
    put_mappings(&hub, "SHOP", json!(mappings))
        .await
        .expect(200);
    levels(&fake, 10).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let dead = hub.sync_log("SHOP", "dead").await;
        if dead.len() >= 2 {
            break dead;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the unknown variant's rows did not die: {dead:?} {:?}",
            summary(&fake.calls())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead.len(), 2, "{dead:?}");
    for row in &dead {
        assert!(
            row["subject"].as_str().unwrap().contains("tffffv459"),
            "{row}"
        );
        assert_eq!(row["attempts"], 1, "{row}");
    }
    let stock = dead.iter().find(|r| r["kind"] == "stock").unwrap();
    assert!(
        stock["error"]
            .as_str()
            .unwrap()
            .contains("INVALID_INVENTORY_ITEM"),
        "{stock}"
    );
    // The four went in one mutation; Shopify set none of them, so the three
    // known went again on their own.
    let sets = stock_sets(&fake);
    assert_eq!(
        sets[0].variables["input"]["quantities"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(sets[0].user_errors, ["INVALID_INVENTORY_ITEM"]);
    assert_eq!(
        sets[1].variables["input"]["quantities"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Their prices were set; the unknown variant's alone refused.
    let priced = fake
        .wait_until(Duration::from_secs(10), |f| {
            HRX_VARIANTS.iter().all(|(v, _)| f.price(*v).is_some())
        })
        .await;
    assert!(priced, "{:?}", summary(&fake.calls()));
    let sent = hub.sync_log("SHOP", "sent").await;
    assert_eq!(
        sent.iter()
            .filter(|e| !e["subject"].as_str().unwrap().contains("tffffv459"))
            .count(),
        6,
        "three levels and three prices: {sent:?}"
    );
}

both_backends!(
    shopify_graphql_stock,
    super::stock_reaches_shopify_as_a_compare_and_set
);
both_backends!(
    shopify_sale_not_erased,
    super::a_sale_on_shopify_is_not_erased
);
both_backends!(shopify_drift, super::drift_is_read_recorded_and_set_fresh);
both_backends!(
    shopify_unknown_variant,
    super::one_unknown_variant_fails_alone
);
