//! The `gofrugal` connector: the legacy POS vendor's eCommerce API dialect.
//!
//! A storefront written for the vendor's API keeps working against the hub
//! when its base URL points at `https://HUB/compat/{store_code}`. The hub
//! routes `/compat/{store}/{*path}`, checks the `X-Auth-Token` header as one
//! of the store's API keys, and asks this connector what the request means
//! ([`plan_api`](Connector::plan_api): a canonical command, or a dialect
//! answer of its own such as a validation error); it then runs the command
//! as the store API v1 would and has the connector render the canonical
//! answer back in the dialect ([`render_api`](Connector::render_api)).
//!
//! | request | command |
//! | --- | --- |
//! | `GET /items?locationId=&q=itemTimeStamp>=..&limit=&cursor=` | list items |
//! | `GET /salesOrders?q=createdAt>=..&status=&limit=&cursor=` | list orders |
//! | `GET /salesOrders/{id}`, `GET /salesOrders?id={id}` | get an order |
//! | `POST /salesOrders` with `{"salesOrder": {...}}` | create an order |
//!
//! Paths may carry the vendor's own prefix (`/WebReporter/api/v1/items`,
//! also `/RayMedi_HQ`, `/TruePOS` and `/servquick`, any case), as clients
//! written for one of the vendor's products have it in their base URL.
//!
//! The dialect has no webhooks and pushes nothing. `README.md` next to this
//! crate documents every field for storefront developers.
//!
//! Modules: [`order_in`] reads sales orders, [`query`] list queries,
//! [`render`] writes the hub's answers, [`failure`] the error shape,
//! [`json`] exact JSON numbers, [`time`] the vendor's date format.

pub mod failure;
pub mod json;
pub mod order_in;
pub mod query;
pub mod render;
pub mod time;

use poshub_connector_sdk::*;
use serde_json::json;

use crate::failure::{Failure, Sent};
use crate::json::{response, Json};
use crate::order_in::PaymentModes;
use crate::query::Params;
use crate::time::{Offset, DEFAULT_OFFSET};

pub struct Gofrugal;

/// What a dialect request asks for, once its path and method are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    ListItems,
    ListOrders,
    GetOrder(i64),
    CreateOrder,
}

/// The dialect's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Items,
    SalesOrders,
    SalesOrder(&'a str),
}

/// The path prefixes of the vendor's products, before their API's own paths.
const VENDOR_PREFIXES: [&str; 4] = [
    "/WebReporter/api/v1",
    "/RayMedi_HQ/api/v1",
    "/TruePOS/api/v1",
    "/servquick/api/v1",
];

/// `path` without a leading vendor prefix (any case).
fn strip_vendor_prefix(path: &str) -> &str {
    for prefix in VENDOR_PREFIXES {
        let Some(head) = path.get(..prefix.len()) else {
            continue;
        };
        let rest = &path[prefix.len()..];
        if head.eq_ignore_ascii_case(prefix) && (rest.is_empty() || rest.starts_with('/')) {
            return rest;
        }
    }
    path
}

impl Route<'_> {
    fn parse(path: &str) -> Option<Route<'_>> {
        let path = strip_vendor_prefix(path).trim_end_matches('/');
        match path {
            "/items" => Some(Route::Items),
            "/salesOrders" => Some(Route::SalesOrders),
            _ => {
                let id = path.strip_prefix("/salesOrders/")?;
                (!id.is_empty() && !id.contains('/')).then_some(Route::SalesOrder(id))
            }
        }
    }

    fn methods(self) -> &'static str {
        match self {
            Route::Items | Route::SalesOrder(_) => "GET",
            Route::SalesOrders => "GET, POST",
        }
    }
}

/// The call a request makes, or the dialect's 404 / 405 / 400.
fn call(request: &ApiRequest, params: &Params) -> Result<Call, Failure> {
    let Some(route) = Route::parse(&request.path) else {
        return Err(Failure::new(
            404,
            "not_found",
            format!(
                "no such path `{}`; the API has /items, /salesOrders and /salesOrders/{{id}}",
                request.path
            ),
        ));
    };
    let method = request.method.to_ascii_uppercase();
    match (route, method.as_str()) {
        (Route::Items, "GET") => Ok(Call::ListItems),
        (Route::SalesOrders, "GET") => Ok(match query::order_id_param(params)? {
            Some(id) => Call::GetOrder(id),
            None => Call::ListOrders,
        }),
        (Route::SalesOrders, "POST") => Ok(Call::CreateOrder),
        (Route::SalesOrder(id), "GET") => Ok(Call::GetOrder(query::order_id(id, "id")?)),
        (route, _) => {
            let allowed = route.methods();
            let mut failure = Failure::new(
                405,
                "method_not_allowed",
                format!(
                    "{} {} is not supported; use {allowed}",
                    request.method, request.path
                ),
            );
            failure.headers.push(Header {
                name: "allow".to_string(),
                value: allowed.to_string(),
            });
            Err(failure)
        }
    }
}

/// The offset of the vendor's local times (`utc_offset`, `+05:30` by default).
fn utc_offset(ctx: &CallContext) -> Result<Offset, Error> {
    match config(ctx, "utc_offset") {
        None => Ok(DEFAULT_OFFSET),
        Some(raw) => Offset::parse(raw).ok_or_else(|| {
            config_error(format!(
                "the store's `utc_offset` `{raw}` is not an offset such as +05:30"
            ))
        }),
    }
}

/// What the store's `payment_modes` and `default_payment_mode` make of
/// `paymentMode`.
fn payment_modes(ctx: &CallContext) -> Result<PaymentModes, Error> {
    PaymentModes::from_config(
        config(ctx, "payment_modes"),
        config(ctx, "default_payment_mode"),
    )
    .map_err(config_error)
}

