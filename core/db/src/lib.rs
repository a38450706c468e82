//! poshub storage: one [`Storage`] trait with two real backends, SQLite (the
//! embedded default) and Postgres, each with its own migrations, chosen by the
//! URL scheme at start-up.
//!
//! Both backends share one implementation of the trait (the `sql/` tree,
//! compiled once per backend with that backend's concrete types) so that the same
//! transaction runs on both; what differs (row locking, partial-index
//! predicates, pool shape) is a handful of constants in each backend module.
//! The rules themselves live in `poshub-model`: storage looks things up,
//! calls the rules under its locks, and writes the outcome atomically.

mod decimal;
mod postgres;
mod rows;
mod sqlite;
mod turn;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use poshub_model::automatch::{AutoMatchAnswer, AutoMatchRequest, Candidate};
use poshub_model::bill::{Bill, BillRequest};
use poshub_model::channel::StorePatch;
use poshub_model::codegen::{CodeGeneration, CodePlan};
use poshub_model::currency::Currency;
use poshub_model::item::{Item, NewItem, NewVariant};
use poshub_model::lifecycle::{
    CreditNote, DeliveryStep, LineCancellation, ReturnRequest, StorefrontRefund,
};
use poshub_model::order::{Order, OrderRequest, OrderStatus};
use poshub_model::phone::CountryCode;
use poshub_model::pricing::{NewPriceList, PriceList};
use poshub_model::scope::LocationRef;
use poshub_model::stock::{StockAdjustment, StockInward, StockLevel};
use poshub_model::store::{
    ApiUser, ConnectorEvent, Location, LocationGroup, NewApiUser, NewConnectorEvent, NewStore,
    Principal, Store, StoreContext,
};
use poshub_model::sync::{Mapping, SyncEntry, SyncStatus};
use poshub_model::DomainError;
use rust_decimal::Decimal;

pub use postgres::PgStorage;
pub use sqlite::SqliteStorage;

/// A storage failure: either the domain refused (a client's mistake) or the
/// database failed (ours).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The transaction a write (an order, a connector event) was done in
    /// together with others could not be committed: it was not kept.
    #[error("the write could not be committed: {0}")]
    Batch(String),
    /// A stored value that storage checked on the way in does not parse.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl Error {
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            Error::Domain(d) => Some(d),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who acts on an order, recorded in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Store,
    Admin,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Store => "store",
            Actor::Admin => "admin",
        }
    }
}

/// Which orders a caller may see: a store key sees its store's orders at its
/// locations; the admin sees all.
#[derive(Debug, Clone, Default)]
pub struct OrderScope {
    pub store_id: Option<i64>,
    pub location_ids: Option<Vec<i64>>,
}

impl OrderScope {
    pub fn admin() -> Self {
        OrderScope::default()
    }

    pub fn of(p: &Principal) -> Self {
        OrderScope {
            store_id: Some(p.store_id),
            location_ids: Some(p.locations.iter().map(|l| l.id).collect()),
        }
    }
}

/// A page of orders.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub scope: OrderScope,
    pub status: Option<OrderStatus>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Return orders with an id greater than this.
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// A page of the catalogue as a store sees it.
#[derive(Debug, Clone)]
pub struct CatalogQuery {
    /// The locations whose stock is reported, in report order.
    pub locations: Vec<LocationRef>,
    pub updated_since: Option<DateTime<Utc>>,
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// One variant with its price and per-location availability.
#[derive(Debug, Clone)]
pub struct CatalogRow {
    pub variant_id: i64,
    pub item_code: String,
    pub name: String,
    pub unit: String,
    pub reference_code: String,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub price: Option<Decimal>,
    /// The rule that set `price`: `last_inward`, or `price_list:CODE` in a
    /// store's catalogue.
    pub price_source: Option<String>,
    pub mrp: Option<Decimal>,
    pub tax_rate: Decimal,
    /// Available stock per requested location, in the query's order.
    pub locations: Vec<(String, Decimal)>,
    pub updated_at: DateTime<Utc>,
}

/// What a storefront says about an order line that names no reference code.
#[derive(Debug, Clone, Default)]
pub struct LineRef {
    pub sku: Option<String>,
    pub external_id: Option<String>,
}

/// An order to place, on behalf of a store key.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub principal: Principal,
    pub request: OrderRequest,
    pub default_country: CountryCode,
    pub idempotency: Option<IdempotencyKey>,
}

