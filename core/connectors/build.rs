//! Builds the bundled connectors from `plugins/` for `wasm32-wasip2` and
//! names each `.wasm` to the crate in an environment variable
//! (`POSHUB_BUNDLED_<NAME>`), which `lib.rs` reads with `include_bytes!`.

use std::path::PathBuf;

use poshub_build_support::build_plugins;

/// Bundled connectors: (cargo package, variable naming its `.wasm`).
const BUNDLED: &[(&str, &str)] = &[
    ("poshub-connector-canonical", "POSHUB_BUNDLED_CANONICAL"),
    ("poshub-connector-shopify", "POSHUB_BUNDLED_SHOPIFY"),
    ("poshub-connector-woocommerce", "POSHUB_BUNDLED_WOOCOMMERCE"),
    ("poshub-connector-gofrugal", "POSHUB_BUNDLED_GOFRUGAL"),
    ("poshub-connector-vendure", "POSHUB_BUNDLED_VENDURE"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let plugins = manifest
        .join("../../plugins")
        .canonicalize()
        .expect("plugins/ next to core/");
    let packages: Vec<&str> = BUNDLED.iter().map(|(p, _)| *p).collect();
    let wasm_dir = build_plugins(&plugins, &packages);
    // Copied into OUT_DIR: the plugins' target directory is rebuilt by other
    // builds (the tests' build script) while this crate's bytes must stay.
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for (package, var) in BUNDLED {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let (built, dest) = (wasm_dir.join(&file), out.join(&file));
        std::fs::copy(&built, &dest).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
        println!("cargo:rustc-env={var}={}", dest.display());
    }
}
