//! Load benchmarks of the running hub over HTTP on 127.0.0.1 (the real
//! server in this process, as the end-to-end tests start it):
//!
//! - order intake through the store API: 32 clients posting 3-line orders
//!   that reserve stock, half from repeat customers and half from new ones
//!   (and one client alone, for the latency a lone order sees), and
//!   Postgres as a ratio to SQLite;
//! - the same orders as signed Shopify `orders/create` webhooks, translated by
//!   the bundled Shopify plugin, as a ratio to the store-API path;
//! - `GET /api/v1/items` over 100,000 variants x 5 locations: pages of 500
//!   (p50/p99) and full walks (rows/s).
//!
//! Each measurement prints one Markdown table row; `scripts/bench` gathers
//! them into BENCHMARKS.md. Postgres runs when `POSHUB_TEST_POSTGRES_URL` is
//! set. Knobs: `POSHUB_BENCH_SECONDS` (default 10 per intake run),
//! `POSHUB_BENCH_ONLY` (`intake`, `items`; `api` or `webhook` for one intake
//! path alone, a profiling aid), `POSHUB_BENCH_VARIANTS`.
//!
//! Run: `cargo bench -p poshub-tests --bench hub`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use poshub_tests::serde_json::{json, Value};
use poshub_tests::{order, Backend, TestHub};

const CLIENTS: usize = 32;
const SKUS: [&str; 3] = ["tffffv456", "tffffv457", "tffffv458"];
const SHOPIFY_SECRET: &str = "bench-shopify-secret";
/// Repeat customers: this many phone numbers come back again and again.
const REGULARS: u64 = 1_000;

#[derive(Clone, Copy, PartialEq)]
enum Path {
    StoreApi,
    ShopifyWebhook,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let only = std::env::var("POSHUB_BENCH_ONLY").unwrap_or_default();
    let seconds: u64 = std::env::var("POSHUB_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut backends = vec![Backend::Sqlite];
    if poshub_tests::postgres_url().is_some() {
        backends.push(Backend::Postgres);
    }
    // (target, measured, met)
    let mut targets: Vec<(String, String, bool)> = Vec::new();
    if only == "webhook" || only == "api" {
        // Profiling aids: one path alone.
        let path = if only == "api" {
            Path::StoreApi
        } else {
            Path::ShopifyWebhook
        };
        for backend in &backends {
            intake(*backend, path, CLIENTS, seconds).await;
        }
        return;
    }
    // Store-API (orders/s, p99 ms) at 32 clients and p50 ms of one client,
    // per backend, for the Postgres / SQLite rows.
    let mut api_runs: Vec<(Backend, f64, f64, f64)> = Vec::new();
    if only.is_empty() || only == "intake" {
        println!("| Backend | Path | Clients | Orders | Orders/s | p50 ms | p99 ms | Errors |");
        println!("|---|---|---|---|---|---|---|---|");
        for backend in &backends {
            let (api, _, p99) = intake(*backend, Path::StoreApi, CLIENTS, seconds).await;
            let (_, alone, _) = intake(*backend, Path::StoreApi, 1, seconds).await;
            api_runs.push((*backend, api, p99, alone));
            let (hook, _, _) = intake(*backend, Path::ShopifyWebhook, CLIENTS, seconds).await;
            let ratio = hook / api;
            println!(
                "| {} | Shopify webhook / store API | | | **{ratio:.2}x** | | | |",
                name(*backend),
            );
            if *backend == Backend::Sqlite {
                targets.push((
                    "SQLite store-API intake >= 3,000 orders/s".into(),
                    format!("{api:.0} orders/s"),
                    api >= 3000.0,
                ));
                targets.push((
                    "SQLite store-API intake p99 < 25 ms".into(),
                    format!("{p99:.1} ms"),
                    p99 < 25.0,
                ));
            }
            targets.push((
                format!("{}: webhook path >= 0.8x store API", name(*backend)),
                format!("{ratio:.2}x"),
                ratio >= 0.8,
            ));
        }
        if let [(Backend::Sqlite, sqlite, _, sqlite_alone), (Backend::Postgres, pg, pg_p99, pg_alone)] =
            api_runs[..]
        {
            let ratio = pg / sqlite;
            println!("| Postgres / SQLite, store API | | | | **{ratio:.2}x** | | | |");
            let alone = pg_alone / sqlite_alone;
            println!("| Postgres / SQLite, one client's p50 | | | | | **{alone:.2}x** | | |");
            targets.push((
                "Postgres store-API intake >= 0.8x SQLite's".into(),
                format!("{ratio:.2}x"),
                ratio >= 0.8,
            ));
            targets.push((
                "Postgres store-API intake p99 < 25 ms".into(),
                format!("{pg_p99:.1} ms"),
                pg_p99 < 25.0,
            ));
            targets.push((
                "Postgres: one client's p50 at most 1.5x SQLite's".into(),
                format!("{pg_alone:.1} ms vs {sqlite_alone:.1} ms ({alone:.2}x)"),
                alone <= 1.5,
            ));
        }
        println!();
    }
    if only.is_empty() || only == "items" {
        let variants: usize = std::env::var("POSHUB_BENCH_VARIANTS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000);
        println!("| Backend | Variants x locations | Page | Pages timed | p50 ms | p99 ms | Full walk rows/s |");
        println!("|---|---|---|---|---|---|---|");
        for backend in &backends {
            let p99 = items(*backend, variants).await;
            targets.push((
                format!("{}: items page of 500 p99 < 20 ms", name(*backend)),
                format!("{p99:.1} ms"),
                p99 < 20.0,
            ));
        }
        println!();
    }
    println!("| Target | Measured | Met |");
    println!("|---|---|---|");
    for (target, measured, met) in targets {
        println!(
            "| {target} | {measured} | {} |",
            if met { "yes" } else { "**no**" }
        );
    }
}

fn name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "Postgres",
    }
}

