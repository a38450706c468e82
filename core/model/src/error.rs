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
    #[error("not enough stock: {}", shortfall(.0))]
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

fn shortfall(lines: &[LineAvailability]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "line {} ({}): {} requested, {} available",
                l.line,
                l.reference_code,
                l.requested.normalize(),
                l.available.normalize()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
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

    /// The merchant has switched the store off: nothing is accepted for it.
    pub fn store_disabled(store: &str) -> Self {
        DomainError::Forbidden {
            code: "store_disabled",
            detail: format!(
                "store {store} is switched off by the merchant; nothing is accepted for it until it is switched on"
            ),
        }
    }

    /// The HTTP status a client is answered with.
    pub fn status(&self) -> u16 {
        match self {
            DomainError::Invalid(_) | DomainError::IdempotencyKeyReused => 422,
            DomainError::NotFound { .. } => 404,
            DomainError::Conflict { .. }
            | DomainError::InsufficientStock(_)
            | DomainError::InvalidTransition { .. } => 409,
            DomainError::Forbidden { .. } => 403,
        }
    }

    /// The stable machine-readable code: a lone invalid field's own code,
    /// else one per kind of refusal.
    pub fn code(&self) -> &str {
        match self {
            DomainError::Invalid(errors) if errors.len() == 1 => &errors[0].code,
            DomainError::Invalid(_) => "validation_failed",
            DomainError::NotFound { .. } => "not_found",
            DomainError::Conflict { code, .. } | DomainError::Forbidden { code, .. } => code,
            DomainError::InsufficientStock(_) => "insufficient_stock",
            DomainError::InvalidTransition { .. } => "invalid_status_transition",
            DomainError::IdempotencyKeyReused => "idempotency_key_reused",
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

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    #[test]
    fn each_refusal_has_its_status_and_stable_code() {
        let short = LineAvailability {
            line: 0,
            reference_code: "TS-RED-M".into(),
            requested: Decimal::from(2),
            available: Decimal::from(1),
        };
        let cases = [
            (
                DomainError::invalid("lines[0].quantity", "invalid_quantity", "x"),
                422,
                "invalid_quantity",
            ),
            (
                DomainError::Invalid(vec![
                    FieldError::new("a", "x", "m"),
                    FieldError::new("b", "y", "n"),
                ]),
                422,
                "validation_failed",
            ),
            (DomainError::not_found("order", 7), 404, "not_found"),
            (
                DomainError::conflict("duplicate_online_reference_no", "taken"),
                409,
                "duplicate_online_reference_no",
            ),
            (
                DomainError::InsufficientStock(vec![short]),
                409,
                "insufficient_stock",
            ),
            (
                DomainError::InvalidTransition {
                    current: OrderStatus::Cancelled,
                    action: "bill",
                },
                409,
                "invalid_status_transition",
            ),
            (DomainError::store_disabled("web"), 403, "store_disabled"),
            (
                DomainError::IdempotencyKeyReused,
                422,
                "idempotency_key_reused",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status(), e.code()), (status, code), "{e:?}");
        }
    }

    #[test]
    fn a_stock_shortfall_names_each_line() {
        let e = DomainError::InsufficientStock(vec![LineAvailability {
            line: 0,
            reference_code: "TSHIRT-RED-M".into(),
            requested: Decimal::new(200, 2),
            available: Decimal::from(1),
        }]);
        assert_eq!(
            e.to_string(),
            "not enough stock: line 0 (TSHIRT-RED-M): 2 requested, 1 available"
        );
    }
}
