//! Reference codes for existing matrix items, regenerated in bulk from a
//! template: a plan (old and new code per variant) and every collision that
//! would stop it. Storage applies a plan only when it has no collision, in
//! one transaction, so a generation is never half applied.
//!
//! Planning takes two steps because collisions depend on the catalogue:
//! [`CodePlan::draft`] renders the template for each item, storage looks up
//! who holds the new codes today, and [`CodePlan::check`] decides.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::error::DomainError;
use crate::item::{check_template_syntax, render_reference_codes, AttributeDim, Attributes};

/// A request to regenerate reference codes (admin API).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeGeneration {
    /// Template such as `{item_code}-{color}-{size}`: `{item_code}` and the
    /// item's attribute names, case-insensitive; spaces in values become `-`.
    pub template: String,
    /// The items to regenerate; every matrix item when left out.
    #[serde(default)]
    pub items: Option<Vec<Code>>,
    /// Write the new codes (all of them, or none when anything collides);
    /// false (the default) only shows the plan.
    #[serde(default)]
    pub apply: bool,
}

/// An item as stored, with its variants.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub item_code: String,
    pub attributes: Vec<AttributeDim>,
    pub variants: Vec<StoredVariant>,
}

/// A variant as stored.
#[derive(Debug, Clone)]
pub struct StoredVariant {
    pub id: i64,
    pub reference_code: String,
    pub attributes: Attributes,
}

/// A variant that holds a reference code today.
#[derive(Debug, Clone)]
pub struct CodeHolder {
    pub variant_id: i64,
    pub item_code: String,
    pub attributes: Attributes,
    pub reference_code: String,
}

/// One variant's code before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeChange {
    #[serde(skip)]
    pub variant_id: i64,
    pub item_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, String>))]
    pub attributes: Attributes,
    pub old: String,
    /// What the template gives (possibly not a valid code: see `collisions`).
    pub new: String,
}

/// Why a plan cannot be applied, for one variant or one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Collision {
    pub item_code: String,
    /// The variant; absent when the whole item is concerned.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, String>>))]
    pub attributes: Option<Attributes>,
    /// The code the template gives the variant.
    pub reference_code: Option<String>,
    /// `reference_code_taken` (another variant, not regenerated, has it),
    /// `duplicate_reference_code` (the template gives it to two variants),
    /// `invalid_reference_code`, `invalid_template` (the item lacks an
    /// attribute the template names) or `not_a_matrix_item`.
    pub kind: String,
    pub detail: String,
}

/// The outcome of a generation: the plan, its collisions, and whether it
/// was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodePlan {
    pub template: String,
    /// Items considered.
    pub items: usize,
    /// Every variant of those items with its old and new code.
    pub variants: Vec<CodeChange>,
    /// How many variants get a different code.
    pub changed: usize,
    pub collisions: Vec<Collision>,
    pub applied: bool,
}

fn describe(item_code: &str, attributes: &Attributes) -> String {
    if attributes.is_empty() {
        format!("item {item_code}")
    } else {
        let attrs: Vec<String> = attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{item_code} ({})", attrs.join(", "))
    }
}

impl CodePlan {
    /// Renders `template` for each item. A template that is no template at
    /// all (empty, unbalanced braces) is refused; an item it does not fit is
    /// a collision.
    pub fn draft(template: &str, items: &[StoredItem]) -> Result<CodePlan, DomainError> {
        check_template_syntax(template)?;
        let mut plan = CodePlan {
            template: template.to_string(),
            items: items.len(),
            variants: Vec::new(),
            changed: 0,
            collisions: Vec::new(),
            applied: false,
        };
        for item in items {
            if item.attributes.is_empty() {
                plan.collisions.push(Collision {
                    item_code: item.item_code.clone(),
                    attributes: None,
                    reference_code: None,
                    kind: "not_a_matrix_item".into(),
                    detail: format!(
                        "{} is a plain item: its reference code is its item code",
                        item.item_code
                    ),
                });
                continue;
            }
            let rendered = match render_reference_codes(&item.item_code, &item.attributes, template)
            {
                Ok(r) => r,
                Err(e) => {
                    let (_, detail) = crate::import::explain(&e);
                    plan.collisions.push(Collision {
                        item_code: item.item_code.clone(),
                        attributes: None,
                        reference_code: None,
                        kind: "invalid_template".into(),
                        detail: format!("{}: {detail}", item.item_code),
                    });
                    continue;
                }
            };
            let by_combo: HashMap<&Attributes, &String> =
                rendered.iter().map(|(a, c)| (a, c)).collect();
            for v in &item.variants {
                // A variant outside the item's combinations keeps its code.
                let Some(new) = by_combo.get(&v.attributes) else {
                    continue;
                };
                if let Err(e) = Code::parse(new) {
                    plan.collisions.push(Collision {
                        item_code: item.item_code.clone(),
                        attributes: Some(v.attributes.clone()),
                        reference_code: Some((*new).clone()),
                        kind: "invalid_reference_code".into(),
                        detail: format!(
                            "the template gives {} the code `{new}`: {e}",
                            describe(&item.item_code, &v.attributes)
                        ),
                    });
                }
                plan.variants.push(CodeChange {
                    variant_id: v.id,
                    item_code: item.item_code.clone(),
                    attributes: v.attributes.clone(),
                    old: v.reference_code.clone(),
                    new: (*new).clone(),
                });
            }
        }
        plan.changed = plan.variants.iter().filter(|c| c.old != c.new).count();
        Ok(plan)
    }

