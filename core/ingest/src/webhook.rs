//! Webhook ingress: verify, translate, and apply each canonical document as
//! the store API would. Redelivery of an order finds the order by the
//! storefront's own number and creates nothing. Every webhook is recorded
//! against the store with its outcome and reason.

use poshub_connectors::types::{CallContext, Document, ErrorKind, ReturnLine};
use poshub_connectors::{verify_signature, CallError, Limits, Plugin};
use poshub_db::{Actor, OrderScope, PlaceOrder, PlacedId, RefundApplied};
use poshub_model::lifecycle::StorefrontRefund;
use poshub_model::order::OrderStatus;
use poshub_model::store::{Direction, NewConnectorEvent, StoreContext};
use poshub_model::DomainError;

use crate::lines::{order_request, refund_lines, remember_hint};
use crate::{
    event_outcome, finish, refused, Applied, DocumentKind, DocumentOutcome, Ingest, Refusal,
};

/// A webhook as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Webhook<'a> {
    /// The store's code (`/hooks/{store}/...`).
    pub store: &'a str,
    /// The topic after the store, e.g. `orders/create`.
    pub topic: &'a str,
    /// The request's headers whose values are text, names in lower case.
    pub headers: &'a [(String, String)],
    /// The raw body, exactly as signed.
    pub body: &'a [u8],
}

impl Webhook<'_> {
    /// The first value of a header, by case-insensitive name.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the hub refuses a webhook whose `webhook-auth` call failed.
pub fn auth_refusal(plugin: &Plugin, error: CallError) -> Refusal {
    match error {
        CallError::Plugin(p) if p.kind == ErrorKind::Unsupported => Refusal::UnknownTopic {
            connector: plugin.info.id.clone(),
            message: p.message,
        },
        other => Refusal::failed(plugin, other),
    }
}

/// How the hub refuses a webhook whose translation failed.
pub fn translation_refusal(plugin: &Plugin, error: CallError) -> Refusal {
    match error {
        CallError::Plugin(p) => Refusal::ConnectorRejected {
            connector: plugin.info.id.clone(),
            kind: p.kind,
            message: p.message,
        },
        e @ CallError::InputTooLarge { .. } => Refusal::BodyTooLarge(e),
        other => Refusal::failed(plugin, other),
    }
}

