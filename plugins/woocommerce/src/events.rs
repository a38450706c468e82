//! `order.updated` and `order.deleted`: what an order's new state means.
//!
//! `order.updated` always carries the order itself (the hub ignores an order
//! it already has, and takes one it missed), then by `status`:
//!
//! - `cancelled`: a cancellation, reason "cancelled in WooCommerce";
//! - `refunded`: one money-only refund per entry of the order's `refunds`
//!   (the order payload does not say which lines they cover), or, when the
//!   list is empty, one refund of the whole order with every line;
//! - anything else (`pending`, `processing`, `on-hold`, `completed`,
//!   `failed`, custom statuses): only the order.
//!
//! `order.deleted` (body `{"id": N}`) cancels the order.

use poshub_connector_sdk::*;

use crate::amounts::{money_text, parse_or_zero};
use crate::order;
use crate::payload::{id_text, text, Deleted, WcOrder};

/// The documents of an `order.updated` body.
pub fn updated(ctx: &CallContext, o: &WcOrder) -> Result<Vec<Document>, Error> {
    let order = order::translate(ctx, o)?;
    let status = o.status.as_deref().map(str::trim).unwrap_or_default();
    let follow = match status {
        "cancelled" => vec![Document::Cancellation(Cancellation {
            online_reference_no: order.online_reference_no.clone(),
            reason: Some("cancelled in WooCommerce".to_string()),
        })],
        "refunded" => refunds(o, &order)?,
        _ => vec![],
    };
    let mut docs = vec![Document::Order(order)];
    docs.extend(follow);
    Ok(docs)
}

/// The documents of an `order.deleted` body.
pub fn deleted(d: &Deleted) -> Result<Vec<Document>, Error> {
    let id = id_text(&d.id).ok_or_else(|| {
        invalid_input(format!(
            "order.deleted: `id` {} is not a WooCommerce order id",
            d.id
        ))
    })?;
    Ok(vec![Document::Cancellation(Cancellation {
        online_reference_no: id,
        reason: Some("deleted in WooCommerce".to_string()),
    })])
}

/// The refunds of a refunded order.
fn refunds(o: &WcOrder, order: &Order) -> Result<Vec<Document>, Error> {
    if o.refunds.is_empty() {
        return Ok(vec![whole_order_refund(order)]);
    }
    o.refunds
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let what = format!("order {}, refund {}", order.online_reference_no, i + 1);
            let refund_id = id_text(&r.id).ok_or_else(|| {
                invalid_input(format!("{what}: `id` {} is not a refund id", r.id))
            })?;
            // WooCommerce lists refunds with a negative total.
            let amount = parse_or_zero(&r.total, &format!("{what}: total"))?.abs();
            Ok(Document::Refund(Refund {
                online_reference_no: order.online_reference_no.clone(),
                refund_id,
                lines: vec![],
                amount: Some(money_text(amount)),
                reason: text(r.reason.as_deref()),
                restock: false,
            }))
        })
        .collect()
}

/// A refunded order without refund records (status set by hand): the whole
/// total and every line, under an id that redelivery keeps the same.
fn whole_order_refund(order: &Order) -> Document {
    Document::Refund(Refund {
        online_reference_no: order.online_reference_no.clone(),
        refund_id: format!("order-{}-refunded", order.online_reference_no),
        lines: order
            .lines
            .iter()
            .map(|l| ReturnLine {
                reference_code: None,
                external_id: l.external_id.clone(),
                quantity: l.quantity.clone(),
            })
            .collect(),
        amount: Some(order.total.clone()),
        reason: Some("refunded in WooCommerce".to_string()),
        restock: false,
    })
}
