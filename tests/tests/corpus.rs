//! Every Flathub manifest and every `apps.jsonl` record of the shared corpus imports and
//! checks without an invalid-input error (exit 0 or 1, never 2).
//!
//! The corpus is found at `$PORTCULLIS_CORPUS` (the directory holding `apps.jsonl` and
//! `manifests/`) or at `../shared/corpus/flathub` beside the repository. The test fails
//! when it is absent: a corpus test that silently passes without a corpus proves nothing.

use std::path::PathBuf;

use portcullis_compiler::{compile, Form, Options};
use portcullis_syntax::SourceFile;

/// The corpus directory.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PORTCULLIS_CORPUS") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("../shared/corpus/flathub")
}

fn render(name: &str, compiled: &portcullis_compiler::Compiled) -> String {
    let mut out = format!("{name}:\n");
    for d in &compiled.diagnostics {
        out.push_str(&format!(
            "  {} {}: {}\n",
            d.severity.name(),
            d.code,
            d.message
        ));
    }
    out
}

/// The manifests in the corpus, sorted.
pub fn manifests() -> Vec<PathBuf> {
    let dir = corpus_dir().join("manifests");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "corpus not found at {} ({e}); set PORTCULLIS_CORPUS",
            dir.display()
        )
    });
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
}

#[test]
fn every_manifest_imports_and_checks() {
    let paths = manifests();
    assert!(
        paths.len() >= 60,
        "expected the 60 corpus manifests, found {}",
        paths.len()
    );
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("corpus manifests are UTF-8");
        let file = SourceFile::new(path.to_string_lossy().to_string(), text);
        let compiled = compile(&file, &Options::default());
        assert!(matches!(
            compiled.form,
            Form::ManifestJson | Form::ManifestYaml
        ));
        let header = compiled
            .document
            .header
            .as_ref()
            .expect("a manifest has a header");
        assert!(header.id.is_some(), "{} has no app id", path.display());
        if compiled.is_invalid() || compiled.policy.is_none() {
            failures.push(render(&path.to_string_lossy(), &compiled));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn record_manifest(record: &serde_json::Value) -> String {
    let mut manifest = serde_json::Map::new();
    for (from, to) in [
        ("app_id", "app-id"),
        ("runtime", "runtime"),
        ("runtime_version", "runtime-version"),
        ("sdk", "sdk"),
        ("command", "command"),
        ("sdk_extensions", "sdk-extensions"),
        ("finish_args", "finish-args"),
    ] {
        if let Some(value) = record.get(from).filter(|v| !v.is_null()) {
            manifest.insert(to.to_string(), value.clone());
        }
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(manifest)).expect("serialisable")
}

#[test]
fn every_record_imports_and_checks() {
    let path = corpus_dir().join("apps.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "corpus not found at {} ({e}); set PORTCULLIS_CORPUS",
            path.display()
        )
    });
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Value =
            serde_json::from_str(line).expect("apps.jsonl is JSON lines");
        let id = record["app_id"].as_str().unwrap_or("?").to_string();
        let args = serde_json::to_string(&record["finish_args"]).expect("serialisable");
        let list = SourceFile::new(format!("{id}.finish-args.json"), args);
        let compiled = compile(&list, &Options::default());
        assert_eq!(compiled.form, Form::FinishArgs);
        if compiled.is_invalid() {
            failures.push(render(&list.name, &compiled));
        }
        let manifest = SourceFile::new(format!("{id}.json"), record_manifest(&record));
        let compiled = compile(&manifest, &Options::default());
        if compiled.is_invalid() {
            failures.push(render(&manifest.name, &compiled));
        }
        let policy = compiled.policy.as_ref();
        if let Some(policy) = policy {
            assert_eq!(policy.identity.id.as_deref(), Some(id.as_str()));
            if let Some(runtime) = record["runtime"].as_str() {
                assert_eq!(policy.identity.runtime.as_deref(), Some(runtime));
            }
        }
        count += 1;
    }
    assert!(count >= 300, "expected the corpus records, found {count}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Compiles a text in a given form; panics with the diagnostics when it is not valid.
fn policy_of(name: &str, text: String, form: Form) -> portcullis_ir::Policy {
    let options = Options {
        form: Some(form),
        ..Options::default()
    };
    let compiled = compile(&SourceFile::new(name.to_string(), text), &options);
    match compiled.policy {
        Some(policy) => policy,
        None => panic!("{}", render(name, &compiled)),
    }
}

fn args_text(list: &[String]) -> String {
    serde_json::to_string(list).expect("serialisable")
}

#[test]
fn export_is_a_fixed_point_for_every_manifest() {
    use portcullis_compiler::export;
    for path in manifests() {
        let name = path.to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).expect("corpus manifests are UTF-8");
        let compiled = compile(&SourceFile::new(name.clone(), text), &Options::default());
        let policy = compiled.policy.expect("corpus manifests compile");

        let (args1, _) = export::finish_args(&policy);
        let again = policy_of(&name, args_text(&args1), Form::FinishArgs);
        let (args2, _) = export::finish_args(&again);
        assert_eq!(args1, args2, "finish-args fixed point for {name}");

        let (meta1, _) = export::metadata(&policy);
        let again = policy_of(&name, meta1.clone(), Form::Keyfile);
        let (meta2, _) = export::metadata(&again);
        assert_eq!(meta1, meta2, "metadata fixed point for {name}");

        let text1 = portcullis_syntax::print(&export::document(&policy));
        let again = policy_of(&format!("{name}.policy"), text1.clone(), Form::Policy);
        let text2 = portcullis_syntax::print(&export::document(&again));
        assert_eq!(text1, text2, "policy-text fixed point for {name}");
        assert_eq!(
            export::finish_args(&again).0,
            args1,
            "the policy text means what the manifest means: {name}"
        );
    }
}
