//! Conversions between the generated WIT types and [`crate::types`]: the
//! only place both are in sight.
//!
//! Each world version the host loads has its module here ([`current`],
//! [`v0_2`], [`v0_1`]). The conversions are the same text for every
//! version (the records they touch did not change), so one macro writes
//! them into each; what did change is converted by hand:
//! - 0.3.0 batched pushes: a component built before it plans one change
//!   per call and answers one `outcome` per response, which
//!   `one_change_push!` turns into that change's [`ChangeOutcome`]; its
//!   `describe` has no push limits, so it carries one change per request;
//! - 0.2.0 order fields: a 0.1.0 order is upgraded to a current one with
//!   the new fields absent, so that every order reaches
//!   [`crate::types::CanonicalOrder`] through the same `From` impls (and
//!   the model's types through [`crate::order::OrderDraft`]'s `TryFrom`).

use serde_json::Value;

/// Free-form address text: a JSON object when it parses as one.
pub(crate) fn address(text: Option<String>) -> Option<Value> {
    let text = text?;
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => Some(Value::String(text)),
    }
}

/// The conversions every world version shares, written into a module that
/// has `w` (that version's generated `types`) in scope.
macro_rules! shared_conversions {
    (push_limits: $push_limits:expr) => {
        pub(crate) fn info(i: w::ConnectorInfo) -> ConnectorInfo {
            let push_limits: PushLimits = ($push_limits)(&i);
            ConnectorInfo {
                push_limits,
                id: i.id,
                version: i.version,
                platform: i.platform,
                topics: i
                    .topics
                    .into_iter()
                    .map(|t| (t.name, t.description))
                    .collect(),
                hosts: i.hosts,
                config_schema: serde_json::from_str(&i.config_schema)
                    .unwrap_or(serde_json::Value::Null),
                api_dialect: i.api_dialect,
                outbound_auth: i
                    .outbound_auth
                    .into_iter()
                    .map(|c| match c {
                        w::Credential::SecretHeader(h) => Credential::SecretHeader {
                            name: h.name,
                            key: h.key,
                        },
                        w::Credential::Basic(b) => Credential::Basic {
                            user_key: b.user_key,
                            password_key: b.password_key,
                        },
                        w::Credential::Bearer(key) => Credential::Bearer { key },
                    })
                    .collect(),
            }
        }

        pub(crate) fn webhook_auth(a: w::WebhookAuth) -> WebhookAuth {
            let w::SignatureScheme::HmacSha256 = a.scheme;
            WebhookAuth {
                header: a.header,
                encoding: match a.encoding {
                    w::SignatureEncoding::Base64 => SignatureEncoding::Base64,
                    w::SignatureEncoding::Hex => SignatureEncoding::Hex,
                },
            }
        }

        pub(crate) fn plugin_error(e: w::Error) -> PluginError {
            PluginError {
                kind: match e.kind {
                    w::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
                    w::ErrorKind::Unsupported => ErrorKind::Unsupported,
                    w::ErrorKind::Config => ErrorKind::Config,
                    w::ErrorKind::Upstream => ErrorKind::Upstream,
                    w::ErrorKind::Internal => ErrorKind::Internal,
                },
                message: e.message,
                retryable: e.retryable,
            }
        }

        pub(crate) fn context(c: &CallContext) -> w::CallContext {
            w::CallContext {
                store_code: c.store_code.clone(),
                now: c.now.clone(),
                config: c
                    .config
                    .iter()
                    .map(|(k, v)| w::ConfigEntry {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
            }
        }

        pub(crate) fn headers(h: &[(String, String)]) -> Vec<w::Header> {
            h.iter()
                .map(|(name, value)| w::Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect()
        }

        fn headers_back(h: Vec<w::Header>) -> Vec<(String, String)> {
            h.into_iter().map(|h| (h.name, h.value)).collect()
        }

        fn stock(s: w::StockLevel) -> StorefrontStock {
            StorefrontStock {
                reference_code: s.reference_code,
                external_id: s.external_id,
                location: s.location,
                external_location_id: s.external_location_id,
                external_parent_id: s.external_parent_id,
                external_inventory_id: s.external_inventory_id,
                available: s.available,
            }
        }

        fn price(p: w::Price) -> PriceChange {
            PriceChange {
                reference_code: p.reference_code,
                external_id: p.external_id,
                external_parent_id: p.external_parent_id,
                price: p.price,
                mrp: p.mrp,
            }
        }

        pub(crate) fn document(d: w::Document) -> Document {
            match d {
                w::Document::Order(o) => Document::Order(order(o)),
                w::Document::Cancellation(c) => Document::Cancellation {
                    online_reference_no: c.online_reference_no,
                    reason: c.reason,
                },
                w::Document::Refund(r) => Document::Refund {
                    online_reference_no: r.online_reference_no,
                    refund_id: r.refund_id,
                    lines: r
                        .lines
                        .into_iter()
                        .map(|l| ReturnLine {
                            keys: LineKeys {
                                reference_code: l.reference_code,
                                external_id: l.external_id,
                                sku: None,
                                title: None,
                            },
                            quantity: l.quantity,
                        })
                        .collect(),
                    amount: r.amount,
                    reason: r.reason,
                    restock: r.restock,
                },
                w::Document::StockLevel(s) => Document::StockLevel(stock(s)),
                w::Document::Price(p) => Document::Price(price(p)),
            }
        }

        pub(crate) fn change(c: &Change) -> w::Change {
            match c {
                Change::Stock(s) => w::Change::Stock(w::StockLevel {
                    reference_code: s.reference_code.clone(),
                    external_id: s.external_id.clone(),
                    location: s.location.clone(),
                    external_location_id: s.external_location_id.clone(),
                    external_parent_id: s.external_parent_id.clone(),
                    external_inventory_id: s.external_inventory_id.clone(),
                    available: s.available.clone(),
                }),
                Change::Price(p) => w::Change::Price(w::Price {
                    reference_code: p.reference_code.clone(),
                    external_id: p.external_id.clone(),
                    external_parent_id: p.external_parent_id.clone(),
                    price: p.price.clone(),
                    mrp: p.mrp.clone(),
                }),
                Change::Status(s) => w::Change::Status(w::StatusChange {
                    order_id: s.order_id,
                    online_reference_no: s.online_reference_no.clone(),
                    status: match s.status.as_str() {
                        "billed" => w::OrderStatus::Billed,
                        "ready" => w::OrderStatus::Ready,
                        "shipped" => w::OrderStatus::Shipped,
                        "out_for_delivery" => w::OrderStatus::OutForDelivery,
                        "delivered" => w::OrderStatus::Delivered,
                        "cancelled" => w::OrderStatus::Cancelled,
                        "returned" => w::OrderStatus::Returned,
                        "partially_returned" => w::OrderStatus::PartiallyReturned,
                        _ => w::OrderStatus::Pending,
                    },
                    carrier: s.carrier.clone(),
                    tracking_number: s.tracking_number.clone(),
                }),
            }
        }

        pub(crate) fn request(r: &HttpRequest) -> w::HttpRequest {
            w::HttpRequest {
                method: r.method.clone(),
                url: r.url.clone(),
                headers: headers(&r.headers),
                body: r.body.clone(),
            }
        }

        pub(crate) fn request_back(r: w::HttpRequest) -> HttpRequest {
            HttpRequest {
                method: r.method,
                url: r.url,
                headers: headers_back(r.headers),
                body: r.body,
            }
        }

        pub(crate) fn response(r: &HttpResponse) -> w::HttpResponse {
            w::HttpResponse {
                status: r.status,
                headers: headers(&r.headers),
                body: r.body.clone(),
            }
        }

        pub(crate) fn api_request(r: &ApiRequest) -> w::ApiRequest {
            w::ApiRequest {
                method: r.method.clone(),
                path: r.path.clone(),
                query: r.query.clone(),
                headers: headers(&r.headers),
                body: r.body.clone(),
            }
        }

        fn api_response(r: w::ApiResponse) -> ApiResponse {
            ApiResponse {
                status: r.status,
                headers: headers_back(r.headers),
                body: r.body,
            }
        }

        fn status_name(s: w::OrderStatus) -> &'static str {
            match s {
                w::OrderStatus::Pending => "pending",
                w::OrderStatus::Billed => "billed",
                w::OrderStatus::Ready => "ready",
                w::OrderStatus::Shipped => "shipped",
                w::OrderStatus::OutForDelivery => "out_for_delivery",
                w::OrderStatus::Delivered => "delivered",
                w::OrderStatus::Cancelled => "cancelled",
                w::OrderStatus::Returned => "returned",
                w::OrderStatus::PartiallyReturned => "partially_returned",
            }
        }

        pub(crate) fn api_command(c: w::ApiCommand) -> ApiCommand {
            match c {
                w::ApiCommand::ListItems(q) => ApiCommand::ListItems(ApiItemQuery {
                    location: q.location,
                    updated_since: q.updated_since,
                    limit: q.limit,
                    cursor: q.cursor,
                }),
                w::ApiCommand::CreateOrder(o) => ApiCommand::CreateOrder(order(o)),
                w::ApiCommand::ListOrders(q) => ApiCommand::ListOrders(ApiOrderQuery {
                    status: q.status.map(|s| status_name(s).to_string()),
                    updated_since: q.updated_since,
                    limit: q.limit,
                    cursor: q.cursor,
                }),
                w::ApiCommand::GetOrder(id) => ApiCommand::GetOrder(id),
                w::ApiCommand::Respond(r) => ApiCommand::Respond(api_response(r)),
            }
        }

        pub(crate) fn api_answer(r: w::ApiResponse) -> ApiResponse {
            api_response(r)
        }
    };
}

/// The order records of 0.2.0 and later (the same text in each world that
/// has them), converted to [`crate::types::CanonicalOrder`].
macro_rules! order_conversions {
    () => {
        fn order(o: w::Order) -> CanonicalOrder {
            o.into()
        }

        impl From<w::Order> for CanonicalOrder {
            fn from(o: w::Order) -> Self {
                CanonicalOrder {
                    online_reference_no: o.online_reference_no,
                    location: o.location,
                    customer: o.customer.map(Into::into),
                    lines: o.lines.into_iter().map(Into::into).collect(),
                    shipping: o.shipping.map(Into::into),
                    charges: o.charges.into_iter().map(Into::into).collect(),
                    payments: o.payments.into_iter().map(Into::into).collect(),
                    total: o.total,
                    currency: o.currency,
                    prices_include_tax: o.prices_include_tax,
                    test: o.test,
                    placed_at: o.placed_at,
                    notes: o.notes,
                }
            }
        }

        impl From<w::Customer> for CustomerText {
            fn from(c: w::Customer) -> Self {
                CustomerText {
                    name: c.name,
                    phone: c.phone,
                    email: c.email,
                    address: address(c.address),
                }
            }
        }

        impl From<w::OrderLine> for OrderLine {
            fn from(l: w::OrderLine) -> Self {
                OrderLine {
                    keys: LineKeys {
                        reference_code: l.reference_code,
                        external_id: l.external_id,
                        sku: l.sku,
                        title: l.title,
                    },
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    discount: l.discount,
                    tax_rate: l.tax_rate,
                    tax_amount: l.tax_amount,
                }
            }
        }

        impl From<w::Shipping> for ShippingText {
            fn from(s: w::Shipping) -> Self {
                ShippingText {
                    amount: s.amount,
                    tax: s.tax,
                    method: s.method,
                    address: address(s.address),
                }
            }
        }

        impl From<w::Charge> for ChargeText {
            fn from(c: w::Charge) -> Self {
                ChargeText {
                    kind: c.kind.into(),
                    title: c.title,
                    amount: c.amount,
                    tax: c.tax,
                }
            }
        }

        impl From<w::ChargeKind> for ChargeKind {
            fn from(k: w::ChargeKind) -> Self {
                match k {
                    w::ChargeKind::GiftCard => ChargeKind::GiftCard,
                    w::ChargeKind::Tip => ChargeKind::Tip,
                    w::ChargeKind::Custom => ChargeKind::Custom,
                    w::ChargeKind::Fee => ChargeKind::Fee,
                    w::ChargeKind::Duty => ChargeKind::Duty,
                }
            }
        }

        impl From<w::Payment> for PaymentText {
            fn from(p: w::Payment) -> Self {
                PaymentText {
                    kind: p.kind,
                    amount: p.amount,
                    reference: p.reference,
                }
            }
        }
    };
}

/// The current world, `poshub:connector@0.3.0`.
pub(crate) mod current {
    use poshub_model::order::ChargeKind;

    use super::address;
    use crate::types::*;
    pub(crate) use crate::wit::poshub::connector::types as w;

    shared_conversions!(push_limits: |i: &w::ConnectorInfo| PushLimits {
        stock: i.push_limits.stock,
        price: i.push_limits.price,
        status: i.push_limits.status,
        concurrency: i.push_limits.concurrency,
    });

    pub(crate) fn pending(p: &PendingChange) -> w::PendingChange {
        w::PendingChange {
            id: p.id,
            attempts: p.attempts,
            confirmed: p.confirmed.clone(),
            change: change(&p.change),
        }
    }

    pub(crate) fn plan(p: w::PushPlan) -> PushPlan {
        PushPlan {
            requests: p.requests.into_iter().map(planned).collect(),
            refused: p
                .refused
                .into_iter()
                .map(|r| (r.change, plugin_error(r.error)))
                .collect(),
        }
    }

    pub(crate) fn planned(p: w::PlannedRequest) -> PlannedRequest {
        PlannedRequest {
            request: request_back(p.request),
            changes: p.changes,
            cost: p.cost,
        }
    }

    pub(crate) fn reading(r: w::Reading) -> Reading {
        Reading {
            outcomes: r
                .outcomes
                .into_iter()
                .map(|o| match o {
                    w::ChangeOutcome::Done => ChangeOutcome::Done,
                    w::ChangeOutcome::Retry(r) => ChangeOutcome::Retry {
                        after_seconds: r.after_seconds,
                        reason: r.reason,
                    },
                    w::ChangeOutcome::Failed(e) => ChangeOutcome::Failed(plugin_error(e)),
                    w::ChangeOutcome::FollowUp => ChangeOutcome::FollowUp,
                })
                .collect(),
            follow_ups: r.follow_ups.into_iter().map(planned).collect(),
            drift: r
                .drift
                .into_iter()
                .map(|d| Drift {
                    change: d.change,
                    found: d.found,
                })
                .collect(),
            budget: r.budget.map(|b| Budget {
                available: b.available,
                maximum: b.maximum,
                restore_per_second: b.restore_per_second,
            }),
        }
    }

    order_conversions!();
}

/// What the worlds before 0.3.0 share: one change per `plan-push`, and
/// an `outcome` per response, which becomes the outcome of that one change.
macro_rules! one_change_push {
    () => {
        shared_conversions!(push_limits: |_: &w::ConnectorInfo| PushLimits::default());

        /// An answer about change `index` of a batch: its outcome, and the
        /// follow-up requests (carrying only it) it asks for.
        pub(crate) fn outcome(o: w::Outcome, index: u32) -> (ChangeOutcome, Vec<PlannedRequest>) {
            match o {
                w::Outcome::Done => (ChangeOutcome::Done, vec![]),
                w::Outcome::RetryAfter(after_seconds) => (
                    ChangeOutcome::Retry {
                        after_seconds,
                        reason: format!("storefront asked to retry after {after_seconds} s"),
                    },
                    vec![],
                ),
                w::Outcome::FollowUp(rs) => (
                    ChangeOutcome::FollowUp,
                    rs.into_iter()
                        .map(|r| PlannedRequest {
                            request: request_back(r),
                            changes: vec![index],
                            cost: 1,
                        })
                        .collect(),
                ),
                w::Outcome::Failed(e) => (ChangeOutcome::Failed(plugin_error(e)), vec![]),
            }
        }
    };
}

/// `poshub:connector@0.2.0`, the world before batched pushes: its
/// documents are the current ones (the same conversions), its pushes go
/// through `one_change_push!`'s adapter.
pub(crate) mod v0_2 {
    use poshub_model::order::ChargeKind;

    use super::address;
    use crate::types::*;
    pub(crate) use crate::wit_0_2::poshub::connector::types as w;

    one_change_push!();
    order_conversions!();
}

/// The world components were built for before 0.2.0,
/// `poshub:connector@0.1.0`: its orders have no tax amounts, charges,
/// currency, tax mode or test flag, and are upgraded to current records
/// with those absent, which the current world's conversion then takes.
pub(crate) mod v0_1 {
    use crate::types::*;
    pub(crate) use crate::wit_0_1::poshub::connector::types as w;

    use super::current::w as now;

    one_change_push!();

    fn order(o: w::Order) -> CanonicalOrder {
        now::Order::from(o).into()
    }

    impl From<w::Order> for now::Order {
        fn from(o: w::Order) -> Self {
            now::Order {
                online_reference_no: o.online_reference_no,
                location: o.location,
                customer: o.customer.map(|c| now::Customer {
                    name: c.name,
                    phone: c.phone,
                    email: c.email,
                    address: c.address,
                }),
                lines: o
                    .lines
                    .into_iter()
                    .map(|l| now::OrderLine {
                        reference_code: l.reference_code,
                        external_id: l.external_id,
                        sku: l.sku,
                        title: l.title,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        discount: l.discount,
                        tax_rate: l.tax_rate,
                        tax_amount: None,
                    })
                    .collect(),
                shipping: o.shipping.map(|s| now::Shipping {
                    amount: s.amount,
                    tax: None,
                    method: s.method,
                    address: s.address,
                }),
                charges: vec![],
                payments: o
                    .payments
                    .into_iter()
                    .map(|p| now::Payment {
                        kind: p.kind,
                        amount: p.amount,
                        reference: p.reference,
                    })
                    .collect(),
                total: o.total,
                currency: None,
                prices_include_tax: None,
                test: false,
                placed_at: o.placed_at,
                notes: o.notes,
            }
        }
    }
}
