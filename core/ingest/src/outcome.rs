//! What ingestion answers: for each canonical document of a webhook an
//! [`Applied`], or for the whole call a [`Refusal`]. Both are typed; the API
//! crate turns a refusal into problem+json in one place
//! (`poshub_api::error`), and the event log records [`Refusal::outcome`]
//! with the same status, code and detail.

use poshub_connectors::types::ErrorKind;
use poshub_connectors::CallError;
use poshub_model::store::EventOutcome;
use poshub_model::DomainError;

/// The kind of a canonical document (or of the unsigned set-up ping that
/// carries none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Ping,
    Order,
    Cancellation,
    Refund,
    StockLevel,
    Price,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Ping => "ping",
            DocumentKind::Order => "order",
            DocumentKind::Cancellation => "cancellation",
            DocumentKind::Refund => "refund",
            DocumentKind::StockLevel => "stock-level",
            DocumentKind::Price => "price",
        }
    }
}

/// What the hub did with one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub document: DocumentKind,
    pub outcome: DocumentOutcome,
}

/// The result of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentOutcome {
    /// A new order, placed as the store API places it.
    Accepted { order_id: i64 },
    /// Received before: nothing changed (the order, when the hub can name it).
    Duplicate {
        order_id: Option<i64>,
        detail: Option<String>,
    },
    /// The order, or some of its lines, cancelled.
    Cancelled {
        order_id: i64,
        detail: Option<String>,
    },
    /// Goods of a delivered order booked as a return.
    Returned { order_id: i64, detail: String },
    /// Nothing for the hub to apply, and why.
    Ignored {
        order_id: Option<i64>,
        reason: String,
    },
}

impl DocumentOutcome {
    /// The wire name: `accepted`, `duplicate`, `cancelled`, `returned` or
    /// `ignored`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentOutcome::Accepted { .. } => "accepted",
            DocumentOutcome::Duplicate { .. } => "duplicate",
            DocumentOutcome::Cancelled { .. } => "cancelled",
            DocumentOutcome::Returned { .. } => "returned",
            DocumentOutcome::Ignored { .. } => "ignored",
        }
    }

    pub fn order_id(&self) -> Option<i64> {
        match self {
            DocumentOutcome::Accepted { order_id }
            | DocumentOutcome::Cancelled { order_id, .. }
            | DocumentOutcome::Returned { order_id, .. } => Some(*order_id),
            DocumentOutcome::Duplicate { order_id, .. }
            | DocumentOutcome::Ignored { order_id, .. } => *order_id,
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            DocumentOutcome::Accepted { .. } => None,
            DocumentOutcome::Duplicate { detail, .. }
            | DocumentOutcome::Cancelled { detail, .. } => detail.as_deref(),
            DocumentOutcome::Returned { detail, .. } => Some(detail),
            DocumentOutcome::Ignored { reason, .. } => Some(reason),
        }
    }
}

/// The event outcome of a webhook whose documents were all applied: a
/// redelivery (every document a duplicate) or nothing to apply (every
/// document ignored) says so; anything else was accepted.
pub fn event_outcome(applied: &[Applied]) -> EventOutcome {
    if applied
        .iter()
        .all(|a| matches!(a.outcome, DocumentOutcome::Duplicate { .. }))
    {
        EventOutcome::Duplicate
    } else if applied
        .iter()
        .all(|a| matches!(a.outcome, DocumentOutcome::Ignored { .. }))
    {
        EventOutcome::Ignored
    } else {
        EventOutcome::Accepted
    }
}

