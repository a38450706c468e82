//! Imports `test:forbidden/network` besides the connector world.
#![allow(clippy::too_many_arguments)] // generated lowering code
wit_bindgen::generate!({ path: "wit", world: "forbidden", generate_all });

use poshub::connector::types::*;

struct Forbidden;

impl Guest for Forbidden {
    fn describe() -> ConnectorInfo {
        let _ = test::forbidden::network::connect("evil.example");
        ConnectorInfo {
            id: "test-forbidden".into(),
            version: "0.1.0".into(),
            platform: "test".into(),
            topics: vec![],
            hosts: vec![],
            config_schema: "{}".into(),
            api_dialect: false,
            outbound_auth: vec![],
        }
    }
    fn webhook_auth(_: String) -> Result<WebhookAuth, Error> {
        Err(nope())
    }
    fn translate_webhook(
        _: CallContext,
        _: String,
        _: Vec<Header>,
        _: Vec<u8>,
    ) -> Result<Vec<Document>, Error> {
        Err(nope())
    }
    fn plan_api(_: CallContext, _: ApiRequest) -> Result<ApiCommand, Error> {
        Err(nope())
    }
    fn render_api(_: CallContext, _: ApiRequest, _: HubAnswer) -> Result<ApiResponse, Error> {
        Err(nope())
    }
    fn plan_push(_: CallContext, _: Change) -> Result<Vec<HttpRequest>, Error> {
        Err(nope())
    }
    fn interpret_response(
        _: CallContext,
        _: Change,
        _: HttpRequest,
        _: HttpResponse,
    ) -> Result<Outcome, Error> {
        Err(nope())
    }
}

fn nope() -> Error {
    Error {
        kind: ErrorKind::Unsupported,
        message: "no".into(),
        retryable: false,
    }
}

export!(Forbidden);
