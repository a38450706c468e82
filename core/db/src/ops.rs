// The one implementation of `Storage`, compiled once per backend: the
// including module defines `Db` (the sqlx database), `Backend` (the storage
// struct with `write` and `read` pools) and the dialect constants
// `BACKEND`, `FOR_UPDATE` and `EMAIL_ONLY`.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use poshub_model::bill::{bill_number, Bill, BillRequest};
use poshub_model::codes::PaymentType;
use poshub_model::currency::Currency;
use poshub_model::decimal::{Amount, Rate};
use poshub_model::item::{Item, NewItem, NewVariant, Variant};
use poshub_model::order::{
    CatalogEntry, Contact, CustomerRef, Order, OrderAction, OrderRules, OrderStatus, Transition,
};
use poshub_model::stock::{Balance, MovementKind, StockAdjustment, StockInward, StockLevel};
use poshub_model::store::{
    ApiUser, ConnectorEvent, Location, LocationGroup, NewApiUser, NewConnectorEvent, NewStore,
    Principal, Store, StoreContext,
};
use poshub_model::sync::{Mapping, SyncEntry, SyncStatus};
use poshub_model::{now, DomainError, FieldError};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{Connection, QueryBuilder, Row};

use crate::decimal::Dec;
use crate::rows::*;
use crate::{
    Actor, CatalogQuery, CatalogRow, Delivery, Error, LedgerMismatch, LineRef, OrderQuery,
    OrderScope, OutboxItem, PlaceOrder, Placed, PushChange, Result, Storage,
};

type Conn = <Db as sqlx::Database>::Connection;

/// Extra facts recorded with a stock movement.
#[derive(Default)]
struct MovementNote<'a> {
    cost: Option<Decimal>,
    price: Option<Decimal>,
    order_id: Option<i64>,
    reference: Option<&'a str>,
}