async fn start(backend: Backend) -> TestHub {
    TestHub::start(backend)
        .await
        .expect("the backend is configured")
}

/// Runs `clients` clients for `seconds` (after a 2 s warm-up) and prints a
/// row; returns orders/s, p50 and p99 in ms.
async fn intake(backend: Backend, path: Path, clients: usize, seconds: u64) -> (f64, f64, f64) {
    let hub = Arc::new(start(backend).await);
    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "BLR", "name": "Bengaluru"}),
    )
    .await
    .expect(201);
    for code in SKUS {
        hub.admin_post(
            "/admin/v1/items",
            json!({"item_code": code, "name": "HRX Shoes", "tax_rate": "18", "mrp": "60.00"}),
        )
        .await
        .expect(201);
    }
    let lines: Vec<Value> = SKUS
        .iter()
        .map(|c| json!({"reference_code": c, "quantity": "100000000", "cost": "30.00", "price": "54.00"}))
        .collect();
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": lines}),
    )
    .await
    .expect(200);
    let target = match path {
        Path::StoreApi => {
            hub.create_store("WEB", &["BLR"], false).await;
            Target::Api(hub.api_key("WEB", &["BLR"]).await)
        }
        Path::ShopifyWebhook => {
            hub.admin_post(
                "/admin/v1/stores",
                json!({"code": "SHOP", "name": "Shopify shop", "connector": "shopify",
                       "config": {"webhook_secret": SHOPIFY_SECRET, "base_url": "http://127.0.0.1:9"},
                       "locations": ["BLR"], "payment_types": ["prepaid", "cod"], "prices_include_tax": false}),
            )
            .await
            .expect(201);
            let mut template: Value = poshub_tests::serde_json::from_slice(&poshub_tests::fixture(
                "shopify/orders_create__sanjeev_inr_3_variants_sku_igst.json",
            ))
            .expect("fixture parses");
            template["id"] = json!("@ID@");
            template["order_number"] = json!("@NUMBER@");
            template["name"] = json!("#B@N@");
            template["phone"] = json!("@PHONE@");
            template["customer"] =
                json!({"first_name": "Bench", "last_name": "Buyer @N@", "phone": "@PHONE@"});
            Target::Shopify(Arc::new(template.to_string()))
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let next = Arc::new(AtomicU64::new(1));
    let warm_up = Instant::now() + Duration::from_secs(2);
    let end = warm_up + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (hub, client, next, target) =
            (hub.clone(), client.clone(), next.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let request = target.request(&client, &hub.base, n);
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let ok = match request.send().await {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let body = res.bytes().await.unwrap_or_default();
                        target.accepted(status, &body)
                    }
                    Err(_) => false,
                };
                if started >= warm_up {
                    latencies.push(started.elapsed());
                    if !ok {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        latencies.extend(l);
        errors += e;
    }
    let orders = latencies.len() as u64 - errors;
    let rate = orders as f64 / seconds as f64;
    latencies.sort();
    println!(
        "| {} | {} | {clients} | {orders} | {rate:.0} | {:.1} | {:.1} | {errors} |",
        name(backend),
        match path {
            Path::StoreApi => "store API `POST /api/v1/sales-orders`",
            Path::ShopifyWebhook => "Shopify webhook `orders/create`",
        },
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
    );
    // What was accepted is really there, with its stock reserved.
    hub.assert_ledger_balances().await;
    (
        rate,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
    )
}

#[derive(Clone)]
enum Target {
    Api(String),
    /// The fixture, serialised, with `@ID@`, `@NUMBER@`, `@N@` and
    /// `@PHONE@` to fill in.
    Shopify(Arc<String>),
}

impl Target {
    /// Order number `n`: even ones from a regular customer, odd ones from a
    /// new one.
    fn request(&self, client: &reqwest::Client, base: &str, n: u64) -> reqwest::RequestBuilder {
        let phone = if n.is_multiple_of(2) {
            format!("+9190{:08}", n / 2 % REGULARS)
        } else {
            format!("+9180{:08}", n)
        };
        match self {
            Target::Api(key) => {
                let body = order(
                    &format!("B-{n}"),
                    None,
                    Some(&phone),
                    &[
                        (SKUS[0], 1, "54.00"),
                        (SKUS[1], 1, "54.00"),
                        (SKUS[2], 2, "54.00"),
                    ],
                    "prepaid",
                );
                client
                    .post(format!("{base}/api/v1/sales-orders"))
                    .bearer_auth(key)
                    .json(&body)
            }
            Target::Shopify(template) => {
                // Filling in the serialised fixture keeps the clients' share
                // of the two cores small (a JSON round trip of the whole
                // payload per order cost about as much as the hub's parse).
                let body = template
                    .replace("\"@ID@\"", &(5_000_000_000_000u64 + n).to_string())
                    .replace("\"@NUMBER@\"", &n.to_string())
                    .replace("@N@", &n.to_string())
                    .replace("@PHONE@", &phone)
                    .into_bytes();
                let signature = shopify_signature(&body);
                client
                    .post(format!("{base}/hooks/SHOP/orders/create"))
                    .header("content-type", "application/json")
                    .header("x-shopify-hmac-sha256", signature)
                    .body(body)
            }
        }
    }

    fn accepted(&self, status: u16, body: &[u8]) -> bool {
        match self {
            Target::Api(_) => status == 201,
            Target::Shopify(_) => {
                status == 200
                    && poshub_tests::serde_json::from_slice::<Value>(body)
                        .map(|v| v["results"][0]["result"] == "accepted")
                        .unwrap_or(false)
            }
        }
    }
}

/// Shopify signs the raw body: base64 of HMAC-SHA256 with the app secret.
fn shopify_signature(body: &[u8]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SHOPIFY_SECRET.as_bytes()).expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Loads `variants` variants (matrix items of 5 sizes) with stock at 5
/// locations, then walks the store API's items pages; returns the page p99
/// in ms.
async fn items(backend: Backend, variants: usize) -> f64 {
    let hub = start(backend).await;
    let locations = ["L1", "L2", "L3", "L4", "L5"];
    for code in locations {
        hub.admin_post(
            "/admin/v1/locations",
            json!({"code": code, "name": format!("Location {code}")}),
        )
        .await
        .expect(201);
    }
    let loading = Instant::now();
    poshub_tests::import_variants(&hub, variants).await;
    poshub_tests::stock_everywhere(&hub, 12).await;
    let loaded = loading.elapsed();
    hub.create_store("WEB", &locations, false).await;
    let key = hub.api_key("WEB", &locations).await;

    let mut page_times = Vec::new();
    let mut walks = Vec::new();
    for _ in 0..3 {
        let walk = Instant::now();
        let mut rows = 0usize;
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/api/v1/items?limit=500", hub.base);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let started = Instant::now();
            let res = hub
                .client
                .get(&url)
                .bearer_auth(&key)
                .send()
                .await
                .expect("page");
            assert_eq!(res.status().as_u16(), 200);
            let page: Value = res.json().await.expect("page json");
            page_times.push(started.elapsed());
            rows += page["items"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(rows, variants, "a full walk sees every variant once");
        walks.push(rows as f64 / walk.elapsed().as_secs_f64());
    }
    page_times.sort();
    walks.sort_by(f64::total_cmp);
    println!(
        "| {} | {variants} x {} | 500 | {} | {:.1} | {:.1} | {:.0} |",
        name(backend),
        locations.len(),
        page_times.len(),
        ms(percentile(&page_times, 50.0)),
        ms(percentile(&page_times, 99.0)),
        walks[walks.len() / 2],
    );
    eprintln!(
        "({} catalogue loaded in {:.1} s)",
        name(backend),
        loaded.as_secs_f64()
    );
    ms(percentile(&page_times, 99.0))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