    /// The new codes whose holders [`check`](Self::check) needs.
    pub fn new_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.variants.iter().map(|c| c.new.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }

    /// Finds the collisions with the catalogue as it is: `holders` are the
    /// variants holding any of the new codes today. A variant of the plan
    /// that moves to another code frees its old one (codes may swap).
    pub fn check(&mut self, holders: &[CodeHolder]) {
        let valid = |c: &CodeChange| Code::parse(&c.new).is_ok();
        // Variants whose code the plan sets; the others keep theirs.
        let moving: HashMap<i64, &str> = self
            .variants
            .iter()
            .filter(|c| valid(c))
            .map(|c| (c.variant_id, c.new.as_str()))
            .collect();
        let mut first: BTreeMap<&str, &CodeChange> = BTreeMap::new();
        let mut found = Vec::new();
        for change in self.variants.iter().filter(|c| valid(c)) {
            if let Some(earlier) = first.get(change.new.as_str()) {
                found.push(Collision {
                    item_code: change.item_code.clone(),
                    attributes: Some(change.attributes.clone()),
                    reference_code: Some(change.new.clone()),
                    kind: "duplicate_reference_code".into(),
                    detail: format!(
                        "the template gives `{}` to both {} and {}; make it include every attribute",
                        change.new,
                        describe(&earlier.item_code, &earlier.attributes),
                        describe(&change.item_code, &change.attributes)
                    ),
                });
                continue;
            }
            first.insert(&change.new, change);
            let taken = holders.iter().find(|h| {
                h.reference_code == change.new
                    && h.variant_id != change.variant_id
                    && !moving.contains_key(&h.variant_id)
            });
            if let Some(h) = taken {
                found.push(Collision {
                    item_code: change.item_code.clone(),
                    attributes: Some(change.attributes.clone()),
                    reference_code: Some(change.new.clone()),
                    kind: "reference_code_taken".into(),
                    detail: format!(
                        "`{}` for {} is already the reference code of {}",
                        change.new,
                        describe(&change.item_code, &change.attributes),
                        describe(&h.item_code, &h.attributes)
                    ),
                });
            }
        }
        self.collisions.extend(found);
    }

    /// The variants to write: (variant id, new code), changed ones only.
    pub fn writes(&self) -> Vec<(i64, &str)> {
        self.variants
            .iter()
            .filter(|c| c.old != c.new)
            .map(|c| (c.variant_id, c.new.as_str()))
            .collect()
    }

