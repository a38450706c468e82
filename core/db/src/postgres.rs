//! The Postgres backend, for larger set-ups and several hub processes on one
//! database. Stock balances and orders are locked row by row
//! (`SELECT ... FOR UPDATE`), always in the same order.

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
};

/// Postgres storage (`postgres://...`).
pub struct PgStorage {
    write: Pool<Postgres>,
    read: Pool<Postgres>,
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
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStorage {
            write: pool.clone(),
            read: pool,
        })
    }

    /// Postgres takes concurrent orders on as many connections: each order
    /// is a transaction of its own, its balances locked row by row.
    async fn intake(&self, order: &crate::PlaceOrder) -> crate::Result<crate::Placed> {
        let outcome = self.intake_unread(order).await?;
        sql::writes::read_back(&self.read, outcome).await
    }

    /// Places an order; a new one is answered by id, not read back.
    async fn intake_unread(&self, order: &crate::PlaceOrder) -> crate::Result<crate::Placement> {
        sql::writes::place_alone(&self.write, order).await
    }

    async fn log_event(&self, event: &poshub_model::store::NewConnectorEvent) -> crate::Result<()> {
        let mut conn = self.write.acquire().await?;
        sql::writes::insert_events(&mut conn, &[event]).await
    }

    /// Every event is written when it is recorded: nothing to wait for.
    async fn settle(&self) -> crate::Result<()> {
        Ok(())
    }
}
