//! The audit of a dozen real Flathub manifests, snapshotted: escapes with their chains,
//! other risks, and every lint finding with its position in the manifest.

use portcullis_compiler::{compile, Options};
use portcullis_ir::Origin;
use portcullis_syntax::SourceFile;
use portcullis_verifier::lint::{self, FinishArgs};
use portcullis_verifier::risk;

use super::corpus;

const CHOSEN: &[&str] = &[
    "app.devsuite.Ptyxis.json",
    "com.github.Murmele.Gittyup.yml",
    "com.github.tchx84.Flatseal.json",
    "com.google.Chrome.yaml",
    "com.heroicgameslauncher.hgl.yml",
    "com.usebottles.bottles.yml",
    "com.valvesoftware.Steam.yml",
    "com.visualstudio.code.yaml",
    "io.github.flattool.Warehouse.json",
    "io.missioncenter.MissionCenter.json",
    "io.podman_desktop.PodmanDesktop.yml",
    "org.mozilla.Thunderbird.json",
];

fn position(file: &SourceFile, origin: Origin) -> String {
    if origin.is_implicit() || origin.source != 0 {
        return "-".into();
    }
    let (line, column) = file.line_col(origin.start as usize);
    format!("{line}:{column}")
}

/// The audit as compact text: what `portcullis audit` reports, minus the permission list.
pub fn audit_text(file: &SourceFile) -> String {
    let compiled = compile(file, &Options::default());
    let Some(policy) = compiled.policy.as_ref() else {
        return format!(
            "invalid input: {:?}\n",
            compiled
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        );
    };
    let assessment = risk::assess(policy);
    let mut findings = lint::lint(&FinishArgs::from_document(&compiled.document, 0));
    lint::apply_risk(&mut findings, &assessment);
    let mut out = format!("app {}\n", policy.app_id());
    for p in &assessment.paths {
        let kind = if p.escape {
            "known escape found via"
        } else {
            p.severity.name()
        };
        out.push_str(&format!(
            "{kind} `{}` at {}\n",
            p.grant,
            position(file, p.origin)
        ));
        for step in &p.chain {
            out.push_str(&format!("  → {} ({})\n", step.to, step.reason));
        }
    }
    for f in &findings {
        out.push_str(&format!(
            "{} {} {}{}\n",
            position(file, f.origin),
            f.severity,
            f.code,
            if f.fblint { "" } else { " [portcullis]" }
        ));
    }
    out
}

#[test]
fn audit_of_a_dozen_real_manifests() {
    let dir = corpus::shared().join("corpus/flathub/manifests");
    if !dir.is_dir() {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    }
    for name in CHOSEN {
        let text = std::fs::read_to_string(dir.join(name)).expect("manifest");
        let file = SourceFile::new(*name, text);
        insta::assert_snapshot!(format!("audit__{name}"), audit_text(&file));
    }
}

#[test]
fn manifest_codes_match_the_oracle_and_point_at_the_option() {
    let (dir, Some(oracle)) = (
        corpus::shared().join("corpus/flathub/manifests"),
        corpus::oracle("results.jsonl"),
    ) else {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    };
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("manifests") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let Some(expected) = oracle.get(&("manifest".to_string(), name.clone())) else {
            continue;
        };
        let file = SourceFile::new(name.as_str(), std::fs::read_to_string(&path).expect("read"));
        let compiled = compile(&file, &Options::default());
        let findings = lint::lint(&FinishArgs::from_document(&compiled.document, 0));
        let mut ours: Vec<String> = findings
            .iter()
            .filter(|f| f.fblint)
            .map(|f| f.code.clone())
            .collect();
        ours.sort();
        ours.dedup();
        compared += 1;
        if &ours != expected {
            mismatches.push(format!("{name}: ours {ours:?}, fblint {expected:?}"));
        }
        // Every finding with an option points at text that contains the option's value.
        for f in findings.iter().filter(|f| f.option.is_some()) {
            let text = &file.text[f.origin.start as usize..f.origin.end as usize];
            let option = f.option.as_deref().unwrap_or_default();
            let value = option.split_once('=').map(|(_, v)| v).unwrap_or(option);
            let value = value.split(':').next().unwrap_or(value);
            assert!(
                text.contains(value.split('\\').next().unwrap_or(value)),
                "{name}: {} points at `{text}`, not at `{option}`",
                f.code
            );
        }
    }
    eprintln!(
        "compared {compared} manifests, {} mismatches",
        mismatches.len()
    );
    assert!(compared >= 40);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
