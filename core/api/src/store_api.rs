//! The store API v1, called by online stores with their API key.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use poshub_db::{Actor, CatalogQuery, IdempotencyKey, OrderQuery, OrderScope, PlaceOrder, Placed};
use poshub_model::decimal::{money_string, quantity_string};
use poshub_model::order::{Order, OrderRequest, OrderStatus};
use poshub_model::store::Principal;
use poshub_model::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cursor;
use crate::error::{ApiResult, Problem};
use crate::extract::{order_id, ApiJson, ApiQuery, StoreKey};
use crate::AppState;

pub use poshub_model::lifecycle::CancelRequest;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// A location code, or `all` (default) for every location the key acts for.
    pub location: Option<String>,
    /// A location group code: availability summed over its members in scope.
    pub location_group: Option<String>,
    /// Only variants whose price or stock changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One sellable variant with price and stock.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemRow {
    pub item_code: String,
    pub name: String,
    pub unit: String,
    pub reference_code: String,
    pub attributes: BTreeMap<String, String>,
    /// Selling price in force, or null when none is set yet.
    pub price: Option<String>,
    /// The rule that set `price`: `price_list:CODE` or `last_inward`.
    pub price_source: Option<String>,
    pub mrp: Option<String>,
    pub tax_rate: String,
    /// Available stock (on hand minus reserved, less the store's stock
    /// buffer) over the requested scope.
    pub available: String,
    pub locations: Vec<LocationStock>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationStock {
    pub location: String,
    pub available: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemRow>,
    pub next_cursor: Option<String>,
}

pub(crate) fn limit(raw: Option<u32>) -> Result<u32, Problem> {
    match raw.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            format!("limit {n} is out of range; use 1 to {MAX_LIMIT}"),
        )),
    }
}

/// Items with price and stock for the key's locations.
#[utoipa::path(get, path = "/api/v1/items", tag = "store", params(ItemsQuery),
    security(("api_key" = [])),
    responses((status = 200, body = ItemPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "No location or location group has that code")))]
pub async fn list_items(
    State(state): State<AppState>,
    StoreKey(p): StoreKey,
    ApiQuery(q): ApiQuery<ItemsQuery>,
) -> ApiResult<Json<ItemPage>> {
    Ok(Json(item_page(&state, &p, q).await?))
}

/// A page of the catalogue as a key sees it (also the API dialects' answer).
pub(crate) async fn item_page(
    state: &AppState,
    p: &Principal,
    q: ItemsQuery,
) -> ApiResult<ItemPage> {
    let limit = limit(q.limit)?;
    let locations = match (q.location.as_deref(), q.location_group.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "give either location or location_group, not both",
            ))
        }
        (None | Some("all"), None) => p.locations.clone(),
        (Some(code), None) => vec![p.location(Some(code))?],
        (None, Some(group)) => {
            let groups = state.storage.list_location_groups().await?;
            let g = groups
                .iter()
                .find(|g| g.code.as_str() == group)
                .ok_or_else(|| Problem::not_found(format!("location group `{group}` not found")))?;
            let in_scope: Vec<_> = p
                .locations
                .iter()
                .filter(|l| g.locations.iter().any(|m| m.as_str() == l.code))
                .cloned()
                .collect();
            if in_scope.is_empty() {
                return Err(DomainError::Forbidden {
                    code: "location_out_of_scope",
                    detail: format!(
                        "this API key acts for none of the locations of group `{group}`"
                    ),
                }
                .into());
            }
            in_scope
        }
    };
    // A location's price lists apply when one location is asked for.
    let price_location = match (q.location.as_deref(), locations.as_slice()) {
        (Some(code), [only]) if code != "all" => Some(only.id),
        _ => None,
    };
    let after_id = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut rows = state
        .storage
        .store_catalog(
            p.store_id,
            price_location,
            &CatalogQuery {
                locations,
                updated_since: q.updated_since,
                after_id,
                limit: limit + 1,
            },
        )
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor::encode(r.variant_id))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| ItemRow {
            available: quantity_string(r.locations.iter().map(|(_, a)| *a).sum::<Decimal>()),
            locations: r
                .locations
                .into_iter()
                .map(|(location, a)| LocationStock {
                    location,
                    available: quantity_string(a),
                })
                .collect(),
            item_code: r.item_code,
            name: r.name,
            unit: r.unit,
            reference_code: r.reference_code,
            attributes: r.attributes,
            price: r.price.map(money_string),
            price_source: r.price_source,
            mrp: r.mrp.map(money_string),
            tax_rate: quantity_string(r.tax_rate),
            updated_at: r.updated_at,
        })
        .collect();
    Ok(ItemPage { items, next_cursor })
}

