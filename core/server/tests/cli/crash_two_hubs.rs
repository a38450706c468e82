//! Crash safety with two hubs on one Postgres: two `poshub serve` processes
//! take orders for the same few items from the same repeat customers; hub A
//! is killed with SIGKILL at a random moment while hub B keeps taking
//! orders, then A is restarted. Every order either hub acknowledged is
//! there, whole, with its reservation; no order is doubled or half-written;
//! the ledger balances; and B answered every order it was sent with a 2xx
//! (A's death is no error of B's). Several rounds.
//!
//! The kill delays come from a seeded RNG; the seed is printed, and
//! `POSHUB_CRASH_SEED=N` replays it (as in `crash.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{rngs::StdRng, Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common;
use crate::crash::{self, Acked, CODES, LOCATIONS};

const ROUNDS: usize = 3;
/// Clients per hub.
const TASKS: usize = 4;
/// The repeat customers: every order names one of them, or nobody (walk-in).
const PHONES: [&str; 4] = ["9845010001", "9845010002", "9845010003", "9845010004"];

/// What the clients saw, shared by all of them.
#[derive(Default)]
struct Seen {
    acked: Mutex<Vec<Acked>>,
    /// (phone, customer id) of every acknowledged order with a phone.
    customers: Mutex<Vec<(String, i64)>>,
    /// References sent to A whose answer never came (A was killed).
    unanswered: Mutex<HashSet<String>>,
    /// Anything but a 2xx, or a connection error from a hub that was not
    /// being killed.
    failures: Mutex<Vec<String>>,
    /// Orders A and B acknowledged.
    acked_by_a: AtomicUsize,
    acked_by_b: AtomicUsize,
}

