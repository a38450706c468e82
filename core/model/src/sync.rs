//! The sync engine's rules: what an outbox row is, how long to wait before
//! trying a failed push again, and which hosts a planned request may reach.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::Code;

/// Where an outbox row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Waiting for its first delivery.
    Pending,
    /// Claimed by a worker (under a lease).
    Sending,
    /// Delivered and confirmed by the storefront.
    Sent,
    /// Failed; waiting for its next attempt.
    Failed,
    /// Gave up after too many attempts, or failed for good; an operator can retry it.
    Dead,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Pending => "pending",
            SyncStatus::Sending => "sending",
            SyncStatus::Sent => "sent",
            SyncStatus::Failed => "failed",
            SyncStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<SyncStatus> {
        Some(match s {
            "pending" => SyncStatus::Pending,
            "sending" => SyncStatus::Sending,
            "sent" => SyncStatus::Sent,
            "failed" => SyncStatus::Failed,
            "dead" => SyncStatus::Dead,
            _ => return None,
        })
    }
}

/// One row of a store's sync log.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncEntry {
    pub id: i64,
    /// `stock`, `price` or `status`.
    pub kind: String,
    /// What changed, e.g. `stock:TOY-Red-S@BLR`.
    pub subject: String,
    pub status: SyncStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The value the storefront confirmed, when sent.
    pub sent_value: Option<String>,
    /// The rule behind the value pushed: `price_list:CODE` or `last_inward`
    /// for a price, the store's buffer for a held-back stock level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The last request, e.g. `POST https://shop.example/poshub/stock-levels`.
    pub request_summary: Option<String>,
    /// The storefront's last HTTP status.
    pub response_status: Option<i32>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A reference code mapped to the storefront's own product/variant id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub reference_code: Code,
    /// The storefront's id of the variant (Shopify variant id, WooCommerce
    /// variation or simple product id).
    pub external_id: String,
    /// The storefront's id of the product the variant belongs to, where the
    /// platform needs it (a WooCommerce variation's parent product).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The storefront's id of the variant's stock record, where the platform
    /// keeps one apart (a Shopify inventory item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_id: Option<String>,
}

/// How long to wait before attempt `attempt + 1` after `attempt` failures:
/// `base * 2^(attempt-1)`, capped, times a jitter factor in `[0.8, 1.2)`
/// (`jitter` is a uniform sample from `[0, 1)`).
pub fn backoff(base: Duration, attempt: u32, cap: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    exp.min(cap).mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
}

/// When a failed push is tried again, and when it is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first wait; it doubles with each attempt (see [`backoff`]).
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
    /// Attempts before a row is dead-lettered.
    pub max_attempts: i32,
}

/// What becomes of an outbox row whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this long.
    Retry(Duration),
    /// Dead-letter it for an operator. `gave_up`: it could have succeeded
    /// later but ran out of attempts (else it failed for good).
    Dead { gave_up: bool },
}

impl RetryPolicy {
    /// The decision after attempt `attempt` (counted from 1) failed: a
    /// failure that cannot succeed later is dead at once; one that can is
    /// retried after what the storefront asked for (`Retry-After`), else
    /// after the backoff with `jitter` (a uniform sample from `[0, 1)`),
    /// until `max_attempts`.
    pub fn after_failure(
        &self,
        attempt: i32,
        retryable: bool,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> AfterFailure {
        if !retryable {
            return AfterFailure::Dead { gave_up: false };
        }
        if attempt >= self.max_attempts {
            return AfterFailure::Dead { gave_up: true };
        }
        let attempt = u32::try_from(attempt).unwrap_or(0);
        AfterFailure::Retry(
            retry_after.unwrap_or_else(|| backoff(self.base, attempt, self.cap, jitter)),
        )
    }
}

/// True when `host` matches a connector's declared host pattern: `*` (any),
/// `*.example.com` (subdomains), or an exact name (case-insensitive).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(300);
        assert_eq!(backoff(base, 1, cap, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(base, 2, cap, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(base, 4, cap, 0.5), Duration::from_secs(8));
        assert_eq!(backoff(base, 30, cap, 0.5), cap);
        assert!(backoff(base, 3, cap, 0.0) >= Duration::from_millis(3200));
        assert!(backoff(base, 3, cap, 0.999) < Duration::from_millis(4800));
    }

    #[test]
    fn after_a_failure() {
        let policy = RetryPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: 3,
        };
        let secs = |s| Some(Duration::from_secs(s));
        // (attempt, retryable, Retry-After) -> decision, at jitter 0.5.
        let table = [
            (1, true, None, AfterFailure::Retry(Duration::from_secs(1))),
            (2, true, None, AfterFailure::Retry(Duration::from_secs(2))),
            (
                2,
                true,
                secs(30),
                AfterFailure::Retry(Duration::from_secs(30)),
            ),
            (3, true, None, AfterFailure::Dead { gave_up: true }),
            (3, true, secs(30), AfterFailure::Dead { gave_up: true }),
            (9, true, None, AfterFailure::Dead { gave_up: true }),
            (1, false, None, AfterFailure::Dead { gave_up: false }),
            (1, false, secs(30), AfterFailure::Dead { gave_up: false }),
        ];
        for (attempt, retryable, after, want) in table {
            assert_eq!(
                policy.after_failure(attempt, retryable, after, 0.5),
                want,
                "attempt {attempt}, retryable {retryable}, retry-after {after:?}"
            );
        }
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*", "127.0.0.1"));
        assert!(host_matches("*.myshopify.com", "acme.myshopify.com"));
        assert!(!host_matches("*.myshopify.com", "myshopify.com"));
        assert!(!host_matches("*.myshopify.com", "evil.com"));
        assert!(!host_matches(
            "*.myshopify.com",
            "acme.myshopify.com.evil.com"
        ));
        assert!(host_matches("Shop.Example", "shop.example"));
    }
}
