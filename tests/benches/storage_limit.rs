//! The storage-limit reference: what the database allows for the hub's
//! orders, so that the hub's figure can be read as a fraction of it.
//!
//! The rows one bench order writes (as the `hub` bench's store-API orders:
//! 3 lines of 1, 1 and 2 units, a repeat or a new customer by phone) are
//! written bare with sqlx: no HTTP, no hub code, no reads but the balance
//! lock, one connection. The statements are the hub's set-wise ones
//! (`core/db/src/sql/intake.rs`: `lock_balances`, `write_orders`,
//! `reserve`): the balances locked (created if missing), customers upserted
//! by phone, the orders, their lines, history, allocations, reservation
//! movements, the balances written once, the variants marked updated and
//! the stock pushes queued (none here: no store maps the SKUs). On SQLite
//! they are multi-row `VALUES`, the ones that take no answer sent as one
//! multi-statement query, as the hub sends them; on Postgres one
//! `UNNEST` statement each, constant text, prepared once (the set-wise
//! form of POSTGRES-NOTES §5.2). Durability as the hub has it: SQLite WAL
//! with `synchronous=NORMAL`, Postgres with `synchronous_commit` on.
//!
//! Each backend runs one transaction per order, then one per batch of 64
//! orders, for `POSHUB_BENCH_SECONDS` (default 5) each, and prints a
//! Markdown row per run. Postgres runs when `POSHUB_TEST_POSTGRES_URL` is
//! set. The schema is the hub's: a fresh database opened once with
//! `poshub_db::connect` (which migrates it), then a location, a store and
//! 3 SKUs with stock loaded with SQL.
//!
//! Run: `cargo bench -p poshub-tests -p poshub-connectors --bench storage_limit`

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use poshub_tests::Backend;
use rust_decimal::Decimal;
use sqlx::Connection;

const BATCH: usize = 64;
const SKUS: [&str; 3] = ["tffffv456", "tffffv457", "tffffv458"];
/// Units of each line of an order.
const QUANTITIES: [i64; 3] = [1, 1, 2];
/// Repeat customers: this many phone numbers come back again and again.
const REGULARS: u64 = 1_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = std::env::var("POSHUB_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut backends = vec![Backend::Sqlite];
    if poshub_tests::postgres_url().is_some() {
        backends.push(Backend::Postgres);
    }
    println!(
        "| Backend | Transaction | Orders | Orders/s | p50 ms per commit | p99 ms per commit |"
    );
    println!("|---|---|---|---|---|---|");
    for backend in backends {
        let (url, _dir) = poshub_tests::fresh_database(backend)
            .await
            .expect("the backend is configured");
        // The hub's own schema: opening its storage migrates the database.
        drop(poshub_db::connect(&url).await.expect("storage opens"));
        let mut db = Db::open(backend, &url).await;
        let seed = db.seed().await;
        let mut next = 1u64;
        let mut rates = Vec::new();
        for batch in [1, BATCH] {
            // A few transactions first: connection and statement caches.
            for _ in 0..3 {
                let orders = bench_orders(&mut next, batch);
                db.write(&seed, &orders).await;
            }
            let mut commits = Vec::new();
            let mut orders_written = 0usize;
            let started = Instant::now();
            let end = started + Duration::from_secs(seconds);
            while Instant::now() < end {
                let orders = bench_orders(&mut next, batch);
                let t = Instant::now();
                db.write(&seed, &orders).await;
                commits.push(t.elapsed());
                orders_written += orders.len();
            }
            let rate = orders_written as f64 / started.elapsed().as_secs_f64();
            commits.sort();
            println!(
                "| {} | {} | {orders_written} | {rate:.0} | {:.2} | {:.2} |",
                match backend {
                    Backend::Sqlite => "SQLite",
                    Backend::Postgres => "Postgres",
                },
                if batch == 1 {
                    "one per order".to_string()
                } else {
                    format!("one per batch of {batch} orders")
                },
                ms(percentile(&commits, 50.0)),
                ms(percentile(&commits, 99.0)),
            );
            rates.push(rate);
        }
        db.check(&seed, next - 1).await;
        eprintln!(
            "({}: a batch of {BATCH} writes {:.1}x the orders/s of one order a transaction)",
            match backend {
                Backend::Sqlite => "SQLite",
                Backend::Postgres => "Postgres",
            },
            rates[1] / rates[0]
        );
    }
}