/// One client of `hub` ("A" or "B"): posts orders until `stop` is set or,
/// for A, until the hub stops answering.
#[allow(clippy::too_many_arguments)]
async fn drive(
    hub: &'static str,
    base: String,
    key: String,
    round: usize,
    task: usize,
    seed: u64,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) -> usize {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let salt = if hub == "A" { 0 } else { 1 << 16 };
    let mut rng = StdRng::seed_from_u64(seed ^ ((round as u64) << 32) ^ salt ^ task as u64);
    let mut attempts = 0;
    while !stop.load(Ordering::Relaxed) {
        attempts += 1;
        let reference = format!("{hub}{round}-T{task}-{attempts}");
        let n = rng.gen_range(1..=3);
        let mut lines = Vec::new();
        for _ in 0..n {
            let code = CODES[rng.gen_range(0..CODES.len())];
            lines.push((code.to_string(), Decimal::from(rng.gen_range(1..=3))));
        }
        let total: Decimal = lines.iter().map(|(_, q)| q * Decimal::from(10)).sum();
        let location = LOCATIONS[rng.gen_range(0..LOCATIONS.len())];
        let phone = (rng.gen_range(0..5) < 4).then(|| PHONES[rng.gen_range(0..PHONES.len())]);
        let mut body = json!({
            "online_reference_no": reference,
            "location": location,
            "lines": lines.iter().map(|(c, q)| json!({"reference_code": c, "quantity": q.to_string(), "unit_price": "10.00"})).collect::<Vec<_>>(),
            "payments": [{"type": "cod", "amount": format!("{total}.00")}],
            "total": format!("{total}.00"),
        });
        if let Some(p) = phone {
            body["customer"] = json!({"name": format!("Customer {p}"), "phone": p});
        }
        let answer = match client
            .post(format!("{base}/api/v1/sales-orders"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
        {
            Ok(res) => {
                let status = res.status().as_u16();
                res.json::<Value>().await.map(|out| (status, out))
            }
            Err(e) => Err(e),
        };
        let (status, out) = match answer {
            Ok(a) => a,
            Err(_) if hub == "A" => {
                // A is gone: this order may or may not have been committed.
                seen.unanswered.lock().unwrap().insert(reference);
                return attempts;
            }
            Err(e) => {
                seen.failures
                    .lock()
                    .unwrap()
                    .push(format!("order {reference} to hub B: no answer: {e}"));
                return attempts;
            }
        };
        if !(200..300).contains(&status) {
            seen.failures
                .lock()
                .unwrap()
                .push(format!("order {reference} to hub {hub}: {status} {out}"));
            return attempts;
        }
        let id = out["id"].as_i64().expect("an acknowledged order has an id");
        if let Some(p) = phone {
            let customer = out["customer"]["id"].as_i64().expect("a customer id");
            seen.customers
                .lock()
                .unwrap()
                .push((p.to_string(), customer));
        }
        seen.acked.lock().unwrap().push(Acked {
            id,
            reference,
            lines,
        });
        let count = if hub == "A" {
            &seen.acked_by_a
        } else {
            &seen.acked_by_b
        };
        count.fetch_add(1, Ordering::Relaxed);
    }
    attempts
}

/// Waits until `cond` holds, for at most `within`.
async fn wait_until(what: &str, within: Duration, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_one_of_two_hubs_postgres() {
    let Some(db) = common::fresh_schema("crash2").await else {
        eprintln!("POSHUB_TEST_POSTGRES_URL is not set: skipping the two-hub crash test");
        return;
    };
    let started = Instant::now();
    let seed = crash::crash_seed("two hubs");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut a = crash::start_hub(&db, dir.path());
    let key = crash::set_up(&client, &a.base).await;
    let b = crash::start_hub(&db, dir.path());
    let seen: Arc<Seen> = Arc::default();
    let mut found_before = 0;
    for round in 0..ROUNDS {
        let acked_before = seen.acked.lock().unwrap().len();
        let a_before = seen.acked_by_a.load(Ordering::Relaxed);
        let b_before = seen.acked_by_b.load(Ordering::Relaxed);
        let delay = Duration::from_millis(rng.gen_range(50..=400));
        let stop_a = Arc::new(AtomicBool::new(false));
        let stop_b = Arc::new(AtomicBool::new(false));
        let mut on_a = Vec::new();
        let mut on_b = Vec::new();
        for task in 0..TASKS {
            on_a.push(tokio::spawn(drive(
                "A",
                a.base.clone(),
                key.clone(),
                round,
                task,
                seed,
                stop_a.clone(),
                seen.clone(),
            )));
            on_b.push(tokio::spawn(drive(
                "B",
                b.base.clone(),
                key.clone(),
                round,
                task,
                seed,
                stop_b.clone(),
                seen.clone(),
            )));
        }
        // Both hubs are taking orders; A dies at a random moment after that.
        wait_until(
            &format!("round {round}: both hubs acknowledge an order"),
            Duration::from_secs(20),
            || {
                seen.acked_by_a.load(Ordering::Relaxed) > a_before
                    && seen.acked_by_b.load(Ordering::Relaxed) > b_before
            },
        )
        .await;
        tokio::time::sleep(delay).await;
        a.child.kill().unwrap(); // SIGKILL
        a.child.wait().unwrap();
        let killed = Instant::now();
        let b_at_kill = seen.acked_by_b.load(Ordering::Relaxed);
        let mut attempts = 0;
        for t in on_a {
            attempts += tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("a client of A never noticed the kill")
                .unwrap();
        }
        // B goes on taking orders while A is down and while it restarts.
        wait_until(
            &format!("round {round}: B acknowledges orders after A's kill"),
            Duration::from_secs(20),
            || seen.acked_by_b.load(Ordering::Relaxed) >= b_at_kill + 20,
        )
        .await;
        a = crash::start_hub(&db, dir.path());
        let b_at_restart = seen.acked_by_b.load(Ordering::Relaxed);
        wait_until(
            &format!("round {round}: B acknowledges orders after A's restart"),
            Duration::from_secs(20),
            || seen.acked_by_b.load(Ordering::Relaxed) >= b_at_restart + 10,
        )
        .await;
        stop_b.store(true, Ordering::Relaxed);
        for t in on_b {
            attempts += tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("a client of B hung")
                .unwrap();
        }
        let failures = seen.failures.lock().unwrap().clone();
        assert!(
            failures.is_empty(),
            "round {round} (seed {seed}): {} failures, first: {:#?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );

        // The restarted A checks what both hubs wrote.
        let acked_now = seen.acked.lock().unwrap().clone();
        let found = crash::check(&client, &a.base, &db, &acked_now).await;
        let orders = crash::all_orders(&client, &a.base).await;
        let acked_refs: HashSet<&str> = acked_now.iter().map(|o| o.reference.as_str()).collect();
        let unanswered = seen.unanswered.lock().unwrap().clone();
        let mut references = HashSet::new();
        for o in &orders {
            let reference = o["online_reference_no"].as_str().unwrap();
            assert!(references.insert(reference), "order doubled: {o}");
            assert!(
                acked_refs.contains(reference) || unanswered.contains(reference),
                "an order nobody sent or that was refused: {o}"
            );
        }
        // A repeat customer is one customer, whichever hub took the order.
        let mut by_phone: HashMap<String, HashSet<i64>> = HashMap::new();
        for (phone, id) in seen.customers.lock().unwrap().iter() {
            by_phone.entry(phone.clone()).or_default().insert(*id);
        }
        for (phone, ids) in &by_phone {
            assert_eq!(ids.len(), 1, "customer {phone} has several rows: {ids:?}");
        }
        let by_b = seen.acked_by_b.load(Ordering::Relaxed) - b_before;
        println!(
            "[two hubs] round {round}: A killed after {delay:?}; {} orders acknowledged (A {}, B {by_b}, \
             B {} while A was down or restarting), {attempts} attempts, {} found ({} committed \
             without an answer); checked {:?} after the kill",
            acked_now.len() - acked_before,
            acked_now.len() - acked_before - by_b,
            b_at_restart - b_at_kill,
            found - found_before,
            found - found_before - (acked_now.len() - acked_before),
            killed.elapsed()
        );
        found_before = found;
    }
    println!(
        "[two hubs] {ROUNDS} rounds, {} orders acknowledged, {found_before} in the database, {:?}",
        seen.acked.lock().unwrap().len(),
        started.elapsed()
    );
    drop(a);
    drop(b);
}