impl Ingest<'_> {
    /// Receives a webhook: each document's result, or the refusal of the
    /// whole call. Both are recorded as the store's connector event (an
    /// unknown store has no log to record in).
    pub async fn webhook(&self, hook: Webhook<'_>) -> Result<Vec<Applied>, Refusal> {
        let ctx = self.stores.store_context(hook.store).await?;
        let mut event = NewConnectorEvent::new(
            ctx.principal.store_id,
            Direction::Webhook,
            hook.topic.to_string(),
        );
        let answer = self.receive(&ctx, hook, &mut event).await;
        match &answer {
            Ok(applied) => {
                event.order_id = applied.iter().find_map(|a| a.outcome.order_id());
                event.outcome = event_outcome(applied);
                let details: Vec<&str> =
                    applied.iter().filter_map(|a| a.outcome.detail()).collect();
                event.detail = (!details.is_empty()).then(|| details.join("; "));
            }
            Err(refusal) => refused(&mut event, refusal),
        }
        self.record(&event).await;
        answer
    }

    async fn receive(
        &self,
        ctx: &StoreContext,
        hook: Webhook<'_>,
        event: &mut NewConnectorEvent,
    ) -> Result<Vec<Applied>, Refusal> {
        if !ctx.principal.store_enabled {
            return Err(DomainError::store_disabled(&ctx.principal.store_code).into());
        }
        let plugin =
            self.registry
                .get(&ctx.connector)
                .ok_or_else(|| Refusal::ConnectorUnavailable {
                    detail: format!("connector `{}` of this store is not loaded", ctx.connector),
                })?;
        let limits = Limits::for_store(&ctx.config);
        let auth = finish(
            plugin.webhook_auth(limits, hook.topic.to_string()).await,
            event,
        )
        .map_err(|e| auth_refusal(&plugin, e))?;

        // The host verifies; a bad or missing signature writes nothing.
        let secret = ctx
            .config
            .get("webhook_secret")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if secret.is_empty() {
            return Err(Refusal::SecretMissing);
        }
        let signature = hook.header(&auth.header).unwrap_or("");
        if signature.is_empty() && is_setup_ping(hook.body) {
            // WooCommerce checks a new webhook's URL with an unsigned
            // `webhook_id=N` and wants a 200; it carries nothing to act on.
            return Ok(vec![Applied {
                document: DocumentKind::Ping,
                outcome: DocumentOutcome::Ignored {
                    order_id: None,
                    reason: "unsigned set-up ping acknowledged; nothing applied".into(),
                },
            }]);
        }
        if !verify_signature(&auth, secret, signature, hook.body) {
            return Err(Refusal::InvalidSignature {
                header: auth.header,
            });
        }

        let call_ctx = CallContext::for_store(
            &ctx.principal.store_code,
            poshub_model::now().to_rfc3339(),
            &ctx.config,
        );
        let translated = plugin
            .translate_webhook(
                limits,
                call_ctx,
                hook.topic.to_string(),
                hook.headers.to_vec(),
                hook.body.to_vec(),
            )
            .await;
        let documents = finish(translated, event).map_err(|e| translation_refusal(&plugin, e))?;

        let mut applied = Vec::with_capacity(documents.len());
        for doc in documents {
            applied.push(self.apply(ctx, doc).await?);
        }
        Ok(applied)
    }

    /// Runs one canonical document through the hub.
    async fn apply(&self, ctx: &StoreContext, doc: Document) -> Result<Applied, Refusal> {
        let store_id = ctx.principal.store_id;
        remember_hint(self.mappings, store_id, &doc).await;
        let (document, outcome) = match doc {
            Document::Order(order) => (DocumentKind::Order, self.order(ctx, order).await?),
            Document::Cancellation {
                online_reference_no,
                reason,
            } => {
                let id = self.order_id(store_id, &online_reference_no).await?;
                self.orders
                    .cancel_order(&store_scope(store_id), id, Actor::Store, reason.as_deref())
                    .await?;
                let outcome = DocumentOutcome::Cancelled {
                    order_id: id,
                    detail: None,
                };
                (DocumentKind::Cancellation, outcome)
            }
            Document::Refund {
                online_reference_no,
                refund_id,
                lines,
                amount,
                reason,
                restock,
            } => {
                let doc = RefundDoc {
                    online_reference_no,
                    refund_id,
                    lines,
                    amount,
                    reason,
                    restock,
                };
                (DocumentKind::Refund, self.refund(store_id, doc).await?)
            }
            // The hub owns stock and prices: a storefront's own figures are
            // acknowledged, never applied (their SKU and ids are kept as
            // mapping suggestions for auto-match).
            Document::StockLevel(s) => {
                let reason = format!(
                    "the hub owns stock: storefront level {} for {} ignored",
                    s.available,
                    describe_ids(
                        &s.reference_code,
                        s.external_id.as_deref(),
                        s.external_inventory_id.as_deref()
                    )
                );
                let outcome = DocumentOutcome::Ignored {
                    order_id: None,
                    reason,
                };
                (DocumentKind::StockLevel, outcome)
            }
            Document::Price(p) => {
                let reason = format!(
                    "the hub owns prices: storefront price {} for {} ignored",
                    p.price,
                    describe_ids(&p.reference_code, p.external_id.as_deref(), None)
                );
                let outcome = DocumentOutcome::Ignored {
                    order_id: None,
                    reason,
                };
                (DocumentKind::Price, outcome)
            }
        };
        Ok(Applied { document, outcome })
    }

    /// A new order, placed as the store API places it; a redelivery names
    /// the order it was (the answer names the order: it is not read back).
    async fn order(
        &self,
        ctx: &StoreContext,
        order: poshub_connectors::types::CanonicalOrder,
    ) -> Result<DocumentOutcome, Refusal> {
        let request = order_request(self.orders, ctx.principal.store_id, order).await?;
        let placed = self
            .orders
            .place_order_id(&PlaceOrder {
                principal: ctx.principal.clone(),
                request,
                default_country: self.default_country.clone(),
                idempotency: None,
            })
            .await;
        match placed {
            Ok(PlacedId::Created(order_id)) => Ok(DocumentOutcome::Accepted { order_id }),
            Ok(PlacedId::Replayed) => Ok(DocumentOutcome::Duplicate {
                order_id: None,
                detail: None,
            }),
            Err(poshub_db::Error::Domain(DomainError::Conflict {
                code: "duplicate_online_reference_no",
                existing_id,
                ..
            })) => Ok(DocumentOutcome::Duplicate {
                order_id: existing_id,
                detail: Some("order already received".into()),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The store's order with the storefront's number.
    async fn order_id(&self, store_id: i64, reference: &str) -> Result<i64, Refusal> {
        self.orders
            .find_order_id(store_id, reference)
            .await?
            .ok_or_else(|| Refusal::NoOrder {
                reference: reference.to_string(),
            })
    }

    /// A storefront refund through the hub's own calls: goods of a delivered
    /// order come back as a return (restocked where they were sold from, or
    /// written off, as the storefront says), lines of an order not yet
    /// shipped are cancelled; the refund id makes a redelivery change
    /// nothing. A refund of money only, or of an order already cancelled,
    /// is acknowledged.
    async fn refund(&self, store_id: i64, doc: RefundDoc) -> Result<DocumentOutcome, Refusal> {
        let reference = &doc.online_reference_no;
        let id = self.order_id(store_id, reference).await?;
        let what = format!("refund {} of order {reference}", doc.refund_id);
        let asked = refund_lines(self.orders, store_id, &doc.lines).await?;
        if asked.is_empty() {
            return Ok(DocumentOutcome::Ignored {
                order_id: Some(id),
                reason: format!(
                    "{what} (amount {}) returns no goods: nothing to book in the hub",
                    doc.amount.as_deref().unwrap_or("not given")
                ),
            });
        }
        let refund = StorefrontRefund {
            refund_id: doc.refund_id.clone(),
            lines: asked,
            reason: doc.reason,
            restock: doc.restock,
        };
        let applied = match self
            .orders
            .apply_refund(&store_scope(store_id), id, Actor::Store, &refund)
            .await?
        {
            RefundApplied::Nothing(why) => {
                return Ok(DocumentOutcome::Ignored {
                    order_id: Some(id),
                    reason: format!("{what}: {why}"),
                })
            }
            RefundApplied::Booked(applied) => *applied,
        };
        let booked = match &applied.credit_note {
            Some(cn) => format!(
                "credit note {} for {} (the storefront refunded {})",
                cn.credit_note_no,
                cn.amount,
                doc.amount.as_deref().unwrap_or("no amount")
            ),
            None => "no bill to credit".to_string(),
        };
        Ok(if applied.duplicate {
            DocumentOutcome::Duplicate {
                order_id: Some(id),
                detail: Some(format!("{what} was applied before: {booked}")),
            }
        } else if matches!(
            applied.order.status,
            OrderStatus::Returned | OrderStatus::PartiallyReturned
        ) {
            DocumentOutcome::Returned {
                order_id: id,
                detail: format!("{what} booked as a return: {booked}"),
            }
        } else {
            DocumentOutcome::Cancelled {
                order_id: id,
                detail: Some(format!("{what} cancels lines of the order: {booked}")),
            }
        })
    }
}

/// The store acting for all its locations.
fn store_scope(store_id: i64) -> OrderScope {
    OrderScope {
        store_id: Some(store_id),
        location_ids: None,
    }
}

/// A platform's unsigned set-up ping: exactly `webhook_id=<digits>`.
fn is_setup_ping(body: &[u8]) -> bool {
    body.strip_prefix(b"webhook_id=")
        .is_some_and(|id| !id.is_empty() && id.len() <= 20 && id.iter().all(u8::is_ascii_digit))
}

/// Names a storefront record by whatever ids it carries.
fn describe_ids(
    reference_code: &str,
    external_id: Option<&str>,
    inventory_id: Option<&str>,
) -> String {
    let mut parts = Vec::new();
    if !reference_code.is_empty() {
        parts.push(format!("SKU {reference_code}"));
    }
    if let Some(id) = external_id {
        parts.push(format!("variant {id}"));
    }
    if let Some(id) = inventory_id {
        parts.push(format!("inventory item {id}"));
    }
    if parts.is_empty() {
        "an unnamed record".into()
    } else {
        parts.join(", ")
    }
}

/// A storefront refund as the webhook carried it.
struct RefundDoc {
    online_reference_no: String,
    refund_id: String,
    lines: Vec<ReturnLine>,
    amount: Option<String>,
    reason: Option<String>,
    restock: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_exact_webhook_id_is_a_setup_ping() {
        assert!(is_setup_ping(b"webhook_id=12"));
        for body in [
            &b"webhook_id="[..],
            b"webhook_id=12&x=1",
            b"{\"webhook_id\":12}",
            b"webhook_id=123456789012345678901",
        ] {
            assert!(!is_setup_ping(body), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn a_storefront_record_is_named_by_the_ids_it_has() {
        assert_eq!(
            describe_ids("TS-RED-M", Some("42"), Some("7")),
            "SKU TS-RED-M, variant 42, inventory item 7"
        );
        assert_eq!(describe_ids("", None, None), "an unnamed record");
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let headers = vec![("x-shopify-hmac-sha256".to_string(), "abc".to_string())];
        let hook = Webhook {
            store: "s",
            topic: "orders/create",
            headers: &headers,
            body: b"",
        };
        assert_eq!(hook.header("X-Shopify-Hmac-Sha256"), Some("abc"));
        assert_eq!(hook.header("x-wc-webhook-signature"), None);
    }
}
