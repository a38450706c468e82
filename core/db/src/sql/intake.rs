//! Order intake, compiled once per backend in the `sql` tree (the same
//! `Db`, `Conn` and dialect constants as the rest of it).
//!
//! Orders are placed set-wise. A batch's orders are checked against one read
//! of what they need (their stores' channels, the catalogue, the references
//! already taken, the balances they draw on); their stock is allocated in
//! memory, in arrival order, from balances that move as each order takes its
//! share; and what the accepted ones write goes in with one multi-row
//! statement per table. A lone order is a batch of one, so both backends and
//! both paths run the same code. The statements a batch costs hardly grow
//! with its size: on SQLite every statement is a round trip to the
//! connection's worker thread, and those round trips, not SQLite, were most of
//! an order's cost.

use super::*;

/// Statements that take no answer, run in order: as one multi-statement
/// query where the backend takes one (a single round trip), else one by one.
pub(super) struct Script<'args> {
    pub(super) parts: Vec<QueryBuilder<'args, Db>>,
}

impl<'args> Script<'args> {
    pub(super) fn new() -> Self {
        Script { parts: Vec::new() }
    }

    /// Begins the next statement with `sql`, to be completed on the builder.
    pub(super) fn statement(&mut self, sql: &str) -> &mut QueryBuilder<'args, Db> {
        match self.parts.last_mut() {
            Some(q) if DIALECT.multi_statement => {
                q.push("; ").push(sql);
            }
            _ => self.parts.push(QueryBuilder::new(sql)),
        }
        self.parts.last_mut().expect("a statement was begun")
    }

    /// Runs the script, the rows of its last statement (the only one that
    /// may answer with rows) its answer.
    pub(super) async fn fetch_last<T>(mut self, conn: &mut Conn) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    {
        let mut last = self.parts.pop().expect("a script has a statement");
        self.run(conn).await?;
        Ok(last
            .build_query_as::<T>()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?)
    }

    pub(super) async fn run(self, conn: &mut Conn) -> Result<()> {
        for mut q in self.parts {
            // Its text is this batch's alone: not worth a cached statement.
            q.build().persistent(false).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// An order of a batch that has passed the checks that need no stock.
pub(super) struct Checked<'a> {
    pub(super) index: usize,
    pub(super) order: &'a PlaceOrder,
    pub(super) valid: ValidOrder,
    pub(super) source: Source,
}

/// An order that passed every check, with where each of its lines is held.
pub(super) struct Accepted<'a> {
    pub(super) index: usize,
    pub(super) order: &'a PlaceOrder,
    pub(super) valid: ValidOrder,
    pub(super) group_id: Option<i64>,
    /// Line i is held at `allocations[i]` (location, quantity) in order.
    pub(super) allocations: Vec<Allocation>,
    /// The location the order is booked at.
    pub(super) location: i64,
}

/// How an order of a batch came out before its rows are written.
pub(super) enum Verdict {
    Refused(Error),
    /// The same reference as the accepted order at this index of the batch.
    SameAs(usize),
    Accepted,
}

