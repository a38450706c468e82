//! A store's commerce settings in storage: its channel (the group it sells
//! from, sourcing, payment policy, stock buffer, price enforcement), price
//! lists and the price in force, the stock it is shown and pushed, and
//! reconciliation of both. The rules are `poshub_model`'s (`channel`,
//! `pricing`, `scope`, `sourcing`); this file looks up what they need.

use super::*;
use crate::Catalogue;

/// A store's channel settings as storage needs them.
pub(super) struct Channel {
    pub(super) group: Option<GroupRef>,
    pub(super) sourcing: Sourcing,
    pub(super) policy: PaymentPolicy,
    pub(super) buffer: Option<StockBuffer>,
    pub(super) enforce_prices: bool,
}

impl Channel {
    pub(super) fn settings(&self) -> ChannelSettings {
        ChannelSettings {
            sell_from_group: self.group.as_ref().map(|g| g.code.clone()),
            sourcing: self.sourcing,
            payment_policy: self.policy.clone(),
            stock_buffer: self.buffer.clone(),
            enforce_prices: self.enforce_prices,
        }
    }
}

pub(super) async fn group_by_code(conn: &mut Conn, code: &str) -> Result<Option<GroupRef>> {
    let Some(id) = sqlx::query_scalar::<Db, i64>("SELECT id FROM location_groups WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(group_ref(conn, id, code.to_string()).await?))
}

pub(super) async fn group_ref(conn: &mut Conn, id: i64, code: String) -> Result<GroupRef> {
    let members = sqlx::query_as::<Db, (i64, String)>(
        "SELECT l.id, l.code FROM location_group_members m JOIN locations l ON l.id = m.location_id \
         WHERE m.group_id = $1 ORDER BY m.position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id, code)| LocationRef::new(id, code))
    .collect();
    Ok(GroupRef { id, code, members })
}

pub(super) async fn channel(conn: &mut Conn, store_id: i64) -> Result<Channel> {
    let (group_id, group_code, sourcing, policy, buffer, enforce_prices) = sqlx::query_as::<
        Db,
        (
            Option<i64>,
            Option<String>,
            String,
            Json<PaymentPolicy>,
            Option<Json<StockBuffer>>,
            bool,
        ),
    >(
        "SELECT s.sell_from_group_id, g.code, s.sourcing, s.payment_policy, s.stock_buffer, s.enforce_prices \
         FROM stores s LEFT JOIN location_groups g ON g.id = s.sell_from_group_id WHERE s.id = $1",
    )
    .bind(store_id)
    .fetch_one(&mut *conn)
    .await?;
    let group = match (group_id, group_code) {
        (Some(id), Some(code)) => Some(group_ref(conn, id, code).await?),
        _ => None,
    };
    Ok(Channel {
        group,
        sourcing: Sourcing::parse(&sourcing)
            .ok_or_else(|| corrupt("stores", store_id, "sourcing", &sourcing))?,
        policy: policy.0,
        buffer: buffer.map(|b| b.0),
        enforce_prices,
    })
}

/// The group a store is to sell from, which must exist and whose members
/// must all be among `locations`.
pub(super) async fn sell_from(
    conn: &mut Conn,
    code: &str,
    locations: &[LocationRef],
) -> Result<GroupRef> {
    let group = group_by_code(conn, code).await?.ok_or_else(|| {
        DomainError::invalid(
            "sell_from_group",
            "unknown_location_group",
            format!("no location group has code `{code}`"),
        )
    })?;
    scope::group_within_store(&group, locations)?;
    Ok(group)
}

/// The locations of a new store and the group it sells from: the group's
/// members when it names no locations.
pub(super) async fn new_store_locations(
    conn: &mut Conn,
    store: &NewStore,
) -> Result<(Vec<LocationRef>, Option<i64>)> {
    let Some(code) = &store.sell_from_group else {
        return Ok((
            locations_for(conn, "locations", &store.locations).await?,
            None,
        ));
    };
    if store.locations.is_empty() {
        let group = group_by_code(conn, code.as_str()).await?.ok_or_else(|| {
            DomainError::invalid(
                "sell_from_group",
                "unknown_location_group",
                format!("no location group has code `{code}`"),
            )
        })?;
        return Ok((group.members, Some(group.id)));
    }
    let locations = locations_for(conn, "locations", &store.locations).await?;
    let group = sell_from(conn, code.as_str(), &locations).await?;
    Ok((locations, Some(group.id)))
}

pub(super) async fn save_channel(
    conn: &mut Conn,
    store_id: i64,
    group_id: Option<i64>,
    sourcing: Sourcing,
    policy: &PaymentPolicy,
    buffer: Option<&StockBuffer>,
    enforce_prices: bool,
) -> Result<()> {
    sqlx::query::<Db>(
        "UPDATE stores SET sell_from_group_id = $1, sourcing = $2, payment_policy = $3, stock_buffer = $4, \
         enforce_prices = $5 WHERE id = $6",
    )
    .bind(group_id)
    .bind(sourcing.as_str())
    .bind(Json(policy))
    .bind(buffer.map(Json))
    .bind(enforce_prices)
    .bind(store_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Where an order is sourced from, by the store's group and the key's
/// scope ([`scope::order_source`]).
pub(super) fn order_source(p: &Principal, requested: Option<&str>, ch: &Channel) -> Result<Source> {
    Ok(scope::order_source(p, requested, ch.group.as_ref())?)
}

/// Applies the order rules with the store's payment policy and, when it
/// enforces prices, the price in force of each line.
pub(super) async fn check_order(
    conn: &mut Conn,
    store_id: i64,
    request: &OrderRequest,
    catalog: &[Option<CatalogEntry>],
    rules: &OrderRules<'_>,
    ch: &Channel,
    source: &Source,
) -> Result<ValidOrder> {
    let expected = if ch.enforce_prices {
        let variants: Vec<i64> = catalog.iter().flatten().map(|e| e.variant_id).collect();
        let fallback = last_inward_prices(conn, &variants).await?;
        let prices = store_prices(conn, store_id, source.price_location, &fallback, now()).await?;
        Some(
            request
                .lines
                .iter()
                .zip(catalog)
                .map(|(line, entry)| match entry {
                    Some(e) => prices.get(&e.variant_id).cloned(),
                    // An unknown code is reported as such, not as a price.
                    None => Some(PriceInForce {
                        price: line.unit_price.value(),
                        source: String::new(),
                    }),
                })
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    Ok(validate_order(
        request,
        catalog,
        rules,
        &ch.policy,
        expected.as_deref(),
    )?)
}

/// Where an order's stock is held: the group it was sourced from and, per
/// line number, its allocations (biggest share first).
pub(super) type Sourced = (Option<String>, HashMap<i32, Vec<LineAllocation>>);

/// How each of the orders with `ids` was sourced.
pub(super) async fn orders_sourcing(conn: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Sourced>> {
    let mut out: HashMap<i64, Sourced> = HashMap::new();
    for (order, group) in fetch_for_ids::<(i64, String)>(
        conn,
        "SELECT o.id, g.code FROM sales_orders o JOIN location_groups g ON g.id = o.location_group_id \
         WHERE o.id IN ({ids})",
        ids,
    )
    .await?
    {
        out.entry(order).or_default().0 = Some(group);
    }
    for (order, line, location, quantity) in fetch_for_ids::<(i64, i32, String, Dec)>(
        conn,
        "SELECT a.order_id, a.line_no, l.code, a.quantity FROM order_allocations a \
         JOIN locations l ON l.id = a.location_id WHERE a.order_id IN ({ids})",
        ids,
    )
    .await?
    {
        if quantity.0 > Decimal::ZERO {
            out.entry(order)
                .or_default()
                .1
                .entry(line)
                .or_default()
                .push(LineAllocation {
                    location,
                    quantity: poshub_model::decimal::Quantity::from_stored(quantity.0),
                });
        }
    }
    // Sorted here, not in SQL: SQLite would sort the quantities as text.
    for held in out.values_mut().flat_map(|(_, lines)| lines.values_mut()) {
        sort_allocations(held);
    }
    Ok(out)
}

/// The order a line's allocations are listed in: biggest share first, then
/// by location code.
pub(super) fn sort_allocations(held: &mut [LineAllocation]) {
    held.sort_by(|a, b| {
        b.quantity
            .cmp(&a.quantity)
            .then_with(|| a.location.cmp(&b.location))
    });
}

/// Refuses a bill whose payment type the store's payment policy does not
/// take for this total.
pub(super) async fn check_bill_policy(
    conn: &mut Conn,
    store_id: i64,
    payment_type: &PaymentType,
    total: Decimal,
) -> Result<()> {
    let ch = channel(conn, store_id).await?;
    Ok(ch.policy.check_bill(payment_type, total)?)
}

/// The last-inward price of each variant.
pub(super) async fn last_inward_prices(
    conn: &mut Conn,
    variants: &[i64],
) -> Result<Vec<(i64, Option<Decimal>)>> {
    let mut out = Vec::with_capacity(variants.len());
    for chunk in variants.chunks(500) {
        let sql = format!(
            "SELECT id, price FROM variants WHERE id IN ({})",
            placeholders(0, chunk.len())
        );
        let mut q = sqlx::query_as::<Db, (i64, Option<Dec>)>(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        out.extend(
            q.fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|(id, p)| (id, p.map(|d| d.0))),
        );
    }
    Ok(out)
}

/// The price in force at `at` for each variant a store sells (given with
/// its last-inward price): a location's lists apply when `location` is
/// given, else only store-wide ones. Variants without any price are left out.
pub(super) async fn store_prices(
    conn: &mut Conn,
    store_id: i64,
    location: Option<i64>,
    variants: &[(i64, Option<Decimal>)],
    at: DateTime<Utc>,
) -> Result<HashMap<i64, PriceInForce>> {
    let mut rules: HashMap<i64, Vec<PriceRule>> = HashMap::new();
    for chunk in variants.chunks(500) {
        // A catalogue page asks for a run of ids: a range needs no binds
        // (binding 500 parameters costs more than the query); rules it finds
        // for variants not asked for are never looked up below.
        let low = chunk.iter().map(|(v, _)| *v).min().unwrap_or(0);
        let high = chunk.iter().map(|(v, _)| *v).max().unwrap_or(0);
        let dense = chunk.len() > 16 && high - low < 2 * chunk.len() as i64;
        let wanted = if dense {
            "BETWEEN $2 AND $3".to_string()
        } else {
            format!("IN ({})", placeholders(1, chunk.len()))
        };
        let sql = format!(
            "SELECT pp.variant_id, pp.price, pl.id, pl.code, pl.location_id, pl.valid_from, pl.valid_to \
             FROM price_list_prices pp JOIN price_lists pl ON pl.id = pp.price_list_id \
             WHERE pl.store_id = $1 AND pl.deleted_at IS NULL AND pp.variant_id {wanted}"
        );
        let mut q = sqlx::query_as::<
            Db,
            (
                i64,
                Dec,
                i64,
                String,
                Option<i64>,
                DateTime<Utc>,
                Option<DateTime<Utc>>,
            ),
        >(&sql)
        .bind(store_id);
        if dense {
            q = q.bind(low).bind(high);
        } else {
            for (v, _) in chunk {
                q = q.bind(*v);
            }
        }
        for (variant, price, list_id, list_code, list_location, valid_from, valid_to) in
            q.fetch_all(&mut *conn).await?
        {
            if list_location.is_some() && list_location != location {
                continue;
            }
            rules.entry(variant).or_default().push(PriceRule {
                list_id,
                list_code,
                location_specific: list_location.is_some(),
                valid_from,
                valid_to,
                price: price.0,
            });
        }
    }
    Ok(variants
        .iter()
        .filter_map(|(v, last)| {
            let found = price_in_force(rules.get(v).map_or(&[][..], Vec::as_slice), *last, at)?;
            Some((*v, found))
        })
        .collect())
}

pub(super) async fn store_buffer(conn: &mut Conn, store_id: i64) -> Result<Option<StockBuffer>> {
    Ok(sqlx::query_scalar::<Db, Option<Json<StockBuffer>>>(
        "SELECT stock_buffer FROM stores WHERE id = $1",
    )
    .bind(store_id)
    .fetch_optional(&mut *conn)
    .await?
    .flatten()
    .map(|b| b.0))
}

/// Queues a stock push of one variant at one location for one store, if it
/// maps the variant and pushes.
pub(super) async fn enqueue_store_stock(
    conn: &mut Conn,
    store_id: i64,
    variant_id: i64,
    location_id: i64,
) -> Result<()> {
    let at = now();
    sqlx::query::<Db>(
        "INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, next_attempt_at, created_at, updated_at) \
         SELECT m.store_id, 'stock', $1, m.variant_id, $3, 'pending', $4, $4, $4 FROM store_mappings m \
         JOIN stores s ON s.id = m.store_id AND s.push_enabled \
         WHERE m.store_id = $5 AND m.variant_id = $2 ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
    )
    .bind(stock_key(variant_id, location_id))
    .bind(variant_id)
    .bind(location_id)
    .bind(at)
    .bind(store_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues a price push of one variant for one store, if it maps the variant
/// and pushes.
pub(super) async fn enqueue_store_price(
    conn: &mut Conn,
    store_id: i64,
    variant_id: i64,
) -> Result<()> {
    let at = now();
    sqlx::query::<Db>(
        "INSERT INTO outbox (store_id, kind, key, variant_id, status, next_attempt_at, created_at, updated_at) \
         SELECT m.store_id, 'price', $1, m.variant_id, 'pending', $3, $3, $3 FROM store_mappings m \
         JOIN stores s ON s.id = m.store_id AND s.push_enabled \
         WHERE m.store_id = $4 AND m.variant_id = $2 ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
    )
    .bind(price_key(variant_id))
    .bind(variant_id)
    .bind(at)
    .bind(store_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues a push wherever what a store should show (stock through its
/// buffer, the price in force) differs from what it last confirmed; returns
/// how many differ.
pub(super) async fn reconcile_store(conn: &mut Conn, store_id: i64) -> Result<u64> {
    let confirmed: HashMap<String, String> = sqlx::query_as::<Db, (String, String)>(
        "SELECT key, value FROM sync_state WHERE store_id = $1",
    )
    .bind(store_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let rows = sqlx::query_as::<Db, (i64, i64, Option<Dec>, Option<Dec>, Option<Dec>)>(
        "SELECT m.variant_id, sl.location_id, b.on_hand, b.reserved, v.price FROM store_mappings m \
         JOIN variants v ON v.id = m.variant_id \
         JOIN store_locations sl ON sl.store_id = m.store_id \
         LEFT JOIN stock_balances b ON b.variant_id = m.variant_id AND b.location_id = sl.location_id \
         WHERE m.store_id = $1 ORDER BY m.variant_id, sl.location_id",
    )
    .bind(store_id)
    .fetch_all(&mut *conn)
    .await?;
    let buffer = store_buffer(conn, store_id).await?;
    let mut variants: Vec<(i64, Option<Decimal>)> = Vec::new();
    let mut queued = 0;
    for (variant, location, on_hand, reserved, price) in rows {
        if variants.last().is_none_or(|(v, _)| *v != variant) {
            variants.push((variant, price.map(|d| d.0)));
        }
        let shown = publish(buffer.as_ref(), published(on_hand, reserved));
        if confirmed.get(&stock_key(variant, location)) != Some(&shown.normalize().to_string()) {
            enqueue_store_stock(conn, store_id, variant, location).await?;
            queued += 1;
        }
    }
    let prices = store_prices(conn, store_id, None, &variants, now()).await?;
    for (variant, _) in &variants {
        if let Some(p) = prices.get(variant) {
            if confirmed.get(&price_key(*variant)) != Some(&p.price.normalize().to_string()) {
                enqueue_store_price(conn, store_id, *variant).await?;
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Notes the rule behind each claimed row's value in the sync log.
pub(super) async fn record_sources(pool: &sqlx::Pool<Db>, sources: &[(i64, String)]) -> Result<()> {
    for (id, source) in sources {
        sqlx::query::<Db>("UPDATE outbox SET source = $1 WHERE id = $2")
            .bind(source)
            .bind(id)
            .execute(pool)
            .await?;
    }
    Ok(())
}

pub(super) async fn load_price_list(conn: &mut Conn, id: i64) -> Result<PriceList> {
    let (code, name, store, location, valid_from, valid_to, created_at) = sqlx::query_as::<
        Db,
        (
            String,
            String,
            String,
            Option<String>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            DateTime<Utc>,
        ),
    >(
        "SELECT pl.code, pl.name, s.code, l.code, pl.valid_from, pl.valid_to, pl.created_at FROM price_lists pl \
         JOIN stores s ON s.id = pl.store_id LEFT JOIN locations l ON l.id = pl.location_id WHERE pl.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let prices = sqlx::query_as::<Db, (String, Dec)>(
        "SELECT v.reference_code, pp.price FROM price_list_prices pp JOIN variants v ON v.id = pp.variant_id \
         WHERE pp.price_list_id = $1 ORDER BY v.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let at = now();
    Ok(PriceList {
        code,
        name,
        store,
        location,
        in_force: valid_from <= at && valid_to.is_none_or(|to| at < to),
        valid_from,
        valid_to,
        prices: prices
            .into_iter()
            .map(|(code, price)| {
                Ok(ListPrice {
                    reference_code: stored_code("price_lists", id, "reference_code", &code)?,
                    price: Amount::from_stored(price.0),
                })
            })
            .collect::<Result<_>>()?,
        created_at,
    })
}

/// Marks the variants a price list names as changed (which also makes a
/// push being claimed read the new price after this commits) and queues
/// their price pushes to the store.
pub(super) async fn prices_changed(conn: &mut Conn, store_id: i64, list_id: i64) -> Result<()> {
    let variants = sqlx::query_scalar::<Db, i64>(
        "SELECT variant_id FROM price_list_prices WHERE price_list_id = $1 ORDER BY variant_id",
    )
    .bind(list_id)
    .fetch_all(&mut *conn)
    .await?;
    let at = now();
    for v in variants {
        sqlx::query::<Db>("UPDATE variants SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(v)
            .execute(&mut *conn)
            .await?;
        enqueue_store_price(conn, store_id, v).await?;
    }
    Ok(())
}

/// Commerce methods of the storage traits (their impls forward to these).
impl Backend {
    pub(super) async fn patch_store(&self, code: &str, patch: &StorePatch) -> Result<Store> {
        patch.check()?;
        let mut tx = self.write.begin().await?;
        let row = store_row(&mut tx, code).await?;
        let current = channel(&mut tx, row.id).await?;
        let locations = store_locations(&mut tx, row.id).await?;
        let group_id = match &patch.sell_from_group {
            None => current.group.as_ref().map(|g| g.id),
            Some(None) => None,
            Some(Some(group)) => Some(sell_from(&mut tx, group.as_str(), &locations).await?.id),
        };
        sqlx::query::<Db>(
            "UPDATE stores SET name = $1, payment_types = $2, allow_backorder = $3, prices_include_tax = $4, \
             enabled = $5, currency = COALESCE($7, currency), accept_test_orders = $8 WHERE id = $6",
        )
        .bind(patch.name.as_deref().map_or(row.name.as_str(), str::trim))
        .bind(Json(patch.payment_types.as_ref().unwrap_or(&row.payment_types.0)))
        .bind(patch.allow_backorder.unwrap_or(row.allow_backorder))
        .bind(patch.prices_include_tax.unwrap_or(row.prices_include_tax))
        .bind(patch.enabled.unwrap_or(row.enabled))
        .bind(row.id)
        .bind(patch.currency.map(Currency::code))
        .bind(patch.accept_test_orders.unwrap_or(row.accept_test_orders))
        .execute(&mut *tx)
        .await?;
        let buffer = match &patch.stock_buffer {
            None => current.buffer.clone(),
            Some(b) => b.clone(),
        };
        save_channel(
            &mut tx,
            row.id,
            group_id,
            patch.sourcing.unwrap_or(current.sourcing),
            patch.payment_policy.as_ref().unwrap_or(&current.policy),
            buffer.as_ref(),
            patch.enforce_prices.unwrap_or(current.enforce_prices),
        )
        .await?;
        if patch.changes_what_is_published() {
            reconcile_store(&mut tx, row.id).await?;
        }
        let out = load_store(&mut tx, code).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn new_price_list(
        &self,
        store_code: &str,
        list: &NewPriceList,
    ) -> Result<PriceList> {
        let at = now();
        list.check(at)?;
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        let location = match &list.location {
            None => None,
            Some(code) => {
                let id = location_field(&mut tx, code.as_str()).await?;
                let named = LocationRef::new(id, code.as_str());
                let sells_from = store_locations(&mut tx, store.id).await?;
                scope::store_sells_from(store_code, &sells_from, &named)?;
                Some(id)
            }
        };
        let codes: Vec<&str> = list
            .prices
            .iter()
            .map(|p| p.reference_code.as_str())
            .collect();
        let entries = catalog_entries(&mut tx, &codes).await?;
        let unknown: Vec<FieldError> = entries
            .iter()
            .zip(&codes)
            .enumerate()
            .filter(|(_, (e, _))| e.is_none())
            .map(|(i, (_, code))| {
                FieldError::new(
                    format!("prices[{i}].reference_code"),
                    "unknown_reference_code",
                    format!("no variant has reference code `{code}`"),
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(DomainError::Invalid(unknown).into());
        }
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO price_lists (store_id, code, name, location_id, valid_from, valid_to, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(store.id)
        .bind(list.code.as_str())
        .bind(list.name.trim())
        .bind(location)
        .bind(list.valid_from.unwrap_or(at))
        .bind(list.valid_to)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "duplicate_price_list", || format!("store {store_code} already has price list `{}`", list.code)))?;
        for (price, entry) in list.prices.iter().zip(entries.into_iter().flatten()) {
            sqlx::query::<Db>(
                "INSERT INTO price_list_prices (price_list_id, variant_id, price) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(entry.variant_id)
            .bind(Dec(price.price.value()))
            .execute(&mut *tx)
            .await?;
        }
        prices_changed(&mut tx, store.id, id).await?;
        let out = load_price_list(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn price_lists(&self, store_code: &str) -> Result<Vec<PriceList>> {
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let ids = sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM price_lists WHERE store_id = $1 AND deleted_at IS NULL ORDER BY valid_from, code",
        )
        .bind(store.id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load_price_list(&mut conn, id).await?);
        }
        Ok(out)
    }

    pub(super) async fn retire_price_list(&self, store_code: &str, code: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        let id = sqlx::query_scalar::<Db, i64>(&format!(
            "SELECT id FROM price_lists WHERE store_id = $1 AND code = $2 AND deleted_at IS NULL{lock}", lock = DIALECT.for_update
        ))
        .bind(store.id)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| DomainError::not_found("price list", code))?;
        sqlx::query::<Db>("UPDATE price_lists SET deleted_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        prices_changed(&mut tx, store.id, id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn catalog_for_store(
        &self,
        store_id: i64,
        price_location: Option<i64>,
        query: &CatalogQuery,
    ) -> Result<Vec<CatalogRow>> {
        let mut rows = self.list_catalog(query).await?;
        let mut conn = self.read.acquire().await?;
        let buffer = store_buffer(&mut conn, store_id).await?;
        let variants: Vec<(i64, Option<Decimal>)> =
            rows.iter().map(|r| (r.variant_id, r.price)).collect();
        let prices = store_prices(&mut conn, store_id, price_location, &variants, now()).await?;
        for row in &mut rows {
            let found = prices.get(&row.variant_id);
            row.price = found.map(|p| p.price);
            row.price_source = found.map(|p| p.source.clone());
            for (_, available) in &mut row.locations {
                *available = publish(buffer.as_ref(), *available);
            }
        }
        Ok(rows)
    }
}

#[async_trait]
impl crate::Pricing for Backend {
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
}
