//! The host-side view of what connectors exchange with the hub: plain Rust
//! types, so that no generated WIT type leaks past this crate.

use serde_json::{Map, Value};

/// What a connector says about itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConnectorInfo {
    pub id: String,
    pub version: String,
    pub platform: String,
    /// (topic, description)
    pub topics: Vec<(String, String)>,
    /// Host patterns its planned requests may go to.
    pub hosts: Vec<String>,
    /// JSON Schema of the store configuration it reads.
    pub config_schema: Value,
    pub api_dialect: bool,
    /// How the host authenticates the requests it plans.
    pub outbound_auth: Vec<Credential>,
    /// How the host batches and spreads its pushes.
    pub push_limits: PushLimits,
}

/// How many changes of each kind one planned request may carry, and how
/// many of a store's requests may be in flight (WIT `push-limits`). A
/// connector built before 0.3.0 carries one change per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PushLimits {
    pub stock: u32,
    pub price: u32,
    pub status: u32,
    /// 0: the host's default.
    pub concurrency: u32,
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            stock: 1,
            price: 1,
            status: 1,
            concurrency: 0,
        }
    }
}

impl PushLimits {
    /// Changes of `kind` one request may carry (0: the kind is not pushed).
    pub fn of(&self, kind: ChangeKind) -> u32 {
        match kind {
            ChangeKind::Stock => self.stock,
            ChangeKind::Price => self.price,
            ChangeKind::Status => self.status,
        }
    }
}

/// A credential the host adds to a connector's planned requests from the
/// store's config (secrets never reach the plugin).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Credential {
    /// Header `name` carries config value `key` as is.
    SecretHeader { name: String, key: String },
    /// `Authorization: Basic` from two config keys.
    Basic {
        user_key: String,
        password_key: String,
    },
    /// `Authorization: Bearer` from a config key.
    Bearer { key: String },
}

/// How a webhook topic is signed: HMAC-SHA256 of the raw body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookAuth {
    /// Header carrying the signature.
    pub header: String,
    pub encoding: SignatureEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    Base64,
    Hex,
}

/// What a call is told: the store, the time, the store's non-secret config.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub store_code: String,
    /// RFC 3339, UTC.
    pub now: String,
    pub config: Vec<(String, String)>,
}

/// Config keys that are secrets: kept by the host, never given to plugins.
pub const SECRET_KEYS: &[&str] = &[
    "webhook_secret",
    "api_token",
    "api_key",
    "auth_token",
    "access_token",
    "consumer_key",
    "consumer_secret",
    "password",
];

impl CallContext {
    /// The context for a store: its config minus secrets, flattened to text.
    pub fn for_store(store_code: &str, now: String, config: &Value) -> CallContext {
        let config = config
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| !SECRET_KEYS.contains(&k.as_str()) && *k != "limits")
                    .map(|(k, v)| {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        CallContext {
            store_code: store_code.to_string(),
            now,
            config,
        }
    }
}

/// The keys of an order line the hub may need to map to a reference code.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct LineKeys {
    pub reference_code: Option<String>,
    pub external_id: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
}

/// A new order as the connector wrote it: the WIT record (of either world)
/// in plain types, its figures still the text the connector sent. The hub
/// maps its open lines and turns it into the model's types with
/// [`OrderDraft::try_from`](crate::order::OrderDraft), which refuses text
/// that does not parse as the store API would.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CanonicalOrder {
    pub online_reference_no: String,
    pub location: Option<String>,
    pub customer: Option<CustomerText>,
    pub lines: Vec<OrderLine>,
    pub shipping: Option<ShippingText>,
    pub charges: Vec<ChargeText>,
    pub payments: Vec<PaymentText>,
    pub total: String,
    pub currency: Option<String>,
    pub prices_include_tax: Option<bool>,
    pub test: bool,
    pub placed_at: Option<String>,
    pub notes: Option<String>,
}