/// Places `orders` (inside a transaction the caller owns): each is placed
/// (its new id) or refused with the reason, and a refused order writes
/// nothing. An `Err` is a failure of the database, or a reference taken by
/// a concurrent transaction: the caller must undo what was written.
pub(crate) async fn place_orders(
    conn: &mut Conn,
    orders: &[&PlaceOrder],
) -> Result<Vec<Result<i64>>> {
    let mut verdicts: Vec<Option<Verdict>> = orders.iter().map(|_| None).collect();

    // What the checks need, read once for the batch.
    let mut channels: HashMap<i64, Channel> = HashMap::new();
    for order in orders {
        let store = order.principal.store_id;
        if let std::collections::hash_map::Entry::Vacant(slot) = channels.entry(store) {
            slot.insert(channel(conn, store).await?);
        }
    }
    let mut codes: Vec<&str> = orders
        .iter()
        .flat_map(|o| o.request.lines.iter().map(|l| l.reference_code.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let catalog: HashMap<&str, Option<CatalogEntry>> = codes
        .iter()
        .copied()
        .zip(catalog_entries(conn, &codes).await?)
        .collect();
    let taken = orders_with_references(
        conn,
        &orders
            .iter()
            .map(|o| (o.principal.store_id, o.request.online_reference_no.trim()))
            .collect::<Vec<_>>(),
    )
    .await?;

    // Checks one order at a time, in the order a lone order has them.
    let mut checked = Vec::new();
    for (index, order) in orders.iter().enumerate() {
        match check(conn, order, &channels[&order.principal.store_id], &catalog).await? {
            Ok((valid, source)) => {
                let key = (order.principal.store_id, valid.online_reference_no.clone());
                match taken.get(&key) {
                    Some(id) => {
                        verdicts[index] = Some(Verdict::Refused(duplicate_order(&key.1, *id)));
                    }
                    None => checked.push(Checked {
                        index,
                        order,
                        valid,
                        source,
                    }),
                }
            }
            Err(e) => verdicts[index] = Some(Verdict::Refused(e)),
        }
    }

    // Stock: every balance any checked order may draw on, locked at once,
    // then taken from in arrival order.
    let mut pairs: Vec<(i64, i64)> = checked
        .iter()
        .flat_map(|c| {
            c.valid.lines.iter().flat_map(|l| {
                c.source
                    .candidates
                    .iter()
                    .map(move |location| (l.variant_id, location.id))
            })
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut balances = lock_balances(conn, &pairs).await?;
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut placed_refs: HashMap<(i64, String), usize> = HashMap::new();
    for c in checked {
        let key = (
            c.order.principal.store_id,
            c.valid.online_reference_no.clone(),
        );
        if let Some(first) = placed_refs.get(&key) {
            verdicts[c.index] = Some(Verdict::SameAs(*first));
            continue;
        }
        let ch = &channels[&c.order.principal.store_id];
        match allocate_stock(&c, ch, &balances) {
            Ok((allocations, location)) => {
                for (line, held) in c.valid.lines.iter().zip(&allocations) {
                    for (location, quantity) in held {
                        let at = (line.variant_id, *location);
                        let delta = MovementKind::Reservation.delta(*quantity);
                        balances.insert(at, balances[&at].apply(delta));
                    }
                }
                placed_refs.insert(key, c.index);
                verdicts[c.index] = Some(Verdict::Accepted);
                accepted.push(Accepted {
                    index: c.index,
                    order: c.order,
                    valid: c.valid,
                    group_id: c.source.group_id,
                    allocations,
                    location,
                });
            }
            Err(e) => verdicts[c.index] = Some(Verdict::Refused(e)),
        }
    }

    let ids = write_orders(conn, &accepted, &balances).await?;
    Ok(verdicts
        .into_iter()
        .enumerate()
        .map(
            |(index, verdict)| match verdict.expect("every order has a verdict") {
                Verdict::Accepted => Ok(ids[&index]),
                Verdict::SameAs(first) => Err(duplicate_order(
                    orders[index].request.online_reference_no.trim(),
                    ids[&first],
                )),
                Verdict::Refused(e) => Err(e),
            },
        )
        .collect())
}

/// The checks of one order that need no stock: where it may be sourced
/// from, and the order rules (with the price in force where the store
/// enforces prices). The inner `Err` refuses the order.
pub(super) async fn check(
    conn: &mut Conn,
    order: &PlaceOrder,
    ch: &Channel,
    catalog: &HashMap<&str, Option<CatalogEntry>>,
) -> Result<Result<(ValidOrder, Source)>> {
    let p = &order.principal;
    let source = match order_source(p, order.request.location.as_ref().map(|c| c.as_str()), ch) {
        Ok(source) => source,
        Err(e) => return Ok(Err(e)),
    };
    let entries: Vec<Option<CatalogEntry>> = order
        .request
        .lines
        .iter()
        .map(|l| catalog[l.reference_code.as_str()].clone())
        .collect();
    let rules = OrderRules {
        payment_types: &p.payment_types,
        prices_include_tax: p.prices_include_tax,
        default_country: &order.default_country,
        currency: p.currency,
        accept_test_orders: p.accept_test_orders,
    };
    match check_order(
        conn,
        p.store_id,
        &order.request,
        &entries,
        &rules,
        ch,
        &source,
    )
    .await
    {
        Ok(valid) => Ok(Ok((valid, source))),
        Err(Error::Domain(e)) => Ok(Err(e.into())),
        Err(e) => Err(e),
    }
}

/// Allocates an order's lines from what its store may take of `balances`
/// (the available stock less the store's buffer), and the location the
/// order is booked at; or the refusal naming the short lines.
pub(super) fn allocate_stock(
    c: &Checked,
    ch: &Channel,
    balances: &HashMap<(i64, i64), Balance>,
) -> Result<(Vec<Allocation>, i64)> {
    let candidates: Vec<i64> = c.source.candidates.iter().map(|l| l.id).collect();
    let stock: HashMap<(i64, i64), Decimal> = c
        .valid
        .lines
        .iter()
        .flat_map(|l| candidates.iter().map(move |loc| (l.variant_id, *loc)))
        .map(|at| (at, publish(ch.buffer.as_ref(), balances[&at].available())))
        .collect();
    let needs: Vec<Need> = c
        .valid
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Need {
            line: i,
            reference_code: l.reference_code.clone(),
            variant_id: l.variant_id,
            quantity: l.quantity,
        })
        .collect();
    let allocations = allocate_lines(
        &needs,
        &candidates,
        &stock,
        ch.sourcing,
        c.order.principal.allow_backorder,
    )
    .map_err(DomainError::InsufficientStock)?;
    let location = primary_location(&allocations, &candidates).expect("an order has a location");
    Ok((allocations, location))
}

/// The orders already holding any of the (store, reference) pairs, by
/// (store, reference).
pub(super) async fn orders_with_references(
    conn: &mut Conn,
    references: &[(i64, &str)],
) -> Result<HashMap<(i64, String), i64>> {
    let mut by_store: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
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
    let rows: Vec<(i64, String, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|(store, reference, id)| ((store, reference), id))
        .collect())
}

/// Locks the balances at `pairs` of (variant, location), creating empty
/// ones, in variant then location order as every stock change does (so that
/// concurrent orders cannot deadlock): two statements whatever the count.
pub(super) async fn lock_balances(
    conn: &mut Conn,
    pairs: &[(i64, i64)],
) -> Result<HashMap<(i64, i64), Balance>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut script = Script::new();
    let insert = script.statement(
        "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) ",
    );
    let at = now();
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
    select.push(format!(
        ") ORDER BY variant_id, location_id{}",
        DIALECT.for_update
    ));
    let rows: Vec<(i64, i64, Dec, Dec)> = script.fetch_last(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(v, l, on_hand, reserved)| {
            (
                (v, l),
                Balance {
                    on_hand: on_hand.0,
                    reserved: reserved.0,
                },
            )
        })
        .collect())
}

