//! Initial sync at catalogue scale: 100,000 mapped variants at one
//! location, from an empty storefront to the hub's levels, through the
//! bundled connectors and the real sync engine:
//!
//! - Shopify's GraphQL Admin API (`poshub_tests::fake_shopify`) at
//!   Standard-plan limits (a bucket of 2,000 cost points restoring 100/s,
//!   `THROTTLED` when a request does not fit), `inventorySetQuantities` with
//!   250 levels a request; then a reconcile after 1% drift (1,000 levels
//!   sold on Shopify without a webhook, every level pushed again: the stale
//!   compares are retried, read, recorded as drift and set fresh);
//! - WooCommerce (`poshub_tests::fake_woo`), `products/batch` with 100 a
//!   request;
//! - the one-request-per-level path the REST Admin API allowed: the
//!   canonical connector against a storefront limited as Shopify's REST API
//!   was (a bucket of 40 requests leaking 2/s, 429 when full), measured for
//!   60 s and extrapolated to the same catalogue.
//!
//! The catalogue is imported as CSV; mappings and the first push rows are
//! written with one statement each (what a bulk mapping import produces),
//! so the timer measures the push alone. SQLite, the hub's default.
//! Knobs: `POSHUB_BENCH_VARIANTS` (default 100,000),
//! `POSHUB_BENCH_REST_SECONDS` (default 60).
//!
//! Run: `cargo bench -p poshub-tests --bench initial_sync`

use std::time::{Duration, Instant};

use poshub_tests::fake_shopify::{FakeShopify, Plan};
use poshub_tests::fake_woo::FakeWoo;
use poshub_tests::serde_json::json;
use poshub_tests::{Backend, FakeStorefront, TestHub};

const LOCATION: u64 = 905684977;
/// Inventory item, product or variant ids on the storefront: the hub's
/// variant id plus this.
const ITEM_BASE: u64 = 3_000_000_000;
const TOKEN: &str = "shpat_bench";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let variants: usize = std::env::var("POSHUB_BENCH_VARIANTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let rest_seconds: u64 = std::env::var("POSHUB_BENCH_REST_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    println!("| Path | Levels | Wall s | Requests | Throttled | Levels/s |");
    println!("|---|---|---|---|---|---|");
    let shopify = shopify(variants).await;
    let woo = woocommerce(variants).await;
    let rest = rest(variants, rest_seconds).await;
    println!();
    println!("| Target | Measured | Met |");
    println!("|---|---|---|");
    println!(
        "| Shopify (Standard plan): {variants} levels in at most 5 minutes | {shopify:.1} s | {} |",
        if shopify <= 300.0 { "yes" } else { "**no**" }
    );
    println!(
        "| Shopify GraphQL vs one REST request per level (extrapolated, same run) | {:.0}x faster ({shopify:.1} s vs {:.1} h) | {} |",
        rest / shopify,
        rest / 3600.0,
        if shopify < rest { "yes" } else { "**no**" }
    );
    println!("| WooCommerce batches | {woo:.1} s | - |");
}

/// A hub with `variants` variants at BLR, 12 of each on hand, and a store
/// `code` of `connector` with `config`.
async fn hub_with(
    variants: usize,
    code: &str,
    connector: &str,
    config: serde_json::Value,
) -> TestHub {
    let hub = TestHub::start(Backend::Sqlite).await.expect("sqlite");
    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "BLR", "name": "Bengaluru"}),
    )
    .await
    .expect(201);
    let loading = Instant::now();
    poshub_tests::import_variants(&hub, variants).await;
    poshub_tests::stock_everywhere(&hub, 12).await;
    eprintln!(
        "({code}: {variants} variants loaded in {:.1} s)",
        loading.elapsed().as_secs_f64()
    );
    hub.create_connector_store(code, connector, "bench-secret", config)
        .await;
    hub
}

async fn pool(hub: &TestHub) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&hub.database_url)
        .await
        .expect("sqlite")
}

