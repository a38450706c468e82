//! The Postgres backend, for larger set-ups and several hub processes on one
//! database. Stock balances are locked row by row, always in (variant,
//! location) order, so hubs sharing the database never wait in a circle.
//!
//! Orders without an Idempotency-Key (and connector events) are
//! group-committed as on SQLite (`sql/group.rs`): the ones that arrive
//! while a batch is being written go in the next, one transaction, their
//! balance rows locked once for all of them. A batch's statements
//! (`postgres/setwise.rs`) take its rows as arrays, so each has one text,
//! is prepared once per connection and costs one round trip: a batch of
//! any size is nine round trips and one fsync, the balance rows locked for
//! the last four of them. Two batches are written at once: the next is
//! formed once the one before holds its locks (`turn.rs`), and reads while
//! that one writes and commits.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres};

use crate::Dialect;

/// The shared statements, compiled here with this backend's types.
#[path = "sql/mod.rs"]
#[allow(
    clippy::duplicate_mod,
    reason = "mounted once per backend on purpose: see sql/mod.rs"
)]
mod sql;

/// This backend's set-wise statements for the shared intake.
mod setwise;

type Db = Postgres;
type Backend = PgStorage;

const DIALECT: Dialect = Dialect {
    backend: "postgres",
    for_update: " FOR UPDATE",
    // Several hubs claim outbox rows side by side without waiting on each
    // other.
    skip_locked: " FOR UPDATE OF o SKIP LOCKED",
    for_share: " FOR SHARE",
    email_only: "phone IS NULL AND NOT walk_in",
    // The extended protocol takes one statement per query.
    multi_statement: false,
    row_locks: true,
    // A transaction-scoped advisory lock, keyed by the hub's schema (hubs
    // of other schemas in the database do not share it): given back at its
    // commit or rollback, also when its hub dies. The wait for it is
    // bounded: a batch whose slot another hub holds for more than a second
    // (a hub stalled with a transaction open) fails, and its orders are
    // placed one by one, outside the slots, as after any failure of a batch.
    batch_slot: Some(
        "BEGIN; SET LOCAL lock_timeout = '1s'; \
         SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' intake'), {slot}); \
         SET LOCAL lock_timeout TO DEFAULT",
    ),
};

/// Postgres storage (`postgres://...`).
pub struct PgStorage {
    write: Pool<Postgres>,
    read: Pool<Postgres>,
    intake: sql::group::Intake,
}

impl PgStorage {
    pub async fn open(url: &str) -> crate::Result<Self> {
        Self::open_with(PgConnectOptions::from_str(url)?).await
    }

    /// Opens with explicit options, e.g. a `search_path` for a test schema.
    pub async fn open_with(options: PgConnectOptions) -> crate::Result<Self> {
        // The hub's queries are short: JIT compiling one (which the planner
        // does once its cost estimate is high, e.g. before a freshly loaded
        // table is analysed) took 120 ms for a 3 ms items page.
        let options = options.options([("jit", "off")]);
        // A connection is not pinged before each use (a round trip on every
        // request's path): sqlx pings it when it is given back instead, and
        // closes it if that fails. One that breaks while idle (the server
        // restarted) fails the one request that next uses it.
        let pool = PgPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let intake = sql::group::Intake::start(pool.clone());
        Ok(PgStorage {
            write: pool.clone(),
            read: pool,
            intake,
        })
    }

    /// Places an order and waits until it is committed: a new order as
    /// written.
    ///
    /// An order without an Idempotency-Key goes to the intake task and is
    /// placed with the others waiting; one with a key is a transaction of
    /// its own (its key row is claimed before its stock, which in a batch
    /// would lock rows in two passes, where another hub may lock them in
    /// the other order).
    async fn intake(&self, order: &crate::PlaceOrder) -> crate::Result<crate::Placed> {
        if order.idempotency.is_some() {
            sql::writes::place_alone(&self.write, order).await
        } else {
            self.intake.order(order).await
        }
    }

    /// Queues a connector event for the intake task, which writes it with
    /// its next batch; [`PgStorage::settle`] waits for it.
    async fn log_event(&self, event: &poshub_model::store::NewConnectorEvent) -> crate::Result<()> {
        self.intake.event(event).await
    }

    /// Waits until every write queued so far is committed (or has failed).
    async fn settle(&self) -> crate::Result<()> {
        self.intake.settle().await
    }
}
