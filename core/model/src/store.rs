//! Online stores (channels), their API users and the location scope a key
//! acts for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channel::{ChannelSettings, PaymentPolicy, Sourcing, StockBuffer};
use crate::codes::{Code, PaymentType};
use crate::currency::Currency;
use crate::error::{DomainError, Problems};
use crate::scope::LocationRef;

/// The connector id of a store that uses the hub's own API unchanged.
pub const CANONICAL_CONNECTOR: &str = "canonical";

/// A location (shop, warehouse).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub code: Code,
    pub name: String,
}

impl Location {
    /// A location needs a name.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::invalid(
                "name",
                "required",
                "a location needs a name",
            ));
        }
        Ok(())
    }
}

/// A named set of locations; its stock is the sum over its members.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocationGroup {
    pub code: Code,
    pub name: String,
    pub locations: Vec<Code>,
}

impl LocationGroup {
    /// A group has at least one member.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.locations.is_empty() {
            return Err(DomainError::invalid(
                "locations",
                "required",
                "a group needs at least one location",
            ));
        }
        Ok(())
    }
}

/// A request to create a store (admin API).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStore {
    pub code: Code,
    pub name: String,
    /// Connector id; `canonical` means the store calls the hub's own API.
    #[serde(default = "canonical")]
    pub connector: String,
    /// Connector settings (shape defined by the connector).
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub config: serde_json::Value,
    /// Locations the store sells from; may be left out when
    /// `sell_from_group` is set (the group's members).
    #[serde(default)]
    pub locations: Vec<Code>,
    /// Payment types the store accepts; defaults to `prepaid` and `cod`.
    #[serde(default = "default_payment_types")]
    pub payment_types: Vec<PaymentType>,
    /// Accept orders beyond available stock.
    #[serde(default)]
    pub allow_backorder: bool,
    /// Whether order prices include tax. Defaults to true.
    #[serde(default = "yes")]
    pub prices_include_tax: bool,
    /// The currency the store sells in (ISO 4217); the hub's when left out.
    #[serde(default)]
    pub currency: Option<Currency>,
    /// Take the storefront's test orders (e.g. Shopify's bogus gateway);
    /// refused with `test_order_refused` by default.
    #[serde(default)]
    pub accept_test_orders: bool,
    /// A location group whose members the store sells from: an order naming
    /// no location (or the group's code) is sourced from them.
    #[serde(default)]
    pub sell_from_group: Option<Code>,
    /// How a group-sourced order picks its locations (default `priority`).
    #[serde(default)]
    pub sourcing: Sourcing,
    #[serde(default)]
    pub payment_policy: PaymentPolicy,
    /// Stock held back from this store at each location.
    #[serde(default)]
    pub stock_buffer: Option<StockBuffer>,
    /// Order lines must carry the price in force (default false).
    #[serde(default)]
    pub enforce_prices: bool,
}

fn canonical() -> String {
    CANONICAL_CONNECTOR.to_string()
}
fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}
fn default_payment_types() -> Vec<PaymentType> {
    ["prepaid", "cod"]
        .iter()
        .map(|t| PaymentType::parse(t).expect("valid"))
        .collect()
}
fn yes() -> bool {
    true
}

impl NewStore {
    /// Checks what can be checked without looking anything up.
    pub fn check(&self) -> Result<(), DomainError> {
        let mut p = Problems::default();
        if self.name.trim().is_empty() {
            p.push("name", "required", "a store needs a name");
        }
        if self.locations.is_empty() && self.sell_from_group.is_none() {
            p.push(
                "locations",
                "required",
                "a store sells from at least one location",
            );
        }
        if self.payment_types.is_empty() {
            p.push(
                "payment_types",
                "required",
                "a store accepts at least one payment type",
            );
        }
        if !self.config.is_object() {
            p.push("config", "invalid_config", "config is a JSON object");
        }
        p.into_result()
    }
}