/// One bench order: its reference and its customer's phone.
struct BenchOrder {
    reference: String,
    phone: String,
}

/// The next `count` orders: every other one from a repeat customer, as in
/// the hub bench.
fn bench_orders(next: &mut u64, count: usize) -> Vec<BenchOrder> {
    (0..count)
        .map(|_| {
            let n = *next;
            *next += 1;
            let phone = if n.is_multiple_of(2) {
                format!("+9190{:08}", n / 2 % REGULARS)
            } else {
                format!("+9180{:08}", n)
            };
            BenchOrder {
                reference: format!("B-{n}"),
                phone,
            }
        })
        .collect()
}

/// What the orders refer to.
struct Seed {
    store: i64,
    location: i64,
    variants: [i64; 3],
}

/// One order's figures (prices include 18% tax).
struct Figures {
    unit_price: Decimal,
    tax_rate: Decimal,
    total: Decimal,
    payments: String,
}

fn figures() -> Figures {
    let unit_price = Decimal::new(5400, 2);
    let total: Decimal = QUANTITIES
        .iter()
        .map(|q| unit_price * Decimal::from(*q))
        .sum();
    Figures {
        unit_price,
        tax_rate: Decimal::from(18),
        total,
        payments: format!(r#"[{{"type":"prepaid","amount":"{total:.2}"}}]"#),
    }
}

/// Line `amount` and its tax (the price includes it).
fn line_amounts(f: &Figures, quantity: i64) -> (Decimal, Decimal) {
    let amount = f.unit_price * Decimal::from(quantity);
    let net = (amount * Decimal::from(100) / (Decimal::from(100) + f.tax_rate)).round_dp(2);
    (amount, amount - net)
}

/// Customers by phone, deduplicated and in phone order (as the hub sorts
/// them).
fn phones(orders: &[BenchOrder]) -> Vec<String> {
    let mut phones: Vec<String> = orders.iter().map(|o| o.phone.clone()).collect();
    phones.sort();
    phones.dedup();
    phones
}

enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// The seed, the same text on both backends (decimals and JSON as
/// literals; times bound).
const SEED_WALK_IN: &str =
    "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
     VALUES (NULL, NULL, 'Walk-in customer', NULL, TRUE, $1, $1) RETURNING id";
const SEED_LOCATION: &str =
    "INSERT INTO locations (code, name, created_at) VALUES ('BLR', 'Bengaluru', $1) RETURNING id";
const SEED_ITEM: &str = "INSERT INTO items (item_code, name, unit, tax_rate, mrp, attributes, reference_code_template, created_at) \
     VALUES ($1, 'HRX Shoes', 'pcs', '18', '60', '[]', NULL, $2) RETURNING id";
const SEED_VARIANT: &str =
    "INSERT INTO variants (item_id, reference_code, attributes, price, updated_at) \
     VALUES ($1, $2, '{}', '54', $3) RETURNING id";
const SEED_STORE: &str = "INSERT INTO stores (code, name, connector, config, payment_types, allow_backorder, \
     prices_include_tax, walk_in_customer_id, created_at) \
     VALUES ('WEB', 'Store WEB', 'canonical', '{}', '[\"prepaid\", \"cod\"]', FALSE, TRUE, $1, $2) RETURNING id";
const SEED_STORE_LOCATION: &str =
    "INSERT INTO store_locations (store_id, location_id) VALUES ($1, $2)";
const SEED_BALANCE: &str =
    "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) \
     VALUES ($1, $2, '100000000', '0', $3)";

/// Loads the seed on a connection of either backend (the statements and
/// binds are the same).
macro_rules! seed {
    ($conn:expr) => {{
        let conn = $conn;
        let at = Utc::now();
        let walk_in: i64 = sqlx::query_scalar(SEED_WALK_IN)
            .bind(at)
            .fetch_one(&mut *conn)
            .await
            .expect("walk-in");
        let location: i64 = sqlx::query_scalar(SEED_LOCATION)
            .bind(at)
            .fetch_one(&mut *conn)
            .await
            .expect("location");
        let mut variants = [0i64; 3];
        for (i, code) in SKUS.iter().enumerate() {
            let item: i64 = sqlx::query_scalar(SEED_ITEM)
                .bind(*code)
                .bind(at)
                .fetch_one(&mut *conn)
                .await
                .expect("item");
            variants[i] = sqlx::query_scalar(SEED_VARIANT)
                .bind(item)
                .bind(*code)
                .bind(at)
                .fetch_one(&mut *conn)
                .await
                .expect("variant");
        }
        let store: i64 = sqlx::query_scalar(SEED_STORE)
            .bind(walk_in)
            .bind(at)
            .fetch_one(&mut *conn)
            .await
            .expect("store");
        sqlx::query(SEED_STORE_LOCATION)
            .bind(store)
            .bind(location)
            .execute(&mut *conn)
            .await
            .expect("store location");
        for v in variants {
            sqlx::query(SEED_BALANCE)
                .bind(v)
                .bind(location)
                .bind(at)
                .execute(&mut *conn)
                .await
                .expect("balance");
        }
        Seed {
            store,
            location,
            variants,
        }
    }};
}

/// The order count and each seeded variant's reserved units, on one
/// connection of either backend.
macro_rules! read_reserved {
    ($conn:ident, $count:expr, $reserved:expr, $seed:expr) => {{
        let n = sqlx::query_scalar($count).fetch_one(&mut *$conn).await;
        let mut units = Vec::new();
        for v in $seed.variants {
            units.push(
                sqlx::query_scalar($reserved)
                    .bind(v)
                    .bind($seed.location)
                    .fetch_one(&mut *$conn)
                    .await
                    .expect("reserved"),
            );
        }
        (n.expect("count"), units)
    }};
}

impl Db {
    /// One connection with the hub's settings.
    async fn open(backend: Backend, url: &str) -> Db {
        match backend {
            Backend::Sqlite => {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
                // As `SqliteStorage::open` (core/db/src/sqlite.rs).
                let options = SqliteConnectOptions::from_str(url)
                    .expect("sqlite url")
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                Db::Sqlite(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .expect("sqlite"),
                )
            }
            Backend::Postgres => {
                // As `PgStorage::open_with` (core/db/src/postgres.rs); the
                // server's default `synchronous_commit` is on.
                let options = sqlx::postgres::PgConnectOptions::from_str(url)
                    .expect("postgres url")
                    .options([("jit", "off")]);
                let mut conn = sqlx::PgConnection::connect_with(&options)
                    .await
                    .expect("postgres");
                let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
                    .fetch_one(&mut conn)
                    .await
                    .expect("synchronous_commit");
                assert_eq!(sync, "on", "the hub runs with synchronous_commit on");
                Db::Postgres(conn)
            }
        }
    }

    async fn seed(&mut self) -> Seed {
        match self {
            Db::Sqlite(conn) => seed!(conn),
            Db::Postgres(conn) => seed!(conn),
        }
    }

    /// Writes `orders` in one transaction.
    async fn write(&mut self, seed: &Seed, orders: &[BenchOrder]) {
        match self {
            Db::Sqlite(conn) => sqlite::write(conn, seed, orders).await,
            Db::Postgres(conn) => postgres::write(conn, seed, orders).await,
        }
        .expect("the orders are written");
    }

    /// Every order and its reserved units are there.
    async fn check(&mut self, seed: &Seed, orders: u64) {
        let count = "SELECT COUNT(*) FROM sales_orders";
        let reserved = "SELECT CAST(reserved AS TEXT) FROM stock_balances WHERE variant_id = $1 AND location_id = $2";
        let (n, units): (i64, Vec<String>) = match self {
            Db::Sqlite(conn) => read_reserved!(conn, count, reserved, seed),
            Db::Postgres(conn) => read_reserved!(conn, count, reserved, seed),
        };
        assert_eq!(n as u64, orders, "every order written");
        for (q, units) in QUANTITIES.iter().zip(units) {
            assert_eq!(
                Decimal::from_str(&units).unwrap(),
                Decimal::from(*q as u64 * orders),
                "reserved as ordered"
            );
        }
    }
}

/// Reserves the orders' units on the locked balances: what each balance
/// is after the batch, and the (order, line) allocations.
fn reserve(seed: &Seed, balances: &mut BTreeMap<(i64, i64), (Decimal, Decimal)>, orders: usize) {
    for _ in 0..orders {
        for (v, q) in seed.variants.iter().zip(QUANTITIES) {
            let b = balances
                .get_mut(&(*v, seed.location))
                .expect("a locked balance");
            assert!(b.0 - b.1 >= Decimal::from(q), "the bench has stock");
            b.1 += Decimal::from(q);
        }
    }
}

mod sqlite {
    use super::*;
    use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

    fn dec(d: Decimal) -> String {
        d.normalize().to_string()
    }

    pub(super) async fn write(
        conn: &mut SqliteConnection,
        seed: &Seed,
        orders: &[BenchOrder],
    ) -> sqlx::Result<()> {
        let f = figures();
        let at: DateTime<Utc> = Utc::now();
        let mut tx = conn.begin().await?;

        // Lock (create missing) and read the balances: one query of two
        // statements, as `lock_balances`.
        let pairs: Vec<(i64, i64)> = seed.variants.iter().map(|v| (*v, seed.location)).collect();
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) ",
        );
        q.push_values(&pairs, |mut row, (v, l)| {
            row.push_bind(*v)
                .push_bind(*l)
                .push_bind("0")
                .push_bind("0")
                .push_bind(at);
        });
        q.push(" ON CONFLICT DO NOTHING; SELECT variant_id, location_id, on_hand, reserved FROM stock_balances WHERE variant_id IN (");
        let mut list = q.separated(", ");
        for (v, _) in &pairs {
            list.push_bind(*v);
        }
        q.push(") AND location_id IN (")
            .push_bind(seed.location)
            .push(") ORDER BY variant_id, location_id");
        let rows: Vec<(i64, i64, String, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
        let mut balances: BTreeMap<(i64, i64), (Decimal, Decimal)> = rows
            .into_iter()
            .map(|(v, l, on_hand, reserved)| {
                (
                    (v, l),
                    (
                        Decimal::from_str(&on_hand).unwrap(),
                        Decimal::from_str(&reserved).unwrap(),
                    ),
                )
            })
            .collect();
        reserve(seed, &mut balances, orders.len());

        // Customers by phone.
        let phones = phones(orders);
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) ",
        );
        q.push_values(&phones, |mut row, phone| {
            row.push_bind(phone.as_str())
                .push_bind("customer@example.com")
                .push_bind("Test Customer")
                .push_bind(None::<String>)
                .push_bind(false)
                .push_bind(at)
                .push_bind(at);
        });
        q.push(
            " ON CONFLICT (phone) DO UPDATE SET email = COALESCE(customers.email, excluded.email), \
             name = COALESCE(customers.name, excluded.name), \
             address = COALESCE(customers.address, excluded.address), updated_at = excluded.updated_at \
             RETURNING phone, id",
        );
        let customers: HashMap<String, i64> = q
            .build_query_as::<(String, i64)>()
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();

        // The orders.
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO sales_orders (store_id, online_reference_no, location_id, location_group_id, customer_id, \
             status, total, shipping, charges, payments, currency, test, notes, placed_at, created_at, updated_at) ",
        );
        q.push_values(orders, |mut row, o| {
            row.push_bind(seed.store)
                .push_bind(o.reference.as_str())
                .push_bind(seed.location)
                .push_bind(None::<i64>)
                .push_bind(customers[&o.phone])
                .push_bind("pending")
                .push_bind(dec(f.total))
                .push_bind(None::<String>)
                .push_bind("[]")
                .push_bind(f.payments.as_str())
                .push_bind("INR")
                .push_bind(false)
                .push_bind(None::<String>)
                .push_bind(None::<DateTime<Utc>>)
                .push_bind(at)
                .push_bind(at);
        });
        q.push(" RETURNING online_reference_no, id");
        let ids: HashMap<String, i64> = q
            .build_query_as::<(String, i64)>()
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let ids: Vec<i64> = orders.iter().map(|o| ids[&o.reference]).collect();

        // Everything else: one multi-statement query, as the hub's script.
        let lines: Vec<(i64, usize)> = ids
            .iter()
            .flat_map(|id| (0..SKUS.len()).map(move |i| (*id, i)))
            .collect();
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO sales_order_lines (order_id, line_no, variant_id, reference_code, item_code, quantity, \
             unit_price, discount, tax_rate, tax_amount, amount) ",
        );
        q.push_values(&lines, |mut row, (id, i)| {
            let (amount, tax) = line_amounts(&f, QUANTITIES[*i]);
            row.push_bind(*id)
                .push_bind(*i as i32 + 1)
                .push_bind(seed.variants[*i])
                .push_bind(SKUS[*i])
                .push_bind(SKUS[*i])
                .push_bind(dec(Decimal::from(QUANTITIES[*i])))
                .push_bind(dec(f.unit_price))
                .push_bind("0")
                .push_bind(dec(f.tax_rate))
                .push_bind(dec(tax))
                .push_bind(dec(amount));
        });
        q.push("; INSERT INTO order_history (order_id, status, by_actor, note, at) ");
        q.push_values(&ids, |mut row, id| {
            row.push_bind(*id)
                .push_bind("pending")
                .push_bind("store")
                .push_bind(None::<String>)
                .push_bind(at);
        });
        q.push(
            "; INSERT INTO order_allocations (order_id, line_no, variant_id, location_id, quantity, position) ",
        );
        q.push_values(&lines, |mut row, (id, i)| {
            row.push_bind(*id)
                .push_bind(*i as i32 + 1)
                .push_bind(seed.variants[*i])
                .push_bind(seed.location)
                .push_bind(dec(Decimal::from(QUANTITIES[*i])))
                .push_bind(0i32);
        });
        q.push(
            "; INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) ",
        );
        q.push_values(&balances, |mut row, ((v, l), (on_hand, reserved))| {
            row.push_bind(*v)
                .push_bind(*l)
                .push_bind(dec(*on_hand))
                .push_bind(dec(*reserved))
                .push_bind(at);
        });
        q.push(
            " ON CONFLICT (variant_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
             reserved = excluded.reserved, updated_at = excluded.updated_at",
        );
        q.push(
            "; INSERT INTO stock_movements (variant_id, location_id, kind, quantity, on_hand_delta, reserved_delta, \
             cost, price, order_id, reference, at) ",
        );
        q.push_values(&lines, |mut row, (id, i)| {
            let quantity = dec(Decimal::from(QUANTITIES[*i]));
            row.push_bind(seed.variants[*i])
                .push_bind(seed.location)
                .push_bind("reservation")
                .push_bind(quantity.clone())
                .push_bind("0")
                .push_bind(quantity)
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind(Some(*id))
                .push_bind(None::<String>)
                .push_bind(at);
        });
        q.push("; UPDATE variants SET updated_at = ")
            .push_bind(at)
            .push(" WHERE id IN (");
        let mut list = q.separated(", ");
        for v in seed.variants {
            list.push_bind(v);
        }
        q.push("); WITH moved (push_key, variant_id, location_id) AS (");
        q.push_values(&pairs, |mut row, (v, l)| {
            row.push_bind(format!("stock:{v}:{l}"))
                .push_bind(*v)
                .push_bind(*l);
        });
        q.push(
            ") INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, next_attempt_at, \
             created_at, updated_at) SELECT m.store_id, 'stock', p.push_key, m.variant_id, p.location_id, 'pending', ",
        )
        .push_bind(at)
        .push(", ")
        .push_bind(at)
        .push(", ")
        .push_bind(at)
        .push(
            " FROM moved p JOIN store_mappings m ON m.variant_id = p.variant_id \
             JOIN store_locations sl ON sl.store_id = m.store_id AND sl.location_id = p.location_id \
             JOIN stores s ON s.id = m.store_id AND s.push_enabled \
             WHERE TRUE ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
        );
        q.build().execute(&mut *tx).await?;
        tx.commit().await
    }
}

