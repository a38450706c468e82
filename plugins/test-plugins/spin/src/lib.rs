//! Loops forever when translating a webhook.
use poshub_connector_sdk::*;

fn describe_as(id: &str) -> ConnectorInfo {
    info(id, "0.1.0", "test")
        .topic("orders/create", "misbehaves")
        .host("*")
        .build()
}

struct Spin;

impl Connector for Spin {
    fn describe() -> ConnectorInfo {
        describe_as("test-spin")
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
        let mut n: u64 = body.len() as u64;
        loop {
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

register!(Spin);
