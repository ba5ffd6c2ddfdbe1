//! The policy language against real input: every corpus manifest and finish-args record,
//! imported and printed as policy text, parses back to the same statements (positions,
//! input kind and dialect aside: the Flatpak command-line reading and the policy language's
//! are the same), and printing it again changes nothing. Plus the stock policies' includes
//! all resolve to stock fragments.

use std::path::{Path, PathBuf};

use portcullis_compiler::import::{detect, import};
use portcullis_syntax::ast::{Document, ItemKind};
use portcullis_syntax::{parse, print, SourceFile};

use super::corpus::{corpus_dir, manifests};

/// The document as JSON without spans, dialects or input kind.
fn comparable(doc: &Document) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("span");
                map.remove("dialect");
                map.remove("input");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(list) => list.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(doc).expect("documents serialise");
    strip(&mut value);
    value
}

/// Prints an imported document and checks that the text reads back the same.
fn round_trip(name: &str, doc: &Document) -> Result<(), String> {
    let printed = print(doc);
    let back = parse(&SourceFile::new(format!("{name}.policy"), printed.as_str()))
        .map_err(|err| format!("{name}: printed text does not parse: {err}\n{printed}"))?;
    if comparable(&back) != comparable(doc) {
        return Err(format!(
            "{name}: printed text reads back differently\n{printed}\n--- imported\n{:#}\n--- read back\n{:#}",
            comparable(doc),
            comparable(&back)
        ));
    }
    if print(&back) != printed {
        return Err(format!("{name}: printing is not stable\n{printed}"));
    }
    Ok(())
}

#[test]
fn imported_manifests_print_as_policy_text_that_reads_back() {
    let mut failures = Vec::new();
    let paths = manifests();
    assert!(
        paths.len() >= 60,
        "expected the corpus manifests, found {}",
        paths.len()
    );
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("corpus manifests are UTF-8");
        let file = SourceFile::new(path.to_string_lossy().to_string(), text);
        let imported = import(&file, detect(&file));
        let doc = &imported.document;
        assert!(
            doc.header.as_ref().is_some_and(|h| h.id.is_some()) && !doc.items.is_empty(),
            "{}: imported nothing to print",
            path.display()
        );
        if let Err(failure) = round_trip(&path.to_string_lossy(), doc) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn imported_finish_args_print_as_policy_text_that_reads_back() {
    let path = corpus_dir().join("apps.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("corpus not found at {} ({e})", path.display()));
    let mut failures = Vec::new();
    let mut count = 0;
    let mut items = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Value =
            serde_json::from_str(line).expect("apps.jsonl is JSON lines");
        let id = record["app_id"].as_str().unwrap_or("?").to_string();
        let args = serde_json::to_string(&record["finish_args"]).expect("serialisable");
        let file = SourceFile::new(format!("{id}.finish-args.json"), args);
        let imported = import(&file, detect(&file));
        items += imported.document.items.len();
        if let Err(failure) = round_trip(&id, &imported.document) {
            failures.push(failure);
        }
        count += 1;
    }
    assert!(count >= 300, "expected the corpus records, found {count}");
    assert!(
        items >= count,
        "the records import to only {items} statements"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn stock_policies(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("policies/ is readable")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            stock_policies(&path, out);
        } else if path.extension().is_some_and(|e| e == "policy") {
            out.push(path);
        }
    }
}

#[test]
fn stock_includes_resolve_to_stock_fragments() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut files = Vec::new();
    stock_policies(&root, &mut files);
    let mut includes = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let doc = parse(&SourceFile::new(path.to_string_lossy().to_string(), text))
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        for item in &doc.items {
            if let ItemKind::Include { path: include } = &item.kind {
                let beside = path.parent().map(|p| p.join(&include.value));
                let stock = root.join(&include.value);
                assert!(
                    beside.is_some_and(|p| p.is_file()) || stock.is_file(),
                    "{}: include `{}` names no file",
                    path.display(),
                    include.value
                );
                includes += 1;
            }
        }
    }
    assert!(includes >= 1, "the stock set uses include");
}
