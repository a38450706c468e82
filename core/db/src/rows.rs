//! Row shapes as the databases return them (not the domain types), and the
//! conversions from rows to the model. Shared by both backends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poshub_model::codes::PaymentType;
use poshub_model::decimal::{Amount, Quantity, Rate};
use poshub_model::email::Email;
use poshub_model::item::AttributeDim;
use poshub_model::order::{
    Charge, CustomerRef, HistoryEntry, OrderLine, OrderStatus, Payment, Shipping,
};
use sqlx::types::Json;

use crate::decimal::Dec;
use rust_decimal::Decimal;

#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    pub id: i64,
    pub item_code: String,
    pub name: String,
    pub unit: String,
    pub tax_rate: Dec,
    pub mrp: Option<Dec>,
    pub attributes: Json<Vec<AttributeDim>>,
    pub reference_code_template: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct VariantRow {
    pub reference_code: String,
    pub attributes: Json<BTreeMap<String, String>>,
    pub price: Option<Dec>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CatalogVariantRow {
    pub id: i64,
    pub reference_code: String,
    pub attributes: Json<BTreeMap<String, String>>,
    pub price: Option<Dec>,
    pub updated_at: DateTime<Utc>,
    pub item_code: String,
    pub name: String,
    pub unit: String,
    pub tax_rate: Dec,
    pub mrp: Option<Dec>,
    /// The variant's balances as `location:on_hand:reserved,...`.
    pub stock: Option<String>,
}

/// Available stock (on hand minus reserved) per location from a variant's
/// balances folded into one column as `location:on_hand:reserved,...`.
pub(crate) fn folded_balances(folded: &str) -> crate::Result<Vec<(i64, Decimal)>> {
    let bad = || {
        crate::Error::Database(sqlx::Error::Decode(
            format!("stock balances `{folded}` are not location:on_hand:reserved").into(),
        ))
    };
    folded
        .split(',')
        .filter(|b| !b.is_empty())
        .map(|b| {
            let mut parts = b.split(':');
            let (Some(location), Some(on_hand), Some(reserved), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let location = location.parse::<i64>().map_err(|_| bad())?;
            let on_hand = on_hand.parse::<Decimal>().map_err(|_| bad())?;
            let reserved = reserved.parse::<Decimal>().map_err(|_| bad())?;
            Ok((location, on_hand - reserved))
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct BalanceRow {
    pub variant_id: i64,
    pub location_id: i64,
    pub on_hand: Dec,
    pub reserved: Dec,
}

#[derive(sqlx::FromRow)]
pub(crate) struct StoreRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub connector: String,
    pub config: Json<serde_json::Value>,
    pub payment_types: Json<Vec<PaymentType>>,
    pub allow_backorder: bool,
    pub prices_include_tax: bool,
    /// The store's own currency, else the hub's (see [`crate::STORE_CURRENCY`]).
    pub currency: String,
    pub accept_test_orders: bool,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub id: i64,
    pub store_id: i64,
    pub location_id: i64,
    pub online_reference_no: String,
    pub store_code: String,
    pub location_code: String,
    pub status: String,
    pub total: Dec,
    pub shipping: Option<Json<Shipping>>,
    pub charges: Json<Vec<Charge>>,
    pub payments: Json<Vec<Payment>>,
    pub currency: String,
    pub test: bool,
    pub notes: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub bill_no: Option<String>,
    pub original_total: Dec,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub ready_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub out_for_delivery_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct LineRow {
    /// Selected only where lines of several orders are read together.
    #[sqlx(default)]
    pub order_id: i64,
    pub line_no: i32,
    // Selected with the line; nothing reads it since stock moves by allocation.
    #[allow(dead_code)]
    pub variant_id: i64,
    pub reference_code: String,
    pub item_code: String,
    pub quantity: Dec,
    pub unit_price: Dec,
    pub discount: Dec,
    pub tax_rate: Dec,
    pub tax_amount: Dec,
    pub amount: Dec,
    pub cancelled_quantity: Dec,
    pub returned_quantity: Dec,
}

impl LineRow {
    pub fn to_model(&self) -> OrderLine {
        OrderLine {
            line_no: self.line_no,
            reference_code: self.reference_code.clone(),
            item_code: self.item_code.clone(),
            quantity: Quantity::from_stored(self.quantity.0),
            unit_price: Amount::from_stored(self.unit_price.0),
            discount: Amount::from_stored(self.discount.0),
            tax_rate: Rate::from_stored(self.tax_rate.0),
            tax_amount: Amount::from_stored(self.tax_amount.0),
            amount: Amount::from_stored(self.amount.0),
            allocations: Vec::new(),
            cancelled_quantity: self.cancelled_quantity.0,
            returned_quantity: self.returned_quantity.0,
        }
    }
}

/// A customer as an order names it, as a write that found or created it
/// returns it.
#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub id: i64,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl CustomerRow {
    pub fn into_model(self) -> crate::Result<CustomerRef> {
        Ok(CustomerRef {
            id: self.id,
            email: (self.email.as_deref())
                .map(|e| stored_email(self.id, e))
                .transpose()?,
            name: self.name,
            phone: self.phone,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HistoryRow {
    /// Selected only where the history of several orders is read together.
    #[sqlx(default)]
    pub order_id: i64,
    pub status: String,
    pub by_actor: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

impl HistoryRow {
    pub fn to_model(&self) -> crate::Result<HistoryEntry> {
        Ok(HistoryEntry {
            status: status(&self.status, self.order_id)?,
            at: self.at,
            by: self.by_actor.clone(),
            note: self.note.clone(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct BillRow {
    pub bill_no: String,
    pub order_id: i64,
    pub store_code: String,
    pub location_code: String,
    pub payment_type: String,
    pub total: Dec,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// An order's stored status (written by this crate only, from
/// `OrderStatus::as_str`); anything else is corrupt data, named by the
/// table and the order's id.
pub(crate) fn status(s: &str, order_id: i64) -> crate::Result<OrderStatus> {
    OrderStatus::parse(s).ok_or_else(|| corrupt("sales_orders", order_id, "status", s))
}

/// A code storage wrote after checking it (`table` row `id`, `column`).
pub(crate) fn stored_code(
    table: &str,
    id: i64,
    column: &str,
    value: &str,
) -> crate::Result<poshub_model::codes::Code> {
    poshub_model::codes::Code::parse(value).map_err(|_| corrupt(table, id, column, value))
}

/// A customer's e-mail, which storage wrote after checking it.
pub(crate) fn stored_email(customer_id: i64, value: &str) -> crate::Result<Email> {
    Email::parse(value).map_err(|_| corrupt("customers", customer_id, "email", value))
}

/// A stored value that does not parse.
pub(crate) fn corrupt(table: &str, id: i64, column: &str, value: &str) -> crate::Error {
    crate::Error::Corrupt(format!("{table} {id}: {column} `{value}` does not parse"))
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// A unique violation as the domain conflict it means; any other database
/// error as it is.
pub(crate) fn conflict_on_unique(
    e: sqlx::Error,
    code: &'static str,
    detail: impl FnOnce() -> String,
) -> crate::Error {
    if is_unique_violation(&e) {
        poshub_model::DomainError::conflict(code, detail()).into()
    } else {
        e.into()
    }
}

/// `$1, $2, ...` starting after `offset` bound parameters. Both backends
/// accept numbered `$N` parameters.
pub(crate) fn placeholders(offset: usize, n: usize) -> String {
    (1..=n)
        .map(|i| format!("${}", offset + i))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::folded_balances;

    #[test]
    fn folded_balances_give_available_stock_per_location() {
        let got = folded_balances("1:12:3.5,7:0:2,3:100000000.000:0").unwrap();
        let shown: Vec<(i64, String)> = got.iter().map(|(l, a)| (*l, a.to_string())).collect();
        assert_eq!(
            shown,
            [
                (1, "8.5".into()),
                (7, "-2".into()),
                (3, "100000000.000".into())
            ]
        );
        assert!(folded_balances("").unwrap().is_empty());
        for bad in ["1:12", "1:12:3:4", "x:1:1", "1:twelve:0", "1:12:3,2"] {
            assert!(folded_balances(bad).is_err(), "{bad}");
        }
    }
}
