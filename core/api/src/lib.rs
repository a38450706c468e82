//! poshub's HTTP layer: the store API v1, the admin API, operations endpoints
//! and the OpenAPI document. Handlers only extract, call storage (which calls
//! the model's rules) and map the outcome; every error leaves as
//! problem+json through [`error::Problem`].

pub mod admin_api;
pub mod bulk_api;
pub mod commerce_api;
pub mod compat;
pub mod console;
mod cursor;
pub mod error;
pub mod extract;
pub mod hooks;
pub mod lifecycle_api;
mod ops;
pub mod store_api;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post, put};
use axum::Router;
use poshub_connectors::Registry;
use poshub_db::Storage;
use poshub_model::phone::CountryCode;

pub use ops::{ApiDoc, Metrics};

/// Largest request body the hub reads (an order of 500 lines fits easily).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    /// SHA-256 (hex) of the admin token.
    pub admin_token_hash: String,
    /// Country calling code for phone numbers written without one.
    pub default_country: CountryCode,
    /// The connector plugins stores may use.
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Ingestion (webhooks, API dialects) over this hub's storage and
    /// connectors.
    pub fn ingest(&self) -> poshub_ingest::Ingest<'_> {
        poshub_ingest::Ingest {
            stores: &*self.storage,
            orders: &*self.storage,
            mappings: &*self.storage,
            registry: &self.registry,
            default_country: &self.default_country,
        }
    }
}

/// The whole HTTP surface as one flat table.
pub fn router(state: AppState) -> Router {
    use admin_api as admin;
    use store_api as store;
    Router::new()
        .route("/api/v1/items", get(store::list_items))
        .route(
            "/api/v1/sales-orders",
            post(store::create_order).get(store::list_orders),
        )
        .route("/api/v1/sales-orders/{id}", get(store::get_order))
        .route(
            "/api/v1/sales-orders/{id}/cancel",
            post(store::cancel_order),
        )
        .route(
            "/admin/v1/settings",
            get(admin::get_settings).put(admin::put_settings),
        )
        .route(
            "/admin/v1/locations",
            post(admin::create_location).get(admin::list_locations),
        )
        .route(
            "/admin/v1/location-groups",
            post(admin::create_location_group).get(admin::list_location_groups),
        )
        .route("/admin/v1/items", post(admin::create_item))
        .route("/admin/v1/items/{item_code}", get(admin::get_item))
        .route("/admin/v1/stock/inward", post(admin::stock_inward))
        .route("/admin/v1/stock/adjustments", post(admin::stock_adjust))
        .route("/admin/v1/stock/{reference_code}", get(admin::stock_levels))
        .route(
            "/admin/v1/stores",
            post(admin::create_store).get(admin::list_stores),
        )
        .route(
            "/admin/v1/stores/{code}",
            get(admin::get_store).patch(commerce_api::patch_store),
        )
        .route(
            "/admin/v1/stores/{code}/price-lists",
            post(commerce_api::create_price_list).get(commerce_api::list_price_lists),
        )
        .route(
            "/admin/v1/stores/{code}/price-lists/{list}",
            delete(commerce_api::delete_price_list),
        )
        .route(
            "/admin/v1/stores/{code}/api-users",
            post(admin::create_api_user).get(admin::list_api_users),
        )
        .route("/admin/v1/sales-orders", get(admin::list_orders))
        .route("/admin/v1/sales-orders/{id}", get(admin::get_order))
        .route("/admin/v1/sales-orders/{id}/bill", post(admin::bill_order))
        .route(
            "/admin/v1/sales-orders/{id}/deliver",
            post(admin::deliver_order),
        )
        .route(
            "/admin/v1/sales-orders/{id}/cancel",
            post(admin::cancel_order),
        )
        .route("/admin/v1/bills/{bill_no}", get(admin::get_bill))
        // The order lifecycle: returns, delivery tracking, credit notes.
        .route(
            "/api/v1/sales-orders/{id}/returns",
            post(lifecycle_api::store_return),
        )
        .route(
            "/admin/v1/sales-orders/{id}/returns",
            post(lifecycle_api::admin_return),
        )
        .route(
            "/admin/v1/sales-orders/{id}/ready",
            post(lifecycle_api::ready_order),
        )
        .route(
            "/admin/v1/sales-orders/{id}/ship",
            post(lifecycle_api::ship_order),
        )
        .route(
            "/admin/v1/sales-orders/{id}/out-for-delivery",
            post(lifecycle_api::out_for_delivery),
        )
        .route(
            "/admin/v1/credit-notes/{credit_note_no}",
            get(lifecycle_api::get_credit_note),
        )
        .route("/admin/v1/stores/{code}/events", get(admin::list_events))
        .route(
            "/admin/v1/stores/{code}/mappings",
            put(admin::put_mappings).get(admin::list_mappings),
        )
        .route("/admin/v1/stores/{code}/sync-log", get(admin::sync_log))
        .route(
            "/admin/v1/stores/{code}/sync-log/retry",
            post(admin::retry_all),
        )
        .route(
            "/admin/v1/stores/{code}/sync-log/{id}/retry",
            post(admin::retry_one),
        )
        .route("/admin/v1/stores/{code}/reconcile", post(admin::reconcile))
        .route("/admin/v1/stores/{code}/catalog", get(admin::store_catalog))
        .route("/admin/v1/plugins", get(admin::list_plugins))
        .route("/admin/v1/plugins/reload", post(admin::reload_plugins))
        // Bulk tools.
        .route(
            "/admin/v1/reference-codes/generate",
            post(bulk_api::generate_reference_codes),
        )
        .route(
            "/admin/v1/import/items",
            post(bulk_api::import_items).layer(DefaultBodyLimit::max(bulk_api::IMPORT_BODY_LIMIT)),
        )
        .route(
            "/admin/v1/stores/{code}/mappings/import",
            post(bulk_api::import_mappings)
                .layer(DefaultBodyLimit::max(bulk_api::IMPORT_BODY_LIMIT)),
        )
        .route(
            "/admin/v1/stores/{code}/mappings/auto-match",
            post(bulk_api::auto_match),
        )
        .route("/hooks/{store}/{*topic}", post(hooks::receive))
        .route("/compat/{store}/{*path}", any(compat::handle))
        // The merchant console: static assets, a client of the admin API.
        .route("/console", get(console::index))
        .route("/console/", get(console::index))
        .route("/console/{file}", get(console::file))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/v1/openapi.json", get(ops::openapi))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::count_requests,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
