//! The poshub connector SDK: write a storefront connector in a page of Rust.
//!
//! Implement [`Connector`] (only [`Connector::describe`] is required; every
//! other method answers "not supported" until you override it) and call
//! [`register!`]. Build with `cargo build --release --target wasm32-wasip2`
//! and drop the `.wasm` into the hub's plugins directory.
//!
//! ```ignore
//! use poshub_connector_sdk::*;
//!
//! struct MyShop;
//!
//! impl Connector for MyShop {
//!     fn describe() -> ConnectorInfo {
//!         info("myshop", "0.1.0", "MyShop").topic("orders/create", "a new order").build()
//!     }
//! }
//!
//! register!(MyShop);
//! ```
//!
//! A connector is a pure translator: it has no network, files, environment or
//! clock. The host verifies webhook signatures with the store's secret before
//! calling it, and sends the HTTP requests it plans.

/// The generated bindings of `wit/connector.wit`. Connector authors normally
/// use the re-exports at the crate root instead.
#[allow(clippy::too_many_arguments)] // generated lowering code
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "connector",
        pub_export_macro: true,
        default_bindings_module: "poshub_connector_sdk::bindings",
    });
}

pub use bindings::poshub::connector::log::Level;
pub use bindings::poshub::connector::types::{
    ApiCommand, ApiRequest, ApiResponse, BasicCredentials, Budget, CallContext, Cancellation,
    Change, ChangeOutcome, Charge, ChargeKind, ConfigEntry, ConnectorInfo, Credential, Customer,
    Document, Drift, Error, ErrorKind, Header, HttpRequest, HttpResponse, HubAnswer, ItemQuery,
    Order, OrderLine, OrderQuery, OrderStatus, Payment, PendingChange, PlannedRequest, Price,
    PushLimits, PushPlan, Reading, Refund, Refusal, Retry, ReturnLine, SecretHeader, Shipping,
    SignatureEncoding, SignatureScheme, StatusChange, StockLevel, Topic, WebhookAuth,
};

mod helpers;
pub use helpers::*;

/// A storefront connector. Every method but `describe` has a default that
/// answers "not supported" (or, for responses, the usual HTTP reading).
pub trait Connector {
    /// Who the connector is: id, version, platform, topics, hosts, config schema.
    fn describe() -> ConnectorInfo;

    /// How bodies of a webhook topic are signed.
    fn webhook_auth(topic: &str) -> Result<WebhookAuth, Error> {
        Err(unsupported(format!("no webhook topic `{topic}`")))
    }

    /// A verified webhook body in canonical documents.
    fn translate_webhook(
        ctx: &CallContext,
        topic: &str,
        headers: &[Header],
        body: &[u8],
    ) -> Result<Vec<Document>, Error> {
        let _ = (ctx, headers, body);
        Err(unsupported(format!("no webhook topic `{topic}`")))
    }

    /// Inbound API dialect: a request as a canonical command.
    fn plan_api(ctx: &CallContext, request: &ApiRequest) -> Result<ApiCommand, Error> {
        let _ = (ctx, request);
        Err(unsupported("this connector speaks no API dialect"))
    }

    /// Inbound API dialect: the hub's canonical answer in the dialect.
    fn render_api(
        ctx: &CallContext,
        request: &ApiRequest,
        answer: &HubAnswer,
    ) -> Result<ApiResponse, Error> {
        let _ = (ctx, request, answer);
        Err(unsupported("this connector speaks no API dialect"))
    }

    /// The requests that tell the storefront about a batch of changes of
    /// one kind (at most the `push_limits` of [`Connector::describe`]);
    /// each request names the changes it carries by their position in
    /// `changes`, and a change the connector cannot push is refused on its
    /// own. `key` is unique to the batch and its attempt (for the
    /// platform's idempotency keys). By default each change is planned on
    /// its own by [`Connector::plan_change`], and its error refuses it.
    fn plan_push(
        ctx: &CallContext,
        key: &str,
        changes: &[PendingChange],
    ) -> Result<PushPlan, Error> {
        let _ = key;
        let mut plan = PushPlan {
            requests: vec![],
            refused: vec![],
        };
        for (i, pending) in changes.iter().enumerate() {
            match Self::plan_change(ctx, pending) {
                Ok(requests) => plan.requests.extend(
                    requests
                        .into_iter()
                        .map(|r| PlannedRequest::carrying(r, vec![i as u32])),
                ),
                Err(error) => plan.refused.push(Refusal {
                    change: i as u32,
                    error,
                }),
            }
        }
        Ok(plan)
    }

    /// The requests for one change, for a connector that sends one change
    /// per request (the default `plan_push` calls it).
    fn plan_change(ctx: &CallContext, change: &PendingChange) -> Result<Vec<HttpRequest>, Error> {
        let _ = (ctx, change);
        Err(unsupported("this connector pushes nothing"))
    }

    /// What a storefront response means for each change the request
    /// carried (`changes`, in its order); by default the HTTP status
    /// decides for all of them ([`default_outcome`]).
    fn interpret_response(
        ctx: &CallContext,
        key: &str,
        changes: &[PendingChange],
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Result<Reading, Error> {
        let _ = (ctx, key, request);
        Ok(Reading::all(changes.len(), default_outcome(response)))
    }
}

/// Exports a [`Connector`] implementation as the plugin's component.
#[macro_export]
macro_rules! register {
    ($connector:ty) => {
        // Natively (tests, benchmarks and fuzz targets call connectors as
        // plain Rust) there is nothing to export to, and several connectors
        // in one binary would define the same export symbols.
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        struct __PoshubConnectorExport;

        impl $crate::bindings::Guest for __PoshubConnectorExport {
            fn describe() -> $crate::ConnectorInfo {
                <$connector as $crate::Connector>::describe()
            }

            fn webhook_auth(topic: String) -> Result<$crate::WebhookAuth, $crate::Error> {
                <$connector as $crate::Connector>::webhook_auth(&topic)
            }

            fn translate_webhook(
                ctx: $crate::CallContext,
                topic: String,
                headers: Vec<$crate::Header>,
                body: Vec<u8>,
            ) -> Result<Vec<$crate::Document>, $crate::Error> {
                <$connector as $crate::Connector>::translate_webhook(&ctx, &topic, &headers, &body)
            }

            fn plan_api(
                ctx: $crate::CallContext,
                request: $crate::ApiRequest,
            ) -> Result<$crate::ApiCommand, $crate::Error> {
                <$connector as $crate::Connector>::plan_api(&ctx, &request)
            }

            fn render_api(
                ctx: $crate::CallContext,
                request: $crate::ApiRequest,
                answer: $crate::HubAnswer,
            ) -> Result<$crate::ApiResponse, $crate::Error> {
                <$connector as $crate::Connector>::render_api(&ctx, &request, &answer)
            }

            fn plan_push(
                ctx: $crate::CallContext,
                key: String,
                changes: Vec<$crate::PendingChange>,
            ) -> Result<$crate::PushPlan, $crate::Error> {
                <$connector as $crate::Connector>::plan_push(&ctx, &key, &changes)
            }

            fn interpret_response(
                ctx: $crate::CallContext,
                key: String,
                changes: Vec<$crate::PendingChange>,
                request: $crate::HttpRequest,
                response: $crate::HttpResponse,
            ) -> Result<$crate::Reading, $crate::Error> {
                <$connector as $crate::Connector>::interpret_response(
                    &ctx, &key, &changes, &request, &response,
                )
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export!(__PoshubConnectorExport);
    };
}
