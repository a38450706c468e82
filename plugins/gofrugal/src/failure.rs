//! The dialect's error shape, and the translation of the hub's field paths
//! into the dialect's field names.
//!
//! Every failure answers
//! `{"status": "failure", "code", "message", "errors": [{"field", "code", "message"}],
//! "error": {"code", "message"}}` (with `existingId` when a duplicate names
//! the order that already exists). `error` is the vendor's own error
//! object, which real clients read: its `code` is 4000 + the HTTP status
//! (`4422` for a 422), its `message` the same as the top-level one.

use poshub_connector_sdk::{ApiResponse, Header};
use serde::Deserialize;

use crate::json::{response, Json};

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProblem {
    /// Dialect field path, e.g. `orderItems[1].itemAmount`.
    pub field: String,
    /// Stable machine-readable code, e.g. `item_amount_mismatch`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// Every problem found in a request, collected so that all are reported at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    /// Records a problem with `field`.
    pub fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        });
    }

    /// Ok when nothing was recorded, else a 400 listing every problem.
    pub fn into_result(self, what: &str) -> Result<(), Failure> {
        match self.0.len() {
            0 => Ok(()),
            1 => {
                let only = &self.0[0];
                let message = format!("{what}: {}: {}", only.field, only.message);
                Err(Failure::new(400, &only.code, message).with_errors(self.0))
            }
            n => Err(
                Failure::new(400, "validation_failed", format!("{what} has {n} problems"))
                    .with_errors(self.0),
            ),
        }
    }
}

/// A failure answered in the dialect.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub errors: Vec<FieldProblem>,
    /// The existing order a duplicate is about.
    pub existing_id: Option<i64>,
    /// Extra response headers (e.g. `allow` on a 405).
    pub headers: Vec<Header>,
}

impl Failure {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code: code.to_string(),
            message: message.into(),
            errors: vec![],
            existing_id: None,
            headers: vec![],
        }
    }

    /// A 400 about one field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Failure {
        let message = message.into();
        Failure::new(400, code, format!("{field}: {message}")).with_errors(vec![FieldProblem {
            field: field.to_string(),
            code: code.to_string(),
            message,
        }])
    }

    pub fn with_errors(mut self, errors: Vec<FieldProblem>) -> Failure {
        self.errors = errors;
        self
    }

    /// The dialect response.
    pub fn to_response(&self) -> ApiResponse {
        let errors = self
            .errors
            .iter()
            .map(|e| {
                Json::object([
                    ("field", Json::str(&e.field)),
                    ("code", Json::str(&e.code)),
                    ("message", Json::str(&e.message)),
                ])
            })
            .collect();
        let mut body = vec![
            ("status", Json::str("failure")),
            ("code", Json::str(&self.code)),
            ("message", Json::str(&self.message)),
            ("errors", Json::Array(errors)),
        ];
        if let Some(id) = self.existing_id {
            body.push(("existingId", Json::int(id)));
        }
        body.push((
            "error",
            Json::object([
                ("code", Json::int(4000 + i64::from(self.status))),
                ("message", Json::str(&self.message)),
            ]),
        ));
        response(self.status, &Json::object(body), self.headers.clone())
    }
}

/// The hub's problem+json answer, as far as the dialect uses it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HubProblem {
    code: Option<String>,
    title: Option<String>,
    detail: Option<String>,
    errors: Option<Vec<HubFieldError>>,
    existing_id: Option<i64>,
    /// Per-line availability when stock is short.
    lines: Option<Vec<HubLineAvailability>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HubFieldError {
    field: String,
    code: String,
    message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HubLineAvailability {
    line: usize,
    reference_code: String,
    requested: String,
    available: String,
}

/// Which of the dialect's alternative field names a request used, so that
/// an error the hub finds names the field the client actually sent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sent {
    /// Rows of `orderItems` whose reference code is their `itemId` (they
    /// carry no `itemReferenceCode`).
    pub item_id_rows: Vec<usize>,
    /// The location came as `outletId` (no `locationId`).
    pub outlet_id: bool,
    /// The note came as `orderRemarks` (no `remarks`).
    pub order_remarks: bool,
}

impl Sent {
    /// The dialect field of a hub field path, as this request named it:
    /// [`dialect_field`], except `orderItems[i].itemId` for the reference
    /// code of a row that sent only `itemId`, `outletId` and `orderRemarks`
    /// when those were sent instead of `locationId` and `remarks`.
    pub fn field(&self, canonical: &str) -> String {
        if let Some(i) = line_index(canonical, ".reference_code") {
            if self.item_id_rows.contains(&i) {
                return format!("orderItems[{i}].itemId");
            }
        }
        match canonical {
            "location" if self.outlet_id => "outletId".to_string(),
            "notes" if self.order_remarks => "orderRemarks".to_string(),
            other => dialect_field(other),
        }
    }
}

/// `i` of `lines[i]TAIL`.
fn line_index(canonical: &str, tail: &str) -> Option<usize> {
    let rest = canonical.strip_prefix("lines[")?.strip_suffix(tail)?;
    rest.strip_suffix(']')?.parse().ok()
}

