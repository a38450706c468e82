//! The admin API, called by the merchant's tools with the admin token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use poshub_db::{Actor, OrderScope};
use poshub_model::bill::{Bill, BillRequest};
use poshub_model::currency::Currency;
use poshub_model::item::{Item, NewItem};
use poshub_model::order::Order;
use poshub_model::stock::{StockAdjustment, StockInward, StockLevel};
use poshub_model::store::{
    ApiUser, ConnectorEvent, Location, LocationGroup, NewApiUser, NewStore, Store,
};
use poshub_model::sync::{Mapping, SyncEntry, SyncStatus};
use poshub_model::DomainError;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{ApiResult, Problem};
use crate::extract::{hash_key, order_id, Admin, ApiJson, ApiQuery};
use crate::store_api::{order_page, CancelRequest, OrderPage};
use crate::AppState;

type Created<T> = (StatusCode, Json<T>);

/// Secrets in a store's config are write-only: shown as `********`.
pub(crate) fn redact(mut store: Store) -> Store {
    if let Some(config) = store.config.as_object_mut() {
        for key in poshub_connectors::types::SECRET_KEYS {
            if let Some(v) = config.get_mut(*key) {
                *v = serde_json::Value::String("********".into());
            }
        }
    }
    store
}

fn created<T>(v: T) -> Created<T> {
    (StatusCode::CREATED, Json(v))
}

/// The hub's own settings.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The hub's currency (the POS's, ISO 4217): what every store sells in
    /// unless it has its own. It can change only until the first order.
    pub currency: Currency,
}

/// The hub's settings.
#[utoipa::path(get, path = "/admin/v1/settings", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = Settings), (status = 401, body = Problem)))]
pub async fn get_settings(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Settings>> {
    Ok(Json(Settings {
        currency: s.storage.hub_currency().await?,
    }))
}

/// Change the hub's settings. The currency is refused with 409
/// `currency_locked` once an order is booked.
#[utoipa::path(put, path = "/admin/v1/settings", tag = "admin", request_body = Settings, security(("admin_token" = [])),
    responses((status = 200, body = Settings), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<Settings>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(Settings {
        currency: s.storage.set_hub_currency(body.currency).await?,
    }))
}