mod postgres {
    use super::*;
    use sqlx::PgConnection;

    const LOCK: &str = "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) \
         SELECT v, l, 0, 0, $3 FROM UNNEST($1::bigint[], $2::bigint[]) AS p(v, l) ORDER BY v, l \
         ON CONFLICT (variant_id, location_id) DO UPDATE SET updated_at = stock_balances.updated_at \
         RETURNING variant_id, location_id, on_hand, reserved";
    const CUSTOMERS: &str = "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
         SELECT p, e, n, NULL, FALSE, $4, $4 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS x(p, e, n) \
         ORDER BY p \
         ON CONFLICT (phone) DO UPDATE SET email = COALESCE(customers.email, excluded.email), \
         name = COALESCE(customers.name, excluded.name), \
         address = COALESCE(customers.address, excluded.address), updated_at = excluded.updated_at \
         RETURNING phone, id";
    const ORDERS: &str = "INSERT INTO sales_orders (store_id, online_reference_no, location_id, location_group_id, \
         customer_id, status, total, shipping, charges, payments, currency, test, notes, placed_at, created_at, \
         updated_at) \
         SELECT x.s, x.r, x.l, NULL, x.c, 'pending', x.t, NULL, '[]'::jsonb, x.p::jsonb, 'INR', FALSE, NULL, NULL, \
         $7, $7 \
         FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::numeric[], $6::text[]) \
         AS x(s, r, l, c, t, p) \
         RETURNING online_reference_no, id";
    const LINES: &str = "INSERT INTO sales_order_lines (order_id, line_no, variant_id, reference_code, item_code, \
         quantity, unit_price, discount, tax_rate, tax_amount, amount) \
         SELECT * FROM UNNEST($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::numeric[], \
         $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[])";
    const HISTORY: &str = "INSERT INTO order_history (order_id, status, by_actor, note, at) \
         SELECT o, 'pending', 'store', NULL, $2 FROM UNNEST($1::bigint[]) AS x(o)";
    const ALLOCATIONS: &str = "INSERT INTO order_allocations (order_id, line_no, variant_id, location_id, quantity, \
         position) SELECT * FROM UNNEST($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::numeric[], \
         $6::int[])";
    const BALANCES: &str =
        "UPDATE stock_balances s SET on_hand = u.oh, reserved = u.rs, updated_at = $5 \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::numeric[], $4::numeric[]) AS u(v, l, oh, rs) \
         WHERE s.variant_id = u.v AND s.location_id = u.l";
    const MOVEMENTS: &str =
        "INSERT INTO stock_movements (variant_id, location_id, kind, quantity, on_hand_delta, \
         reserved_delta, cost, price, order_id, reference, at) \
         SELECT v, l, 'reservation', q, 0, q, NULL, NULL, o, NULL, $5 \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::numeric[], $4::bigint[]) AS x(v, l, q, o)";
    const VARIANTS: &str = "UPDATE variants SET updated_at = $1 WHERE id = ANY($2::bigint[])";
    const OUTBOX: &str = "INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, \
         next_attempt_at, created_at, updated_at) \
         SELECT m.store_id, 'stock', p.push_key, m.variant_id, p.location_id, 'pending', $4, $4, $4 \
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS p(push_key, variant_id, location_id) \
         JOIN store_mappings m ON m.variant_id = p.variant_id \
         JOIN store_locations sl ON sl.store_id = m.store_id AND sl.location_id = p.location_id \
         JOIN stores s ON s.id = m.store_id AND s.push_enabled \
         ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING";

