//! Load benchmarks of the running hub over HTTP on 127.0.0.1 (the real
//! server in this process, as the end-to-end tests start it):
//!
//! - order intake through the store API: 32 clients posting 3-line orders
//!   that reserve stock, half from repeat customers and half from new ones
//!   (and one client alone, for the latency a lone order sees), and
//!   Postgres as a ratio to SQLite;
//! - the same orders as signed Shopify `orders/create` webhooks, translated by
//!   the bundled Shopify plugin, as a ratio to the store-API path;
//! - hot items against spread ones: the store-API run above has every order
//!   on the same 3 SKUs (hot); the spread run has 300 SKUs, each order on 3
//!   distinct random ones. On Postgres also two hubs on one database (16
//!   clients each, one store key) on both workloads, against one hub with
//!   32. After each run no balance may hold more reserved than on hand;
//! - the last units: 3 SKUs of 2,000 units, no backorder, 32 clients (and
//!   two hubs on Postgres) until the stock runs out: the 201s times 4 units
//!   must be what is reserved, and nothing oversold;
//! - round trips per order on Postgres, counted by a relay in front of the
//!   database (`poshub_tests::pg_proxy`): orders one after another, then 32
//!   clients (and orders per commit, the batching);
//! - `GET /api/v1/items` over 100,000 variants x 5 locations: pages of 500
//!   (p50/p99) and full walks (rows/s).
//!
//! Each measurement prints one Markdown table row; `scripts/bench` gathers
//! them into BENCHMARKS.md. Postgres runs when `POSHUB_TEST_POSTGRES_URL` is
//! set. Knobs: `POSHUB_BENCH_SECONDS` (default 10 per intake run),
//! `POSHUB_BENCH_ONLY` (`intake`, `hot` (spread, hot, two hubs and the last
//! units), `rt` (round trips), `items`; `api` or `webhook` for one intake
//! path alone, `alone` for the store API with one client: profiling aids),
//! `POSHUB_BENCH_VARIANTS`.
//!
//! Run: `cargo bench -p poshub-tests -p poshub-connectors --bench hub`

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use poshub_tests::pg_proxy::PgProxy;
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{order, Backend, TestHub};
use rust_decimal::Decimal;

const CLIENTS: usize = 32;
const SKUS: [&str; 3] = ["tffffv456", "tffffv457", "tffffv458"];
/// SKUs of the spread run.
const SPREAD_SKUS: usize = 300;
/// Units of each SKU in the last-units run.
const LAST_UNITS: u64 = 2_000;
/// Units in one bench order (1 + 1 + 2).
const UNITS_PER_ORDER: u64 = 4;
/// Orders placed one after another for the round-trip count.
const SEQUENTIAL_ORDERS: u64 = 200;
const SHOPIFY_SECRET: &str = "bench-shopify-secret";
/// Repeat customers: this many phone numbers come back again and again.
const REGULARS: u64 = 1_000;
const WARM_UP: Duration = Duration::from_secs(2);

/// Order numbers (`B-n`), unique over the whole process.
static NEXT: AtomicU64 = AtomicU64::new(1);

#[derive(Clone, Copy, PartialEq)]
enum Path {
    StoreApi,
    ShopifyWebhook,
}

/// What the orders buy.
#[derive(Clone, Copy, PartialEq)]
enum Workload {
    /// Every order on the same 3 SKUs, more stock than any run takes.
    Hot,
    /// 300 SKUs; every order on 3 distinct random ones.
    Spread,
    /// The hot SKUs with 2,000 units each and no backorder: the stock runs
    /// out.
    LastUnits,
}

impl Workload {
    fn label(self) -> &'static str {
        match self {
            Workload::Hot => "hot: every order on the same 3 SKUs",
            Workload::Spread => "spread: 3 of 300 SKUs at random",
            Workload::LastUnits => "last units: 3 SKUs x 2,000",
        }
    }
}

