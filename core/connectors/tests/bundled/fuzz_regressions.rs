//! Every input under `fuzz/regressions/<target>/` (crashes the fuzzer once
//! found, kept after the fix) goes through the same code as that cargo-fuzz
//! target (`fuzz/checks`), natively: any panic fails this test. Connector
//! bugs are caught here because the plugin crates' own unit tests are not
//! part of `scripts/test` (they build for wasm32-wasip2).

use std::path::{Path, PathBuf};

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions")
}

#[test]
fn every_committed_fuzz_input_runs_clean() {
    let root = regressions();
    let mut failures = Vec::new();
    let mut count = 0;
    for target in poshub_fuzz_checks::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.expect("a readable directory entry").path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).expect("a readable input");
            count += 1;
            let outcome = std::panic::catch_unwind(|| poshub_fuzz_checks::run(target, &data));
            if let Err(panic) = outcome {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} committed fuzz inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The directories are there and hold inputs: an empty replay would pass
    // without testing anything.
    assert!(count > 0, "no inputs under {}", root.display());
}

#[test]
fn every_regression_directory_is_a_fuzz_target() {
    for entry in std::fs::read_dir(regressions()).expect("fuzz/regressions exists") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            assert!(
                poshub_fuzz_checks::TARGETS.contains(&name.as_str()),
                "fuzz/regressions/{name} is not a fuzz target: its inputs would never run"
            );
        }
    }
}
