//! What a Postgres order costs in round trips and commits, counted by a
//! relay between the hub and the server (`poshub_tests::pg_proxy`): a lone
//! order, and orders that arrive together (group commit: fewer commits than
//! orders).

use poshub_tests::pg_proxy::PgProxy;
use poshub_tests::{order, Backend, TestHub};

/// Round trips a lone store-API order may take, everything counted, with
/// one to spare. Today 12: the key's lookup (1); the placement: BEGIN, the
/// store's channel, the catalogue, the references taken, the balances locked, the customer, the
/// order row, the rest in one statement, COMMIT (9 + BEGIN); and sqlx's
/// ping of each connection given back to the pool (2, off the request's
/// path). The new order is answered as written, not read back (that was 6
/// more). It was 35 before the set-wise Postgres statements
/// (`core/db/src/postgres/setwise.rs`).
const LONE_ORDER_MAX: u64 = 13;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trips_per_order() {
    let Some((url, _)) = poshub_tests::fresh_database(Backend::Postgres).await else {
        return;
    };
    let proxy = PgProxy::start(&url).await;
    // The sync worker's polls would be counted too: one an hour.
    let sync = poshub_server::sync::SyncConfig {
        poll: std::time::Duration::from_secs(3600),
        ..poshub_tests::test_sync_config()
    };
    let hub = TestHub::start_on_with_sync(Backend::Postgres, proxy.url(), sync).await;
    hub.load_catalogue().await;
    // Backorders allowed: stock is not what this is about.
    hub.create_store("WEB", &["BLR"], true).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let place = |reference: String, phone: String| {
        let (hub, key) = (&hub, &key);
        async move {
            let body = order(
                &reference,
                None,
                Some(&phone),
                &[
                    ("TOY-Red-S", 1, "250.00"),
                    ("TOY-Blue-M", 1, "250.00"),
                    ("MUG", 2, "100.00"),
                ],
                "cod",
            );
            hub.post(key, "/api/v1/sales-orders", body)
                .await
                .expect(201);
        }
    };
    // Every pooled connection prepares each statement once.
    for i in 0..40 {
        place(format!("WARM-{i}"), format!("98450{i:05}")).await;
    }

    let lone = 50;
    proxy.reset();
    for i in 0..lone {
        place(format!("LONE-{i}"), format!("98451{i:05}")).await;
    }
    let (round_trips, commits) = (proxy.round_trips(), proxy.commits());
    eprintln!(
        "lone orders: {:.1} round trips and {:.2} commits per order",
        round_trips as f64 / lone as f64,
        commits as f64 / lone as f64
    );
    assert_eq!(commits, lone, "one commit per lone order");
    assert!(
        round_trips <= LONE_ORDER_MAX * lone,
        "{round_trips} round trips for {lone} lone orders (at most {LONE_ORDER_MAX} each)"
    );

    // 32 at once: they are placed in a few batches, a commit each.
    let together = 32;
    proxy.reset();
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for i in 0..together {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let body = order(
                &format!("TOGETHER-{i}"),
                None,
                Some(&format!("98452{i:05}")),
                &[("TOY-Red-S", 1, "250.00"), ("MUG", 1, "100.00")],
                "cod",
            );
            hub.post(&key, "/api/v1/sales-orders", body)
                .await
                .expect(201);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (round_trips, commits) = (proxy.round_trips(), proxy.commits());
    eprintln!(
        "{together} orders together: {commits} commits, {:.1} round trips per order",
        round_trips as f64 / together as f64
    );
    assert!(
        commits < together / 2,
        "{commits} commits for {together} orders that arrived together"
    );
    hub.assert_ledger_balances().await;
}
