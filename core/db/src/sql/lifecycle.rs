//! The order lifecycle's storage, compiled into each backend's `sql` tree
//! (it uses that tree's helpers and types):
//! delivery tracking, partial cancellation, returns and credit notes. The
//! rules are `poshub_model::lifecycle`'s; this file looks things up, calls
//! them under the order's row lock, and writes the outcome.

use super::*;
/// An order's lines as the lifecycle rules see them.
pub(super) async fn line_states(conn: &mut Conn, order_id: i64) -> Result<Vec<LineState>> {
    let rows = order_lines(conn, order_id).await?;
    // A variant may have been renamed since: its code today names it too.
    let current: HashMap<i64, String> = sqlx::query_as::<Db, (i64, String)>(
        "SELECT v.id, v.reference_code FROM variants v \
         WHERE v.id IN (SELECT variant_id FROM sales_order_lines WHERE order_id = $1)",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    Ok(rows
        .into_iter()
        .map(|l| LineState {
            line_no: l.line_no,
            variant_id: l.variant_id,
            current_code: current
                .get(&l.variant_id)
                .cloned()
                .unwrap_or_else(|| l.reference_code.clone()),
            reference_code: l.reference_code,
            quantity: l.quantity.0,
            cancelled: l.cancelled_quantity.0,
            returned: l.returned_quantity.0,
            amount: l.amount.0,
            tax_amount: l.tax_amount.0,
        })
        .collect())
}

/// Units of an order line leaving one of its allocations.
pub(super) struct GiveBack {
    pub(super) line_no: i32,
    pub(super) variant_id: i64,
    /// The allocation they leave and what it holds afterwards (None when
    /// the allocations did not cover the line).
    pub(super) from: Option<(i64, Decimal)>,
    /// Where the goods go back on hand (or their reservation is released).
    pub(super) to: LocationRef,
    pub(super) quantity: Decimal,
}

/// Which allocations give back each part of the plan, last location first;
/// the goods go to `to` when given, else back where they were held.
pub(super) async fn plan_give_back(
    conn: &mut Conn,
    order: &OrderRow,
    plan: &LinesPlan,
    to: Option<&LocationRef>,
) -> Result<Vec<GiveBack>> {
    let mut out = Vec::new();
    for part in &plan.parts {
        let held = sqlx::query_as::<Db, (i64, String, Dec)>(
            "SELECT a.location_id, l.code, a.quantity FROM order_allocations a \
             JOIN locations l ON l.id = a.location_id WHERE a.order_id = $1 AND a.line_no = $2 \
             ORDER BY a.position, a.location_id",
        )
        .bind(order.id)
        .bind(part.line_no)
        .fetch_all(&mut *conn)
        .await?;
        let quantities: Vec<Decimal> = held.iter().map(|(_, _, q)| q.0).collect();
        let (taken, short) = lc::take_last_first(&quantities, part.quantity);
        for (i, q) in taken {
            let (location, code, had) = &held[i];
            out.push(GiveBack {
                line_no: part.line_no,
                variant_id: part.variant_id,
                from: Some((*location, had.0 - q)),
                to: to
                    .cloned()
                    .unwrap_or_else(|| LocationRef::new(*location, code.clone())),
                quantity: q,
            });
        }
        if short > Decimal::ZERO {
            // Allocations always cover what is left of a line; should one
            // not, the order's own location takes the rest.
            out.push(GiveBack {
                line_no: part.line_no,
                variant_id: part.variant_id,
                from: None,
                to: to.cloned().unwrap_or_else(|| {
                    LocationRef::new(order.location_id, order.location_code.clone())
                }),
                quantity: short,
            });
        }
    }
    Ok(out)
}

/// Shrinks the allocations and, with a movement kind, moves the stock
/// (balances locked in variant then location order, as everywhere).
pub(super) async fn apply_give_back(
    conn: &mut Conn,
    order_id: i64,
    moves: &[GiveBack],
    kind: Option<MovementKind>,
    reference: Option<&str>,
) -> Result<()> {
    for m in moves {
        if let Some((location, left)) = m.from {
            sqlx::query::<Db>(
                "UPDATE order_allocations SET quantity = $1 WHERE order_id = $2 AND line_no = $3 AND location_id = $4",
            )
            .bind(Dec(left))
            .bind(order_id)
            .bind(m.line_no)
            .bind(location)
            .execute(&mut *conn)
            .await?;
        }
    }
    let Some(kind) = kind else {
        return Ok(());
    };
    let mut sorted: Vec<&GiveBack> = moves.iter().collect();
    sorted.sort_by_key(|m| (m.variant_id, m.to.id));
    let mut balances = lock_first(conn, sorted.iter().map(|m| (m.variant_id, m.to.id))).await?;
    for m in sorted {
        let before = balances[&(m.variant_id, m.to.id)];
        let after = record_movement(
            conn,
            m.variant_id,
            m.to.id,
            kind,
            m.quantity,
            before,
            MovementNote {
                order_id: Some(order_id),
                reference,
                ..Default::default()
            },
        )
        .await?;
        balances.insert((m.variant_id, m.to.id), after);
    }
    Ok(())
}

/// Where each line's goods went back on hand.
pub(super) fn restocks(moves: &[GiveBack]) -> HashMap<i32, Vec<Restock>> {
    let mut out: HashMap<i32, Vec<Restock>> = HashMap::new();
    for m in moves {
        let line = out.entry(m.line_no).or_default();
        match line.iter_mut().find(|r| r.location == m.to.code) {
            Some(r) => r.quantity += m.quantity,
            None => line.push(Restock {
                location: m.to.code.clone(),
                quantity: m.quantity,
            }),
        }
    }
    out
}

/// Writes the new cancelled or returned quantity of each line in the plan.
pub(super) async fn count_lines(
    conn: &mut Conn,
    order_id: i64,
    lines: &[LineState],
    plan: &LinesPlan,
    column: &str,
) -> Result<()> {
    for part in &plan.parts {
        let Some(line) = lines.iter().find(|l| l.line_no == part.line_no) else {
            continue;
        };
        let before = if column == "cancelled_quantity" {
            line.cancelled
        } else {
            line.returned
        };
        sqlx::query::<Db>(&format!(
            "UPDATE sales_order_lines SET {column} = $1 WHERE order_id = $2 AND line_no = $3"
        ))
        .bind(Dec(before + part.quantity))
        .bind(order_id)
        .bind(part.line_no)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A history entry that leaves the status (and the storefront) alone.
pub(super) async fn note_history(
    conn: &mut Conn,
    id: i64,
    status: OrderStatus,
    by: Actor,
    note: &str,
) -> Result<()> {
    let at = now();
    sqlx::query::<Db>("UPDATE sales_orders SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query::<Db>(
        "INSERT INTO order_history (order_id, status, by_actor, note, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(by.as_str())
    .bind(note)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Cancels what is left of an order: its reservation is released or, once
/// billed, its stock goes back on hand and the bill is void; every line
/// counts as cancelled. (Only orders not yet delivered are cancelled, so
/// nothing of them has been returned.)
pub(super) async fn cancel_rest(
    conn: &mut Conn,
    order: &OrderRow,
    by: Actor,
    note: Option<&str>,
) -> Result<()> {
    if order.bill_no.is_some() {
        move_order_stock(conn, order, MovementKind::Return, order.bill_no.as_deref()).await?;
        sqlx::query::<Db>("UPDATE bills SET status = 'cancelled' WHERE order_id = $1")
            .bind(order.id)
            .execute(&mut *conn)
            .await?;
    } else {
        move_order_stock(conn, order, MovementKind::Release, None).await?;
    }
    sqlx::query::<Db>("UPDATE order_allocations SET quantity = $1 WHERE order_id = $2")
        .bind(Dec(Decimal::ZERO))
        .bind(order.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query::<Db>(
        "UPDATE sales_order_lines SET cancelled_quantity = quantity WHERE order_id = $1",
    )
    .bind(order.id)
    .execute(&mut *conn)
    .await?;
    set_status(conn, order.id, OrderStatus::Cancelled, by, note).await
}

/// Moves an order one step along its delivery and records when (the same
/// instant as its history entry); the status change queues its push.
pub(super) async fn advance(conn: &mut Conn, id: i64, step: &DeliveryStep) -> Result<()> {
    let order = order_row(conn, &OrderScope::admin(), id, true).await?;
    let Transition::To(to) = status(&order.status, order.id)?.apply(step.action())? else {
        return Ok(());
    };
    set_status(conn, id, to, Actor::Admin, step.note().as_deref()).await?;
    let column = match step {
        DeliveryStep::Ready => "ready_at",
        DeliveryStep::Ship { .. } => "shipped_at",
        DeliveryStep::OutForDelivery => "out_for_delivery_at",
        DeliveryStep::Deliver => "delivered_at",
    };
    sqlx::query::<Db>(&format!(
        "UPDATE sales_orders SET {column} = updated_at WHERE id = $1"
    ))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if let DeliveryStep::Ship {
        carrier,
        tracking_number,
    } = step
    {
        sqlx::query::<Db>(
            "UPDATE sales_orders SET carrier = $1, tracking_number = $2 WHERE id = $3",
        )
        .bind(carrier)
        .bind(tracking_number)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The order's bill: (id, bill number, location id, location code).
pub(super) async fn bill_of(
    conn: &mut Conn,
    order_id: i64,
) -> Result<Option<(i64, String, i64, String)>> {
    Ok(sqlx::query_as::<Db, (i64, String, i64, String)>(
        "SELECT b.id, b.bill_no, b.location_id, l.code FROM bills b JOIN locations l ON l.id = b.location_id \
         WHERE b.order_id = $1",
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The next credit note number of a location (counted like bills).
pub(super) async fn next_credit_note_no(
    conn: &mut Conn,
    location_id: i64,
    code: &str,
) -> Result<String> {
    let next = sqlx::query_scalar::<Db, i64>(
        "UPDATE locations SET next_credit_note_seq = next_credit_note_seq + 1 WHERE id = $1 \
         RETURNING next_credit_note_seq",
    )
    .bind(location_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(lc::credit_note_number(code, next - 1))
}

/// A credit note to write.
pub(super) struct NewCreditNote<'a> {
    pub(super) no: &'a str,
    pub(super) kind: CreditNoteKind,
    pub(super) order_id: i64,
    /// (bill id, bill location id)
    pub(super) bill: (i64, i64),
    pub(super) plan: &'a LinesPlan,
    pub(super) restocked: &'a HashMap<i32, Vec<Restock>>,
    pub(super) reason: Option<&'a str>,
    pub(super) refund_id: Option<&'a str>,
    pub(super) by: Actor,
}

pub(super) async fn insert_credit_note(conn: &mut Conn, n: &NewCreditNote<'_>) -> Result<i64> {
    let id = sqlx::query_scalar::<Db, i64>(
        "INSERT INTO credit_notes (credit_note_no, location_id, order_id, bill_id, kind, amount, tax_amount, \
         reason, refund_id, by_actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(n.no)
    .bind(n.bill.1)
    .bind(n.order_id)
    .bind(n.bill.0)
    .bind(n.kind.as_str())
    .bind(Dec(n.plan.amount))
    .bind(Dec(n.plan.tax_amount))
    .bind(n.reason)
    .bind(n.refund_id)
    .bind(n.by.as_str())
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    for part in &n.plan.parts {
        let restocked = n.restocked.get(&part.line_no).cloned().unwrap_or_default();
        let back: Decimal = restocked.iter().map(|r| r.quantity).sum();
        sqlx::query::<Db>(
            "INSERT INTO credit_note_lines (credit_note_id, line_no, reference_code, quantity, amount, tax_amount, \
             restocked, written_off) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(part.line_no)
        .bind(&part.reference_code)
        .bind(Dec(part.quantity))
        .bind(Dec(part.amount))
        .bind(Dec(part.tax_amount))
        .bind(Json(&restocked))
        .bind(Dec(part.quantity - back))
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

#[derive(sqlx::FromRow)]
pub(super) struct CreditNoteRow {
    pub(super) id: i64,
    pub(super) credit_note_no: String,
    pub(super) kind: String,
    pub(super) bill_no: String,
    pub(super) order_id: i64,
    pub(super) online_reference_no: String,
    pub(super) store_code: String,
    pub(super) location_code: String,
    pub(super) amount: Dec,
    pub(super) tax_amount: Dec,
    pub(super) reason: Option<String>,
    pub(super) refund_id: Option<String>,
    pub(super) by_actor: String,
    pub(super) created_at: chrono::DateTime<chrono::Utc>,
}

pub(super) const CREDIT_NOTE_SELECT: &str = "SELECT c.id, c.credit_note_no, c.kind, b.bill_no, c.order_id, \
     o.online_reference_no, s.code AS store_code, l.code AS location_code, c.amount, c.tax_amount, c.reason, \
     c.refund_id, c.by_actor, c.created_at FROM credit_notes c JOIN bills b ON b.id = c.bill_id \
     JOIN sales_orders o ON o.id = c.order_id JOIN stores s ON s.id = o.store_id \
     JOIN locations l ON l.id = c.location_id";

pub(super) async fn complete_credit_note(
    conn: &mut Conn,
    row: CreditNoteRow,
) -> Result<CreditNote> {
    let lines = sqlx::query_as::<Db, (i32, String, Dec, Dec, Dec, Json<Vec<Restock>>, Dec)>(
        "SELECT line_no, reference_code, quantity, amount, tax_amount, restocked, written_off \
         FROM credit_note_lines WHERE credit_note_id = $1 ORDER BY line_no",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(CreditNote {
        credit_note_no: row.credit_note_no,
        kind: CreditNoteKind::parse(&row.kind),
        bill_no: row.bill_no,
        order_id: row.order_id,
        online_reference_no: row.online_reference_no,
        store: row.store_code,
        location: row.location_code,
        amount: Amount::from_stored(row.amount.0),
        tax_amount: Amount::from_stored(row.tax_amount.0),
        reason: row.reason,
        refund_id: row.refund_id,
        by: row.by_actor,
        lines: lines
            .into_iter()
            .map(
                |(line_no, reference_code, quantity, amount, tax, restocked, written_off)| {
                    CreditNoteLine {
                        line_no,
                        reference_code,
                        quantity: quantity.0,
                        amount: Amount::from_stored(amount.0),
                        tax_amount: Amount::from_stored(tax.0),
                        restocked: restocked.0,
                        written_off: written_off.0,
                    }
                },
            )
            .collect(),
        created_at: row.created_at,
    })
}

pub(super) async fn load_credit_note(conn: &mut Conn, credit_note_no: &str) -> Result<CreditNote> {
    let row = sqlx::query_as::<Db, CreditNoteRow>(&format!(
        "{CREDIT_NOTE_SELECT} WHERE c.credit_note_no = $1"
    ))
    .bind(credit_note_no)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("credit note", credit_note_no))?;
    complete_credit_note(conn, row).await
}

pub(super) async fn credit_note_by_id(conn: &mut Conn, id: i64) -> Result<CreditNote> {
    let row = sqlx::query_as::<Db, CreditNoteRow>(&format!("{CREDIT_NOTE_SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    complete_credit_note(conn, row).await
}

/// The numbers of a bill's credit notes, oldest first.
pub(super) async fn credit_note_numbers(conn: &mut Conn, bill_no: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar::<Db, String>(
        "SELECT c.credit_note_no FROM credit_notes c JOIN bills b ON b.id = c.bill_id \
         WHERE b.bill_no = $1 ORDER BY c.id",
    )
    .bind(bill_no)
    .fetch_all(&mut *conn)
    .await?)
}

/// An order's credit notes, oldest first.
/// The credit notes of each of the orders with `ids`, oldest first.
pub(super) async fn credit_notes_of(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<CreditNote>>> {
    let sql = format!("{CREDIT_NOTE_SELECT} WHERE c.order_id IN ({{ids}}) ORDER BY c.id");
    let mut out: HashMap<i64, Vec<CreditNote>> = HashMap::new();
    for row in fetch_for_ids::<CreditNoteRow>(conn, &sql, ids).await? {
        let order = row.order_id;
        out.entry(order)
            .or_default()
            .push(complete_credit_note(conn, row).await?);
    }
    Ok(out)
}

/// The asked lines as kept with a refund id, to tell a redelivery (same
/// lines) from a reused id (other lines).
pub(super) fn asked_lines(lines: &[LineQuantity]) -> serde_json::Value {
    serde_json::Value::Array(
        lines
            .iter()
            .map(|l| {
                serde_json::json!({
                    "line_no": l.line_no,
                    "reference_code": l.reference_code.as_ref().map(|c| c.as_str()),
                    "quantity": poshub_model::decimal::quantity_string(l.quantity.value()),
                })
            })
            .collect(),
    )
}

/// A refund id already applied to the order: the credit note it issued, if
/// any (`Some(None)` for a pending order's cancellation).
pub(super) async fn refund_seen(
    conn: &mut Conn,
    order_id: i64,
    refund_id: &str,
    asked: &serde_json::Value,
) -> Result<Option<Option<i64>>> {
    let seen = sqlx::query_as::<Db, (Json<serde_json::Value>, Option<i64>)>(
        "SELECT lines, credit_note_id FROM order_refunds WHERE order_id = $1 AND refund_id = $2",
    )
    .bind(order_id)
    .bind(refund_id)
    .fetch_optional(&mut *conn)
    .await?;
    match seen {
        None => Ok(None),
        Some((lines, _)) if lines.0 != *asked => Err(DomainError::conflict(
            "refund_id_reused",
            format!("refund `{refund_id}` was already applied to this order with other lines"),
        )
        .into()),
        Some((_, credit_note)) => Ok(Some(credit_note)),
    }
}

pub(super) async fn record_refund(
    conn: &mut Conn,
    order_id: i64,
    refund_id: &str,
    action: &str,
    asked: &serde_json::Value,
    credit_note: Option<i64>,
) -> Result<()> {
    sqlx::query::<Db>(
        "INSERT INTO order_refunds (order_id, refund_id, action, lines, credit_note_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(refund_id)
    .bind(action)
    .bind(Json(asked))
    .bind(credit_note)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn applied(
    conn: &mut Conn,
    scope: &OrderScope,
    id: i64,
    credit_note: Option<i64>,
    duplicate: bool,
) -> Result<LinesApplied> {
    let order = load_order(conn, scope, id).await?;
    let credit_note = match credit_note {
        Some(cn) => Some(credit_note_by_id(conn, cn).await?),
        None => None,
    };
    Ok(LinesApplied {
        order,
        credit_note,
        duplicate,
    })
}

pub(super) fn with_reason(note: String, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{note}; {r}"),
        None => note,
    }
}

pub(super) async fn cancel_lines(
    conn: &mut Conn,
    scope: &OrderScope,
    id: i64,
    by: Actor,
    request: &lc::LineCancellation,
) -> Result<LinesApplied> {
    let order = order_row(conn, scope, id, true).await?;
    let refund_id = lc::refund_id(request.refund_id.as_deref())?;
    let asked = asked_lines(&request.lines);
    if let Some(rid) = &refund_id {
        if let Some(credit_note) = refund_seen(conn, id, rid, &asked).await? {
            return applied(conn, scope, id, credit_note, true).await;
        }
    }
    let current = status(&order.status, order.id)?;
    current.apply(OrderAction::CancelLines)?;
    let lines = line_states(conn, id).await?;
    let plan = lc::plan_lines(&lines, &request.lines, lc::Purpose::Cancel)?;
    let reason = lc::clean_reason(request.reason.as_deref());
    let mut credit_note = None;
    if plan.nothing_left {
        // Cancelling every line left is cancelling the order.
        let note = with_reason(format!("cancelled: {}", plan.describe()), reason.as_deref());
        cancel_rest(conn, &order, by, Some(&note)).await?;
    } else {
        let bill = bill_of(conn, id).await?;
        let number = match &bill {
            Some((_, _, location, code)) => Some(next_credit_note_no(conn, *location, code).await?),
            None => None,
        };
        let moves = plan_give_back(conn, &order, &plan, None).await?;
        // Sold goods never left the shop: they go back on hand; a pending
        // order only lets go of its reservation.
        let kind = if bill.is_some() {
            MovementKind::Return
        } else {
            MovementKind::Release
        };
        apply_give_back(conn, id, &moves, Some(kind), number.as_deref()).await?;
        count_lines(conn, id, &lines, &plan, "cancelled_quantity").await?;
        let total = (order.total.0 - plan.amount).max(Decimal::ZERO);
        sqlx::query::<Db>(
            "UPDATE sales_orders SET original_total = COALESCE(original_total, total), total = $1 WHERE id = $2",
        )
        .bind(Dec(total))
        .bind(id)
        .execute(&mut *conn)
        .await?;
        let mut note = format!("partially cancelled: {}", plan.describe());
        if let (Some((bill_id, _, location, _)), Some(no)) = (bill, &number) {
            credit_note = Some(
                insert_credit_note(
                    conn,
                    &NewCreditNote {
                        no,
                        kind: CreditNoteKind::Cancellation,
                        order_id: id,
                        bill: (bill_id, location),
                        plan: &plan,
                        restocked: &restocks(&moves),
                        reason: reason.as_deref(),
                        refund_id: refund_id.as_deref(),
                        by,
                    },
                )
                .await?,
            );
            note.push_str(&format!(" (credit note {no})"));
        }
        note_history(conn, id, current, by, &with_reason(note, reason.as_deref())).await?;
    }
    if let Some(rid) = &refund_id {
        record_refund(conn, id, rid, "cancel", &asked, credit_note).await?;
    }
    applied(conn, scope, id, credit_note, false).await
}

pub(super) async fn return_lines(
    conn: &mut Conn,
    scope: &OrderScope,
    id: i64,
    by: Actor,
    request: &lc::ReturnRequest,
) -> Result<LinesApplied> {
    let order = order_row(conn, scope, id, true).await?;
    let refund_id = lc::refund_id(request.refund_id.as_deref())?;
    let asked = asked_lines(&request.lines);
    if let Some(rid) = &refund_id {
        if let Some(credit_note) = refund_seen(conn, id, rid, &asked).await? {
            return applied(conn, scope, id, credit_note, true).await;
        }
    }
    let current = status(&order.status, order.id)?;
    current.apply(OrderAction::Return)?;
    let to = match &request.location {
        None => None,
        Some(code) => {
            let location =
                LocationRef::new(location_field(conn, code.as_str()).await?, code.as_str());
            poshub_model::scope::acts_for(scope.location_ids.as_deref(), &location)?;
            Some(location)
        }
    };
    let lines = line_states(conn, id).await?;
    let plan = lc::plan_lines(&lines, &request.lines, lc::Purpose::Return)?;
    let (bill_id, _, bill_location, bill_code) = bill_of(conn, id).await?.ok_or_else(|| {
        DomainError::conflict("not_billed", format!("order {id} has no bill to credit"))
    })?;
    let no = next_credit_note_no(conn, bill_location, &bill_code).await?;
    let moves = plan_give_back(conn, &order, &plan, to.as_ref()).await?;
    let kind = request.restock.then_some(MovementKind::Return);
    apply_give_back(conn, id, &moves, kind, Some(&no)).await?;
    count_lines(conn, id, &lines, &plan, "returned_quantity").await?;
    let reason = lc::clean_reason(request.reason.as_deref());
    let restocked = if request.restock {
        restocks(&moves)
    } else {
        HashMap::new()
    };
    let credit_note = insert_credit_note(
        conn,
        &NewCreditNote {
            no: &no,
            kind: CreditNoteKind::Return,
            order_id: id,
            bill: (bill_id, bill_location),
            plan: &plan,
            restocked: &restocked,
            reason: reason.as_deref(),
            refund_id: refund_id.as_deref(),
            by,
        },
    )
    .await?;
    let note = with_reason(
        format!(
            "returned: {} (credit note {no}{})",
            plan.describe(),
            if request.restock { "" } else { ", written off" }
        ),
        reason.as_deref(),
    );
    let next = plan.status_after_return();
    if next == current {
        note_history(conn, id, current, by, &note).await?;
    } else {
        set_status(conn, id, next, by, Some(&note)).await?;
    }
    if let Some(rid) = &refund_id {
        record_refund(conn, id, rid, "return", &asked, Some(credit_note)).await?;
    }
    applied(conn, scope, id, Some(credit_note), false).await
}

/// A storefront's refund of goods, booked as [`lc::refund_booking`] says
/// for the order's status, under the order's row lock.
pub(super) async fn apply_refund(
    conn: &mut Conn,
    scope: &OrderScope,
    id: i64,
    by: Actor,
    refund: &lc::StorefrontRefund,
) -> Result<crate::RefundApplied> {
    let order = order_row(conn, scope, id, true).await?;
    let booked = match lc::refund_booking(status(&order.status, order.id)?) {
        lc::RefundBooking::Nothing(why) => return Ok(crate::RefundApplied::Nothing(why)),
        lc::RefundBooking::Return => {
            let request = lc::ReturnRequest {
                lines: refund.lines.clone(),
                reason: refund.reason.clone(),
                restock: refund.restock,
                location: None,
                refund_id: Some(refund.refund_id.clone()),
            };
            match return_lines(conn, scope, id, by, &request).await {
                // E.g. the storefront's own record of the hub's `returned`.
                Err(Error::Domain(DomainError::InvalidTransition {
                    current: OrderStatus::Returned,
                    ..
                })) => {
                    return Ok(crate::RefundApplied::Nothing(
                        "everything delivered already came back",
                    ))
                }
                other => other?,
            }
        }
        lc::RefundBooking::CancelLines => {
            let request = lc::LineCancellation {
                lines: refund.lines.clone(),
                reason: refund.reason.clone(),
                refund_id: Some(refund.refund_id.clone()),
            };
            cancel_lines(conn, scope, id, by, &request).await?
        }
    };
    Ok(crate::RefundApplied::Booked(Box::new(booked)))
}