/// What the SQL of the two backends differs in; each backend module has
/// one, and the shared statements in `sql/` read it.
pub(crate) struct Dialect {
    /// `sqlite` or `postgres`, as [`Hub::backend`] answers.
    pub backend: &'static str,
    /// Appended to a `SELECT` that locks the rows it reads for the
    /// transaction's writes.
    pub for_update: &'static str,
    /// Appended to the outbox claim, so that several hubs claim side by side.
    pub skip_locked: &'static str,
    /// Appended to a read that must wait for a change still holding the row.
    pub for_share: &'static str,
    /// Predicate of the partial unique index on e-mail-only customers.
    pub email_only: &'static str,
    /// Whether several statements may go to the database as one query.
    pub multi_statement: bool,
    /// Whether rows are locked row by row, by writers that may be other
    /// processes (Postgres), rather than by the one writer connection.
    pub row_locks: bool,
    /// Begins an intake batch's transaction holding its slot `{slot}` of the
    /// batches in flight on the database, whichever hub writes them (see
    /// `sql/group.rs`); `None` where one writer is all there is.
    pub batch_slot: Option<&'static str>,
}

/// The `Idempotency-Key` header and a hash of the request body it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// What placing an order did.
#[derive(Debug, Clone)]
pub enum Placed {
    /// A new order; its JSON is what an idempotent replay returns.
    Created(Box<Order>),
    /// The same key and body were seen before: the first response, verbatim.
    Replayed(String),
}

/// What placing an order did, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacedId {
    Created(i64),
    /// The same key and body were seen before.
    Replayed,
}

/// What a partial cancellation or a return did.
#[derive(Debug, Clone)]
pub struct LinesApplied {
    pub order: Order,
    /// The credit note it issued (a pending order's cancellation has none).
    pub credit_note: Option<CreditNote>,
    /// The storefront's refund id was applied before: nothing changed, and
    /// `credit_note` is the one issued then.
    pub duplicate: bool,
}

/// What a storefront's refund did to its order.
#[derive(Debug, Clone)]
pub enum RefundApplied {
    /// Booked as a return or a cancellation of lines (or applied before:
    /// see [`LinesApplied::duplicate`]).
    Booked(Box<LinesApplied>),
    /// Nothing to book, and why.
    Nothing(&'static str),
}

/// A disagreement between the stock ledger and the balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerMismatch {
    pub variant_id: i64,
    pub location_id: i64,
    pub ledger: (Decimal, Decimal),
    pub balance: (Decimal, Decimal),
}

/// What a claimed outbox row asks to push, read when it was claimed so that
/// a coalesced row carries the latest value.
#[derive(Debug, Clone, PartialEq)]
pub enum PushChange {
    Stock {
        reference_code: String,
        external_id: Option<String>,
        parent_id: Option<String>,
        inventory_id: Option<String>,
        location: String,
        /// Available to publish (never below zero).
        available: Decimal,
    },
    Price {
        reference_code: String,
        external_id: Option<String>,
        parent_id: Option<String>,
        price: Decimal,
        mrp: Option<Decimal>,
    },
    Status {
        order_id: i64,
        online_reference_no: String,
        status: String,
        /// Set once the order has shipped.
        carrier: Option<String>,
        tracking_number: Option<String>,
    },
}

impl PushChange {
    /// The value the storefront should show afterwards, as recorded in the
    /// sync state and compared by reconciliation.
    pub fn value(&self) -> String {
        match self {
            PushChange::Stock { available, .. } => available.normalize().to_string(),
            PushChange::Price { price, .. } => price.normalize().to_string(),
            PushChange::Status { status, .. } => status.clone(),
        }
    }
}

/// An outbox row claimed by a worker under a lease.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub store_id: i64,
    pub store_code: String,
    pub connector: String,
    pub config: serde_json::Value,
    /// Attempts made before this one.
    pub attempts: i32,
    /// When the change was committed (the first change of a coalesced row).
    pub created_at: DateTime<Utc>,
    /// None when there is nothing to push any more (e.g. the variant was unmapped).
    pub change: Option<PushChange>,
    /// What the storefront should hold now for the same thing, by what it
    /// last confirmed (`sync_state`) and, for a stock level, less the sales
    /// it has reported since (it took them off its own level): the compare
    /// value of a compare-and-set push. None when nothing was confirmed yet.
    pub confirmed: Option<String>,
}

