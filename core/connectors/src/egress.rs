//! Egress policy, the outbound twin of [`crate::signature`]: a connector
//! only plans requests; the host decides whether one may leave (the store's
//! own `base_url` host, declared by the connector or allowed by the store),
//! adds the credentials from the store's config (secrets never reach the
//! plugin) and drops headers a plugin must not choose. Pure functions: the
//! sync worker sends what they let through.

use serde_json::Value;
use url::Url;

use crate::types::{Credential, HttpRequest};

/// Why a planned request is not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("the store's config names no valid base_url")]
    NoBaseUrl,
    #[error("`{url}` is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    #[error("scheme `{0}` is not http(s)")]
    Scheme(String),
    #[error("{host} is not the store's base_url host {base}")]
    OtherHost { host: String, base: String },
    #[error(
        "the connector does not declare the host {0} and the store's allow_hosts does not name it"
    )]
    Undeclared(String),
    #[error("the store's config has no `{0}`, which the connector needs to authenticate")]
    MissingCredential(String),
}

/// Where one store's planned requests may go: the host (and port) of its
/// `base_url`, over http(s), if the connector declares that host or the
/// store's config names it in `allow_hosts` (e.g. a staging double of the
/// storefront).
#[derive(Debug, Clone)]
pub struct Destination {
    base: Url,
    /// The connector's host patterns, then the store's `allow_hosts`.
    hosts: Vec<String>,
}

impl Destination {
    /// The destination of a store whose connector declares `declared`.
    pub fn for_store(declared: &[String], config: &Value) -> Result<Destination, EgressError> {
        let base = config
            .get("base_url")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok())
            .ok_or(EgressError::NoBaseUrl)?;
        let extra = config
            .get("allow_hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(str::to_string));
        Ok(Destination {
            base,
            hosts: declared.iter().cloned().chain(extra).collect(),
        })
    }

    /// Whether `request` may be sent.
    pub fn check(&self, request: &HttpRequest) -> Result<(), EgressError> {
        let url = Url::parse(&request.url).map_err(|e| EgressError::NotAUrl {
            url: request.url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressError::Scheme(url.scheme().to_string()));
        }
        let host = url.host_str().unwrap_or_default();
        let base_host = self.base.host_str().unwrap_or_default();
        if !host.eq_ignore_ascii_case(base_host)
            || url.port_or_known_default() != self.base.port_or_known_default()
        {
            return Err(EgressError::OtherHost {
                host: host.to_string(),
                base: base_host.to_string(),
            });
        }
        if !self
            .hosts
            .iter()
            .any(|p| poshub_model::sync::host_matches(p, host))
        {
            return Err(EgressError::Undeclared(host.to_string()));
        }
        Ok(())
    }
}

/// Adds the connector's declared credentials from the store's config; a
/// header of the same name planned by the connector is replaced, so a
/// connector cannot choose its own credentials.
///
/// Declared credentials are alternatives (Vendure takes an API key or a
/// bearer token): each one the store's config fills in is added, and a
/// store that fills in none is refused, naming the missing key of each.
pub fn authenticate(
    request: &mut HttpRequest,
    credentials: &[Credential],
    config: &Value,
) -> Result<(), EgressError> {
    let value = |key: &str| {
        config
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| key.to_string())
    };
    let mut missing = vec![];
    let mut added = 0;
    for credential in credentials {
        let header = match credential {
            Credential::SecretHeader { name, key } => {
                value(key).map(|secret| (name.clone(), secret.to_string()))
            }
            Credential::Basic {
                user_key,
                password_key,
            } => value(user_key).and_then(|user| {
                use base64::Engine;
                let pair = format!("{user}:{}", value(password_key)?);
                Ok((
                    "Authorization".to_string(),
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                ))
            }),
            Credential::Bearer { key } => {
                value(key).map(|token| ("Authorization".to_string(), format!("Bearer {token}")))
            }
        };
        match header {
            Ok((name, header)) => {
                request
                    .headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
                request.headers.push((name, header));
                added += 1;
            }
            Err(key) => missing.push(key),
        }
    }
    if added == 0 && !missing.is_empty() {
        return Err(EgressError::MissingCredential(missing.join(" or ")));
    }
    Ok(())
}

