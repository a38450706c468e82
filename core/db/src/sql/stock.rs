//! Stock balances and their ledger: inward, adjustments, the levels reported, and the outbox rows a change queues.

use super::*;

/// Extra facts recorded with a stock movement.
#[derive(Default)]
pub(super) struct MovementNote<'a> {
    pub(super) cost: Option<Decimal>,
    pub(super) price: Option<Decimal>,
    pub(super) order_id: Option<i64>,
    pub(super) reference: Option<&'a str>,
}

/// The stock a store is shown: available (on hand minus reserved), never
/// below zero; a missing balance is none.
pub(super) fn published(on_hand: Option<Dec>, reserved: Option<Dec>) -> Decimal {
    let d = |v: Option<Dec>| v.map_or(Decimal::ZERO, |d| d.0);
    (d(on_hand) - d(reserved)).max(Decimal::ZERO)
}

/// Locks the balances at `pairs` of (variant, location), creating empty
/// ones, all before anything is written and in (variant, location) order,
/// as a batch of orders locks them: a writer that updated a variant's row
/// between two balance locks could wait in a circle with one that locked
/// both balances first and then updates the variant.
pub(super) async fn lock_first(
    conn: &mut Conn,
    pairs: impl IntoIterator<Item = (i64, i64)>,
) -> Result<HashMap<(i64, i64), Balance>> {
    let mut pairs: Vec<(i64, i64)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs.dedup();
    lock_balances(conn, &pairs).await
}

/// The indices of a request's lines (`ids` their variants) in the order
/// every writer updates variant rows, by variant id (a writer going in line
/// order could wait in a circle with a batch of orders); a variant's lines
/// keep their order.
fn in_variant_order(ids: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    order
}

/// Queues a stock push for every store that maps the variant, sells from the
/// location and pushes; a pending row for the same thing absorbs it.
pub(super) async fn enqueue_stock(
    conn: &mut Conn,
    variant_id: i64,
    location_id: i64,
) -> Result<()> {
    let mut script = Script::new();
    enqueue_stock_in(&mut script, &[(variant_id, location_id)]);
    script.run(conn).await
}

/// [`enqueue_stock`] for every (variant, location) of `pairs`, as one
/// statement of `script`.
pub(crate) fn enqueue_stock_in(script: &mut Script<'_>, pairs: &[(i64, i64)]) {
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

pub(crate) fn stock_key(variant_id: i64, location_id: i64) -> String {
    format!("stock:{variant_id}:{location_id}")
}

pub(super) fn price_key(variant_id: i64) -> String {
    format!("price:{variant_id}")
}

/// Queues a price push for every pushing store that maps the variant.
pub(super) async fn enqueue_price(conn: &mut Conn, variant_id: i64) -> Result<()> {
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
pub(super) async fn write_balance(
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
pub(super) async fn record_movement(
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

pub(super) async fn levels(conn: &mut Conn, pairs: &[(i64, i64)]) -> Result<Vec<StockLevel>> {
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

#[async_trait]
impl crate::Stock for Backend {
    async fn stock_inward(&self, inward: &StockInward) -> Result<Vec<StockLevel>> {
        inward.check()?;
        let mut tx = self.write.begin().await?;
        let location = location_field(&mut tx, inward.location.as_str()).await?;
        let codes: Vec<&str> = inward
            .lines
            .iter()
            .map(|l| l.reference_code.as_str())
            .collect();
        let ids = variants_for_lines(&mut tx, &codes).await?;
        let mut balances = lock_first(&mut tx, ids.iter().map(|v| (*v, location))).await?;
        let mut touched = Vec::new();
        for i in in_variant_order(&ids) {
            let (line, variant) = (&inward.lines[i], ids[i]);
            let before = balances[&(variant, location)];
            let after = record_movement(
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
            balances.insert((variant, location), after);
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
        adjustment.check()?;
        let mut tx = self.write.begin().await?;
        let location = location_field(&mut tx, adjustment.location.as_str()).await?;
        let codes: Vec<&str> = adjustment
            .lines
            .iter()
            .map(|l| l.reference_code.as_str())
            .collect();
        let ids = variants_for_lines(&mut tx, &codes).await?;
        let mut balances = lock_first(&mut tx, ids.iter().map(|v| (*v, location))).await?;
        // (line, problem), reported in line order.
        let mut problems: Vec<(usize, FieldError)> = Vec::new();
        for i in in_variant_order(&ids) {
            let (line, variant) = (&adjustment.lines[i], &ids[i]);
            if line.reason.trim().is_empty() {
                problems.push((
                    i,
                    FieldError::new(
                        format!("lines[{i}].reason"),
                        "required",
                        "say why the stock changes",
                    ),
                ));
                continue;
            }
            let before = balances[&(*variant, location)];
            let after = before.apply(MovementKind::Adjustment.delta(line.quantity.value()));
            if after.on_hand < Decimal::ZERO {
                problems.push((
                    i,
                    FieldError::new(
                        format!("lines[{i}].quantity"),
                        "negative_stock",
                        format!(
                            "{} has {} on hand; removing {} would leave less than none",
                            line.reference_code,
                            before.on_hand,
                            -line.quantity.value()
                        ),
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
            balances.insert((*variant, location), after);
        }
        if !problems.is_empty() {
            problems.sort_by_key(|(i, _)| *i);
            return Err(
                DomainError::Invalid(problems.into_iter().map(|(_, p)| p).collect()).into(),
            );
        }
        // Every line moved: the levels in line order.
        let mut touched = Vec::new();
        for variant in &ids {
            if !touched.contains(&(*variant, location)) {
                touched.push((*variant, location));
            }
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
}