/// The hash under which a request body is remembered for its idempotency
/// key: SHA-256 of the body with its JSON normalised (key order, spacing).
fn body_hash(body: &[u8]) -> String {
    let normal = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    hex::encode(Sha256::digest(&normal))
}

fn idempotency_key(headers: &HeaderMap, body: &[u8]) -> Result<Option<IdempotencyKey>, Problem> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_string(),
        request_hash: body_hash(body),
    }))
}

/// Create a sales order: validates it, reserves its stock, and creates the
/// customer for a new phone number.
#[utoipa::path(post, path = "/api/v1/sales-orders", tag = "store", request_body = OrderRequest,
    security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    responses((status = 201, body = Order), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn create_order(
    State(state): State<AppState>,
    StoreKey(p): StoreKey,
    headers: HeaderMap,
    ApiJson(request, body): ApiJson<OrderRequest>,
) -> ApiResult<Response> {
    let idempotency = idempotency_key(&headers, &body)?;
    let placed = state
        .storage
        .place_order(&PlaceOrder {
            principal: p,
            request,
            default_country: state.default_country.clone(),
            idempotency,
        })
        .await?;
    Ok(match placed {
        Placed::Created(order) => {
            state.metrics.orders_created();
            let location = format!("/api/v1/sales-orders/{}", order.id);
            let mut res = (StatusCode::CREATED, Json(order)).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Placed::Replayed(body) => {
            let mut res = (StatusCode::CREATED, body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            res
        }
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// `pending`, `billed`, `ready`, `shipped`, `out_for_delivery`,
    /// `delivered`, `cancelled`, `returned` or `partially_returned`.
    pub status: Option<String>,
    /// Only orders changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderPage {
    pub sales_orders: Vec<Order>,
    pub next_cursor: Option<String>,
}

pub(crate) async fn order_page(
    state: &AppState,
    scope: OrderScope,
    q: OrdersQuery,
) -> ApiResult<OrderPage> {
    let limit = limit(q.limit)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            OrderStatus::parse(s).ok_or_else(|| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_status",
                    format!(
                        "`{s}` is not a status; use {}",
                        OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
                    ),
                )
            })
        })
        .transpose()?;
    let mut orders = state
        .storage
        .list_orders(&OrderQuery {
            scope,
            status,
            updated_since: q.updated_since,
            after_id: q.cursor.as_deref().map(cursor::decode).transpose()?,
            limit: limit + 1,
        })
        .await?;
    let next_cursor = if orders.len() > limit as usize {
        orders.truncate(limit as usize);
        orders.last().map(|o| cursor::encode(o.id))
    } else {
        None
    };
    Ok(OrderPage {
        sales_orders: orders,
        next_cursor,
    })
}

/// The key's own orders (its store, its locations).
#[utoipa::path(get, path = "/api/v1/sales-orders", tag = "store", params(OrdersQuery),
    security(("api_key" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_orders(
    State(state): State<AppState>,
    StoreKey(p): StoreKey,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> ApiResult<Json<OrderPage>> {
    Ok(Json(order_page(&state, OrderScope::of(&p), q).await?))
}

/// One order with its status and history.
#[utoipa::path(get, path = "/api/v1/sales-orders/{id}", tag = "store", params(("id" = i64, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_order(
    State(state): State<AppState>,
    StoreKey(p): StoreKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Order>> {
    Ok(Json(
        state
            .storage
            .get_order(&OrderScope::of(&p), order_id(&id)?)
            .await?,
    ))
}

/// Cancel an order (releases its stock), or with `lines` only those lines
/// or quantities. Cancelling a cancelled order is a no-op that answers the
/// order.
#[utoipa::path(post, path = "/api/v1/sales-orders/{id}/cancel", tag = "store", params(("id" = i64, Path)),
    request_body(content = Option<CancelRequest>),
    security(("api_key" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn cancel_order(
    State(state): State<AppState>,
    StoreKey(p): StoreKey,
    Path(id): Path<String>,
    crate::extract::RawBody(body): crate::extract::RawBody,
) -> ApiResult<Json<Order>> {
    let scope = OrderScope::of(&p);
    let order =
        crate::lifecycle_api::cancel(&state, &scope, order_id(&id)?, Actor::Store, &body).await?;
    Ok(Json(order))
}
