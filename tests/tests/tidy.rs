//! Invariants that check themselves (issue 13, item 3), read from the workspace itself:
//! the dependency rules ARCHITECTURE.md states (`cargo metadata`: the executor links no
//! pest, miette, askama, petgraph or clap, even transitively; the verifier never depends
//! on the backends), every Rust source file of the repository starts with its `//!` doc,
//! and no test is hidden behind an ignore attribute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Every package a workspace package depends on at run time (normal dependencies,
/// transitively), by name.
fn runtime_closures() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: BTreeMap<&str, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve")
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let normal = |dep: &serde_json::Value| {
        dep["dep_kinds"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k["kind"].is_null()))
    };
    let mut out = BTreeMap::new();
    for member in meta["workspace_members"].as_array().expect("members") {
        let start = member.as_str().unwrap();
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(id) = todo.pop() {
            for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
                let pkg = dep["pkg"].as_str().unwrap();
                if normal(dep) && seen.insert(pkg) {
                    todo.push(pkg);
                }
            }
        }
        out.insert(
            names[start].to_string(),
            seen.iter().map(|id| names[id].to_string()).collect(),
        );
    }
    out
}

#[test]
fn the_dependency_rules_hold() {
    let closures = runtime_closures();
    let exec = &closures["portcullis-exec"];
    for forbidden in [
        "pest",
        "pest_derive",
        "miette",
        "askama",
        "petgraph",
        "clap",
    ] {
        assert!(
            !exec.contains(forbidden),
            "portcullis-exec links `{forbidden}`, which ARCHITECTURE.md forbids"
        );
    }
    for own in [
        "portcullis-syntax",
        "portcullis-compiler",
        "portcullis-backends",
        "portcullis-verifier",
        "portcullis-ir",
    ] {
        assert!(!exec.contains(own), "portcullis-exec depends on `{own}`");
    }
    assert!(
        !closures["portcullis-verifier"].contains("portcullis-backends"),
        "the verifier depends on the backends: it must re-derive meaning, never call them"
    );
    assert!(
        !closures["portcullis-blob"]
            .iter()
            .any(|d| d.starts_with("portcullis-")),
        "the blob format depends on no other portcullis crate"
    );
}

/// Every tracked Rust file (git's list, so build output never counts).
fn rust_sources() -> Vec<PathBuf> {
    let out = Command::new("git")
        .args(["ls-files", "*.rs"])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| root().join(l))
        .collect()
}

#[test]
fn every_source_file_has_its_module_doc_and_no_test_is_ignored() {
    let files = rust_sources();
    assert!(files.len() > 100, "git lists the sources: {}", files.len());
    let mut undocumented = Vec::new();
    let mut ignored = Vec::new();
    let attribute = ["#[", "ignore"].concat();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if !first.starts_with("//!") {
            undocumented.push(file.display().to_string());
        }
        if text.contains(&attribute) {
            ignored.push(file.display().to_string());
        }
    }
    assert!(
        undocumented.is_empty(),
        "files without a `//!` doc: {undocumented:#?}"
    );
    assert!(
        ignored.is_empty(),
        "tests hidden behind an ignore attribute: {ignored:#?}"
    );
}
