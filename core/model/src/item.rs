//! Items and their sellable variants. A plain item is one variant whose
//! reference code is the item code; a matrix item has one variant per
//! combination of its attribute values, with reference codes generated in
//! bulk from a template such as `{item_code}-{color}-{size}`.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::decimal::{Amount, Rate};
use crate::error::{DomainError, Problems};

/// Most variants one matrix item may have; beyond this a template is almost
/// certainly a mistake.
pub const MAX_VARIANTS: usize = 10_000;

/// An attribute dimension of a matrix item, e.g. `color: [Red, Green, Blue]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttributeDim {
    /// Attribute name as used in the template, e.g. `color`.
    pub name: String,
    /// The values, in display order.
    pub values: Vec<String>,
}

/// The variant attributes, e.g. `{"color": "Red", "size": "S"}`.
pub type Attributes = BTreeMap<String, String>;

/// A request to create an item (admin API).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub item_code: Code,
    pub name: String,
    #[serde(default = "default_unit")]
    pub unit: String,
    #[serde(default)]
    pub tax_rate: Option<Rate>,
    #[serde(default)]
    pub mrp: Option<Amount>,
    /// Selling price until the first inward sets one.
    #[serde(default)]
    pub price: Option<Amount>,
    /// Attribute dimensions; empty for a plain item.
    #[serde(default)]
    pub attributes: Vec<AttributeDim>,
    /// Template for matrix reference codes, e.g. `{item_code}-{color}-{size}`.
    /// Defaults to the item code followed by every attribute, joined by `-`.
    #[serde(default)]
    pub reference_code_template: Option<String>,
    /// Reference codes set by hand for some combinations; they win over the
    /// template.
    #[serde(default)]
    pub variants: Vec<VariantOverride>,
}

fn default_unit() -> String {
    "pcs".to_string()
}

/// A hand-set reference code for one combination of attribute values.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VariantOverride {
    pub attributes: Attributes,
    pub reference_code: Code,
}

/// A variant ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewVariant {
    pub reference_code: Code,
    pub attributes: Attributes,
}

/// An item as read back.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub item_code: String,
    pub name: String,
    pub unit: String,
    pub tax_rate: Rate,
    pub mrp: Option<Amount>,
    pub attributes: Vec<AttributeDim>,
    pub reference_code_template: Option<String>,
    pub variants: Vec<Variant>,
    pub created_at: DateTime<Utc>,
}

/// A sellable variant as read back.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub reference_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, String>))]
    pub attributes: Attributes,
    /// Current selling price (last inward, unless set otherwise).
    pub price: Option<Amount>,
    pub updated_at: DateTime<Utc>,
}

impl NewItem {
    /// Checks the item and expands it into its variants.
    pub fn variants(&self) -> Result<Vec<NewVariant>, DomainError> {
        let mut problems = Problems::default();
        if self.name.trim().is_empty() {
            problems.push("name", "required", "an item needs a name");
        }
        let mut names = HashSet::new();
        for (i, dim) in self.attributes.iter().enumerate() {
            if !is_placeholder_name(&dim.name) {
                problems.push(
                    format!("attributes[{i}].name"),
                    "invalid_attribute",
                    format!(
                        "`{}` is not an attribute name (letters, digits, _)",
                        dim.name
                    ),
                );
            }
            if !names.insert(dim.name.to_lowercase()) {
                problems.push(
                    format!("attributes[{i}].name"),
                    "duplicate_attribute",
                    format!("attribute `{}` appears twice", dim.name),
                );
            }
            if dim.values.is_empty() {
                problems.push(
                    format!("attributes[{i}].values"),
                    "required",
                    format!("attribute `{}` needs at least one value", dim.name),
                );
            }
            let mut seen = HashSet::new();
            for (j, v) in dim.values.iter().enumerate() {
                if v.trim().is_empty() || !seen.insert(v.as_str()) {
                    problems.push(
                        format!("attributes[{i}].values[{j}]"),
                        "invalid_attribute_value",
                        format!("value `{v}` of `{}` is empty or repeated", dim.name),
                    );
                }
            }
        }
        if self.attributes.is_empty() && self.reference_code_template.is_some() {
            problems.push(
                "reference_code_template",
                "template_without_attributes",
                "a plain item's reference code is its item code; a template needs attributes",
            );
        }
        problems.into_result()?;

        if self.attributes.is_empty() {
            return Ok(vec![NewVariant {
                reference_code: self.item_code.clone(),
                attributes: Attributes::new(),
            }]);
        }
        let combos: usize = self.attributes.iter().map(|d| d.values.len()).product();
        if combos > MAX_VARIANTS {
            return Err(DomainError::invalid(
                "attributes",
                "too_many_variants",
                format!("{combos} combinations; at most {MAX_VARIANTS} variants per item"),
            ));
        }
        let template = self
            .reference_code_template
            .clone()
            .unwrap_or_else(|| default_template(&self.attributes));
        let variants = generate_reference_codes(&self.item_code, &self.attributes, &template)?;
        self.apply_overrides(variants)
    }

