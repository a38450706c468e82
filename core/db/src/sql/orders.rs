//! Sales orders: placing (see `intake` for the set-wise path), reading, billing, cancelling, and the lifecycle calls `lifecycle` implements.

use super::*;

pub(super) const ORDER_SELECT: &str = "SELECT o.id, o.store_id, o.location_id, o.online_reference_no, s.code AS store_code, \
     l.code AS location_code, o.status, o.total, o.shipping, o.charges, o.payments, o.currency, o.test, o.notes, \
     o.placed_at, o.created_at, \
     o.updated_at, o.customer_id, c.name AS customer_name, c.phone AS customer_phone, c.email AS customer_email, \
     b.bill_no AS bill_no, COALESCE(o.original_total, o.total) AS original_total, o.carrier, o.tracking_number, \
     o.ready_at, o.shipped_at, o.out_for_delivery_at, o.delivered_at \
     FROM sales_orders o JOIN stores s ON s.id = o.store_id JOIN locations l ON l.id = o.location_id \
     JOIN customers c ON c.id = o.customer_id LEFT JOIN bills b ON b.order_id = o.id";

pub(super) fn visible(row: &OrderRow, scope: &OrderScope) -> bool {
    scope.store_id.is_none_or(|s| s == row.store_id)
        && scope
            .location_ids
            .as_ref()
            .is_none_or(|ls| ls.contains(&row.location_id))
}