    pub(super) async fn write(
        conn: &mut PgConnection,
        seed: &Seed,
        orders: &[BenchOrder],
    ) -> sqlx::Result<()> {
        let f = figures();
        let at: DateTime<Utc> = Utc::now();
        let mut tx = conn.begin().await?;

        let (pv, pl): (Vec<i64>, Vec<i64>) =
            seed.variants.iter().map(|v| (*v, seed.location)).unzip();
        let rows: Vec<(i64, i64, Decimal, Decimal)> = sqlx::query_as(LOCK)
            .bind(&pv)
            .bind(&pl)
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
        let mut balances: BTreeMap<(i64, i64), (Decimal, Decimal)> = rows
            .into_iter()
            .map(|(v, l, on_hand, reserved)| ((v, l), (on_hand, reserved)))
            .collect();
        reserve(seed, &mut balances, orders.len());

        let phones = phones(orders);
        let n = phones.len();
        let customers: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(CUSTOMERS)
            .bind(&phones)
            .bind(vec!["customer@example.com"; n])
            .bind(vec!["Test Customer"; n])
            .bind(at)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();

        let n = orders.len();
        let references: Vec<&str> = orders.iter().map(|o| o.reference.as_str()).collect();
        let customer_ids: Vec<i64> = orders.iter().map(|o| customers[&o.phone]).collect();
        let ids: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(ORDERS)
            .bind(vec![seed.store; n])
            .bind(&references)
            .bind(vec![seed.location; n])
            .bind(&customer_ids)
            .bind(vec![f.total; n])
            .bind(vec![f.payments.as_str(); n])
            .bind(at)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let ids: Vec<i64> = orders.iter().map(|o| ids[&o.reference]).collect();

        // Line columns, order by order.
        let mut l_order = Vec::new();
        let mut l_no = Vec::new();
        let mut l_variant = Vec::new();
        let mut l_code = Vec::new();
        let mut l_quantity = Vec::new();
        let mut l_tax = Vec::new();
        let mut l_amount = Vec::new();
        for id in &ids {
            for (i, q) in QUANTITIES.iter().enumerate() {
                let (amount, tax) = line_amounts(&f, *q);
                l_order.push(*id);
                l_no.push(i as i32 + 1);
                l_variant.push(seed.variants[i]);
                l_code.push(SKUS[i]);
                l_quantity.push(Decimal::from(*q));
                l_tax.push(tax);
                l_amount.push(amount);
            }
        }
        let lines = l_order.len();
        sqlx::query(LINES)
            .bind(&l_order)
            .bind(&l_no)
            .bind(&l_variant)
            .bind(&l_code)
            .bind(&l_code)
            .bind(&l_quantity)
            .bind(vec![f.unit_price; lines])
            .bind(vec![Decimal::ZERO; lines])
            .bind(vec![f.tax_rate; lines])
            .bind(&l_tax)
            .bind(&l_amount)
            .execute(&mut *tx)
            .await?;
        sqlx::query(HISTORY)
            .bind(&ids)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(ALLOCATIONS)
            .bind(&l_order)
            .bind(&l_no)
            .bind(&l_variant)
            .bind(vec![seed.location; lines])
            .bind(&l_quantity)
            .bind(vec![0i32; lines])
            .execute(&mut *tx)
            .await?;
        let (bv, bl): (Vec<i64>, Vec<i64>) = balances.keys().copied().unzip();
        let (on_hand, reserved): (Vec<Decimal>, Vec<Decimal>) = balances.values().copied().unzip();
        sqlx::query(BALANCES)
            .bind(&bv)
            .bind(&bl)
            .bind(&on_hand)
            .bind(&reserved)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(MOVEMENTS)
            .bind(&l_variant)
            .bind(vec![seed.location; lines])
            .bind(&l_quantity)
            .bind(&l_order)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(VARIANTS)
            .bind(at)
            .bind(&bv)
            .execute(&mut *tx)
            .await?;
        let keys: Vec<String> = bv
            .iter()
            .zip(&bl)
            .map(|(v, l)| format!("stock:{v}:{l}"))
            .collect();
        sqlx::query(OUTBOX)
            .bind(&keys)
            .bind(&bv)
            .bind(&bl)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
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