/// The planned headers the hub sends: all but `Host`, which the HTTP client
/// sets from the (allow-listed) URL, so a plugin cannot spoof the virtual
/// host.
pub fn forwarded_headers(request: &HttpRequest) -> impl Iterator<Item = (&str, &str)> {
    request
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![],
            body: None,
        }
    }

    /// The check of a store at `base` whose connector declares `declared`
    /// and whose config allows `extra`.
    fn allowed(
        request: &HttpRequest,
        base: &Url,
        declared: &[String],
        extra: &[String],
    ) -> Result<(), EgressError> {
        let config = serde_json::json!({"base_url": base.as_str(), "allow_hosts": extra});
        Destination::for_store(declared, &config)?.check(request)
    }

    #[test]
    fn requests_go_only_where_the_store_and_the_connector_agree() {
        let base = Url::parse("https://acme.myshopify.com").unwrap();
        let shopify = vec!["*.myshopify.com".to_string()];
        assert!(allowed(
            &req("https://acme.myshopify.com/admin/api/x.json"),
            &base,
            &shopify,
            &[]
        )
        .is_ok());
        assert!(
            allowed(&req("https://evil.myshopify.com/x"), &base, &shopify, &[]).is_err(),
            "another shop"
        );
        assert!(
            allowed(&req("https://127.0.0.1/x"), &base, &shopify, &[]).is_err(),
            "loopback not in config"
        );
        assert!(
            allowed(&req("https://169.254.169.254/latest"), &base, &shopify, &[]).is_err(),
            "link-local"
        );
        assert!(
            allowed(
                &req("https://acme.myshopify.com:8443/x"),
                &base,
                &shopify,
                &[]
            )
            .is_err(),
            "other port"
        );
        assert!(allowed(&req("file:///etc/passwd"), &base, &shopify, &[]).is_err());
        let local = Url::parse("http://127.0.0.1:9000").unwrap();
        assert!(allowed(
            &req("http://127.0.0.1:9000/poshub/stock-levels"),
            &local,
            &["*".into()],
            &[]
        )
        .is_ok());
        assert!(allowed(
            &req("http://127.0.0.1:9000/x"),
            &local,
            &["*.myshopify.com".into()],
            &[]
        )
        .is_err());
        // The merchant can name a host for one store (a staging double).
        assert!(allowed(
            &req("http://127.0.0.1:9000/x"),
            &local,
            &["*.myshopify.com".into()],
            &["127.0.0.1".into()]
        )
        .is_ok());
    }

    #[test]
    fn each_refusal_says_why() {
        let base = Url::parse("https://acme.myshopify.com").unwrap();
        let shopify = ["*.myshopify.com".to_string()];
        let why = |url: &str| allowed(&req(url), &base, &shopify, &[]).unwrap_err();
        assert_eq!(
            why("file:///etc/passwd"),
            EgressError::Scheme("file".into())
        );
        assert_eq!(
            why("https://evil.myshopify.com/x").to_string(),
            "evil.myshopify.com is not the store's base_url host acme.myshopify.com"
        );
        assert!(matches!(why("not a url"), EgressError::NotAUrl { .. }));
        let other = Url::parse("https://shop.example.com").unwrap();
        assert_eq!(
            allowed(&req("https://shop.example.com/x"), &other, &shopify, &[]),
            Err(EgressError::Undeclared("shop.example.com".into()))
        );
    }

    #[test]
    fn a_store_without_a_valid_base_url_sends_nothing() {
        for config in [
            serde_json::json!({}),
            serde_json::json!({"base_url": "acme.myshopify.com"}),
            serde_json::json!({"base_url": 42}),
        ] {
            let e = Destination::for_store(&["*".into()], &config).unwrap_err();
            assert_eq!(e, EgressError::NoBaseUrl, "{config}");
        }
    }

    #[test]
    fn a_planned_host_header_is_never_sent() {
        let mut request = req("https://acme.myshopify.com/x");
        request.headers = vec![
            ("Host".into(), "169.254.169.254".into()),
            ("hOsT".into(), "localhost".into()),
            ("Content-Type".into(), "application/json".into()),
        ];
        let base = Url::parse("https://acme.myshopify.com").unwrap();
        // The URL is allowed; the spoofed Host header is dropped.
        assert!(allowed(&request, &base, &["*.myshopify.com".into()], &[]).is_ok());
        let sent: Vec<_> = forwarded_headers(&request).collect();
        assert_eq!(sent, [("Content-Type", "application/json")]);
    }

    #[test]
    fn credentials_come_from_the_store_config_and_replace_planned_ones() {
        let mut request = req("https://acme.myshopify.com/x");
        request
            .headers
            .push(("x-shopify-access-token".into(), "chosen-by-plugin".into()));
        let config = serde_json::json!({"access_token": "shpat_1", "consumer_key": "ck", "consumer_secret": "cs"});
        let shopify = [Credential::SecretHeader {
            name: "X-Shopify-Access-Token".into(),
            key: "access_token".into(),
        }];
        authenticate(&mut request, &shopify, &config).unwrap();
        assert_eq!(
            request.headers,
            vec![("X-Shopify-Access-Token".to_string(), "shpat_1".to_string())]
        );
        let woo = [Credential::Basic {
            user_key: "consumer_key".into(),
            password_key: "consumer_secret".into(),
        }];
        authenticate(&mut request, &woo, &config).unwrap();
        assert!(request
            .headers
            .contains(&("Authorization".to_string(), "Basic Y2s6Y3M=".to_string())));
        let err = authenticate(
            &mut request,
            &woo,
            &serde_json::json!({"consumer_key": "ck"}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("consumer_secret"), "{err}");
    }

    #[test]
    fn a_bearer_token_replaces_any_planned_authorization() {
        let mut request = req("https://shop.example.com/x");
        request
            .headers
            .push(("authorization".into(), "Bearer mine".into()));
        let bearer = [Credential::Bearer {
            key: "api_token".into(),
        }];
        authenticate(
            &mut request,
            &bearer,
            &serde_json::json!({"api_token": "t0k"}),
        )
        .unwrap();
        assert_eq!(
            request.headers,
            vec![("Authorization".to_string(), "Bearer t0k".to_string())]
        );
        // An empty secret is no secret.
        let e =
            authenticate(&mut request, &bearer, &serde_json::json!({"api_token": ""})).unwrap_err();
        assert_eq!(e, EgressError::MissingCredential("api_token".into()));
    }

    #[test]
    fn declared_credentials_are_alternatives() {
        let vendure = [
            Credential::SecretHeader {
                name: "vendure-api-key".into(),
                key: "api_key".into(),
            },
            Credential::Bearer {
                key: "auth_token".into(),
            },
        ];
        let sent = |config: serde_json::Value| {
            let mut request = req("https://shop.example.com/admin-api");
            authenticate(&mut request, &vendure, &config).map(|()| request.headers)
        };
        assert_eq!(
            sent(serde_json::json!({"api_key": "k1"})).unwrap(),
            vec![("vendure-api-key".to_string(), "k1".to_string())]
        );
        assert_eq!(
            sent(serde_json::json!({"auth_token": "t1", "api_key": ""})).unwrap(),
            vec![("Authorization".to_string(), "Bearer t1".to_string())]
        );
        assert_eq!(
            sent(serde_json::json!({"api_key": "k1", "auth_token": "t1"}))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            sent(serde_json::json!({})).unwrap_err(),
            EgressError::MissingCredential("api_key or auth_token".into())
        );
    }
}