impl CanonicalOrder {
    /// Lines without a reference code (none, or empty): the hub maps them
    /// by SKU or the storefront's id.
    pub fn open_lines(&self) -> impl Iterator<Item = (usize, &LineKeys)> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.keys.reference_code.as_deref().is_none_or(str::is_empty))
            .map(|(i, l)| (i, &l.keys))
    }

    /// The store API's JSON body for this order as the connector wrote it
    /// (open lines carry a `null` code): for tests and for reading what a
    /// connector said. The hub itself never parses it; it converts with
    /// [`OrderDraft`](crate::order::OrderDraft).
    pub fn to_json(&self) -> Value {
        fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
            if let Some(v) = value {
                map.insert(key.to_string(), v.into());
            }
        }
        let mut body = Map::new();
        body.insert(
            "online_reference_no".into(),
            self.online_reference_no.clone().into(),
        );
        put(&mut body, "location", self.location.clone());
        if let Some(c) = &self.customer {
            let mut customer = Map::new();
            put(&mut customer, "name", c.name.clone());
            put(&mut customer, "phone", c.phone.clone());
            put(&mut customer, "email", c.email.clone());
            put(&mut customer, "address", c.address.clone());
            body.insert("customer".into(), Value::Object(customer));
        }
        let lines = self.lines.iter().map(|l| {
            let mut line = Map::new();
            line.insert(
                "reference_code".into(),
                l.keys.reference_code.clone().into(),
            );
            line.insert("quantity".into(), l.quantity.clone().into());
            line.insert("unit_price".into(), l.unit_price.clone().into());
            put(&mut line, "discount", l.discount.clone());
            put(&mut line, "tax_rate", l.tax_rate.clone());
            put(&mut line, "tax_amount", l.tax_amount.clone());
            Value::Object(line)
        });
        body.insert("lines".into(), lines.collect());
        if let Some(s) = &self.shipping {
            let mut shipping = Map::new();
            shipping.insert("amount".into(), s.amount.clone().into());
            put(&mut shipping, "tax", s.tax.clone());
            put(&mut shipping, "method", s.method.clone());
            put(&mut shipping, "address", s.address.clone());
            body.insert("shipping".into(), Value::Object(shipping));
        }
        let payments = self.payments.iter().map(|p| {
            let mut pay = Map::new();
            pay.insert("type".into(), p.kind.clone().into());
            pay.insert("amount".into(), p.amount.clone().into());
            put(&mut pay, "reference", p.reference.clone());
            Value::Object(pay)
        });
        body.insert("payments".into(), payments.collect());
        if !self.charges.is_empty() {
            let charges = self.charges.iter().map(|c| {
                let mut charge = Map::new();
                charge.insert("kind".into(), charge_kind(c.kind).into());
                put(&mut charge, "title", c.title.clone());
                charge.insert("amount".into(), c.amount.clone().into());
                put(&mut charge, "tax", c.tax.clone());
                Value::Object(charge)
            });
            body.insert("charges".into(), charges.collect());
        }
        body.insert("total".into(), self.total.clone().into());
        put(&mut body, "currency", self.currency.clone());
        put(&mut body, "prices_include_tax", self.prices_include_tax);
        if self.test {
            body.insert("test".into(), true.into());
        }
        put(&mut body, "placed_at", self.placed_at.clone());
        put(&mut body, "notes", self.notes.clone());
        Value::Object(body)
    }
}

/// A charge's kind as the store API writes it (`gift_card`, ...).
pub(crate) fn charge_kind(kind: poshub_model::order::ChargeKind) -> &'static str {
    use poshub_model::order::ChargeKind;
    match kind {
        ChargeKind::GiftCard => "gift_card",
        ChargeKind::Tip => "tip",
        ChargeKind::Custom => "custom",
        ChargeKind::Fee => "fee",
        ChargeKind::Duty => "duty",
    }
}

/// An order's customer as the connector wrote it: free text to the model
/// too (the phone is normalised when the order is placed).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct CustomerText {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A JSON object when the connector's text parses as one.
    pub address: Option<Value>,
}

/// An order line as the connector wrote it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrderLine {
    pub keys: LineKeys,
    pub quantity: String,
    pub unit_price: String,
    pub discount: Option<String>,
    pub tax_rate: Option<String>,
    pub tax_amount: Option<String>,
}

/// An order's shipping as the connector wrote it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShippingText {
    pub amount: String,
    pub tax: Option<String>,
    pub method: Option<String>,
    /// A JSON object when the connector's text parses as one.
    pub address: Option<Value>,
}

/// A line that moves no stock, as the connector wrote it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChargeText {
    pub kind: poshub_model::order::ChargeKind,
    pub title: Option<String>,
    pub amount: String,
    pub tax: Option<String>,
}

/// A payment as the connector wrote it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PaymentText {
    /// The payment type, e.g. `cod`.
    pub kind: String,
    pub amount: String,
    pub reference: Option<String>,
}

/// A returned quantity.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReturnLine {
    pub keys: LineKeys,
    pub quantity: String,
}

/// What a webhook carried.
// An order is most of what webhooks carry, and a document is moved a few
// times, never kept in bulk: boxing it would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Document {
    Order(CanonicalOrder),
    Cancellation {
        online_reference_no: String,
        reason: Option<String>,
    },
    Refund {
        online_reference_no: String,
        refund_id: String,
        lines: Vec<ReturnLine>,
        amount: Option<String>,
        reason: Option<String>,
        restock: bool,
    },
    StockLevel(StorefrontStock),
    Price(PriceChange),
}

impl Document {
    pub fn kind(&self) -> &'static str {
        match self {
            Document::Order(_) => "order",
            Document::Cancellation { .. } => "cancellation",
            Document::Refund { .. } => "refund",
            Document::StockLevel(_) => "stock-level",
            Document::Price(_) => "price",
        }
    }
}

