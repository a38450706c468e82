//! Postgres's set-wise statements for the shared intake (`sql/intake.rs`).
//!
//! Every statement has one text whatever the batch: a batch's rows go in as
//! arrays (`UNNEST($1::int8[], ...)`, `= ANY($1)`), so each statement is
//! prepared once per connection and then costs one round trip. (A text
//! made for each batch, as multi-row `VALUES` are, costs two: sqlx prepares
//! it, then executes it; and the server plans it afresh.) What an order
//! writes after its `sales_orders` row is one statement of data-modifying
//! CTEs, so the balance rows a batch locks are held for two round trips
//! and the commit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use poshub_model::customer::Contact;
use poshub_model::email::Email;
use poshub_model::store::NewConnectorEvent;
use rust_decimal::Decimal;
use sqlx::types::Json;

use super::sql::intake::{Details, NewOrderRow, NEW_ORDER};
use super::sql::stock::stock_key;
use super::sql::Conn;
use super::Db;
use crate::decimal::Dec;
use crate::rows::CustomerRow;
use crate::Result;

/// (id, reference code, item code, tax rate) of the variants with `codes`.
pub(crate) async fn variants_by_code(
    conn: &mut Conn,
    codes: &[&str],
) -> Result<Vec<(i64, String, String, Dec)>> {
    Ok(sqlx::query_as(
        "SELECT v.id, v.reference_code, i.item_code, i.tax_rate FROM variants v \
         JOIN items i ON i.id = v.item_id WHERE v.reference_code = ANY($1)",
    )
    .bind(codes)
    .fetch_all(&mut *conn)
    .await?)
}

/// (store, reference, id) of the orders holding any of `references`.
pub(crate) async fn orders_by_reference(
    conn: &mut Conn,
    references: &[(i64, &str)],
) -> Result<Vec<(i64, String, i64)>> {
    let (stores, refs): (Vec<i64>, Vec<&str>) = references.iter().copied().unzip();
    Ok(sqlx::query_as(
        "SELECT o.store_id, o.online_reference_no, o.id \
         FROM UNNEST($1::int8[], $2::text[]) AS r (store_id, reference) \
         JOIN sales_orders o ON o.store_id = r.store_id AND o.online_reference_no = r.reference",
    )
    .bind(stores)
    .bind(refs)
    .fetch_all(&mut *conn)
    .await?)
}

/// Locks the balances at `pairs` (sorted), creating empty ones, and reads
/// them: (variant, location, on hand, reserved). One statement: the
/// conflict's `DO UPDATE` locks each existing row in the order given and
/// returns it as last committed, even when that commit came after this
/// statement began (a `SELECT ... FOR UPDATE` beside a data-modifying CTE
/// would not see a row another transaction created meanwhile, and leave it
/// unlocked).
pub(crate) async fn lock_balances(
    conn: &mut Conn,
    pairs: &[(i64, i64)],
    at: DateTime<Utc>,
) -> Result<Vec<(i64, i64, Dec, Dec)>> {
    let (variants, locations): (Vec<i64>, Vec<i64>) = pairs.iter().copied().unzip();
    Ok(sqlx::query_as(
        "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) \
         SELECT p.variant_id, p.location_id, 0, 0, $3 \
         FROM UNNEST($1::int8[], $2::int8[]) AS p (variant_id, location_id) \
         ORDER BY p.variant_id, p.location_id \
         ON CONFLICT (variant_id, location_id) DO UPDATE SET updated_at = stock_balances.updated_at \
         RETURNING variant_id, location_id, on_hand, reserved",
    )
    .bind(variants)
    .bind(locations)
    .bind(at)
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
    let phones: Vec<&str> = by_phone.iter().map(|(p, _)| *p).collect();
    let emails: Vec<Option<&str>> = by_phone
        .iter()
        .map(|(_, c)| c.email.as_ref().map(Email::as_str))
        .collect();
    let names: Vec<Option<&str>> = by_phone.iter().map(|(_, c)| c.name.as_deref()).collect();
    let addresses: Vec<Option<Json<&serde_json::Value>>> = by_phone
        .iter()
        .map(|(_, c)| c.address.as_ref().map(Json))
        .collect();
    let rows: Vec<CustomerRow> = sqlx::query_as(
        "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
         SELECT c.phone, c.email, c.name, c.address, FALSE, $5, $5 \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS c (phone, email, name, address) \
         ORDER BY c.phone \
         ON CONFLICT (phone) DO UPDATE SET email = COALESCE(customers.email, excluded.email), \
         name = COALESCE(customers.name, excluded.name), \
         address = COALESCE(customers.address, excluded.address), updated_at = excluded.updated_at \
         RETURNING id, name, phone, email",
    )
    .bind(phones)
    .bind(emails)
    .bind(names)
    .bind(addresses)
    .bind(at)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.phone.clone()?, row)))
        .collect())
}

