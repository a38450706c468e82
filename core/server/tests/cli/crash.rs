//! Crash safety: orders are driven at the real `poshub` binary, which is
//! killed with SIGKILL at a random moment and restarted on the same database.
//! Every order that got a 2xx must be there, whole, with its reservation; no
//! order is half-written, no reservation lacks its order, and the ledger
//! balances. Several rounds, SQLite and Postgres.
//!
//! The kill delays come from a seeded RNG; the seed is printed, and
//! `POSHUB_CRASH_SEED=N` replays it.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{rngs::StdRng, Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::{self, RunningHub};

pub(crate) const TOKEN: &str = "crash-admin";
pub(crate) const CODES: [&str; 4] = ["A", "B", "C", "D"];
pub(crate) const LOCATIONS: [&str; 2] = ["BLR", "MUM"];
const ROUNDS: usize = 5;
const TASKS: usize = 8;
/// Stock received per variant and location: far more than the orders take.
pub(crate) const STOCK: i64 = 1_000_000;

pub(crate) fn start_hub(db: &str, dir: &std::path::Path) -> RunningHub {
    let cache = dir.join("cache");
    common::start_hub(
        &["--database", db, "--plugin-cache", cache.to_str().unwrap()],
        TOKEN,
    )
}

pub(crate) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let res = client
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        other => panic!("not a quantity: {other}"),
    }
}

/// One order the hub acknowledged with a 2xx.
#[derive(Debug, Clone)]
pub(crate) struct Acked {
    pub(crate) id: i64,
    pub(crate) reference: String,
    /// (reference code, quantity), in line order.
    pub(crate) lines: Vec<(String, Decimal)>,
}

