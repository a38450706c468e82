//! Helpers for the canonical types: errors, config, JSON, exact decimals,
//! phone hints, logging and HTTP plumbing.

use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg(target_arch = "wasm32")]
use crate::bindings::poshub::connector::log;
use crate::{
    BasicCredentials, CallContext, ChangeOutcome, ConnectorInfo, Credential, Error, ErrorKind,
    Header, HttpRequest, HttpResponse, Level, PlannedRequest, PushLimits, Reading, Retry,
    SecretHeader, SignatureEncoding, SignatureScheme, Topic, WebhookAuth,
};

fn error(kind: ErrorKind, message: impl Into<String>, retryable: bool) -> Error {
    Error {
        kind,
        message: message.into(),
        retryable,
    }
}

/// The input is not what the platform sends.
pub fn invalid_input(message: impl Into<String>) -> Error {
    error(ErrorKind::InvalidInput, message, false)
}

/// The connector does not do this.
pub fn unsupported(message: impl Into<String>) -> Error {
    error(ErrorKind::Unsupported, message, false)
}

/// The store's configuration is missing something.
pub fn config_error(message: impl Into<String>) -> Error {
    error(ErrorKind::Config, message, false)
}

/// The storefront failed; `retryable` says whether trying later can help.
pub fn upstream(message: impl Into<String>, retryable: bool) -> Error {
    error(ErrorKind::Upstream, message, retryable)
}

/// Starts a [`ConnectorInfo`].
pub fn info(id: &str, version: &str, platform: &str) -> InfoBuilder {
    InfoBuilder(ConnectorInfo {
        id: id.to_string(),
        version: version.to_string(),
        platform: platform.to_string(),
        topics: vec![],
        hosts: vec![],
        config_schema: "{}".to_string(),
        api_dialect: false,
        outbound_auth: vec![],
        push_limits: PushLimits {
            stock: 1,
            price: 1,
            status: 1,
            concurrency: 0,
        },
    })
}

/// Builds a [`ConnectorInfo`] step by step.
pub struct InfoBuilder(ConnectorInfo);

impl InfoBuilder {
    /// How many changes of each kind one planned request may carry (1 each
    /// unless set; 0 pushes nothing of that kind).
    pub fn push_limits(mut self, stock: u32, price: u32, status: u32) -> Self {
        self.0.push_limits.stock = stock;
        self.0.push_limits.price = price;
        self.0.push_limits.status = status;
        self
    }

    /// Requests in flight at once to one store (0: the host's default).
    pub fn push_concurrency(mut self, requests: u32) -> Self {
        self.0.push_limits.concurrency = requests;
        self
    }

    /// A webhook topic the connector translates.
    pub fn topic(mut self, name: &str, description: &str) -> Self {
        self.0.topics.push(Topic {
            name: name.to_string(),
            description: description.to_string(),
        });
        self
    }

    /// A host pattern planned requests may go to, e.g. `*.myshopify.com`.
    pub fn host(mut self, pattern: &str) -> Self {
        self.0.hosts.push(pattern.to_string());
        self
    }

    /// The JSON Schema of the store configuration.
    pub fn config_schema(mut self, schema: serde_json::Value) -> Self {
        self.0.config_schema = schema.to_string();
        self
    }

    /// The connector speaks an inbound API dialect.
    pub fn api_dialect(mut self) -> Self {
        self.0.api_dialect = true;
        self
    }

    /// The host adds header `name` with the store's secret `key` to every
    /// planned request (e.g. `X-Shopify-Access-Token` from `access_token`).
    pub fn secret_header(mut self, name: &str, key: &str) -> Self {
        self.0
            .outbound_auth
            .push(Credential::SecretHeader(SecretHeader {
                name: name.to_string(),
                key: key.to_string(),
            }));
        self
    }

    /// The host adds `Authorization: Basic` from two config keys to every
    /// planned request (e.g. WooCommerce's consumer key and secret).
    pub fn basic_auth(mut self, user_key: &str, password_key: &str) -> Self {
        self.0
            .outbound_auth
            .push(Credential::Basic(BasicCredentials {
                user_key: user_key.to_string(),
                password_key: password_key.to_string(),
            }));
        self
    }

    /// The host adds `Authorization: Bearer` from a config secret.
    pub fn bearer(mut self, key: &str) -> Self {
        self.0
            .outbound_auth
            .push(Credential::Bearer(key.to_string()));
        self
    }

    pub fn build(self) -> ConnectorInfo {
        self.0
    }
}

/// HMAC-SHA256 of the raw body, base64, in `header` (Shopify, WooCommerce).
pub fn hmac_sha256_base64(header: &str) -> WebhookAuth {
    WebhookAuth {
        scheme: SignatureScheme::HmacSha256,
        header: header.to_string(),
        encoding: SignatureEncoding::Base64,
    }
}

/// A configuration value of the store (secrets are never present).
pub fn config<'a>(ctx: &'a CallContext, key: &str) -> Option<&'a str> {
    ctx.config
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
        .filter(|v| !v.is_empty())
}

/// A configuration value that must be there.
pub fn require_config<'a>(ctx: &'a CallContext, key: &str) -> Result<&'a str, Error> {
    config(ctx, key)
        .ok_or_else(|| config_error(format!("the store's connector config has no `{key}`")))
}