/// One load run: the timed window's orders and latencies, and what was
/// answered over the whole run (warm-up included).
#[derive(Clone, Copy, Default)]
struct Run {
    /// Accepted orders in the timed window, and per second.
    orders: u64,
    rate: f64,
    p50: f64,
    p99: f64,
    /// Timed answers that were neither accepted nor refused for stock.
    errors: u64,
    /// Accepted over the whole run.
    accepted: u64,
    /// Refused for stock (`insufficient_stock`) over the whole run.
    refused: u64,
}

/// The stock after a run, summed over every balance.
#[derive(Clone, Copy, Default)]
struct Stock {
    on_hand: Decimal,
    reserved: Decimal,
    /// Sum over the balances of max(0, reserved - on hand).
    oversold: Decimal,
}

fn main() {
    runtime().block_on(run());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs `run` on a runtime of its own, dropped when it is done. A hub's
/// sync worker and intake task keep its storage, and so its database
/// connections, for as long as their runtime runs: the hubs of one run
/// would otherwise hold their Postgres connections through the next ones
/// (the server takes 100).
async fn isolated<T: Send + 'static>(run: impl Future<Output = T> + Send + 'static) -> T {
    tokio::task::spawn_blocking(move || runtime().block_on(run))
        .await
        .expect("the run ends")
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
    if only == "webhook" || only == "api" || only == "alone" {
        // Profiling aids: one path alone (`alone`: the store API, one client).
        let (path, clients) = match only.as_str() {
            "api" => (Path::StoreApi, CLIENTS),
            "alone" => (Path::StoreApi, 1),
            _ => (Path::ShopifyWebhook, CLIENTS),
        };
        for backend in &backends {
            intake(*backend, path, clients, seconds).await;
        }
        return;
    }
    // Store-API (orders/s, p99 ms) at 32 clients and p50 ms of one client,
    // per backend, for the Postgres / SQLite rows.
    let mut api_runs: Vec<(Backend, f64, f64, f64)> = Vec::new();
    // The 32-client store-API runs: the hot workload's one-hub figures.
    let mut hot_runs: Vec<(Backend, Run, Stock)> = Vec::new();
    if only.is_empty() || only == "intake" {
        println!("| Backend | Path | Clients | Orders | Orders/s | p50 ms | p99 ms | Errors |");
        println!("|---|---|---|---|---|---|---|---|");
        for backend in &backends {
            let (api_run, api_stock) = intake(*backend, Path::StoreApi, CLIENTS, seconds).await;
            hot_runs.push((*backend, api_run, api_stock));
            let (api, p99) = (api_run.rate, api_run.p99);
            let (alone_run, _) = intake(*backend, Path::StoreApi, 1, seconds).await;
            let alone = alone_run.p50;
            api_runs.push((*backend, api, p99, alone));
            let (hook_run, _) = intake(*backend, Path::ShopifyWebhook, CLIENTS, seconds).await;
            let ratio = hook_run.rate / api;
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
    if only.is_empty() || only == "hot" {
        hot_and_spread(&backends, &hot_runs, seconds, &mut targets).await;
        last_units(&backends, seconds, &mut targets).await;
    }
    if (only.is_empty() || only == "rt") && backends.contains(&Backend::Postgres) {
        isolated(round_trips(seconds)).await;
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

/// Runs `clients` clients for `seconds` (after a 2 s warm-up) on the hot
/// workload and prints an intake row.
async fn intake(backend: Backend, path: Path, clients: usize, seconds: u64) -> (Run, Stock) {
    let (run, stock) = load(backend, path, Workload::Hot, 1, clients, WARM_UP, seconds).await;
    println!(
        "| {} | {} | {clients} | {} | {:.0} | {:.1} | {:.1} | {} |",
        name(backend),
        match path {
            Path::StoreApi => "store API `POST /api/v1/sales-orders`",
            Path::ShopifyWebhook => "Shopify webhook `orders/create`",
        },
        run.orders,
        run.rate,
        run.p50,
        run.p99,
        run.errors,
    );
    (run, stock)
}

/// The spread run against the hot one on each backend, and on Postgres two
/// hubs on one database against one hub, on both workloads. `hot_runs` are
/// the intake table's 32-client store-API runs (the hot workload), when
/// that table ran.
async fn hot_and_spread(
    backends: &[Backend],
    hot_runs: &[(Backend, Run, Stock)],
    seconds: u64,
    targets: &mut Vec<(String, String, bool)>,
) {
    println!("| Backend | Workload | Hubs x clients | Orders | Orders/s | p50 ms | p99 ms | Errors | Oversold units |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let row =
        |backend: Backend, workload: Workload, hubs: usize, clients: usize, r: &Run, s: &Stock| {
            println!(
                "| {} | {} | {hubs} x {clients} | {} | {:.0} | {:.1} | {:.1} | {} | {} |",
                name(backend),
                workload.label(),
                r.orders,
                r.rate,
                r.p50,
                r.p99,
                r.errors + r.refused,
                s.oversold,
            );
        };
    for backend in backends {
        let spread = load(
            *backend,
            Path::StoreApi,
            Workload::Spread,
            1,
            CLIENTS,
            WARM_UP,
            seconds,
        )
        .await;
        row(*backend, Workload::Spread, 1, CLIENTS, &spread.0, &spread.1);
        let hot = match hot_runs.iter().find(|(b, _, _)| b == backend) {
            Some((_, run, stock)) => (*run, *stock),
            None => {
                load(
                    *backend,
                    Path::StoreApi,
                    Workload::Hot,
                    1,
                    CLIENTS,
                    WARM_UP,
                    seconds,
                )
                .await
            }
        };
        row(*backend, Workload::Hot, 1, CLIENTS, &hot.0, &hot.1);
        let ratio = hot.0.rate / spread.0.rate;
        println!(
            "| {} | hot / spread | | | **{ratio:.2}x** | | | | |",
            name(*backend)
        );
        let mut oversold = hot.1.oversold + spread.1.oversold;
        if *backend != Backend::Postgres {
            continue;
        }
        let mut two_hubs = Vec::new();
        for (workload, one) in [(Workload::Spread, spread), (Workload::Hot, hot)] {
            let two = load(
                *backend,
                Path::StoreApi,
                workload,
                2,
                CLIENTS / 2,
                WARM_UP,
                seconds,
            )
            .await;
            row(*backend, workload, 2, CLIENTS / 2, &two.0, &two.1);
            oversold += two.1.oversold;
            two_hubs.push((workload, two.0.rate / one.0.rate));
        }
        for (workload, ratio) in &two_hubs {
            let what = if *workload == Workload::Hot {
                "hot"
            } else {
                "spread"
            };
            println!(
                "| {} | two hubs / one hub, {what} | | | **{ratio:.2}x** | | | | |",
                name(*backend)
            );
            targets.push((
                format!("Postgres: two hubs (2 x 16 clients) >= 1.0x one hub (32 clients), {what}"),
                format!("{ratio:.2}x"),
                *ratio >= 1.0,
            ));
        }
        targets.push((
            "Postgres: hot items >= 0.5x spread, 0 oversold units".into(),
            format!("{ratio:.2}x, {oversold} oversold"),
            ratio >= 0.5 && oversold.is_zero(),
        ));
    }
    println!();
}

/// The last units: 3 SKUs x 2,000, no backorder, every order for 4 units
/// (2 of the third SKU: it runs out after 1,000 orders). Clients post for
/// up to 3 s, no warm-up; every 201 must be in the reserved units, none
/// oversold, and the stock all sold.
async fn last_units(backends: &[Backend], seconds: u64, targets: &mut Vec<(String, String, bool)>) {
    println!("| Backend | Stock | Hubs x clients | Accepted (201) | Refused (`insufficient_stock`) | Other errors | Units reserved | 201s x 4 units | On hand | Oversold units |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let seconds = seconds.min(3);
    let mut runs = vec![];
    for backend in backends {
        runs.push((*backend, 1, CLIENTS));
        if *backend == Backend::Postgres {
            runs.push((*backend, 2, CLIENTS / 2));
        }
    }
    for (backend, hubs, clients) in runs {
        let (run, stock) = load(
            backend,
            Path::StoreApi,
            Workload::LastUnits,
            hubs,
            clients,
            Duration::ZERO,
            seconds,
        )
        .await;
        let acknowledged = Decimal::from(run.accepted * UNITS_PER_ORDER);
        println!(
            "| {} | 3 SKUs x {LAST_UNITS}, no backorder | {hubs} x {clients} | {} | {} | {} | {} | {acknowledged} | {} | {} |",
            name(backend),
            run.accepted,
            run.refused,
            run.errors,
            stock.reserved,
            stock.on_hand,
            stock.oversold,
        );
        // The third SKU (2 an order) runs out after this many orders.
        let all = LAST_UNITS / 2;
        targets.push((
            format!(
                "{}: last units, {hubs} x {clients} clients: {all} accepted, 201s x 4 = reserved, 0 oversold",
                name(backend)
            ),
            format!(
                "{} accepted, {acknowledged} vs {} reserved, {} oversold",
                run.accepted, stock.reserved, stock.oversold
            ),
            run.accepted == all && acknowledged == stock.reserved && stock.oversold.is_zero(),
        ));
    }
    println!();
}

/// Round trips per order on Postgres: a hub whose database is behind a
/// counting relay places orders one after another, then with 32 clients.
/// The hub runs no sync worker (its polls are no order's round trips); the
/// catalogue is loaded through another hub, straight to the database.
async fn round_trips(seconds: u64) {
    println!("| Backend | Run | Orders | Round trips | Round trips / order | Commits | Orders / commit |");
    println!("|---|---|---|---|---|---|---|");
    let loader = start(Backend::Postgres).await;
    let target = seed(&loader, Workload::Hot, Path::StoreApi).await;
    let proxy = PgProxy::start(&loader.database_url).await;
    let config = poshub_server::Config {
        database_url: proxy.url(),
        admin_token: Some(poshub_tests::ADMIN_TOKEN.to_string()),
        default_country: Default::default(),
        currency: None,
        plugins_dir: None,
        plugin_cache: Some(std::env::temp_dir().join("poshub-test-plugin-cache")),
        sync: None,
    };
    let hub = poshub_server::build(&config).await.expect("hub builds");
    let bound = poshub_server::bind("127.0.0.1:0".parse().unwrap(), None).expect("bind");
    let base = bound.base_url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        bound
            .serve(hub.router, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve")
    });
    let client = reqwest::Client::new();
    let one = |n: u64| {
        let request = target.request(&client, &base, n);
        async move {
            let res = request.send().await.expect("order");
            if res.status().as_u16() != 201 {
                panic!("order refused: {}", res.text().await.unwrap_or_default());
            }
        }
    };
    // Warm the statement caches first: a connection's first orders prepare.
    for _ in 0..20 {
        one(NEXT.fetch_add(1, Ordering::Relaxed)).await;
    }
    proxy.reset();
    for _ in 0..SEQUENTIAL_ORDERS {
        one(NEXT.fetch_add(1, Ordering::Relaxed)).await;
    }
    let (trips, commits) = (proxy.round_trips(), proxy.commits());
    println!(
        "| Postgres | 1 client, orders one after another | {SEQUENTIAL_ORDERS} | {trips} | {:.1} | {commits} | {:.2} |",
        trips as f64 / SEQUENTIAL_ORDERS as f64,
        SEQUENTIAL_ORDERS as f64 / commits.max(1) as f64,
    );
    let seconds = seconds.min(5);
    proxy.reset();
    let run = drive(
        std::slice::from_ref(&base),
        &target,
        CLIENTS,
        Duration::ZERO,
        seconds,
    )
    .await;
    let (trips, commits) = (proxy.round_trips(), proxy.commits());
    println!(
        "| Postgres | {CLIENTS} clients, {seconds} s | {} | {trips} | {:.1} | {commits} | {:.2} |",
        run.accepted,
        trips as f64 / run.accepted.max(1) as f64,
        run.accepted as f64 / commits.max(1) as f64,
    );
    let _ = stop.send(());
    let _ = server.await;
    loader.assert_ledger_balances().await;
    println!();
}

/// Loads the catalogue `workload` needs (location BLR, its SKUs and their
/// stock) and the store the orders go to; returns how to send them.
async fn seed(hub: &TestHub, workload: Workload, path: Path) -> Target {
    hub.admin_post(
        "/admin/v1/locations",
        json!({"code": "BLR", "name": "Bengaluru"}),
    )
    .await
    .expect(201);
    let codes: Vec<String> = match workload {
        Workload::Hot | Workload::LastUnits => SKUS.iter().map(|c| c.to_string()).collect(),
        Workload::Spread => (0..SPREAD_SKUS).map(|i| format!("sp{i:04}")).collect(),
    };
    // A few at a time: 300 items one by one are slow on Postgres.
    for chunk in codes.chunks(4) {
        let mut posts = Vec::new();
        for code in chunk {
            posts.push(hub.admin_post(
                "/admin/v1/items",
                json!({"item_code": code, "name": "HRX Shoes", "tax_rate": "18", "mrp": "60.00"}),
            ));
        }
        for answer in futures::future::join_all(posts).await {
            answer.expect(201);
        }
    }
    let quantity = match workload {
        Workload::LastUnits => LAST_UNITS.to_string(),
        Workload::Hot | Workload::Spread => "100000000".to_string(),
    };
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
    match path {
        Path::StoreApi => {
            hub.create_store("WEB", &["BLR"], false).await;
            Target::Api {
                key: hub.api_key("WEB", &["BLR"]).await,
                codes: Arc::new(codes),
                spread: workload == Workload::Spread,
            }
        }
        Path::ShopifyWebhook => {
            assert!(workload == Workload::Hot, "the webhook path runs hot only");
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
    }
}

/// A run on a fresh database: `hubs` hubs on it (the first loads the
/// catalogue), `clients` clients on each, for `seconds` after `warm_up`;
/// then the ledger is checked and the stock summed.
async fn load(
    backend: Backend,
    path: Path,
    workload: Workload,
    hubs: usize,
    clients: usize,
    warm_up: Duration,
    seconds: u64,
) -> (Run, Stock) {
    isolated(load_here(
        backend, path, workload, hubs, clients, warm_up, seconds,
    ))
    .await
}

async fn load_here(
    backend: Backend,
    path: Path,
    workload: Workload,
    hubs: usize,
    clients: usize,
    warm_up: Duration,
    seconds: u64,
) -> (Run, Stock) {
    let first = start(backend).await;
    let target = seed(&first, workload, path).await;
    let mut all = vec![first];
    for _ in 1..hubs {
        let url = all[0].database_url.clone();
        all.push(TestHub::start_on(backend, url, None, None, None).await);
    }
    let bases: Vec<String> = all.iter().map(|h| h.base.clone()).collect();
    let run = drive(&bases, &target, clients, warm_up, seconds).await;
    // What was accepted is really there, with its stock reserved.
    all[0].assert_ledger_balances().await;
    (run, stock(&all[0]).await)
}

/// `clients` clients on each hub at `bases`, posting orders for `seconds`
/// after `warm_up`.
async fn drive(
    bases: &[String],
    target: &Target,
    clients: usize,
    warm_up: Duration,
    seconds: u64,
) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let warm_up = Instant::now() + warm_up;
    let end = warm_up + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for base in bases {
        for _ in 0..clients {
            let (base, client, target) = (base.clone(), client.clone(), target.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let (mut errors, mut accepted, mut refused) = (0u64, 0u64, 0u64);
                loop {
                    let n = NEXT.fetch_add(1, Ordering::Relaxed);
                    let request = target.request(&client, &base, n);
                    let started = Instant::now();
                    if started >= end {
                        break;
                    }
                    let outcome = match request.send().await {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let body = res.bytes().await.unwrap_or_default();
                            target.outcome(status, &body)
                        }
                        Err(_) => Outcome::Failed,
                    };
                    match outcome {
                        Outcome::Accepted => accepted += 1,
                        Outcome::OutOfStock => refused += 1,
                        Outcome::Failed => {}
                    }
                    if started >= warm_up {
                        latencies.push((started.elapsed(), outcome));
                        if outcome == Outcome::Failed {
                            errors += 1;
                        }
                    }
                }
                (latencies, errors, accepted, refused)
            }));
        }
    }
    let mut run = Run::default();
    let mut latencies = Vec::new();
    for t in tasks {
        let (l, e, a, r) = t.await.expect("client task");
        latencies.extend(l);
        run.errors += e;
        run.accepted += a;
        run.refused += r;
    }
    run.orders = latencies
        .iter()
        .filter(|(_, o)| *o == Outcome::Accepted)
        .count() as u64;
    run.rate = run.orders as f64 / seconds as f64;
    let mut latencies: Vec<Duration> = latencies.into_iter().map(|(l, _)| l).collect();
    latencies.sort();
    run.p50 = ms(percentile(&latencies, 50.0));
    run.p99 = ms(percentile(&latencies, 99.0));
    run
}

/// On hand, reserved and oversold units over every balance, read with SQL.
async fn stock(hub: &TestHub) -> Stock {
    let sql = "SELECT CAST(on_hand AS TEXT), CAST(reserved AS TEXT) FROM stock_balances";
    let rows: Vec<(String, String)> = match hub.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&hub.database_url)
                .await
                .expect("sqlite");
            sqlx::query_as(sql)
                .fetch_all(&pool)
                .await
                .expect("balances")
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&hub.database_url)
                .await
                .expect("postgres");
            sqlx::query_as(sql)
                .fetch_all(&pool)
                .await
                .expect("balances")
        }
    };
    let mut stock = Stock::default();
    for (on_hand, reserved) in rows {
        let on_hand = Decimal::from_str(&on_hand).expect("on hand");
        let reserved = Decimal::from_str(&reserved).expect("reserved");
        stock.on_hand += on_hand;
        stock.reserved += reserved;
        stock.oversold += (reserved - on_hand).max(Decimal::ZERO);
    }
    stock.on_hand = stock.on_hand.normalize();
    stock.reserved = stock.reserved.normalize();
    stock.oversold = stock.oversold.normalize();
    stock
}

