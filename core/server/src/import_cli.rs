//! `poshub import items FILE` and `poshub import mappings STORE FILE`: the
//! admin API's CSV imports, run against the database `serve` uses. The
//! report goes to stdout; the exit status is 0 when every row went in, 2
//! when some rows were refused (the others are imported), 1 when nothing
//! could be imported (unreadable file, not CSV, wrong header, no database).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use poshub_api::bulk_api::{import_items_csv, import_mappings_csv};
use poshub_api::error::Problem;
use poshub_model::import::ImportReport;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import items (plain and matrix) from a CSV file with the header
    /// `item_code,name[,unit,tax_rate,mrp,price,attributes,reference_code_template,reference_codes]`.
    Items {
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Import a store's mappings from a CSV file with the header
    /// `reference_code,external_id[,parent_id,inventory_id]`.
    Mappings {
        /// The store's code.
        store: String,
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Args)]
pub struct Target {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`, as for `serve`.
    #[arg(
        long,
        default_value = "sqlite://poshub.db",
        env = "POSHUB_DATABASE_URL"
    )]
    database: String,
    /// Print the report as JSON, as the admin API answers.
    #[arg(long)]
    json: bool,
}

/// Runs an import and prints its report; true when no row was refused.
pub async fn run(command: ImportCommand) -> anyhow::Result<bool> {
    let (file, target) = match &command {
        ImportCommand::Items { file, target } | ImportCommand::Mappings { file, target, .. } => {
            (file, target)
        }
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let storage = poshub_db::connect(&target.database)
        .await
        .with_context(|| {
            format!(
                "opening database {}",
                poshub_server::redact(&target.database)
            )
        })?;
    let report = match &command {
        ImportCommand::Items { .. } => import_items_csv(storage.as_ref(), &bytes).await,
        ImportCommand::Mappings { store, .. } => {
            import_mappings_csv(storage.as_ref(), store, &bytes).await
        }
    }
    .map_err(|p| refused(file, &p))?;
    if target.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(file, &report));
    }
    Ok(report.rejected.is_empty())
}

/// Why nothing was imported.
fn refused(file: &std::path::Path, p: &Problem) -> anyhow::Error {
    let mut text = format!("{}: nothing imported ({})", file.display(), p.code);
    if p.errors.is_empty() {
        text.push_str(&format!(": {}", p.detail));
    }
    for e in &p.errors {
        text.push_str(&format!("\n  {}: {}", e.field, e.message));
    }
    anyhow::anyhow!(text)
}

fn human(file: &std::path::Path, report: &ImportReport) -> String {
    let mut out = format!(
        "{}: {} row(s) accepted, {} rejected\n",
        file.display(),
        report.accepted,
        report.rejected.len()
    );
    for r in &report.rejected {
        let key = r
            .item_code
            .as_deref()
            .or(r.reference_code.as_deref())
            .unwrap_or("");
        out.push_str(&format!(
            "  line {} ({key}): {}: {}\n",
            r.line, r.code, r.reason
        ));
    }
    out
}
