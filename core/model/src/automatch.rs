//! Auto-matching a store's mappings by SKU: a storefront variant whose SKU
//! equals a reference code is that variant, unless the store maps it (or
//! the storefront id) already. Candidates come from the caller, or from what
//! the storefront told the hub in its webhooks (catalogue hints).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::sync::Mapping;

/// Longest storefront id the hub keeps (as for mappings).
const MAX_ID: usize = 128;

/// A storefront variant: its SKU and its ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub sku: String,
    /// The storefront's id of the variant.
    pub external_id: String,
    /// Its product, where the platform needs it (WooCommerce variations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Its stock record, where the platform keeps one (Shopify inventory items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_id: Option<String>,
}

impl Candidate {
    /// A hint from a storefront document; None without a SKU and a variant id.
    pub fn from_document(
        sku: &str,
        external_id: Option<&str>,
        parent_id: Option<&str>,
        inventory_id: Option<&str>,
    ) -> Option<Candidate> {
        let clean = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= MAX_ID)
                .map(str::to_string)
        };
        Some(Candidate {
            sku: clean(Some(sku))?,
            external_id: clean(external_id)?,
            parent_id: clean(parent_id),
            inventory_id: clean(inventory_id),
        })
    }
}

/// A request to auto-match (admin API).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoMatchRequest {
    /// The storefront's variants; when left out, the store's catalogue hints
    /// (what its webhooks reported).
    #[serde(default)]
    pub candidates: Option<Vec<Candidate>>,
    /// Create the matched mappings (in one transaction); false (the
    /// default) only shows what would match.
    #[serde(default)]
    pub apply: bool,
}

/// What became of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchResult {
    /// The SKU is a reference code the store does not map yet.
    Matched,
    /// The store maps this variant already.
    AlreadyMapped,
    /// The SKU is no reference code (or empty).
    Unknown,
    /// The storefront id is mapped to another variant, or the candidates
    /// disagree (one SKU, two ids; or one id, two SKUs).
    Conflict,
    /// The storefront id is empty or too long.
    Invalid,
}

/// One candidate (as sent) and what became of it. The candidate's fields
/// are spelled out rather than flattened so that the schema describes the
/// row itself (a candidate refuses unknown fields; a row has more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchRow {
    pub sku: String,
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_id: Option<String>,
    pub result: MatchResult,
    /// The variant the SKU names, when it names one.
    pub reference_code: Option<String>,
    pub detail: Option<String>,
}

/// The answer to an auto-match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AutoMatchAnswer {
    /// `candidates` (from the request) or `hints` (from the store's webhooks).
    pub source: String,
    /// How many candidates matched.
    pub matched: usize,
    /// Whether the matched mappings were created.
    pub applied: bool,
    pub candidates: Vec<MatchRow>,
}

/// What the catalogue says about a SKU.
#[derive(Debug, Clone)]
pub struct SkuFacts {
    /// The store's current external id for the variant, if mapped.
    pub mapped_to: Option<String>,
}

/// Decides each candidate. `skus` holds every SKU that is a reference code;
/// `external` maps the store's already-mapped external ids to their
/// reference codes.
pub fn auto_match(
    candidates: &[Candidate],
    skus: &HashMap<String, SkuFacts>,
    external: &HashMap<String, String>,
) -> Vec<MatchRow> {
    // Disagreeing candidates: one SKU under two ids, or one id under two SKUs.
    let mut ids_of_sku: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut skus_of_id: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in candidates {
        let (sku, id) = (c.sku.trim(), c.external_id.trim());
        if sku.is_empty() || id.is_empty() || id.len() > MAX_ID {
            continue;
        }
        let ids = ids_of_sku.entry(sku).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
        let sk = skus_of_id.entry(id).or_default();
        if !sk.contains(&sku) {
            sk.push(sku);
        }
    }
    candidates
        .iter()
        .map(|c| {
            let (sku, id) = (c.sku.trim(), c.external_id.trim());
            let row = |result, reference_code: Option<&str>, detail: Option<String>| MatchRow {
                sku: c.sku.clone(),
                external_id: c.external_id.clone(),
                parent_id: c.parent_id.clone(),
                inventory_id: c.inventory_id.clone(),
                result,
                reference_code: reference_code.map(str::to_string),
                detail,
            };
            if id.is_empty() || id.len() > MAX_ID {
                return row(
                    MatchResult::Invalid,
                    None,
                    Some(format!("external_id: 1 to {MAX_ID} characters")),
                );
            }
            let Some(facts) = skus.get(sku) else {
                let detail = if sku.is_empty() {
                    "no SKU".to_string()
                } else {
                    format!("no variant has reference code `{sku}`")
                };
                return row(MatchResult::Unknown, None, Some(detail));
            };
            if let Some(current) = &facts.mapped_to {
                let detail = if current == id {
                    format!("mapped to {current} already")
                } else {
                    format!("mapped to another storefront id, {current}")
                };
                return row(MatchResult::AlreadyMapped, Some(sku), Some(detail));
            }
            if let Some(owner) = external.get(id) {
                return row(
                    MatchResult::Conflict,
                    Some(sku),
                    Some(format!("storefront id {id} is mapped to {owner}")),
                );
            }
            if ids_of_sku[sku].len() > 1 {
                return row(
                    MatchResult::Conflict,
                    Some(sku),
                    Some(format!(
                        "SKU {sku} is on several storefront variants: {}",
                        ids_of_sku[sku].join(", ")
                    )),
                );
            }
            if skus_of_id[id].len() > 1 {
                return row(
                    MatchResult::Conflict,
                    Some(sku),
                    Some(format!(
                        "storefront id {id} comes with several SKUs: {}",
                        skus_of_id[id].join(", ")
                    )),
                );
            }
            row(MatchResult::Matched, Some(sku), None)
        })
        .collect()
}

