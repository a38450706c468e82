//! Where a store and its keys may act: the locations a store sells from,
//! the group it sources orders from, the locations an API key is given, and
//! where an order's stock may come from. Storage looks the locations up and
//! calls these rules under its locks.

use serde::Serialize;

use crate::codes::Code;
use crate::error::{DomainError, FieldError};
use crate::store::Principal;

/// A location as storage knows it: its row id and its code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct LocationRef {
    pub id: i64,
    pub code: String,
}

impl LocationRef {
    pub fn new(id: i64, code: impl Into<String>) -> Self {
        LocationRef {
            id,
            code: code.into(),
        }
    }
}

/// The codes of some locations, for messages.
pub fn codes(locations: &[LocationRef]) -> String {
    locations
        .iter()
        .map(|l| l.code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A location group with its members in priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: i64,
    pub code: String,
    pub members: Vec<LocationRef>,
}

/// Where an order's stock may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The locations the sourcing rule looks at, in its order.
    pub candidates: Vec<LocationRef>,
    /// The group the order is sourced from, if any.
    pub group_id: Option<i64>,
    /// The location whose price lists apply (none for a group: store-wide).
    pub price_location: Option<i64>,
}

/// Where an order is sourced from. An order naming no location, or its
/// store's group, is sourced from those members of the group the key acts
/// for (a key acting for none of them is refused, 403); otherwise from the
/// one location named, or the key's only one (see [`Principal::location`]).
pub fn order_source(
    key: &Principal,
    requested: Option<&str>,
    group: Option<&GroupRef>,
) -> Result<Source, DomainError> {
    if let Some(g) = group {
        if requested.is_none_or(|r| r == g.code) {
            let candidates: Vec<LocationRef> = g
                .members
                .iter()
                .filter(|m| key.locations.iter().any(|l| l.id == m.id))
                .cloned()
                .collect();
            if candidates.is_empty() {
                return Err(DomainError::Forbidden {
                    code: "location_out_of_scope",
                    detail: format!(
                        "this API key acts for none of the locations of group `{}` ({})",
                        g.code,
                        codes(&g.members)
                    ),
                });
            }
            return Ok(Source {
                candidates,
                group_id: Some(g.id),
                price_location: None,
            });
        }
    }
    let location = key.location(requested)?;
    Ok(Source {
        price_location: Some(location.id),
        candidates: vec![location],
        group_id: None,
    })
}

/// A store may sell from a group only when it sells from every member.
pub fn group_within_store(group: &GroupRef, store: &[LocationRef]) -> Result<(), DomainError> {
    let missing: Vec<LocationRef> = group
        .members
        .iter()
        .filter(|m| !store.iter().any(|l| l.id == m.id))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(DomainError::invalid(
        "sell_from_group",
        "group_not_in_store",
        format!(
            "the store does not sell from {} of group `{}`; add them to its locations",
            codes(&missing),
            group.code
        ),
    ))
}

/// The locations a new API key acts for: all of the store's when it names
/// none; otherwise each one named, which the store must sell from (a code
/// named twice counts once).
pub fn key_locations(
    store_code: &str,
    store: &[LocationRef],
    asked: Option<&[Code]>,
) -> Result<Vec<LocationRef>, DomainError> {
    let Some(asked) = asked else {
        return Ok(store.to_vec());
    };
    if asked.is_empty() {
        return Err(DomainError::invalid(
            "locations",
            "required",
            "an API user acts for at least one location",
        ));
    }
    let mut chosen: Vec<LocationRef> = Vec::new();
    let mut problems = Vec::new();
    for (i, code) in asked.iter().enumerate() {
        match store.iter().find(|l| l.code == code.as_str()) {
            Some(l) if !chosen.contains(l) => chosen.push(l.clone()),
            Some(_) => {}
            None => problems.push(FieldError::new(
                format!("locations[{i}]"),
                "location_not_in_store",
                format!(
                    "store {store_code} does not sell from `{code}`; its locations: {}",
                    codes(store)
                ),
            )),
        }
    }
    if problems.is_empty() {
        Ok(chosen)
    } else {
        Err(DomainError::Invalid(problems))
    }
}

/// A location a store's setting names (a price list's) must be one it
/// sells from.
pub fn store_sells_from(
    store_code: &str,
    store: &[LocationRef],
    location: &LocationRef,
) -> Result<(), DomainError> {
    if store.iter().any(|l| l.id == location.id) {
        return Ok(());
    }
    Err(DomainError::invalid(
        "location",
        "location_not_in_store",
        format!("store {store_code} does not sell from `{}`", location.code),
    ))
}

