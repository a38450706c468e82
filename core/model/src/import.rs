//! CSV imports of items and of a store's mappings: the file formats, how a
//! row becomes a request, and the report of rows accepted and refused.
//!
//! A file is refused as a whole (nothing imported) when it is not CSV or its
//! header lacks a required column or names an unknown one; otherwise each
//! row stands alone: a bad row is reported with its line and reason and the
//! others go in.

use std::collections::HashMap;

use serde::Serialize;

use crate::codes::Code;
use crate::csv::{self, Record};
use crate::decimal::{Amount, Rate};
use crate::error::{DomainError, FieldError, Problems};
use crate::item::{AttributeDim, Attributes, NewItem, VariantOverride};
use crate::sync::Mapping;

/// Columns of an items file: required, then optional.
pub const ITEM_COLUMNS: (&[&str], &[&str]) = (
    &["item_code", "name"],
    &[
        "unit",
        "tax_rate",
        "mrp",
        "price",
        "attributes",
        "reference_code_template",
        "reference_codes",
    ],
);

/// Columns of a mappings file: required, then optional.
pub const MAPPING_COLUMNS: (&[&str], &[&str]) = (
    &["reference_code", "external_id"],
    &["parent_id", "inventory_id"],
);

/// What an import did: how many rows went in, and each refused row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub accepted: usize,
    pub rejected: Vec<RejectedRow>,
}

/// A refused row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedRow {
    /// 1-based line of the file the row starts on (the header is line 1).
    pub line: usize,
    /// The row's item code as written (items files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    /// The row's reference code as written (mappings files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_code: Option<String>,
    /// Stable code of the (first) problem, e.g. `duplicate_item_code`.
    pub code: String,
    /// Every problem with the row, for a person.
    pub reason: String,
}

impl ImportReport {
    /// Records the outcome of one row.
    pub fn record(&mut self, row: &Row, outcome: Result<(), DomainError>) {
        match outcome {
            Ok(()) => self.accepted += 1,
            Err(e) => {
                let (code, reason) = explain(&e);
                self.rejected.push(RejectedRow {
                    line: row.line,
                    item_code: row.get_raw("item_code").map(|v| v.trim().to_string()),
                    reference_code: row.get_raw("reference_code").map(|v| v.trim().to_string()),
                    code,
                    reason,
                });
            }
        }
    }
}

