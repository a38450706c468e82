//! The admin API's commerce calls: a store's settings (sourcing, payment
//! policy, stock buffer, price enforcement) and its price lists.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use poshub_model::channel::StorePatch;
use poshub_model::pricing::{NewPriceList, PriceList};
use poshub_model::store::Store;

use crate::admin_api::redact;
use crate::error::{ApiResult, Problem};
use crate::extract::{Admin, ApiJson};
use crate::AppState;

/// Change a store: name, payment types, backorders, tax, the group it sells
/// from, sourcing, payment policy, stock buffer, price enforcement. Fields
/// left out keep their value; `null` clears `sell_from_group` and
/// `stock_buffer`. A new buffer queues the pushes it changes.
#[utoipa::path(patch, path = "/admin/v1/stores/{code}", tag = "admin", params(("code" = String, Path)),
    request_body = StorePatch, security(("admin_token" = [])),
    responses((status = 200, body = Store), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_store(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiJson(body, _): ApiJson<StorePatch>,
) -> ApiResult<Json<Store>> {
    Ok(Json(redact(s.storage.update_store(&code, &body).await?)))
}

/// Create a price list for a store (store-wide or for one of its
/// locations); its prices override the last-inward price while it is in
/// force, and price pushes are queued for the variants it names.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/price-lists", tag = "admin", params(("code" = String, Path)),
    request_body = NewPriceList, security(("admin_token" = [])),
    responses((status = 201, body = PriceList), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_price_list(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiJson(body, _): ApiJson<NewPriceList>,
) -> ApiResult<(StatusCode, Json<PriceList>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.storage.create_price_list(&code, &body).await?),
    ))
}

/// A store's price lists, in force or not, by `valid_from`.
#[utoipa::path(get, path = "/admin/v1/stores/{code}/price-lists", tag = "admin", params(("code" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Vec<PriceList>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_price_lists(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<PriceList>>> {
    Ok(Json(s.storage.list_price_lists(&code).await?))
}

/// Delete a price list: its prices stop applying at once (pushes are
/// queued); the list is kept so that prices it set stay traceable.
#[utoipa::path(delete, path = "/admin/v1/stores/{code}/price-lists/{list}", tag = "admin",
    params(("code" = String, Path), ("list" = String, Path)), security(("admin_token" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_price_list(
    State(s): State<AppState>,
    _: Admin,
    Path((code, list)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.storage.delete_price_list(&code, &list).await?;
    Ok(StatusCode::NO_CONTENT)
}
