//! Products and inventory levels as Shopify reports them. The hub owns
//! prices and stock and only acknowledges these documents; their ids let it
//! suggest mappings (SKU -> variant, inventory item, product).

use poshub_connector_sdk::{log, Document, Error, Level, Price, StockLevel};
use serde_json::Value;

use crate::json::{
    decimal_at, id, list, money_text, plain_text, required_id, required_shop_money, text,
};

/// `products/create`, `products/update`: a price and, for variants whose
/// stock Shopify tracks, a stock level per variant.
pub fn product(product: &Value) -> Result<Vec<Document>, Error> {
    let product_id = required_id(product, "id", "the product")?;
    let mut docs = Vec::new();
    for (i, variant) in list(product, "variants").iter().enumerate() {
        let at = format!("product {product_id}: variant {}", i + 1);
        let variant_id = required_id(variant, "id", &at)?;
        let at = format!("product {product_id}: variant {variant_id}");
        let reference_code = text(variant, "sku").unwrap_or_default().to_string();
        let parent = id(variant, "product_id").unwrap_or_else(|| product_id.clone());
        docs.push(Document::Price(Price {
            reference_code: reference_code.clone(),
            external_id: Some(variant_id.clone()),
            external_parent_id: Some(parent.clone()),
            price: money_text(required_shop_money(variant, "price", &at)?),
            mrp: decimal_at(variant, "compare_at_price", &at)?.map(money_text),
        }));
        match decimal_at(variant, "inventory_quantity", &at)? {
            Some(available) => docs.push(Document::StockLevel(StockLevel {
                reference_code,
                external_id: Some(variant_id),
                location: String::new(),
                external_location_id: None,
                external_parent_id: Some(parent),
                external_inventory_id: id(variant, "inventory_item_id"),
                available: plain_text(available),
            })),
            None => log(
                Level::Info,
                &format!("{at}: no inventory quantity (stock not tracked)"),
            ),
        }
    }
    Ok(docs)
}

/// `inventory_levels/update`: the available quantity of an inventory item
/// at a location. A level without `available` (the item was disconnected
/// from the location) reports nothing.
pub fn inventory_level(level: &Value) -> Result<Vec<Document>, Error> {
    let item = required_id(level, "inventory_item_id", "the inventory level")?;
    let location = required_id(level, "location_id", "the inventory level")?;
    let what = format!("inventory item {item} at location {location}");
    let Some(available) = decimal_at(level, "available", &what)? else {
        log(
            Level::Info,
            &format!("{what}: no available quantity, nothing to report"),
        );
        return Ok(vec![]);
    };
    Ok(vec![Document::StockLevel(StockLevel {
        reference_code: String::new(),
        external_id: None,
        location: String::new(),
        external_location_id: Some(location),
        external_parent_id: None,
        external_inventory_id: Some(item),
        available: plain_text(available),
    })])
}
