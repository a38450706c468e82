//! Builds the bundled connectors from `plugins/` for `wasm32-wasip2` and
//! hands them to the crate as bytes (`bundled.rs` in OUT_DIR).

use std::path::PathBuf;

include!("../../plugins/build_support.rs");

/// Bundled connectors: (cargo package, file name inside the binary).
const BUNDLED: &[(&str, &str)] = &[
    ("poshub-connector-canonical", "canonical.wasm"),
    ("poshub-connector-shopify", "shopify.wasm"),
    ("poshub-connector-woocommerce", "woocommerce.wasm"),
    ("poshub-connector-gofrugal", "gofrugal.wasm"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let plugins = manifest
        .join("../../plugins")
        .canonicalize()
        .expect("plugins/ next to core/");
    let packages: Vec<&str> = BUNDLED.iter().map(|(p, _)| *p).collect();
    let wasm_dir = build_plugins(&plugins, &packages);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut code = String::from("/// Connectors built from `plugins/` and shipped inside the binary.\npub const BUNDLED: &[(&str, &[u8])] = &[\n");
    for (package, file) in BUNDLED {
        let built = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        let dest = out.join(file);
        std::fs::copy(&built, &dest).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
        code.push_str(&format!(
            "    ({file:?}, include_bytes!({:?})),\n",
            dest.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("bundled.rs"), code).unwrap();
}