/// Writes the accepted orders of a batch: customers, orders, lines, where
/// each line is held (allocations), the reservation movements, the balances
/// as the reservations left them (`balances`), and the stock pushes the
/// moves call for. Returns each order's id by batch index.
pub(super) async fn write_orders(
    conn: &mut Conn,
    accepted: &[Accepted<'_>],
    balances: &HashMap<(i64, i64), Balance>,
) -> Result<HashMap<usize, i64>> {
    if accepted.is_empty() {
        return Ok(HashMap::new());
    }
    let customers = resolve_customers(conn, accepted).await?;
    let at = now();
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO sales_orders (store_id, online_reference_no, location_id, location_group_id, customer_id, \
         status, total, shipping, charges, payments, currency, test, notes, placed_at, created_at, updated_at) ",
    );
    insert.push_values(accepted.iter().zip(&customers), |mut row, (a, customer)| {
        row.push_bind(a.order.principal.store_id)
            .push_bind(a.valid.online_reference_no.clone())
            .push_bind(a.location)
            .push_bind(a.group_id)
            .push_bind(*customer)
            .push_bind(OrderStatus::Pending.as_str())
            .push_bind(Dec(a.valid.total))
            .push_bind(a.valid.shipping.clone().map(Json))
            .push_bind(Json(a.valid.charges.clone()))
            .push_bind(Json(a.valid.payments.clone()))
            .push_bind(a.valid.currency.code())
            .push_bind(a.valid.test)
            .push_bind(a.valid.notes.clone())
            .push_bind(a.valid.placed_at)
            .push_bind(at)
            .push_bind(at);
    });
    insert.push(" RETURNING store_id, online_reference_no, id");
    let rows: Vec<(i64, String, i64)> = match insert.build_query_as().fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        // A concurrent transaction took one of the references first.
        Err(e) if is_unique_violation(&e) => {
            return Err(DomainError::conflict(
                "duplicate_online_reference_no",
                "this store already has an order with this online_reference_no",
            )
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let by_reference: HashMap<(i64, String), i64> = rows
        .into_iter()
        .map(|(store, reference, id)| ((store, reference), id))
        .collect();
    let ids: Vec<i64> = accepted
        .iter()
        .map(|a| {
            by_reference[&(
                a.order.principal.store_id,
                a.valid.online_reference_no.clone(),
            )]
        })
        .collect();

    let mut script = Script::new();
    let all_lines = accepted.iter().zip(&ids).flat_map(|(a, id)| {
        a.valid
            .lines
            .iter()
            .enumerate()
            .map(move |(i, l)| (*id, i, l))
    });
    // A batch of orders that move no stock (gift cards sold) has no lines.
    if accepted.iter().any(|a| !a.valid.lines.is_empty()) {
        let lines = script.statement(
            "INSERT INTO sales_order_lines (order_id, line_no, variant_id, reference_code, item_code, quantity, \
             unit_price, discount, tax_rate, tax_amount, amount) ",
        );
        lines.push_values(all_lines, |mut row, (id, i, line)| {
            row.push_bind(id)
                .push_bind(i as i32 + 1)
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

    // (order, line no, position, variant, location, quantity), in order.
    let mut held = Vec::new();
    for (a, id) in accepted.iter().zip(&ids) {
        for (i, line) in a.valid.lines.iter().enumerate() {
            for (position, (location, quantity)) in a.allocations[i].iter().enumerate() {
                held.push((
                    *id,
                    i as i32 + 1,
                    position as i32,
                    line.variant_id,
                    *location,
                    *quantity,
                ));
            }
        }
    }
    let insert_history =
        script.statement("INSERT INTO order_history (order_id, status, by_actor, note, at) ");
    insert_history.push_values(ids.iter().copied(), |mut row, id| {
        row.push_bind(id)
            .push_bind(OrderStatus::Pending.as_str())
            .push_bind(Actor::Store.as_str())
            .push_bind(None::<String>)
            .push_bind(at);
    });
    if !held.is_empty() {
        reserve(&mut script, &held, balances, at);
    }
    script.run(conn).await?;
    Ok(accepted.iter().map(|a| a.index).zip(ids).collect())
}

/// The customer of each accepted order, as [`resolve_customer`] finds or
/// creates it: those known by phone with one statement, the others one by
/// one.
pub(super) async fn resolve_customers(
    conn: &mut Conn,
    accepted: &[Accepted<'_>],
) -> Result<Vec<i64>> {
    // One row per phone. What an earlier order left blank a later one
    // fills, as one upsert after another would.
    let mut by_phone: Vec<(&str, Contact)> = Vec::new();
    for a in accepted {
        let contact = &a.valid.contact;
        let Some(phone) = &contact.phone else {
            continue;
        };
        match by_phone.iter_mut().find(|(p, _)| *p == phone.as_str()) {
            Some((_, merged)) => {
                merged.email = merged.email.take().or_else(|| contact.email.clone());
                merged.name = merged.name.take().or_else(|| contact.name.clone());
                merged.address = merged.address.take().or_else(|| contact.address.clone());
            }
            None => by_phone.push((phone.as_str(), contact.clone())),
        }
    }
    // In phone order, as every writer takes them: two hubs' batches on one
    // Postgres never wait for each other's customers in a circle.
    by_phone.sort_by(|a, b| a.0.cmp(b.0));
    let mut ids: HashMap<String, i64> = HashMap::new();
    if !by_phone.is_empty() {
        let at = now();
        let mut upsert = QueryBuilder::<Db>::new(
            "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) ",
        );
        upsert.push_values(&by_phone, |mut row, (phone, c)| {
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
             RETURNING phone, id",
        );
        let rows: Vec<(String, i64)> = upsert.build_query_as().fetch_all(&mut *conn).await?;
        ids.extend(rows);
    }
    let mut customers = Vec::with_capacity(accepted.len());
    for a in accepted {
        let contact = &a.valid.contact;
        customers.push(match &contact.phone {
            Some(phone) => ids[phone.as_str()],
            None => resolve_customer(conn, contact, a.order.principal.store_id).await?,
        });
    }
    Ok(customers)
}

/// Records where each line is held and reserves it: one reservation
/// movement per allocation; each balance it touched written once, as the
/// allocation left it (`after`); every variant touched marked updated, and
/// the stores that sell what moved told.
pub(super) fn reserve(
    script: &mut Script<'_>,
    held: &[(i64, i32, i32, i64, i64, Decimal)],
    after: &HashMap<(i64, i64), Balance>,
    at: DateTime<Utc>,
) {
    let kind = MovementKind::Reservation;
    let mut balances: BTreeMap<(i64, i64), Balance> = BTreeMap::new();
    let mut moved: Vec<(i64, i64)> = Vec::new();
    let mut deltas = Vec::with_capacity(held.len());
    for (_, _, _, variant, location, quantity) in held {
        let at = (*variant, *location);
        let delta = kind.delta(*quantity);
        balances.insert(at, after[&at]);
        if delta.on_hand != delta.reserved && !moved.contains(&at) {
            moved.push(at);
        }
        deltas.push(delta);
    }
    let allocations = script.statement(
        "INSERT INTO order_allocations (order_id, line_no, variant_id, location_id, quantity, position) ",
    );
    allocations.push_values(
        held,
        |mut row, (order, line_no, position, variant, location, quantity)| {
            row.push_bind(*order)
                .push_bind(*line_no)
                .push_bind(*variant)
                .push_bind(*location)
                .push_bind(Dec(*quantity))
                .push_bind(*position);
        },
    );
    // The balances exist (they were locked): the upsert only updates.
    let update = script.statement(
        "INSERT INTO stock_balances (variant_id, location_id, on_hand, reserved, updated_at) ",
    );
    update.push_values(&balances, |mut row, ((variant, location), b)| {
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
    movements.push_values(
        held.iter().zip(&deltas),
        |mut row, ((order, _, _, variant, location, quantity), delta)| {
            row.push_bind(*variant)
                .push_bind(*location)
                .push_bind(kind.as_str())
                .push_bind(Dec(*quantity))
                .push_bind(Dec(delta.on_hand))
                .push_bind(Dec(delta.reserved))
                .push_bind(None::<Dec>)
                .push_bind(None::<Dec>)
                .push_bind(Some(*order))
                .push_bind(None::<String>)
                .push_bind(at);
        },
    );
    let variants = script.statement("UPDATE variants SET updated_at = ");
    variants.push_bind(at).push(" WHERE id IN (");
    let mut list = variants.separated(", ");
    let mut seen = Vec::new();
    for (variant, _) in balances.keys() {
        if !seen.contains(variant) {
            seen.push(*variant);
            list.push_bind(*variant);
        }
    }
    variants.push(")");
    // Available stock moved: the stores that sell it should hear.
    enqueue_stock_in(script, &moved);
}