/// Why a request gets no command.
enum Refusal {
    /// The request is refused in the dialect.
    Dialect(Failure),
    /// The store's config is wrong (the merchant's error, not the client's).
    Config(Error),
}

impl From<Failure> for Refusal {
    fn from(failure: Failure) -> Refusal {
        Refusal::Dialect(failure)
    }
}

/// The canonical command of a request, or why there is none.
fn command(ctx: &CallContext, request: &ApiRequest, offset: Offset) -> Result<ApiCommand, Refusal> {
    let params = Params::parse(&request.query)?;
    Ok(match call(request, &params)? {
        Call::ListItems => ApiCommand::ListItems(query::item_query(&params, offset)?),
        Call::ListOrders => ApiCommand::ListOrders(query::order_query(&params, offset)?),
        Call::GetOrder(id) => ApiCommand::GetOrder(id),
        Call::CreateOrder => {
            // Read only for orders: a config mistake here does not stop
            // the item and order lists.
            let modes = payment_modes(ctx).map_err(Refusal::Config)?;
            ApiCommand::CreateOrder(order_in::create_order(
                &request.body,
                offset,
                config(ctx, "location"),
                &modes,
            )?)
        }
    })
}

impl Connector for Gofrugal {
    fn describe() -> ConnectorInfo {
        info("gofrugal", env!("CARGO_PKG_VERSION"), "GoFrugal eCommerce API")
            .api_dialect()
            .config_schema(json!({
                "type": "object",
                "properties": {
                    "webhook_secret": {
                        "type": "string",
                        "writeOnly": true,
                        "description": "HMAC-SHA256 key for signed webhooks (the same meaning as for other connectors); unused by this dialect, which has no webhooks"
                    },
                    "base_url": {
                        "type": "string",
                        "format": "uri",
                        "description": "Where pushes to the storefront go (the same meaning as for other connectors); unused by this dialect, which pushes nothing: the storefront pulls from /compat/{store_code}"
                    },
                    "utc_offset": {
                        "type": "string",
                        "pattern": "^([+-][0-9]{2}:[0-9]{2}|Z)$",
                        "default": "+05:30",
                        "description": "UTC offset of the dialect's local times (yyyy-MM-dd HH:mm:ss), e.g. +05:30"
                    },
                    "location": {
                        "type": "string",
                        "description": "Hub location code for new sales orders that name no locationId"
                    },
                    "default_payment_mode": {
                        "type": ["string", "integer"],
                        "description": "The paymentMode of a new sales order that names none: 1, 2, a name such as cod or card, or a name of payment_modes; without it such an order is refused"
                    },
                    "payment_modes": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "string",
                            "pattern": "^[a-z0-9_]{1,32}$"
                        },
                        "description": "paymentMode names (any case) and the hub payment type each becomes, e.g. {\"UPI\": \"upi\"}; they come before the built-in names"
                    }
                }
            }))
            .build()
    }

    fn plan_api(ctx: &CallContext, request: &ApiRequest) -> Result<ApiCommand, Error> {
        let offset = utc_offset(ctx)?;
        match command(ctx, request, offset) {
            Ok(command) => Ok(command),
            Err(Refusal::Dialect(failure)) => Ok(ApiCommand::Respond(failure.to_response())),
            Err(Refusal::Config(error)) => Err(error),
        }
    }

    fn render_api(
        ctx: &CallContext,
        request: &ApiRequest,
        answer: &HubAnswer,
    ) -> Result<ApiResponse, Error> {
        let offset = utc_offset(ctx)?;
        if answer.status >= 400 {
            // The hub's errors about an order name the fields it was sent with.
            let created = Params::parse(&request.query)
                .is_ok_and(|params| matches!(call(request, &params), Ok(Call::CreateOrder)));
            let sent = if created {
                order_in::sent(&request.body)
            } else {
                Sent::default()
            };
            return Ok(failure::from_hub_problem(answer.status, &answer.body, &sent).to_response());
        }
        let params = Params::parse(&request.query).map_err(|f| render::internal(f.message))?;
        let call = call(request, &params).map_err(|f| {
            render::internal(format!(
                "render_api for a request plan_api answers itself: {}",
                f.message
            ))
        })?;
        let body: Json = match call {
            Call::CreateOrder => render::created_order(&answer.body, offset)?,
            Call::GetOrder(_) => render::one_order(&answer.body, offset)?,
            Call::ListOrders => {
                render::order_page(&answer.body, offset, query::created_since(&params, offset))?
            }
            Call::ListItems => {
                let location = params.get("locationId", &mut Default::default());
                render::item_page(&answer.body, offset, location)?
            }
        };
        Ok(response(answer.status, &body, vec![]))
    }
}

register!(Gofrugal);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_prefixes_are_stripped() {
        for (path, route) in [
            ("/items", Some(Route::Items)),
            ("/WebReporter/api/v1/items", Some(Route::Items)),
            ("/webreporter/API/V1/salesOrders/", Some(Route::SalesOrders)),
            ("/RayMedi_HQ/api/v1/items", Some(Route::Items)),
            (
                "/TruePOS/api/v1/salesOrders/17",
                Some(Route::SalesOrder("17")),
            ),
            ("/servquick/api/v1/salesOrders", Some(Route::SalesOrders)),
            ("/WebReporter/api/v1", None),
            ("/WebReporter/api/v1items", None),
            ("/WebReporter/api/v2/items", None),
            ("/WebReporter/items", None),
            ("/x/WebReporter/api/v1/items", None),
            ("/TruePOS/api/v1/TruePOS/api/v1/items", None),
            ("/é", None),
        ] {
            assert_eq!(Route::parse(path), route, "{path}");
        }
    }
}
