//! Many stores racing for the last units: never oversold.

use poshub_tests::{both_backends, order, TestHub};

/// 50 concurrent orders for the last 10 units: exactly 10 accepted.
async fn last_ten_units(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let body = order(
                &format!("RACE-{i}"),
                None,
                None,
                &[("TOY-Red-S", 1, "250.00")],
                "cod",
            );
            hub.post(&key, "/api/v1/sales-orders", body).await
        }));
    }
    let mut accepted = 0;
    let mut refused = 0;
    for t in tasks {
        let a = t.await.unwrap();
        match a.status.as_u16() {
            201 => accepted += 1,
            409 => {
                assert_eq!(a.code(), "insufficient_stock", "{}", a.text);
                assert_eq!(a.body["lines"][0]["requested"], "1");
                assert_eq!(a.body["lines"][0]["available"], "0");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", a.text),
        }
    }
    assert_eq!((accepted, refused), (10, 40));
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "0");
    let levels = hub.admin_get("/admin/v1/stock/TOY-Red-S").await;
    let blr = levels
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location"] == "BLR")
        .unwrap()
        .clone();
    assert_eq!(
        (blr["on_hand"].as_str(), blr["reserved"].as_str()),
        (Some("10"), Some("10"))
    );
    hub.assert_ledger_balances().await;
}

/// With backorders allowed the store may sell beyond stock; available goes
/// negative and says how much is owed.
async fn backorders(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], true).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("BO-1", None, None, &[("MUG", 12, "100.00")], "cod"),
    )
    .await
    .expect(201);
    assert_eq!(hub.available("MUG", "BLR").await, "-2");
    hub.assert_ledger_balances().await;
}

/// Orders arriving together (on SQLite they are placed set-wise and committed
/// together): the ones that fail leave nothing behind, the others are all
/// kept, and a duplicate names the order that won even when both arrived in
/// the same batch.
async fn good_and_bad_together(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            // Pairs share a reference and a body: one wins, one is a duplicate.
            let code = poshub_tests::TOY_CODES[if i % 3 == 0 { i / 6 } else { i / 3 } % 6];
            let (reference, lines): (String, Vec<(&str, u32, &str)>) = match i % 3 {
                0 => (format!("DUP-{}", i / 6), vec![(code, 1, "250.00")]),
                // An unknown code: refused as a whole.
                1 => (
                    format!("BAD-{i}"),
                    vec![(code, 1, "250.00"), ("NOPE", 1, "1.00")],
                ),
                _ => (format!("OK-{i}"), vec![(code, 1, "250.00")]),
            };
            let phone = format!("+91 98450 {:05}", if i % 3 == 0 { i / 6 } else { 100 + i });
            let body = order(&reference, None, Some(&phone), &lines, "cod");
            (i, hub.post(&key, "/api/v1/sales-orders", body).await)
        }));
    }
    let mut created = std::collections::HashMap::new();
    let mut reserved = std::collections::HashMap::<String, u32>::new();
    let mut duplicates = Vec::new();
    let mut invalid = 0;
    for t in tasks {
        let (i, a) = t.await.unwrap();
        match (i % 3, a.status.as_u16()) {
            (0 | 2, 201) => {
                let reference = a.body["online_reference_no"].as_str().unwrap().to_string();
                assert!(created
                    .insert(reference, a.body["id"].as_i64().unwrap())
                    .is_none());
                let code = a.body["lines"][0]["reference_code"].as_str().unwrap();
                *reserved.entry(code.to_string()).or_default() += 1;
            }
            (0, 409) => {
                assert_eq!(a.code(), "duplicate_online_reference_no", "{}", a.text);
                duplicates.push(a.body["existing_id"].as_i64().unwrap());
            }
            (1, 422) => invalid += 1,
            (kind, status) => panic!("order {i} (kind {kind}) got {status}: {}", a.text),
        }
    }
    assert_eq!((created.len(), duplicates.len(), invalid), (30, 10, 20));
    // Every duplicate names an order that was kept.
    for id in &duplicates {
        assert!(created.values().any(|c| c == id), "duplicate names {id}");
    }
    let all = hub.admin_get("/admin/v1/sales-orders?limit=500").await;
    let all = all.expect(200)["sales_orders"].as_array().unwrap().clone();
    assert_eq!(all.len(), 30, "only the accepted orders exist");
    for o in &all {
        let reference = o["online_reference_no"].as_str().unwrap();
        assert_eq!(created.get(reference), o["id"].as_i64().as_ref());
    }
    // The accepted orders' units are reserved, nothing more.
    for code in poshub_tests::TOY_CODES {
        let expected = 10 - reserved.get(code).copied().unwrap_or(0);
        assert_eq!(
            hub.available(code, "BLR").await,
            expected.to_string(),
            "{code}"
        );
    }
    hub.assert_ledger_balances().await;
}

both_backends!(fifty_orders_for_ten_units, super::last_ten_units);
both_backends!(orders_that_arrive_together, super::good_and_bad_together);
both_backends!(backorder_policy, super::backorders);