/// Locations, catalogue, a store and its API key; returns the key.
pub(crate) async fn set_up(client: &reqwest::Client, base: &str) -> String {
    let admin = |path: &str| format!("{base}/admin/v1/{path}");
    for code in LOCATIONS {
        let (s, b) = call(
            client,
            reqwest::Method::POST,
            admin("locations"),
            TOKEN,
            json!({"code": code, "name": code}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    for code in CODES {
        let (s, b) = call(
            client,
            reqwest::Method::POST,
            admin("items"),
            TOKEN,
            json!({"item_code": code, "name": code}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    for loc in LOCATIONS {
        let lines: Vec<Value> = CODES
            .iter()
            .map(|c| json!({"reference_code": c, "quantity": STOCK.to_string(), "price": "10.00"}))
            .collect();
        let (s, b) = call(
            client,
            reqwest::Method::POST,
            admin("stock/inward"),
            TOKEN,
            json!({"location": loc, "lines": lines}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = call(
        client,
        reqwest::Method::POST,
        admin("stores"),
        TOKEN,
        json!({"code": "WEB", "name": "W", "config": {"base_url": "http://127.0.0.1:9"},
               "locations": LOCATIONS, "payment_types": ["cod"]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, user) = call(
        client,
        reqwest::Method::POST,
        admin("stores/WEB/api-users"),
        TOKEN,
        json!({"name": "app"}),
    )
    .await;
    assert_eq!(s, 201, "{user}");
    user["api_key"].as_str().unwrap().to_string()
}

/// One client: posts orders until the hub stops answering.
async fn drive(
    base: String,
    key: String,
    round: usize,
    task: usize,
    seed: u64,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> usize {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(seed ^ ((round as u64) << 32) ^ task as u64);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let reference = format!("R{round}-T{task}-{attempts}");
        let n = rng.gen_range(1..=3);
        let mut lines = Vec::new();
        for _ in 0..n {
            // Few codes, so that concurrent orders contend for the same rows;
            // one order may name a code twice.
            let code = CODES[rng.gen_range(0..CODES.len())];
            lines.push((code.to_string(), Decimal::from(rng.gen_range(1..=3))));
        }
        let total: Decimal = lines.iter().map(|(_, q)| q * Decimal::from(10)).sum();
        let location = LOCATIONS[rng.gen_range(0..LOCATIONS.len())];
        let body = json!({
            "online_reference_no": reference,
            "location": location,
            "lines": lines.iter().map(|(c, q)| json!({"reference_code": c, "quantity": q.to_string(), "unit_price": "10.00"})).collect::<Vec<_>>(),
            "payments": [{"type": "cod", "amount": format!("{total}.00")}],
            "total": format!("{total}.00"),
        });
        let res = client
            .post(format!("{base}/api/v1/sales-orders"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await;
        let Ok(res) = res else { return attempts }; // the hub is gone
        let status = res.status().as_u16();
        let Ok(out) = res.json::<Value>().await else {
            return attempts;
        };
        if (200..300).contains(&status) {
            acked.lock().unwrap().push(Acked {
                id: out["id"].as_i64().expect("an acknowledged order has an id"),
                reference,
                lines,
            });
        } else {
            panic!("order {reference} refused with {status}: {out}");
        }
    }
}

/// Every order in the database, paging through the admin list.
pub(crate) async fn all_orders(client: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/admin/v1/sales-orders?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = call(client, reqwest::Method::GET, url, TOKEN, Value::Null).await;
        assert_eq!(s, 200, "{page}");
        out.extend(page["sales_orders"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// The checks after a restart; returns the number of orders found.
pub(crate) async fn check(
    client: &reqwest::Client,
    base: &str,
    db: &str,
    acked: &[Acked],
) -> usize {
    // Every acknowledged order is there, whole and pending.
    for a in acked {
        let (s, o) = call(
            client,
            reqwest::Method::GET,
            format!("{base}/admin/v1/sales-orders/{}", a.id),
            TOKEN,
            Value::Null,
        )
        .await;
        assert_eq!(s, 200, "acknowledged order {a:?} is missing: {o}");
        assert_eq!(o["online_reference_no"], a.reference.as_str());
        assert_eq!(o["status"], "pending", "{o}");
        let lines: Vec<(String, Decimal)> = o["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["reference_code"].as_str().unwrap().to_string(),
                    dec(&l["quantity"]),
                )
            })
            .collect();
        assert_eq!(lines, a.lines, "order {} has other lines", a.reference);
    }
    // No order without lines; the reservations are exactly the orders'.
    let orders = all_orders(client, base).await;
    let mut expected: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for c in CODES {
        for l in LOCATIONS {
            expected.insert((c.to_string(), l.to_string()), Decimal::ZERO);
        }
    }
    let mut ids = std::collections::HashSet::new();
    for o in &orders {
        assert!(
            ids.insert(o["id"].as_i64().unwrap()),
            "order listed twice: {o}"
        );
        assert_eq!(o["status"], "pending", "{o}");
        let lines = o["lines"].as_array().unwrap();
        assert!(!lines.is_empty(), "half-written order without lines: {o}");
        let loc = o["location"].as_str().unwrap().to_string();
        for l in lines {
            let code = l["reference_code"].as_str().unwrap().to_string();
            *expected.entry((code, loc.clone())).or_default() += dec(&l["quantity"]);
        }
    }
    for a in acked {
        assert!(ids.contains(&a.id), "order {a:?} is not in the list");
    }
    let mut found: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for c in CODES {
        let (s, levels) = call(
            client,
            reqwest::Method::GET,
            format!("{base}/admin/v1/stock/{c}"),
            TOKEN,
            Value::Null,
        )
        .await;
        assert_eq!(s, 200, "{levels}");
        for l in levels.as_array().unwrap() {
            let loc = l["location"].as_str().unwrap().to_string();
            assert_eq!(dec(&l["on_hand"]), Decimal::from(STOCK), "{l}");
            found.insert((c.to_string(), loc), dec(&l["reserved"]));
        }
    }
    assert_eq!(
        found, expected,
        "reservations (left) differ from the orders (right)"
    );
    // The ledger balances: sum of movements = balances.
    let storage = poshub_db::connect(db).await.unwrap();
    let mismatches = storage.verify_ledger().await.unwrap();
    assert!(mismatches.is_empty(), "ledger mismatches: {mismatches:?}");
    orders.len()
}

/// The seed of the kill delays: POSHUB_CRASH_SEED, else a random one;
/// printed so that a failing run can be replayed.
pub(crate) fn crash_seed(label: &str) -> u64 {
    let seed: u64 = std::env::var("POSHUB_CRASH_SEED")
        .ok()
        .map(|s| s.parse().expect("POSHUB_CRASH_SEED is a number"))
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("[{label}] seed {seed} (replay with POSHUB_CRASH_SEED={seed})");
    seed
}

async fn crash_rounds(backend: &str, db: String) {
    let seed = crash_seed(backend);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut hub = start_hub(&db, dir.path());
    let key = set_up(&client, &hub.base).await;
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut found_before = 0;
    let mut total_attempts = 0;
    for round in 0..ROUNDS {
        let acked_before = acked.lock().unwrap().len();
        let delay = Duration::from_millis(rng.gen_range(50..=400));
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            tasks.push(tokio::spawn(drive(
                hub.base.clone(),
                key.clone(),
                round,
                task,
                seed,
                acked.clone(),
            )));
        }
        // The load has started once the hub has taken an order of this
        // round; the kill comes at a random moment after that.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() == acked_before {
            assert!(
                Instant::now() < deadline,
                "round {round}: no order acknowledged within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(delay).await;
        hub.child.kill().unwrap(); // SIGKILL
        hub.child.wait().unwrap();
        let killed = Instant::now();
        for t in tasks {
            total_attempts += tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("a client never noticed the kill")
                .unwrap();
        }
        hub = start_hub(&db, dir.path());
        let acked_now = acked.lock().unwrap().clone();
        let found = check(&client, &hub.base, &db, &acked_now).await;
        println!(
            "[{backend}] round {round}: killed after {delay:?}; {} orders acknowledged, {} found \
             ({} committed without an answer); restarted and checked in {:?}",
            acked_now.len() - acked_before,
            found - found_before,
            found - found_before - (acked_now.len() - acked_before),
            killed.elapsed()
        );
        found_before = found;
    }
    let acked = acked.lock().unwrap().len();
    println!(
        "[{backend}] {ROUNDS} rounds, {ROUNDS} kills, {total_attempts} attempts, {acked} orders acknowledged, {found_before} in the database"
    );
    // Every round took orders before its kill, or the test proved nothing.
    assert!(acked >= ROUNDS, "only {acked} orders acknowledged");
    drop(hub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    crash_rounds("sqlite", db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_postgres() {
    let Some(db) = common::fresh_schema("crash").await else {
        eprintln!("POSHUB_TEST_POSTGRES_URL is not set: skipping the Postgres crash test");
        return;
    };
    crash_rounds("postgres", db).await;
}
