//! Shipped connector worlds are frozen: `wit/versions.lock` holds each
//! version's SHA-256 over its WIT text without comments and with blank
//! space collapsed, so that documentation may change but types may not.
//! Changing `wit/connector.wit` without a new package version (the old text
//! kept in its version folder, for the host's adapter) fails here, and so
//! does a new version that is not in the lock yet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

/// The package version a world's text declares.
fn version(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("package poshub:connector@"))
        .and_then(|v| v.strip_suffix(';'))
        .unwrap_or_else(|| panic!("no `package poshub:connector@VERSION;` line"))
        .to_string()
}

/// The SHA-256 of what a world says, comments and layout aside.
fn fingerprint(text: &str) -> String {
    let code: Vec<&str> = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .flat_map(str::split_whitespace)
        .collect();
    hex::encode(Sha256::digest(code.join(" ").as_bytes()))
}

/// (version -> fingerprint) of the current world and every kept one.
fn worlds() -> BTreeMap<String, (String, PathBuf)> {
    let mut found = BTreeMap::new();
    let mut files = vec![wit_dir().join("connector.wit")];
    for entry in std::fs::read_dir(wit_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let file = path.join("connector.wit");
            let text = std::fs::read_to_string(&file).unwrap();
            let folder = path.file_name().unwrap().to_string_lossy().to_string();
            assert_eq!(
                version(&text),
                folder,
                "{} declares another version than its folder",
                file.display()
            );
            files.push(file);
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let v = version(&text);
        let again = found.insert(v.clone(), (fingerprint(&text), file.clone()));
        assert!(
            again.is_none(),
            "version {v} is declared twice ({} and {}): bump the current world's version",
            again.unwrap().1.display(),
            file.display()
        );
    }
    found
}

#[test]
fn shipped_worlds_never_change_and_every_world_is_locked() {
    let lock = std::fs::read_to_string(wit_dir().join("versions.lock")).unwrap();
    let locked: BTreeMap<&str, &str> = lock
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(' ').expect("`VERSION SHA256` per line"))
        .collect();
    let worlds = worlds();
    for (v, (hash, file)) in &worlds {
        match locked.get(v.as_str()) {
            Some(&want) => assert_eq!(
                hash,
                want,
                "{} changed the types of world {v}, which components are built for: \
                 give the change a new version (keep the old text in wit/{v}/ with an \
                 adapter in the host) instead",
                file.display()
            ),
            None => panic!(
                "world {v} ({}) is not in wit/versions.lock; once it is final, add:\n{v} {hash}",
                file.display()
            ),
        }
    }
    for v in locked.keys() {
        assert!(
            worlds.contains_key(*v),
            "world {v} is locked but its folder is gone: the host must keep loading it"
        );
    }
}

#[test]
fn the_fingerprint_ignores_comments_and_layout_only() {
    let a = "package poshub:connector@9.9.9;\n/// doc\nrecord x {\n    a: u32, // note\n}\n";
    let b = "package poshub:connector@9.9.9;\nrecord x { a: u32, }";
    let c = "package poshub:connector@9.9.9;\nrecord x { a: u64, }";
    assert_eq!(fingerprint(a), fingerprint(b));
    assert_ne!(fingerprint(b), fingerprint(c));
}

/// MAJOR.MINOR.PATCH of a world's version, to order them.
fn numbers(v: &str) -> (u64, u64, u64) {
    let parts: Vec<u64> = v
        .split('.')
        .map(|p| {
            p.parse()
                .unwrap_or_else(|_| panic!("version {v} is not N.N.N"))
        })
        .collect();
    assert_eq!(parts.len(), 3, "version {v} is not N.N.N");
    (parts[0], parts[1], parts[2])
}

/// The current world (`wit/connector.wit`) is newer than every kept one,
/// the host binds every kept one (so components built for it still load),
/// and the author's guide and the template name the current one.
#[test]
fn the_current_world_is_the_newest_and_every_world_is_bound() {
    let current = version(&std::fs::read_to_string(wit_dir().join("connector.wit")).unwrap());
    assert_eq!(
        poshub_connectors::WORLD,
        current,
        "poshub_connectors::WORLD is not the current world's version"
    );
    let host =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for (v, (_, file)) in worlds() {
        if v == current {
            continue;
        }
        assert!(
            numbers(&v) < numbers(&current),
            "{} keeps world {v}, which is not older than the current {current}: \
             a new world takes a higher version",
            file.display()
        );
        assert!(
            host.contains(&format!("path: \"../../wit/{v}\"")),
            "world {v} has no host binding in core/connectors/src/lib.rs: \
             components built for it would no longer load"
        );
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for doc in [
        "docs/plugins.md",
        "examples/connector-template/README.md",
        "wit/README.md",
    ] {
        let text = std::fs::read_to_string(repo.join(doc)).unwrap();
        assert!(
            text.contains(&format!("poshub:connector@{current}")),
            "{doc} does not name the current world, poshub:connector@{current}"
        );
    }
}
