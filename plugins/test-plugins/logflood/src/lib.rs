//! Floods the logs (10 MB through the log import, 10 MB to stderr), then
//! translates the hub's own order JSON like the canonical connector.
use poshub_connector_sdk::*;

fn describe_as(id: &str) -> ConnectorInfo {
    info(id, "0.1.0", "test")
        .topic("orders/create", "misbehaves")
        .host("*")
        .build()
}

struct LogFlood;

impl Connector for LogFlood {
    fn describe() -> ConnectorInfo {
        describe_as("test-logflood")
    }
    fn webhook_auth(_: &str) -> Result<WebhookAuth, Error> {
        Ok(hmac_sha256_base64("X-Poshub-Signature"))
    }
    fn translate_webhook(
        ctx: &CallContext,
        topic: &str,
        headers: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        let line = "x".repeat(1024);
        for i in 0..10_240 {
            log(Level::Info, &format!("{i} {line}"));
        }
        for _ in 0..10_240 {
            eprintln!("{line}");
        }
        let _ = (ctx, topic, headers);
        let order: serde_json::Value = parse_json(body)?;
        let reference = order["online_reference_no"]
            .as_str()
            .unwrap_or("FLOOD")
            .to_string();
        Ok(vec![Document::Cancellation(Cancellation {
            online_reference_no: reference,
            reason: Some("flooded".into()),
        })])
    }
}

register!(LogFlood);
