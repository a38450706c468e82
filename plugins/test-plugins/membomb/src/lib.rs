//! Allocates without bound when translating a webhook.
use poshub_connector_sdk::*;

fn describe_as(id: &str) -> ConnectorInfo {
    info(id, "0.1.0", "test")
        .topic("orders/create", "misbehaves")
        .host("*")
        .build()
}

struct MemBomb;

impl Connector for MemBomb {
    fn describe() -> ConnectorInfo {
        describe_as("test-membomb")
    }
    fn webhook_auth(_: &str) -> Result<WebhookAuth, Error> {
        Ok(hmac_sha256_base64("X-Poshub-Signature"))
    }
    fn translate_webhook(
        _: &CallContext,
        _: &str,
        _: &[Header],
        _: &[u8],
    ) -> Result<Vec<Document>, Error> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![7u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

register!(MemBomb);
