//! The SQLite backend's group commit: the writes the intake task takes
//! together (orders and connector events), done in one transaction, or one
//! by one in savepoints when that fails, so that only the write at fault
//! fails. The statements are the shared ones of `sql/`.

use std::collections::HashMap;

use poshub_model::order::Order;
use poshub_model::store::NewConnectorEvent;
use sqlx::{Connection, Pool, Sqlite};

use super::sql::intake::place_orders;
use super::sql::orders::load_orders;
use super::sql::writes::{insert_events, place_alone, place_within};
use super::sql::Conn;
use crate::{Error, OrderScope, PlaceOrder, Placement, Result};

/// A write the SQLite backend's intake task does together with others.
pub(crate) enum Write {
    Order(Box<PlaceOrder>),
    Event(NewConnectorEvent),
    /// Writes nothing; answered once every write queued before it is
    /// committed.
    Settle,
}

/// What became of a [`Write`].
pub(crate) enum Written {
    Order(Result<Placement>),
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

/// Most request lines placed set-wise in one go; a larger order is placed on
/// its own (so that no statement outgrows the backends' limits on bind
/// parameters).
const SET_LINES: usize = 256;

/// Splits a batch into runs of orders to place set-wise, each within
/// [`SET_LINES`] lines (an order larger than that is a run of its own).
fn runs<'a>(orders: &[&'a PlaceOrder]) -> Vec<Vec<&'a PlaceOrder>> {
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
/// database fail on any of it, nothing was kept and the writes are done
/// again one by one (see [`write_one_by_one`]), so that only the write at
/// fault fails. (SQLite's intake batches writes; Postgres does each alone.)
pub(super) async fn write_together(write: &Pool<Sqlite>, jobs: &[&Write]) -> Vec<Written> {
    let mut conn = match write.acquire().await {
        Ok(c) => c,
        Err(e) => return jobs.iter().map(|j| j.failed(e.to_string())).collect(),
    };
    match all_at_once(&mut conn, jobs).await {
        Ok(results) => results,
        Err(_) => write_one_by_one(&mut conn, jobs).await,
    }
}

async fn all_at_once(conn: &mut Conn, jobs: &[&Write]) -> Result<Vec<Written>> {
    let mut tx = conn.begin().await?;
    let mut results: Vec<Option<Written>> = jobs.iter().map(|_| None).collect();
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
        let placed = place_orders(&mut tx, &run).await?;
        for ((i, _), outcome) in plain[at..at + run.len()].iter().zip(placed) {
            results[*i] = Some(Written::Order(outcome.map(Placement::Created)));
        }
        at += run.len();
    }
    let events: Vec<&NewConnectorEvent> = jobs
        .iter()
        .filter_map(|job| match job {
            Write::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    insert_events(&mut tx, &events).await?;
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
/// whole transaction commits.
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

/// Does one write in a transaction of its own.
pub(super) async fn write_alone(write: &Pool<Sqlite>, job: &Write) -> Written {
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

/// New orders read back together, by id.
pub(super) async fn read_back_all(read: &Pool<Sqlite>, ids: &[i64]) -> Result<HashMap<i64, Order>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut conn = read.acquire().await?;
    Ok(load_orders(&mut conn, &OrderScope::admin(), ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}
