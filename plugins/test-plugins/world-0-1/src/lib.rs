//! A connector exactly as one was built for `poshub:connector@0.1.0`
//! (`wit/0.1.0/`), with the bindings of that world and not the SDK (which
//! follows the current one). Its `orders/create` takes the hub's own order
//! JSON, its one line included, as the canonical connector did then; it
//! pushes stock levels one per call, as connectors did before 0.3.0.
#![allow(clippy::too_many_arguments)] // generated lowering code
wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "connector" });

#[path = "../../legacy_push.rs"]
mod push;

use poshub::connector::log::{log, Level};
use poshub::connector::types::*;

struct WorldZeroOne;

fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn opt(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl Guest for WorldZeroOne {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "test-world-0-1".into(),
            version: "0.1.0".into(),
            platform: "test".into(),
            topics: vec![Topic {
                name: "orders/create".into(),
                description: "the hub's order JSON".into(),
            }],
            hosts: vec!["*".into()],
            config_schema: "{}".into(),
            api_dialect: false,
            outbound_auth: vec![],
        }
    }

    fn webhook_auth(_: String) -> Result<WebhookAuth, Error> {
        Ok(WebhookAuth {
            scheme: SignatureScheme::HmacSha256,
            header: "X-Poshub-Signature".into(),
            encoding: SignatureEncoding::Base64,
        })
    }

    fn translate_webhook(
        _: CallContext,
        _: String,
        _: Vec<Header>,
        body: Vec<u8>,
    ) -> Result<Vec<Document>, Error> {
        let o: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Error {
            kind: ErrorKind::InvalidInput,
            message: e.to_string(),
            retryable: false,
        })?;
        log(Level::Info, "translated by a 0.1.0 component");
        let line = &o["lines"][0];
        Ok(vec![Document::Order(Order {
            online_reference_no: text(&o["online_reference_no"]),
            location: opt(&o["location"]),
            customer: None,
            lines: vec![OrderLine {
                reference_code: opt(&line["reference_code"]),
                external_id: None,
                sku: None,
                title: None,
                quantity: text(&line["quantity"]),
                unit_price: text(&line["unit_price"]),
                discount: opt(&line["discount"]),
                tax_rate: opt(&line["tax_rate"]),
            }],
            shipping: o["shipping"]["amount"].as_str().map(|amount| Shipping {
                amount: amount.to_string(),
                method: None,
                address: None,
            }),
            payments: vec![Payment {
                kind: "cod".into(),
                amount: text(&o["total"]),
                reference: None,
            }],
            total: text(&o["total"]),
            placed_at: None,
            notes: Some("built for poshub:connector@0.1.0".into()),
        })])
    }

    fn plan_api(_: CallContext, _: ApiRequest) -> Result<ApiCommand, Error> {
        Err(nope())
    }

    fn render_api(_: CallContext, _: ApiRequest, _: HubAnswer) -> Result<ApiResponse, Error> {
        Err(nope())
    }

    fn plan_push(ctx: CallContext, change: Change) -> Result<Vec<HttpRequest>, Error> {
        push::plan(&ctx, &change, "0.1.0")
    }

    fn interpret_response(
        _: CallContext,
        _: Change,
        _: HttpRequest,
        response: HttpResponse,
    ) -> Result<Outcome, Error> {
        Ok(push::interpret(&response))
    }
}

fn nope() -> Error {
    Error {
        kind: ErrorKind::Unsupported,
        message: "a 0.1.0 test connector does only orders/create and stock".into(),
        retryable: false,
    }
}

export!(WorldZeroOne);
