//! The model's error: what a caller did wrong, in terms a client can act on.

use serde::Serialize;

use crate::order::OrderStatus;
use crate::stock::LineAvailability;

/// One problem with one field of a request, e.g. `lines[2].quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `lines[0].reference_code`.
    pub field: String,
    /// Stable machine-readable code, e.g. `unknown_reference_code`.
    pub code: String,
    /// Human explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Everything the domain can refuse. The API maps each variant to an HTTP
/// status and a stable `code` in one place.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DomainError {
    /// The request is well-formed JSON but some fields break the rules (422).
    #[error("validation failed: {}", summary(.0))]
    Invalid(Vec<FieldError>),
    /// A referenced thing does not exist (404).
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    /// A uniqueness rule is broken, e.g. a duplicate code (409).
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        /// The id of the existing record, when there is one to name.
        existing_id: Option<i64>,
    },
    /// Not enough available stock for some lines (409).
    #[error("insufficient stock for {} line(s)", .0.len())]
    InsufficientStock(Vec<LineAvailability>),
    /// The order's status does not allow this action (409).
    #[error("cannot {action} an order that is {current}")]
    InvalidTransition {
        current: OrderStatus,
        action: &'static str,
    },
    /// The caller is authenticated but acts outside its scope (403).
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// The same Idempotency-Key was used with a different request body (422).
    #[error("the Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn not_found(entity: &'static str, key: impl std::fmt::Display) -> Self {
        DomainError::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        DomainError::Conflict {
            code,
            detail: detail.into(),
            existing_id: None,
        }
    }
}

/// Collects field errors so that a client sees every problem at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