    /// The collisions as the summary of a refusal.
    pub fn refusal(&self) -> String {
        let shown: Vec<&str> = self
            .collisions
            .iter()
            .take(5)
            .map(|c| c.detail.as_str())
            .collect();
        format!(
            "{} collision(s); nothing was changed: {}{}",
            self.collisions.len(),
            shown.join("; "),
            if self.collisions.len() > shown.len() {
                "; ..."
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(color: &str, size: &str) -> Attributes {
        [("color", color), ("size", size)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// TOY: Red/Green x S/M with codes T1..T4 (ids 1..4).
    fn toy() -> StoredItem {
        let mut variants = Vec::new();
        for (i, (c, s)) in [("Red", "S"), ("Red", "M"), ("Green", "S"), ("Green", "M")]
            .into_iter()
            .enumerate()
        {
            variants.push(StoredVariant {
                id: i as i64 + 1,
                reference_code: format!("T{}", i + 1),
                attributes: attrs(c, s),
            });
        }
        StoredItem {
            item_code: "TOY".into(),
            attributes: vec![
                AttributeDim {
                    name: "color".into(),
                    values: vec!["Red".into(), "Green".into()],
                },
                AttributeDim {
                    name: "size".into(),
                    values: vec!["S".into(), "M".into()],
                },
            ],
            variants,
        }
    }

    fn holder(id: i64, item: &str, code: &str) -> CodeHolder {
        CodeHolder {
            variant_id: id,
            item_code: item.into(),
            attributes: Attributes::new(),
            reference_code: code.into(),
        }
    }

    #[test]
    fn a_clean_plan_lists_old_and_new() {
        let mut plan = CodePlan::draft("{item_code}-{Color}-{size}", &[toy()]).unwrap();
        assert_eq!(
            plan.new_codes(),
            ["TOY-Green-M", "TOY-Green-S", "TOY-Red-M", "TOY-Red-S"]
        );
        plan.check(&[]);
        assert!(plan.collisions.is_empty());
        assert_eq!(plan.changed, 4);
        assert_eq!(plan.variants[1].old, "T2");
        assert_eq!(plan.variants[1].new, "TOY-Red-M");
        assert_eq!(plan.variants[1].attributes, attrs("Red", "M"));
        assert_eq!(plan.writes()[0], (1, "TOY-Red-S"));
    }

    #[test]
    fn a_code_held_by_another_variant_collides() {
        let mut plan = CodePlan::draft("{item_code}/{color}/{size}", &[toy()]).unwrap();
        plan.check(&[holder(99, "SPARE", "TOY/Green/S")]);
        assert_eq!(plan.collisions.len(), 1);
        let c = &plan.collisions[0];
        assert_eq!(c.kind, "reference_code_taken");
        assert_eq!(c.reference_code.as_deref(), Some("TOY/Green/S"));
        assert_eq!(c.attributes, Some(attrs("Green", "S")));
        assert!(c.detail.contains("item SPARE"), "{}", c.detail);
    }

    #[test]
    fn codes_may_swap_within_the_plan() {
        let mut item = toy();
        item.variants[0].reference_code = "TOY-Red-M".into();
        item.variants[1].reference_code = "TOY-Red-S".into();
        let mut plan = CodePlan::draft("{item_code}-{color}-{size}", &[item]).unwrap();
        // Today variant 2 holds TOY-Red-S and variant 1 TOY-Red-M.
        plan.check(&[holder(2, "TOY", "TOY-Red-S"), holder(1, "TOY", "TOY-Red-M")]);
        assert!(plan.collisions.is_empty(), "{:?}", plan.collisions);
        // A variant keeping its code does not collide with itself either.
        let mut same = CodePlan::draft("T{size}", &[toy()]).unwrap();
        same.check(&[holder(1, "TOY", "T1")]);
        assert_eq!(same.collisions.len(), 2, "Red and Green share each size");
        assert!(same
            .collisions
            .iter()
            .all(|c| c.kind == "duplicate_reference_code"));
    }

    #[test]
    fn two_variants_given_one_code_collide() {
        let mut plan = CodePlan::draft("{item_code}-{color}", &[toy()]).unwrap();
        plan.check(&[]);
        assert_eq!(plan.collisions.len(), 2);
        assert!(plan.collisions[0]
            .detail
            .contains("TOY (color=Red, size=S)"));
        assert!(plan.collisions[0]
            .detail
            .contains("TOY (color=Red, size=M)"));
    }

    #[test]
    fn items_the_template_does_not_fit_and_bad_codes_are_reported() {
        let mut plain = toy();
        plain.item_code = "MUG".into();
        plain.attributes.clear();
        let mut plan = CodePlan::draft("{item_code}-{colour}", &[toy(), plain]).unwrap();
        plan.check(&[]);
        let kinds: Vec<_> = plan.collisions.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(kinds, ["invalid_template", "not_a_matrix_item"]);
        assert!(plan.collisions[0].detail.contains("colour"));
        let mut spaced = CodePlan::draft("{item_code} {color}", &[toy()]).unwrap();
        spaced.check(&[]);
        assert_eq!(spaced.collisions.len(), 4);
        assert_eq!(spaced.collisions[0].kind, "invalid_reference_code");
        assert!(spaced
            .refusal()
            .starts_with("4 collision(s); nothing was changed"));
        assert!(CodePlan::draft("{item_code", &[toy()]).is_err());
        assert!(CodePlan::draft("", &[toy()]).is_err());
        assert!(CodePlan::draft("}{item_code}", &[toy()]).is_err());
    }
}
