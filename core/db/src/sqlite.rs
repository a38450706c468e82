//! The embedded SQLite backend: one file in WAL mode. All writes go through a
//! single connection, so transactions never contend for SQLite's one write
//! lock inside a process; reads use a small pool of their own.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

type Db = Sqlite;
type Backend = SqliteStorage;
const BACKEND: &str = "sqlite";
/// SQLite has no row locks: the single writer connection serialises writes.
const FOR_UPDATE: &str = "";
/// One process owns a SQLite outbox; claims need no row locks.
const SKIP_LOCKED: &str = "";
const FOR_SHARE: &str = "";
/// Predicate of the partial unique index on e-mail-only customers.
const EMAIL_ONLY: &str = "phone IS NULL AND walk_in = 0";

/// SQLite storage (`sqlite://PATH` or `sqlite::memory:`).
pub struct SqliteStorage {
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
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
        let write = SqlitePoolOptions::new()
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
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(SqliteStorage { write, read })
    }
}

mod ops {
    use super::{Backend, Db, BACKEND, EMAIL_ONLY, FOR_SHARE, FOR_UPDATE, SKIP_LOCKED};
    include!("ops.rs");
    include!("commerce.rs");
    include!("bulk_ops.rs");
    include!("lifecycle_ops.rs");
}
