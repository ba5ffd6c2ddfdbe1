//! The semantic diff through the compiler: neutral rewrites of real corpus lists,
//! escalations and reductions, and Flatpak's own verdict next to ours.

use portcullis_compiler::{compile, Form, Options};
use portcullis_ir::Policy;
use portcullis_syntax::SourceFile;
use portcullis_verifier::diff::{self, Class};
use portcullis_verifier::Severity;

use super::corpus;

fn policy(args: &[String]) -> Policy {
    // INVARIANT: a list of strings always serialises.
    let file = SourceFile::new("list.json", serde_json::to_string(args).expect("json"));
    let options = Options {
        form: Some(Form::FinishArgs),
        ..Options::default()
    };
    compile(&file, &options).policy.expect("the list compiles")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Respells an option the way Flatpak reads the same: `home` ↔ `~`, a trailing `/`,
/// `:rw` spelled out.
fn respell(arg: &str) -> String {
    match arg {
        "--filesystem=home" => "--filesystem=~".into(),
        "--filesystem=~" => "--filesystem=home".into(),
        a if a.starts_with("--filesystem=/") && !a.contains(':') => format!("{a}/"),
        a if a.starts_with("--filesystem=xdg-") && !a.contains(':') => format!("{a}:rw"),
        a => a.to_string(),
    }
}

#[test]
fn reordered_and_respelled_corpus_lists_are_neutral() {
    let Some(records) = corpus::records() else {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    };
    let mut compared = 0;
    for r in &records {
        // Reversing is neutral only without conflicting statements (the last one wins).
        let keys: Vec<String> = r
            .finish_args
            .iter()
            .map(|a| {
                match a
                    .strip_prefix("--env=")
                    .or_else(|| a.strip_prefix("--unset-env="))
                {
                    Some(var) => format!("env {}", var.split('=').next().unwrap_or(var)),
                    None => a.split(':').next().unwrap_or(a).to_string(),
                }
            })
            .collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != keys.len() {
            continue;
        }
        let mut rewritten: Vec<String> = r.finish_args.iter().map(|a| respell(a)).collect();
        rewritten.reverse();
        let d = diff::diff(&policy(&r.finish_args), &policy(&rewritten));
        assert!(d.changes.is_empty(), "{}: {:#?}", r.app_id, d.changes);
        assert_eq!(d.max_escalation(), None);
        compared += 1;
    }
    assert!(compared > 300, "{compared}");
}

#[test]
fn escalation_reduction_and_neutral_through_the_compiler() {
    let old = policy(&strings(&[
        "--share=ipc",
        "--socket=x11",
        "--filesystem=home",
        "--talk-name=org.kde.*",
    ]));
    let new = policy(&strings(&[
        "--share=ipc",
        "--socket=fallback-x11",
        "--socket=wayland",
        "--filesystem=home",
        "--filesystem=~/Projects",
        "--talk-name=org.kde.StatusNotifierWatcher",
        "--talk-name=org.kde.*",
        "--talk-name=org.freedesktop.Flatpak",
    ]));
    let d = diff::diff(&old, &new);
    let class = |item: &str| d.changes.iter().find(|c| c.item == item).map(|c| c.class);
    assert_eq!(
        class("talk-name org.freedesktop.Flatpak"),
        Some(Class::Escalation)
    );
    assert_eq!(class("socket wayland"), Some(Class::Escalation));
    assert_eq!(class("socket fallback-x11"), Some(Class::Reduction));
    assert_eq!(class("filesystem ~/Projects"), Some(Class::Neutral));
    assert_eq!(
        class("talk-name org.kde.StatusNotifierWatcher"),
        Some(Class::Neutral)
    );
    assert!(d.flatpak_adds_permissions());
    assert_eq!(d.max_escalation(), Some(Severity::Critical));
    assert_eq!(d.escapes_added.len(), 1);

    let back = diff::diff(&new, &old);
    assert_eq!(back.escapes_removed.len(), 1);
    assert_eq!(
        back.changes
            .iter()
            .find(|c| c.item == "talk-name org.freedesktop.Flatpak")
            .map(|c| c.class),
        Some(Class::Reduction)
    );
    // Dropping fallback-x11 while keeping x11 binds X11 on Wayland sessions again.
    assert_eq!(
        back.changes
            .iter()
            .find(|c| c.item == "socket fallback-x11")
            .map(|c| c.class),
        Some(Class::Escalation)
    );
}

#[test]
fn read_only_to_read_write_is_an_escalation_with_its_risk() {
    let d = diff::diff(
        &policy(&strings(&["--filesystem=home:ro"])),
        &policy(&strings(&["--filesystem=home"])),
    );
    assert_eq!(d.counts(), (1, 0, 0));
    let c = &d.changes[0];
    assert_eq!(
        (c.risk_before, c.risk_after),
        (Some(Severity::High), Some(Severity::Critical))
    );
    assert_eq!(c.gate_level(), Some(Severity::Critical));
}