/// Maps every variant of the hub (at most `limit`) to the store: the
/// storefront's variant, product and inventory item are `ITEM_BASE` plus
/// the variant's id (a product per variant).
async fn map_all(hub: &TestHub, store: &str, limit: usize) {
    sqlx::query(
        "INSERT INTO store_mappings (store_id, variant_id, external_id, parent_id, inventory_id) \
         SELECT s.id, v.id, CAST(v.id + $2 AS TEXT), NULL, CAST(v.id + $2 AS TEXT) \
         FROM variants v, stores s WHERE s.code = $1 ORDER BY v.id LIMIT $3",
    )
    .bind(store)
    .bind(ITEM_BASE as i64)
    .bind(limit as i64)
    .execute(&pool(hub).await)
    .await
    .expect("mappings");
}

/// Queues a stock push of every mapped variant at every store location, as
/// mapping or a full resync does; answers when.
async fn push_all_levels(hub: &TestHub, store: &str) -> Instant {
    let at = poshub_model::now();
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, \
         next_attempt_at, created_at, updated_at) \
         SELECT m.store_id, 'stock', 'stock:' || m.variant_id || ':' || sl.location_id, \
         m.variant_id, sl.location_id, 'pending', $2, $2, $2 \
         FROM store_mappings m JOIN stores s ON s.id = m.store_id \
         JOIN store_locations sl ON sl.store_id = m.store_id WHERE s.code = $1",
    )
    .bind(store)
    .bind(at)
    .execute(&pool(hub).await)
    .await
    .expect("outbox");
    started
}

