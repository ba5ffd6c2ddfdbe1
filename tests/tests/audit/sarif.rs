//! SARIF 2.1.0: the renderer's output for real manifests, validated against the OASIS
//! schema (`tests/fixtures/sarif-schema-2.1.0.json`), with suppressions from exceptions
//! and fingerprints that survive moved lines.

use portcullis_compiler::{compile, Options};
use portcullis_ir::Origin;
use portcullis_syntax::SourceFile;
use portcullis_verifier::lint::{self, Exceptions, FinishArgs};
use serde_json::Value;

use super::{corpus, schema};

#[path = "../../../compiler/cli/src/sarif.rs"]
#[allow(dead_code)]
mod renderer;

fn schema_json() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sarif-schema-2.1.0.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema fixture"))
        .expect("schema json")
}

fn sarif_of(file: &SourceFile, exceptions: Option<&Exceptions>) -> (Value, Vec<lint::Finding>) {
    let compiled = compile(file, &Options::default());
    let view = FinishArgs::from_document(&compiled.document, 0);
    let mut findings = lint::lint(&view);
    if let (Some(ex), Some(app)) = (exceptions, view.app_id.as_deref()) {
        lint::apply_exceptions(&mut findings, app, ex);
    }
    let locate = |o: Origin| {
        let (line, column) = file.line_col(o.start as usize);
        let (end_line, end_column) = file.line_col(o.end as usize);
        Some(renderer::Location {
            file: file.name.to_string(),
            line,
            column,
            end_line,
            end_column,
        })
    };
    let (rules, results) = renderer::from_lint(&findings, locate);
    let log = serde_json::from_str(&renderer::render(&rules, &results)).expect("sarif is json");
    (log, findings)
}

fn assert_valid(log: &Value) {
    let schema = schema_json();
    let mut errors = Vec::new();
    schema::validate(&schema, &schema, log, "", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn sarif_for_real_manifests_is_valid_and_positioned() {
    let dir = corpus::shared().join("corpus/flathub/manifests");
    if !dir.is_dir() {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    }
    let mut results = 0;
    for name in [
        "app.devsuite.Ptyxis.json",
        "com.google.Chrome.yaml",
        "com.valvesoftware.Steam.yml",
    ] {
        let file = SourceFile::new(
            format!("manifests/{name}"),
            std::fs::read_to_string(dir.join(name)).expect("read"),
        );
        let (log, findings) = sarif_of(&file, None);
        assert_valid(&log);
        let run = &log["runs"][0];
        let rules: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        let got = run["results"].as_array().expect("results");
        assert_eq!(got.len(), findings.len());
        for (r, f) in got.iter().zip(&findings) {
            assert!(rules.contains(&r["ruleId"].as_str().expect("ruleId")));
            let region = &r["locations"][0]["physicalLocation"]["region"];
            let (line, column) = file.line_col(f.origin.start as usize);
            assert_eq!(
                (region["startLine"].as_u64(), region["startColumn"].as_u64()),
                (Some(line as u64), Some(column as u64))
            );
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                format!("manifests/{name}")
            );
        }
        results += got.len();
    }
    assert!(results > 5);
}

#[test]
fn exceptions_become_suppressions_and_fingerprints_ignore_lines() {
    let text = r#"{"id": "org.example.App", "finish-args": ["--share=ipc", "--filesystem=home", "--socket=x11"]}"#;
    let ex = Exceptions::parse(
        "exceptions org.example.App {\n    finish-args-home-filesystem-access \"opens projects anywhere\"\n}\n",
    )
    .expect("exceptions");
    let (log, _) = sarif_of(&SourceFile::new("app.json", text), Some(&ex));
    assert_valid(&log);
    let results = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .clone();
    let home = results
        .iter()
        .find(|r| r["properties"]["code"] == "finish-args-home-filesystem-access")
        .expect("home finding");
    assert_eq!(
        home["suppressions"][0]["justification"],
        "opens projects anywhere"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .count()
            == 1
    );

    let moved = format!("\n\n{text}");
    let (log2, _) = sarif_of(&SourceFile::new("app.json", moved), Some(&ex));
    let prints = |l: &Value| -> Vec<(Value, Value)> {
        l["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"].clone(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
                )
            })
            .collect()
    };
    let (a, b) = (prints(&log), prints(&log2));
    assert_eq!(a.len(), b.len());
    for ((fa, la), (fb, lb)) in a.iter().zip(&b) {
        assert_eq!(fa, fb, "fingerprints survive moved lines");
        assert_ne!(la, lb, "lines moved");
    }
}

#[test]
fn diff_sarif_is_valid() {
    let load = |text: &str| {
        let file = SourceFile::new("app.json", text);
        let policy = compile(&file, &Options::default())
            .policy
            .expect("compiles");
        (file, policy)
    };
    let (old_file, old) =
        load(r#"{"id": "a.b.C", "finish-args": ["--filesystem=home", "--socket=x11"]}"#);
    let (new_file, new) = load(
        r#"{"id": "a.b.C", "finish-args": ["--socket=wayland", "--socket=fallback-x11", "--talk-name=org.freedesktop.Flatpak"]}"#,
    );
    let d = portcullis_verifier::diff::diff(&old, &new);
    let locate = |file: &SourceFile, o: Origin| {
        let (line, column) = file.line_col(o.start as usize);
        let (end_line, end_column) = file.line_col(o.end as usize);
        Some(renderer::Location {
            file: file.name.to_string(),
            line,
            column,
            end_line,
            end_column,
        })
    };
    let text = renderer::from_diff(&d, |o| locate(&old_file, o), |o| locate(&new_file, o));
    let log: Value = serde_json::from_str(&text).expect("json");
    assert_valid(&log);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "portcullis-diff-new-escape"));
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "portcullis-diff-reduction"));
}