/// Why a webhook or a dialect call was refused as a whole. Each refusal
/// has the status, stable code and detail of its problem+json answer.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// A rule of the hub refused (unknown store, a store switched off, an
    /// order the rules refuse), or storage failed (logged where it is
    /// converted; the detail says only that it was).
    #[error("{}", hub_detail(.0))]
    Hub(poshub_db::Error),
    /// A connector's order or refund whose text the model's types refuse:
    /// the store API's answer to the same body.
    #[error("{}", invalid_body_detail(.0))]
    InvalidBody(DomainError),
    /// The store's connector, or the dialect its config names, is not loaded.
    #[error("{detail}")]
    ConnectorUnavailable { detail: String },
    /// The store speaks no API dialect.
    #[error("{detail}")]
    NoDialect { detail: String },
    /// The connector does not know the webhook's topic.
    #[error("{connector}: {message}")]
    UnknownTopic { connector: String, message: String },
    /// The store has no `webhook_secret`: nothing can be verified.
    #[error("this store has no webhook_secret configured; webhooks cannot be verified")]
    SecretMissing,
    /// The signature header does not sign this body.
    #[error("the {header} header does not hold a valid signature of this body")]
    InvalidSignature { header: String },
    /// A dialect call without a key.
    #[error("send one of the store's API keys in X-Auth-Token")]
    NoKey,
    /// A dialect call with a key that is not one of the store's.
    #[error("X-Auth-Token is not an API key of this store")]
    WrongKey,
    /// The connector refused the payload.
    #[error("{connector} refused the payload ({kind}): {message}")]
    ConnectorRejected {
        connector: String,
        kind: ErrorKind,
        message: String,
    },
    /// The body is over the connector's input limit.
    #[error("{0}")]
    BodyTooLarge(CallError),
    /// The connector broke (trap, deadline, memory, flood, an error of its
    /// own where none was expected): the storefront should retry later.
    #[error("connector {connector} {version}: {error}")]
    ConnectorFailed {
        connector: String,
        version: String,
        error: CallError,
    },
    /// A cancellation or refund of an order the store does not have.
    #[error("this store has no order `{reference}`")]
    NoOrder { reference: String },
}

/// What a client is told of a storage failure (the error itself is logged).
pub const INTERNAL_DETAIL: &str = "the hub failed to handle this request; it has been logged";

fn hub_detail(e: &poshub_db::Error) -> String {
    match e {
        poshub_db::Error::Domain(d) => d.to_string(),
        _ => INTERNAL_DETAIL.to_string(),
    }
}

fn invalid_body_detail(e: &DomainError) -> String {
    match e {
        DomainError::Invalid(errors) if errors.len() == 1 => {
            let f = &errors[0];
            if f.field.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.field, f.message)
            }
        }
        other => other.to_string(),
    }
}

impl From<poshub_db::Error> for Refusal {
    fn from(e: poshub_db::Error) -> Self {
        if !matches!(e, poshub_db::Error::Domain(_)) {
            tracing::error!(error = %e, "storage failure");
        }
        Refusal::Hub(e)
    }
}

impl From<DomainError> for Refusal {
    fn from(e: DomainError) -> Self {
        Refusal::Hub(poshub_db::Error::Domain(e))
    }
}

