// One connector built twice (`versioned-v1`, `versioned-v2`) under the same
// id with different versions, for the hot-reload test. It translates the
// hub's own order JSON and notes which version did it; with the header
// `x-slow` it first spins for a while so that a reload can happen mid-call.
use poshub_connector_sdk::*;

struct Versioned;

impl Connector for Versioned {
    fn describe() -> ConnectorInfo {
        info("test-versioned", VERSION, "test").topic("orders/create", "hub order JSON").host("*").build()
    }

    fn webhook_auth(_: &str) -> Result<WebhookAuth, Error> {
        Ok(hmac_sha256_base64("X-Poshub-Signature"))
    }

    fn translate_webhook(_: &CallContext, _: &str, headers: &[Header], body: &[u8]) -> Result<Vec<Document>, Error> {
        if let Some(rounds) = header(headers, "x-slow").and_then(|v| v.parse::<u64>().ok()) {
            let mut n = 1u64;
            for _ in 0..rounds {
                n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let order: serde_json::Value = parse_json(body)?;
        let line = &order["lines"][0];
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        Ok(vec![Document::Order(Order {
            online_reference_no: text(&order["online_reference_no"]),
            location: order["location"].as_str().map(str::to_string),
            customer: None,
            lines: vec![OrderLine {
                reference_code: Some(text(&line["reference_code"])),
                external_id: None,
                sku: None,
                title: None,
                quantity: text(&line["quantity"]),
                unit_price: text(&line["unit_price"]),
                discount: None,
                tax_rate: None,
                tax_amount: None,
            }],
            shipping: None,
            charges: vec![],
            payments: vec![Payment { kind: "cod".into(), amount: text(&order["total"]), reference: None }],
            total: text(&order["total"]),
            currency: None,
            prices_include_tax: None,
            test: false,
            placed_at: None,
            notes: Some(format!("translated by test-versioned {VERSION}")),
        })])
    }
}

register!(Versioned);