/// A store with pushes due, as the sync worker picks the next store to serve.
#[derive(Debug, Clone)]
pub struct DueStore {
    pub id: i64,
    pub code: String,
    pub connector: String,
    pub config: serde_json::Value,
}

/// How an attempt to push an outbox row ended (`Outbox::complete_outbox`
/// records it). Not to be confused with an order's delivery to the customer
/// (`poshub_model::lifecycle::Delivery`).
#[derive(Debug, Clone)]
pub enum PushOutcome {
    Sent {
        value: String,
        response_status: Option<i32>,
        summary: String,
        /// What the storefront held instead of the value it last confirmed,
        /// when the push found out (a compare-and-set that was stale).
        drift: Option<String>,
    },
    Retry {
        at: DateTime<Utc>,
        response_status: Option<i32>,
        error: String,
        summary: String,
    },
    Dead {
        response_status: Option<i32>,
        error: String,
        summary: String,
    },
}

/// The hub itself: its settings, its currency, its health.
#[async_trait]
pub trait Hub: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    async fn ping(&self) -> Result<()>;

    async fn get_setting(&self, key: &str) -> Result<Option<String>>;

    /// Stores a setting unless it already exists; returns the value in force.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String>;

    /// The hub's currency (the POS's): what a store without its own sells in.
    async fn hub_currency(&self) -> Result<Currency>;

    /// Sets the hub's currency. Once an order is booked it no longer
    /// changes: setting another is a 409 `currency_locked`.
    async fn set_hub_currency(&self, currency: Currency) -> Result<Currency>;

    /// Every (variant, location) whose balance is not the sum of its ledger.
    async fn verify_ledger(&self) -> Result<Vec<LedgerMismatch>>;
}

/// Locations and their groups, items and their variants.
#[async_trait]
pub trait Catalogue: Send + Sync + 'static {
    async fn create_location(&self, location: &Location) -> Result<Location>;

    async fn list_locations(&self) -> Result<Vec<Location>>;

    async fn create_location_group(&self, group: &LocationGroup) -> Result<LocationGroup>;

    async fn list_location_groups(&self) -> Result<Vec<LocationGroup>>;

    async fn create_item(&self, item: &NewItem, variants: &[NewVariant]) -> Result<Item>;

    async fn get_item(&self, item_code: &str) -> Result<Item>;

    async fn list_catalog(&self, query: &CatalogQuery) -> Result<Vec<CatalogRow>>;

    /// Plans reference codes from a template for matrix items; when the
    /// request applies and nothing collides, writes them all in one
    /// transaction (else nothing: the plan comes back with `applied: false`).
    async fn generate_reference_codes(&self, request: &CodeGeneration) -> Result<CodePlan>;
}

/// Stock on hand: inward, adjustments, levels.
#[async_trait]
pub trait Stock: Send + Sync + 'static {
    async fn stock_inward(&self, inward: &StockInward) -> Result<Vec<StockLevel>>;

    async fn stock_adjust(&self, adjustment: &StockAdjustment) -> Result<Vec<StockLevel>>;

    async fn stock_levels(&self, reference_code: &str) -> Result<Vec<StockLevel>>;
}

