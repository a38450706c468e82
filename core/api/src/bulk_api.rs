//! Bulk tools of the admin API: reference codes regenerated from a template
//! (preview, then apply), CSV imports of items and of a store's mappings,
//! and auto-match of mappings by SKU. The imports are also what
//! `poshub import` runs, through [`import_items_csv`] and
//! [`import_mappings_csv`].

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use poshub_db::Storage;
use poshub_model::automatch::{AutoMatchAnswer, AutoMatchRequest};
use poshub_model::codegen::{CodeGeneration, CodePlan, Collision};
use poshub_model::import::{ImportReport, Row, Table, ITEM_COLUMNS, MAPPING_COLUMNS};
use poshub_model::DomainError;
use serde::Serialize;

use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::extract::{parse_json, Admin, ApiJson};
use crate::AppState;

/// Largest CSV file the import endpoints read.
pub const IMPORT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A CSV body (`text/csv`; `application/csv` and `text/plain` are taken too).
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let mime = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(mime.as_str(), "text/csv" | "application/csv" | "text/plain") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file as CSV with Content-Type: text/csv",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!(
                        "the file is larger than {} MiB; split it",
                        IMPORT_BODY_LIMIT / 1024 / 1024
                    ),
                )
            } else {
                Problem::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
            }
        })?;
        Ok(CsvBody(bytes))
    }
}

/// Imports an items file: each good row is created on its own; refused
/// rows are reported. A file that is not CSV or whose header is wrong
/// imports nothing (422).
pub async fn import_items_csv(storage: &dyn Storage, file: &[u8]) -> ApiResult<ImportReport> {
    let table = Table::read(file, ITEM_COLUMNS)?;
    let mut report = ImportReport::default();
    for row in table.rows() {
        let outcome = match row
            .new_item()
            .and_then(|item| item.variants().map(|v| (item, v)))
        {
            Ok((item, variants)) => domain_outcome(storage.create_item(&item, &variants).await)?,
            Err(e) => Err(e),
        };
        report.record(&row, outcome);
    }
    Ok(report)
}

/// Imports a store's mappings file: each good row is mapped on its own (and
/// queued for a first push like `PUT .../mappings`); refused rows are
/// reported.
pub async fn import_mappings_csv(
    storage: &dyn Storage,
    store_code: &str,
    file: &[u8],
) -> ApiResult<ImportReport> {
    if storage.store_id(store_code).await?.is_none() {
        return Err(Problem::not_found(format!("store {store_code} not found")));
    }
    let table = Table::read(file, MAPPING_COLUMNS)?;
    let rows: Vec<Row> = table.rows().collect();
    let parsed: Vec<_> = rows.iter().map(Row::mapping).collect();
    let good: Vec<_> = parsed
        .iter()
        .filter_map(|m| m.as_ref().ok().cloned())
        .collect();
    let mut stored = storage
        .import_mappings(store_code, &good)
        .await?
        .into_iter();
    let mut report = ImportReport::default();
    for (row, parsed) in rows.iter().zip(parsed) {
        let outcome = match parsed {
            Ok(_) => stored.next().unwrap_or(Ok(())),
            Err(e) => Err(e),
        };
        report.record(row, outcome);
    }
    Ok(report)
}

