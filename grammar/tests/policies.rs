//! The stock policies under `policies/`: every one parses and is already in canonical
//! form, so `portcullis fmt --check` passes on them.

use portcullis_syntax::ast::{HeaderKind, ItemKind};
use portcullis_syntax::{parse, print, SourceFile};
use std::path::{Path, PathBuf};

fn policy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            policy_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "policy") {
            out.push(path);
        }
    }
}

fn stock() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut files = Vec::new();
    policy_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            (path, text)
        })
        .collect()
}

#[test]
fn every_stock_policy_parses_and_is_canonical() {
    let files = stock();
    assert!(
        files.len() >= 15,
        "expected the stock set, found {}",
        files.len()
    );
    for (path, text) in files {
        let file = SourceFile::new(path.display().to_string(), text.as_str());
        let doc = match parse(&file) {
            Ok(doc) => doc,
            Err(err) => panic!("{}: {err}", path.display()),
        };
        assert_eq!(
            print(&doc),
            text,
            "{} is not in canonical form",
            path.display()
        );
        let unknown = doc
            .items
            .iter()
            .any(|i| matches!(i.kind, ItemKind::Unknown { .. }));
        assert!(!unknown, "{} has an unknown statement", path.display());
    }
}

#[test]
fn stock_policies_have_the_expected_shapes() {
    for (path, text) in stock() {
        let doc = parse(&SourceFile::new("p", text.as_str())).expect("parses");
        let name = path.to_string_lossy();
        let kind = doc.header.as_ref().and_then(|h| h.kind);
        if name.contains("/fragments/") {
            assert_eq!(kind, Some(HeaderKind::Fragment), "{name}");
        } else if name.contains("/runtimes/") {
            assert_eq!(kind, Some(HeaderKind::Runtime), "{name}");
        } else {
            assert_eq!(kind, Some(HeaderKind::App), "{name}");
        }
    }
}
