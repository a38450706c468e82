//! The embedded SQLite backend: one file in WAL mode. All writes go through a
//! single connection, so transactions never contend for SQLite's one write
//! lock inside a process; reads use a small pool of their own.
//!
//! Orders (and connector events) are group-committed: one task takes those
//! that arrive while the previous batch is being written and does them in one
//! transaction, the orders placed set-wise (see `intake_ops.rs`). A commit is
//! a write of the WAL, and every statement is a round trip to the
//! connection's worker thread: at thousands of orders a second, one commit
//! and twenty statements per order were most of the work.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use crate::Dialect;
use batch::{Write, Written};

mod batch;
/// The shared statements, compiled here with this backend's types.
#[path = "sql/mod.rs"]
#[allow(
    clippy::duplicate_mod,
    reason = "mounted once per backend on purpose: see sql/mod.rs"
)]
mod sql;

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
};

/// Most writes done in one transaction.
const MAX_BATCH: usize = 64;

/// A write waiting for the intake task, and where its outcome goes.
type Job = (Write, Reply);

/// Where a write's outcome goes, and whether a new order is read back for
/// it (a webhook's answer needs only the id).
struct Reply {
    to: tokio::sync::oneshot::Sender<Written>,
    read_back: bool,
}

/// SQLite storage (`sqlite://PATH` or `sqlite::memory:`).
pub struct SqliteStorage {
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
    writes: tokio::sync::mpsc::Sender<Job>,
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
        let (writes, queue) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(take_writes(write.clone(), read.clone(), queue));
        Ok(SqliteStorage {
            write,
            read,
            writes,
        })
    }

    /// Places an order through the intake task and waits until the
    /// transaction holding it has committed (or failed) and a new order has
    /// been read back.
    async fn intake(&self, order: &crate::PlaceOrder) -> crate::Result<crate::Placed> {
        let outcome = self.submit_order(order, true).await?;
        sql::writes::read_back(&self.read, outcome).await
    }

    /// Places an order through the intake task; a new one is answered by
    /// id, not read back.
    async fn intake_unread(&self, order: &crate::PlaceOrder) -> crate::Result<crate::Placement> {
        self.submit_order(order, false).await
    }

    async fn submit_order(
        &self,
        order: &crate::PlaceOrder,
        read_back: bool,
    ) -> crate::Result<crate::Placement> {
        match self
            .submit(Write::Order(Box::new(order.clone())), read_back)
            .await?
        {
            Written::Order(outcome) => outcome,
            _ => unreachable!("an order's outcome is an order's"),
        }
    }

    /// Queues a connector event for the intake task, which writes it with
    /// its next batch; the caller does not wait for that commit (a webhook's
    /// answer would otherwise wait for two). [`SqliteStorage::settle`] does.
    async fn log_event(&self, event: &poshub_model::store::NewConnectorEvent) -> crate::Result<()> {
        let (to, _) = tokio::sync::oneshot::channel();
        let reply = Reply {
            to,
            read_back: false,
        };
        self.writes
            .send((Write::Event(event.clone()), reply))
            .await
            .map_err(|_| crate::Error::Batch("the write intake has stopped".into()))
    }

    /// Waits until every write queued so far is committed (or has failed).
    async fn settle(&self) -> crate::Result<()> {
        self.submit(Write::Settle, false).await.map(|_| ())
    }

    async fn submit(&self, write: Write, read_back: bool) -> crate::Result<Written> {
        let (to, outcome) = tokio::sync::oneshot::channel();
        let stopped = || crate::Error::Batch("the write intake has stopped".into());
        self.writes
            .send((write, Reply { to, read_back }))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())
    }
}

/// The intake task: waits for a write, takes every other one already
/// waiting (up to [`MAX_BATCH`]), and does them in one transaction. A single
/// waiting write gets a transaction of its own. The orders a batch created
/// are read back together on a read connection while the next batch is
/// written. Ends when the storage is dropped.
async fn take_writes(
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
    mut queue: tokio::sync::mpsc::Receiver<Job>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = if batch.len() == 1 {
            vec![batch::write_alone(&write, &batch[0].0).await]
        } else {
            let jobs: Vec<&Write> = batch.iter().map(|(w, _)| w).collect();
            batch::write_together(&write, &jobs).await
        };
        let replies: Vec<_> = batch.drain(..).map(|(_, reply)| reply).collect();
        tokio::spawn(answer(read.clone(), replies, outcomes));
    }
}

/// Answers the writes of a committed batch, with the orders it created read
/// back in one go. The callers may have gone (their requests dropped, or
/// nobody waits, as for an event): the writes stand all the same, as
/// committed writes do.
async fn answer(read: Pool<Sqlite>, replies: Vec<Reply>, outcomes: Vec<Written>) {
    let created: Vec<i64> = replies
        .iter()
        .zip(&outcomes)
        .filter_map(|(reply, w)| match w {
            Written::Order(Ok(crate::Placement::Created(id))) if reply.read_back => Some(*id),
            _ => None,
        })
        .collect();
    // Should that fail, the orders are committed all the same and each
    // caller reads its own back instead.
    let mut orders = batch::read_back_all(&read, &created)
        .await
        .unwrap_or_default();
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        let outcome = match outcome {
            Written::Order(Ok(crate::Placement::Created(id))) => match orders.remove(&id) {
                Some(order) => Written::Order(Ok(crate::Placement::Done(crate::Placed::Created(
                    Box::new(order),
                )))),
                None => Written::Order(Ok(crate::Placement::Created(id))),
            },
            other => other,
        };
        // A queued event has no one waiting: its failure is logged here.
        if let Err(Written::Event(Err(e))) = reply.to.send(outcome) {
            tracing::error!(error = %e, "could not record a connector event");
        }
    }
}