/// A store as read back.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Store {
    pub code: String,
    pub name: String,
    pub connector: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub config: serde_json::Value,
    pub locations: Vec<String>,
    pub payment_types: Vec<PaymentType>,
    pub allow_backorder: bool,
    pub prices_include_tax: bool,
    /// The currency the store sells in: its own, else the hub's.
    pub currency: Currency,
    /// Whether the storefront's test orders are taken.
    pub accept_test_orders: bool,
    /// Switched off, the store's keys and webhooks are refused and its pushes wait.
    pub enabled: bool,
    #[serde(flatten)]
    pub channel: ChannelSettings,
    pub created_at: DateTime<Utc>,
}

/// A request to create an API user for a store.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiUser {
    pub name: String,
    /// Locations this key acts for; all of the store's when left out.
    #[serde(default)]
    pub locations: Option<Vec<Code>>,
}

impl NewApiUser {
    /// An API user needs a name (which locations it gets is
    /// [`crate::scope::key_locations`]'s).
    pub fn check(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::invalid(
                "name",
                "required",
                "an API user needs a name",
            ));
        }
        Ok(())
    }
}

/// An API user as read back; the key itself is only ever shown at creation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiUser {
    pub id: i64,
    pub name: String,
    pub store: String,
    pub locations: Vec<String>,
    /// First characters of the key, to tell keys apart.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
}

/// Who is calling the store API: an API user of one store, acting for a set
/// of locations.
#[derive(Debug, Clone)]
pub struct Principal {
    pub api_user_id: i64,
    pub store_id: i64,
    pub store_code: String,
    /// The locations the key may act for.
    pub locations: Vec<LocationRef>,
    pub payment_types: Vec<PaymentType>,
    pub allow_backorder: bool,
    pub prices_include_tax: bool,
    /// The store's currency (its own, else the hub's).
    pub currency: Currency,
    pub accept_test_orders: bool,
    /// Whether the merchant has the store switched on.
    pub store_enabled: bool,
}

impl Principal {
    /// Resolves the location an order or query names, within the key's scope.
    /// Without a location the key must act for exactly one.
    pub fn location(&self, requested: Option<&str>) -> Result<LocationRef, DomainError> {
        match requested {
            Some(code) => self
                .locations
                .iter()
                .find(|l| l.code == code)
                .cloned()
                .ok_or_else(|| DomainError::Forbidden {
                    code: "location_out_of_scope",
                    detail: format!(
                        "this API key does not act for location `{code}`; it acts for: {}",
                        self.location_codes().join(", ")
                    ),
                }),
            None if self.locations.len() == 1 => Ok(self.locations[0].clone()),
            None => Err(DomainError::invalid(
                "location",
                "location_required",
                format!(
                    "this API key acts for several locations ({}); name one",
                    self.location_codes().join(", ")
                ),
            )),
        }
    }

    pub fn location_codes(&self) -> Vec<&str> {
        self.locations.iter().map(|l| l.code.as_str()).collect()
    }
}

/// Something a store's connector did: a webhook received (and, with the
/// sync engine, a push sent), its outcome, and the reason when refused.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorEvent {
    pub id: i64,
    pub store: String,
    /// `webhook` or `api` (a dialect call): [`Direction`].
    pub direction: String,
    pub topic: String,
    /// `accepted`, `duplicate`, `ignored`, `rejected`, `unauthorized` or
    /// `failed`: [`EventOutcome`].
    pub outcome: String,
    /// The HTTP status the hub answered (or got).
    pub http_status: i32,
    /// Why, when it was not accepted.
    pub detail: Option<String>,
    pub order_id: Option<i64>,
    /// The plugin's logs for the call (capped).
    pub logs: Option<String>,
    /// How long the connector call took, in microseconds.
    pub elapsed_us: i64,
    pub created_at: DateTime<Utc>,
}

/// A connector event to record.
#[derive(Debug, Clone)]
pub struct NewConnectorEvent {
    pub store_id: i64,
    pub direction: Direction,
    pub topic: String,
    pub outcome: EventOutcome,
    pub http_status: i32,
    pub detail: Option<String>,
    pub order_id: Option<i64>,
    pub logs: Option<String>,
    pub elapsed_us: i64,
}

