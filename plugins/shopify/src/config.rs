//! The store's connector configuration as this connector reads it, and the
//! JSON Schema that describes it to the merchant.
//!
//! Secrets (`webhook_secret`, `access_token`) are declared in the schema but
//! never reach the plugin: the host verifies webhooks and adds
//! `X-Shopify-Access-Token` to planned requests itself.

use poshub_connector_sdk::{config, config_error, require_config, CallContext, Error};
use serde_json::{json, Value};

/// The Admin API version used when the store's config names none: the
/// current stable one (released 2026-10-01, supported until 2027-10).
pub const DEFAULT_API_VERSION: &str = "2026-10";

/// The oldest version the connector speaks: from 2026-04 on,
/// `inventorySetQuantities` takes `changeFromQuantity` and the
/// `@idempotent` directive, which older versions do not know.
pub const OLDEST_API_VERSION: &str = "2026-04";

/// Gateway names that always mean cash on delivery (compared ignoring case).
const COD_GATEWAYS: &[&str] = &["cash on delivery (cod)", "cash_on_delivery", "cod"];

/// The JSON Schema of a Shopify store's configuration.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["webhook_secret", "base_url", "access_token"],
        "properties": {
            "webhook_secret": {
                "type": "string",
                "description": "The app's client secret: Shopify signs webhooks with it (X-Shopify-Hmac-Sha256, base64 HMAC-SHA256)",
                "writeOnly": true
            },
            "base_url": {
                "type": "string",
                "format": "uri",
                "description": "The shop's admin address, https://{shop}.myshopify.com; stock, price and fulfilment requests go there",
                "pattern": "^https://[A-Za-z0-9][A-Za-z0-9-]*\\.myshopify\\.com/?$"
            },
            "access_token": {
                "type": "string",
                "description": "Admin API access token (shpat_...), sent as X-Shopify-Access-Token",
                "writeOnly": true
            },
            "api_version": {
                "type": "string",
                "description": "GraphQL Admin API version of the requests (2026-04 or later, or unstable)",
                "default": DEFAULT_API_VERSION,
                "pattern": "^([0-9]{4}-[0-9]{2}|unstable)$"
            },
            "location_ids": {
                "type": "object",
                "description": "Hub location code -> Shopify location id: where each hub location's stock is published",
                "additionalProperties": {"type": ["string", "integer"]}
            },
            "location": {
                "type": "string",
                "description": "Hub location code orders from this shop are fulfilled from (optional when the store has one location)"
            },
            "cod_gateways": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Extra payment gateway names that mean cash on delivery, besides \"Cash on Delivery (COD)\", \"cash_on_delivery\" and \"cod\""
            }
        }
    })
}

/// What order translation needs from the config.
pub struct OrderSettings {
    /// Hub location code orders are fulfilled from, when configured.
    pub location: Option<String>,
    /// Lower-cased gateway names that mean cash on delivery.
    pub cod_gateways: Vec<String>,
}

impl OrderSettings {
    /// Reads `location` and `cod_gateways`.
    pub fn read(ctx: &CallContext) -> Result<OrderSettings, Error> {
        let mut cod_gateways: Vec<String> = COD_GATEWAYS.iter().map(|g| g.to_string()).collect();
        if let Some(raw) = config(ctx, "cod_gateways") {
            cod_gateways.extend(extra_cod_gateways(raw)?);
        }
        Ok(OrderSettings {
            location: config(ctx, "location")
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
            cod_gateways,
        })
    }

    /// Whether a gateway name means cash on delivery.
    pub fn is_cod(&self, gateway: &str) -> bool {
        let name = gateway.trim().to_lowercase();
        self.cod_gateways.contains(&name)
    }
}

/// `cod_gateways`: a JSON array of names (a bare name is taken as one).
fn extra_cod_gateways(raw: &str) -> Result<Vec<String>, Error> {
    let names = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    config_error(format!(
                        "`cod_gateways` must be a list of gateway names; {item} is not a name"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Ok(Value::String(name)) => vec![name],
        _ => vec![raw.to_string()],
    };
    Ok(names
        .iter()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| !n.is_empty())
        .collect())
}

/// Where GraphQL Admin API requests go:
/// `{base_url}/admin/api/{api_version}/graphql.json`.
pub fn graphql_endpoint(ctx: &CallContext) -> Result<String, Error> {
    let base = require_config(ctx, "base_url")?
        .trim()
        .trim_end_matches('/');
    let version = config(ctx, "api_version")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_API_VERSION);
    let valid = version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(config_error(format!(
            "`api_version` `{version}` is not a Shopify API version such as {DEFAULT_API_VERSION}"
        )));
    }
    // `YYYY-MM` compares as text; `unstable` is the newest of all.
    let dated = version.len() == 7 && version.as_bytes()[4] == b'-';
    if (dated && version < OLDEST_API_VERSION) || (!dated && version != "unstable") {
        return Err(config_error(format!(
            "`api_version` `{version}` is not supported: stock is set with compare quantities \
             and idempotency keys, which need {OLDEST_API_VERSION} or later \
             (default {DEFAULT_API_VERSION})"
        )));
    }
    Ok(format!("{base}/admin/api/{version}/graphql.json"))
}