/// Inserts the orders, in (store, reference) order (the unique index's
/// entries are taken in one order by every writer, so two hubs given the
/// same references never wait for each other in a circle; ids within a
/// batch follow that order): (store, reference, id) of each. A unique
/// violation is a reference another writer took.
pub(crate) async fn insert_orders(
    conn: &mut Conn,
    rows: &[NewOrderRow<'_>],
    at: DateTime<Utc>,
) -> std::result::Result<Vec<(i64, String, i64)>, sqlx::Error> {
    let stores: Vec<i64> = rows.iter().map(|r| r.store_id).collect();
    let locations: Vec<i64> = rows.iter().map(|r| r.location_id).collect();
    let customers: Vec<i64> = rows.iter().map(|r| r.customer_id).collect();
    let groups: Vec<Option<i64>> = rows.iter().map(|r| r.group_id).collect();
    let references: Vec<&str> = rows
        .iter()
        .map(|r| r.order.online_reference_no.as_str())
        .collect();
    let totals: Vec<Decimal> = rows.iter().map(|r| r.order.total).collect();
    let shipping: Vec<Option<Json<_>>> = rows
        .iter()
        .map(|r| r.order.shipping.as_ref().map(Json))
        .collect();
    let charges: Vec<Json<_>> = rows.iter().map(|r| Json(&r.order.charges)).collect();
    let payments: Vec<Json<_>> = rows.iter().map(|r| Json(&r.order.payments)).collect();
    let currencies: Vec<&str> = rows.iter().map(|r| r.order.currency.code()).collect();
    let tests: Vec<bool> = rows.iter().map(|r| r.order.test).collect();
    let notes: Vec<Option<&str>> = rows.iter().map(|r| r.order.notes.as_deref()).collect();
    let placed: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.order.placed_at).collect();
    sqlx::query_as(
        "INSERT INTO sales_orders (store_id, online_reference_no, location_id, location_group_id, customer_id, \
         status, total, shipping, charges, payments, currency, test, notes, placed_at, created_at, updated_at) \
         SELECT o.store_id, o.reference, o.location_id, o.group_id, o.customer_id, $14, o.total, o.shipping, \
         o.charges, o.payments, o.currency, o.test, o.notes, o.placed_at, $15, $15 \
         FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::numeric[], $7::jsonb[], \
         $8::jsonb[], $9::jsonb[], $10::text[], $11::bool[], $12::text[], $13::timestamptz[]) \
         AS o (store_id, reference, location_id, group_id, customer_id, total, shipping, charges, payments, \
         currency, test, notes, placed_at) \
         ORDER BY o.store_id, o.reference \
         RETURNING store_id, online_reference_no, id",
    )
    .bind(stores)
    .bind(references)
    .bind(locations)
    .bind(groups)
    .bind(customers)
    .bind(totals)
    .bind(shipping)
    .bind(charges)
    .bind(payments)
    .bind(currencies)
    .bind(tests)
    .bind(notes)
    .bind(placed)
    .bind(NEW_ORDER.0.as_str())
    .bind(at)
    .fetch_all(&mut *conn)
    .await
}

