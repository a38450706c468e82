//! The outbox: claiming due pushes under a lease, recording outcomes, the sync log, dead letters and reconciliation.

use super::*;

/// The rows a worker may claim at `$1` (now): due or with a lapsed lease,
/// and the oldest unsent row of their thing (store and key).
const CLAIMABLE: &str = "((o.status IN ('pending', 'failed') AND o.next_attempt_at <= $1) \
     OR (o.status = 'sending' AND o.lease_until < $1)) \
     AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.store_id = o.store_id AND p.key = o.key AND p.id < o.id \
     AND p.status IN ('pending', 'sending', 'failed'))";

/// What a store's own orders reserved of a variant at a location since
/// `since`: the storefront took those sales off its level itself, so the
/// level it holds is what it last confirmed less them.
async fn sold_through(
    conn: &mut Conn,
    store_id: i64,
    variant: Option<i64>,
    location: Option<i64>,
    since: DateTime<Utc>,
) -> Result<Decimal> {
    let quantities = sqlx::query_scalar::<Db, Dec>(
        "SELECT m.quantity FROM stock_movements m JOIN sales_orders so ON so.id = m.order_id \
         WHERE m.variant_id = $1 AND m.location_id = $2 AND m.kind = 'reservation' AND so.store_id = $3 \
         AND m.at > $4",
    )
    .bind(variant)
    .bind(location)
    .bind(store_id)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    Ok(quantities.into_iter().map(|q| q.0).sum())
}

