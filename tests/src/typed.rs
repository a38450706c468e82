//! A typed client for the common calls: each takes the request a test
//! builds and answers the resource as a struct, or the problem the hub
//! refused it with. The `Value`-based calls of [`TestHub`] stay for the
//! tests that check raw shapes; these are for the tests that only need the
//! figures.
//!
//! An answer of a status the call does not expect panics with the whole
//! answer (a 2xx that is not the call's, or a refusal that is not
//! problem+json), so that a test reads as the story it tells.

// A test's refusal is read, never passed along: boxing it would only make
// every `.expect_err()` read worse.
#![allow(clippy::result_large_err)]

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Answer, TestHub, ADMIN_TOKEN};

/// A refusal, as problem+json carries it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(default)]
    pub errors: Vec<FieldProblem>,
    pub existing_id: Option<i64>,
    pub current_status: Option<String>,
}

/// One field's problem in a validation refusal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// A sales order, with the figures tests look at (money and quantities as
/// the API writes them: decimal text).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    pub id: i64,
    pub online_reference_no: String,
    pub store: String,
    pub location: String,
    pub status: String,
    pub total: String,
    pub original_total: String,
    pub currency: String,
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub credit_notes: Vec<Value>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderLine {
    pub line_no: i32,
    pub reference_code: String,
    pub quantity: String,
    pub cancelled_quantity: String,
    pub returned_quantity: String,
    pub unit_price: String,
    pub amount: String,
}

/// One step of an order's history.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryEntry {
    pub status: String,
    pub by: String,
    pub note: Option<String>,
}

/// A sales bill.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Bill {
    pub bill_no: String,
    pub order_id: i64,
    pub payment_type: String,
    pub total: String,
}

/// One variant's stock at one location, as the admin API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StockLevel {
    pub location: String,
    pub on_hand: String,
    pub reserved: String,
    pub available: String,
}

/// The resource of an answer of `status`, or its problem.
#[track_caller]
pub fn typed<T: DeserializeOwned>(answer: &Answer, status: u16) -> Result<T, Problem> {
    if answer.status.as_u16() == status {
        return Ok(serde_json::from_value(answer.body.clone())
            .unwrap_or_else(|e| panic!("{e}: {}", answer.text)));
    }
    let is_problem = answer
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        == Some("application/problem+json");
    assert!(
        !answer.status.is_success() && is_problem,
        "answer is neither {status} nor a problem: {} {}",
        answer.status,
        answer.text
    );
    let problem: Problem = serde_json::from_value(answer.body.clone())
        .unwrap_or_else(|e| panic!("not a problem ({e}): {}", answer.text));
    assert_eq!(
        problem.status,
        answer.status.as_u16(),
        "a problem's status is its answer's"
    );
    Err(problem)
}

impl TestHub {
    /// `POST /api/v1/sales-orders` with a store key: the new order (201).
    pub async fn place_order(&self, key: &str, body: &Value) -> Result<Order, Problem> {
        let answer = self
            .call(
                Method::POST,
                "/api/v1/sales-orders",
                Some(key),
                Some(body),
                &[],
            )
            .await;
        typed(&answer, 201)
    }

    /// `POST /api/v1/sales-orders/{id}/cancel` with a store key; `lines` as
    /// (line number, quantity), none for the whole order.
    pub async fn store_cancel(
        &self,
        key: &str,
        id: i64,
        reason: &str,
        lines: &[(i32, &str)],
    ) -> Result<Order, Problem> {
        let answer = self
            .call(
                Method::POST,
                &format!("/api/v1/sales-orders/{id}/cancel"),
                Some(key),
                Some(&cancel_body(reason, lines)),
                &[],
            )
            .await;
        typed(&answer, 200)
    }

    /// The admin's view of an order.
    pub async fn admin_order(&self, id: i64) -> Order {
        let answer = self
            .admin_get(&format!("/admin/v1/sales-orders/{id}"))
            .await;
        typed(&answer, 200).unwrap_or_else(|p| panic!("order {id}: {p:?}"))
    }

    /// `POST /admin/v1/sales-orders/{id}/bill`: the bill (201).
    pub async fn bill(&self, id: i64, payment_type: &str) -> Result<Bill, Problem> {
        let answer = self
            .admin_post(
                &format!("/admin/v1/sales-orders/{id}/bill"),
                json!({"payment_type": payment_type}),
            )
            .await;
        typed(&answer, 201)
    }

    /// `POST /admin/v1/sales-orders/{id}/cancel`; `lines` as (line number,
    /// quantity), none for the whole order.
    pub async fn admin_cancel(
        &self,
        id: i64,
        reason: &str,
        lines: &[(i32, &str)],
    ) -> Result<Order, Problem> {
        let answer = self
            .admin_post(
                &format!("/admin/v1/sales-orders/{id}/cancel"),
                cancel_body(reason, lines),
            )
            .await;
        typed(&answer, 200)
    }

    /// A step of the order's delivery (`ready`, `ship`, `out-for-delivery`,
    /// `deliver`) with its body: the order as it now stands.
    pub async fn step(&self, id: i64, step: &str, body: Value) -> Result<Order, Problem> {
        let answer = self
            .call(
                Method::POST,
                &format!("/admin/v1/sales-orders/{id}/{step}"),
                Some(ADMIN_TOKEN),
                Some(&body),
                &[],
            )
            .await;
        typed(&answer, 200)
    }

    /// A variant's stock at every location that has any.
    pub async fn stock_levels(&self, reference_code: &str) -> Vec<StockLevel> {
        let answer = self
            .admin_get(&format!("/admin/v1/stock/{reference_code}"))
            .await;
        typed(&answer, 200).unwrap_or_else(|p| panic!("stock of {reference_code}: {p:?}"))
    }
}

fn cancel_body(reason: &str, lines: &[(i32, &str)]) -> Value {
    let mut body = json!({"reason": reason});
    if !lines.is_empty() {
        body["lines"] = lines
            .iter()
            .map(|(n, q)| json!({"line_no": n, "quantity": q}))
            .collect();
    }
    body
}