/// Two hubs on one Postgres racing for the last 10 units of one variant,
/// each taking orders in batches of its own, from the same three repeat
/// customers (their rows are upserted by both): exactly 10 accepted, none
/// lost or doubled, no deadlock, the ledger balanced.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hubs_race_for_the_last_ten_units() {
    let Some(first) = TestHub::start(poshub_tests::Backend::Postgres).await else {
        return;
    };
    first.load_catalogue().await;
    first.create_store("WEB", &["BLR"], false).await;
    let key = first.api_key("WEB", &["BLR"]).await;
    let second = TestHub::start_on(
        poshub_tests::Backend::Postgres,
        first.database_url.clone(),
        None,
        None,
        None,
    )
    .await;
    let hubs = [std::sync::Arc::new(first), std::sync::Arc::new(second)];
    let phones = ["9845012345", "9845012346", "9845012347"];
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (hub, key) = (hubs[i % 2].clone(), key.clone());
        let phone = phones[i % 3];
        tasks.push(tokio::spawn(async move {
            let body = order(
                &format!("TWO-{i}"),
                None,
                Some(phone),
                &[("TOY-Red-S", 1, "250.00"), ("MUG", 1, "100.00")],
                "cod",
            );
            hub.post(&key, "/api/v1/sales-orders", body).await
        }));
    }
    let mut accepted = std::collections::BTreeSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let a = t.await.unwrap();
        match a.status.as_u16() {
            201 => {
                accepted.insert(format!("TWO-{i}"));
            }
            409 => assert_eq!(a.code(), "insufficient_stock", "{}", a.text),
            other => panic!("order {i}: unexpected {other}: {}", a.text),
        }
    }
    assert_eq!(accepted.len(), 10, "{accepted:?}");
    let all = hubs[1].admin_get("/admin/v1/sales-orders?limit=500").await;
    let kept: std::collections::BTreeSet<String> = all.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["online_reference_no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, accepted, "exactly the acknowledged orders exist");
    assert_eq!(hubs[0].available("TOY-Red-S", "BLR").await, "0");
    assert_eq!(hubs[0].available("MUG", "BLR").await, "0");
    hubs[0].assert_ledger_balances().await;
}

/// A hub stalled with its intake's slots held (here another session holds
/// both, as a hub would with two batches open): another hub's batches wait
/// for a slot at most a second, then place their orders one by one, so
/// intake goes on; with the slots free again, it goes on in batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn intake_goes_on_while_another_hub_holds_the_slots() {
    let Some(hub) = TestHub::start(poshub_tests::Backend::Postgres).await else {
        return;
    };
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let stalled = sqlx::PgPool::connect(&hub.database_url).await.unwrap();
    let mut holder = stalled.acquire().await.unwrap();
    for slot in 0..2 {
        sqlx::query("SELECT pg_advisory_lock(hashtext(current_schema() || ' intake'), $1)")
            .bind(slot)
            .execute(&mut *holder)
            .await
            .unwrap();
    }
    let hub = std::sync::Arc::new(hub);
    let place = |refs: std::ops::Range<usize>| {
        let tasks: Vec<_> = refs
            .map(|i| {
                let (hub, key) = (hub.clone(), key.clone());
                tokio::spawn(async move {
                    let body = order(
                        &format!("SLOT-{i}"),
                        None,
                        Some("9845012345"),
                        &[("MUG", 1, "100.00")],
                        "cod",
                    );
                    hub.post(&key, "/api/v1/sales-orders", body).await
                })
            })
            .collect();
        async move {
            for t in tasks {
                t.await.unwrap().expect(201);
            }
        }
    };
    let started = std::time::Instant::now();
    place(0..5).await;
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "the batch waited for its slot before placing alone: {waited:?}"
    );
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut *holder)
        .await
        .unwrap();
    drop(holder);
    stalled.close().await;
    let started = std::time::Instant::now();
    place(5..10).await;
    let free = started.elapsed();
    assert!(
        free < waited,
        "with the slots free, no wait: {free:?} vs {waited:?}"
    );
    let n = ids(&hub, "SELECT id FROM sales_orders").await;
    assert_eq!(n.len(), 10, "every acknowledged order is kept");
    hub.assert_ledger_balances().await;
}

/// What one request of [`mixed_batches`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A good order, alone with its reference.
    Good,
    /// One of two good orders with one reference (`same`: the same body).
    Twin { pair: usize, same: bool },
    /// A line with a code nobody knows.
    UnknownCode,
    /// A total the lines do not add up to.
    WrongTotal,
}

/// The ids a query returns, on either backend.
async fn ids(hub: &TestHub, sql: &str) -> std::collections::BTreeSet<i64> {
    let rows: Vec<i64> = match hub.backend {
        poshub_tests::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&hub.database_url).await.unwrap();
            let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
        poshub_tests::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&hub.database_url).await.unwrap();
            let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    };
    rows.into_iter().collect()
}