/// A refusal as a stable code and a sentence: field problems name their
/// field (without the list index a one-row request carries).
pub fn explain(e: &DomainError) -> (String, String) {
    match e {
        DomainError::Invalid(errors) => {
            let code = match errors.as_slice() {
                [one] => one.code.clone(),
                _ => "validation_failed".to_string(),
            };
            let reason = errors
                .iter()
                .map(|f| {
                    let field = f
                        .field
                        .strip_prefix('[')
                        .and_then(|rest| rest.split_once("]."))
                        .map_or(f.field.as_str(), |(_, field)| field);
                    if field.is_empty() {
                        f.message.clone()
                    } else {
                        format!("{field}: {}", f.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            (code, reason)
        }
        DomainError::Conflict { code, detail, .. } => (code.to_string(), detail.clone()),
        DomainError::NotFound { .. } => ("not_found".into(), e.to_string()),
        DomainError::InsufficientStock(_) => ("insufficient_stock".into(), e.to_string()),
        DomainError::InvalidTransition { .. } => {
            ("invalid_status_transition".into(), e.to_string())
        }
        DomainError::Forbidden { code, detail } => (code.to_string(), detail.clone()),
        DomainError::IdempotencyKeyReused => ("idempotency_key_reused".into(), e.to_string()),
    }
}

/// A CSV file with a checked header.
#[derive(Debug)]
pub struct Table {
    columns: HashMap<String, usize>,
    width: usize,
    records: Vec<Record>,
}

/// One data row of a [`Table`].
#[derive(Debug)]
pub struct Row<'a> {
    pub line: usize,
    columns: &'a HashMap<String, usize>,
    fields: &'a [String],
    width: usize,
}

fn file_problem(field: &str, code: &str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(field, code, message)])
}

impl Table {
    /// Reads a UTF-8 CSV file whose header (line 1, names in any case and
    /// order) has every `required` column and no column outside `required`
    /// and `optional`.
    pub fn read(
        bytes: &[u8],
        (required, optional): (&[&str], &[&str]),
    ) -> Result<Table, DomainError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            file_problem(
                "file",
                "invalid_csv",
                format!("the file is not UTF-8 text (invalid byte after {} bytes); save it as CSV UTF-8", e.valid_up_to()),
            )
        })?;
        let mut records = csv::parse(text)
            .map_err(|e| file_problem("file", "invalid_csv", e.to_string()))?
            .into_iter();
        let header = records.next().ok_or_else(|| {
            file_problem(
                "file",
                "empty_file",
                format!(
                    "the file is empty; it needs a header row: {}",
                    required.join(",")
                ),
            )
        })?;
        if header.line != 1 {
            return Err(file_problem(
                "header",
                "invalid_csv",
                "line 1 must be the header row",
            ));
        }
        let mut columns = HashMap::new();
        let mut problems = Problems::default();
        for (i, name) in header.fields.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            if name.is_empty() {
                // A trailing empty column (spreadsheets add them) names nothing.
                continue;
            }
            if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
                problems.push(
                    "header",
                    "unknown_column",
                    format!(
                        "unknown column `{name}`; columns are {} (required) and {}",
                        required.join(", "),
                        optional.join(", ")
                    ),
                );
            } else if columns.insert(name.clone(), i).is_some() {
                problems.push(
                    "header",
                    "duplicate_column",
                    format!("column `{name}` appears twice"),
                );
            }
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !columns.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            problems.push(
                "header",
                "missing_columns",
                format!(
                    "the header lacks required column(s) {}; line 1 must name the columns, e.g. {}",
                    missing.join(", "),
                    required.join(",")
                ),
            );
        }
        problems.into_result()?;
        Ok(Table {
            columns,
            width: header.fields.len(),
            records: records.collect(),
        })
    }

    /// The data rows, in file order.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|r| Row {
            line: r.line,
            columns: &self.columns,
            fields: &r.fields,
            width: self.width,
        })
    }
}

impl Row<'_> {
    /// The trimmed value of a column; None when empty or absent.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.get_raw(column)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn get_raw(&self, column: &str) -> Option<&str> {
        self.fields
            .get(*self.columns.get(column)?)
            .map(String::as_str)
    }

    /// Refuses a row whose fields do not line up with the header (extra
    /// empty fields at the end are tolerated).
    fn check_width(&self) -> Result<(), DomainError> {
        let used = self
            .fields
            .iter()
            .rposition(|f| !f.trim().is_empty())
            .map_or(0, |i| i + 1);
        if self.fields.len() < self.width || used > self.width {
            return Err(DomainError::invalid(
                "",
                "wrong_field_count",
                format!(
                    "the row has {} fields and the header {}; a missing or extra comma shifts every column",
                    self.fields.len(),
                    self.width
                ),
            ));
        }
        Ok(())
    }

    /// The row of an items file as an item request.
    ///
    /// `attributes` is `name=value|value;name=value|value` (e.g.
    /// `color=Red|Green|Blue;size=S|M`); `reference_codes` sets codes by hand
    /// for some combinations: `color=Blue,size=M:TOY-SPECIAL;...`.
    pub fn new_item(&self) -> Result<NewItem, DomainError> {
        self.check_width()?;
        let mut p = Problems::default();
        let item_code = match Code::parse(self.get("item_code").unwrap_or("")) {
            Ok(c) => Some(c),
            Err(e) => {
                p.push("item_code", "invalid_item_code", e.to_string());
                None
            }
        };
        let tax_rate = self.get("tax_rate").and_then(|v| {
            Rate::parse(v.trim_end_matches('%').trim_end())
                .map_err(|e| p.push("tax_rate", "invalid_tax_rate", e.to_string()))
                .ok()
        });
        let mut amount = |column: &str| {
            self.get(column).and_then(|v| {
                Amount::parse(v)
                    .map_err(|e| p.push(column, &format!("invalid_{column}"), e.to_string()))
                    .ok()
            })
        };
        let mrp = amount("mrp");
        let price = amount("price");
        let attributes = self
            .get("attributes")
            .map(|v| parse_attributes(v, &mut p))
            .unwrap_or_default();
        let variants = self
            .get("reference_codes")
            .map(|v| parse_overrides(v, &mut p))
            .unwrap_or_default();
        p.into_result()?;
        let item = NewItem {
            item_code: item_code.expect("checked above"),
            name: self.get("name").unwrap_or("").to_string(),
            unit: self.get("unit").unwrap_or("pcs").to_string(),
            tax_rate,
            mrp,
            price,
            attributes,
            reference_code_template: self.get("reference_code_template").map(str::to_string),
            variants,
        };
        Ok(item)
    }

    /// The row of a mappings file as a mapping.
    pub fn mapping(&self) -> Result<Mapping, DomainError> {
        self.check_width()?;
        let reference_code =
            Code::parse(self.get("reference_code").unwrap_or("")).map_err(|e| {
                DomainError::invalid("reference_code", "invalid_reference_code", e.to_string())
            })?;
        Ok(Mapping {
            reference_code,
            external_id: self.get("external_id").unwrap_or("").to_string(),
            parent_id: self.get("parent_id").map(str::to_string),
            inventory_id: self.get("inventory_id").map(str::to_string),
        })
    }
}

