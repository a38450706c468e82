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

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use poshub_connectors::types::{ApiCommand, ApiRequest, ApiResponse, CallContext};
use poshub_connectors::{CallError, Limits, Plugin};
use poshub_db::{OrderScope, PlaceOrder, Placed};
use poshub_model::store::{NewConnectorEvent, Principal, StoreContext};
use serde::Serialize;

use crate::error::Problem;
use crate::extract::hash_key;
use crate::hooks::{finish, order_request};
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
    let ctx = match state.storage.store_context(&store).await {
        Ok(ctx) => ctx,
        Err(e) => return Problem::from(e).into_response(),
    };
    let plugin = match dialect(&state, &ctx) {
        Ok(p) => p,
        Err(problem) => return problem.into_response(),
    };
    let request = ApiRequest {
        method: method.to_string(),
        path: format!("/{path}"),
        query: uri.query().unwrap_or_default().to_string(),
        // The key stays with the host.
        headers: headers
            .iter()
            .filter(|(k, _)| *k != AUTH_HEADER && *k != axum::http::header::AUTHORIZATION)
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
    };
    let call_ctx = CallContext::for_store(
        &ctx.principal.store_code,
        poshub_model::now().to_rfc3339(),
        &ctx.config,
    );
    let limits = Limits::for_store(&ctx.config);
    let topic = format!("{} {}", request.method, request.path);
    let mut event = NewConnectorEvent::new(ctx.principal.store_id, "api", topic);

    let (status, answer) = match authenticate(&state, &ctx, &headers).await {
        Err(problem) => problem_answer(problem),
        Ok(principal) => {
            let planned = plugin
                .plan_api(limits, call_ctx.clone(), request.clone())
                .await;
            match finish(planned, &mut event) {
                Err(e) => return failure(&state, &plugin, e, event).await,
                Ok(ApiCommand::Respond(direct)) => {
                    event.outcome = "rejected";
                    event.http_status = i32::from(direct.status);
                    record(&state, &event).await;
                    return dialect_response(direct);
                }
                Ok(command) => run(&state, &principal, command, &mut event).await,
            }
        }
    };
    if status >= 400 {
        event.outcome = "rejected";
        event.detail = serde_json::from_str::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| {
                Some(format!(
                    "{}: {}",
                    v["code"].as_str()?,
                    v["detail"].as_str()?
                ))
            });
    }
    event.http_status = i32::from(status);
    let rendered = plugin
        .render_api(limits, call_ctx, request, status, answer)
        .await;
    match finish(rendered, &mut event) {
        Ok(response) => {
            record(&state, &event).await;
            dialect_response(response)
        }
        Err(e) => failure(&state, &plugin, e, event).await,
    }
}

/// The connector that speaks the store's dialect.
fn dialect(state: &AppState, ctx: &StoreContext) -> Result<Arc<Plugin>, Problem> {
    let id = match state.registry.get(&ctx.connector) {
        Some(p) if p.info.api_dialect => return Ok(p),
        _ => ctx.config.get("api_dialect").and_then(|v| v.as_str()),
    };
    let Some(id) = id else {
        return Err(Problem::not_found(format!(
            "store {} speaks no API dialect: its connector `{}` has none and its config names no `api_dialect`",
            ctx.principal.store_code, ctx.connector
        )));
    };
    match state.registry.get(id) {
        Some(p) if p.info.api_dialect => Ok(p),
        Some(_) => Err(Problem::not_found(format!(
            "connector `{id}` named by the store's api_dialect speaks no API dialect"
        ))),
        None => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "connector_unavailable",
            format!("connector `{id}` named by the store's api_dialect is not loaded"),
        )),
    }
}

/// The caller's key, which must belong to this store.
async fn authenticate(
    state: &AppState,
    ctx: &StoreContext,
    headers: &HeaderMap,
) -> Result<Principal, Problem> {
    let key = headers
        .get(AUTH_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Problem::unauthorized("send one of the store's API keys in X-Auth-Token"))?;
    match state.storage.authenticate(&hash_key(key)).await? {
        Some(p) if p.store_id == ctx.principal.store_id && !p.store_enabled => {
            Err(Problem::store_disabled(&p.store_code))
        }
        Some(p) if p.store_id == ctx.principal.store_id => Ok(p),
        // Another store's key is as good as no key here.
        _ => Err(Problem::unauthorized(
            "X-Auth-Token is not an API key of this store",
        )),
    }
}

/// Runs a canonical command as the store API would; the answer is its
/// status and canonical JSON body.
async fn run(
    state: &AppState,
    p: &Principal,
    command: ApiCommand,
    event: &mut NewConnectorEvent,
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
                let request = order_request(state, p.store_id, order).await?;
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
                        event.order_id = Some(order.id);
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

/// A connector that failed: 502 in the hub's own problem format (the
/// dialect could not be spoken), recorded against the store.
async fn failure(
    state: &AppState,
    plugin: &Plugin,
    e: CallError,
    mut event: NewConnectorEvent,
) -> Response {
    tracing::warn!(connector = %plugin.info.id, error = %e, "API dialect call failed");
    let problem = match &e {
        CallError::InputTooLarge { .. } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            e.to_string(),
        ),
        _ => Problem::new(
            StatusCode::BAD_GATEWAY,
            e.code(),
            format!("connector {} {}: {e}", plugin.info.id, plugin.info.version),
        ),
    };
    event.outcome = "failed";
    event.http_status = i32::from(problem.status);
    event.detail = Some(format!("{}: {}", problem.code, problem.detail));
    record(state, &event).await;
    problem.into_response()
}

async fn record(state: &AppState, event: &NewConnectorEvent) {
    if let Err(e) = state.storage.record_event(event).await {
        tracing::error!(error = %e, "could not record an API dialect event");
    }
}