/// A key limited to some locations (`scope`: their ids; none for the
/// admin) may act only there.
pub fn acts_for(scope: Option<&[i64]>, location: &LocationRef) -> Result<(), DomainError> {
    if scope.is_some_and(|ids| !ids.contains(&location.id)) {
        return Err(DomainError::Forbidden {
            code: "location_out_of_scope",
            detail: format!("this API key does not act for location `{}`", location.code),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::Currency;

    fn loc(id: i64, code: &str) -> LocationRef {
        LocationRef::new(id, code)
    }

    fn key(locations: &[LocationRef]) -> Principal {
        Principal {
            api_user_id: 1,
            store_id: 1,
            store_code: "web".into(),
            locations: locations.to_vec(),
            payment_types: vec![],
            allow_backorder: false,
            prices_include_tax: true,
            currency: Currency::DEFAULT,
            accept_test_orders: false,
            store_enabled: true,
        }
    }

    fn group() -> GroupRef {
        GroupRef {
            id: 7,
            code: "south".into(),
            members: vec![loc(2, "blr"), loc(1, "mas"), loc(3, "hyd")],
        }
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_string(), code.to_string())
    }

    fn forbidden(e: DomainError) -> &'static str {
        match e {
            DomainError::Forbidden { code, .. } => code,
            other => panic!("not a 403: {other:?}"),
        }
    }

    fn invalid(e: DomainError) -> Vec<(String, String)> {
        match e {
            DomainError::Invalid(errors) => errors.into_iter().map(|f| (f.field, f.code)).collect(),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[test]
    fn a_group_order_takes_the_members_the_key_acts_for_in_group_order() {
        let k = key(&[loc(3, "hyd"), loc(2, "blr"), loc(9, "del")]);
        for requested in [None, Some("south")] {
            let s = order_source(&k, requested, Some(&group())).unwrap();
            assert_eq!(s.candidates, vec![loc(2, "blr"), loc(3, "hyd")]);
            assert_eq!((s.group_id, s.price_location), (Some(7), None));
        }
    }

    #[test]
    fn a_key_outside_the_group_is_refused() {
        let k = key(&[loc(9, "del")]);
        let e = order_source(&k, None, Some(&group())).unwrap_err();
        assert!(e.to_string().contains("blr, mas, hyd"), "{e}");
        assert_eq!(forbidden(e), "location_out_of_scope");
    }

    #[test]
    fn naming_one_location_sources_from_it_with_its_prices() {
        let k = key(&[loc(2, "blr"), loc(9, "del")]);
        let s = order_source(&k, Some("del"), Some(&group())).unwrap();
        assert_eq!(s.candidates, vec![loc(9, "del")]);
        assert_eq!((s.group_id, s.price_location), (None, Some(9)));
        let lone = key(&[loc(9, "del")]);
        assert_eq!(
            order_source(&lone, None, None).unwrap().candidates,
            vec![loc(9, "del")]
        );
    }

    #[test]
    fn without_a_group_the_key_scope_decides() {
        let k = key(&[loc(2, "blr"), loc(9, "del")]);
        assert_eq!(
            invalid(order_source(&k, None, None).unwrap_err()),
            vec![pair("location", "location_required")]
        );
        assert_eq!(
            forbidden(order_source(&k, Some("mas"), None).unwrap_err()),
            "location_out_of_scope"
        );
    }

    #[test]
    fn a_store_sells_from_a_group_only_with_all_its_members() {
        assert!(
            group_within_store(&group(), &[loc(1, "mas"), loc(2, "blr"), loc(3, "hyd")]).is_ok()
        );
        let e = group_within_store(&group(), &[loc(2, "blr")]).unwrap_err();
        assert!(e.to_string().contains("mas, hyd"), "{e}");
        assert_eq!(
            invalid(e),
            vec![pair("sell_from_group", "group_not_in_store")]
        );
    }

    #[test]
    fn a_key_gets_the_store_locations_it_names() {
        let store = [loc(1, "mas"), loc(2, "blr")];
        assert_eq!(key_locations("web", &store, None).unwrap(), store.to_vec());
        let blr = Code::parse("blr").unwrap();
        let twice = [blr.clone(), blr.clone()];
        assert_eq!(
            key_locations("web", &store, Some(&twice)).unwrap(),
            vec![loc(2, "blr")]
        );
        assert_eq!(
            invalid(key_locations("web", &store, Some(&[])).unwrap_err()),
            vec![pair("locations", "required")]
        );
        let other = [blr, Code::parse("del").unwrap()];
        assert_eq!(
            invalid(key_locations("web", &store, Some(&other)).unwrap_err()),
            vec![pair("locations[1]", "location_not_in_store")]
        );
    }

    #[test]
    fn settings_and_keys_stay_within_their_locations() {
        let store = [loc(1, "mas")];
        assert!(store_sells_from("web", &store, &loc(1, "mas")).is_ok());
        assert_eq!(
            invalid(store_sells_from("web", &store, &loc(2, "blr")).unwrap_err()),
            vec![pair("location", "location_not_in_store")]
        );
        assert!(acts_for(None, &loc(2, "blr")).is_ok());
        assert!(acts_for(Some(&[2]), &loc(2, "blr")).is_ok());
        assert_eq!(
            forbidden(acts_for(Some(&[1]), &loc(2, "blr")).unwrap_err()),
            "location_out_of_scope"
        );
    }
}
