//! SQLite's set-wise statements for the shared intake (`sql/intake.rs`):
//! multi-row `VALUES` and `IN (...)` lists, their text made for each batch.
//! SQLite prepares a statement in microseconds and takes a script of them
//! as one query (one round trip to the writer connection's thread), so a
//! text per batch costs nothing worth caching.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use poshub_model::customer::Contact;
use poshub_model::email::Email;
use poshub_model::store::NewConnectorEvent;
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::QueryBuilder;

use super::sql::intake::{Details, NewOrderRow, Script, NEW_ORDER};
use super::sql::stock::enqueue_stock_in;
use super::sql::Conn;
use super::Db;
use crate::decimal::Dec;
use crate::rows::placeholders;
use crate::rows::CustomerRow;
use crate::Result;

/// (id, reference code, item code, tax rate) of the variants with `codes`.
pub(crate) async fn variants_by_code(
    conn: &mut Conn,
    codes: &[&str],
) -> Result<Vec<(i64, String, String, Dec)>> {
    let sql = format!(
        "SELECT v.id, v.reference_code, i.item_code, i.tax_rate FROM variants v \
         JOIN items i ON i.id = v.item_id WHERE v.reference_code IN ({})",
        placeholders(0, codes.len())
    );
    let mut q = sqlx::query_as::<Db, (i64, String, String, Dec)>(&sql);
    for c in codes {
        q = q.bind(*c);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// (store, reference, id) of the orders holding any of `references`.
pub(crate) async fn orders_by_reference(
    conn: &mut Conn,
    references: &[(i64, &str)],
) -> Result<Vec<(i64, String, i64)>> {
    let mut by_store: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
    for (store, reference) in references {
        by_store.entry(*store).or_default().push(reference);
    }
    // Per store, so that the (store, reference) index serves the lookup.
    let mut q = QueryBuilder::<Db>::new(
        "SELECT store_id, online_reference_no, id FROM sales_orders WHERE ",
    );
    for (i, (store, refs)) in by_store.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push("(store_id = ")
            .push_bind(*store)
            .push(" AND online_reference_no IN (");
        let mut list = q.separated(", ");
        for r in refs {
            list.push_bind(*r);
        }
        q.push("))");
    }
    Ok(q.build_query_as().fetch_all(&mut *conn).await?)
}

/// The balances at `pairs` (sorted), empty ones created: (variant,
/// location, on hand, reserved). The one writer connection is the lock.
pub(crate) async fn lock_balances(
    conn: &mut Conn,
    pairs: &[(i64, i64)],
    at: DateTime<Utc>,
) -> Result<Vec<(i64, i64, Dec, Dec)>> {
    let mut script = Script::new();
    let insert = script.statement(
        "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) ",
    );
    insert.push_values(pairs, |mut row, (v, l)| {
        row.push_bind(*v)
            .push_bind(*l)
            .push_bind(Dec(Decimal::ZERO))
            .push_bind(Dec(Decimal::ZERO))
            .push_bind(at);
    });
    insert.push(" ON CONFLICT DO NOTHING");
    // Every pair of the variants and locations named: a superset of `pairs`
    // when orders of a batch draw on different locations, never fewer rows.
    let mut variants: Vec<i64> = pairs.iter().map(|(v, _)| *v).collect();
    variants.dedup();
    let mut locations: Vec<i64> = pairs.iter().map(|(_, l)| *l).collect();
    locations.sort_unstable();
    locations.dedup();
    let select = script.statement(
        "SELECT variant_id, location_id, on_hand, reserved FROM stock_balances WHERE variant_id IN (",
    );
    let mut list = select.separated(", ");
    for v in &variants {
        list.push_bind(*v);
    }
    select.push(") AND location_id IN (");
    let mut list = select.separated(", ");
    for l in &locations {
        list.push_bind(*l);
    }
    select.push(") ORDER BY variant_id, location_id");
    fetch_last(script, conn).await
}

/// Runs `script`, the rows of its last statement (the only one that may
/// answer with rows) its answer: one query.
async fn fetch_last<T>(mut script: Script<'_>, conn: &mut Conn) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let mut last = script.parts.pop().expect("a script has a statement");
    script.run(conn).await?;
    Ok(last
        .build_query_as::<T>()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?)
}

/// Creates or completes the customers known by these (sorted) phones:
/// each as stored, by phone.
pub(crate) async fn upsert_phone_customers(
    conn: &mut Conn,
    by_phone: &[(&str, Contact)],
    at: DateTime<Utc>,
) -> Result<HashMap<String, CustomerRow>> {
    let mut upsert = QueryBuilder::<Db>::new(
        "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) ",
    );
    upsert.push_values(by_phone, |mut row, (phone, c)| {
        row.push_bind(*phone)
            .push_bind(c.email.as_ref().map(Email::as_str))
            .push_bind(c.name.clone())
            .push_bind(c.address.clone().map(Json))
            .push_bind(false)
            .push_bind(at)
            .push_bind(at);
    });
    upsert.push(
        " ON CONFLICT (phone) DO UPDATE SET email = COALESCE(customers.email, excluded.email), \
         name = COALESCE(customers.name, excluded.name), \
         address = COALESCE(customers.address, excluded.address), updated_at = excluded.updated_at \
         RETURNING id, name, phone, email",
    );
    let rows: Vec<CustomerRow> = upsert.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.phone.clone()?, row)))
        .collect())
}

