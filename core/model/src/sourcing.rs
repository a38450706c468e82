//! Where an order's stock is taken from: each line draws on the candidate
//! locations in the store's sourcing order, split across several when one
//! cannot cover it. A single-location order is the same rule with one
//! candidate.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::channel::Sourcing;
use crate::stock::LineAvailability;

/// What one order line needs.
#[derive(Debug, Clone)]
pub struct Need {
    /// Index of the line in the request.
    pub line: usize,
    pub reference_code: String,
    pub variant_id: i64,
    pub quantity: Decimal,
}

/// Per line, the (location, quantity) it is taken from, in the order taken.
pub type Allocation = Vec<(i64, Decimal)>;

/// Allocates every line. `candidates` are location ids in priority order;
/// `stock[(variant, location)]` is what the store may take there (a missing
/// entry is none). Lines of one variant draw on the same stock, in line
/// order. With `backorder`, what no location has is held at the first
/// location the rule names; without it, any short line fails the order and
/// every short line is reported with what the candidates have left.
pub fn allocate(
    needs: &[Need],
    candidates: &[i64],
    stock: &HashMap<(i64, i64), Decimal>,
    rule: Sourcing,
    backorder: bool,
) -> Result<Vec<Allocation>, Vec<LineAvailability>> {
    let mut left: HashMap<(i64, i64), Decimal> = HashMap::new();
    for need in needs {
        for loc in candidates {
            let key = (need.variant_id, *loc);
            let have = stock.get(&key).copied().unwrap_or_default();
            left.entry(key).or_insert(have.max(Decimal::ZERO));
        }
    }
    let mut out = Vec::with_capacity(needs.len());
    let mut short = Vec::new();
    for need in needs {
        let order = rule_order(need.variant_id, candidates, &left, rule);
        let total: Decimal = order.iter().map(|l| left[&(need.variant_id, *l)]).sum();
        if need.quantity > total && !backorder {
            short.push(LineAvailability {
                line: need.line,
                reference_code: need.reference_code.clone(),
                requested: need.quantity,
                available: total,
            });
            // A short line still draws what there is, so that later lines of
            // the same variant are not told the same units are theirs.
            for l in &order {
                left.insert((need.variant_id, *l), Decimal::ZERO);
            }
            out.push(Vec::new());
            continue;
        }
        let mut wanted = need.quantity;
        let mut taken: Allocation = Vec::new();
        for l in &order {
            if wanted.is_zero() {
                break;
            }
            let have = left.get_mut(&(need.variant_id, *l)).expect("seeded");
            let take = wanted.min(*have);
            if take > Decimal::ZERO {
                *have -= take;
                wanted -= take;
                taken.push((*l, take));
            }
        }
        if wanted > Decimal::ZERO {
            // Backorder: the rest is held where the rule looks first.
            let first = order[0];
            match taken.iter_mut().find(|(l, _)| *l == first) {
                Some((_, q)) => *q += wanted,
                None => taken.insert(0, (first, wanted)),
            }
        }
        out.push(taken);
    }
    if short.is_empty() {
        Ok(out)
    } else {
        Err(short)
    }
}

/// The candidates in the order a line of `variant` draws on them.
fn rule_order(
    variant: i64,
    candidates: &[i64],
    left: &HashMap<(i64, i64), Decimal>,
    rule: Sourcing,
) -> Vec<i64> {
    let mut order = candidates.to_vec();
    if rule == Sourcing::MostStock {
        // A stable sort keeps the priority order among equals.
        order.sort_by(|a, b| left[&(variant, *b)].cmp(&left[&(variant, *a)]));
    }
    order
}