/// Stores, their API keys and settings, and the connector events of each.
#[async_trait]
pub trait Stores: Send + Sync + 'static {
    async fn create_store(&self, store: &NewStore) -> Result<Store>;

    async fn list_stores(&self) -> Result<Vec<Store>>;

    async fn get_store(&self, code: &str) -> Result<Store>;

    async fn store_id(&self, code: &str) -> Result<Option<i64>>;

    async fn create_api_user(
        &self,
        store_code: &str,
        user: &NewApiUser,
        key_hash: &str,
        key_prefix: &str,
    ) -> Result<ApiUser>;

    async fn list_api_users(&self, store_code: &str) -> Result<Vec<ApiUser>>;

    /// The API user whose key hashes to `key_hash`, with its store's rules.
    async fn authenticate(&self, key_hash: &str) -> Result<Option<Principal>>;

    /// The store as its connector's webhooks act for it.
    async fn store_context(&self, code: &str) -> Result<StoreContext>;

    /// Records a connector event. The caller need not wait for it to be
    /// durable: a backend may write it with the writes that follow (the
    /// embedded one does, in its next group commit), and a process killed
    /// in between loses it. [`Storage::list_events`] sees every event
    /// recorded before it is called.
    async fn record_event(&self, event: &NewConnectorEvent) -> Result<()>;

    /// The newest events of a store first.
    async fn list_events(&self, store_code: &str, limit: u32) -> Result<Vec<ConnectorEvent>>;

    /// Changes a store's settings; pushes are queued where what the store
    /// is shown changes.
    async fn update_store(&self, code: &str, patch: &StorePatch) -> Result<Store>;
}

/// Price lists and the catalogue as a store is shown it.
#[async_trait]
pub trait Pricing: Send + Sync + 'static {
    /// Creates a price list and queues price pushes for the variants it names.
    async fn create_price_list(&self, store_code: &str, list: &NewPriceList) -> Result<PriceList>;

    async fn list_price_lists(&self, store_code: &str) -> Result<Vec<PriceList>>;

    /// Retires a price list (kept for tracing) and queues price pushes.
    async fn delete_price_list(&self, store_code: &str, code: &str) -> Result<()>;

    /// The catalogue as a store sees it: the price in force (for
    /// `price_location`, else store-wide) with its source, and stock as the
    /// store's buffer publishes it.
    async fn store_catalog(
        &self,
        store_id: i64,
        price_location: Option<i64>,
        query: &CatalogQuery,
    ) -> Result<Vec<CatalogRow>>;
}

/// Sales orders and their lifecycle: intake, billing, delivery, cancellation, returns.
#[async_trait]
pub trait Orders: Send + Sync + 'static {
    /// Validates, reserves stock and stores an order, or replays the response
    /// to an earlier request with the same idempotency key.
    async fn place_order(&self, order: &PlaceOrder) -> Result<Placed>;

    /// Places an order as [`Storage::place_order`] does, for a caller that
    /// needs only the new order's id (a webhook's answer).
    async fn place_order_id(&self, order: &PlaceOrder) -> Result<PlacedId>;

    async fn get_order(&self, scope: &OrderScope, id: i64) -> Result<Order>;

    /// The id of a store's order by the storefront's reference number.
    async fn find_order_id(&self, store_id: i64, online_reference_no: &str) -> Result<Option<i64>>;

    async fn list_orders(&self, query: &OrderQuery) -> Result<Vec<Order>>;

    /// The reference code of each storefront line: the variant whose
    /// reference code equals the line's SKU, else the variant the store maps
    /// the line's storefront id to; None when neither exists.
    async fn resolve_lines(&self, store_id: i64, lines: &[LineRef]) -> Result<Vec<Option<String>>>;

    /// Turns a pending order into a sales bill: stock leaves the reservation.
    async fn bill_order(&self, id: i64, request: &BillRequest) -> Result<Bill>;

    async fn deliver_order(&self, id: i64) -> Result<Order>;

    /// Cancels a pending or billed order (idempotent): a reservation is
    /// released, billed stock goes back on hand.
    async fn cancel_order(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        reason: Option<&str>,
    ) -> Result<Order>;

    async fn get_bill(&self, bill_no: &str) -> Result<Bill>;

    /// Cancels some lines or quantities of a pending, billed or ready order:
    /// a reservation is released, sold stock goes back on hand (last
    /// allocation first), the total drops by the lines' share, a billed
    /// order gets a credit note; nothing left means the order is cancelled.
    async fn cancel_lines(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        request: &LineCancellation,
    ) -> Result<LinesApplied>;

    /// Takes back delivered goods: restocked at a location (or written off),
    /// credited by a credit note against the bill; the order becomes
    /// `partially_returned`, then `returned` once everything is back.
    async fn return_lines(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        request: &ReturnRequest,
    ) -> Result<LinesApplied>;

    /// Moves an order one step along its delivery (ready, shipped, out for
    /// delivery, delivered), recording when.
    async fn advance_delivery(&self, id: i64, step: &DeliveryStep) -> Result<Order>;

    async fn get_credit_note(&self, credit_note_no: &str) -> Result<CreditNote>;
    /// Books a storefront's refund of goods as the order's status calls for
    /// ([`poshub_model::lifecycle::refund_booking`]): a return of delivered
    /// goods, a cancellation of lines not yet delivered, or nothing; the
    /// status is read and the booking written in one transaction, so a
    /// change of status in between cannot send it down the wrong path.
    async fn apply_refund(
        &self,
        scope: &OrderScope,
        id: i64,
        by: Actor,
        refund: &StorefrontRefund,
    ) -> Result<RefundApplied>;
}

