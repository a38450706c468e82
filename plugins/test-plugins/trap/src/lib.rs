//! Panics (a wasm trap) when translating a webhook.
use poshub_connector_sdk::*;

fn describe_as(id: &str) -> ConnectorInfo {
    info(id, "0.1.0", "test")
        .topic("orders/create", "misbehaves")
        .host("*")
        .build()
}

struct Trap;

impl Connector for Trap {
    fn describe() -> ConnectorInfo {
        describe_as("test-trap")
    }
    fn webhook_auth(_: &str) -> Result<WebhookAuth, Error> {
        Ok(hmac_sha256_base64("X-Poshub-Signature"))
    }
    fn translate_webhook(
        _: &CallContext,
        _: &str,
        _: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        panic!("test-trap refuses {} bytes", body.len())
    }
}

register!(Trap);