/// 200 concurrent orders over 4 SKUs with 10 units each (good demand 3x
/// the stock), placed in batches: twins with one reference (the same body,
/// or another), unknown codes, wrong totals, repeat phones, e-mail-only and
/// walk-in customers. Exactly the good orders that got a 201 exist; every
/// SKU sold its 10 units (a good order is refused only when none is left);
/// every duplicate names the order kept; a refused order left no row
/// (order, customer, movement); the ledger balances.
async fn mixed_batches(hub: TestHub) {
    use rand::{seq::SliceRandom, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    const SKUS: [&str; 4] = [
        poshub_tests::TOY_CODES[0],
        poshub_tests::TOY_CODES[1],
        poshub_tests::TOY_CODES[2],
        poshub_tests::TOY_CODES[3],
    ];
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;

    // (kind, SKU, body); per SKU: 20 good orders, 5 pairs of twins with the
    // same body and 5 with different bodies (30 units of good demand), 5
    // with an unknown code and 5 with a wrong total.
    let mut requests: Vec<(Kind, &str, serde_json::Value)> = Vec::new();
    let customer = |n: usize, body: &mut serde_json::Value| match n % 4 {
        // A few repeat phones.
        0 | 1 => body["customer"]["phone"] = format!("98450{:05}", n % 5).into(),
        // E-mail only, a few addresses.
        2 => body["customer"]["email"] = format!("shopper{}@example.com", n % 3).into(),
        // Walk-in: no contact at all.
        _ => {
            body.as_object_mut().unwrap().remove("customer");
        }
    };
    let mut pair = 0;
    for (s, sku) in SKUS.iter().enumerate() {
        for n in 0..20 {
            let mut body = order(
                &format!("GOOD-{s}-{n}"),
                None,
                None,
                &[(sku, 1, "250.00")],
                "cod",
            );
            customer(n + s, &mut body);
            requests.push((Kind::Good, sku, body));
        }
        for n in 0..10 {
            let same = n < 5;
            let reference = format!("TWIN-{s}-{n}");
            let mut first = order(&reference, None, None, &[(sku, 1, "250.00")], "cod");
            customer(n, &mut first);
            let second = if same {
                first.clone()
            } else {
                let mut other = order(&reference, None, None, &[(sku, 1, "240.00")], "prepaid");
                customer(n + 1, &mut other);
                other
            };
            requests.push((Kind::Twin { pair, same }, sku, first));
            requests.push((Kind::Twin { pair, same }, sku, second));
            pair += 1;
        }
        for n in 0..5 {
            // Unique phones: a refused order must not leave its customer.
            let phone = format!("97000{s}{n:04}");
            let body = order(
                &format!("UNKNOWN-{s}-{n}"),
                None,
                Some(&phone),
                &[(sku, 1, "250.00"), ("NO-SUCH-CODE", 1, "10.00")],
                "cod",
            );
            requests.push((Kind::UnknownCode, sku, body));
            let phone = format!("96000{s}{n:04}");
            let mut body = order(
                &format!("TOTAL-{s}-{n}"),
                None,
                Some(&phone),
                &[(sku, 1, "250.00"), (SKUS[(s + 1) % 4], 1, "250.00")],
                "cod",
            );
            body["total"] = "499.00".into();
            body["payments"][0]["amount"] = "499.00".into();
            requests.push((Kind::WrongTotal, sku, body));
        }
    }
    assert_eq!(requests.len(), 200);
    requests.shuffle(&mut rand::rngs::StdRng::seed_from_u64(19));

    let hub = std::sync::Arc::new(hub);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (kind, sku, body) in requests {
        let (hub, key, start) = (hub.clone(), key.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let a = hub.post(&key, "/api/v1/sales-orders", body.clone()).await;
            (kind, sku, body, a)
        }));
    }
    // reference -> (id, SKU, customer id, the body's contact)
    let mut created: BTreeMap<String, (i64, &str, i64, serde_json::Value)> = BTreeMap::new();
    let mut twins: HashMap<usize, Vec<(u16, Option<i64>)>> = HashMap::new();
    let mut refused_for_stock = 0;
    for t in tasks {
        let (kind, sku, body, a) = t.await.unwrap();
        let status = a.status.as_u16();
        let reference = body["online_reference_no"].as_str().unwrap().to_string();
        match (kind, status, a.code()) {
            (Kind::Good | Kind::Twin { .. }, 201, _) => {
                assert_eq!(a.body["online_reference_no"], reference.as_str());
                assert_eq!(a.body["lines"][0]["reference_code"], sku);
                let id = a.body["id"].as_i64().unwrap();
                let customer = a.body["customer"]["id"].as_i64().unwrap();
                let contact = body.get("customer").cloned().unwrap_or_default();
                assert!(
                    created
                        .insert(reference.clone(), (id, sku, customer, contact))
                        .is_none(),
                    "two 201s for {reference}"
                );
                if let Kind::Twin { pair, .. } = kind {
                    twins.entry(pair).or_default().push((201, Some(id)));
                }
            }
            (Kind::Good | Kind::Twin { .. }, 409, "insufficient_stock") => {
                // Refused only when the SKU has nothing left.
                assert_eq!(a.body["lines"][0]["available"], "0", "{}", a.text);
                refused_for_stock += 1;
                if let Kind::Twin { pair, .. } = kind {
                    twins.entry(pair).or_default().push((409, None));
                }
            }
            (Kind::Twin { pair, .. }, 409, "duplicate_online_reference_no") => {
                let existing = a.body["existing_id"].as_i64();
                assert!(
                    existing.is_some(),
                    "a duplicate names the order: {}",
                    a.text
                );
                twins.entry(pair).or_default().push((409, existing));
            }
            (Kind::UnknownCode, 422, "unknown_reference_code") => {}
            (Kind::WrongTotal, 422, "total_mismatch") => {}
            _ => panic!("{reference} ({kind:?}) got {status}: {}", a.text),
        }
    }
    // Twins: at most one kept, and the duplicate names it.
    for (pair, answers) in &twins {
        let kept: Vec<i64> = answers
            .iter()
            .filter(|(s, _)| *s == 201)
            .filter_map(|(_, id)| *id)
            .collect();
        assert!(kept.len() <= 1, "pair {pair}: {answers:?}");
        for (status, named) in answers {
            if let (409, Some(named)) = (status, named) {
                assert_eq!(kept.first(), Some(named), "pair {pair}: {answers:?}");
            }
        }
    }
    // Every SKU sold exactly its 10 units (good demand is 30 each).
    let mut sold: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, sku, _, _) in created.values() {
        *sold.entry(sku).or_default() += 1;
    }
    assert_eq!(
        sold,
        SKUS.iter().map(|s| (*s, 10)).collect::<BTreeMap<_, _>>(),
        "units sold per SKU"
    );
    assert_eq!(
        refused_for_stock + created.len() + 40,
        200 - count_duplicates(&twins)
    );
    for sku in SKUS {
        assert_eq!(hub.available(sku, "BLR").await, "0", "{sku}");
    }
    // Exactly the acknowledged orders exist.
    let all = hub.admin_get("/admin/v1/sales-orders?limit=500").await;
    let all: BTreeMap<String, i64> = all.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["online_reference_no"].as_str().unwrap().to_string(),
                o["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let acknowledged: BTreeMap<String, i64> = created
        .iter()
        .map(|(r, (id, ..))| (r.clone(), *id))
        .collect();
    assert_eq!(all, acknowledged, "only the acknowledged orders exist");
    // One customer per phone and per e-mail, whichever order created it.
    let mut by_contact: HashMap<String, BTreeSet<i64>> = HashMap::new();
    for (_, _, customer, contact) in created.values() {
        let who = match (contact["phone"].as_str(), contact["email"].as_str()) {
            (Some(p), _) => format!("phone {p}"),
            (None, Some(e)) => format!("email {e}"),
            (None, None) => "walk-in".to_string(),
        };
        by_contact.entry(who).or_default().insert(*customer);
    }
    for (who, customers) in &by_contact {
        assert_eq!(customers.len(), 1, "{who}: {customers:?}");
    }
    // Refused orders left nothing behind: no customer (the refused orders'
    // phones are theirs alone), no stock movement.
    let mut customers: BTreeSet<i64> = created.values().map(|(_, _, c, _)| *c).collect();
    customers.extend(ids(&hub, "SELECT walk_in_customer_id FROM stores").await);
    assert_eq!(ids(&hub, "SELECT id FROM customers").await, customers);
    assert_eq!(
        ids(
            &hub,
            "SELECT DISTINCT order_id FROM stock_movements WHERE order_id IS NOT NULL"
        )
        .await,
        acknowledged.values().copied().collect::<BTreeSet<_>>()
    );
    hub.assert_ledger_balances().await;
}

