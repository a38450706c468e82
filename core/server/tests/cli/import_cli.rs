//! `poshub import items FILE` and `poshub import mappings STORE FILE`: good
//! rows go into the database `serve` uses, bad rows are reported by line,
//! and the exit status says which happened (0 all in, 2 some refused, 1
//! nothing imported).

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

fn import(args: &[&str], db: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poshub"))
        .arg("import")
        .args(args)
        .args(["--database", db])
        .env("RUST_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .env_remove("POSHUB_DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// `curl` against the running hub, answering JSON.
fn curl(base: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-s", "-H", "Authorization: Bearer t"])
        .args(args.iter().map(|a| a.replace("{base}", base)))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out.stdout)))
}

#[test]
fn import_reports_bad_rows_by_line_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let items = write(
        dir.path(),
        "items.csv",
        "item_code,name,tax_rate,mrp,attributes\n\
         MUG,Mug,12,120.00,\n\
         CUP,Cup,12,twelve,\n\
         TOY,Toy car,18,300.00,color=Red|Blue;size=S|M\n",
    );
    let out = import(&["items", &items], &db);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("items.csv: 2 row(s) accepted, 1 rejected"),
        "{report}"
    );
    assert!(
        report.contains("line 3 (CUP): invalid_mrp: mrp: `twelve` is not a decimal number"),
        "{report}"
    );

    // The same rows again, as JSON: every one is now a duplicate.
    let out = import(&["items", &items, "--json"], &db);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"], 0);
    let lines: Vec<(u64, &str)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            (2, "duplicate_item_code"),
            (3, "invalid_mrp"),
            (4, "duplicate_item_code")
        ]
    );

    // A file whose header is wrong imports nothing: exit 1.
    let bad = write(dir.path(), "bad.csv", "code,name\nPEN,Pen\n");
    let out = import(&["items", &bad], &db);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("nothing imported (validation_failed)"),
        "{err}"
    );
    assert!(err.contains("unknown column `code`"), "{err}");
    let good = write(dir.path(), "good.csv", "item_code,name\nPEN,Pen\n");
    let out = import(&["items", &good], &db);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The hub serving that database sees what was imported, and a mappings
    // import for one of its stores runs alongside it.
    let cache = std::env::temp_dir().join("poshub-test-plugin-cache");
    let hub = common::start_hub(
        &["--database", &db, "--plugin-cache", cache.to_str().unwrap()],
        "t",
    );
    let toy = curl(&hub.base, &["{base}/admin/v1/items/TOY"]);
    assert_eq!(toy["tax_rate"], "18");
    assert_eq!(toy["variants"].as_array().unwrap().len(), 4);
    assert_eq!(toy["variants"][0]["reference_code"], "TOY-Red-S");
    assert_eq!(
        curl(&hub.base, &["{base}/admin/v1/items/CUP"])["code"],
        "not_found"
    );
    curl(
        &hub.base,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"code": "BLR", "name": "Bengaluru"}"#,
            "{base}/admin/v1/locations",
        ],
    );
    let store = curl(
        &hub.base,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"code": "WEB", "name": "Web", "locations": ["BLR"]}"#,
            "{base}/admin/v1/stores",
        ],
    );
    assert_eq!(store["code"], "WEB", "{store}");
    let mappings = write(
        dir.path(),
        "mappings.csv",
        "reference_code,external_id\nTOY-Red-S,v-1\nCUP,v-2\n",
    );
    let out = import(&["mappings", "WEB", &mappings, "--json"], &db);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"], 1);
    assert_eq!(
        report["rejected"],
        serde_json::json!([{"line": 3, "reference_code": "CUP", "code": "unknown_reference_code",
                            "reason": "reference_code: no variant has reference code `CUP`"}])
    );
    assert_eq!(
        curl(&hub.base, &["{base}/admin/v1/stores/WEB/mappings"]),
        serde_json::json!([{"reference_code": "TOY-Red-S", "external_id": "v-1"}])
    );
    let out = import(&["mappings", "NOPE", &mappings], &db);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("store NOPE not found"));
}
