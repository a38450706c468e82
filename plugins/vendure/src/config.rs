//! The store's connector configuration as this connector reads it, and the
//! JSON Schema that describes it to the merchant.
//!
//! Secrets (`webhook_secret`, `api_key`, `auth_token`) are declared in the
//! schema but never reach the plugin: the host verifies webhooks and adds
//! `vendure-api-key` or `Authorization: Bearer` to planned requests itself.

use poshub_connector_sdk::{config, config_error, require_config, CallContext, Error};
use serde_json::{json, Value};

/// Where Vendure serves its Admin API unless `apiOptions.adminApiPath`
/// says otherwise.
pub const DEFAULT_ADMIN_API_PATH: &str = "admin-api";

/// Decimal places of Vendure's integer money: `DefaultMoneyStrategy` has a
/// precision of 2 for every currency (JPY included), so 599.00 is `59900`.
pub const DEFAULT_MONEY_PRECISION: u32 = 2;

/// Payment method codes that mean cash on delivery (compared ignoring case).
const COD_METHODS: &[&str] = &["cash-on-delivery", "cod"];

/// The JSON Schema of a Vendure store's configuration.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["webhook_secret", "base_url"],
        "properties": {
            "webhook_secret": {
                "type": "string",
                "description": "The secret the connector's Vendure plugin signs events with (PoshubPlugin.init({webhookSecret}); X-Poshub-Hmac-Sha256, base64 HMAC-SHA256 of the body)",
                "writeOnly": true
            },
            "base_url": {
                "type": "string",
                "format": "uri",
                "description": "The Vendure server's address, e.g. https://shop.example.com; Admin API requests go to {base_url}/{admin_api_path}"
            },
            "admin_api_path": {
                "type": "string",
                "description": "Vendure's apiOptions.adminApiPath",
                "default": DEFAULT_ADMIN_API_PATH
            },
            "api_key": {
                "type": "string",
                "description": "A Vendure API key (Vendure 3.6+, authOptions.tokenMethod including 'api-key'), sent as vendure-api-key; set this or auth_token",
                "writeOnly": true
            },
            "auth_token": {
                "type": "string",
                "description": "A Vendure session token (the vendure-auth-token header of an Admin API login, tokenMethod 'bearer'), sent as Authorization: Bearer; set this or api_key",
                "writeOnly": true
            },
            "channel_token": {
                "type": "string",
                "description": "The Vendure channel's token (sent as vendure-token) when the store is not the default channel"
            },
            "location_ids": {
                "type": "object",
                "description": "Hub location code -> Vendure stock location id: where each hub location's stock is published (optional when the variants have one stock location)",
                "additionalProperties": {"type": ["string", "integer"]}
            },
            "location": {
                "type": "string",
                "description": "Hub location code orders from this channel are fulfilled from (optional when the store has one location)"
            },
            "money_precision": {
                "type": "integer",
                "minimum": 0,
                "maximum": 6,
                "default": DEFAULT_MONEY_PRECISION,
                "description": "Decimal places of Vendure's integer money (the MoneyStrategy's precision; 2 unless the server configures another strategy)"
            },
            "cod_methods": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Extra payment method codes that mean cash on delivery, besides \"cash-on-delivery\" and \"cod\""
            },
            "fulfillment_handler": {
                "type": "string",
                "default": "manual-fulfillment",
                "description": "The fulfilment handler code shipments are created with (its `method` and `trackingCode` arguments carry the carrier and tracking number)"
            }
        }
    })
}

/// The Admin API's address: `{base_url}/{admin_api_path}`.
pub fn admin_api(ctx: &CallContext) -> Result<String, Error> {
    let base = require_config(ctx, "base_url")?
        .trim()
        .trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(config_error(format!(
            "base_url `{base}` is not an http(s) address of the Vendure server"
        )));
    }
    let path = config(ctx, "admin_api_path")
        .map(|p| p.trim().trim_matches('/'))
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_ADMIN_API_PATH);
    Ok(format!("{base}/{path}"))
}

/// The store's money precision (`money_precision`, else 2).
pub fn money_precision(ctx: &CallContext) -> Result<u32, Error> {
    match config(ctx, "money_precision") {
        None => Ok(DEFAULT_MONEY_PRECISION),
        Some(raw) => raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p <= 6)
            .ok_or_else(|| {
                config_error(format!(
                    "money_precision `{raw}` is not a whole number from 0 to 6"
                ))
            }),
    }
}

/// What order translation needs from the config.
pub struct OrderSettings {
    /// Hub location code orders are fulfilled from, when configured.
    pub location: Option<String>,
    /// Lower-cased payment method codes that mean cash on delivery.
    pub cod_methods: Vec<String>,
    /// Decimal places of Vendure's integer money.
    pub precision: u32,
}

impl OrderSettings {
    /// Reads `location`, `cod_methods` and `money_precision`.
    pub fn read(ctx: &CallContext) -> Result<OrderSettings, Error> {
        let mut cod_methods: Vec<String> = COD_METHODS.iter().map(|m| m.to_string()).collect();
        if let Some(raw) = config(ctx, "cod_methods") {
            let extra: Vec<String> = serde_json::from_str(raw).map_err(|_| {
                config_error("cod_methods must be a JSON array of payment method codes")
            })?;
            cod_methods.extend(extra.into_iter().map(|m| m.trim().to_lowercase()));
        }
        Ok(OrderSettings {
            location: config(ctx, "location")
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
            cod_methods,
            precision: money_precision(ctx)?,
        })
    }
}

/// The fulfilment handler shipments are created with.
pub fn fulfillment_handler(ctx: &CallContext) -> String {
    config(ctx, "fulfillment_handler")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .unwrap_or("manual-fulfillment")
        .to_string()
}