/// A row's outcome: a domain refusal is the row's; anything else fails the
/// import (rows already imported stay: each is its own transaction).
fn domain_outcome<T>(r: poshub_db::Result<T>) -> ApiResult<Result<(), DomainError>> {
    match r {
        Ok(_) => Ok(Ok(())),
        Err(poshub_db::Error::Domain(e)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Import items from CSV, one row per item. Header (line 1):
/// `item_code,name` and optionally `unit,tax_rate,mrp,price,attributes,reference_code_template,reference_codes`.
/// `attributes` is `color=Red|Green|Blue;size=S|M` for a matrix item;
/// `reference_codes` sets codes by hand: `color=Blue,size=M:TOY-SPECIAL;...`.
/// Answers 200 with the report even when rows were refused.
#[utoipa::path(post, path = "/admin/v1/import/items", tag = "admin",
    request_body(content = String, content_type = "text/csv", description = "The items file, UTF-8, header on line 1"),
    security(("admin_token" = [])),
    responses((status = 200, body = ImportReport), (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem, description = "not CSV, or the header lacks a required column or names an unknown one: nothing imported")))]
pub async fn import_items(
    State(s): State<AppState>,
    _: Admin,
    CsvBody(file): CsvBody,
) -> ApiResult<Json<ImportReport>> {
    Ok(Json(import_items_csv(s.storage.as_ref(), &file).await?))
}

/// Import a store's mappings from CSV. Header (line 1):
/// `reference_code,external_id` and optionally `parent_id,inventory_id`.
/// Each good row is mapped like `PUT .../mappings` (new mappings are queued
/// for a first push). Answers 200 with the report even when rows were refused.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/mappings/import", tag = "admin", params(("code" = String, Path)),
    request_body(content = String, content_type = "text/csv", description = "The mappings file, UTF-8, header on line 1"),
    security(("admin_token" = [])),
    responses((status = 200, body = ImportReport), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn import_mappings(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    CsvBody(file): CsvBody,
) -> ApiResult<Json<ImportReport>> {
    Ok(Json(
        import_mappings_csv(s.storage.as_ref(), &code, &file).await?,
    ))
}

/// A refused generation: the problem and every collision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CollisionProblem {
    #[serde(flatten)]
    pub problem: ProblemDetails,
    pub collisions: Vec<Collision>,
}

/// Regenerate the reference codes of matrix items from a template. Without
/// `apply` (the default) the answer is the plan: every variant's old and
/// new code and the collisions. With `apply: true` the codes are written
/// all or nothing: any collision is a 409 `reference_code_collision` listing
/// them, and nothing changes. Mappings and pending pushes follow the
/// variants; orders keep the codes they were placed with.
#[utoipa::path(post, path = "/admin/v1/reference-codes/generate", tag = "admin", request_body = CodeGeneration,
    security(("admin_token" = [])),
    responses((status = 200, body = CodePlan), (status = 401, body = Problem),
        (status = 409, body = CollisionProblem, description = "collisions; nothing changed"), (status = 422, body = Problem)))]
pub async fn generate_reference_codes(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(body, _): ApiJson<CodeGeneration>,
) -> ApiResult<Response> {
    let plan = s.storage.generate_reference_codes(&body).await?;
    if body.apply && !plan.applied {
        let problem = Problem::new(
            StatusCode::CONFLICT,
            "reference_code_collision",
            plan.refusal(),
        );
        let mut res = (
            StatusCode::CONFLICT,
            Json(CollisionProblem {
                problem: *problem.0,
                collisions: plan.collisions,
            }),
        )
            .into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        return Ok(res);
    }
    Ok(Json(plan).into_response())
}

/// Match storefront variants to reference codes by SKU: each candidate is
/// `matched` (its SKU is a reference code the store does not map yet),
/// `already_mapped`, `unknown`, `conflict` or `invalid`. Without
/// `candidates`, the store's catalogue hints are used (what its webhooks
/// reported). With `apply: true` the matched mappings are created in one
/// transaction and queued for a first push. An empty body is `{}`.
#[utoipa::path(post, path = "/admin/v1/stores/{code}/mappings/auto-match", tag = "admin", params(("code" = String, Path)),
    request_body(content = Option<AutoMatchRequest>), security(("admin_token" = [])),
    responses((status = 200, body = AutoMatchAnswer), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn auto_match(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    crate::extract::RawBody(body): crate::extract::RawBody,
) -> ApiResult<Json<AutoMatchAnswer>> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        AutoMatchRequest::default()
    } else {
        parse_json::<AutoMatchRequest>(&body)?
    };
    Ok(Json(s.storage.auto_match(&code, &request).await?))
}