/// The order row, locked for update when `lock` is set, if the scope sees it.
pub(super) async fn order_row(
    conn: &mut Conn,
    scope: &OrderScope,
    id: i64,
    lock: bool,
) -> Result<OrderRow> {
    if lock {
        // Lock the order itself; the joined rows are reference data.
        sqlx::query::<Db>(&format!(
            "SELECT id FROM sales_orders WHERE id = $1{lock}",
            lock = DIALECT.for_update
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

pub(super) async fn order_lines(conn: &mut Conn, id: i64) -> Result<Vec<LineRow>> {
    Ok(sqlx::query_as::<Db, LineRow>(
        "SELECT line_no, variant_id, reference_code, item_code, quantity, unit_price, discount, tax_rate, \
         tax_amount, amount, cancelled_quantity, returned_quantity FROM sales_order_lines WHERE order_id = $1 \
         ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The orders with `ids` that `scope` sees, in the order of `ids` (an id
/// it does not see, or that does not exist, is left out): six statements
/// whatever their number, and one more per credit note.
pub(crate) async fn load_orders(
    conn: &mut Conn,
    scope: &OrderScope,
    ids: &[i64],
) -> Result<Vec<Order>> {
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
pub(super) fn complete_order(
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
        status: status(&row.status, row.id)?,
        customer: CustomerRef {
            id: row.customer_id,
            name: row.customer_name,
            phone: row.customer_phone,
            email: (row.customer_email.as_deref())
                .map(|e| stored_email(row.customer_id, e))
                .transpose()?,
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
        history: history
            .iter()
            .map(HistoryRow::to_model)
            .collect::<Result<_>>()?,
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

pub(super) async fn load_order(conn: &mut Conn, scope: &OrderScope, id: i64) -> Result<Order> {
    load_orders(conn, scope, &[id])
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("sales order", id).into())
}

pub(super) async fn set_status(
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

/// Finds or creates the customer of an order without a phone (those with
/// one are upserted together, `setwise::upsert_phone_customers`): by email,
/// else the store's walk-in customer. A known customer keeps its data.
/// Answers the customer as stored.
pub(super) async fn resolve_customer(
    conn: &mut Conn,
    contact: &Contact,
    store_id: i64,
) -> Result<CustomerRef> {
    debug_assert!(
        contact.phone.is_none(),
        "phone customers are upserted set-wise"
    );
    let at = now();
    let address = contact.address.clone().map(Json);
    let row = if let Some(email) = &contact.email {
        let known = sqlx::query_as::<Db, CustomerRow>(
            "SELECT id, name, phone, email FROM customers WHERE email = $1 ORDER BY id LIMIT 1",
        )
        .bind(email.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        match known {
            Some(row) => row,
            None => {
                sqlx::query_as::<Db, CustomerRow>(&format!(
                    "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
                     VALUES (NULL, $1, $2, $3, FALSE, $4, $4) ON CONFLICT (email) WHERE {email_only} DO UPDATE SET \
                     updated_at = excluded.updated_at RETURNING id, name, phone, email",
                    email_only = DIALECT.email_only
                ))
                .bind(email.as_str())
                .bind(&contact.name)
                .bind(address)
                .bind(at)
                .fetch_one(&mut *conn)
                .await?
            }
        }
    } else {
        sqlx::query_as::<Db, CustomerRow>(
            "SELECT c.id, c.name, c.phone, c.email FROM stores s \
             JOIN customers c ON c.id = s.walk_in_customer_id WHERE s.id = $1",
        )
        .bind(store_id)
        .fetch_one(&mut *conn)
        .await?
    };
    row.into_model()
}

/// The idempotency record for a key: claims it (None) or returns what an
/// earlier request with the same key stored.
pub(super) async fn claim_idempotency_key(
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

pub(super) async fn existing_order(
    conn: &mut Conn,
    store_id: i64,
    reference: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT id FROM sales_orders WHERE store_id = $1 AND online_reference_no = $2",
    )
    .bind(store_id)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?)
}

pub(super) fn duplicate_order(reference: &str, id: i64) -> Error {
    DomainError::Conflict {
        code: "duplicate_online_reference_no",
        detail: format!("this store already has order {id} with online_reference_no `{reference}`"),
        existing_id: Some(id),
    }
    .into()
}

/// Places one order (see [`place_orders`]), answering a repeated
/// Idempotency-Key with the stored answer and storing the answer to a new one.
pub(super) async fn place(conn: &mut Conn, order: &PlaceOrder) -> Result<Placed> {
    let p = &order.principal;
    if let Some(key) = &order.idempotency {
        if let Some(body) = claim_idempotency_key(conn, p.store_id, key).await? {
            return Ok(Placed::Replayed(body));
        }
    }
    let created = place_orders(conn, &[order], &mut crate::turn::Turn::free())
        .await?
        .pop()
        .expect("one order, one outcome")?;
    let Some(key) = &order.idempotency else {
        return Ok(Placed::Created(Box::new(created)));
    };
    let body = serde_json::to_string(&created).expect("orders serialize");
    sqlx::query::<Db>("UPDATE idempotency_keys SET response = $1 WHERE store_id = $2 AND key = $3")
        .bind(body)
        .bind(p.store_id)
        .bind(&key.key)
        .execute(&mut *conn)
        .await?;
    Ok(Placed::Created(Box::new(created)))
}

pub(super) async fn bill(conn: &mut Conn, id: i64, request: &BillRequest) -> Result<Bill> {
    let order = order_row(conn, &OrderScope::admin(), id, true).await?;
    status(&order.status, order.id)?.apply(OrderAction::Bill)?;
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
pub(super) async fn allocations(
    conn: &mut Conn,
    order_id: i64,
) -> Result<Vec<(i32, i64, i64, Decimal)>> {
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
pub(super) async fn move_order_stock(
    conn: &mut Conn,
    order: &OrderRow,
    kind: MovementKind,
    reference: Option<&str>,
) -> Result<()> {
    let held: Vec<_> = allocations(conn, order.id)
        .await?
        .into_iter()
        .filter(|(_, _, _, quantity)| !quantity.is_zero())
        .collect();
    let mut balances = lock_first(conn, held.iter().map(|(_, v, l, _)| (*v, *l))).await?;
    for (_, variant_id, location_id, quantity) in held {
        let before = balances[&(variant_id, location_id)];
        let after = record_movement(
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
        balances.insert((variant_id, location_id), after);
    }
    Ok(())
}

pub(super) async fn load_bill(conn: &mut Conn, bill_no: &str) -> Result<Bill> {
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

#[async_trait]
impl crate::Orders for Backend {
    async fn place_order(&self, order: &PlaceOrder) -> Result<Placed> {
        self.intake(order).await
    }

    async fn place_order_id(&self, order: &PlaceOrder) -> Result<crate::PlacedId> {
        Ok(match self.intake(order).await? {
            Placed::Created(o) => crate::PlacedId::Created(o.id),
            Placed::Replayed(_) => crate::PlacedId::Replayed,
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
        let current = status(&order.status, order.id)?;
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

    async fn apply_refund(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        refund: &poshub_model::lifecycle::StorefrontRefund,
    ) -> Result<crate::RefundApplied> {
        let mut tx = self.write.begin().await?;
        let out = apply_refund(&mut tx, scope, id, by, refund).await?;
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
}
