//! A connector's lines named by the hub's reference codes. Lines the
//! connector could not name by reference code are mapped by the hub: a SKU
//! equal to a reference code, else the store's mapping of the storefront's
//! id. A line that maps to nothing refuses the whole document.

use poshub_connectors::order::OrderDraft;
use poshub_connectors::types::{CanonicalOrder, Document, LineKeys, ReturnLine};
use poshub_db::{LineRef, Mappings, Orders};
use poshub_model::automatch::Candidate;
use poshub_model::codes::Code;
use poshub_model::decimal::Quantity;
use poshub_model::lifecycle::LineQuantity;
use poshub_model::order::OrderRequest;
use poshub_model::{DomainError, FieldError};

use crate::Refusal;

/// A connector's order as the store API's request, refused as the store API
/// refuses the same body. A line that maps to nothing refuses the order
/// before any figure is looked at, so that the merchant hears of the
/// mapping first.
pub async fn order_request(
    orders: &dyn Orders,
    store_id: i64,
    order: CanonicalOrder,
) -> Result<OrderRequest, Refusal> {
    let (open, refs): (Vec<usize>, Vec<LineRef>) = order
        .open_lines()
        .map(|(i, keys)| {
            let line = LineRef {
                sku: keys.sku.clone(),
                external_id: keys.external_id.clone(),
            };
            (i, line)
        })
        .unzip();
    let mut mapped = Vec::with_capacity(open.len());
    if !open.is_empty() {
        let found = orders.resolve_lines(store_id, &refs).await?;
        let mut unmapped = Vec::new();
        for (i, code) in open.into_iter().zip(found) {
            match code {
                Some(code) => mapped.push((i, code)),
                None => unmapped.push(unmapped_line(i, &order.lines[i].keys)),
            }
        }
        if !unmapped.is_empty() {
            return Err(DomainError::Invalid(unmapped).into());
        }
    }
    let mut draft = OrderDraft::try_from(order).map_err(Refusal::InvalidBody)?;
    for (i, code) in mapped {
        draft.map_line(i, &code).map_err(Refusal::InvalidBody)?;
    }
    draft.finish().map_err(Refusal::InvalidBody)
}

/// A refund's lines as order lines by reference code: the connector's code
/// when it is one, else the store's mapping of the storefront's id. Lines
/// of no quantity are left out; a line that maps to nothing refuses the
/// refund.
pub async fn refund_lines(
    orders: &dyn Orders,
    store_id: i64,
    lines: &[ReturnLine],
) -> Result<Vec<LineQuantity>, Refusal> {
    let refs: Vec<LineRef> = lines
        .iter()
        .map(|l| LineRef {
            sku: l.keys.reference_code.clone().or_else(|| l.keys.sku.clone()),
            external_id: l.keys.external_id.clone(),
        })
        .collect();
    let codes = orders.resolve_lines(store_id, &refs).await?;
    let mut asked = Vec::new();
    let mut problems = Vec::new();
    for (i, (line, code)) in lines.iter().zip(codes).enumerate() {
        let raw = line.quantity.trim();
        if raw
            .parse::<rust_decimal::Decimal>()
            .is_ok_and(|q| q.is_zero())
        {
            continue;
        }
        let quantity = match Quantity::parse(raw) {
            Ok(q) => q,
            Err(e) => {
                problems.push(FieldError::new(
                    format!("lines[{i}].quantity"),
                    "invalid_quantity",
                    e.to_string(),
                ));
                continue;
            }
        };
        match code.as_deref().map(Code::parse) {
            Some(Ok(code)) => asked.push(LineQuantity {
                line_no: None,
                reference_code: Some(code),
                quantity,
            }),
            _ => problems.push(unmapped_line(i, &line.keys)),
        }
    }
    if problems.is_empty() {
        Ok(asked)
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

/// Why line `i` names no variant, in the merchant's terms.
fn unmapped_line(i: usize, keys: &LineKeys) -> FieldError {
    let mut said = Vec::new();
    if let Some(t) = keys.title.as_deref().filter(|t| !t.is_empty()) {
        said.push(format!("`{t}`"));
    }
    match keys.sku.as_deref().filter(|s| !s.is_empty()) {
        Some(sku) => said.push(format!("SKU `{sku}` is no reference code")),
        None => said.push("no SKU".into()),
    }
    match keys.external_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => said.push(format!("storefront id `{id}` is not mapped for this store")),
        None => said.push("no storefront id".into()),
    }
    FieldError::new(
        format!("lines[{i}].reference_code"),
        "unmapped_line",
        format!("line {} maps to no variant: {}", i + 1, said.join(", ")),
    )
}

/// Keeps what a storefront's stock and price documents say about one of
/// its variants (SKU, variant, product and inventory item ids) as a mapping
/// suggestion for auto-match. A failure is logged; it never fails the webhook.
pub(crate) async fn remember_hint(mappings: &dyn Mappings, store_id: i64, doc: &Document) {
    let hint = match doc {
        Document::StockLevel(s) => Candidate::from_document(
            &s.reference_code,
            s.external_id.as_deref(),
            s.external_parent_id.as_deref(),
            s.external_inventory_id.as_deref(),
        ),
        Document::Price(p) => Candidate::from_document(
            &p.reference_code,
            p.external_id.as_deref(),
            p.external_parent_id.as_deref(),
            None,
        ),
        _ => None,
    };
    let Some(hint) = hint else {
        return;
    };
    if let Err(e) = mappings.record_catalog_hint(store_id, &hint).await {
        tracing::warn!(error = %e, store_id, sku = %hint.sku, "could not keep a catalogue hint");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unmapped_line_says_what_it_had() {
        let keys = LineKeys {
            reference_code: None,
            external_id: Some("gid://shopify/ProductVariant/7".into()),
            sku: Some("TEE-RED".into()),
            title: Some("Tee".into()),
        };
        let e = unmapped_line(1, &keys);
        assert_eq!(e.field, "lines[1].reference_code");
        assert_eq!(e.code, "unmapped_line");
        assert_eq!(
            e.message,
            "line 2 maps to no variant: `Tee`, SKU `TEE-RED` is no reference code, \
             storefront id `gid://shopify/ProductVariant/7` is not mapped for this store"
        );
        let bare = unmapped_line(0, &LineKeys::default());
        assert_eq!(
            bare.message,
            "line 1 maps to no variant: no SKU, no storefront id"
        );
    }
}
