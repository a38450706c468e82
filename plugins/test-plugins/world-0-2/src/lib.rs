//! A connector built for `poshub:connector@0.2.0` (`wit/0.2.0/`), before
//! batched pushes: it plans one stock level per call and reads one outcome
//! per response; the host must keep loading it and carry its pushes.
#![allow(clippy::too_many_arguments)] // generated lowering code
wit_bindgen::generate!({ path: "../../../wit/0.2.0", world: "connector" });

#[path = "../../legacy_push.rs"]
mod push;

use poshub::connector::types::*;

struct WorldZeroTwo;

impl Guest for WorldZeroTwo {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "test-world-0-2".into(),
            version: "0.2.0".into(),
            platform: "test".into(),
            topics: vec![],
            hosts: vec!["*".into()],
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

    fn plan_push(ctx: CallContext, change: Change) -> Result<Vec<HttpRequest>, Error> {
        push::plan(&ctx, &change, "0.2.0")
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
        message: "a 0.2.0 test connector only pushes stock".into(),
        retryable: false,
    }
}

export!(WorldZeroTwo);