    fn apply_overrides(
        &self,
        mut variants: Vec<NewVariant>,
    ) -> Result<Vec<NewVariant>, DomainError> {
        for (i, o) in self.variants.iter().enumerate() {
            match variants.iter_mut().find(|v| v.attributes == o.attributes) {
                Some(v) => v.reference_code = o.reference_code.clone(),
                None => {
                    return Err(DomainError::invalid(
                        format!("variants[{i}].attributes"),
                        "unknown_combination",
                        format!(
                            "{:?} is not a combination of this item's attributes",
                            o.attributes
                        ),
                    ))
                }
            }
        }
        check_unique(&variants)?;
        Ok(variants)
    }
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn default_template(dims: &[AttributeDim]) -> String {
    let mut t = "{item_code}".to_string();
    for d in dims {
        t.push_str(&format!("-{{{}}}", d.name));
    }
    t
}

/// Expands a template over every combination of the attribute values.
///
/// Placeholders are `{item_code}` and `{<attribute name>}` (case-insensitive);
/// a value is inserted as given with runs of whitespace turned into `-`.
/// Unknown placeholders, codes that are not valid codes, and two combinations
/// that yield the same code are all rejected, naming the culprits.
pub fn generate_reference_codes(
    item_code: &Code,
    dims: &[AttributeDim],
    template: &str,
) -> Result<Vec<NewVariant>, DomainError> {
    let mut variants = Vec::new();
    for (attributes, code) in render_reference_codes(item_code.as_str(), dims, template)? {
        let reference_code = Code::parse(&code).map_err(|e| {
            DomainError::invalid(
                "reference_code_template",
                "invalid_reference_code",
                format!("the template gives `{code}` for {attributes:?}: {e}"),
            )
        })?;
        variants.push(NewVariant {
            reference_code,
            attributes,
        });
    }
    check_unique(&variants)?;
    Ok(variants)
}

/// The text a template gives for every combination (last dimension
/// fastest), not yet checked as codes: the bulk generator reports each bad
/// one instead of stopping at the first.
pub fn render_reference_codes(
    item_code: &str,
    dims: &[AttributeDim],
    template: &str,
) -> Result<Vec<(Attributes, String)>, DomainError> {
    let parts = parse_template(template, dims)?;
    let mut out = Vec::new();
    if dims.iter().any(|d| d.values.is_empty()) {
        return Ok(out);
    }
    let mut index = vec![0usize; dims.len()];
    loop {
        let attributes: Attributes = dims
            .iter()
            .zip(&index)
            .map(|(d, &i)| (d.name.clone(), d.values[i].clone()))
            .collect();
        let mut code = String::new();
        for part in &parts {
            match part {
                Part::Literal(s) => code.push_str(s),
                Part::ItemCode => code.push_str(item_code),
                Part::Attr(k) => code.push_str(
                    &dims[*k].values[index[*k]]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join("-"),
                ),
            }
        }
        out.push((attributes, code));
        // Odometer over the dimensions, last one fastest.
        let mut k = dims.len();
        loop {
            if k == 0 {
                return Ok(out);
            }
            k -= 1;
            index[k] += 1;
            if index[k] < dims[k].values.len() {
                break;
            }
            index[k] = 0;
        }
    }
}

enum Part {
    Literal(String),
    ItemCode,
    Attr(usize),
}

fn parse_template(template: &str, dims: &[AttributeDim]) -> Result<Vec<Part>, DomainError> {
    let mut parts = Vec::new();
    for part in split_template(template)? {
        parts.push(match part {
            TemplatePart::Literal(s) => Part::Literal(s),
            TemplatePart::Placeholder(name) if name.eq_ignore_ascii_case("item_code") => {
                Part::ItemCode
            }
            TemplatePart::Placeholder(name) => {
                match dims.iter().position(|d| d.name.eq_ignore_ascii_case(&name)) {
                    Some(k) => Part::Attr(k),
                    None => {
                        let known: Vec<_> = dims.iter().map(|d| d.name.as_str()).collect();
                        return Err(DomainError::invalid(
                            "reference_code_template",
                            "invalid_template",
                            format!(
                                "unknown placeholder `{{{name}}}`; use {{item_code}} or one of {known:?}"
                            ),
                        ));
                    }
                }
            }
        });
    }
    Ok(parts)
}

/// A piece of a template, before its placeholders are matched to attributes.
enum TemplatePart {
    Literal(String),
    Placeholder(String),
}

/// Refuses what is no template whatever the item: empty, or unbalanced
/// braces.
pub fn check_template_syntax(template: &str) -> Result<(), DomainError> {
    split_template(template).map(|_| ())
}

/// Splits a template into literals and placeholders.
fn split_template(template: &str) -> Result<Vec<TemplatePart>, DomainError> {
    let bad =
        |msg: String| DomainError::invalid("reference_code_template", "invalid_template", msg);
    if template.is_empty() {
        return Err(bad("the template is empty".to_string()));
    }
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if rest[..open].contains('}') {
            return Err(bad(format!("stray `}}` in `{template}`")));
        }
        if open > 0 {
            parts.push(TemplatePart::Literal(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| bad(format!("unclosed `{{` in `{template}`")))?
            + open;
        parts.push(TemplatePart::Placeholder(rest[open + 1..close].to_string()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(bad(format!("stray `}}` in `{template}`")));
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Literal(rest.to_string()));
    }
    Ok(parts)
}

fn check_unique(variants: &[NewVariant]) -> Result<(), DomainError> {
    let mut seen: BTreeMap<&str, &Attributes> = BTreeMap::new();
    for v in variants {
        if let Some(first) = seen.insert(v.reference_code.as_str(), &v.attributes) {
            return Err(DomainError::conflict(
                "reference_code_collision",
                format!(
                    "reference code `{}` would be given to both {:?} and {:?}; make the template include every attribute",
                    v.reference_code, first, v.attributes
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(template: Option<&str>) -> NewItem {
        NewItem {
            item_code: Code::parse("TOY1").unwrap(),
            name: "Toy car".into(),
            unit: "pcs".into(),
            tax_rate: None,
            mrp: None,
            price: None,
            attributes: vec![
                AttributeDim {
                    name: "color".into(),
                    values: vec!["Red".into(), "Green".into(), "Blue".into()],
                },
                AttributeDim {
                    name: "size".into(),
                    values: vec!["S".into(), "M".into()],
                },
            ],
            reference_code_template: template.map(str::to_string),
            variants: vec![],
        }
    }

    #[test]
    fn three_colours_by_two_sizes_make_six_codes() {
        let vs = toy(Some("{item_code}-{color}-{size}")).variants().unwrap();
        let codes: Vec<_> = vs.iter().map(|v| v.reference_code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "TOY1-Red-S",
                "TOY1-Red-M",
                "TOY1-Green-S",
                "TOY1-Green-M",
                "TOY1-Blue-S",
                "TOY1-Blue-M"
            ]
        );
        assert_eq!(vs[3].attributes["color"], "Green");
        assert_eq!(vs[3].attributes["size"], "M");
    }

    #[test]
    fn default_template_uses_every_attribute() {
        let vs = toy(None).variants().unwrap();
        assert_eq!(vs[0].reference_code.as_str(), "TOY1-Red-S");
    }

    #[test]
    fn collisions_are_rejected_naming_both_variants() {
        let err = toy(Some("{item_code}-{color}")).variants().unwrap_err();
        match err {
            DomainError::Conflict { code, detail, .. } => {
                assert_eq!(code, "reference_code_collision");
                assert!(detail.contains("TOY1-Red"), "{detail}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_placeholders_are_rejected() {
        let err = toy(Some("{item_code}-{colour}-{size}"))
            .variants()
            .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn plain_item_uses_its_code() {
        let mut item = toy(None);
        item.attributes.clear();
        let vs = item.variants().unwrap();
        assert_eq!(vs.len(), 1);
        assert_eq!(vs[0].reference_code.as_str(), "TOY1");
    }

    #[test]
    fn spaces_in_values_become_dashes_and_overrides_win() {
        let mut item = toy(Some("{item_code}/{color}/{size}"));
        item.attributes[0].values[0] = "Dark  Red".into();
        item.variants = vec![VariantOverride {
            attributes: [
                ("color".to_string(), "Blue".to_string()),
                ("size".to_string(), "M".to_string()),
            ]
            .into_iter()
            .collect(),
            reference_code: Code::parse("SPECIAL").unwrap(),
        }];
        let vs = item.variants().unwrap();
        assert_eq!(vs[0].reference_code.as_str(), "TOY1/Dark-Red/S");
        assert_eq!(vs[5].reference_code.as_str(), "SPECIAL");
    }
}