/// A header value, matched case-insensitively.
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Parses a JSON body, naming where it went wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body)
        .map_err(|e| invalid_input(format!("body is not the expected JSON: {e}")))
}

/// An exact decimal from a storefront JSON value: a string such as
/// `"199.00"` or a number written in the JSON, read from its digits
/// (`445.535714`, `12345678901234567.89`): in the guest the SDK builds
/// serde_json with `arbitrary_precision`, so a number is never a float.
/// None for null, empty, an exponent (`1e5`) or anything else.
pub fn decimal(value: &serde_json::Value) -> Option<String> {
    let raw = match value {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    is_plain_decimal(&raw).then_some(raw)
}

/// True for `123`, `-1.5`, `0.25`: digits with an optional sign and point.
pub fn is_plain_decimal(raw: &str) -> bool {
    let body = raw.strip_prefix('-').unwrap_or(raw);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(body.contains('.') && frac.is_empty())
}

/// Normalises money to at least two decimal places: `"7"` -> `"7.00"`,
/// `"199.5"` -> `"199.50"`, `"0.125"` stays.
pub fn money(raw: &str) -> Result<String, Error> {
    let raw = raw.trim();
    if !is_plain_decimal(raw) {
        return Err(invalid_input(format!("`{raw}` is not an amount")));
    }
    Ok(match raw.split_once('.') {
        None => format!("{raw}.00"),
        Some((_, frac)) if frac.len() == 1 => format!("{raw}0"),
        Some(_) => raw.to_string(),
    })
}

/// The first usable phone among candidates (order, customer, billing,
/// shipping ...), trimmed; the hub normalises it to E.164 with the store's
/// default country code. A placeholder of zeros (`0000000000`, which
/// checkouts that require a phone collect) is no phone.
pub fn phone_hint<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    candidates
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|p| {
            let digits = || p.chars().filter(char::is_ascii_digit);
            digits().count() >= 6 && digits().any(|d| d != '0')
        })
        .map(str::to_string)
}

/// Logs through the host (kept, capped, with the call's record).
///
/// Compiled natively (the hub's fuzz targets and tests call connectors as
/// plain Rust) there is no host to log to, and the generated import would
/// panic: the message is dropped instead.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// A request with a JSON body.
pub fn json_request(
    method: &str,
    url: String,
    body: &impl Serialize,
    extra: Vec<Header>,
) -> HttpRequest {
    let mut headers = vec![Header {
        name: "content-type".to_string(),
        value: "application/json".to_string(),
    }];
    headers.extend(extra);
    HttpRequest {
        method: method.to_string(),
        url,
        headers,
        body: Some(serde_json::to_vec(body).unwrap_or_default()),
    }
}

/// A GraphQL request: `POST url` with `{query, operationName, variables}`.
/// The operation's name is also how the connector matches the answer back
/// to what it asked ([`graphql_operation`]).
pub fn graphql_request(
    url: String,
    operation: &str,
    query: &str,
    variables: serde_json::Value,
    extra: Vec<Header>,
) -> HttpRequest {
    json_request(
        "POST",
        url,
        &serde_json::json!({"query": query, "operationName": operation, "variables": variables}),
        extra,
    )
}

/// The operation name and variables of a request made with
/// [`graphql_request`].
pub fn graphql_operation(request: &HttpRequest) -> Option<(String, serde_json::Value)> {
    let body: serde_json::Value = serde_json::from_slice(request.body.as_deref()?).ok()?;
    let operation = body.get("operationName")?.as_str()?.to_string();
    Some((
        operation,
        body.get("variables")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
    ))
}

/// The usual reading of a response: 2xx done; 429 and 503 retry after
/// `Retry-After` (or 30 s); 408 and other 5xx failed but retryable; any other
/// status failed for good.
pub fn default_outcome(response: &HttpResponse) -> ChangeOutcome {
    let status = response.status;
    let excerpt =
        String::from_utf8_lossy(&response.body[..response.body.len().min(200)]).to_string();
    match status {
        200..=299 => ChangeOutcome::Done,
        429 | 503 => {
            let wait = header(&response.headers, "retry-after")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(30);
            retry(wait, format!("storefront asked to retry after {wait} s"))
        }
        408 | 500..=599 => ChangeOutcome::Failed(upstream(
            format!("storefront answered {status}: {excerpt}"),
            true,
        )),
        _ => ChangeOutcome::Failed(upstream(
            format!("storefront refused with {status}: {excerpt}"),
            false,
        )),
    }
}

/// A change to try again after `seconds` (0: the host's backoff), and why.
pub fn retry(seconds: u32, reason: impl Into<String>) -> ChangeOutcome {
    ChangeOutcome::Retry(Retry {
        after_seconds: seconds,
        reason: reason.into(),
    })
}

impl PlannedRequest {
    /// A request carrying the changes at these positions, costing 1.
    pub fn carrying(request: HttpRequest, changes: Vec<u32>) -> PlannedRequest {
        PlannedRequest {
            request,
            changes,
            cost: 1,
        }
    }
}

impl Reading {
    /// The same outcome for all `n` changes a request carried.
    pub fn all(n: usize, outcome: ChangeOutcome) -> Reading {
        Reading::of(vec![outcome; n])
    }

    /// One outcome per change, nothing else.
    pub fn of(outcomes: Vec<ChangeOutcome>) -> Reading {
        Reading {
            outcomes,
            follow_ups: vec![],
            drift: vec![],
            budget: None,
        }
    }
}