/// The location an order is booked at (its bills are numbered there): the
/// one that gives the most units, ties going to the earlier candidate.
pub fn primary_location(allocations: &[Allocation], candidates: &[i64]) -> Option<i64> {
    let mut given: HashMap<i64, Decimal> = HashMap::new();
    for (loc, qty) in allocations.iter().flatten() {
        *given.entry(*loc).or_default() += *qty;
    }
    let mut best: Option<(i64, Decimal)> = None;
    for loc in candidates {
        let q = given.get(loc).copied().unwrap_or_default();
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((*loc, q));
        }
    }
    best.map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    fn need(line: usize, variant: i64, qty: i64) -> Need {
        Need {
            line,
            reference_code: format!("V{variant}"),
            variant_id: variant,
            quantity: d(qty),
        }
    }

    /// Locations 1 (BLR) and 2 (MUM); variant 7 has 10 at BLR and 5 at MUM.
    fn stock() -> HashMap<(i64, i64), Decimal> {
        HashMap::from([((7, 1), d(10)), ((7, 2), d(5))])
    }

    #[test]
    fn priority_takes_from_the_first_member_then_splits() {
        let a = allocate(
            &[need(0, 7, 4)],
            &[1, 2],
            &stock(),
            Sourcing::Priority,
            false,
        )
        .unwrap();
        assert_eq!(a, vec![vec![(1, d(4))]]);
        let a = allocate(
            &[need(0, 7, 12)],
            &[1, 2],
            &stock(),
            Sourcing::Priority,
            false,
        )
        .unwrap();
        assert_eq!(a, vec![vec![(1, d(10)), (2, d(2))]]);
        // The member order is the priority, whatever the stock.
        let a = allocate(
            &[need(0, 7, 4)],
            &[2, 1],
            &stock(),
            Sourcing::Priority,
            false,
        )
        .unwrap();
        assert_eq!(a, vec![vec![(2, d(4))]]);
    }

    #[test]
    fn most_stock_takes_from_the_fullest_member_first() {
        let a = allocate(
            &[need(0, 7, 4)],
            &[2, 1],
            &stock(),
            Sourcing::MostStock,
            false,
        )
        .unwrap();
        assert_eq!(a, vec![vec![(1, d(4))]]);
        // The second line of the same variant sees what the first left:
        // BLR 6 vs MUM 5, so BLR again; a third line finds MUM fuller.
        let a = allocate(
            &[need(0, 7, 4), need(1, 7, 2), need(2, 7, 3)],
            &[1, 2],
            &stock(),
            Sourcing::MostStock,
            false,
        )
        .unwrap();
        assert_eq!(a[1], vec![(1, d(2))]);
        assert_eq!(a[2], vec![(2, d(3))]);
        // Ties go to the member order.
        let even = HashMap::from([((7, 1), d(5)), ((7, 2), d(5))]);
        let a = allocate(&[need(0, 7, 1)], &[2, 1], &even, Sourcing::MostStock, false).unwrap();
        assert_eq!(a, vec![vec![(2, d(1))]]);
    }

    #[test]
    fn short_lines_are_reported_with_what_the_group_has() {
        let err = allocate(
            &[need(0, 7, 16), need(1, 8, 1), need(2, 7, 1)],
            &[1, 2],
            &stock(),
            Sourcing::Priority,
            false,
        )
        .unwrap_err();
        assert_eq!(err.len(), 3);
        assert_eq!((err[0].line, err[0].available), (0, d(15)));
        assert_eq!((err[1].line, err[1].available), (1, d(0)));
        assert_eq!((err[2].line, err[2].available), (2, d(0)));
    }

    #[test]
    fn backorders_hold_the_rest_at_the_first_location() {
        let a = allocate(
            &[need(0, 7, 20)],
            &[1, 2],
            &stock(),
            Sourcing::Priority,
            true,
        )
        .unwrap();
        assert_eq!(a, vec![vec![(1, d(15)), (2, d(5))]]);
        let none = HashMap::new();
        let a = allocate(&[need(0, 7, 3)], &[2, 1], &none, Sourcing::Priority, true).unwrap();
        assert_eq!(a, vec![vec![(2, d(3))]]);
        // Negative availability (earlier backorders) counts as none.
        let owed = HashMap::from([((7, 1), d(-2))]);
        let a = allocate(&[need(0, 7, 1)], &[1], &owed, Sourcing::Priority, true).unwrap();
        assert_eq!(a, vec![vec![(1, d(1))]]);
    }

    #[test]
    fn the_order_is_booked_where_most_units_come_from() {
        let a = vec![vec![(1, d(2)), (2, d(3))], vec![(1, d(2))]];
        assert_eq!(primary_location(&a, &[1, 2]), Some(1));
        let a = vec![vec![(2, d(2))], vec![(1, d(2))]];
        assert_eq!(primary_location(&a, &[2, 1]), Some(2));
        assert_eq!(primary_location(&[], &[3]), Some(3));
    }
}