/// One variant's stock at one location on a storefront: what the hub pushes
/// (WIT `stock-level`), or a storefront's own figure in a webhook, which
/// the hub acknowledges and never applies. Not the hub's own
/// [`StockLevel`](poshub_model::stock::StockLevel).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StorefrontStock {
    pub reference_code: String,
    pub external_id: Option<String>,
    pub location: String,
    pub external_location_id: Option<String>,
    pub external_parent_id: Option<String>,
    pub external_inventory_id: Option<String>,
    pub available: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PriceChange {
    pub reference_code: String,
    pub external_id: Option<String>,
    pub external_parent_id: Option<String>,
    pub price: String,
    pub mrp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatusChange {
    pub order_id: i64,
    pub online_reference_no: String,
    /// `pending`, `billed`, `ready`, `shipped`, `out_for_delivery`,
    /// `delivered`, `cancelled`, `returned`, `partially_returned`.
    pub status: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
}

/// A change a store should hear about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Change {
    Stock(StorefrontStock),
    Price(PriceChange),
    Status(StatusChange),
}

/// What a change is about; a push batch holds changes of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Stock,
    Price,
    Status,
}

impl Change {
    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::Stock(_) => ChangeKind::Stock,
            Change::Price(_) => ChangeKind::Price,
            Change::Status(_) => ChangeKind::Status,
        }
    }
}

/// A change waiting to be pushed (WIT `pending-change`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingChange {
    /// The host's id of the change (its outbox row).
    pub id: u64,
    /// Attempts made before this one.
    pub attempts: u32,
    /// What the storefront last confirmed for the same thing, as a decimal.
    pub confirmed: Option<String>,
    pub change: Change,
}

/// A request to send and the changes (positions in the call's list) it carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedRequest {
    pub request: HttpRequest,
    pub changes: Vec<u32>,
    /// Its cost in the unit of the storefront's [`Budget`].
    pub cost: u32,
}

/// What a connector plans for a batch (WIT `push-plan`).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct PushPlan {
    pub requests: Vec<PlannedRequest>,
    /// Changes it will not push (position in the call's list, and why).
    pub refused: Vec<(u32, PluginError)>,
}

/// What became of one change a request carried (WIT `change-outcome`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ChangeOutcome {
    Done,
    Retry {
        after_seconds: u32,
        reason: String,
    },
    Failed(PluginError),
    /// A follow-up request of the same reading carries it on.
    FollowUp,
}

/// A storefront value that differed from the one the hub last saw confirmed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// Position in the call's list of changes.
    pub change: u32,
    pub found: String,
}

/// A storefront's request budget, as a leaky bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    pub available: u32,
    pub maximum: u32,
    pub restore_per_second: u32,
}

/// What a connector makes of one response (WIT `reading`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reading {
    /// One per change the request carried.
    pub outcomes: Vec<ChangeOutcome>,
    pub follow_ups: Vec<PlannedRequest>,
    pub drift: Vec<Drift>,
    pub budget: Option<Budget>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, with = "body::optional")]
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(default, with = "body")]
    pub body: Vec<u8>,
}

/// An error a connector returned (as opposed to one it caused).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginError {
    pub kind: ErrorKind,
    pub message: String,
    pub retryable: bool,
}

/// The WIT `error-kind`: what a connector says went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The payload or request is not what the connector understands.
    InvalidInput,
    /// The connector does not do this (e.g. an unknown webhook topic).
    Unsupported,
    /// The store's configuration is missing or wrong.
    Config,
    /// The storefront answered with an error.
    Upstream,
    /// The connector's own fault.
    Internal,
}

impl ErrorKind {
    /// The WIT name, as records and messages show it: `invalid-input`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Config => "config",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to a connector's inbound API dialect (`/compat/{store}/PATH`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiRequest {
    pub method: String,
    /// The path after `/compat/{store}`, e.g. `/salesOrders`.
    pub path: String,
    /// The raw query string, without `?`.
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default, with = "body")]
    pub body: Vec<u8>,
}

/// An item query in canonical terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApiItemQuery {
    pub location: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An order query in canonical terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApiOrderQuery {
    /// `pending`, `billed`, ...
    pub status: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// What a dialect request asks of the hub.
// One command per request, moved once: an unboxed order costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "command", content = "args", rename_all = "kebab-case")]
pub enum ApiCommand {
    ListItems(ApiItemQuery),
    CreateOrder(CanonicalOrder),
    ListOrders(ApiOrderQuery),
    GetOrder(i64),
    /// Answer directly (e.g. the dialect's own validation error).
    Respond(ApiResponse),
}

/// A response in the dialect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(with = "body")]
    pub body: Vec<u8>,
}

/// An HTTP body in JSON: its text when it is UTF-8, else
/// `{"base64": "..."}`.
mod body {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Shown {
        Text(String),
        Bytes { base64: String },
    }

    fn shown(bytes: &[u8]) -> Shown {
        match std::str::from_utf8(bytes) {
            Ok(text) => Shown::Text(text.to_string()),
            Err(_) => Shown::Bytes {
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
        }
    }

    fn bytes<E: serde::de::Error>(shown: Shown) -> Result<Vec<u8>, E> {
        match shown {
            Shown::Text(text) => Ok(text.into_bytes()),
            Shown::Bytes { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(E::custom),
        }
    }

    pub fn serialize<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
        shown(body).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        bytes(Shown::deserialize(d)?)
    }

    pub mod optional {
        use super::*;

        pub fn serialize<S: Serializer>(body: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            body.as_deref().map(shown).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<Shown>::deserialize(d)?.map(bytes).transpose()
        }
    }
}