/// Waits until no stock row of the store is left to send; answers the
/// rows sent and dead.
async fn drained(hub: &TestHub, store: &str, within: Duration) -> (i64, i64) {
    let pool = pool(hub).await;
    let deadline = Instant::now() + within;
    loop {
        let (open, sent, dead): (i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(o.status IN ('pending', 'sending', 'failed')), 0), \
             COALESCE(SUM(o.status = 'sent'), 0), COALESCE(SUM(o.status = 'dead'), 0) \
             FROM outbox o JOIN stores s ON s.id = o.store_id WHERE s.code = $1 AND o.kind = 'stock'",
        )
        .bind(store)
        .fetch_one(&pool)
        .await
        .expect("outbox count");
        if open == 0 || Instant::now() > deadline {
            return (sent, dead);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn variant_ids(hub: &TestHub) -> Vec<u64> {
    let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM variants ORDER BY id")
        .fetch_all(&pool(hub).await)
        .await
        .expect("variants");
    ids.into_iter().map(|(id,)| id as u64).collect()
}

fn row(path: &str, levels: usize, wall: f64, requests: usize, throttled: usize) {
    println!(
        "| {path} | {levels} | {wall:.1} | {requests} | {throttled} | {:.0} |",
        levels as f64 / wall
    );
}

/// Shopify: the initial sync and a reconcile after 1% drift; answers the
/// initial sync's wall time in seconds.
async fn shopify(variants: usize) -> f64 {
    let fake = FakeShopify::start(TOKEN, Plan::Standard).await;
    let hub = hub_with(
        variants,
        "SHOP",
        "shopify",
        json!({"base_url": fake.base, "access_token": TOKEN, "allow_hosts": ["127.0.0.1"],
               "location_ids": {"BLR": LOCATION.to_string()}}),
    )
    .await;
    let ids = variant_ids(&hub).await;
    // An empty storefront: every inventory item known, at 0.
    fake.stock_many(LOCATION, ids.iter().map(|id| (id + ITEM_BASE, 0)));
    map_all(&hub, "SHOP", variants).await;
    let started = push_all_levels(&hub, "SHOP").await;
    let (sent, dead) = drained(&hub, "SHOP", Duration::from_secs(1800)).await;
    let wall = started.elapsed().as_secs_f64();
    let at_level = ids
        .iter()
        .filter(|id| fake.level(*id + ITEM_BASE, LOCATION) == Some(12))
        .count();
    assert_eq!(
        (sent as usize, dead, at_level),
        (variants, 0, variants),
        "every level sent once and held by Shopify"
    );
    let calls = fake.calls().len();
    let throttled = fake.throttled();
    row(
        "Shopify GraphQL, Standard plan: initial sync",
        variants,
        wall,
        calls,
        throttled,
    );

    // 1% drift: sold on Shopify, never heard of; then every level again.
    let drifted: Vec<u64> = ids.iter().step_by(100).copied().collect();
    for id in &drifted {
        fake.sell(id + ITEM_BASE, LOCATION, 1);
    }
    let started = push_all_levels(&hub, "SHOP").await;
    let (sent_again, dead) = drained(&hub, "SHOP", Duration::from_secs(1800)).await;
    let wall_again = started.elapsed().as_secs_f64();
    let at_level = ids
        .iter()
        .filter(|id| fake.level(*id + ITEM_BASE, LOCATION) == Some(12))
        .count();
    let (recorded,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'stock' AND drift IS NOT NULL")
            .fetch_one(&pool(&hub).await)
            .await
            .expect("drift");
    assert_eq!(
        (
            sent_again as usize - variants,
            dead,
            at_level,
            recorded as usize
        ),
        (variants, 0, variants, drifted.len()),
        "every level set again, the drifted ones recorded"
    );
    row(
        &format!(
            "Shopify GraphQL, Standard plan: reconcile after 1% drift ({} drift recorded)",
            recorded
        ),
        variants,
        wall_again,
        fake.calls().len() - calls,
        fake.throttled() - throttled,
    );
    wall
}

/// WooCommerce: the initial sync through `products/batch`.
async fn woocommerce(variants: usize) -> f64 {
    let fake = FakeWoo::start("ck_bench", "cs_bench").await;
    let hub = hub_with(
        variants,
        "WOO",
        "woocommerce",
        json!({"base_url": fake.base, "consumer_key": "ck_bench", "consumer_secret": "cs_bench"}),
    )
    .await;
    let ids = variant_ids(&hub).await;
    fake.add_products(ids.iter().map(|id| id + ITEM_BASE));
    map_all(&hub, "WOO", variants).await;
    let started = push_all_levels(&hub, "WOO").await;
    let (sent, dead) = drained(&hub, "WOO", Duration::from_secs(1800)).await;
    let wall = started.elapsed().as_secs_f64();
    let at_level = ids
        .iter()
        .filter(|id| fake.stock(*id + ITEM_BASE) == Some(12))
        .count();
    assert_eq!((sent as usize, dead, at_level), (variants, 0, variants));
    let requests = fake.requests().iter().filter(|r| r.sets_stock()).count();
    row("WooCommerce products/batch", variants, wall, requests, 0);
    wall
}

/// One request per level under the REST limit, for `seconds`: answers the
/// time `variants` levels would take at the rate measured after the
/// bucket's burst.
async fn rest(variants: usize, seconds: u64) -> f64 {
    let fake = FakeStorefront::start().await;
    fake.rate_limit(40.0, 2.0);
    let sample = 2_000.min(variants);
    let hub = hub_with(sample, "REST", "canonical", json!({"base_url": fake.base})).await;
    map_all(&hub, "REST", sample).await;
    let started = push_all_levels(&hub, "REST").await;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let received = fake.received();
    let done = |after: Duration| {
        received
            .iter()
            .filter(|r| r.answered == 200 && r.at >= started + after)
            .count()
    };
    let total = done(Duration::ZERO);
    // The bucket's 40 requests go at once; the steady rate is what it leaks.
    let warm = Duration::from_secs(seconds / 3);
    let steady = done(warm) as f64 / (seconds as f64 - warm.as_secs_f64());
    let extrapolated = variants as f64 / steady;
    let refused = received.iter().filter(|r| r.answered == 429).count();
    row(
        &format!(
            "One REST request per level, 2 requests/s: {total} levels in {seconds} s, \
             {steady:.2}/s steady, extrapolated to {variants}"
        ),
        variants,
        extrapolated,
        received.len() * variants / total.max(1),
        refused * variants / total.max(1),
    );
    extrapolated
}
