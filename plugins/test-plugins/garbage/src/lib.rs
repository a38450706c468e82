//! Returns orders the hub must refuse: a negative quantity, an unknown
//! reference code, an amount that is not a number.
use poshub_connector_sdk::*;

fn describe_as(id: &str) -> ConnectorInfo {
    info(id, "0.1.0", "test")
        .topic("orders/create", "misbehaves")
        .host("*")
        .build()
}

struct Garbage;

fn line(code: &str, quantity: &str, price: &str) -> OrderLine {
    OrderLine {
        reference_code: Some(code.to_string()),
        external_id: None,
        sku: None,
        title: None,
        quantity: quantity.to_string(),
        unit_price: price.to_string(),
        discount: None,
        tax_rate: None,
        tax_amount: None,
    }
}

impl Connector for Garbage {
    fn describe() -> ConnectorInfo {
        describe_as("test-garbage")
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
        let kind = String::from_utf8_lossy(body).trim().to_string();
        let lines = match kind.as_str() {
            "unknown-code" => vec![line("NO-SUCH-CODE", "1", "100.00")],
            "not-a-number" => vec![line("MUG", "1", "one hundred")],
            _ => vec![line("MUG", "-1", "100.00")],
        };
        Ok(vec![Document::Order(Order {
            online_reference_no: format!("GARBAGE-{kind}"),
            location: None,
            customer: None,
            lines,
            shipping: None,
            charges: vec![],
            payments: vec![Payment {
                kind: "cod".into(),
                amount: "100.00".into(),
                reference: None,
            }],
            total: "100.00".to_string(),
            currency: None,
            prices_include_tax: None,
            test: false,
            placed_at: None,
            notes: None,
        })])
    }
}

register!(Garbage);
