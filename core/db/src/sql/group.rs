//! Group commit, for both backends: one intake task per storage takes the
//! orders (and connector events) that arrive while the previous batch is
//! being written, and does them in one transaction, the orders placed
//! set-wise ([`place_orders`]: one read of what they need, their stock
//! rows locked once in one order, refusals decided in memory in arrival
//! order, a few set-wise statements, one commit). Should the database fail
//! on any of it, nothing was kept and the writes are done again one by one
//! ([`write_one_by_one`]), so that only the write at fault fails.
//!
//! On SQLite every statement is a round trip to the one writer
//! connection's thread and a commit is a write of the WAL; on Postgres a
//! statement is a network round trip, a commit an fsync, and orders for the
//! same items queue on the same balance rows. Either way one batch of n
//! orders costs about what one order does.

use poshub_model::store::NewConnectorEvent;
use sqlx::{Connection, Pool};

use super::intake::place_orders;
use super::writes::{insert_events, place_alone, place_within};
use super::{Conn, Db, DIALECT};
use crate::turn::Turn;
use crate::{Error, PlaceOrder, Placed, Result};

/// Most writes done in one transaction.
const MAX_BATCH: usize = 64;

/// Batches written at once. SQLite has one writer: one. On Postgres two: the
/// next batch reads what it needs while the one before holds its locks,
/// writes and commits, and the database's round trips and commits overlap
/// (the second waits for the first's balance locks where both draw on the
/// same stock, and is formed only once the first holds them: [`Turn`]).
///
/// The bound holds for the database, not for each hub: a batch begins by
/// taking its slot ([`Dialect::batch_slot`](crate::Dialect), a lock every
/// hub's intake shares), so that several hubs on one database keep two
/// batches in flight between them, not two each. More would only split the
/// same orders into smaller batches that contend for the same cores and
/// balance rows (three in flight for one hub were slower than two). A
/// batch waiting for its slot holds no other lock yet, so the wait joins
/// no deadlock.
const WORKERS: usize = if DIALECT.row_locks { 2 } else { 1 };

/// Most request lines placed set-wise in one go; a larger order is placed on
/// its own (so that no statement outgrows the backends' limits on bind
/// parameters).
const SET_LINES: usize = 256;

/// A write the intake task does together with others.
pub(crate) enum Write {
    Order(Box<PlaceOrder>),
    Event(NewConnectorEvent),
    /// Writes nothing; answered once every write queued before it is
    /// committed.
    Settle,
}

/// What became of a [`Write`].
pub(crate) enum Written {
    Order(Result<Placed>),
    Event(Result<()>),
    Settled,
}

impl Write {
    /// The outcome when the write could not even be tried.
    fn failed(&self, why: String) -> Written {
        match self {
            Write::Order(_) => Written::Order(Err(Error::Batch(why))),
            Write::Event(_) => Written::Event(Err(Error::Batch(why))),
            Write::Settle => Written::Settled,
        }
    }
}

impl Written {
    /// The outcome when the transaction holding the write did not commit.
    fn lost(self, why: String) -> Written {
        match self {
            Written::Order(r) => Written::Order(r.and(Err(Error::Batch(why)))),
            Written::Event(r) => Written::Event(r.and(Err(Error::Batch(why)))),
            Written::Settled => Written::Settled,
        }
    }
}

/// A write waiting for the intake task, and where its outcome goes.
type Job = (Write, Reply);

/// Where a write's outcome goes.
type Reply = tokio::sync::oneshot::Sender<Written>;

/// The way into a storage's intake task.
pub(crate) struct Intake {
    writes: tokio::sync::mpsc::Sender<Job>,
}

impl Intake {
    /// Starts the intake task on `write`; it ends when the storage, and
    /// with it this, is dropped.
    pub(crate) fn start(write: Pool<Db>) -> Intake {
        let (writes, queue) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(take_writes(write, queue));
        Intake { writes }
    }

    /// Places an order through the intake task and waits until the
    /// transaction holding it has committed (or failed): a new order is
    /// answered as written.
    pub(crate) async fn order(&self, order: &PlaceOrder) -> Result<Placed> {
        match self.submit(Write::Order(Box::new(order.clone()))).await? {
            Written::Order(outcome) => outcome,
            _ => unreachable!("an order's outcome is an order's"),
        }
    }

    /// Queues a connector event, written with the next batch; the caller
    /// does not wait for that commit (a webhook's answer would otherwise
    /// wait for two). [`Intake::settle`] does.
    pub(crate) async fn event(&self, event: &NewConnectorEvent) -> Result<()> {
        let (reply, _) = tokio::sync::oneshot::channel();
        self.writes
            .send((Write::Event(event.clone()), reply))
            .await
            .map_err(|_| Error::Batch("the write intake has stopped".into()))
    }