impl NewConnectorEvent {
    /// An accepted call, to be amended with what happened.
    pub fn new(store_id: i64, direction: Direction, topic: String) -> Self {
        NewConnectorEvent {
            store_id,
            direction,
            topic,
            outcome: EventOutcome::Accepted,
            http_status: 200,
            detail: None,
            order_id: None,
            logs: None,
            elapsed_us: 0,
        }
    }

    /// A call the hub refused: the outcome, and the answer's status and
    /// `code: detail`.
    pub fn refused(&mut self, outcome: EventOutcome, status: u16, code: &str, detail: &str) {
        self.outcome = outcome;
        self.http_status = i32::from(status);
        self.detail = Some(format!("{code}: {detail}"));
    }
}

/// Which way a connector event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A storefront's webhook (`/hooks/...`).
    Webhook,
    /// A call of a store's API dialect (`/compat/...`).
    Api,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Webhook => "webhook",
            Direction::Api => "api",
        }
    }
}

/// What the hub made of a connector event, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Applied (or partly applied, each document's result in the answer).
    Accepted,
    /// Every document had been received before: nothing changed.
    Duplicate,
    /// Nothing in it was for the hub to apply (a ping, a storefront's own
    /// stock or price figures).
    Ignored,
    /// The payload or the call was refused (a 4xx answer).
    Rejected,
    /// The signature or the key did not check out.
    Unauthorized,
    /// The hub or the connector failed (5xx): the storefront should retry.
    Failed,
}

impl EventOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Accepted => "accepted",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Ignored => "ignored",
            EventOutcome::Rejected => "rejected",
            EventOutcome::Unauthorized => "unauthorized",
            EventOutcome::Failed => "failed",
        }
    }
}

/// A store as the webhook path needs it: who acts (the store itself, for all
/// its locations), its connector and its configuration (with secrets).
#[derive(Debug, Clone)]
pub struct StoreContext {
    pub principal: Principal,
    pub connector: String,
    pub config: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            api_user_id: 1,
            store_id: 1,
            store_code: "WEB".into(),
            locations: vec![LocationRef::new(1, "BLR"), LocationRef::new(2, "MUM")],
            payment_types: vec![],
            allow_backorder: false,
            prices_include_tax: true,
            currency: Currency::DEFAULT,
            accept_test_orders: false,
            store_enabled: true,
        }
    }

    #[test]
    fn names_and_members_are_required() {
        let code = Code::parse("BLR").unwrap();
        let field = |e: DomainError| match e {
            DomainError::Invalid(f) => (f[0].field.clone(), f[0].code.clone()),
            other => panic!("{other:?}"),
        };
        let blank = Location {
            code: code.clone(),
            name: "  ".into(),
        };
        assert_eq!(
            field(blank.check().unwrap_err()),
            ("name".to_string(), "required".to_string())
        );
        let named = Location {
            code: code.clone(),
            name: "Bengaluru".into(),
        };
        assert!(named.check().is_ok());
        let empty = LocationGroup {
            code: code.clone(),
            name: "South".into(),
            locations: vec![],
        };
        assert_eq!(
            field(empty.check().unwrap_err()),
            ("locations".to_string(), "required".to_string())
        );
        let user = NewApiUser {
            name: "\t".into(),
            locations: None,
        };
        assert_eq!(
            field(user.check().unwrap_err()),
            ("name".to_string(), "required".to_string())
        );
    }

    #[test]
    fn a_key_acts_only_for_its_locations() {
        let p = principal();
        assert_eq!(p.location(Some("MUM")).unwrap().id, 2);
        assert!(matches!(
            p.location(Some("DEL")),
            Err(DomainError::Forbidden { .. })
        ));
        assert!(matches!(p.location(None), Err(DomainError::Invalid(_))));
        let mut single = principal();
        single.locations.truncate(1);
        assert_eq!(single.location(None).unwrap().code, "BLR");
    }
}
