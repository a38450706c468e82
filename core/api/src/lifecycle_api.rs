//! The order lifecycle over HTTP: partial cancellation (through both
//! cancel calls), returns (store key and admin), delivery tracking and
//! credit notes (admin).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use poshub_db::{Actor, LinesApplied, OrderScope};
use poshub_model::lifecycle::{
    CancelRequest, CreditNote, DeliveryStep, LineCancellation, ReturnRequest, ShipRequest,
};
use poshub_model::order::Order;
use serde::Serialize;

use crate::error::{ApiResult, Problem};
use crate::extract::{order_id, parse_json, Admin, ApiJson, StoreKey};
use crate::AppState;

/// Cancels the whole order, or the lines the (optional) body names.
pub(crate) async fn cancel(
    state: &AppState,
    scope: &OrderScope,
    id: i64,
    by: Actor,
    body: &[u8],
) -> ApiResult<Order> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        CancelRequest::default()
    } else {
        parse_json::<CancelRequest>(body)?
    };
    Ok(match request.lines {
        None => {
            state
                .storage
                .cancel_order(scope, id, by, request.reason.as_deref())
                .await?
        }
        Some(lines) => {
            let cancellation = LineCancellation {
                lines,
                reason: request.reason,
                refund_id: None,
            };
            state
                .storage
                .cancel_lines(scope, id, by, &cancellation)
                .await?
                .order
        }
    })
}

/// A return booked: its credit note and the order as it is now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReturnAnswer {
    /// None only when the refund id named a cancellation of a pending order.
    pub credit_note: Option<CreditNote>,
    pub order: Order,
}

/// 201 for a new return; 200 with the first answer when the refund id was
/// applied before.
fn return_answer(applied: LinesApplied) -> Response {
    let status = if applied.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = ReturnAnswer {
        credit_note: applied.credit_note,
        order: applied.order,
    };
    (status, Json(body)).into_response()
}

/// Book a return of delivered lines of one of the key's orders: the goods
/// go back on hand (at `location`, which the key must act for, else where
/// each line was sold from) or are written off, and a credit note refunds
/// their share of the lines.
#[utoipa::path(post, path = "/api/v1/sales-orders/{id}/returns", tag = "store", params(("id" = i64, Path)),
    request_body = ReturnRequest, security(("api_key" = [])),
    responses((status = 201, body = ReturnAnswer), (status = 200, body = ReturnAnswer, description = "refund_id applied before: the first answer"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn store_return(
    State(state): State<AppState>,
    StoreKey(p): StoreKey,
    Path(id): Path<String>,
    ApiJson(request, _): ApiJson<ReturnRequest>,
) -> ApiResult<Response> {
    let applied = state
        .storage
        .return_lines(&OrderScope::of(&p), order_id(&id)?, Actor::Store, &request)
        .await?;
    Ok(return_answer(applied))
}

/// Book a return of delivered lines (any hub location may take the goods).
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/returns", tag = "admin", params(("id" = i64, Path)),
    request_body = ReturnRequest, security(("admin_token" = [])),
    responses((status = 201, body = ReturnAnswer), (status = 200, body = ReturnAnswer, description = "refund_id applied before: the first answer"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn admin_return(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(request, _): ApiJson<ReturnRequest>,
) -> ApiResult<Response> {
    let applied = state
        .storage
        .return_lines(&OrderScope::admin(), order_id(&id)?, Actor::Admin, &request)
        .await?;
    Ok(return_answer(applied))
}

async fn step(state: &AppState, id: &str, step: DeliveryStep) -> ApiResult<Json<Order>> {
    Ok(Json(
        state.storage.advance_delivery(order_id(id)?, &step).await?,
    ))
}

/// Mark a billed order ready (packed; waiting for the carrier or the customer).
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/ready", tag = "admin", params(("id" = i64, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn ready_order(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Order>> {
    step(&s, &id, DeliveryStep::Ready).await
}

/// Hand a billed or ready order to a carrier; the storefront hears the
/// carrier and the tracking number.
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/ship", tag = "admin", params(("id" = i64, Path)),
    request_body = ShipRequest, security(("admin_token" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn ship_order(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(request, _): ApiJson<ShipRequest>,
) -> ApiResult<Json<Order>> {
    let ship = request.step()?;
    step(&s, &id, ship).await
}

/// A shipped order is with the courier on its way to the customer.
#[utoipa::path(post, path = "/admin/v1/sales-orders/{id}/out-for-delivery", tag = "admin", params(("id" = i64, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn out_for_delivery(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Order>> {
    step(&s, &id, DeliveryStep::OutForDelivery).await
}

/// Read a credit note.
#[utoipa::path(get, path = "/admin/v1/credit-notes/{credit_note_no}", tag = "admin", params(("credit_note_no" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = CreditNote), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_credit_note(
    State(s): State<AppState>,
    _: Admin,
    Path(no): Path<String>,
) -> ApiResult<Json<CreditNote>> {
    Ok(Json(s.storage.get_credit_note(&no).await?))
}