#[derive(Clone)]
enum Target {
    Api {
        key: String,
        /// The SKUs orders take: the first 3, or 3 distinct random ones
        /// when `spread`.
        codes: Arc<Vec<String>>,
        spread: bool,
    },
    /// The fixture, serialised, with `@ID@`, `@NUMBER@`, `@N@` and
    /// `@PHONE@` to fill in.
    Shopify(Arc<String>),
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Accepted,
    /// Refused: `insufficient_stock`.
    OutOfStock,
    Failed,
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
            Target::Api { key, codes, spread } => {
                let picked: Vec<usize> = if *spread {
                    rand::seq::index::sample(&mut rand::thread_rng(), codes.len(), 3).into_vec()
                } else {
                    vec![0, 1, 2]
                };
                let body = order(
                    &format!("B-{n}"),
                    None,
                    Some(&phone),
                    &[
                        (codes[picked[0]].as_str(), 1, "54.00"),
                        (codes[picked[1]].as_str(), 1, "54.00"),
                        (codes[picked[2]].as_str(), 2, "54.00"),
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

    fn outcome(&self, status: u16, body: &[u8]) -> Outcome {
        let body = || poshub_tests::serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
        match self {
            Target::Api { .. } if status == 201 => Outcome::Accepted,
            Target::Api { .. } if status == 409 && body()["code"] == "insufficient_stock" => {
                Outcome::OutOfStock
            }
            Target::Api { .. } => Outcome::Failed,
            Target::Shopify(_) => {
                if status == 200 && body()["results"][0]["result"] == "accepted" {
                    Outcome::Accepted
                } else {
                    Outcome::Failed
                }
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
