//! A Shopify refund (the body of `refunds/create`, or an element of an
//! order's `refunds`) as a canonical refund.
//!
//! * lines: `refund_line_items`, keyed by the refunded line item's variant
//!   (and its SKU as reference code when it has one);
//! * amount: the successful `refund` transactions, in shop money; none when
//!   the refund moved no money (a return without refund);
//! * restock: whether any line goes back to stock (`restock_type` other
//!   than `no_restock`, or the legacy `restock: true`).

use poshub_connector_sdk::{invalid_input, Error, Refund, ReturnLine};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::json::{
    add, get, id, list, money_text, plain_text, required_id, shop_money, shown, text, to_decimal,
};

/// Translates a refund; `order_id` is the order it belongs to when the
/// refund itself does not say (it always does in Shopify's payloads).
pub fn translate(refund: &Value, order_id: Option<&str>) -> Result<Refund, Error> {
    let refund_id = required_id(refund, "id", "the refund")?;
    let what = format!("refund {refund_id}");
    let online_reference_no = id(refund, "order_id")
        .or_else(|| order_id.map(str::to_string))
        .ok_or_else(|| invalid_input(format!("{what} has no `order_id`")))?;
    let items = list(refund, "refund_line_items");
    let lines = items
        .iter()
        .enumerate()
        .map(|(i, item)| line(item, &format!("{what}: refund line {}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Refund {
        online_reference_no,
        refund_id,
        lines,
        amount: amount(refund, &what)?.map(money_text),
        reason: text(refund, "note").map(str::to_string),
        restock: restocks(refund, items),
    })
}

/// One returned line.
fn line(item: &Value, at: &str) -> Result<ReturnLine, Error> {
    let line_item = get(item, "line_item").unwrap_or(&Value::Null);
    let raw =
        get(item, "quantity").ok_or_else(|| invalid_input(format!("{at} has no quantity")))?;
    let quantity = to_decimal(raw)
        .filter(|q| *q >= Decimal::ZERO)
        .ok_or_else(|| invalid_input(format!("{at}: quantity `{}` is not a number", shown(raw))))?;
    Ok(ReturnLine {
        reference_code: text(line_item, "sku").map(str::to_string),
        external_id: id(line_item, "variant_id"),
        quantity: plain_text(quantity),
    })
}

/// The money that went back: successful `refund` transactions.
fn amount(refund: &Value, what: &str) -> Result<Option<Decimal>, Error> {
    let mut total = None;
    for (i, t) in list(refund, "transactions").iter().enumerate() {
        let is_refund = text(t, "kind") == Some("refund");
        let succeeded = text(t, "status").is_none_or(|s| s == "success");
        if is_refund && succeeded {
            let at = format!("{what}: transaction {}", i + 1);
            let amount = shop_money(t, "amount", &at)?.unwrap_or_default();
            total = Some(add(total.unwrap_or(Decimal::ZERO), amount, &at)?);
        }
    }
    Ok(total)
}

/// Whether any goods go back into stock.
fn restocks(refund: &Value, items: &[Value]) -> bool {
    let legacy = get(refund, "restock").and_then(Value::as_bool) == Some(true);
    legacy
        || items
            .iter()
            .any(|item| text(item, "restock_type").is_some_and(|t| t != "no_restock"))
}