/// Inserts the orders: (store, reference, id) of each. A unique violation
/// is a reference another writer took.
pub(crate) async fn insert_orders(
    conn: &mut Conn,
    rows: &[NewOrderRow<'_>],
    at: DateTime<Utc>,
) -> std::result::Result<Vec<(i64, String, i64)>, sqlx::Error> {
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO sales_orders (store_id, online_reference_no, location_id, location_group_id, customer_id, \
         status, total, shipping, charges, payments, currency, test, notes, placed_at, created_at, updated_at) ",
    );
    insert.push_values(rows, |mut row, r| {
        let o = r.order;
        row.push_bind(r.store_id)
            .push_bind(o.online_reference_no.clone())
            .push_bind(r.location_id)
            .push_bind(r.group_id)
            .push_bind(r.customer_id)
            .push_bind(NEW_ORDER.0.as_str())
            .push_bind(Dec(o.total))
            .push_bind(o.shipping.clone().map(Json))
            .push_bind(Json(o.charges.clone()))
            .push_bind(Json(o.payments.clone()))
            .push_bind(o.currency.code())
            .push_bind(o.test)
            .push_bind(o.notes.clone())
            .push_bind(o.placed_at)
            .push_bind(at)
            .push_bind(at);
    });
    insert.push(" RETURNING store_id, online_reference_no, id");
    insert.build_query_as().fetch_all(&mut *conn).await
}