    /// Waits until every write queued so far is committed (or has failed).
    pub(crate) async fn settle(&self) -> Result<()> {
        self.submit(Write::Settle).await.map(|_| ())
    }

    async fn submit(&self, write: Write) -> Result<Written> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        let stopped = || Error::Batch("the write intake has stopped".into());
        self.writes
            .send((write, reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())
    }
}

/// The intake task: waits for a write, takes every other one already
/// waiting (up to [`MAX_BATCH`]), and does them in one transaction, with up
/// to [`WORKERS`] batches at once: the next batch is formed once the one
/// before holds its balance locks ([`Turn`]), so it reads while that one
/// writes and commits, and locks after it. Each write is answered once its
/// transaction has committed (or failed), a new order with the order as
/// written (not read again); batches are answered in the order they formed,
/// so that a settle is answered after every write queued before it.
async fn take_writes(write: Pool<Db>, mut queue: tokio::sync::mpsc::Receiver<Job>) {
    let workers = std::sync::Arc::new(tokio::sync::Semaphore::new(WORKERS));
    // The signals that the last batch formed holds its locks, and that it
    // was answered.
    let mut locked: Option<tokio::sync::oneshot::Receiver<()>> = None;
    let mut answered: Option<tokio::sync::oneshot::Receiver<()>> = None;
    // Batches take the slots in turn: a batch forms once one before it was
    // answered, and batches are answered in the order they formed, so the
    // slot it takes is the one the batch [`WORKERS`] before it gave back.
    let mut slots = (0..WORKERS).cycle();
    loop {
        let Ok(worker) = workers.clone().acquire_owned().await else {
            return;
        };
        if let Some(before) = locked.take() {
            // An error is the batch before given up without locking: go on.
            let _ = before.await;
        }
        let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
        if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let slot = slots.next().expect("slots cycle");
        let (turn, next_locked) = Turn::new();
        locked = Some(next_locked);
        let (done, next_answered) = tokio::sync::oneshot::channel::<()>();
        let before = answered.replace(next_answered);
        let write = write.clone();
        tokio::spawn(async move {
            let outcomes = write_batch(&write, &batch, turn, slot).await;
            if let Some(before) = before {
                // An error is the batch before gone (a panic): go on.
                let _ = before.await;
            }
            for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                // The caller may have gone (its request dropped, or nobody
                // waits, as for an event): the write stands all the same, as
                // committed writes do. A queued event's failure is logged here.
                if let Err(Written::Event(Err(e))) = reply.send(outcome) {
                    tracing::error!(error = %e, "could not record a connector event");
                }
            }
            let _ = done.send(());
            drop(worker);
        });
    }
}

/// Does a batch's writes: a single write on SQLite in a transaction of its
/// own, else together in its `slot` (passing the batch's turn once its
/// balances are locked).
async fn write_batch(write: &Pool<Db>, batch: &[Job], turn: Turn, slot: usize) -> Vec<Written> {
    if batch.len() == 1 && !DIALECT.row_locks {
        return vec![write_alone(write, &batch[0].0).await];
    }
    let jobs: Vec<&Write> = batch.iter().map(|(w, _)| w).collect();
    write_together(write, &jobs, turn, slot).await
}

/// Splits a batch into runs of orders to place set-wise, each within
/// [`SET_LINES`] lines (an order larger than that is a run of its own).
/// With row locks (Postgres) the batch is one run: each run locks its own
/// balances, and a second run's could sort before the first's, where
/// another writer takes them in order; its statements bind arrays, so no
/// count of parameters limits a run there.
fn runs<'a>(orders: &[&'a PlaceOrder]) -> Vec<Vec<&'a PlaceOrder>> {
    if DIALECT.row_locks {
        return vec![orders.to_vec()];
    }
    let mut runs: Vec<Vec<&PlaceOrder>> = Vec::new();
    let mut lines = 0;
    for order in orders {
        let n = order.request.lines.len();
        match runs.last_mut() {
            Some(run) if lines + n <= SET_LINES => {
                run.push(order);
                lines += n;
            }
            _ => {
                runs.push(vec![order]);
                lines = n;
            }
        }
    }
    runs
}