/// Writes a batch's [`Details`] with one statement: lines, history,
/// allocations, movements, balances, variants and the stock pushes, each a
/// data-modifying CTE over arrays (an empty array writes no rows).
pub(crate) async fn write_details(conn: &mut Conn, d: &Details<'_>) -> Result<()> {
    let (status, actor, kind) = NEW_ORDER;
    let lines = &d.lines;
    let held = &d.held;
    let (balance_variants, balance_locations): (Vec<i64>, Vec<i64>) =
        d.balances.keys().copied().unzip();
    let (moved_variants, moved_locations): (Vec<i64>, Vec<i64>) = d.moved.iter().copied().unzip();
    let moved_keys: Vec<String> = d.moved.iter().map(|(v, l)| stock_key(*v, *l)).collect();
    sqlx::query(
        "WITH l AS (INSERT INTO sales_order_lines (order_id, line_no, variant_id, reference_code, item_code, \
         quantity, unit_price, discount, tax_rate, tax_amount, amount) \
         SELECT * FROM UNNEST($1::int8[], $2::int4[], $3::int8[], $4::text[], $5::text[], $6::numeric[], \
         $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[])), \
         h AS (INSERT INTO order_history (order_id, status, by_actor, note, at) \
         SELECT h.id, $12, $13, NULL, $14 FROM UNNEST($15::int8[]) AS h (id)), \
         a AS (INSERT INTO order_allocations (order_id, line_no, variant_id, location_id, quantity, position) \
         SELECT * FROM UNNEST($16::int8[], $17::int4[], $18::int8[], $19::int8[], $20::numeric[], $21::int4[])), \
         m AS (INSERT INTO stock_movements (variant_id, location_id, kind, quantity, on_hand_delta, \
         reserved_delta, cost, price, order_id, reference, at) \
         SELECT m.variant_id, m.location_id, $22, m.quantity, m.on_hand_delta, m.reserved_delta, NULL, NULL, \
         m.order_id, NULL, $14 \
         FROM UNNEST($18::int8[], $19::int8[], $20::numeric[], $23::numeric[], $24::numeric[], $16::int8[]) \
         AS m (variant_id, location_id, quantity, on_hand_delta, reserved_delta, order_id)), \
         b AS (UPDATE stock_balances s SET on_hand = b.on_hand, reserved = b.reserved, updated_at = $14 \
         FROM UNNEST($25::int8[], $26::int8[], $27::numeric[], $28::numeric[]) \
         AS b (variant_id, location_id, on_hand, reserved) \
         WHERE s.variant_id = b.variant_id AND s.location_id = b.location_id), \
         v AS (UPDATE variants SET updated_at = $14 WHERE id = ANY($29::int8[])), \
         q AS (INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, next_attempt_at, \
         created_at, updated_at) \
         SELECT m.store_id, 'stock', p.push_key, m.variant_id, p.location_id, 'pending', $14, $14, $14 \
         FROM UNNEST($30::text[], $31::int8[], $32::int8[]) AS p (push_key, variant_id, location_id) \
         JOIN store_mappings m ON m.variant_id = p.variant_id \
         JOIN store_locations sl ON sl.store_id = m.store_id AND sl.location_id = p.location_id \
         JOIN stores s ON s.id = m.store_id AND s.push_enabled \
         ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING) \
         SELECT 1",
    )
    .bind(lines.iter().map(|(id, _, _)| *id).collect::<Vec<i64>>())
    .bind(lines.iter().map(|(_, n, _)| *n).collect::<Vec<i32>>())
    .bind(lines.iter().map(|(_, _, l)| l.variant_id).collect::<Vec<i64>>())
    .bind(lines.iter().map(|(_, _, l)| l.reference_code.as_str()).collect::<Vec<&str>>())
    .bind(lines.iter().map(|(_, _, l)| l.item_code.as_str()).collect::<Vec<&str>>())
    .bind(lines.iter().map(|(_, _, l)| l.quantity).collect::<Vec<Decimal>>())
    .bind(lines.iter().map(|(_, _, l)| l.unit_price).collect::<Vec<Decimal>>())
    .bind(lines.iter().map(|(_, _, l)| l.discount).collect::<Vec<Decimal>>())
    .bind(lines.iter().map(|(_, _, l)| l.tax_rate).collect::<Vec<Decimal>>())
    .bind(lines.iter().map(|(_, _, l)| l.tax_amount).collect::<Vec<Decimal>>())
    .bind(lines.iter().map(|(_, _, l)| l.amount).collect::<Vec<Decimal>>())
    .bind(status.as_str())
    .bind(actor.as_str())
    .bind(d.at)
    .bind(&d.history)
    .bind(held.iter().map(|h| h.order_id).collect::<Vec<i64>>())
    .bind(held.iter().map(|h| h.line_no).collect::<Vec<i32>>())
    .bind(held.iter().map(|h| h.variant_id).collect::<Vec<i64>>())
    .bind(held.iter().map(|h| h.location_id).collect::<Vec<i64>>())
    .bind(held.iter().map(|h| h.quantity).collect::<Vec<Decimal>>())
    .bind(held.iter().map(|h| h.position).collect::<Vec<i32>>())
    .bind(kind.as_str())
    .bind(held.iter().map(|h| h.on_hand_delta).collect::<Vec<Decimal>>())
    .bind(held.iter().map(|h| h.reserved_delta).collect::<Vec<Decimal>>())
    .bind(balance_variants)
    .bind(balance_locations)
    .bind(d.balances.values().map(|b| b.on_hand).collect::<Vec<Decimal>>())
    .bind(d.balances.values().map(|b| b.reserved).collect::<Vec<Decimal>>())
    .bind(&d.variants)
    .bind(moved_keys)
    .bind(moved_variants)
    .bind(moved_locations)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The rows of `sql` for `ids`, its `IN ({ids})` an `= ANY` of one array
/// (one text, so one prepared statement, whatever the count).
pub(crate) async fn fetch_for_ids<O>(conn: &mut Conn, sql: &str, ids: &[i64]) -> Result<Vec<O>>
where
    O: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    debug_assert!(sql.contains("IN ({ids})"), "{sql}");
    let sql = sql.replace("IN ({ids})", "= ANY($1)");
    Ok(sqlx::query_as::<Db, O>(&sql)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?)
}

/// Records connector events, with one statement.
pub(crate) async fn insert_events(
    conn: &mut Conn,
    events: &[&NewConnectorEvent],
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO connector_events (store_id, direction, topic, outcome, http_status, detail, order_id, logs, \
         elapsed_us, created_at) \
         SELECT e.*, $10 FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::text[], \
         $7::int8[], $8::text[], $9::int8[]) AS e",
    )
    .bind(events.iter().map(|e| e.store_id).collect::<Vec<i64>>())
    .bind(events.iter().map(|e| e.direction.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|e| e.topic.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|e| e.outcome.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|e| e.http_status).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.detail.as_deref()).collect::<Vec<Option<&str>>>())
    .bind(events.iter().map(|e| e.order_id).collect::<Vec<Option<i64>>>())
    .bind(events.iter().map(|e| e.logs.as_deref()).collect::<Vec<Option<&str>>>())
    .bind(events.iter().map(|e| e.elapsed_us).collect::<Vec<_>>())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