/// Writes a batch's [`Details`] as one script.
pub(crate) async fn write_details(conn: &mut Conn, d: &Details<'_>) -> Result<()> {
    let (status, actor, kind) = NEW_ORDER;
    let at = d.at;
    let mut script = Script::new();
    // A batch of orders that move no stock (gift cards sold) has no lines.
    if !d.lines.is_empty() {
        let lines = script.statement(
            "INSERT INTO sales_order_lines (order_id, line_no, variant_id, reference_code, item_code, quantity, \
             unit_price, discount, tax_rate, tax_amount, amount) ",
        );
        lines.push_values(&d.lines, |mut row, (id, line_no, line)| {
            row.push_bind(*id)
                .push_bind(*line_no)
                .push_bind(line.variant_id)
                .push_bind(line.reference_code.clone())
                .push_bind(line.item_code.clone())
                .push_bind(Dec(line.quantity))
                .push_bind(Dec(line.unit_price))
                .push_bind(Dec(line.discount))
                .push_bind(Dec(line.tax_rate))
                .push_bind(Dec(line.tax_amount))
                .push_bind(Dec(line.amount));
        });
    }
    let history =
        script.statement("INSERT INTO order_history (order_id, status, by_actor, note, at) ");
    history.push_values(&d.history, |mut row, id| {
        row.push_bind(*id)
            .push_bind(status.as_str())
            .push_bind(actor.as_str())
            .push_bind(None::<String>)
            .push_bind(at);
    });
    if !d.held.is_empty() {
        let allocations = script.statement(
            "INSERT INTO order_allocations (order_id, line_no, variant_id, location_id, quantity, position) ",
        );
        allocations.push_values(&d.held, |mut row, h| {
            row.push_bind(h.order_id)
                .push_bind(h.line_no)
                .push_bind(h.variant_id)
                .push_bind(h.location_id)
                .push_bind(Dec(h.quantity))
                .push_bind(h.position);
        });
        // The balances exist (they were locked): the upsert only updates.
        let update = script.statement(
            "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) ",
        );
        update.push_values(&d.balances, |mut row, ((variant, location), b)| {
            row.push_bind(*variant)
                .push_bind(*location)
                .push_bind(Dec(b.on_hand))
                .push_bind(Dec(b.reserved))
                .push_bind(at);
        });
        update.push(
            " ON CONFLICT (variant_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
             reserved = excluded.reserved, updated_at = excluded.updated_at",
        );
        let movements = script.statement(
            "INSERT INTO stock_movements (variant_id, location_id, kind, quantity, on_hand_delta, reserved_delta, \
             cost, price, order_id, reference, at) ",
        );
        movements.push_values(&d.held, |mut row, h| {
            row.push_bind(h.variant_id)
                .push_bind(h.location_id)
                .push_bind(kind.as_str())
                .push_bind(Dec(h.quantity))
                .push_bind(Dec(h.on_hand_delta))
                .push_bind(Dec(h.reserved_delta))
                .push_bind(None::<Dec>)
                .push_bind(None::<Dec>)
                .push_bind(Some(h.order_id))
                .push_bind(None::<String>)
                .push_bind(at);
        });
        let variants = script.statement("UPDATE variants SET updated_at = ");
        variants.push_bind(at).push(" WHERE id IN (");
        let mut list = variants.separated(", ");
        for v in &d.variants {
            list.push_bind(*v);
        }
        variants.push(")");
        // Available stock moved: the stores that sell it should hear.
        enqueue_stock_in(&mut script, &d.moved);
    }
    script.run(conn).await
}

/// The rows of `sql` for `ids`, its `{ids}` a placeholder per id.
pub(crate) async fn fetch_for_ids<O>(conn: &mut Conn, sql: &str, ids: &[i64]) -> Result<Vec<O>>
where
    O: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let sql = sql.replace("{ids}", &placeholders(0, ids.len()));
    let mut q = sqlx::query_as::<Db, O>(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// Records connector events, with one statement.
pub(crate) async fn insert_events(
    conn: &mut Conn,
    events: &[&NewConnectorEvent],
    at: DateTime<Utc>,
) -> Result<()> {
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO connector_events (store_id, direction, topic, outcome, http_status, detail, order_id, logs, \
         elapsed_us, created_at) ",
    );
    insert.push_values(events, |mut row, e| {
        row.push_bind(e.store_id)
            .push_bind(e.direction.as_str())
            .push_bind(e.topic.clone())
            .push_bind(e.outcome.as_str())
            .push_bind(e.http_status)
            .push_bind(e.detail.clone())
            .push_bind(e.order_id)
            .push_bind(e.logs.clone())
            .push_bind(e.elapsed_us)
            .push_bind(at);
    });
    insert.build().persistent(false).execute(&mut *conn).await?;
    Ok(())
}
