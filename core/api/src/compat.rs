//! Inbound API dialects: `/compat/{store}/...`. A storefront written for
//! another POS vendor's API keeps its calls; the store's dialect connector
//! turns each request into a canonical command, the hub runs it exactly as
//! the store API v1 would (same scope, validation, reservation), and the
//! connector renders the canonical answer back in the dialect, errors
//! included.
//!
//! The dialect is the store's own connector when it speaks one, else the
//! connector its config names in `api_dialect` (so a Shopify store's orders
//! can also be read by a legacy client). The key travels in `X-Auth-Token`,
//! the original API's header, and is one of the store's API keys.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use poshub_connectors::types::{ApiCommand, ApiRequest, ApiResponse};
use poshub_db::{OrderScope, PlaceOrder, Placed};
use poshub_ingest::{Dialect, Plan};
use poshub_model::store::Principal;
use serde::Serialize;

use crate::error::Problem;
use crate::extract::hash_key;
use crate::store_api::{item_page, order_page, ItemsQuery, OrdersQuery};
use crate::AppState;

/// The header the original vendor API authenticates with.
const AUTH_HEADER: &str = "x-auth-token";

/// Any call of a store's API dialect.
#[utoipa::path(get, path = "/compat/{store}/{path}", tag = "compat",
    params(("store" = String, Path, description = "Store code"), ("path" = String, Path, description = "The dialect's path, e.g. salesOrders"),
        ("X-Auth-Token" = String, Header, description = "One of the store's API keys")),
    responses((status = 200, description = "The dialect's answer"),
        (status = "4XX", description = "The dialect's answer to a bad call, or a problem (bad key, store switched off, unknown store)"),
        (status = 404, body = Problem), (status = 502, body = Problem),
        (status = 503, body = Problem, description = "The store's connector is not loaded")))]
pub async fn handle(
    State(state): State<AppState>,
    Path((store, path)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    crate::extract::RawBody(body): crate::extract::RawBody,
) -> Response {
    let request = ApiRequest {
        method: method.to_string(),
        path: format!("/{path}"),
        query: uri.query().unwrap_or_default().to_string(),
        // The key stays with the host.
        headers: crate::hooks::text_headers(&headers)
            .into_iter()
            .filter(|(k, _)| k != AUTH_HEADER && k != axum::http::header::AUTHORIZATION.as_str())
            .collect(),
        body: body.to_vec(),
    };
    let key_hash = headers
        .get(AUTH_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(hash_key);
    let mut call = match state.ingest().dialect(&store, request).await {
        Ok(call) => call,
        Err(refusal) => return Problem::from(refusal).into_response(),
    };
    let (status, answer) = match call.plan(key_hash.as_deref()).await {
        Err(refusal) => return Problem::from(refusal).into_response(),
        Ok(Plan::Respond(direct)) => return dialect_response(direct),
        Ok(Plan::Unauthenticated(refusal)) => problem_answer(refusal.into()),
        Ok(Plan::Run(principal, command)) => run(&state, &principal, command, &mut call).await,
    };
    match call.render(status, answer).await {
        Ok(response) => dialect_response(response),
        Err(refusal) => Problem::from(refusal).into_response(),
    }
}

/// Runs a canonical command as the store API would; the answer is its
/// status and canonical JSON body.
async fn run(
    state: &AppState,
    p: &Principal,
    command: ApiCommand,
    call: &mut Dialect<'_>,
) -> (u16, String) {
    let outcome = match command {
        ApiCommand::ListItems(q) => {
            async {
                let query = ItemsQuery {
                    location: q.location,
                    location_group: None,
                    updated_since: time(q.updated_since.as_deref())?,
                    limit: q.limit,
                    cursor: q.cursor,
                };
                ok(StatusCode::OK, &item_page(state, p, query).await?)
            }
            .await
        }
        ApiCommand::ListOrders(q) => {
            async {
                let query = OrdersQuery {
                    status: q.status,
                    updated_since: time(q.updated_since.as_deref())?,
                    limit: q.limit,
                    cursor: q.cursor,
                };
                ok(
                    StatusCode::OK,
                    &order_page(state, OrderScope::of(p), query).await?,
                )
            }
            .await
        }
        ApiCommand::GetOrder(id) => {
            async {
                let order = state.storage.get_order(&OrderScope::of(p), id).await?;
                ok(StatusCode::OK, &order)
            }
            .await
        }
        ApiCommand::CreateOrder(order) => {
            async {
                let request =
                    poshub_ingest::lines::order_request(&*state.storage, p.store_id, order).await?;
                let placed = state
                    .storage
                    .place_order(&PlaceOrder {
                        principal: p.clone(),
                        request,
                        default_country: state.default_country.clone(),
                        idempotency: None,
                    })
                    .await?;
                match placed {
                    Placed::Created(order) => {
                        state.metrics.orders_created();
                        call.placed(order.id);
                        ok(StatusCode::CREATED, &order)
                    }
                    Placed::Replayed(body) => Ok((StatusCode::CREATED.as_u16(), body)),
                }
            }
            .await
        }
        ApiCommand::Respond(_) => unreachable!("answered before running"),
    };
    outcome.unwrap_or_else(problem_answer)
}

fn ok(status: StatusCode, body: &impl Serialize) -> Result<(u16, String), Problem> {
    let text = serde_json::to_string(body).map_err(|e| {
        tracing::error!(error = %e, "serialising a canonical answer");
        Problem::internal()
    })?;
    Ok((status.as_u16(), text))
}

fn problem_answer(problem: Problem) -> (u16, String) {
    let body = serde_json::to_string(&*problem.0).unwrap_or_default();
    (problem.status, body)
}

fn time(raw: Option<&str>) -> Result<Option<DateTime<Utc>>, Problem> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("`{t}` is not an RFC 3339 time: {e}"),
                )
            })
    })
    .transpose()
}

fn dialect_response(r: ApiResponse) -> Response {
    let mut res = Response::new(Body::from(r.body));
    *res.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            res.headers_mut().append(k, v);
        }
    }
    res
}