/// Does several writes in one transaction: orders without an
/// Idempotency-Key placed set-wise (see [`place_orders`]), one with a key
/// on its own in a savepoint, connector events in one insert. Should the
/// database fail on any of it (on Postgres also a deadlock with another
/// hub, or a reference another hub took meanwhile), nothing was kept and
/// the writes are done again one by one.
async fn write_together(
    write: &Pool<Db>,
    jobs: &[&Write],
    mut turn: Turn,
    slot: usize,
) -> Vec<Written> {
    let mut conn = match write.acquire().await {
        Ok(c) => c,
        Err(e) => return jobs.iter().map(|j| j.failed(e.to_string())).collect(),
    };
    match all_at_once(&mut conn, jobs, &mut turn, slot).await {
        Ok(results) => results,
        Err(_) if DIALECT.row_locks => {
            // Where the batch's BEGIN went through and its wait for a slot
            // timed out, sqlx counts no transaction, so it would not end the
            // one left aborted on this connection, which goes back to the
            // pool (elsewhere this finds none to end).
            end_aborted(&mut conn).await;
            drop(conn);
            drop(turn);
            each_alone(write, jobs).await
        }
        Err(_) => write_one_by_one(&mut conn, jobs).await,
    }
}

/// Ends the transaction left open on `conn`, if any.
async fn end_aborted(conn: &mut Conn) {
    if let Err(e) = sqlx::query("ROLLBACK")
        .persistent(false)
        .execute(conn)
        .await
    {
        tracing::warn!(error = %e, "could not end a failed batch's transaction");
    }
}

async fn all_at_once(
    conn: &mut Conn,
    jobs: &[&Write],
    turn: &mut Turn,
    slot: usize,
) -> Result<Vec<Written>> {
    let mut tx = match DIALECT.batch_slot {
        Some(begin) => {
            conn.begin_with(begin.replace("{slot}", &slot.to_string()))
                .await?
        }
        None => conn.begin().await?,
    };
    let mut results: Vec<Option<Written>> = jobs.iter().map(|_| None).collect();
    // Events first, before the turn passes: the next batch's events are
    // numbered after this one's, in the order they arrived.
    let events: Vec<&NewConnectorEvent> = jobs
        .iter()
        .filter_map(|job| match job {
            Write::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    insert_events(&mut tx, &events).await?;
    let plain: Vec<(usize, &PlaceOrder)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| match job {
            Write::Order(order) if order.idempotency.is_none() => Some((i, &**order)),
            _ => None,
        })
        .collect();
    let orders: Vec<&PlaceOrder> = plain.iter().map(|(_, o)| *o).collect();
    let mut at = 0;
    for run in runs(&orders) {
        let placed = place_orders(&mut tx, &run, turn).await?;
        for ((i, _), outcome) in plain[at..at + run.len()].iter().zip(placed) {
            results[*i] = Some(Written::Order(
                outcome.map(|o| Placed::Created(Box::new(o))),
            ));
        }
        at += run.len();
    }
    for (i, job) in jobs.iter().enumerate() {
        if results[i].is_some() {
            continue;
        }
        results[i] = Some(match job {
            Write::Order(order) => Written::Order(place_within(&mut tx, order).await),
            Write::Event(_) => Written::Event(Ok(())),
            Write::Settle => Written::Settled,
        });
    }
    tx.commit().await?;
    Ok(results
        .into_iter()
        .map(|r| r.expect("every write done"))
        .collect())
}

/// Does several writes in one transaction, each order in a savepoint of
/// its own (a failed order leaves no trace and does not affect the others),
/// each event as an insert of its own. What succeeded is kept only if the
/// whole transaction commits. (SQLite: one writer, so nothing waits on the
/// locks the savepoints keep.)
async fn write_one_by_one(conn: &mut Conn, jobs: &[&Write]) -> Vec<Written> {
    let mut tx = match conn.begin().await {
        Ok(tx) => tx,
        Err(e) => return jobs.iter().map(|j| j.failed(e.to_string())).collect(),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(match job {
            Write::Order(order) => Written::Order(place_within(&mut tx, order).await),
            Write::Event(event) => Written::Event(insert_events(&mut tx, &[event]).await),
            Write::Settle => Written::Settled,
        });
    }
    if let Err(e) = tx.commit().await {
        // Nothing of the batch was kept: every write fails, the ones that
        // had failed on their own keep their own reason.
        return results.into_iter().map(|r| r.lost(e.to_string())).collect();
    }
    results
}

/// Does each write in a transaction of its own. On a backend with row
/// locks (Postgres) this is the fallback: one transaction with a savepoint
/// per order would keep every order's rows locked until the last, in no
/// single order, where other hubs lock them too.
async fn each_alone(write: &Pool<Db>, jobs: &[&Write]) -> Vec<Written> {
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(write_alone(write, job).await);
    }
    results
}

/// Does one write in a transaction of its own.
async fn write_alone(write: &Pool<Db>, job: &Write) -> Written {
    match job {
        Write::Order(order) => Written::Order(place_alone(write, order).await),
        Write::Event(event) => Written::Event(
            async {
                let mut conn = write.acquire().await?;
                insert_events(&mut conn, &[event]).await
            }
            .await,
        ),
        Write::Settle => Written::Settled,
    }
}
