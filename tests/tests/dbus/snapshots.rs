//! Snapshots of `emit --backend dbus --text` for every stock policy and for the policy
//! language's fine-grained rules, each checked by the verifier as well.

use std::path::{Path, PathBuf};

use portcullis_backends::dbus::{compile as compile_dbus, section, text};
use portcullis_compiler::{compile, Options};
use portcullis_ir::{Origin, Policy};
use portcullis_syntax::SourceFile;
use portcullis_verifier::dbus::advisory::{advisories, Strength};
use portcullis_verifier::dbus::verify;

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

fn compile_text(name: &str, text: &str) -> Policy {
    let file = SourceFile::new(name.to_string(), text.to_string());
    let options = Options {
        policies_dir: Some(policies_dir()),
        ..Options::default()
    };
    let compiled = compile(&file, &options);
    compiled
        .policy
        .unwrap_or_else(|| panic!("{name} does not compile: {:?}", compiled.diagnostics))
}

/// Origins as `PATH:LINE:COLUMN` with paths relative to `policies/`, so the snapshots do
/// not depend on where the checkout is.
fn relative_namer(policy: &Policy) -> impl Fn(Origin) -> String + '_ {
    let root = policies_dir()
        .canonicalize()
        .unwrap_or_else(|_| policies_dir());
    move |origin: Origin| {
        if origin.is_implicit() {
            return "implicit".into();
        }
        let Some(source) = policy.sources.get(origin.source as usize) else {
            return "unknown source".into();
        };
        let path = Path::new(source);
        let shown = path
            .canonicalize()
            .ok()
            .and_then(|p| p.strip_prefix(&root).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(path.file_name().unwrap_or_default()));
        let (line, column) = std::fs::read_to_string(path)
            .map(|t| SourceFile::new(source.clone(), t).line_col(origin.start as usize))
            .unwrap_or((0, 0));
        format!("{}:{line}:{column}", shown.display())
    }
}

#[test]
fn stock_policy_proxy_arguments() {
    insta::glob!("../../../policies", "**/*.policy", |path| {
        let text_of = std::fs::read_to_string(path).expect("policy file");
        let policy = compile_text(&path.display().to_string(), &text_of);
        let findings = verify(&section(&policy), &policy);
        assert!(findings.is_empty(), "{}: {findings:#?}", path.display());
        let plan = compile_dbus(&policy);
        insta::assert_snapshot!(text::render_with(&plan, &relative_namer(&policy)));
    });
}

const FINE_GRAINED: &str = "\
app org.example.Remote {
    talk-name org.freedesktop.Notifications
    dbus-call org.mpris.MediaPlayer2.vlc=org.mpris.MediaPlayer2.Player.PlayPause@/org/mpris/MediaPlayer2
    dbus-broadcast org.mpris.MediaPlayer2.vlc=org.freedesktop.DBus.Properties.PropertiesChanged@/org/mpris/MediaPlayer2
    dbus-call org.freedesktop.Notifications=org.freedesktop.Notifications.Notify
    system-dbus-call org.freedesktop.hostname1=org.freedesktop.DBus.Properties.Get@/org/freedesktop/hostname1
}
";

#[test]
fn fine_grained_rules_from_the_policy_language() {
    let policy = compile_text("remote.policy", FINE_GRAINED);
    assert_eq!(policy.beyond.bus_rules.len(), 4);
    let plan = compile_dbus(&policy);
    let findings = verify(&plan.to_section(), &policy);
    assert!(findings.is_empty(), "{findings:#?}");
    let source = SourceFile::new("remote.policy".to_string(), FINE_GRAINED.to_string());
    let namer = |origin: Origin| {
        let (line, column) = source.line_col(origin.start as usize);
        format!("remote.policy:{line}:{column}")
    };
    insta::assert_snapshot!(text::render_with(&plan, &namer));
    // The rule on a name that is already talkable has no effect; the others are advisory.
    let strengths: Vec<Strength> = advisories(&policy).iter().map(|a| a.strength).collect();
    assert_eq!(
        strengths,
        [
            Strength::Advisory,
            Strength::Advisory,
            Strength::NoEffect,
            Strength::Advisory
        ]
    );
}

#[test]
fn malformed_rules_are_refused_by_the_compiler() {
    for bad in [
        "dbus-call org.a.B=Method",
        "dbus-call org.a.B=org.a.B.M@relative",
        "dbus-call org.*=*",
    ] {
        let text = format!("app org.example.Bad {{\n    {bad}\n}}\n");
        let file = SourceFile::new("bad.policy".to_string(), text);
        let compiled = compile(&file, &Options::default());
        assert!(compiled.policy.is_none(), "`{bad}` was accepted");
        assert!(compiled.is_invalid(), "`{bad}`: {:?}", compiled.diagnostics);
    }
}