/// How many answers were duplicates.
fn count_duplicates(twins: &std::collections::HashMap<usize, Vec<(u16, Option<i64>)>>) -> usize {
    twins
        .values()
        .flatten()
        .filter(|(s, id)| *s == 409 && id.is_some())
        .count()
}

both_backends!(
    batches_with_duplicates_bad_lines_and_last_units,
    super::mixed_batches
);

/// The deadlocks Postgres has detected in this database (by any session;
/// the statistics may lag by a second or so).
async fn deadlocks(url: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n
}

/// A second hub on the database of `first`.
async fn second_hub(first: &TestHub) -> TestHub {
    TestHub::start_on(
        poshub_tests::Backend::Postgres,
        first.database_url.clone(),
        None,
        None,
        None,
    )
    .await
}

/// The same online_reference_no sent to both hubs at once, 40 times (half
/// with the same body, half with another): exactly one order per
/// reference; the other answer is a 409 naming it; no 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_reference_at_both_hubs() {
    let Some(first) = TestHub::start(poshub_tests::Backend::Postgres).await else {
        return;
    };
    first.load_catalogue().await;
    first.create_store("WEB", &["BLR"], false).await;
    let key = first.api_key("WEB", &["BLR"]).await;
    let lines: Vec<serde_json::Value> = poshub_tests::TOY_CODES
        .iter()
        .map(|c| serde_json::json!({"reference_code": c, "quantity": "100"}))
        .collect();
    first
        .admin_post(
            "/admin/v1/stock/inward",
            serde_json::json!({"location": "BLR", "lines": lines}),
        )
        .await
        .expect(200);
    let second = second_hub(&first).await;
    let hubs = [std::sync::Arc::new(first), std::sync::Arc::new(second)];
    // Both hubs warmed up (connections open), so that neither is ahead.
    let mut warm = Vec::new();
    for (h, hub) in hubs.iter().enumerate() {
        for n in 0..4 {
            let (hub, key) = (hub.clone(), key.clone());
            warm.push(tokio::spawn(async move {
                let body = order(
                    &format!("WARM-{h}-{n}"),
                    None,
                    None,
                    &[("MUG", 1, "100.00")],
                    "cod",
                );
                hub.post(&key, "/api/v1/sales-orders", body)
                    .await
                    .expect(201);
            }));
        }
    }
    for t in warm {
        t.await.unwrap();
    }
    // Waves of references, so that the winner is decided several times
    // (a hub may take a whole wave in one batch).
    const REFERENCES: usize = 40;
    const WAVE: usize = 8;
    let mut kept: Vec<Option<(i64, &str)>> = vec![None; REFERENCES];
    let mut named: Vec<Option<i64>> = vec![None; REFERENCES];
    let mut won_by = [0; 2];
    for wave in 0..REFERENCES / WAVE {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(2 * WAVE));
        let mut tasks = Vec::new();
        for r in wave * WAVE..(wave + 1) * WAVE {
            // Each hub goes first for half of the references.
            for h in [r % 2, 1 - r % 2] {
                let (hub, key, start) = (hubs[h].clone(), key.clone(), start.clone());
                // Odd references: each hub is sent another body.
                let code = poshub_tests::TOY_CODES[(r + if r % 2 == 1 { h } else { 0 }) % 6];
                let phone = format!("98451{:05}", (r + h * (r % 2)) % 7);
                let body = order(
                    &format!("BOTH-{r}"),
                    None,
                    Some(&phone),
                    &[(code, 1, "250.00")],
                    "cod",
                );
                tasks.push(tokio::spawn(async move {
                    start.wait().await;
                    (
                        r,
                        h,
                        code,
                        hub.post(&key, "/api/v1/sales-orders", body).await,
                    )
                }));
            }
        }
        for t in tasks {
            let (r, h, code, a) = t.await.unwrap();
            match a.status.as_u16() {
                201 => {
                    assert!(kept[r].is_none(), "BOTH-{r}: two 201s");
                    kept[r] = Some((a.body["id"].as_i64().unwrap(), code));
                    won_by[h] += 1;
                }
                _ => {
                    let p = a.expect_problem(409, "duplicate_online_reference_no");
                    assert!(named[r].is_none(), "BOTH-{r}: two 409s");
                    named[r] =
                        Some(p["existing_id"].as_i64().unwrap_or_else(|| {
                            panic!("BOTH-{r}: the 409 names no order: {}", a.text)
                        }));
                }
            }
        }
    }
    println!("wins by hub: {won_by:?}");
    let mut sold = std::collections::HashMap::<&str, u32>::new();
    for r in 0..REFERENCES {
        let (id, code) = kept[r].unwrap_or_else(|| panic!("BOTH-{r}: no 201"));
        assert_eq!(named[r], Some(id), "BOTH-{r}: the 409 names another order");
        *sold.entry(code).or_default() += 1;
        let o = hubs[r % 2]
            .admin_get(&format!("/admin/v1/sales-orders/{id}"))
            .await;
        let o = o.expect(200);
        assert_eq!(o["online_reference_no"], format!("BOTH-{r}"));
        assert_eq!(o["lines"][0]["reference_code"], code, "the winner's body");
    }
    let all = hubs[0].admin_get("/admin/v1/sales-orders?limit=500").await;
    let all = all.expect(200)["sales_orders"].as_array().unwrap().clone();
    let both: Vec<_> = all
        .iter()
        .filter(|o| {
            o["online_reference_no"]
                .as_str()
                .unwrap()
                .starts_with("BOTH-")
        })
        .collect();
    assert_eq!(both.len(), REFERENCES, "one order per reference");
    for code in poshub_tests::TOY_CODES {
        let left = 110 - sold.get(code).copied().unwrap_or(0);
        assert_eq!(
            hubs[1].available(code, "BLR").await,
            left.to_string(),
            "{code}"
        );
    }
    hubs[0].assert_ledger_balances().await;
}

