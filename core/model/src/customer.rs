//! The customer an order names: what the storefront sends ([`CustomerIn`],
//! text as written) and what the hub keeps of it ([`Contact`]): blanks
//! dropped, the phone in E.164 read with the store's default country, the
//! e-mail trimmed and lower case. Storage finds the customer by that phone,
//! else by that e-mail.

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::error::Problems;
use crate::phone::{CountryCode, Phone};

// No doc comment: it would become the schema's description in the served
// OpenAPI document. The phone stays text until the store's default country
// reads it, the e-mail until the order's rules check it with everything
// else (`invalid_phone`, `invalid_email`, all problems at once).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Free-form address: a string or an object.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub address: Option<serde_json::Value>,
}

/// Customer contact data after normalisation.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<serde_json::Value>,
}

impl CustomerIn {
    /// The contact, its problems pushed under `customer.`. None once the
    /// phone is refused: the rest is not looked at then.
    pub(crate) fn contact(self, country: &CountryCode, p: &mut Problems) -> Option<Contact> {
        let clean = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let phone = match clean(self.phone) {
            None => None,
            Some(raw) => match Phone::parse(&raw, country) {
                Ok(phone) => Some(phone),
                Err(e) => {
                    p.push("customer.phone", "invalid_phone", e.to_string());
                    return None;
                }
            },
        };
        let email = clean(self.email).and_then(|raw| {
            Email::parse(&raw)
                .map_err(|e| p.push("customer.email", "invalid_email", e.to_string()))
                .ok()
        });
        check_address("customer.address", self.address.as_ref(), p);
        Some(Contact {
            name: clean(self.name),
            phone,
            email,
            address: self.address.filter(|a| !a.is_null()),
        })
    }
}

/// A free-form address is a string or an object (or null: none).
pub(crate) fn check_address(field: &str, address: Option<&serde_json::Value>, p: &mut Problems) {
    if let Some(a) = address {
        if !(a.is_string() || a.is_object() || a.is_null()) {
            p.push(
                field,
                "invalid_address",
                "an address is a string or an object",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainError;

    fn contact(json: serde_json::Value) -> (Option<Contact>, Vec<(String, String, String)>) {
        let c: CustomerIn = serde_json::from_value(json).unwrap();
        let mut p = Problems::default();
        let contact = c.contact(&CountryCode::default(), &mut p);
        let problems = match p.into_result() {
            Ok(()) => Vec::new(),
            Err(DomainError::Invalid(errors)) => errors
                .into_iter()
                .map(|e| (e.field, e.code, e.message))
                .collect(),
            Err(e) => panic!("{e:?}"),
        };
        (contact, problems)
    }

    #[test]
    fn blanks_are_dropped_and_the_rest_normalised() {
        let (c, problems) = contact(serde_json::json!({
            "name": " Asha ", "phone": "98765 43210", "email": " Asha@Example.com", "address": null
        }));
        assert!(problems.is_empty(), "{problems:?}");
        let c = c.unwrap();
        assert_eq!(c.name.as_deref(), Some("Asha"));
        assert_eq!(c.phone.unwrap().as_str(), "+919876543210");
        assert_eq!(c.email.unwrap().as_str(), "asha@example.com");
        assert!(c.address.is_none());
        let (c, problems) = contact(serde_json::json!({"name": "", "phone": " ", "email": "  "}));
        assert!(problems.is_empty(), "{problems:?}");
        let c = c.unwrap();
        assert!(c.name.is_none() && c.phone.is_none() && c.email.is_none());
    }

    #[test]
    fn problems_name_the_customer_field() {
        let (_, problems) =
            contact(serde_json::json!({"email": "Asha.Example.com", "address": 12}));
        assert_eq!(
            problems,
            [
                (
                    "customer.email".to_string(),
                    "invalid_email".to_string(),
                    "`asha.example.com` is not an email address".to_string()
                ),
                (
                    "customer.address".to_string(),
                    "invalid_address".to_string(),
                    "an address is a string or an object".to_string()
                ),
            ]
        );
        // A refused phone is the only problem looked for.
        let (c, problems) =
            contact(serde_json::json!({"phone": "call me", "email": "x", "address": 1}));
        assert!(c.is_none());
        let fields: Vec<_> = problems
            .iter()
            .map(|(f, c, _)| (f.as_str(), c.as_str()))
            .collect();
        assert_eq!(fields, [("customer.phone", "invalid_phone")]);
    }
}
