//! The one implementation of the storage traits, in SQL both backends run.
//!
//! This tree is mounted in each backend module (`sqlite.rs`, `postgres.rs`)
//! with `#[path]`, and so compiled once per backend against that backend's
//! own types: `Db` (the sqlx database), `Backend` (the storage struct with
//! its `write` and `read` pools) and `DIALECT` (what the SQL differs in).
//! sqlx's executors are concrete per database: the same code written
//! generically over `sqlx::Database` needs a bound per bound type and per
//! executor on every function, and the `Any` driver gives up typed
//! decoding (decimals, JSON) and prepared-statement caching. Mounting a
//! real module tree twice keeps one text, which rust-analyzer, rustfmt and
//! the compiler's errors follow (each error names the file), at the price
//! of compiling it twice.
//!
//! One file per aggregate, each with its trait's `impl` and the helpers it
//! owns; helpers another file uses are `pub(super)` and reach every file
//! through this module's glob imports. The rules themselves are
//! `poshub_model`'s: this code looks things up, calls the rules under its
//! locks, and writes the outcome atomically.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use poshub_model::bill::{bill_number, Bill, BillRequest};
use poshub_model::codes::PaymentType;
use poshub_model::currency::Currency;
use poshub_model::customer::Contact;
use poshub_model::decimal::{Amount, Rate};
use poshub_model::item::{Item, NewItem, NewVariant, Variant};
use poshub_model::order::{
    CatalogEntry, CustomerRef, Order, OrderAction, OrderRules, OrderStatus, Transition,
};
use poshub_model::scope::{self, GroupRef, LocationRef, Source};
use poshub_model::stock::{Balance, MovementKind, StockAdjustment, StockInward, StockLevel};
use poshub_model::store::{
    ApiUser, ConnectorEvent, Location, LocationGroup, NewApiUser, NewConnectorEvent, NewStore,
    Principal, Store, StoreContext,
};
use poshub_model::sync::{Mapping, SyncEntry, SyncStatus};
use poshub_model::{now, DomainError, FieldError};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{Connection, QueryBuilder, Row};

use crate::LinesApplied;
use chrono::{DateTime, Utc};
use poshub_model::automatch::{
    AutoMatchAnswer, AutoMatchRequest, Candidate, MatchResult, SkuFacts,
};
use poshub_model::channel::{
    publish, validate_order, ChannelSettings, PaymentPolicy, Sourcing, StockBuffer, StorePatch,
};
use poshub_model::codegen::{CodeGeneration, CodeHolder, CodePlan, StoredItem, StoredVariant};
use poshub_model::item::{AttributeDim, Attributes};
use poshub_model::lifecycle::{
    self as lc, CreditNote, CreditNoteKind, CreditNoteLine, DeliveryStep, LineQuantity, LineState,
    LinesPlan, Restock,
};
use poshub_model::order::{LineAllocation, OrderRequest, ValidOrder};
use poshub_model::pricing::{
    price_in_force, ListPrice, NewPriceList, PriceInForce, PriceList, PriceRule, LAST_INWARD,
};
use poshub_model::sourcing::{allocate as allocate_lines, primary_location, Allocation, Need};

use super::{setwise, Backend, Db, DIALECT};
use crate::decimal::Dec;
use crate::rows::*;
use crate::{
    Actor, CatalogQuery, CatalogRow, DueStore, Error, LedgerMismatch, LineRef, OrderQuery,
    OrderScope, OutboxItem, PlaceOrder, Placed, PushChange, PushOutcome, Result,
};

pub(crate) mod bulk;
pub(crate) mod catalogue;
pub(crate) mod commerce;
pub(crate) mod group;
pub(crate) mod hub;
pub(crate) mod intake;
pub(crate) mod lifecycle;
pub(crate) mod mappings;
pub(crate) mod orders;
pub(crate) mod outbox;
pub(crate) mod stock;
pub(crate) mod stores;
pub(crate) mod writes;

use catalogue::*;
use hub::*;
use intake::*;
use orders::*;
use stock::*;
use stores::*;

use bulk::*;
use commerce::*;
use lifecycle::*;
use mappings::*;

pub(crate) type Conn = <Db as sqlx::Database>::Connection;

/// The locations of rows that LEFT JOIN them as `location_id` and
/// `location_code` (a row without one carries NULLs).
fn joined_locations(rows: &[<Db as sqlx::Database>::Row]) -> Result<Vec<LocationRef>> {
    let mut locations = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(id) = r.try_get::<Option<i64>, _>("location_id")? {
            locations.push(LocationRef::new(
                id,
                r.try_get::<String, _>("location_code")?,
            ));
        }
    }
    Ok(locations)
}

/// The rows of `sql` for `ids`: its `IN ({ids})` is the backend's way of
/// matching a list of ids (`ids` must not be empty).
async fn fetch_for_ids<O>(conn: &mut Conn, sql: &str, ids: &[i64]) -> Result<Vec<O>>
where
    O: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    setwise::fetch_for_ids(conn, sql, ids).await
}