/// `color=Red|Green|Blue;size=S|M`
fn parse_attributes(raw: &str, p: &mut Problems) -> Vec<AttributeDim> {
    let mut dims = Vec::new();
    for part in raw.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        match part.split_once('=') {
            Some((name, values)) => dims.push(AttributeDim {
                name: name.trim().to_string(),
                values: values.split('|').map(|v| v.trim().to_string()).collect(),
            }),
            None => p.push(
                "attributes",
                "invalid_attributes",
                format!("`{part}` is not `name=value|value`, e.g. color=Red|Green;size=S|M"),
            ),
        }
    }
    dims
}

/// `color=Blue,size=M:TOY-SPECIAL;color=Red,size=S:TOY-RS`
fn parse_overrides(raw: &str, p: &mut Problems) -> Vec<VariantOverride> {
    let mut out = Vec::new();
    for part in raw.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = |p: &mut Problems, why: String| {
            p.push(
                "reference_codes",
                "invalid_reference_codes",
                format!("`{part}`: {why}; write name=value,name=value:CODE, e.g. color=Blue,size=M:TOY-SPECIAL"),
            )
        };
        let Some((combo, code)) = part.rsplit_once(':') else {
            bad(p, "no `:CODE`".into());
            continue;
        };
        let code = match Code::parse(code.trim()) {
            Ok(c) => c,
            Err(e) => {
                bad(p, e.to_string());
                continue;
            }
        };
        let mut attributes = Attributes::new();
        for pair in combo.split(',') {
            match pair.split_once('=') {
                Some((k, v)) => {
                    attributes.insert(k.trim().to_string(), v.trim().to_string());
                }
                None => bad(p, format!("`{}` is not name=value", pair.trim())),
            }
        }
        out.push(VariantOverride {
            attributes,
            reference_code: code,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "item_code,name,unit,tax_rate,mrp,price,attributes,reference_code_template,reference_codes\n";

    fn items(body: &str) -> Vec<(usize, Result<NewItem, DomainError>)> {
        let file = format!("{HEADER}{body}");
        let table = Table::read(file.as_bytes(), ITEM_COLUMNS).unwrap();
        table.rows().map(|r| (r.line, r.new_item())).collect()
    }

    #[test]
    fn a_plain_and_a_matrix_item() {
        let rows = items(
            "MUG,\"Mug, large\",,12,120.00,100.00,,,\n\
             TOY,Toy car,pcs,18%,300,,color=Red|Green|Blue;size=S|M,{item_code}-{color}-{size},\"color=Blue,size=M:TOY-SPECIAL\"\n",
        );
        let mug = rows[0].1.as_ref().unwrap();
        assert_eq!(rows[0].0, 2);
        assert_eq!(mug.item_code.as_str(), "MUG");
        assert_eq!(mug.name, "Mug, large");
        assert_eq!(mug.unit, "pcs");
        assert_eq!(mug.tax_rate.unwrap().to_string(), "12");
        assert_eq!(mug.mrp.unwrap().to_string(), "120.00");
        assert_eq!(mug.price.unwrap().to_string(), "100.00");
        assert!(mug.attributes.is_empty());
        let toy = rows[1].1.as_ref().unwrap();
        assert_eq!(toy.tax_rate.unwrap().to_string(), "18");
        assert_eq!(toy.attributes.len(), 2);
        assert_eq!(toy.attributes[0].values, ["Red", "Green", "Blue"]);
        let variants = toy.variants().unwrap();
        assert_eq!(variants.len(), 6);
        assert_eq!(variants[0].reference_code.as_str(), "TOY-Red-S");
        assert_eq!(variants[5].reference_code.as_str(), "TOY-SPECIAL");
    }

    #[test]
    fn bad_fields_are_all_named() {
        let rows = items("bad code,Thing,,abc,-1,,color,,\n");
        let err = rows[0].1.as_ref().unwrap_err();
        let (code, reason) = explain(err);
        assert_eq!(code, "validation_failed");
        for part in ["item_code:", "tax_rate:", "mrp:", "attributes:"] {
            assert!(reason.contains(part), "{reason}");
        }
    }

    #[test]
    fn a_row_of_the_wrong_width_is_refused() {
        let rows = items("MUG,Mug,pcs\nCUP,Cup,,,,,,,,,\n");
        let (code, reason) = explain(rows[0].1.as_ref().unwrap_err());
        assert_eq!(code, "wrong_field_count");
        assert!(reason.contains("3 fields"), "{reason}");
        // Trailing empty fields are what spreadsheets write: fine.
        assert!(rows[1].1.is_ok());
    }

    #[test]
    fn the_header_is_checked_as_a_whole() {
        let err = Table::read(b"item_code,nmae\nX,y\n", ITEM_COLUMNS).unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!()
        };
        let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["unknown_column", "missing_columns"]);
        assert!(errors[1].message.contains("name"));
        assert!(Table::read(b"", ITEM_COLUMNS).is_err());
        assert!(Table::read(b"\xff\xfe", ITEM_COLUMNS).is_err());
        let broken = Table::read(b"item_code,name\n\"MUG,Mug\n", ITEM_COLUMNS).unwrap_err();
        assert!(broken.to_string().contains("line 2"), "{broken}");
        // Names in any case and order; a trailing empty column is ignored.
        let t = Table::read(b"Name,ITEM_CODE,\nMug,MUG,\n", ITEM_COLUMNS).unwrap();
        let row = t.rows().next().unwrap();
        assert_eq!(row.new_item().unwrap().item_code.as_str(), "MUG");
    }

    #[test]
    fn mappings_rows() {
        let t = Table::read(
            b"reference_code,external_id,parent_id,inventory_id\nMUG,gid-1,,inv-1\nbad code,x,,\n",
            MAPPING_COLUMNS,
        )
        .unwrap();
        let rows: Vec<_> = t.rows().collect();
        let m = rows[0].mapping().unwrap();
        assert_eq!(m.reference_code.as_str(), "MUG");
        assert_eq!(m.external_id, "gid-1");
        assert_eq!(m.parent_id, None);
        assert_eq!(m.inventory_id.as_deref(), Some("inv-1"));
        let mut report = ImportReport::default();
        report.record(&rows[0], Ok(()));
        report.record(&rows[1], rows[1].mapping().map(|_| ()));
        assert_eq!(report.accepted, 1);
        assert_eq!(report.rejected[0].line, 3);
        assert_eq!(
            report.rejected[0].reference_code.as_deref(),
            Some("bad code")
        );
        assert_eq!(report.rejected[0].code, "invalid_reference_code");
    }

    #[test]
    fn storage_field_paths_lose_their_index() {
        let e = DomainError::invalid(
            "[0].external_id",
            "invalid_external_id",
            "1 to 128 characters",
        );
        assert_eq!(
            explain(&e),
            (
                "invalid_external_id".to_string(),
                "external_id: 1 to 128 characters".to_string()
            )
        );
    }
}