/// The mappings the matched rows create (each variant once).
pub fn mappings(rows: &[MatchRow]) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for r in rows.iter().filter(|r| r.result == MatchResult::Matched) {
        let Some(code) = r
            .reference_code
            .as_deref()
            .and_then(|c| Code::parse(c).ok())
        else {
            continue;
        };
        if out.iter().any(|m| m.reference_code == code) {
            continue;
        }
        out.push(Mapping {
            reference_code: code,
            external_id: r.external_id.trim().to_string(),
            parent_id: r.parent_id.clone(),
            inventory_id: r.inventory_id.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(sku: &str, id: &str) -> Candidate {
        Candidate {
            sku: sku.into(),
            external_id: id.into(),
            parent_id: None,
            inventory_id: None,
        }
    }

    fn facts() -> (HashMap<String, SkuFacts>, HashMap<String, String>) {
        let mut skus = HashMap::new();
        skus.insert("MUG".to_string(), SkuFacts { mapped_to: None });
        skus.insert(
            "CUP".to_string(),
            SkuFacts {
                mapped_to: Some("x-cup".into()),
            },
        );
        skus.insert("BOWL".to_string(), SkuFacts { mapped_to: None });
        let mut external = HashMap::new();
        external.insert("x-cup".to_string(), "CUP".to_string());
        (skus, external)
    }

    #[test]
    fn each_candidate_gets_a_result() {
        let (skus, external) = facts();
        let rows = auto_match(
            &[
                c(" MUG ", "x-mug"),
                c("CUP", "x-cup"),
                c("PLATE", "x-plate"),
                c("BOWL", "x-cup"),
                c("", "x-none"),
                c("MUG", ""),
            ],
            &skus,
            &external,
        );
        let results: Vec<_> = rows.iter().map(|r| r.result).collect();
        assert_eq!(
            results,
            [
                MatchResult::Matched,
                MatchResult::AlreadyMapped,
                MatchResult::Unknown,
                MatchResult::Conflict,
                MatchResult::Unknown,
                MatchResult::Invalid,
            ]
        );
        assert_eq!(rows[0].reference_code.as_deref(), Some("MUG"));
        assert!(rows[3].detail.as_deref().unwrap().contains("mapped to CUP"));
        let maps = mappings(&rows);
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0].external_id, "x-mug");
    }

    #[test]
    fn disagreeing_candidates_match_nothing() {
        let (skus, external) = facts();
        let rows = auto_match(&[c("MUG", "a"), c("MUG", "b")], &skus, &external);
        assert!(rows.iter().all(|r| r.result == MatchResult::Conflict));
        let rows = auto_match(&[c("MUG", "a"), c("BOWL", "a")], &skus, &external);
        assert!(rows.iter().all(|r| r.result == MatchResult::Conflict));
        // The same candidate twice is one match.
        let rows = auto_match(&[c("MUG", "a"), c("MUG", "a")], &skus, &external);
        assert!(rows.iter().all(|r| r.result == MatchResult::Matched));
        assert_eq!(mappings(&rows).len(), 1);
    }

    #[test]
    fn hints_need_a_sku_and_a_variant_id() {
        assert!(Candidate::from_document("", Some("1"), None, None).is_none());
        assert!(Candidate::from_document("MUG", None, None, None).is_none());
        let h = Candidate::from_document(" MUG ", Some("1"), Some(""), Some("9")).unwrap();
        assert_eq!(h.sku, "MUG");
        assert_eq!(h.parent_id, None);
        assert_eq!(h.inventory_id.as_deref(), Some("9"));
    }
}
