//! One mapping from every failure to an `application/problem+json` answer
//! (RFC 9457) with a stable `code`. Internal errors are logged, never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use poshub_model::{DomainError, FieldError};
use serde::Serialize;

/// A problem answer (boxed: it travels in every `Err`).
#[derive(Debug, Clone)]
pub struct Problem(pub Box<ProblemDetails>);

/// The body of a problem answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemDetails {
    /// A URI naming the problem kind: `urn:poshub:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code, e.g. `insufficient_stock`.
    pub code: String,
    pub detail: String,
    /// Per-field problems (validation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Per-line availability when stock is short.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<poshub_model::stock::LineAvailability>>)]
    pub lines: Option<serde_json::Value>,
    /// The existing record a conflict is about, e.g. the order with the same
    /// online reference number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<i64>,
    /// The order's status when an action is not allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
}

impl utoipa::PartialSchema for Problem {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ProblemDetails::schema()
    }
}

impl utoipa::ToSchema for Problem {
    fn name() -> std::borrow::Cow<'static, str> {
        "Problem".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        ProblemDetails::schemas(schemas)
    }
}

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;
    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDetails {
        &mut self.0
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem(Box::new(ProblemDetails {
            kind: format!("urn:poshub:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: code.to_string(),
            detail: detail.into(),
            errors: vec![],
            lines: None,
            existing_id: None,
            current_status: None,
        }))
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// The merchant has switched the store off.
    pub fn store_disabled(store: &str) -> Problem {
        DomainError::store_disabled(store).into()
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            poshub_ingest::INTERNAL_DETAIL,
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(&*self.0)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Problem {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = e.to_string();
        let mut p = Problem::new(status, e.code(), detail);
        match e {
            DomainError::Invalid(errors) => p.errors = errors,
            DomainError::Conflict { existing_id, .. } => p.existing_id = existing_id,
            DomainError::InsufficientStock(lines) => p.lines = serde_json::to_value(&lines).ok(),
            DomainError::InvalidTransition { current, .. } => {
                p.current_status = Some(current.as_str().to_string());
            }
            DomainError::NotFound { .. }
            | DomainError::Forbidden { .. }
            | DomainError::IdempotencyKeyReused => {}
        }
        p
    }
}

impl From<poshub_db::Error> for Problem {
    fn from(e: poshub_db::Error) -> Problem {
        match e {
            poshub_db::Error::Domain(d) => d.into(),
            other => {
                tracing::error!(error = %other, "storage failure");
                Problem::internal()
            }
        }
    }
}

/// Ingestion's refusals (webhooks, API dialects) with the status, code and
/// detail their connector event records.
impl From<poshub_ingest::Refusal> for Problem {
    fn from(r: poshub_ingest::Refusal) -> Problem {
        use poshub_ingest::Refusal;
        let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (code, detail) = (r.code().to_string(), r.to_string());
        match r {
            Refusal::Hub(poshub_db::Error::Domain(d)) => d.into(),
            // Logged where it became a refusal.
            Refusal::Hub(_) => Problem::internal(),
            // A lone bad field: `invalid_body` naming it, as the store API
            // answers a body it cannot read.
            Refusal::InvalidBody(DomainError::Invalid(errors)) if errors.len() == 1 => {
                Problem::new(status, &code, detail).with_errors(errors)
            }
            Refusal::InvalidBody(d) => d.into(),
            _ => Problem::new(status, &code, detail),
        }
    }
}

pub type ApiResult<T> = Result<T, Problem>;