/// Deadlock freedom: two hubs take orders from a store that sources from two
/// locations, with the same lines in opposite orders (A,B,C on one hub,
/// C,B,A on the other), the same phone customers in reversed order, while
/// stock is received at both locations for the same variants (lines in both
/// orders too). No 5xx: every order is 201 or 409 insufficient_stock, every
/// inward 200; nothing oversold; the ledger balances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hubs_reversed_lines_and_inwards() {
    use std::collections::BTreeMap;
    let Some(first) = TestHub::start(poshub_tests::Backend::Postgres).await else {
        return;
    };
    first.load_catalogue().await;
    first
        .admin_post(
            "/admin/v1/location-groups",
            serde_json::json!({"code": "WEST", "name": "West", "locations": ["MUM", "BLR"]}),
        )
        .await
        .expect(201);
    first
        .admin_post(
            "/admin/v1/stores",
            serde_json::json!({"code": "GRP", "name": "Group store", "connector": "canonical",
                   "sell_from_group": "WEST", "payment_types": ["prepaid", "cod"],
                   "prices_include_tax": true}),
        )
        .await
        .expect(201);
    let key = first.api_key("GRP", &["BLR", "MUM"]).await;
    for location in ["BLR", "MUM"] {
        let lines: Vec<serde_json::Value> = ["TOY-Red-S", "TOY-Green-M", "MUG", "TOY-Blue-S"]
            .iter()
            .map(|c| serde_json::json!({"reference_code": c, "quantity": "40"}))
            .collect();
        first
            .admin_post(
                "/admin/v1/stock/inward",
                serde_json::json!({"location": location, "lines": lines}),
            )
            .await
            .expect(200);
    }
    let second = second_hub(&first).await;
    let deadlocks_before = deadlocks(&first.database_url).await;
    let hubs = [std::sync::Arc::new(first), std::sync::Arc::new(second)];
    let forward = [
        ("TOY-Red-S", "250.00"),
        ("TOY-Green-M", "250.00"),
        ("MUG", "100.00"),
        ("TOY-Blue-S", "250.00"),
    ];
    let phones: Vec<String> = (0..6).map(|p| format!("98452{p:05}")).collect();
    const ORDERS: usize = 80; // per hub
    const INWARDS: usize = 10; // per hub and location
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2 * ORDERS + 4));
    let started = std::time::Instant::now();
    let mut orders = Vec::new();
    for (h, hub) in hubs.iter().enumerate() {
        for i in 0..ORDERS {
            let (hub, key, start) = (hub.clone(), key.clone(), start.clone());
            // Three or four lines, forward on hub 0 and backward on hub 1.
            let n = 3 + i % 2;
            let mut lines: Vec<(&str, u32, &str)> = forward[..n]
                .iter()
                .enumerate()
                .map(|(l, (c, p))| (*c, 1 + ((i + l) % 3) as u32, *p))
                .collect();
            if h == 1 {
                lines.reverse();
            }
            let phone = &phones[if h == 0 { i % 6 } else { 5 - i % 6 }];
            // Mostly sourced from the group (split where one location is
            // short), sometimes from one named location.
            let location = match i % 5 {
                3 => Some("BLR"),
                4 => Some("MUM"),
                _ => None,
            };
            let body = order(
                &format!("REV-{h}-{i}"),
                location,
                Some(phone),
                &lines,
                "cod",
            );
            let wanted: Vec<(String, u32)> =
                lines.iter().map(|(c, q, _)| (c.to_string(), *q)).collect();
            orders.push(tokio::spawn(async move {
                start.wait().await;
                (
                    h,
                    i,
                    wanted,
                    hub.post(&key, "/api/v1/sales-orders", body).await,
                )
            }));
        }
    }
    let mut inwards = Vec::new();
    for (h, hub) in hubs.iter().enumerate() {
        for location in ["BLR", "MUM"] {
            let (hub, start) = (hub.clone(), start.clone());
            inwards.push(tokio::spawn(async move {
                start.wait().await;
                let mut answers = Vec::new();
                for n in 0..INWARDS {
                    let mut lines: Vec<serde_json::Value> = forward
                        .iter()
                        .map(|(c, _)| serde_json::json!({"reference_code": c, "quantity": "4"}))
                        .collect();
                    if (h + n) % 2 == 1 {
                        lines.reverse();
                    }
                    let a = hub
                        .admin_post(
                            "/admin/v1/stock/inward",
                            serde_json::json!({"location": location, "lines": lines,
                                               "reference": format!("IN-{h}-{location}-{n}")}),
                        )
                        .await;
                    answers.push(a);
                }
                answers
            }));
        }
    }
    let mut reserved = BTreeMap::<String, u32>::new();
    let mut accepted = std::collections::BTreeSet::new();
    let mut refused = 0;
    for t in orders {
        let (h, i, wanted, a) = t.await.unwrap();
        match a.status.as_u16() {
            201 => {
                for (code, q) in wanted {
                    *reserved.entry(code).or_default() += q;
                }
                accepted.insert(format!("REV-{h}-{i}"));
            }
            409 if a.code() == "insufficient_stock" => refused += 1,
            other => panic!("REV-{h}-{i}: {other} {}", a.text),
        }
    }
    for t in inwards {
        for a in t.await.unwrap() {
            a.expect(200);
        }
    }
    let took = started.elapsed();
    println!(
        "{} orders accepted, {refused} refused for stock, {} inwards, in {took:?}",
        accepted.len(),
        4 * INWARDS
    );
    assert!(!accepted.is_empty());
    let all = hubs[0].admin_get("/admin/v1/sales-orders?limit=500").await;
    let kept: std::collections::BTreeSet<String> = all.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["online_reference_no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, accepted, "exactly the acknowledged orders exist");
    // Every unit received is on hand; the orders' units are reserved; no
    // location is oversold.
    for (code, _) in forward {
        let levels = hubs[1].admin_get(&format!("/admin/v1/stock/{code}")).await;
        let mut held = 0;
        for l in levels.expect(200).as_array().unwrap() {
            let start = if l["location"] == "BLR" { 50 } else { 45 };
            let on_hand: i64 = l["on_hand"].as_str().unwrap().parse().unwrap();
            let booked: i64 = l["reserved"].as_str().unwrap().parse().unwrap();
            assert_eq!(on_hand, start + 4 * 2 * INWARDS as i64, "{code}: {l}");
            assert!(booked <= on_hand, "{code} oversold: {l}");
            held += booked;
        }
        assert_eq!(
            held,
            i64::from(reserved.get(code).copied().unwrap_or(0)),
            "{code}"
        );
    }
    hubs[0].assert_ledger_balances().await;
    println!(
        "Postgres counted {} deadlocks in this database during the run (all sessions)",
        deadlocks(&hubs[0].database_url).await - deadlocks_before
    );
}