/// What each store calls the hub's variants: mappings, their import, auto-match and its hints.
#[async_trait]
pub trait Mappings: Send + Sync + 'static {
    /// Maps reference codes to the store's own ids; newly mapped variants are
    /// queued for a first push.
    async fn put_mappings(&self, store_code: &str, mappings: &[Mapping]) -> Result<Vec<Mapping>>;

    async fn list_mappings(&self, store_code: &str) -> Result<Vec<Mapping>>;

    /// Maps each row in its own transaction by the same path as
    /// `put_mappings`; one outcome per row, refusals as domain errors.
    async fn import_mappings(
        &self,
        store_code: &str,
        rows: &[Mapping],
    ) -> Result<Vec<Result<(), DomainError>>>;

    /// Matches storefront variants (given, or the store's catalogue hints) to
    /// reference codes by SKU; when applying, maps the matches in one
    /// transaction.
    async fn auto_match(
        &self,
        store_code: &str,
        request: &AutoMatchRequest,
    ) -> Result<AutoMatchAnswer>;

    /// Remembers what a storefront said about one of its variants, as a
    /// mapping suggestion.
    async fn record_catalog_hint(&self, store_id: i64, hint: &Candidate) -> Result<()>;
}

/// The sync outbox the push workers drain.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// The enabled stores that have claimable rows, those due longest first.
    async fn due_stores(&self, limit: u32) -> Result<Vec<DueStore>>;

    /// Claims due outbox rows (and rows whose lease ran out) for `owner`:
    /// of one store, or of any when `store` is None; oldest due first.
    async fn claim_outbox(
        &self,
        owner: &str,
        lease: std::time::Duration,
        store: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>>;

    /// Records how attempts ended, all in one transaction; answers the ids
    /// whose lease `owner` no longer held (recorded as nothing).
    async fn complete_outbox(
        &self,
        owner: &str,
        deliveries: &[(i64, PushOutcome)],
    ) -> Result<Vec<i64>>;

    /// A store's sync log, newest first.
    async fn sync_log(
        &self,
        store_code: &str,
        status: Option<SyncStatus>,
        limit: u32,
    ) -> Result<Vec<SyncEntry>>;

    /// Puts dead rows (one, or all of the store's) back in the queue; returns how many.
    async fn retry_dead(&self, store_code: &str, id: Option<i64>) -> Result<u64>;

    /// Queues pushes wherever what the store should show differs from what it
    /// last confirmed; returns how many were queued.
    async fn reconcile(&self, store_code: &str) -> Result<u64>;

    /// Outbox rows waiting (pending, failed, sending) and dead.
    async fn outbox_depth(&self) -> Result<(i64, i64)>;
}

/// Everything the hub stores: the union of the parts above, which each
/// backend implements. Every method is one transaction: it either happens
/// completely or not at all. Code that needs one part takes that part
/// (`&dyn Orders`, `Arc<dyn Outbox>`); an `Arc<dyn Storage>` coerces to any.
pub trait Storage: Hub + Catalogue + Stock + Stores + Pricing + Orders + Mappings + Outbox {}

impl<T> Storage for T where
    T: Hub + Catalogue + Stock + Stores + Pricing + Orders + Mappings + Outbox
{
}

/// Opens the storage a URL names (`sqlite://PATH`, `sqlite::memory:`,
/// `postgres://...`) and applies its migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Storage>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStorage::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStorage::open(url).await?))
    } else {
        Err(Error::UnsupportedUrl(url.to_string()))
    }
}