/// Create a location.
#[utoipa::path(post, path = "/admin/v1/locations", tag = "admin", request_body = Location, security(("admin_token" = [])),
    responses((status = 201, body = Location), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_location(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<Location>,
) -> ApiResult<Created<Location>> {
    Ok(created(s.storage.create_location(&body).await?))
}

/// List locations.
#[utoipa::path(get, path = "/admin/v1/locations", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = Vec<Location>), (status = 401, body = Problem)))]
pub async fn list_locations(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<Location>>> {
    Ok(Json(s.storage.list_locations().await?))
}

/// Create a location group.
#[utoipa::path(post, path = "/admin/v1/location-groups", tag = "admin", request_body = LocationGroup, security(("admin_token" = [])),
    responses((status = 201, body = LocationGroup), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_location_group(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<LocationGroup>,
) -> ApiResult<Created<LocationGroup>> {
    Ok(created(s.storage.create_location_group(&body).await?))
}

/// List location groups.
#[utoipa::path(get, path = "/admin/v1/location-groups", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = Vec<LocationGroup>), (status = 401, body = Problem)))]
pub async fn list_location_groups(
    State(s): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<LocationGroup>>> {
    Ok(Json(s.storage.list_location_groups().await?))
}

/// Create an item; a matrix item gets one variant per attribute combination,
/// with reference codes from the template.
#[utoipa::path(post, path = "/admin/v1/items", tag = "admin", request_body = NewItem, security(("admin_token" = [])),
    responses((status = 201, body = Item), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_item(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<NewItem>,
) -> ApiResult<Created<Item>> {
    let variants = body.variants()?;
    Ok(created(s.storage.create_item(&body, &variants).await?))
}

/// Read an item with its variants.
#[utoipa::path(get, path = "/admin/v1/items/{item_code}", tag = "admin", params(("item_code" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Item), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_item(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Item>> {
    Ok(Json(s.storage.get_item(&code).await?))
}

/// Receive stock at a location; by default each line's price becomes the
/// selling price.
#[utoipa::path(post, path = "/admin/v1/stock/inward", tag = "admin", request_body = StockInward, security(("admin_token" = [])),
    responses((status = 200, body = Vec<StockLevel>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn stock_inward(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<StockInward>,
) -> ApiResult<Json<Vec<StockLevel>>> {
    Ok(Json(s.storage.stock_inward(&body).await?))
}

/// Correct on-hand stock (signed quantities, with a reason).
#[utoipa::path(post, path = "/admin/v1/stock/adjustments", tag = "admin", request_body = StockAdjustment, security(("admin_token" = [])),
    responses((status = 200, body = Vec<StockLevel>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn stock_adjust(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<StockAdjustment>,
) -> ApiResult<Json<Vec<StockLevel>>> {
    Ok(Json(s.storage.stock_adjust(&body).await?))
}

/// Stock of one variant at every location.
#[utoipa::path(get, path = "/admin/v1/stock/{reference_code}", tag = "admin", params(("reference_code" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Vec<StockLevel>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn stock_levels(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<StockLevel>>> {
    Ok(Json(s.storage.stock_levels(&code).await?))
}

/// Create an online store.
#[utoipa::path(post, path = "/admin/v1/stores", tag = "admin", request_body = NewStore, security(("admin_token" = [])),
    responses((status = 201, body = Store), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_store(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<NewStore>,
) -> ApiResult<Created<Store>> {
    if s.registry.get(&body.connector).is_none() {
        return Err(DomainError::invalid(
            "connector",
            "unknown_connector",
            format!(
                "no connector `{}`; available: {}",
                body.connector,
                s.registry.ids().join(", ")
            ),
        )
        .into());
    }
    Ok(created(redact(s.storage.create_store(&body).await?)))
}

/// List stores.
#[utoipa::path(get, path = "/admin/v1/stores", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = Vec<Store>), (status = 401, body = Problem)))]
pub async fn list_stores(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<Store>>> {
    Ok(Json(
        s.storage
            .list_stores()
            .await?
            .into_iter()
            .map(redact)
            .collect(),
    ))
}

/// Read one store.
#[utoipa::path(get, path = "/admin/v1/stores/{code}", tag = "admin", params(("code" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Store), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_store(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Store>> {
    Ok(Json(redact(s.storage.get_store(&code).await?)))
}

/// A new API user with its key; the key is shown only here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiUser {
    #[serde(flatten)]
    pub user: ApiUser,
    /// The key to send as `Authorization: Bearer <api_key>`. Shown once;
    /// the hub keeps only its hash.
    pub api_key: String,
}

/// Create an API user for a store, acting for some of its locations.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/api-users", tag = "admin", params(("code" = String, Path)), request_body = NewApiUser,
    security(("admin_token" = [])),
    responses((status = 201, body = CreatedApiUser), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_api_user(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiJson(body, _): ApiJson<NewApiUser>,
) -> ApiResult<Created<CreatedApiUser>> {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let api_key = format!("psk_{}", URL_SAFE_NO_PAD.encode(secret));
    let user = s
        .storage
        .create_api_user(&code, &body, &hash_key(&api_key), &api_key[..12])
        .await?;
    Ok(created(CreatedApiUser { user, api_key }))
}

/// List a store's API users (without keys).
#[utoipa::path(get, path = "/admin/v1/stores/{code}/api-users", tag = "admin", params(("code" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Vec<ApiUser>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_api_users(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<ApiUser>>> {
    Ok(Json(s.storage.list_api_users(&code).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdminOrdersQuery {
    /// Only this store's orders.
    pub store: Option<String>,
    pub status: Option<String>,
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Every store's orders.
#[utoipa::path(get, path = "/admin/v1/sales-orders", tag = "admin", params(AdminOrdersQuery), security(("admin_token" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "No store has the code in `store`")))]
pub async fn list_orders(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<AdminOrdersQuery>,
) -> ApiResult<Json<OrderPage>> {
    let mut scope = OrderScope::admin();
    if let Some(code) = &q.store {
        let id = s.storage.store_id(code).await?;
        scope.store_id =
            Some(id.ok_or_else(|| Problem::not_found(format!("store {code} not found")))?);
    }
    let q = crate::store_api::OrdersQuery {
        status: q.status,
        updated_since: q.updated_since,
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(Json(order_page(&s, scope, q).await?))
}

/// One order.
#[utoipa::path(get, path = "/admin/v1/sales-orders/{id}", tag = "admin", params(("id" = i64, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_order(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Order>> {
    Ok(Json(
        s.storage
            .get_order(&OrderScope::admin(), order_id(&id)?)
            .await?,
    ))
}

/// Bill a pending order: creates the sales bill with the payment type used
/// and takes the stock out of the reservation.
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/bill", tag = "admin", params(("id" = i64, Path)), request_body = BillRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = Bill), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn bill_order(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(body, _): ApiJson<BillRequest>,
) -> ApiResult<Created<Bill>> {
    Ok(created(s.storage.bill_order(order_id(&id)?, &body).await?))
}

/// Mark a billed order delivered.
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/deliver", tag = "admin", params(("id" = i64, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn deliver_order(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Order>> {
    Ok(Json(s.storage.deliver_order(order_id(&id)?).await?))
}

/// Cancel a pending, billed or ready order: a reservation is released,
/// billed stock goes back on hand and the bill is marked cancelled. With
/// `lines`, only those lines or quantities (a billed order gets a credit
/// note for them).
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/cancel", tag = "admin", params(("id" = i64, Path)),
    request_body(content = Option<CancelRequest>), security(("admin_token" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn cancel_order(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    crate::extract::RawBody(body): crate::extract::RawBody,
) -> ApiResult<Json<Order>> {
    let scope = OrderScope::admin();
    Ok(Json(
        crate::lifecycle_api::cancel(&s, &scope, order_id(&id)?, Actor::Admin, &body).await?,
    ))
}

/// Read a sales bill.
#[utoipa::path(get, path = "/admin/v1/bills/{bill_no}", tag = "admin", params(("bill_no" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Bill), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_bill(
    State(s): State<AppState>,
    _: Admin,
    Path(no): Path<String>,
) -> ApiResult<Json<Bill>> {
    Ok(Json(s.storage.get_bill(&no).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// How many of the newest events (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// What the store's connector did, newest first: webhooks with their outcome,
/// the reason when refused, and the plugin's logs.
#[utoipa::path(get, path = "/admin/v1/stores/{code}/events", tag = "admin", params(("code" = String, Path), EventsQuery),
    security(("admin_token" = [])),
    responses((status = 200, body = Vec<ConnectorEvent>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_events(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<Vec<ConnectorEvent>>> {
    let limit = crate::store_api::limit(q.limit)?;
    Ok(Json(s.storage.list_events(&code, limit).await?))
}

/// A connector plugin the hub offers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PluginRow {
    pub id: String,
    pub version: String,
    pub platform: String,
    pub topics: Vec<String>,
    pub hosts: Vec<String>,
    /// `bundled (...)` or the plugin file.
    pub source: String,
    pub sha256: String,
    /// JSON Schema of the store configuration the connector reads;
    /// `writeOnly` properties are secrets (shown as `********`).
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    /// The connector world version it was built for (`0.3.0`; a plugin
    /// built for `0.2.0` or `0.1.0` runs through the host's adapters).
    pub world: String,
}

fn plugin_rows(s: &AppState) -> Vec<PluginRow> {
    s.registry
        .list()
        .into_iter()
        .map(|p| PluginRow {
            id: p.id,
            version: p.version,
            platform: p.platform,
            topics: p.topics,
            hosts: p.hosts,
            source: p.source,
            sha256: p.sha256,
            config_schema: p.config_schema,
            world: p.world,
        })
        .collect()
}

/// The connector plugins this hub offers.
#[utoipa::path(get, path = "/admin/v1/plugins", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = Vec<PluginRow>), (status = 401, body = Problem)))]
pub async fn list_plugins(State(s): State<AppState>, _: Admin) -> Json<Vec<PluginRow>> {
    Json(plugin_rows(&s))
}

/// What a reload did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReloadAnswer {
    pub loaded: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
    /// Files that did not load; their previous version stays in service.
    pub failed: Vec<String>,
    pub plugins: Vec<PluginRow>,
}

/// Rescan the plugins directory: a changed plugin is swapped in only after
/// it loads and type-checks; calls in flight finish on the old version.
#[utoipa::path(post, path = "/admin/v1/plugins/reload", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = ReloadAnswer), (status = 401, body = Problem)))]
pub async fn reload_plugins(State(s): State<AppState>, _: Admin) -> ApiResult<Json<ReloadAnswer>> {
    let registry = s.registry.clone();
    let report = tokio::task::spawn_blocking(move || registry.reload())
        .await
        .map_err(|_| Problem::internal())?;
    Ok(Json(ReloadAnswer {
        loaded: report.loaded,
        unchanged: report.unchanged,
        removed: report.removed,
        failed: report.failed,
        plugins: plugin_rows(&s),
    }))
}

/// Map reference codes to the store's own product/variant ids. Newly mapped
/// variants are queued for a first stock and price push.
#[utoipa::path(put, path = "/admin/v1/stores/{code}/mappings", tag = "admin", params(("code" = String, Path)),
    request_body = Vec<Mapping>, security(("admin_token" = [])),
    responses((status = 200, body = Vec<Mapping>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_mappings(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiJson(body, _): ApiJson<Vec<Mapping>>,
) -> ApiResult<Json<Vec<Mapping>>> {
    Ok(Json(s.storage.put_mappings(&code, &body).await?))
}

/// The store's mappings.
#[utoipa::path(get, path = "/admin/v1/stores/{code}/mappings", tag = "admin", params(("code" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Vec<Mapping>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_mappings(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<Mapping>>> {
    Ok(Json(s.storage.list_mappings(&code).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncLogQuery {
    /// `pending`, `sending`, `sent`, `failed` or `dead`.
    pub status: Option<String>,
    /// How many of the newest rows (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The store's sync log, newest first: what was pushed or is waiting, with
/// the request, the storefront's answer and the error.
#[utoipa::path(get, path = "/admin/v1/stores/{code}/sync-log", tag = "admin", params(("code" = String, Path), SyncLogQuery),
    security(("admin_token" = [])),
    responses((status = 200, body = Vec<SyncEntry>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn sync_log(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<SyncLogQuery>,
) -> ApiResult<Json<Vec<SyncEntry>>> {
    let status = q
        .status
        .as_deref()
        .map(|st| {
            SyncStatus::parse(st).ok_or_else(|| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_status",
                    format!(
                        "`{st}` is not a sync status; use pending, sending, sent, failed or dead"
                    ),
                )
            })
        })
        .transpose()?;
    let limit = crate::store_api::limit(q.limit)?;
    Ok(Json(s.storage.sync_log(&code, status, limit).await?))
}

/// How many rows went back into the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Requeued {
    pub requeued: u64,
}

/// Put every dead row of the store back in the queue.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/sync-log/retry", tag = "admin", params(("code" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Requeued), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn retry_all(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Requeued>> {
    Ok(Json(Requeued {
        requeued: s.storage.retry_dead(&code, None).await?,
    }))
}

/// Put one dead row back in the queue.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/sync-log/{id}/retry", tag = "admin", params(("code" = String, Path), ("id" = i64, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Requeued), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn retry_one(
    State(s): State<AppState>,
    _: Admin,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<Json<Requeued>> {
    let id = id
        .parse::<i64>()
        .map_err(|_| Problem::not_found(format!("sync log entry {id} not found")))?;
    Ok(Json(Requeued {
        requeued: s.storage.retry_dead(&code, Some(id)).await?,
    }))
}

/// Queue pushes wherever what the store should show differs from what it
/// last confirmed.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/reconcile", tag = "admin", params(("code" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Requeued), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn reconcile(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Requeued>> {
    Ok(Json(Requeued {
        requeued: s.storage.reconcile(&code).await?,
    }))
}

/// The catalogue as a store sees it over all its locations (the answer of
/// `GET /api/v1/items` for a key acting for every location), for the
/// merchant's mapping work.
#[utoipa::path(get, path = "/admin/v1/stores/{code}/catalog", tag = "admin", params(("code" = String, Path), crate::store_api::ItemsQuery),
    security(("admin_token" = [])),
    responses((status = 200, body = crate::store_api::ItemPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "A location outside the store's"), (status = 404, body = Problem)))]
pub async fn store_catalog(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<crate::store_api::ItemsQuery>,
) -> ApiResult<Json<crate::store_api::ItemPage>> {
    let ctx = s.storage.store_context(&code).await?;
    Ok(Json(
        crate::store_api::item_page(&s, &ctx.principal, q).await?,
    ))
}
