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
use crate::turn::Turn;
use poshub_model::decimal::Quantity;
use poshub_model::order::{HistoryEntry, OrderLine};

/// Statements that take no answer, run in order: as one multi-statement
/// query where the backend takes one (a single round trip), else one by one.
pub(crate) struct Script<'args> {
    pub(crate) parts: Vec<QueryBuilder<'args, Db>>,
}

impl<'args> Script<'args> {
    pub(crate) fn new() -> Self {
        Script { parts: Vec::new() }
    }

    /// Begins the next statement with `sql`, to be completed on the builder.
    pub(crate) fn statement(&mut self, sql: &str) -> &mut QueryBuilder<'args, Db> {
        match self.parts.last_mut() {
            Some(q) if DIALECT.multi_statement => {
                q.push("; ").push(sql);
            }
            _ => self.parts.push(QueryBuilder::new(sql)),
        }
        self.parts.last_mut().expect("a statement was begun")
    }

    pub(crate) async fn run(self, conn: &mut Conn) -> Result<()> {
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
    /// The group's code, when the order is sourced from a group.
    pub(super) group_code: Option<String>,
    /// The locations it was sourced from (ids and codes).
    pub(super) candidates: Vec<LocationRef>,
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
/// (the new order, as written: see [`as_written`]) or refused with the
/// reason, and a refused order writes nothing. The `turn` is passed once
/// the balances are locked. An `Err` is a failure of the database, or a
/// reference taken by a concurrent transaction: the caller must undo what
/// was written.
pub(crate) async fn place_orders(
    conn: &mut Conn,
    orders: &[&PlaceOrder],
    turn: &mut Turn,
) -> Result<Vec<Result<Order>>> {
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
    let pairs: Vec<(i64, i64)> = checked
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
    let mut balances = lock_first(conn, pairs).await?;
    turn.pass();
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
                let group_code = (ch.group.as_ref())
                    .filter(|g| c.source.group_id == Some(g.id))
                    .map(|g| g.code.clone());
                accepted.push(Accepted {
                    index: c.index,
                    order: c.order,
                    valid: c.valid,
                    group_id: c.source.group_id,
                    group_code,
                    candidates: c.source.candidates,
                    allocations,
                    location,
                });
            }
            Err(e) => verdicts[c.index] = Some(Verdict::Refused(e)),
        }
    }

    let mut written = write_orders(conn, &accepted, &balances).await?;
    let ids: HashMap<usize, i64> = written.iter().map(|(i, o)| (*i, o.id)).collect();
    Ok(verdicts
        .into_iter()
        .enumerate()
        .map(
            |(index, verdict)| match verdict.expect("every order has a verdict") {
                Verdict::Accepted => Ok(written
                    .remove(&index)
                    .expect("an accepted order is written")),
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
    Ok(setwise::orders_by_reference(conn, references)
        .await?
        .into_iter()
        .map(|(store, reference, id)| ((store, reference), id))
        .collect())
}

/// Locks the balances at `pairs` of (variant, location), creating empty
/// ones, in variant then location order as every stock change does (so that
/// concurrent orders cannot deadlock), and reads them as they stand under
/// the lock.
pub(super) async fn lock_balances(
    conn: &mut Conn,
    pairs: &[(i64, i64)],
) -> Result<HashMap<(i64, i64), Balance>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(setwise::lock_balances(conn, pairs, now())
        .await?
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

/// An accepted order's row, as `sales_orders` gets it.
pub(crate) struct NewOrderRow<'a> {
    pub(crate) store_id: i64,
    pub(crate) location_id: i64,
    pub(crate) group_id: Option<i64>,
    pub(crate) customer_id: i64,
    pub(crate) order: &'a ValidOrder,
}

/// Where one line's stock is held at one location, and the reservation
/// movement that holds it.
pub(crate) struct Held {
    pub(crate) order_id: i64,
    pub(crate) line_no: i32,
    /// Its place among the line's locations (sourcing order).
    pub(crate) position: i32,
    pub(crate) variant_id: i64,
    pub(crate) location_id: i64,
    pub(crate) quantity: Decimal,
    pub(crate) on_hand_delta: Decimal,
    pub(crate) reserved_delta: Decimal,
}

/// Everything a batch's accepted orders write once their order rows have
/// ids: lines, history, where each line is held (allocations, one
/// reservation movement each), each balance touched as the batch left it,
/// the variants touched, and the (variant, location) pairs whose available
/// stock moved (the stores that sell them are told).
pub(crate) struct Details<'a> {
    pub(crate) lines: Vec<(i64, i32, &'a poshub_model::order::ValidLine)>,
    pub(crate) history: Vec<i64>,
    pub(crate) held: Vec<Held>,
    pub(crate) balances: BTreeMap<(i64, i64), Balance>,
    pub(crate) variants: Vec<i64>,
    pub(crate) moved: Vec<(i64, i64)>,
    pub(crate) at: DateTime<Utc>,
}

/// The status, actor and movement kind a new order is written with.
pub(crate) const NEW_ORDER: (OrderStatus, Actor, MovementKind) = (
    OrderStatus::Pending,
    Actor::Store,
    MovementKind::Reservation,
);

/// Writes the accepted orders of a batch: customers, orders, lines, where
/// each line is held (allocations), the reservation movements, the balances
/// as the reservations left them (`balances`), and the stock pushes the
/// moves call for. Returns each order as written, by batch index.
pub(super) async fn write_orders(
    conn: &mut Conn,
    accepted: &[Accepted<'_>],
    balances: &HashMap<(i64, i64), Balance>,
) -> Result<HashMap<usize, Order>> {
    if accepted.is_empty() {
        return Ok(HashMap::new());
    }
    let customers = resolve_customers(conn, accepted).await?;
    let at = now();
    let rows: Vec<NewOrderRow> = accepted
        .iter()
        .zip(&customers)
        .map(|(a, customer)| NewOrderRow {
            store_id: a.order.principal.store_id,
            location_id: a.location,
            group_id: a.group_id,
            customer_id: customer.id,
            order: &a.valid,
        })
        .collect();
    let inserted = match setwise::insert_orders(conn, &rows, at).await {
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
    let by_reference: HashMap<(i64, String), i64> = inserted
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
    let details = details(accepted, &ids, balances, at);
    setwise::write_details(conn, &details).await?;
    Ok(accepted
        .iter()
        .zip(ids)
        .zip(customers)
        .map(|((a, id), customer)| (a.index, as_written(a, id, customer, at)))
        .collect())
}

/// A new order as its rows were just written, which is what reading it back
/// would give (`load_orders`): so a placed order is answered without
/// reading it again. The customer is as the write that found or created it
/// returned it; allocations are listed as `orders_sourcing` lists them
/// (none of nothing, in [`sort_allocations`]' order).
fn as_written(a: &Accepted<'_>, id: i64, customer: CustomerRef, at: DateTime<Utc>) -> Order {
    let (status, actor, _) = NEW_ORDER;
    let code = |location: i64| {
        (a.candidates.iter())
            .find(|l| l.id == location)
            .map(|l| l.code.clone())
            .expect("an order is held at its candidate locations")
    };
    let v = &a.valid;
    let lines = (v.lines.iter().zip(&a.allocations).enumerate())
        .map(|(i, (l, held))| {
            let mut allocations: Vec<LineAllocation> = (held.iter())
                .filter(|(_, quantity)| *quantity > Decimal::ZERO)
                .map(|(location, quantity)| LineAllocation {
                    location: code(*location),
                    quantity: Quantity::from_stored(*quantity),
                })
                .collect();
            sort_allocations(&mut allocations);
            OrderLine {
                line_no: i as i32 + 1,
                reference_code: l.reference_code.clone(),
                item_code: l.item_code.clone(),
                quantity: Quantity::from_stored(l.quantity),
                unit_price: Amount::from_stored(l.unit_price),
                discount: Amount::from_stored(l.discount),
                tax_rate: Rate::from_stored(l.tax_rate),
                tax_amount: Amount::from_stored(l.tax_amount),
                amount: Amount::from_stored(l.amount),
                allocations,
                cancelled_quantity: Decimal::ZERO,
                returned_quantity: Decimal::ZERO,
            }
        })
        .collect();
    Order {
        id,
        online_reference_no: v.online_reference_no.clone(),
        store: a.order.principal.store_code.clone(),
        location: code(a.location),
        location_group: a.group_code.clone(),
        status,
        customer,
        lines,
        shipping: v.shipping.clone(),
        charges: v.charges.clone(),
        payments: v.payments.clone(),
        total: Amount::from_stored(v.total),
        currency: v.currency,
        test: v.test,
        original_total: Amount::from_stored(v.total),
        bill_no: None,
        notes: v.notes.clone(),
        placed_at: v.placed_at,
        created_at: at,
        updated_at: at,
        history: vec![HistoryEntry {
            status,
            at,
            by: actor.as_str().to_string(),
            note: None,
        }],
        delivery: Default::default(),
        credit_notes: Vec::new(),
    }
}

/// What the accepted orders (with these ids) write besides their rows.
fn details<'a>(
    accepted: &'a [Accepted<'_>],
    ids: &[i64],
    after: &HashMap<(i64, i64), Balance>,
    at: DateTime<Utc>,
) -> Details<'a> {
    let kind = NEW_ORDER.2;
    let mut details = Details {
        lines: Vec::new(),
        history: ids.to_vec(),
        held: Vec::new(),
        balances: BTreeMap::new(),
        variants: Vec::new(),
        moved: Vec::new(),
        at,
    };
    for (a, id) in accepted.iter().zip(ids) {
        for (i, line) in a.valid.lines.iter().enumerate() {
            let line_no = i as i32 + 1;
            details.lines.push((*id, line_no, line));
            for (position, (location, quantity)) in a.allocations[i].iter().enumerate() {
                let pair = (line.variant_id, *location);
                let delta = kind.delta(*quantity);
                details.balances.insert(pair, after[&pair]);
                if delta.on_hand != delta.reserved && !details.moved.contains(&pair) {
                    details.moved.push(pair);
                }
                details.held.push(Held {
                    order_id: *id,
                    line_no,
                    position: position as i32,
                    variant_id: line.variant_id,
                    location_id: *location,
                    quantity: *quantity,
                    on_hand_delta: delta.on_hand,
                    reserved_delta: delta.reserved,
                });
            }
        }
    }
    details.variants = details.balances.keys().map(|(v, _)| *v).collect();
    details.variants.dedup();
    details
}

/// The customer of each accepted order, as [`resolve_customer`] finds or
/// creates it (and as stored): those known by phone with one statement,
/// the others one by one.
pub(super) async fn resolve_customers(
    conn: &mut Conn,
    accepted: &[Accepted<'_>],
) -> Result<Vec<CustomerRef>> {
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
    let mut known: HashMap<String, CustomerRef> = HashMap::new();
    if !by_phone.is_empty() {
        for (phone, row) in setwise::upsert_phone_customers(conn, &by_phone, now()).await? {
            known.insert(phone, row.into_model()?);
        }
    }
    let mut customers = Vec::with_capacity(accepted.len());
    for a in accepted {
        let contact = &a.valid.contact;
        customers.push(match &contact.phone {
            Some(phone) => known[phone.as_str()].clone(),
            None => resolve_customer(conn, contact, a.order.principal.store_id).await?,
        });
    }
    Ok(customers)
}