async fn location_by_code(conn: &mut Conn, code: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar::<Db, i64>("SELECT id FROM locations WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The id of the location a request's `location` field names (422 if none).
/// Database errors stay database errors.
async fn location_field(conn: &mut Conn, code: &str) -> Result<i64> {
    location_by_code(conn, code).await?.ok_or_else(|| {
        DomainError::invalid(
            "location",
            "unknown_location",
            format!("no location has code `{code}`"),
        )
        .into()
    })
}

/// The stock a store is shown: available (on hand minus reserved), never
/// below zero; a missing balance is none.
fn published(on_hand: Option<Dec>, reserved: Option<Dec>) -> Decimal {
    let d = |v: Option<Dec>| v.map_or(Decimal::ZERO, |d| d.0);
    (d(on_hand) - d(reserved)).max(Decimal::ZERO)
}

/// Resolves location codes for a request field, collecting unknown ones.
async fn locations_for(
    conn: &mut Conn,
    field: &str,
    codes: &[impl AsRef<str>],
) -> Result<Vec<(i64, String)>> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let code = code.as_ref();
        match location_by_code(conn, code).await? {
            Some(id) => found.push((id, code.to_string())),
            None => problems.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown_location",
                format!("no location has code `{code}`"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

/// Looks up the catalogue entry of each reference code (None: unknown).
async fn catalog_entries(conn: &mut Conn, codes: &[&str]) -> Result<Vec<Option<CatalogEntry>>> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT v.id, v.reference_code, i.item_code, i.tax_rate FROM variants v \
         JOIN items i ON i.id = v.item_id WHERE v.reference_code IN ({})",
        placeholders(0, codes.len())
    );
    let mut q = sqlx::query_as::<Db, (i64, String, String, Dec)>(&sql);
    for c in codes {
        q = q.bind(*c);
    }
    let found: HashMap<String, CatalogEntry> = q
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(id, code, item_code, rate)| {
            (
                code,
                CatalogEntry {
                    variant_id: id,
                    item_code,
                    tax_rate: Rate::from_stored(rate.0),
                },
            )
        })
        .collect();
    Ok(codes.iter().map(|c| found.get(*c).cloned()).collect())
}

/// Variant ids for the reference codes of request lines, or a 422 naming
/// every unknown code.
async fn variants_for_lines(conn: &mut Conn, codes: &[&str]) -> Result<Vec<i64>> {
    let entries = catalog_entries(conn, codes).await?;
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for (i, (e, code)) in entries.iter().zip(codes).enumerate() {
        match e {
            Some(e) => ids.push(e.variant_id),
            None => problems.push(FieldError::new(
                format!("lines[{i}].reference_code"),
                "unknown_reference_code",
                format!("no variant has reference code `{code}`"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(ids)
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

/// Locks the balance of a variant at a location (creating an empty one), and
/// returns it.
async fn lock_balance(conn: &mut Conn, variant_id: i64, location_id: i64) -> Result<Balance> {
    sqlx::query::<Db>(
        "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) \
         VALUES ($1, $2, $3, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(variant_id)
    .bind(location_id)
    .bind(Dec(Decimal::ZERO))
    .bind(now())
    .execute(&mut *conn)
    .await?;
    let (on_hand, reserved) = sqlx::query_as::<Db, (Dec, Dec)>(&format!(
        "SELECT on_hand, reserved FROM stock_balances WHERE variant_id = $1 AND location_id = $2{FOR_UPDATE}"
    ))
    .bind(variant_id)
    .bind(location_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Balance {
        on_hand: on_hand.0,
        reserved: reserved.0,
    })
}

/// Queues a stock push for every store that maps the variant, sells from the
/// location and pushes; a pending row for the same thing absorbs it.
async fn enqueue_stock(conn: &mut Conn, variant_id: i64, location_id: i64) -> Result<()> {
    let mut script = Script::new();
    enqueue_stock_in(&mut script, &[(variant_id, location_id)]);
    script.run(conn).await
}

/// [`enqueue_stock`] for every (variant, location) of `pairs`, as one
/// statement of `script`.
fn enqueue_stock_in(script: &mut Script<'_>, pairs: &[(i64, i64)]) {
    if pairs.is_empty() {
        return;
    }
    let at = now();
    let q = script.statement("WITH moved (push_key, variant_id, location_id) AS (");
    q.push_values(pairs, |mut row, (variant, location)| {
        row.push_bind(stock_key(*variant, *location))
            .push_bind(*variant)
            .push_bind(*location);
    });
    q.push(
        ") INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, next_attempt_at, \
         created_at, updated_at) SELECT m.store_id, 'stock', p.push_key, m.variant_id, p.location_id, 'pending', ",
    );
    q.push_bind(at)
        .push(", ")
        .push_bind(at)
        .push(", ")
        .push_bind(at);
    q.push(
        " FROM moved p JOIN store_mappings m ON m.variant_id = p.variant_id \
         JOIN store_locations sl ON sl.store_id = m.store_id AND sl.location_id = p.location_id \
         JOIN stores s ON s.id = m.store_id AND s.push_enabled \
         WHERE TRUE ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
    );
}

fn stock_key(variant_id: i64, location_id: i64) -> String {
    format!("stock:{variant_id}:{location_id}")
}

fn price_key(variant_id: i64) -> String {
    format!("price:{variant_id}")
}

/// Queues a price push for every pushing store that maps the variant.
async fn enqueue_price(conn: &mut Conn, variant_id: i64) -> Result<()> {
    let at = now();
    sqlx::query::<Db>(
        "INSERT INTO outbox (store_id, kind, key, variant_id, status, next_attempt_at, created_at, updated_at) \
         SELECT m.store_id, 'price', $1, m.variant_id, 'pending', $3, $3, $3 FROM store_mappings m \
         JOIN stores s ON s.id = m.store_id AND s.push_enabled \
         WHERE m.variant_id = $2 ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
    )
    .bind(price_key(variant_id))
    .bind(variant_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a (locked) balance to what its movements made it.
async fn write_balance(
    conn: &mut Conn,
    variant_id: i64,
    location_id: i64,
    balance: Balance,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    sqlx::query::<Db>(
        "UPDATE stock_balances SET on_hand = $1, reserved = $2, updated_at = $3 \
         WHERE variant_id = $4 AND location_id = $5",
    )
    .bind(Dec(balance.on_hand))
    .bind(Dec(balance.reserved))
    .bind(at)
    .bind(variant_id)
    .bind(location_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends a movement to the ledger and moves the (locked) balance with it.
#[allow(clippy::too_many_arguments)]
async fn record_movement(
    conn: &mut Conn,
    variant_id: i64,
    location_id: i64,
    kind: MovementKind,
    quantity: Decimal,
    before: Balance,
    note: MovementNote<'_>,
) -> Result<Balance> {
    let delta = kind.delta(quantity);
    let after = before.apply(delta);
    let at = now();
    write_balance(conn, variant_id, location_id, after, at).await?;
    sqlx::query::<Db>(
        "INSERT INTO stock_movements (variant_id, location_id, kind, quantity, on_hand_delta, reserved_delta, \
         cost, price, order_id, reference, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(variant_id)
    .bind(location_id)
    .bind(kind.as_str())
    .bind(Dec(quantity))
    .bind(Dec(delta.on_hand))
    .bind(Dec(delta.reserved))
    .bind(note.cost.map(Dec))
    .bind(note.price.map(Dec))
    .bind(note.order_id)
    .bind(note.reference)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query::<Db>("UPDATE variants SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(variant_id)
        .execute(&mut *conn)
        .await?;
    if delta.on_hand != delta.reserved {
        // Available stock moved: the stores that sell it should hear.
        enqueue_stock(conn, variant_id, location_id).await?;
    }
    Ok(after)
}

async fn levels(conn: &mut Conn, pairs: &[(i64, i64)]) -> Result<Vec<StockLevel>> {
    let mut out = Vec::new();
    for (variant_id, location_id) in pairs {
        let (code, loc, on_hand, reserved) = sqlx::query_as::<Db, (String, String, Dec, Dec)>(
            "SELECT v.reference_code, l.code, b.on_hand, b.reserved FROM stock_balances b \
             JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id \
             WHERE b.variant_id = $1 AND b.location_id = $2",
        )
        .bind(variant_id)
        .bind(location_id)
        .fetch_one(&mut *conn)
        .await?;
        out.push(StockLevel {
            reference_code: code,
            location: loc,
            on_hand: on_hand.0,
            reserved: reserved.0,
            available: on_hand.0 - reserved.0,
        });
    }
    Ok(out)
}

async fn load_item(conn: &mut Conn, item_code: &str) -> Result<Item> {
    let item = sqlx::query_as::<Db, ItemRow>(
        "SELECT id, item_code, name, unit, tax_rate, mrp, attributes, reference_code_template, created_at \
         FROM items WHERE item_code = $1",
    )
    .bind(item_code)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("item", item_code))?;
    let variants = sqlx::query_as::<Db, VariantRow>(
        "SELECT reference_code, attributes, price, updated_at FROM variants WHERE item_id = $1 ORDER BY id",
    )
    .bind(item.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Item {
        item_code: item.item_code,
        name: item.name,
        unit: item.unit,
        tax_rate: Rate::from_stored(item.tax_rate.0),
        mrp: item.mrp.map(|d| Amount::from_stored(d.0)),
        attributes: item.attributes.0,
        reference_code_template: item.reference_code_template,
        variants: variants
            .into_iter()
            .map(|v| Variant {
                reference_code: v.reference_code,
                attributes: v.attributes.0,
                price: v.price.map(|d| Amount::from_stored(d.0)),
                updated_at: v.updated_at,
            })
            .collect(),
        created_at: item.created_at,
    })
}

/// The settings key of the hub's currency (seeded by migration 0010).
const CURRENCY_SETTING: &str = "currency";

/// A store's currency: its own, else the hub's (`s` is the store).
const STORE_CURRENCY: &str =
    "COALESCE(s.currency, (SELECT value FROM settings WHERE key = 'currency')) AS currency";

/// A currency storage wrote after checking it.
fn stored_currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(|e| Error::Corrupt(format!("currency: {e}")))
}

async fn store_row(conn: &mut Conn, code: &str) -> Result<StoreRow> {
    Ok(sqlx::query_as::<Db, StoreRow>(&format!(
        "SELECT s.id, s.code, s.name, s.connector, s.config, s.payment_types, s.allow_backorder, \
         s.prices_include_tax, {STORE_CURRENCY}, s.accept_test_orders, s.enabled, s.created_at \
         FROM stores s WHERE s.code = $1"
    ))
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("store", code))?)
}

async fn store_locations(conn: &mut Conn, store_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as::<Db, (i64, String)>(
        "SELECT l.id, l.code FROM store_locations sl JOIN locations l ON l.id = sl.location_id \
         WHERE sl.store_id = $1 ORDER BY l.code",
    )
    .bind(store_id)
    .fetch_all(&mut *conn)
    .await?)
}

async fn load_store(conn: &mut Conn, code: &str) -> Result<Store> {
    let row = store_row(conn, code).await?;
    let locations = store_locations(conn, row.id).await?;
    Ok(Store {
        code: row.code,
        name: row.name,
        connector: row.connector,
        config: row.config.0,
        locations: locations.into_iter().map(|(_, c)| c).collect(),
        payment_types: row.payment_types.0,
        allow_backorder: row.allow_backorder,
        prices_include_tax: row.prices_include_tax,
        currency: stored_currency(&row.currency)?,
        accept_test_orders: row.accept_test_orders,
        enabled: row.enabled,
        channel: channel(conn, row.id).await?.settings(),
        created_at: row.created_at,
    })
}

async fn load_api_user(conn: &mut Conn, id: i64) -> Result<ApiUser> {
    let (name, store, key_prefix, created_at) = sqlx::query_as::<Db, (String, String, String, chrono::DateTime<chrono::Utc>)>(
        "SELECT u.name, s.code, u.key_prefix, u.created_at FROM api_users u JOIN stores s ON s.id = u.store_id \
         WHERE u.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let locations = sqlx::query_scalar::<Db, String>(
        "SELECT l.code FROM api_user_locations ul JOIN locations l ON l.id = ul.location_id \
         WHERE ul.api_user_id = $1 ORDER BY l.code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ApiUser {
        id,
        name,
        store,
        locations,
        key_prefix,
        created_at,
    })
}

const ORDER_SELECT: &str = "SELECT o.id, o.store_id, o.location_id, o.online_reference_no, s.code AS store_code, \
     l.code AS location_code, o.status, o.total, o.shipping, o.charges, o.payments, o.currency, o.test, o.notes, \
     o.placed_at, o.created_at, \
     o.updated_at, o.customer_id, c.name AS customer_name, c.phone AS customer_phone, c.email AS customer_email, \
     b.bill_no AS bill_no, COALESCE(o.original_total, o.total) AS original_total, o.carrier, o.tracking_number, \
     o.ready_at, o.shipped_at, o.out_for_delivery_at, o.delivered_at \
     FROM sales_orders o JOIN stores s ON s.id = o.store_id JOIN locations l ON l.id = o.location_id \
     JOIN customers c ON c.id = o.customer_id LEFT JOIN bills b ON b.order_id = o.id";

fn visible(row: &OrderRow, scope: &OrderScope) -> bool {
    scope.store_id.is_none_or(|s| s == row.store_id)
        && scope
            .location_ids
            .as_ref()
            .is_none_or(|ls| ls.contains(&row.location_id))
}

/// The order row, locked for update when `lock` is set, if the scope sees it.
async fn order_row(conn: &mut Conn, scope: &OrderScope, id: i64, lock: bool) -> Result<OrderRow> {
    if lock {
        // Lock the order itself; the joined rows are reference data.
        sqlx::query::<Db>(&format!(
            "SELECT id FROM sales_orders WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    }
    let row = sqlx::query_as::<Db, OrderRow>(&format!("{ORDER_SELECT} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) if visible(&row, scope) => Ok(row),
        _ => Err(DomainError::not_found("sales order", id).into()),
    }
}

async fn order_lines(conn: &mut Conn, id: i64) -> Result<Vec<LineRow>> {
    Ok(sqlx::query_as::<Db, LineRow>(
        "SELECT line_no, variant_id, reference_code, item_code, quantity, unit_price, discount, tax_rate, \
         tax_amount, amount, cancelled_quantity, returned_quantity FROM sales_order_lines WHERE order_id = $1 \
         ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The locations of rows that LEFT JOIN them as `location_id` and
/// `location_code` (a row without one carries NULLs).
fn joined_locations(rows: &[<Db as sqlx::Database>::Row]) -> Result<Vec<(i64, String)>> {
    let mut locations = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(id) = r.try_get::<Option<i64>, _>("location_id")? {
            locations.push((id, r.try_get::<String, _>("location_code")?));
        }
    }
    Ok(locations)
}

/// The rows of `sql` for `ids`: its `{ids}` becomes a placeholder per id,
/// each bound (`ids` must not be empty).
async fn fetch_for_ids<O>(conn: &mut Conn, sql: &str, ids: &[i64]) -> Result<Vec<O>>
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

/// The orders with `ids` that `scope` sees, in the order of `ids` (an id
/// it does not see, or that does not exist, is left out): six statements
/// whatever their number, and one more per credit note.
async fn load_orders(conn: &mut Conn, scope: &OrderScope, ids: &[i64]) -> Result<Vec<Order>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{ORDER_SELECT} WHERE o.id IN ({{ids}})");
    let mut rows: HashMap<i64, OrderRow> = fetch_for_ids::<OrderRow>(conn, &sql, ids)
        .await?
        .into_iter()
        .filter(|r| visible(r, scope))
        .map(|r| (r.id, r))
        .collect();
    let ids: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| rows.contains_key(id))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines: HashMap<i64, Vec<LineRow>> = HashMap::new();
    for line in fetch_for_ids::<LineRow>(
        conn,
        "SELECT order_id, line_no, variant_id, reference_code, item_code, quantity, unit_price, discount, \
         tax_rate, tax_amount, amount, cancelled_quantity, returned_quantity FROM sales_order_lines \
         WHERE order_id IN ({ids}) ORDER BY order_id, line_no",
        &ids,
    )
    .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    let mut history: HashMap<i64, Vec<HistoryRow>> = HashMap::new();
    for entry in fetch_for_ids::<HistoryRow>(
        conn,
        "SELECT order_id, status, by_actor, note, at FROM order_history WHERE order_id IN ({ids}) ORDER BY id",
        &ids,
    )
    .await?
    {
        history.entry(entry.order_id).or_default().push(entry);
    }
    let mut sourcing = orders_sourcing(conn, &ids).await?;
    let mut credit_notes = credit_notes_of(conn, &ids).await?;
    ids.iter()
        .map(|id| {
            let row = rows.remove(id).expect("a row per id");
            let (location_group, mut allocations) = sourcing.remove(id).unwrap_or_default();
            complete_order(
                row,
                lines.remove(id).unwrap_or_default(),
                history.remove(id).unwrap_or_default(),
                location_group,
                &mut allocations,
                credit_notes.remove(id).unwrap_or_default(),
            )
        })
        .collect()
}

/// An order from its row and what hangs off it.
fn complete_order(
    row: OrderRow,
    lines: Vec<LineRow>,
    history: Vec<HistoryRow>,
    location_group: Option<String>,
    allocations: &mut HashMap<i32, Vec<poshub_model::order::LineAllocation>>,
    credit_notes: Vec<poshub_model::lifecycle::CreditNote>,
) -> Result<Order> {
    Ok(Order {
        id: row.id,
        online_reference_no: row.online_reference_no,
        store: row.store_code,
        location: row.location_code,
        location_group,
        status: status(&row.status),
        customer: CustomerRef {
            id: row.customer_id,
            name: row.customer_name,
            phone: row.customer_phone,
            email: row.customer_email,
        },
        lines: lines
            .iter()
            .map(|l| {
                let mut line = l.to_model();
                line.allocations = allocations.remove(&l.line_no).unwrap_or_default();
                line
            })
            .collect(),
        shipping: row.shipping.map(|s| s.0),
        charges: row.charges.0,
        payments: row.payments.0,
        total: Amount::from_stored(row.total.0),
        currency: stored_currency(&row.currency)?,
        test: row.test,
        original_total: Amount::from_stored(row.original_total.0),
        bill_no: row.bill_no,
        notes: row.notes,
        placed_at: row.placed_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        history: history.iter().map(HistoryRow::to_model).collect(),
        delivery: poshub_model::lifecycle::Delivery {
            carrier: row.carrier,
            tracking_number: row.tracking_number,
            ready_at: row.ready_at,
            shipped_at: row.shipped_at,
            out_for_delivery_at: row.out_for_delivery_at,
            delivered_at: row.delivered_at,
        },
        credit_notes,
    })
}

async fn load_order(conn: &mut Conn, scope: &OrderScope, id: i64) -> Result<Order> {
    load_orders(conn, scope, &[id])
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("sales order", id).into())
}

async fn set_status(
    conn: &mut Conn,
    id: i64,
    to: OrderStatus,
    by: Actor,
    note: Option<&str>,
) -> Result<()> {
    let at = now();
    sqlx::query::<Db>("UPDATE sales_orders SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query::<Db>("INSERT INTO order_history (order_id, status, by_actor, note, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(to.as_str())
        .bind(by.as_str())
        .bind(note)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    sqlx::query::<Db>(
        "INSERT INTO outbox (store_id, kind, key, order_id, status, next_attempt_at, created_at, updated_at) \
         SELECT o.store_id, 'status', $1, o.id, 'pending', $3, $3, $3 FROM sales_orders o \
         JOIN stores s ON s.id = o.store_id AND s.push_enabled WHERE o.id = $2 \
         ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
    )
    .bind(format!("status:{id}:{}", to.as_str()))
    .bind(id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Finds or creates the customer an order belongs to: by phone, else by
/// email, else the store's walk-in customer. Known customers keep their
/// data; blanks are filled from the order.
async fn resolve_customer(conn: &mut Conn, contact: &Contact, store_id: i64) -> Result<i64> {
    let at = now();
    let address = contact.address.clone().map(Json);
    if let Some(phone) = &contact.phone {
        return Ok(sqlx::query_scalar::<Db, i64>(
            "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $5) ON CONFLICT (phone) DO UPDATE SET \
             email = COALESCE(customers.email, excluded.email), name = COALESCE(customers.name, excluded.name), \
             address = COALESCE(customers.address, excluded.address), updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(phone.as_str())
        .bind(&contact.email)
        .bind(&contact.name)
        .bind(address)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?);
    }
    if let Some(email) = &contact.email {
        let known = sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM customers WHERE email = $1 ORDER BY id LIMIT 1",
        )
        .bind(email)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = known {
            return Ok(id);
        }
        return Ok(sqlx::query_scalar::<Db, i64>(&format!(
            "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
             VALUES (NULL, $1, $2, $3, FALSE, $4, $4) ON CONFLICT (email) WHERE {EMAIL_ONLY} DO UPDATE SET \
             updated_at = excluded.updated_at RETURNING id"
        ))
        .bind(email)
        .bind(&contact.name)
        .bind(address)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?);
    }
    Ok(
        sqlx::query_scalar::<Db, i64>("SELECT walk_in_customer_id FROM stores WHERE id = $1")
            .bind(store_id)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// The idempotency record for a key: claims it (None) or returns what an
/// earlier request with the same key stored.
async fn claim_idempotency_key(
    conn: &mut Conn,
    store_id: i64,
    key: &crate::IdempotencyKey,
) -> Result<Option<String>> {
    // On Postgres a concurrent claim of the same key waits here until the
    // other transaction ends, then sees its row.
    let claimed = sqlx::query::<Db>(
        "INSERT INTO idempotency_keys (store_id, key, request_hash, response, created_at) \
         VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING",
    )
    .bind(store_id)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(now())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(None);
    }
    let (hash, response) = sqlx::query_as::<Db, (String, Option<String>)>(
        "SELECT request_hash, response FROM idempotency_keys WHERE store_id = $1 AND key = $2",
    )
    .bind(store_id)
    .bind(&key.key)
    .fetch_one(&mut *conn)
    .await?;
    if hash != key.request_hash {
        return Err(DomainError::IdempotencyKeyReused.into());
    }
    match response {
        Some(body) => Ok(Some(body)),
        None => Err(DomainError::conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
        .into()),
    }
}

async fn existing_order(conn: &mut Conn, store_id: i64, reference: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT id FROM sales_orders WHERE store_id = $1 AND online_reference_no = $2",
    )
    .bind(store_id)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?)
}

fn duplicate_order(reference: &str, id: i64) -> Error {
    DomainError::Conflict {
        code: "duplicate_online_reference_no",
        detail: format!("this store already has order {id} with online_reference_no `{reference}`"),
        existing_id: Some(id),
    }
    .into()
}

/// Places one order (see [`place_orders`]), answering a repeated
/// Idempotency-Key with the stored answer and storing the answer to a new one.
async fn place(conn: &mut Conn, order: &PlaceOrder) -> Result<crate::Outcome> {
    let p = &order.principal;
    if let Some(key) = &order.idempotency {
        if let Some(body) = claim_idempotency_key(conn, p.store_id, key).await? {
            return Ok(crate::Outcome::Done(Placed::Replayed(body)));
        }
    }
    let id = place_orders(conn, &[order])
        .await?
        .pop()
        .expect("one order, one outcome")?;
    let Some(key) = &order.idempotency else {
        return Ok(crate::Outcome::Created(id));
    };
    let created = load_order(conn, &OrderScope::admin(), id).await?;
    let body = serde_json::to_string(&created).expect("orders serialize");
    sqlx::query::<Db>("UPDATE idempotency_keys SET response = $1 WHERE store_id = $2 AND key = $3")
        .bind(body)
        .bind(p.store_id)
        .bind(&key.key)
        .execute(&mut *conn)
        .await?;
    Ok(crate::Outcome::Done(Placed::Created(Box::new(created))))
}

async fn bill(conn: &mut Conn, id: i64, request: &BillRequest) -> Result<Bill> {
    let order = order_row(conn, &OrderScope::admin(), id, true).await?;
    status(&order.status).apply(OrderAction::Bill)?;
    let allowed = sqlx::query_scalar::<Db, Json<Vec<PaymentType>>>(
        "SELECT payment_types FROM stores WHERE id = $1",
    )
    .bind(order.store_id)
    .fetch_one(&mut *conn)
    .await?
    .0;
    if !allowed.contains(&request.payment_type) {
        let names: Vec<_> = allowed.iter().map(PaymentType::as_str).collect();
        return Err(DomainError::invalid(
            "payment_type",
            "payment_type_not_allowed",
            format!(
                "store {} does not accept `{}`; allowed: {}",
                order.store_code,
                request.payment_type,
                names.join(", ")
            ),
        )
        .into());
    }
    check_bill_policy(conn, order.store_id, &request.payment_type, order.total.0).await?;
    let next = sqlx::query_scalar::<Db, i64>(
        "UPDATE locations SET next_bill_seq = next_bill_seq + 1 WHERE id = $1 RETURNING next_bill_seq",
    )
    .bind(order.location_id)
    .fetch_one(&mut *conn)
    .await?;
    let bill_no = bill_number(&order.location_code, next - 1);
    sqlx::query::<Db>(
        "INSERT INTO bills (bill_no, location_id, order_id, payment_type, total, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6)",
    )
    .bind(&bill_no)
    .bind(order.location_id)
    .bind(id)
    .bind(request.payment_type.as_str())
    .bind(order.total)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    move_order_stock(conn, &order, MovementKind::Sale, Some(&bill_no)).await?;
    set_status(
        conn,
        id,
        OrderStatus::Billed,
        Actor::Admin,
        Some(&format!("bill {bill_no}")),
    )
    .await?;
    load_bill(conn, &bill_no).await
}

/// Where an order's stock is held: (line no, variant, location, quantity),
/// in variant then location order (the order balances are locked in).
async fn allocations(conn: &mut Conn, order_id: i64) -> Result<Vec<(i32, i64, i64, Decimal)>> {
    let rows = sqlx::query_as::<Db, (i32, i64, i64, Dec)>(
        "SELECT line_no, variant_id, location_id, quantity FROM order_allocations \
         WHERE order_id = $1 ORDER BY variant_id, location_id, line_no",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(l, v, loc, q)| (l, v, loc, q.0))
        .collect())
}

/// Applies one movement per allocation of the order, e.g. the sale when billing.
async fn move_order_stock(
    conn: &mut Conn,
    order: &OrderRow,
    kind: MovementKind,
    reference: Option<&str>,
) -> Result<()> {
    for (_, variant_id, location_id, quantity) in allocations(conn, order.id).await? {
        if quantity.is_zero() {
            continue;
        }
        let before = lock_balance(conn, variant_id, location_id).await?;
        record_movement(
            conn,
            variant_id,
            location_id,
            kind,
            quantity,
            before,
            MovementNote {
                order_id: Some(order.id),
                reference,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Maps reference codes to a store's own ids (the one path every mapping
/// takes: by hand, CSV import, auto-match); newly mapped variants are queued
/// for a first push.
async fn write_mappings(
    conn: &mut Conn,
    store_id: i64,
    store_code: &str,
    mappings: &[Mapping],
) -> Result<()> {
    let codes: Vec<&str> = mappings.iter().map(|m| m.reference_code.as_str()).collect();
    let ids = variants_for_lines(&mut *conn, &codes)
        .await
        .map_err(|e| match e {
            Error::Domain(DomainError::Invalid(errors)) => Error::Domain(DomainError::Invalid(
                errors
                    .into_iter()
                    .map(|mut f| {
                        f.field = f.field.replacen("lines", "", 1);
                        f
                    })
                    .collect(),
            )),
            other => other,
        })?;
    let mut problems = Vec::new();
    for (i, (m, variant)) in mappings.iter().zip(&ids).enumerate() {
        if m.external_id.trim().is_empty() || m.external_id.len() > 128 {
            problems.push(FieldError::new(
                format!("[{i}].external_id"),
                "invalid_external_id",
                "1 to 128 characters",
            ));
            continue;
        }
        fn extra(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        for (field, value) in [
            ("parent_id", &m.parent_id),
            ("inventory_id", &m.inventory_id),
        ] {
            if extra(value).is_some_and(|v| v.len() > 128) {
                problems.push(FieldError::new(
                    format!("[{i}].{field}"),
                    "invalid_external_id",
                    "at most 128 characters",
                ));
            }
        }
        let new = sqlx::query_scalar::<Db, i64>(
            "SELECT COUNT(*) FROM store_mappings WHERE store_id = $1 AND variant_id = $2",
        )
        .bind(store_id)
        .bind(variant)
        .fetch_one(&mut *conn)
        .await?
            == 0;
        let r = sqlx::query::<Db>(
            "INSERT INTO store_mappings (store_id, variant_id, external_id, parent_id, inventory_id) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store_id, variant_id) DO UPDATE SET \
             external_id = excluded.external_id, parent_id = excluded.parent_id, inventory_id = excluded.inventory_id",
        )
        .bind(store_id)
        .bind(variant)
        .bind(m.external_id.trim())
        .bind(extra(&m.parent_id))
        .bind(extra(&m.inventory_id))
        .execute(&mut *conn)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(DomainError::conflict(
                    "external_id_taken",
                    format!(
                        "external id `{}` is already mapped to another variant of {store_code}",
                        m.external_id
                    ),
                )
                .into())
            }
            Err(e) => return Err(e.into()),
        }
        if new {
            // A newly mapped variant gets its first levels and price.
            for (location, _) in store_locations(&mut *conn, store_id).await? {
                enqueue_stock(&mut *conn, *variant, location).await?;
            }
            enqueue_price(&mut *conn, *variant).await?;
        }
    }
    if !problems.is_empty() {
        return Err(DomainError::Invalid(problems).into());
    }
    Ok(())
}

async fn load_bill(conn: &mut Conn, bill_no: &str) -> Result<Bill> {
    let row = sqlx::query_as::<Db, BillRow>(
        "SELECT b.bill_no, b.order_id, s.code AS store_code, l.code AS location_code, b.payment_type, b.total, \
         b.status, b.created_at FROM bills b JOIN sales_orders o ON o.id = b.order_id \
         JOIN stores s ON s.id = o.store_id JOIN locations l ON l.id = b.location_id WHERE b.bill_no = $1",
    )
    .bind(bill_no)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("bill", bill_no))?;
    let lines = order_lines(conn, row.order_id).await?;
    Ok(Bill {
        bill_no: row.bill_no,
        order_id: row.order_id,
        store: row.store_code,
        location: row.location_code,
        payment_type: PaymentType::parse(&row.payment_type)
            .map_err(|e| Error::Database(sqlx::Error::Decode(e.into())))?,
        total: Amount::from_stored(row.total.0),
        lines: lines.iter().map(LineRow::to_model).collect(),
        status: row.status,
        created_at: row.created_at,
        credit_notes: credit_note_numbers(conn, bill_no).await?,
    })
}

/// Places one order in a transaction of its own.
pub(crate) async fn place_alone(
    write: &sqlx::Pool<Db>,
    order: &PlaceOrder,
) -> Result<crate::Outcome> {
    let mut conn = write.acquire().await?;
    place_within(&mut conn, order).await
}

/// Places an order in a transaction begun on `conn`: a transaction of its
/// own, or a savepoint when `conn` is already in one. A failed order is
/// undone before a duplicate reference is looked up.
async fn place_within(conn: &mut Conn, order: &PlaceOrder) -> Result<crate::Outcome> {
    let mut tx = conn.begin().await?;
    match place(&mut tx, order).await {
        Ok(placed) => {
            tx.commit().await?;
            Ok(placed)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(name_the_winner(conn, order, e).await?)
        }
    }
}

/// Does several writes in one transaction: orders without an
/// Idempotency-Key placed set-wise (see [`place_orders`]), one with a key
/// on its own in a savepoint, connector events in one insert. Should the
/// database fail on any of it, nothing was kept and the writes are done
/// again one by one (see [`write_one_by_one`]), so that only the write at
/// fault fails. (SQLite's intake batches writes; Postgres does each alone.)
#[allow(dead_code)] // only the SQLite backend uses it
pub(crate) async fn write_together(
    write: &sqlx::Pool<Db>,
    jobs: &[&crate::Write],
) -> Vec<crate::Written> {
    let mut conn = match write.acquire().await {
        Ok(c) => c,
        Err(e) => return jobs.iter().map(|j| j.failed(e.to_string())).collect(),
    };
    match all_at_once(&mut conn, jobs).await {
        Ok(results) => results,
        Err(_) => write_one_by_one(&mut conn, jobs).await,
    }
}

async fn all_at_once(conn: &mut Conn, jobs: &[&crate::Write]) -> Result<Vec<crate::Written>> {
    let mut tx = conn.begin().await?;
    let mut results: Vec<Option<crate::Written>> = jobs.iter().map(|_| None).collect();
    let plain: Vec<(usize, &PlaceOrder)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| match job {
            crate::Write::Order(order) if order.idempotency.is_none() => Some((i, &**order)),
            _ => None,
        })
        .collect();
    let orders: Vec<&PlaceOrder> = plain.iter().map(|(_, o)| *o).collect();
    let mut at = 0;
    for run in runs(&orders) {
        let placed = place_orders(&mut tx, &run).await?;
        for ((i, _), outcome) in plain[at..at + run.len()].iter().zip(placed) {
            results[*i] = Some(crate::Written::Order(outcome.map(crate::Outcome::Created)));
        }
        at += run.len();
    }
    let events: Vec<&NewConnectorEvent> = jobs
        .iter()
        .filter_map(|job| match job {
            crate::Write::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    insert_events(&mut tx, &events).await?;
    for (i, job) in jobs.iter().enumerate() {
        if results[i].is_some() {
            continue;
        }
        results[i] = Some(match job {
            crate::Write::Order(order) => crate::Written::Order(place_within(&mut tx, order).await),
            crate::Write::Event(_) => crate::Written::Event(Ok(())),
            crate::Write::Settle => crate::Written::Settled,
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
async fn write_one_by_one(conn: &mut Conn, jobs: &[&crate::Write]) -> Vec<crate::Written> {
    let mut tx = match conn.begin().await {
        Ok(tx) => tx,
        Err(e) => return jobs.iter().map(|j| j.failed(e.to_string())).collect(),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(match job {
            crate::Write::Order(order) => crate::Written::Order(place_within(&mut tx, order).await),
            crate::Write::Event(event) => {
                crate::Written::Event(insert_events(&mut tx, &[event]).await)
            }
            crate::Write::Settle => crate::Written::Settled,
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
#[allow(dead_code)] // only the SQLite backend uses it
pub(crate) async fn write_alone(write: &sqlx::Pool<Db>, job: &crate::Write) -> crate::Written {
    match job {
        crate::Write::Order(order) => crate::Written::Order(place_alone(write, order).await),
        crate::Write::Event(event) => crate::Written::Event(
            async {
                let mut conn = write.acquire().await?;
                insert_events(&mut conn, &[event]).await
            }
            .await,
        ),
        crate::Write::Settle => crate::Written::Settled,
    }
}

/// Records connector events, with one statement.
pub(crate) async fn insert_events(conn: &mut Conn, events: &[&NewConnectorEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let at = now();
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO connector_events (store_id, direction, topic, outcome, http_status, detail, order_id, logs, \
         elapsed_us, created_at) ",
    );
    insert.push_values(events, |mut row, e| {
        row.push_bind(e.store_id)
            .push_bind(e.direction)
            .push_bind(e.topic.clone())
            .push_bind(e.outcome)
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

/// The answer to a placed order: a new one read back from the database.
pub(crate) async fn read_back(read: &sqlx::Pool<Db>, outcome: crate::Outcome) -> Result<Placed> {
    match outcome {
        crate::Outcome::Done(placed) => Ok(placed),
        crate::Outcome::Created(id) => {
            let mut conn = read.acquire().await?;
            let order = load_order(&mut conn, &OrderScope::admin(), id).await?;
            Ok(Placed::Created(Box::new(order)))
        }
    }
}

/// New orders read back together, by id.
#[allow(dead_code)] // only the SQLite backend batches writes
pub(crate) async fn read_back_all(
    read: &sqlx::Pool<Db>,
    ids: &[i64],
) -> Result<HashMap<i64, Order>> {
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

/// A duplicate reference found by the unique index (a race with another
/// writer) names the order that won, once the loser's writes are undone.
async fn name_the_winner(conn: &mut Conn, order: &PlaceOrder, e: Error) -> Result<Error> {
    match e {
        Error::Domain(DomainError::Conflict {
            code: "duplicate_online_reference_no",
            existing_id: None,
            ..
        }) => {
            let reference = order.request.online_reference_no.trim();
            Ok(
                match existing_order(conn, order.principal.store_id, reference).await? {
                    Some(id) => duplicate_order(reference, id),
                    None => DomainError::conflict(
                        "duplicate_online_reference_no",
                        "duplicate online_reference_no",
                    )
                    .into(),
                },
            )
        }
        e => Ok(e),
    }
}

#[async_trait]
impl Storage for Backend {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query::<Db>("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar::<Db, String>("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String> {
        let mut tx = self.write.begin().await?;
        sqlx::query::<Db>(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        let v = sqlx::query_scalar::<Db, String>("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(v)
    }

    async fn hub_currency(&self) -> Result<Currency> {
        let code = self.get_setting(CURRENCY_SETTING).await?;
        code.as_deref()
            .map_or(Ok(Currency::DEFAULT), stored_currency)
    }

    async fn set_hub_currency(&self, currency: Currency) -> Result<Currency> {
        let mut tx = self.write.begin().await?;
        let current = sqlx::query_scalar::<Db, String>("SELECT value FROM settings WHERE key = $1")
            .bind(CURRENCY_SETTING)
            .fetch_optional(&mut *tx)
            .await?;
        if current.as_deref() == Some(currency.code()) {
            return Ok(currency);
        }
        let booked = sqlx::query_scalar::<Db, i64>("SELECT id FROM sales_orders LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if booked.is_some() {
            return Err(DomainError::conflict(
                "currency_locked",
                format!(
                    "the hub's currency is {} and orders are booked in it; it cannot become {currency}",
                    current.as_deref().unwrap_or(Currency::DEFAULT.code())
                ),
            )
            .into());
        }
        sqlx::query::<Db>(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(CURRENCY_SETTING)
        .bind(currency.code())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(currency)
    }

    async fn create_location(&self, location: &Location) -> Result<Location> {
        if location.name.trim().is_empty() {
            return Err(DomainError::invalid("name", "required", "a location needs a name").into());
        }
        let r =
            sqlx::query::<Db>("INSERT INTO locations (code, name, created_at) VALUES ($1, $2, $3)")
                .bind(location.code.as_str())
                .bind(&location.name)
                .bind(now())
                .execute(&self.write)
                .await;
        match r {
            Ok(_) => Ok(location.clone()),
            Err(e) if is_unique_violation(&e) => Err(DomainError::conflict(
                "duplicate_location",
                format!("location `{}` already exists", location.code),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        let rows = sqlx::query_as::<Db, (String, String)>(
            "SELECT code, name FROM locations ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(code, name)| {
                Some(Location {
                    code: poshub_model::codes::Code::parse(&code).ok()?,
                    name,
                })
            })
            .collect())
    }

    async fn create_location_group(&self, group: &LocationGroup) -> Result<LocationGroup> {
        if group.locations.is_empty() {
            return Err(DomainError::invalid(
                "locations",
                "required",
                "a group needs at least one location",
            )
            .into());
        }
        let mut tx = self.write.begin().await?;
        let members = locations_for(&mut tx, "locations", &group.locations).await?;
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO location_groups (code, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(group.code.as_str())
        .bind(&group.name)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            conflict_on_unique(e, "duplicate_location_group", || {
                format!("location group `{}` already exists", group.code)
            })
        })?;
        for (pos, (loc, code)) in members.iter().enumerate() {
            sqlx::query::<Db>("INSERT INTO location_group_members (group_id, location_id, position) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(loc)
                .bind(pos as i64)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        DomainError::invalid("locations", "duplicate_location", format!("`{code}` is listed twice")).into()
                    } else {
                        Error::from(e)
                    }
                })?;
        }
        tx.commit().await?;
        Ok(group.clone())
    }

    async fn list_location_groups(&self) -> Result<Vec<LocationGroup>> {
        let rows = sqlx::query_as::<Db, (String, String, String)>(
            "SELECT g.code, g.name, l.code FROM location_groups g \
             JOIN location_group_members m ON m.group_id = g.id JOIN locations l ON l.id = m.location_id \
             ORDER BY g.code, m.position",
        )
        .fetch_all(&self.read)
        .await?;
        let mut groups: Vec<LocationGroup> = Vec::new();
        for (code, name, loc) in rows {
            let (Ok(code), Ok(loc)) = (
                poshub_model::codes::Code::parse(&code),
                poshub_model::codes::Code::parse(&loc),
            ) else {
                continue;
            };
            match groups.last_mut() {
                Some(g) if g.code == code => g.locations.push(loc),
                _ => groups.push(LocationGroup {
                    code,
                    name,
                    locations: vec![loc],
                }),
            }
        }
        Ok(groups)
    }

    async fn create_item(&self, item: &NewItem, variants: &[NewVariant]) -> Result<Item> {
        let mut tx = self.write.begin().await?;
        let exists = sqlx::query_scalar::<Db, i64>("SELECT id FROM items WHERE item_code = $1")
            .bind(item.item_code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(DomainError::conflict(
                "duplicate_item_code",
                format!("item `{}` already exists", item.item_code),
            )
            .into());
        }
        let codes: Vec<&str> = variants.iter().map(|v| v.reference_code.as_str()).collect();
        let mut taken = Vec::new();
        for chunk in codes.chunks(500) {
            let sql = format!(
                "SELECT reference_code FROM variants WHERE reference_code IN ({})",
                placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_scalar::<Db, String>(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            taken.extend(q.fetch_all(&mut *tx).await?);
        }
        if !taken.is_empty() {
            taken.truncate(10);
            return Err(DomainError::conflict(
                "reference_code_taken",
                format!(
                    "reference code(s) already used by other variants: {}",
                    taken.join(", ")
                ),
            )
            .into());
        }
        let at = now();
        let item_id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO items (item_code, name, unit, tax_rate, mrp, attributes, reference_code_template, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(item.item_code.as_str())
        .bind(item.name.trim())
        .bind(&item.unit)
        .bind(Dec(item.tax_rate.unwrap_or(Rate::ZERO).value()))
        .bind(item.mrp.map(|m| Dec(m.value())))
        .bind(Json(&item.attributes))
        .bind(&item.reference_code_template)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "duplicate_item_code", || format!("item `{}` already exists", item.item_code)))?;
        for v in variants {
            sqlx::query::<Db>(
                "INSERT INTO variants (item_id, reference_code, attributes, price, updated_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(item_id)
            .bind(v.reference_code.as_str())
            .bind(Json(&v.attributes))
            .bind(item.price.map(|p| Dec(p.value())))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        let created = load_item(&mut tx, item.item_code.as_str()).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get_item(&self, item_code: &str) -> Result<Item> {
        let mut conn = self.read.acquire().await?;
        load_item(&mut conn, item_code).await
    }

    async fn stock_inward(&self, inward: &StockInward) -> Result<Vec<StockLevel>> {
        if inward.lines.is_empty() {
            return Err(DomainError::invalid(
                "lines",
                "no_lines",
                "an inward needs at least one line",
            )
            .into());
        }
        let mut tx = self.write.begin().await?;
        let location = location_field(&mut tx, inward.location.as_str()).await?;
        let codes: Vec<&str> = inward
            .lines
            .iter()
            .map(|l| l.reference_code.as_str())
            .collect();
        let ids = variants_for_lines(&mut tx, &codes).await?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i]);
        let mut touched = Vec::new();
        for i in order {
            let (line, variant) = (&inward.lines[i], ids[i]);
            let before = lock_balance(&mut tx, variant, location).await?;
            record_movement(
                &mut tx,
                variant,
                location,
                MovementKind::Inward,
                line.quantity.value(),
                before,
                MovementNote {
                    cost: line.cost.map(Amount::value),
                    price: line.price.map(Amount::value),
                    reference: inward.reference.as_deref(),
                    ..Default::default()
                },
            )
            .await?;
            if let (true, Some(price)) = (inward.set_price, line.price) {
                let changed = sqlx::query::<Db>(
                    "UPDATE variants SET price = $1 WHERE id = $2 AND (price IS NULL OR price <> $1)",
                )
                .bind(Dec(price.value()))
                .bind(variant)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed > 0 {
                    enqueue_price(&mut tx, variant).await?;
                }
            }
            if !touched.contains(&(variant, location)) {
                touched.push((variant, location));
            }
        }
        let out = levels(&mut tx, &touched).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn stock_adjust(&self, adjustment: &StockAdjustment) -> Result<Vec<StockLevel>> {
        if adjustment.lines.is_empty() {
            return Err(DomainError::invalid(
                "lines",
                "no_lines",
                "an adjustment needs at least one line",
            )
            .into());
        }
        let mut tx = self.write.begin().await?;
        let location = location_field(&mut tx, adjustment.location.as_str()).await?;
        let codes: Vec<&str> = adjustment
            .lines
            .iter()
            .map(|l| l.reference_code.as_str())
            .collect();
        let ids = variants_for_lines(&mut tx, &codes).await?;
        let mut problems = Vec::new();
        let mut touched = Vec::new();
        for (i, (line, variant)) in adjustment.lines.iter().zip(&ids).enumerate() {
            if line.reason.trim().is_empty() {
                problems.push(FieldError::new(
                    format!("lines[{i}].reason"),
                    "required",
                    "say why the stock changes",
                ));
                continue;
            }
            let before = lock_balance(&mut tx, *variant, location).await?;
            let after = before.apply(MovementKind::Adjustment.delta(line.quantity.value()));
            if after.on_hand < Decimal::ZERO {
                problems.push(FieldError::new(
                    format!("lines[{i}].quantity"),
                    "negative_stock",
                    format!(
                        "{} has {} on hand; removing {} would leave less than none",
                        line.reference_code,
                        before.on_hand,
                        -line.quantity.value()
                    ),
                ));
                continue;
            }
            record_movement(
                &mut tx,
                *variant,
                location,
                MovementKind::Adjustment,
                line.quantity.value(),
                before,
                MovementNote {
                    reference: Some(line.reason.trim()),
                    ..Default::default()
                },
            )
            .await?;
            if !touched.contains(&(*variant, location)) {
                touched.push((*variant, location));
            }
        }
        if !problems.is_empty() {
            return Err(DomainError::Invalid(problems).into());
        }
        let out = levels(&mut tx, &touched).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn stock_levels(&self, reference_code: &str) -> Result<Vec<StockLevel>> {
        let rows = sqlx::query_as::<Db, (String, Dec, Dec)>(
            "SELECT l.code, b.on_hand, b.reserved FROM stock_balances b JOIN variants v ON v.id = b.variant_id \
             JOIN locations l ON l.id = b.location_id WHERE v.reference_code = $1 ORDER BY l.code",
        )
        .bind(reference_code)
        .fetch_all(&self.read)
        .await?;
        if rows.is_empty()
            && sqlx::query_scalar::<Db, i64>("SELECT id FROM variants WHERE reference_code = $1")
                .bind(reference_code)
                .fetch_optional(&self.read)
                .await?
                .is_none()
        {
            return Err(DomainError::not_found("reference code", reference_code).into());
        }
        Ok(rows
            .into_iter()
            .map(|(location, on_hand, reserved)| StockLevel {
                reference_code: reference_code.to_string(),
                location,
                on_hand: on_hand.0,
                reserved: reserved.0,
                available: on_hand.0 - reserved.0,
            })
            .collect())
    }

    async fn create_store(&self, store: &NewStore) -> Result<Store> {
        store.check()?;
        let mut tx = self.write.begin().await?;
        let (locations, group_id) = new_store_locations(&mut tx, store).await?;
        let at = now();
        let walk_in = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
             VALUES (NULL, NULL, $1, NULL, TRUE, $2, $2) RETURNING id",
        )
        .bind(format!("Walk-in customer ({})", store.code))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO stores (code, name, connector, config, payment_types, allow_backorder, prices_include_tax, \
             walk_in_customer_id, created_at, push_enabled, currency, accept_test_orders) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(store.code.as_str())
        .bind(store.name.trim())
        .bind(&store.connector)
        .bind(Json(&store.config))
        .bind(Json(&store.payment_types))
        .bind(store.allow_backorder)
        .bind(store.prices_include_tax)
        .bind(walk_in)
        .bind(at)
        // Pushes go only where the store's config names an address.
        .bind(store.config.get("base_url").and_then(|v| v.as_str()).is_some_and(|u| !u.trim().is_empty()))
        .bind(store.currency.map(Currency::code))
        .bind(store.accept_test_orders)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "duplicate_store", || format!("store `{}` already exists", store.code)))?;
        for (loc, code) in &locations {
            sqlx::query::<Db>(
                "INSERT INTO store_locations (store_id, location_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(loc)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    DomainError::invalid(
                        "locations",
                        "duplicate_location",
                        format!("`{code}` is listed twice"),
                    )
                    .into()
                } else {
                    Error::from(e)
                }
            })?;
        }
        save_channel(
            &mut tx,
            id,
            group_id,
            store.sourcing,
            &store.payment_policy,
            store.stock_buffer.as_ref(),
            store.enforce_prices,
        )
        .await?;
        let created = load_store(&mut tx, store.code.as_str()).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn list_stores(&self) -> Result<Vec<Store>> {
        let mut conn = self.read.acquire().await?;
        let codes = sqlx::query_scalar::<Db, String>("SELECT code FROM stores ORDER BY code")
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            out.push(load_store(&mut conn, &code).await?);
        }
        Ok(out)
    }

    async fn get_store(&self, code: &str) -> Result<Store> {
        let mut conn = self.read.acquire().await?;
        load_store(&mut conn, code).await
    }

    async fn store_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar::<Db, i64>("SELECT id FROM stores WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn create_api_user(
        &self,
        store_code: &str,
        user: &NewApiUser,
        key_hash: &str,
        key_prefix: &str,
    ) -> Result<ApiUser> {
        if user.name.trim().is_empty() {
            return Err(
                DomainError::invalid("name", "required", "an API user needs a name").into(),
            );
        }
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        let store_locs = store_locations(&mut tx, store.id).await?;
        let chosen: Vec<(i64, String)> = match &user.locations {
            None => store_locs.clone(),
            Some(codes) if codes.is_empty() => {
                return Err(DomainError::invalid(
                    "locations",
                    "required",
                    "an API user acts for at least one location",
                )
                .into())
            }
            Some(codes) => {
                let mut chosen = Vec::new();
                let mut problems = Vec::new();
                for (i, code) in codes.iter().enumerate() {
                    match store_locs.iter().find(|(_, c)| c == code.as_str()) {
                        Some(l) if !chosen.contains(l) => chosen.push(l.clone()),
                        Some(_) => {}
                        None => problems.push(FieldError::new(
                            format!("locations[{i}]"),
                            "location_not_in_store",
                            format!(
                                "store {store_code} does not sell from `{code}`; its locations: {}",
                                store_locs
                                    .iter()
                                    .map(|(_, c)| c.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )),
                    }
                }
                if !problems.is_empty() {
                    return Err(DomainError::Invalid(problems).into());
                }
                chosen
            }
        };
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO api_users (store_id, name, key_hash, key_prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(store.id)
        .bind(user.name.trim())
        .bind(key_hash)
        .bind(key_prefix)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        for (loc, _) in &chosen {
            sqlx::query::<Db>(
                "INSERT INTO api_user_locations (api_user_id, location_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(loc)
            .execute(&mut *tx)
            .await?;
        }
        let created = load_api_user(&mut tx, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn list_api_users(&self, store_code: &str) -> Result<Vec<ApiUser>> {
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let ids = sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM api_users WHERE store_id = $1 ORDER BY id",
        )
        .bind(store.id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(load_api_user(&mut conn, id).await?);
        }
        Ok(out)
    }

    async fn authenticate(&self, key_hash: &str) -> Result<Option<Principal>> {
        let mut conn = self.read.acquire().await?;
        // One row per location the key acts for (its own locations that its
        // store still sells from), or one with none: a single round trip on
        // every store API request.
        let sql = format!(
            "SELECT u.id AS user_id, s.id AS store_id, s.code, s.payment_types, s.allow_backorder, \
             s.prices_include_tax, {STORE_CURRENCY}, s.accept_test_orders, s.enabled, k.location_id, k.location_code \
             FROM api_users u JOIN stores s ON s.id = u.store_id \
             LEFT JOIN (SELECT ul.api_user_id, sl.store_id, l.id AS location_id, l.code AS location_code \
               FROM api_user_locations ul JOIN locations l ON l.id = ul.location_id \
               JOIN store_locations sl ON sl.location_id = l.id) k \
             ON k.api_user_id = u.id AND k.store_id = s.id \
             WHERE u.key_hash = $1 ORDER BY k.location_code"
        );
        let rows = sqlx::query::<Db>(&sql)
            .bind(key_hash)
            .fetch_all(&mut *conn)
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let locations = joined_locations(&rows)?;
        Ok(Some(Principal {
            api_user_id: row.try_get("user_id")?,
            store_id: row.try_get("store_id")?,
            store_code: row.try_get("code")?,
            locations,
            payment_types: row.try_get::<Json<Vec<PaymentType>>, _>("payment_types")?.0,
            allow_backorder: row.try_get("allow_backorder")?,
            prices_include_tax: row.try_get("prices_include_tax")?,
            currency: stored_currency(row.try_get("currency")?)?,
            accept_test_orders: row.try_get("accept_test_orders")?,
            store_enabled: row.try_get("enabled")?,
        }))
    }

    async fn store_context(&self, code: &str) -> Result<StoreContext> {
        let mut conn = self.read.acquire().await?;
        // One row per location of the store (or one with none): a single
        // round trip on every webhook.
        let sql = format!(
            "SELECT s.id, s.code, s.name, s.connector, s.config, s.payment_types, s.allow_backorder, \
             s.prices_include_tax, {STORE_CURRENCY}, s.accept_test_orders, s.enabled, s.created_at, \
             l.id AS location_id, l.code AS location_code \
             FROM stores s LEFT JOIN store_locations sl ON sl.store_id = s.id \
             LEFT JOIN locations l ON l.id = sl.location_id WHERE s.code = $1 ORDER BY l.code"
        );
        let rows = sqlx::query::<Db>(&sql)
            .bind(code)
            .fetch_all(&mut *conn)
            .await?;
        let Some(first) = rows.first() else {
            return Err(DomainError::not_found("store", code).into());
        };
        let row = <StoreRow as sqlx::FromRow<_>>::from_row(first)?;
        let locations = joined_locations(&rows)?;
        Ok(StoreContext {
            principal: Principal {
                api_user_id: 0,
                store_id: row.id,
                store_code: row.code,
                locations,
                payment_types: row.payment_types.0,
                allow_backorder: row.allow_backorder,
                prices_include_tax: row.prices_include_tax,
                currency: stored_currency(&row.currency)?,
                accept_test_orders: row.accept_test_orders,
                store_enabled: row.enabled,
            },
            connector: row.connector,
            config: row.config.0,
        })
    }

    async fn record_event(&self, e: &NewConnectorEvent) -> Result<()> {
        self.log_event(e).await
    }

    async fn list_events(&self, store_code: &str, limit: u32) -> Result<Vec<ConnectorEvent>> {
        self.settle().await?;
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let rows = sqlx::query::<Db>(
            "SELECT id, direction, topic, outcome, http_status, detail, order_id, logs, elapsed_us, created_at \
             FROM connector_events WHERE store_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(store.id)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ConnectorEvent {
                    id: r.try_get("id")?,
                    store: store.code.clone(),
                    direction: r.try_get("direction")?,
                    topic: r.try_get("topic")?,
                    outcome: r.try_get("outcome")?,
                    http_status: r.try_get("http_status")?,
                    detail: r.try_get("detail")?,
                    order_id: r.try_get("order_id")?,
                    logs: r.try_get("logs")?,
                    elapsed_us: r.try_get("elapsed_us")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn list_catalog(&self, query: &CatalogQuery) -> Result<Vec<CatalogRow>> {
        let mut conn = self.read.acquire().await?;
        // Each variant's balances come with it, folded into one column
        // (`location:on_hand:reserved,...`): a page is one row per variant,
        // not one per variant and location (rows cross a thread one by one
        // in sqlx-sqlite, and 3,000 of them per page of 500 made the items
        // page mostly context switches).
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT v.id, v.reference_code, v.attributes, v.price, v.updated_at, i.item_code, i.name, i.unit, \
             i.tax_rate, i.mrp, \
             (SELECT string_agg(b.location_id || ':' || b.on_hand || ':' || b.reserved, ',') \
              FROM stock_balances b WHERE b.variant_id = v.id) AS stock \
             FROM variants v JOIN items i ON i.id = v.item_id WHERE v.id > ",
        );
        qb.push_bind(query.after_id.unwrap_or(0));
        if let Some(since) = query.updated_since {
            qb.push(" AND v.updated_at >= ").push_bind(since);
        }
        qb.push(" ORDER BY v.id LIMIT ")
            .push_bind(i64::from(query.limit));
        let variants: Vec<CatalogVariantRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        variants
            .into_iter()
            .map(|v| {
                let available = folded_balances(v.stock.as_deref().unwrap_or(""))?;
                Ok(CatalogRow {
                    locations: query
                        .locations
                        .iter()
                        .map(|(id, code)| {
                            let here = available.iter().find(|(l, _)| l == id);
                            (code.clone(), here.map(|(_, a)| *a).unwrap_or_default())
                        })
                        .collect(),
                    variant_id: v.id,
                    item_code: v.item_code,
                    name: v.name,
                    unit: v.unit,
                    reference_code: v.reference_code,
                    attributes: v.attributes.0,
                    price: v.price.map(|d| d.0),
                    price_source: v.price.map(|_| LAST_INWARD.to_string()),
                    mrp: v.mrp.map(|d| d.0),
                    tax_rate: v.tax_rate.0,
                    updated_at: v.updated_at,
                })
            })
            .collect()
    }

    async fn place_order(&self, order: &PlaceOrder) -> Result<Placed> {
        self.intake(order).await
    }

    async fn place_order_id(&self, order: &PlaceOrder) -> Result<crate::PlacedId> {
        Ok(match self.intake_unread(order).await? {
            crate::Outcome::Created(id) => crate::PlacedId::Created(id),
            crate::Outcome::Done(Placed::Created(o)) => crate::PlacedId::Created(o.id),
            crate::Outcome::Done(Placed::Replayed(_)) => crate::PlacedId::Replayed,
        })
    }

    async fn get_order(&self, scope: &OrderScope, id: i64) -> Result<Order> {
        let mut conn = self.read.acquire().await?;
        load_order(&mut conn, scope, id).await
    }

    async fn find_order_id(&self, store_id: i64, online_reference_no: &str) -> Result<Option<i64>> {
        let mut conn = self.read.acquire().await?;
        existing_order(&mut conn, store_id, online_reference_no).await
    }

    async fn resolve_lines(&self, store_id: i64, lines: &[LineRef]) -> Result<Vec<Option<String>>> {
        let mut conn = self.read.acquire().await?;
        let sku = |line: &LineRef| {
            line.sku
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        // Every SKU that is a reference code, in one query.
        let skus: Vec<String> = lines.iter().filter_map(sku).collect();
        let known: std::collections::HashSet<String> = if skus.is_empty() {
            Default::default()
        } else {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT reference_code FROM variants WHERE reference_code IN (",
            );
            let mut list = q.separated(", ");
            for s in &skus {
                list.push_bind(s.clone());
            }
            q.push(")");
            q.build_query_scalar::<String>()
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect()
        };
        let mut out = Vec::with_capacity(lines.len());
        for line in lines {
            let mut found = sku(line).filter(|s| known.contains(s));
            if found.is_none() {
                if let Some(id) = line
                    .external_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    found = sqlx::query_scalar::<Db, String>(
                        "SELECT v.reference_code FROM store_mappings m JOIN variants v ON v.id = m.variant_id \
                         WHERE m.store_id = $1 AND m.external_id = $2",
                    )
                    .bind(store_id)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                }
            }
            out.push(found);
        }
        Ok(out)
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<Vec<Order>> {
        let mut conn = self.read.acquire().await?;
        let mut qb = QueryBuilder::<Db>::new("SELECT id FROM sales_orders WHERE id > ");
        qb.push_bind(query.after_id.unwrap_or(0));
        if let Some(store) = query.scope.store_id {
            qb.push(" AND store_id = ").push_bind(store);
        }
        if let Some(locs) = &query.scope.location_ids {
            if locs.is_empty() {
                return Ok(vec![]);
            }
            qb.push(" AND location_id IN (");
            let mut sep = qb.separated(", ");
            for l in locs {
                sep.push_bind(*l);
            }
            qb.push(")");
        }
        if let Some(status) = query.status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(since) = query.updated_since {
            qb.push(" AND updated_at >= ").push_bind(since);
        }
        qb.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(query.limit));
        let ids: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
        load_orders(&mut conn, &query.scope, &ids).await
    }

    async fn bill_order(&self, id: i64, request: &BillRequest) -> Result<Bill> {
        let mut tx = self.write.begin().await?;
        let out = bill(&mut tx, id, request).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn deliver_order(&self, id: i64) -> Result<Order> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, id, &poshub_model::lifecycle::DeliveryStep::Deliver).await?;
        let out = load_order(&mut tx, &OrderScope::admin(), id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn cancel_order(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        reason: Option<&str>,
    ) -> Result<Order> {
        let mut tx = self.write.begin().await?;
        let order = order_row(&mut tx, scope, id, true).await?;
        let current = status(&order.status);
        if let Transition::To(_) = current.apply(OrderAction::Cancel)? {
            cancel_rest(&mut tx, &order, by, reason).await?;
        }
        let out = load_order(&mut tx, scope, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn get_bill(&self, bill_no: &str) -> Result<Bill> {
        let mut conn = self.read.acquire().await?;
        load_bill(&mut conn, bill_no).await
    }

    async fn cancel_lines(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        request: &poshub_model::lifecycle::LineCancellation,
    ) -> Result<crate::LinesApplied> {
        let mut tx = self.write.begin().await?;
        let out = cancel_lines(&mut tx, scope, id, by, request).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn return_lines(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        request: &poshub_model::lifecycle::ReturnRequest,
    ) -> Result<crate::LinesApplied> {
        let mut tx = self.write.begin().await?;
        let out = return_lines(&mut tx, scope, id, by, request).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn advance_delivery(
        &self,
        id: i64,
        step: &poshub_model::lifecycle::DeliveryStep,
    ) -> Result<Order> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, id, step).await?;
        let out = load_order(&mut tx, &OrderScope::admin(), id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn get_credit_note(
        &self,
        credit_note_no: &str,
    ) -> Result<poshub_model::lifecycle::CreditNote> {
        let mut conn = self.read.acquire().await?;
        load_credit_note(&mut conn, credit_note_no).await
    }

    async fn put_mappings(&self, store_code: &str, mappings: &[Mapping]) -> Result<Vec<Mapping>> {
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        write_mappings(&mut tx, store.id, store_code, mappings).await?;
        tx.commit().await?;
        self.list_mappings(store_code).await
    }

    async fn list_mappings(&self, store_code: &str) -> Result<Vec<Mapping>> {
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let rows = sqlx::query_as::<Db, (String, String, Option<String>, Option<String>)>(
            "SELECT v.reference_code, m.external_id, m.parent_id, m.inventory_id FROM store_mappings m \
             JOIN variants v ON v.id = m.variant_id WHERE m.store_id = $1 ORDER BY v.id",
        )
        .bind(store.id)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(code, external_id, parent_id, inventory_id)| {
                Some(Mapping {
                    reference_code: poshub_model::codes::Code::parse(&code).ok()?,
                    external_id,
                    parent_id,
                    inventory_id,
                })
            })
            .collect())
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        let at = now();
        let until = at + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        // Only the oldest unsent row of a thing is claimable, so two pushes of
        // one stock level are never in flight at once and cannot arrive out
        // of order.
        let mut tx = self.write.begin().await?;
        let ids = sqlx::query_scalar::<Db, i64>(&format!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2, updated_at = $3 \
             WHERE id IN (SELECT o.id FROM outbox o \
             WHERE ((o.status IN ('pending', 'failed') AND o.next_attempt_at <= $3) \
             OR (o.status = 'sending' AND o.lease_until < $3)) \
             AND EXISTS (SELECT 1 FROM stores s WHERE s.id = o.store_id AND s.enabled) \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.store_id = o.store_id AND p.key = o.key AND p.id < o.id \
             AND p.status IN ('pending', 'sending', 'failed')) \
             ORDER BY o.next_attempt_at, o.id LIMIT $4{SKIP_LOCKED}) \
             RETURNING id"
        ))
        .bind(owner)
        .bind(until)
        .bind(at)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            claimed.push(
                sqlx::query::<Db>(
                    "SELECT o.id, o.store_id, o.kind, o.variant_id, o.location_id, o.order_id, o.attempts, \
                     o.created_at, s.code, s.connector, s.config FROM outbox o JOIN stores s ON s.id = o.store_id \
                     WHERE o.id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        // The claim commits before the values are read: a change that found
        // this row still pending (and so queued nothing of its own) holds its
        // row lock until it commits, and the FOR SHARE reads below wait for it.
        tx.commit().await?;
        let mut conn = self.read.acquire().await?;
        let mut items = Vec::with_capacity(claimed.len());
        let mut sources = Vec::new();
        for row in claimed {
            let (store_id, kind): (i64, String) = (row.try_get("store_id")?, row.try_get("kind")?);
            let id: i64 = row.try_get("id")?;
            let variant: Option<i64> = row.try_get("variant_id")?;
            let change = match kind.as_str() {
                "stock" => {
                    let location: Option<i64> = row.try_get("location_id")?;
                    let balance = sqlx::query_as::<Db, (Dec, Dec)>(&format!(
                        "SELECT on_hand, reserved FROM stock_balances WHERE variant_id = $1 AND location_id = $2{FOR_SHARE}"
                    ))
                    .bind(variant)
                    .bind(location)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let available = balance.map_or(Decimal::ZERO, |(on_hand, reserved)| {
                        published(Some(on_hand), Some(reserved))
                    });
                    let available = match store_buffer(&mut conn, store_id).await? {
                        Some(buffer) => {
                            sources.push((
                                id,
                                format!("stock_buffer (available {})", available.normalize()),
                            ));
                            buffer.publish(available)
                        }
                        None => available,
                    };
                    sqlx::query_as::<Db, (String, String, Option<String>, Option<String>, Option<String>)>(
                        "SELECT v.reference_code, l.code, m.external_id, m.parent_id, m.inventory_id FROM variants v \
                         JOIN locations l ON l.id = $2 \
                         JOIN store_mappings m ON m.store_id = $3 AND m.variant_id = v.id WHERE v.id = $1",
                    )
                    .bind(variant)
                    .bind(location)
                    .bind(store_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|(reference_code, location, external_id, parent_id, inventory_id)| PushChange::Stock {
                        reference_code,
                        external_id,
                        parent_id,
                        inventory_id,
                        location,
                        available,
                    })
                }
                "price" => {
                    let price = sqlx::query_scalar::<Db, Option<Dec>>(&format!(
                        "SELECT price FROM variants WHERE id = $1{FOR_SHARE}"
                    ))
                    .bind(variant)
                    .fetch_optional(&mut *conn)
                    .await?
                    .flatten();
                    let variant_id = variant.unwrap_or_default();
                    let price = store_prices(
                        &mut conn,
                        store_id,
                        None,
                        &[(variant_id, price.map(|p| p.0))],
                        now(),
                    )
                    .await?
                    .remove(&variant_id);
                    match price {
                        None => None,
                        Some(price) => sqlx::query_as::<Db, (String, Option<String>, Option<String>, Option<Dec>)>(
                            "SELECT v.reference_code, m.external_id, m.parent_id, i.mrp FROM variants v \
                             JOIN items i ON i.id = v.item_id \
                             JOIN store_mappings m ON m.store_id = $2 AND m.variant_id = v.id WHERE v.id = $1",
                        )
                        .bind(variant)
                        .bind(store_id)
                        .fetch_optional(&mut *conn)
                        .await?
                        .map(|(reference_code, external_id, parent_id, mrp)| {
                            sources.push((id, price.source.clone()));
                            PushChange::Price {
                                reference_code,
                                external_id,
                                parent_id,
                                price: price.price,
                                mrp: mrp.map(|d| d.0),
                            }
                        }),
                    }
                }
                _ => {
                    let order: Option<i64> = row.try_get("order_id")?;
                    sqlx::query_as::<Db, (i64, String, String, Option<String>, Option<String>)>(&format!(
                        "SELECT id, online_reference_no, status, carrier, tracking_number FROM sales_orders \
                         WHERE id = $1{FOR_SHARE}"
                    ))
                    .bind(order)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|(order_id, online_reference_no, status, carrier, tracking_number)| PushChange::Status {
                        order_id,
                        online_reference_no,
                        status,
                        carrier,
                        tracking_number,
                    })
                }
            };
            items.push(OutboxItem {
                id,
                store_id,
                store_code: row.try_get("code")?,
                connector: row.try_get("connector")?,
                config: row.try_get::<Json<serde_json::Value>, _>("config")?.0,
                attempts: row.try_get("attempts")?,
                created_at: row.try_get("created_at")?,
                change,
            });
        }
        record_sources(&self.write, &sources).await?;
        Ok(items)
    }

    async fn complete_outbox(&self, id: i64, owner: &str, delivery: &Delivery) -> Result<bool> {
        let at = now();
        let (status, next, response, error, summary, value) = match delivery {
            Delivery::Sent {
                value,
                response_status,
                summary,
            } => ("sent", at, *response_status, None, summary, Some(value)),
            Delivery::Retry {
                at: next,
                response_status,
                error,
                summary,
            } => (
                "failed",
                *next,
                *response_status,
                Some(error.as_str()),
                summary,
                None,
            ),
            Delivery::Dead {
                response_status,
                error,
                summary,
            } => (
                "dead",
                at,
                *response_status,
                Some(error.as_str()),
                summary,
                None,
            ),
        };
        let mut tx = self.write.begin().await?;
        let done = sqlx::query::<Db>(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, lease_owner = NULL, \
             lease_until = NULL, response_status = $3, error = $4, request_summary = $5, sent_value = $6, updated_at = $7, \
             sent_at = CASE WHEN $1 = 'sent' THEN $7 ELSE sent_at END WHERE id = $8 AND lease_owner = $9 AND status = 'sending'",
        )
        .bind(status)
        .bind(next)
        .bind(response)
        .bind(error)
        .bind(summary)
        .bind(value)
        .bind(at)
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            if let Some(value) = value {
                sqlx::query::<Db>(
                    "INSERT INTO sync_state (store_id, key, value, confirmed_at) SELECT store_id, key, $2, $3 FROM outbox \
                     WHERE id = $1 ON CONFLICT (store_id, key) DO UPDATE SET value = excluded.value, \
                     confirmed_at = excluded.confirmed_at",
                )
                .bind(id)
                .bind(value)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn sync_log(
        &self,
        store_code: &str,
        status: Option<SyncStatus>,
        limit: u32,
    ) -> Result<Vec<SyncEntry>> {
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT o.id, o.kind, o.status, o.attempts, o.next_attempt_at, o.sent_value, o.request_summary, \
             o.response_status, o.error, o.created_at, o.updated_at, o.sent_at, o.source, v.reference_code, l.code AS location, \
             so.online_reference_no FROM outbox o LEFT JOIN variants v ON v.id = o.variant_id \
             LEFT JOIN locations l ON l.id = o.location_id LEFT JOIN sales_orders so ON so.id = o.order_id \
             WHERE o.store_id = ",
        );
        qb.push_bind(store.id);
        if let Some(st) = status {
            qb.push(" AND o.status = ").push_bind(st.as_str());
        }
        qb.push(" ORDER BY o.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&mut *conn).await?;
        rows.into_iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let code: Option<String> = r.try_get("reference_code")?;
                let location: Option<String> = r.try_get("location")?;
                let reference: Option<String> = r.try_get("online_reference_no")?;
                let subject = match kind.as_str() {
                    "stock" => format!(
                        "{}@{}",
                        code.unwrap_or_default(),
                        location.unwrap_or_default()
                    ),
                    "price" => code.unwrap_or_default(),
                    _ => format!("order {}", reference.unwrap_or_default()),
                };
                let status: String = r.try_get("status")?;
                Ok(SyncEntry {
                    id: r.try_get("id")?,
                    kind,
                    subject,
                    status: SyncStatus::parse(&status).unwrap_or(SyncStatus::Pending),
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    sent_value: r.try_get("sent_value")?,
                    source: r.try_get("source")?,
                    request_summary: r.try_get("request_summary")?,
                    response_status: r.try_get("response_status")?,
                    error: r.try_get("error")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    sent_at: r.try_get("sent_at")?,
                })
            })
            .collect()
    }

    async fn retry_dead(&self, store_code: &str, id: Option<i64>) -> Result<u64> {
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        let mut qb = QueryBuilder::<Db>::new(
            "UPDATE outbox SET status = 'failed', attempts = 0, next_attempt_at = ",
        );
        qb.push_bind(now())
            .push(" WHERE status = 'dead' AND store_id = ")
            .push_bind(store.id);
        if let Some(id) = id {
            qb.push(" AND id = ").push_bind(id);
        }
        let n = qb.build().execute(&mut *tx).await?.rows_affected();
        if let (Some(id), 0) = (id, n) {
            let status = sqlx::query_scalar::<Db, String>(
                "SELECT status FROM outbox WHERE id = $1 AND store_id = $2",
            )
            .bind(id)
            .bind(store.id)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match status {
                None => DomainError::not_found("sync log entry", id),
                Some(s) => DomainError::conflict(
                    "not_dead",
                    format!("sync log entry {id} is {s}; only dead entries are retried"),
                ),
            }
            .into());
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn reconcile(&self, store_code: &str) -> Result<u64> {
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        let queued = reconcile_store(&mut tx, store.id).await?;
        tx.commit().await?;
        Ok(queued)
    }

    async fn outbox_depth(&self) -> Result<(i64, i64)> {
        let (waiting, dead) = sqlx::query_as::<Db, (i64, i64)>(
            "SELECT COALESCE(SUM(CASE WHEN status IN ('pending', 'failed', 'sending') THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) FROM outbox WHERE status <> 'sent'",
        )
        .fetch_one(&self.read)
        .await?;
        Ok((waiting, dead))
    }

    async fn verify_ledger(&self) -> Result<Vec<LedgerMismatch>> {
        let mut conn = self.read.acquire().await?;
        let mut tx = conn.begin().await?;
        let moves = sqlx::query_as::<Db, (i64, i64, Dec, Dec)>(
            "SELECT variant_id, location_id, on_hand_delta, reserved_delta FROM stock_movements",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut ledger: BTreeMap<(i64, i64), (Decimal, Decimal)> = BTreeMap::new();
        for (v, l, oh, r) in moves {
            let e = ledger.entry((v, l)).or_default();
            e.0 += oh.0;
            e.1 += r.0;
        }
        let balances = sqlx::query_as::<Db, BalanceRow>(
            "SELECT variant_id, location_id, on_hand, reserved FROM stock_balances",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out = Vec::new();
        for b in balances {
            let key = (b.variant_id, b.location_id);
            let sums = ledger.remove(&key).unwrap_or_default();
            if sums != (b.on_hand.0, b.reserved.0) {
                out.push(LedgerMismatch {
                    variant_id: b.variant_id,
                    location_id: b.location_id,
                    ledger: sums,
                    balance: (b.on_hand.0, b.reserved.0),
                });
            }
        }
        for ((variant_id, location_id), sums) in ledger {
            out.push(LedgerMismatch {
                variant_id,
                location_id,
                ledger: sums,
                balance: Default::default(),
            });
        }
        Ok(out)
    }

    async fn update_store(&self, code: &str, patch: &StorePatch) -> Result<Store> {
        self.patch_store(code, patch).await
    }

    async fn create_price_list(&self, store_code: &str, list: &NewPriceList) -> Result<PriceList> {
        self.new_price_list(store_code, list).await
    }

    async fn list_price_lists(&self, store_code: &str) -> Result<Vec<PriceList>> {
        self.price_lists(store_code).await
    }

    async fn delete_price_list(&self, store_code: &str, code: &str) -> Result<()> {
        self.retire_price_list(store_code, code).await
    }

    async fn store_catalog(
        &self,
        store_id: i64,
        price_location: Option<i64>,
        query: &CatalogQuery,
    ) -> Result<Vec<CatalogRow>> {
        self.catalog_for_store(store_id, price_location, query)
            .await
    }

    // Bulk tools: bulk_ops.rs.
    async fn generate_reference_codes(&self, request: &CodeGeneration) -> Result<CodePlan> {
        generate_codes(self, request).await
    }

    async fn import_mappings(
        &self,
        store_code: &str,
        rows: &[Mapping],
    ) -> Result<Vec<Result<(), DomainError>>> {
        import_mapping_rows(self, store_code, rows).await
    }

    async fn auto_match(
        &self,
        store_code: &str,
        request: &AutoMatchRequest,
    ) -> Result<AutoMatchAnswer> {
        auto_match_mappings(self, store_code, request).await
    }

    async fn record_catalog_hint(&self, store_id: i64, hint: &Candidate) -> Result<()> {
        remember_hint(self, store_id, hint).await
    }
}
