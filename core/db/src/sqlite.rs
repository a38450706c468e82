//! The embedded SQLite backend: one file in WAL mode. All writes go through a
//! single connection, so transactions never contend for SQLite's one write
//! lock inside a process; reads use a small pool of their own.
//!
//! Orders (and connector events) are group-committed: one task takes those
//! that arrive while the previous batch is being written and does them in one
//! transaction, the orders placed set-wise (see `sql/group.rs`). A commit is
//! a write of the WAL, and every statement is a round trip to the
//! connection's worker thread: at thousands of orders a second, one commit
//! and twenty statements per order were most of the work.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

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

type Db = Sqlite;
type Backend = SqliteStorage;

const DIALECT: Dialect = Dialect {
    backend: "sqlite",
    // SQLite has no row locks: the single writer connection serialises
    // writes, and one process owns a SQLite outbox.
    for_update: "",
    skip_locked: "",
    for_share: "",
    email_only: "phone IS NULL AND walk_in = 0",
    // Every query is a round trip to the connection's worker thread.
    multi_statement: true,
    row_locks: false,
    batch_slot: None,
};

/// SQLite storage (`sqlite://PATH` or `sqlite::memory:`).
pub struct SqliteStorage {
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
    intake: sql::group::Intake,
}

impl SqliteStorage {
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL survives a killed process; only an OS crash can
            // lose the last commits, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // A connection is in this process: testing it with a ping (a round
        // trip to its worker thread) before every use would find nothing.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let read = if in_memory {
            // Every connection to :memory: is its own database.
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?
        };
        let intake = sql::group::Intake::start(write.clone());
        Ok(SqliteStorage {
            write,
            read,
            intake,
        })
    }

    /// Places an order through the intake task and waits until the
    /// transaction holding it has committed (or failed): a new order as
    /// written.
    async fn intake(&self, order: &crate::PlaceOrder) -> crate::Result<crate::Placed> {
        self.intake.order(order).await
    }

    /// Queues a connector event for the intake task, which writes it with
    /// its next batch; [`SqliteStorage::settle`] waits for it.
    async fn log_event(&self, event: &poshub_model::store::NewConnectorEvent) -> crate::Result<()> {
        self.intake.event(event).await
    }

    /// Waits until every write queued so far is committed (or has failed).
    async fn settle(&self) -> crate::Result<()> {
        self.intake.settle().await
    }
}
