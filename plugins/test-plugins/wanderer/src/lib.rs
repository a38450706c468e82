//! Plans every push to the URL in its config's `target` (any host), with
//! the `Host` header in `host_header` when set: the host must refuse what
//! leaves the store's `base_url` and drop the Host header.
use poshub_connector_sdk::*;

struct Wanderer;

impl Connector for Wanderer {
    fn describe() -> ConnectorInfo {
        info("test-wanderer", "0.1.0", "test")
            // The worst case: a connector that declares every host.
            .host("*")
            .build()
    }
    fn webhook_auth(_: &str) -> Result<WebhookAuth, Error> {
        Ok(hmac_sha256_base64("X-Poshub-Signature"))
    }
    fn plan_change(ctx: &CallContext, _: &PendingChange) -> Result<Vec<HttpRequest>, Error> {
        let target = require_config(ctx, "target")?;
        let mut extra = vec![];
        if let Some(host) = config(ctx, "host_header") {
            extra.push(Header {
                name: "Host".into(),
                value: host.into(),
            });
        }
        Ok(vec![json_request(
            "POST",
            target.to_string(),
            &serde_json::json!({"wandered": true}),
            extra,
        )])
    }
}

register!(Wanderer);