/// A write the database itself refuses (here a trigger that fails the insert
/// of one order, standing in for any fault of one row) fails that order
/// alone: the orders that arrived with it, and so were first tried in the
/// same batch statement, are all kept.
async fn database_fault_fails_one_order(hub: TestHub) {
    hub.load_catalogue().await;
    // Backorders allowed: stock is not what this is about.
    hub.create_store("WEB", &["BLR"], true).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let trigger = match hub.backend {
        poshub_tests::Backend::Sqlite => vec![
            "CREATE TRIGGER boom BEFORE INSERT ON sales_orders WHEN NEW.online_reference_no = 'BOOM' \
             BEGIN SELECT RAISE(ABORT, 'boom'); END",
        ],
        poshub_tests::Backend::Postgres => vec![
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.online_reference_no = 'BOOM' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER boom BEFORE INSERT ON sales_orders FOR EACH ROW EXECUTE FUNCTION boom()",
        ],
    };
    for sql in trigger {
        match hub.backend {
            poshub_tests::Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&hub.database_url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            poshub_tests::Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&hub.database_url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    }
    let hub = std::sync::Arc::new(hub);
    // Three rounds of 30 orders released together, BOOM among them.
    for round in 0..3 {
        let mut tasks = Vec::new();
        for i in 0..30 {
            let (hub, key) = (hub.clone(), key.clone());
            let reference = if i == 15 {
                "BOOM".to_string()
            } else {
                format!("F{round}-{i}")
            };
            tasks.push(tokio::spawn(async move {
                let body = order(
                    &reference,
                    None,
                    Some(&format!("98450{round}{i:05}")),
                    &[("MUG", 1, "100.00")],
                    "cod",
                );
                (
                    reference,
                    hub.post(&key, "/api/v1/sales-orders", body).await,
                )
            }));
        }
        for t in tasks {
            let (reference, a) = t.await.unwrap();
            if reference == "BOOM" {
                assert!(a.status.is_server_error(), "BOOM: {}", a.text);
            } else {
                assert_eq!(a.status.as_u16(), 201, "{reference}: {}", a.text);
            }
        }
    }
    let all = hub.admin_get("/admin/v1/sales-orders?limit=500").await;
    let kept: Vec<&str> = all.expect(200)["sales_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["online_reference_no"].as_str().unwrap())
        .collect();
    assert_eq!(kept.len(), 87, "{kept:?}");
    assert!(!kept.contains(&"BOOM"));
    hub.assert_ledger_balances().await;
}

both_backends!(
    database_fault_fails_one_order,
    super::database_fault_fails_one_order
);

/// A placed order is answered as written, not read again: the answer to
/// each `POST` is exactly what reading the order back gives, through the
/// store API and the admin API, for every shape of order, placed alone,
/// together with others, and with an Idempotency-Key: a new customer by
/// phone, the same phone again with another name and e-mail (the stored
/// name is kept, the blank e-mail filled), a customer known by e-mail
/// only, a walk-in, a group store's order split over two locations,
/// shipping with an address, charges, notes, amounts with one decimal
/// place and a `placed_at` to the nanosecond (kept to the microsecond).
async fn answers_as_written(hub: TestHub) {
    use poshub_tests::serde_json::{json, Value};
    let hub = std::sync::Arc::new(hub);
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    hub.admin_post(
        "/admin/v1/location-groups",
        json!({"code": "WEST", "name": "West", "locations": ["MUM", "BLR"]}),
    )
    .await
    .expect(201);
    hub.admin_post(
        "/admin/v1/stores",
        json!({"code": "GRP", "name": "Group store", "sell_from_group": "WEST",
               "payment_types": ["prepaid", "cod"], "prices_include_tax": true}),
    )
    .await
    .expect(201);
    let web = hub.api_key("WEB", &["BLR"]).await;
    let grp = hub.api_key("GRP", &["BLR", "MUM"]).await;

    let mut bodies: Vec<(&str, Value)> = Vec::new();
    let phone = order(
        "AW-1",
        None,
        Some("+91 98450 11111"),
        &[("MUG", 1, "100.00")],
        "cod",
    );
    let mut again = order(
        "AW-2",
        None,
        Some("+91 98450 11111"),
        &[("MUG", 1, "100.00")],
        "cod",
    );
    again["customer"] = json!({"name": "Another Name", "phone": "+91 98450 11111",
                               "email": "first@example.com"});
    let mut by_email = order("AW-3", None, None, &[("TOY-Red-M", 1, "250.00")], "prepaid");
    by_email["customer"] = json!({"name": "Email Only", "email": "only@example.com"});
    let mut known_email = by_email.clone();
    known_email["online_reference_no"] = json!("AW-4");
    known_email["customer"]["name"] = json!("Someone Else");
    let mut walk_in = order("AW-5", None, None, &[("TOY-Blue-S", 1, "250.00")], "cod");
    walk_in.as_object_mut().unwrap().remove("customer");
    let mut rich = order(
        "AW-6",
        None,
        Some("+91 98450 22222"),
        &[("TOY-Green-S", 2, "249.5")],
        "prepaid",
    );
    rich["shipping"] = json!({"amount": "40.0", "method": "Express",
                              "address": {"line1": "12 MG Road", "city": "Bengaluru", "pin": "560001"}});
    rich["charges"] = json!([{"kind": "fee", "title": "Packing", "amount": "10.00"}]);
    rich["notes"] = json!("Leave at the door");
    rich["placed_at"] = json!("2026-12-01T10:00:00.123456789Z");
    rich["total"] = json!("549.00");
    rich["payments"] = json!([{"type": "prepaid", "amount": "549.00", "reference": "pay_1"}]);
    bodies.extend([
        ("web", phone),
        ("web", again),
        ("web", by_email),
        ("web", known_email),
    ]);
    bodies.extend([("web", walk_in), ("web", rich)]);
    // More than either member holds: 5 from Mumbai, 7 from Bengaluru.
    bodies.push((
        "grp",
        order(
            "AW-7",
            None,
            None,
            &[("TOY-Red-S", 12, "250.00")],
            "prepaid",
        ),
    ));

    let check = |answer: &Value, key: &str| {
        let (hub, answer, key) = (&hub, answer.clone(), key.to_string());
        async move {
            let id = answer["id"].as_i64().expect("an id");
            let store = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
            assert_eq!(store.expect(200), &answer, "store API reading of {id}");
            let admin = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
            assert_eq!(admin.expect(200), &answer, "admin reading of {id}");
        }
    };
    let key_of = |store: &str| {
        if store == "web" {
            web.clone()
        } else {
            grp.clone()
        }
    };

    // One after another: each order a batch of its own.
    let mut answers = Vec::new();
    for (store, body) in &bodies {
        let a = hub
            .post(&key_of(store), "/api/v1/sales-orders", body.clone())
            .await;
        answers.push((store.to_string(), a.expect(201).clone()));
    }
    let names: Vec<&Value> = answers
        .iter()
        .map(|(_, a)| &a["customer"]["name"])
        .collect();
    assert_eq!(
        names[1], "Test Customer",
        "a known phone keeps its stored name"
    );
    assert_eq!(answers[1].1["customer"]["email"], "customer@example.com");
    assert_eq!(answers[3].1["customer"]["name"], "Email Only");
    assert_eq!(answers[5].1["placed_at"], "2026-12-01T10:00:00.123456Z");
    assert_eq!(answers[5].1["lines"][0]["unit_price"], "249.50");
    assert_eq!(answers[6].1["location_group"], "WEST");
    assert_eq!(
        answers[6].1["lines"][0]["allocations"],
        json!([{"location": "BLR", "quantity": "7"}, {"location": "MUM", "quantity": "5"}])
    );
    for (store, answer) in &answers {
        check(answer, &key_of(store)).await;
    }

    // All at once (placed together), under new references.
    let mut tasks = Vec::new();
    for (i, (store, body)) in bodies.iter().enumerate().filter(|(_, (s, _))| *s == "web") {
        let mut body = body.clone();
        body["online_reference_no"] = json!(format!("AT-{i}"));
        let (hub, key) = (hub.clone(), key_of(store));
        tasks.push(tokio::spawn(async move {
            hub.post(&key, "/api/v1/sales-orders", body).await
        }));
    }
    for t in tasks {
        let a = t.await.unwrap();
        check(a.expect(201), &web).await;
    }

    // With an Idempotency-Key: the answer stored with the key, and its replay.
    let mut keyed = bodies[5].1.clone();
    keyed["online_reference_no"] = json!("AW-KEY");
    for _ in 0..2 {
        let a = hub
            .call(
                reqwest::Method::POST,
                "/api/v1/sales-orders",
                Some(&web),
                Some(&keyed),
                &[("Idempotency-Key", "aw-key-1")],
            )
            .await;
        check(a.expect(201), &web).await;
    }
    hub.assert_ledger_balances().await;
}

both_backends!(answer_is_what_is_stored, super::answers_as_written);