impl Refusal {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Hub(poshub_db::Error::Domain(d)) => d.status(),
            Refusal::Hub(_) => 500,
            Refusal::InvalidBody(DomainError::Invalid(errors)) if errors.len() == 1 => 422,
            Refusal::InvalidBody(d) => d.status(),
            Refusal::ConnectorUnavailable { .. } => 503,
            Refusal::NoDialect { .. } | Refusal::UnknownTopic { .. } | Refusal::NoOrder { .. } => {
                404
            }
            Refusal::SecretMissing
            | Refusal::InvalidSignature { .. }
            | Refusal::NoKey
            | Refusal::WrongKey => 401,
            Refusal::ConnectorRejected { .. } => 422,
            Refusal::BodyTooLarge(_) => 413,
            Refusal::ConnectorFailed { .. } => 502,
        }
    }

    /// The stable code of the answer.
    pub fn code(&self) -> &str {
        match self {
            Refusal::Hub(poshub_db::Error::Domain(d)) => d.code(),
            Refusal::Hub(_) => "internal_error",
            Refusal::InvalidBody(DomainError::Invalid(errors)) if errors.len() == 1 => {
                "invalid_body"
            }
            Refusal::InvalidBody(d) => d.code(),
            Refusal::ConnectorUnavailable { .. } => "connector_unavailable",
            Refusal::NoDialect { .. } | Refusal::NoOrder { .. } => "not_found",
            Refusal::UnknownTopic { .. } => "unknown_topic",
            Refusal::SecretMissing => "webhook_secret_missing",
            Refusal::InvalidSignature { .. } => "invalid_signature",
            Refusal::NoKey | Refusal::WrongKey => "unauthorized",
            Refusal::ConnectorRejected { .. } => "connector_rejected",
            Refusal::BodyTooLarge(_) => "body_too_large",
            Refusal::ConnectorFailed { error, .. } => error.code(),
        }
    }

    /// How the refusal is recorded in the store's event log: a failure of
    /// the hub's side (the storefront should retry), a signature that did
    /// not check out, or a refused payload.
    pub fn outcome(&self) -> EventOutcome {
        match self {
            Refusal::Hub(e) if !matches!(e, poshub_db::Error::Domain(_)) => EventOutcome::Failed,
            Refusal::ConnectorUnavailable { .. } | Refusal::ConnectorFailed { .. } => {
                EventOutcome::Failed
            }
            Refusal::SecretMissing | Refusal::InvalidSignature { .. } => EventOutcome::Unauthorized,
            _ => EventOutcome::Rejected,
        }
    }

    /// A connector call that broke, named by the connector.
    pub(crate) fn failed(plugin: &poshub_connectors::Plugin, error: CallError) -> Self {
        tracing::warn!(connector = %plugin.info.id, error = %error, "connector call failed");
        Refusal::ConnectorFailed {
            connector: plugin.info.id.clone(),
            version: plugin.info.version.clone(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poshub_model::FieldError;

    fn applied(outcome: DocumentOutcome) -> Applied {
        Applied {
            document: DocumentKind::Order,
            outcome,
        }
    }

    #[test]
    fn a_webhook_is_a_duplicate_or_ignored_only_when_every_document_is() {
        let dup = || {
            applied(DocumentOutcome::Duplicate {
                order_id: Some(1),
                detail: None,
            })
        };
        let ignored = || {
            applied(DocumentOutcome::Ignored {
                order_id: None,
                reason: "the hub owns stock".into(),
            })
        };
        let accepted = || applied(DocumentOutcome::Accepted { order_id: 2 });
        assert_eq!(event_outcome(&[dup(), dup()]), EventOutcome::Duplicate);
        assert_eq!(event_outcome(&[ignored()]), EventOutcome::Ignored);
        assert_eq!(event_outcome(&[dup(), ignored()]), EventOutcome::Accepted);
        assert_eq!(event_outcome(&[accepted(), dup()]), EventOutcome::Accepted);
    }

    #[test]
    fn each_refusal_has_its_status_code_and_recorded_outcome() {
        let cases: Vec<(Refusal, u16, &str, EventOutcome)> = vec![
            (
                Refusal::SecretMissing,
                401,
                "webhook_secret_missing",
                EventOutcome::Unauthorized,
            ),
            (
                Refusal::InvalidSignature {
                    header: "X-Sig".into(),
                },
                401,
                "invalid_signature",
                EventOutcome::Unauthorized,
            ),
            (Refusal::NoKey, 401, "unauthorized", EventOutcome::Rejected),
            (
                Refusal::NoOrder {
                    reference: "1001".into(),
                },
                404,
                "not_found",
                EventOutcome::Rejected,
            ),
            (
                Refusal::ConnectorUnavailable {
                    detail: "not loaded".into(),
                },
                503,
                "connector_unavailable",
                EventOutcome::Failed,
            ),
            (
                Refusal::ConnectorFailed {
                    connector: "shopify".into(),
                    version: "1.0.0".into(),
                    error: CallError::Timeout { deadline_ms: 50 },
                },
                502,
                "plugin_timeout",
                EventOutcome::Failed,
            ),
            (
                Refusal::BodyTooLarge(CallError::InputTooLarge { size: 2, limit: 1 }),
                413,
                "body_too_large",
                EventOutcome::Rejected,
            ),
            (
                DomainError::conflict("duplicate_online_reference_no", "taken").into(),
                409,
                "duplicate_online_reference_no",
                EventOutcome::Rejected,
            ),
            (
                Refusal::Hub(poshub_db::Error::Corrupt("orders 1: status".into())),
                500,
                "internal_error",
                EventOutcome::Failed,
            ),
        ];
        for (refusal, status, code, outcome) in cases {
            assert_eq!(refusal.status(), status, "{refusal:?}");
            assert_eq!(refusal.code(), code, "{refusal:?}");
            assert_eq!(refusal.outcome(), outcome, "{refusal:?}");
        }
    }

    #[test]
    fn a_lone_bad_field_of_a_connector_order_is_the_store_apis_invalid_body() {
        let one = Refusal::InvalidBody(DomainError::invalid(
            "lines[0].quantity",
            "invalid_quantity",
            "not a number",
        ));
        assert_eq!((one.status(), one.code()), (422, "invalid_body"));
        assert_eq!(one.to_string(), "lines[0].quantity: not a number");
        let two = Refusal::InvalidBody(DomainError::Invalid(vec![
            FieldError::new("a", "x", "m"),
            FieldError::new("b", "y", "n"),
        ]));
        assert_eq!((two.status(), two.code()), (422, "validation_failed"));
    }
}