/// An error the hub answered (a problem+json body with `status` >= 400),
/// in the dialect with the same status. Field paths are translated by
/// [`Sent::field`]; a stock shortage lists each short item as a problem
/// with its `quantity`; a duplicate names the existing order in `existingId`.
pub fn from_hub_problem(status: u16, body: &str, sent: &Sent) -> Failure {
    let problem: HubProblem = serde_json::from_str(body).unwrap_or_default();
    let code = problem.code.unwrap_or_else(|| "error".to_string());
    let message = problem
        .detail
        .or(problem.title)
        .unwrap_or_else(|| format!("the hub answered {status}"));
    let mut errors: Vec<FieldProblem> = problem
        .errors
        .into_iter()
        .flatten()
        .map(|e| FieldProblem {
            field: sent.field(&e.field),
            code: e.code,
            message: e.message,
        })
        .collect();
    errors.extend(problem.lines.into_iter().flatten().map(|l| FieldProblem {
        field: format!("orderItems[{}].quantity", l.line),
        code: "insufficient_stock".to_string(),
        message: format!(
            "{} of {} requested, {} available",
            l.requested, l.reference_code, l.available
        ),
    }));
    Failure {
        existing_id: problem.existing_id,
        ..Failure::new(status, &code, message).with_errors(errors)
    }
}

/// The dialect's name for a field path of the hub's order body:
/// `lines[2].reference_code` is `orderItems[2].itemReferenceCode`, `total`
/// is `totalAmount`. Paths the dialect has no name for are kept as they are.
pub fn dialect_field(canonical: &str) -> String {
    if let Some(field) = line_field(canonical) {
        return field;
    }
    if canonical.starts_with("payments[") {
        return match canonical.rsplit('.').next() {
            Some("amount") => "totalAmount",
            Some("reference") => "paymentReference",
            _ => "paymentMode",
        }
        .to_string();
    }
    match canonical {
        "online_reference_no" => "onlineReferenceNo",
        "location" => "locationId",
        "lines" => "orderItems",
        "customer" => "customerName",
        "customer.name" => "customerName",
        "customer.phone" => "customerMobile",
        "customer.email" => "customerEmail",
        "customer.address" => "customerAddress",
        "shipping" | "shipping.amount" => "shippingCharge",
        "shipping.method" => "shippingMethod",
        "shipping.address" => "shippingAddress",
        "payments" => "paymentMode",
        "total" => "totalAmount",
        "placed_at" => "createdAt",
        "notes" => "remarks",
        other => other,
    }
    .to_string()
}

/// `lines[i]...` as `orderItems[i]...`.
fn line_field(canonical: &str) -> Option<String> {
    let rest = canonical.strip_prefix("lines[")?;
    let (index, tail) = rest.split_once(']')?;
    index.parse::<usize>().ok()?;
    let tail = match tail {
        ".reference_code" => ".itemReferenceCode",
        ".unit_price" => ".salePrice",
        ".discount" => ".discountPercentage",
        ".tax_rate" => ".taxPercentage",
        other => other,
    };
    Some(format!("orderItems[{index}]{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_fields_in_dialect_names() {
        for (hub, dialect) in [
            ("lines[2].reference_code", "orderItems[2].itemReferenceCode"),
            ("lines[0].quantity", "orderItems[0].quantity"),
            ("lines[1].discount", "orderItems[1].discountPercentage"),
            ("lines[3]", "orderItems[3]"),
            ("total", "totalAmount"),
            ("customer.phone", "customerMobile"),
            ("online_reference_no", "onlineReferenceNo"),
            ("payments[0].type", "paymentMode"),
            ("payments[0].amount", "totalAmount"),
            ("lines[x].quantity", "lines[x].quantity"),
            ("something_else", "something_else"),
        ] {
            assert_eq!(dialect_field(hub), dialect, "{hub}");
            assert_eq!(Sent::default().field(hub), dialect, "{hub}");
        }
    }

    #[test]
    fn hub_fields_in_the_names_the_client_sent() {
        let sent = Sent {
            item_id_rows: vec![0, 2],
            outlet_id: true,
            order_remarks: true,
        };
        for (hub, dialect) in [
            ("lines[0].reference_code", "orderItems[0].itemId"),
            ("lines[1].reference_code", "orderItems[1].itemReferenceCode"),
            ("lines[2].reference_code", "orderItems[2].itemId"),
            ("lines[2].quantity", "orderItems[2].quantity"),
            ("location", "outletId"),
            ("notes", "orderRemarks"),
            ("total", "totalAmount"),
        ] {
            assert_eq!(sent.field(hub), dialect, "{hub}");
        }
    }

    #[test]
    fn failures_carry_the_vendor_error_object() {
        let r =
            Failure::field("paymentMode", "required", "`paymentMode` is required").to_response();
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(body["status"], "failure");
        assert_eq!(body["code"], "required");
        assert_eq!(
            body["error"],
            serde_json::json!({"code": 4400, "message": "paymentMode: `paymentMode` is required"})
        );
        let r = from_hub_problem(
            422,
            r#"{"code":"total_mismatch","detail":"no"}"#,
            &Sent::default(),
        )
        .to_response();
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body["error"],
            serde_json::json!({"code": 4422, "message": "no"})
        );
    }
}