#[async_trait]
impl crate::Outbox for Backend {
    async fn due_stores(&self, limit: u32) -> Result<Vec<DueStore>> {
        let at = now();
        let rows = sqlx::query_as::<Db, (i64, String, String, Json<serde_json::Value>)>(&format!(
            "SELECT s.id, s.code, s.connector, s.config FROM stores s JOIN \
             (SELECT o.store_id, MIN(o.next_attempt_at) AS due FROM outbox o WHERE {claimable} \
             GROUP BY o.store_id) d ON d.store_id = s.id WHERE s.enabled ORDER BY d.due, s.id LIMIT $2",
            claimable = CLAIMABLE
        ))
        .bind(at)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, code, connector, config)| DueStore {
                id,
                code,
                connector,
                config: config.0,
            })
            .collect())
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        lease: std::time::Duration,
        store: Option<i64>,
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
             WHERE id IN (SELECT o.id FROM outbox o WHERE {claimable} AND ($5 IS NULL OR o.store_id = $5) \
             AND EXISTS (SELECT 1 FROM stores s WHERE s.id = o.store_id AND s.enabled) \
             ORDER BY o.next_attempt_at, o.id LIMIT $4{skip}) \
             RETURNING id",
            claimable = CLAIMABLE.replace("$1", "$3"),
            skip = DIALECT.skip_locked
        ))
        .bind(owner)
        .bind(until)
        .bind(at)
        .bind(i64::from(limit))
        .bind(store)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            claimed.push(
                sqlx::query::<Db>(
                    "SELECT o.id, o.store_id, o.kind, o.variant_id, o.location_id, o.order_id, o.attempts, \
                     o.created_at, s.code, s.connector, s.config, ss.value AS confirmed, ss.confirmed_at \
                     FROM outbox o JOIN stores s ON s.id = o.store_id \
                     LEFT JOIN sync_state ss ON ss.store_id = o.store_id AND ss.key = o.key WHERE o.id = $1",
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
                        "SELECT on_hand, reserved FROM stock_balances WHERE variant_id = $1 AND location_id = $2{share}", share = DIALECT.for_share
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
                        "SELECT price FROM variants WHERE id = $1{share}",
                        share = DIALECT.for_share
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
                         WHERE id = $1{share}", share = DIALECT.for_share
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
            let mut confirmed: Option<String> = row.try_get("confirmed")?;
            if let (Some(value), "stock") = (&confirmed, kind.as_str()) {
                let since: DateTime<Utc> = row.try_get("confirmed_at")?;
                let location: Option<i64> = row.try_get("location_id")?;
                let value = value
                    .parse::<Decimal>()
                    .map_err(|_| corrupt("sync_state", id, "value", value))?;
                let sold = sold_through(&mut conn, store_id, variant, location, since).await?;
                confirmed = Some((value - sold).normalize().to_string());
            }
            items.push(OutboxItem {
                id,
                store_id,
                store_code: row.try_get("code")?,
                connector: row.try_get("connector")?,
                config: row.try_get::<Json<serde_json::Value>, _>("config")?.0,
                attempts: row.try_get("attempts")?,
                created_at: row.try_get("created_at")?,
                change,
                confirmed,
            });
        }
        record_sources(&self.write, &sources).await?;
        Ok(items)
    }

    async fn complete_outbox(
        &self,
        owner: &str,
        deliveries: &[(i64, PushOutcome)],
    ) -> Result<Vec<i64>> {
        let at = now();
        let mut lost = Vec::new();
        let mut tx = self.write.begin().await?;
        for (id, delivery) in deliveries {
            let (status, next, response, error, summary, value, drift) = match delivery {
                PushOutcome::Sent {
                    value,
                    response_status,
                    summary,
                    drift,
                } => (
                    "sent",
                    at,
                    *response_status,
                    None,
                    summary,
                    Some(value),
                    drift.as_deref(),
                ),
                PushOutcome::Retry {
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
                    None,
                ),
                PushOutcome::Dead {
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
                    None,
                ),
            };
            let done = sqlx::query::<Db>(
                "UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, lease_owner = NULL, \
                 lease_until = NULL, response_status = $3, error = $4, request_summary = $5, sent_value = $6, updated_at = $7, \
                 sent_at = CASE WHEN $1 = 'sent' THEN $7 ELSE sent_at END, drift = COALESCE($10, drift) \
                 WHERE id = $8 AND lease_owner = $9 AND status = 'sending'",
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
            .bind(drift)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !done {
                lost.push(*id);
                continue;
            }
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
                if value == "cancelled" {
                    requeue_cancelled_stock(&mut tx, *id, at).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(lost)
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
            "SELECT o.id, o.kind, o.status, o.attempts, o.next_attempt_at, o.sent_value, o.drift, o.request_summary, \
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
                let id: i64 = r.try_get("id")?;
                let status: String = r.try_get("status")?;
                Ok(SyncEntry {
                    id,
                    kind,
                    subject,
                    status: SyncStatus::parse(&status)
                        .ok_or_else(|| corrupt("outbox", id, "status", &status))?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    sent_value: r.try_get("sent_value")?,
                    drift: r.try_get("drift")?,
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
}

/// Once a store confirms an order's cancellation (a `status` row sent with
/// the value `cancelled`), its stock levels of the order's variants are
/// pushed again. A storefront that held stock for the order gives it back
/// when it cancels (Vendure releases its allocation, WooCommerce restocks
/// a cancelled order), while the hub has already put those units back in
/// the available figure it last pushed: without a fresh push the same
/// units would be on sale twice there.
async fn requeue_cancelled_stock(
    tx: &mut sqlx::Transaction<'_, Db>,
    outbox_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    sqlx::query::<Db>(
        "INSERT INTO outbox (store_id, kind, key, variant_id, location_id, status, next_attempt_at, created_at, updated_at) \
         SELECT DISTINCT o.store_id, 'stock', 'stock:' || a.variant_id || ':' || a.location_id, a.variant_id, \
         a.location_id, 'pending', $2, $2, $2 FROM outbox o \
         JOIN order_allocations a ON a.order_id = o.order_id \
         JOIN store_mappings m ON m.store_id = o.store_id AND m.variant_id = a.variant_id \
         JOIN store_locations sl ON sl.store_id = o.store_id AND sl.location_id = a.location_id \
         JOIN stores s ON s.id = o.store_id AND s.push_enabled \
         WHERE o.id = $1 AND o.kind = 'status' ON CONFLICT (store_id, key) WHERE status = 'pending' DO NOTHING",
    )
    .bind(outbox_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
