//! The sync engine's rules: what an outbox row is, how long to wait before
//! trying a failed push again, and which hosts a planned request may reach.

use std::time::{Duration, Instant};

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
    /// What the storefront held instead of the value it last confirmed, when
    /// a compare-and-set push found it changed there (a sale or an edit the
    /// hub had not heard of) and set it from a fresh read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<String>,
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

/// How fast the sync worker may send to one store: the request budget the
/// storefront reports (a leaky bucket: GraphQL cost and throttle status,
/// rate-limit headers) and the pauses it asks for (`Retry-After`, a
/// throttled answer). Until a storefront reports a budget, only pauses and
/// the store's concurrency hold requests back.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    bucket: Option<Bucket>,
    /// Cost of the requests booked and not yet answered.
    in_flight: f64,
    paused_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    maximum: f64,
    restore: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        if now > self.at {
            let restored = (now - self.at).as_secs_f64() * self.restore;
            self.tokens = (self.tokens + restored).min(self.maximum);
            self.at = now;
        }
    }
}

impl Pace {
    /// Books a request costing `cost` at `now`: how long to wait before it
    /// is sent. The cost is taken from the budget at once (it may go below
    /// zero), so the requests booked after it wait for it too.
    pub fn book(&mut self, cost: u32, now: Instant) -> Duration {
        let start = self.paused_until.map_or(now, |p| p.max(now));
        self.in_flight += f64::from(cost);
        let Some(bucket) = &mut self.bucket else {
            return start - now;
        };
        bucket.refill(start);
        let cost = f64::from(cost).min(bucket.maximum);
        let short = cost - bucket.tokens;
        bucket.tokens -= cost;
        let wait = if short > 0.0 {
            Duration::from_secs_f64(short / bucket.restore.max(0.001))
        } else {
            Duration::ZERO
        };
        (start - now) + wait
    }

    /// A booked request was answered; `budget` is what the storefront then
    /// reported (available, maximum, restored per second), if it did. The
    /// requests still in flight are taken off what it reports.
    pub fn answered(&mut self, cost: u32, budget: Option<(u32, u32, u32)>, now: Instant) {
        self.in_flight = (self.in_flight - f64::from(cost)).max(0.0);
        if let Some((available, maximum, restore)) = budget {
            self.bucket = Some(Bucket {
                tokens: f64::from(available) - self.in_flight,
                maximum: f64::from(maximum.max(1)),
                restore: f64::from(restore),
                at: now,
            });
        }
    }

    /// The storefront asked for nothing to be sent before `until`.
    pub fn pause(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Whether nothing may be sent at `now` (no new rows are claimed then).
    pub fn paused(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|p| p > now)
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
    fn a_pace_without_a_budget_holds_back_only_for_pauses() {
        let t0 = Instant::now();
        let mut pace = Pace::default();
        assert_eq!(pace.book(50, t0), Duration::ZERO);
        pace.pause(t0 + Duration::from_secs(3));
        assert!(pace.paused(t0 + Duration::from_secs(2)));
        assert!(!pace.paused(t0 + Duration::from_secs(3)));
        assert_eq!(
            pace.book(1, t0 + Duration::from_secs(1)),
            Duration::from_secs(2)
        );
        // A shorter pause asked later does not shorten the first.
        pace.pause(t0 + Duration::from_secs(1));
        assert!(pace.paused(t0 + Duration::from_secs(2)));
    }

    #[test]
    fn a_pace_spends_the_reported_budget_and_waits_for_its_restore() {
        let t0 = Instant::now();
        let mut pace = Pace::default();
        pace.book(10, t0);
        // Shopify Standard: 2,000 points, 100 restored per second; 25 left.
        pace.answered(10, Some((25, 2_000, 100)), t0);
        assert_eq!(pace.book(10, t0), Duration::ZERO, "15 left");
        assert_eq!(pace.book(10, t0), Duration::ZERO, "5 left");
        // 5 short: 50 ms of restore.
        assert_eq!(pace.book(10, t0), Duration::from_millis(50));
        // Now 5 below zero: the next 10 wait for 15 points, 150 ms.
        assert_eq!(pace.book(10, t0), Duration::from_millis(150));
        // A second later 100 points came back (-15 + 100 = 85).
        assert_eq!(pace.book(80, t0 + Duration::from_secs(1)), Duration::ZERO);
    }

    #[test]
    fn a_reported_budget_is_net_of_the_requests_still_in_flight() {
        let t0 = Instant::now();
        let mut pace = Pace::default();
        pace.book(10, t0);
        pace.book(10, t0);
        pace.book(10, t0);
        // The first answer says 30 are left, but two requests of 10 are
        // still out: 10 are really left.
        pace.answered(10, Some((30, 1_000, 50)), t0);
        assert_eq!(pace.book(10, t0), Duration::ZERO);
        assert_eq!(pace.book(10, t0), Duration::from_millis(200));
    }

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
