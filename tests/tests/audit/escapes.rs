//! Escape classification on the whole corpus: every record with an escape-class grant is
//! reported as an escape by the risk model, and none without.
//!
//! The escape-class set is defined here, on the finish-args strings, independently of the
//! risk model (which works on the compiled IR), from the list:
//! 1. session-bus talk or own of `org.freedesktop.Flatpak` (`.*` and `org.freedesktop.*`
//!    included): `flatpak-spawn --host`;
//! 2. `--socket=session-bus`, or the session bus socket as a file (`xdg-run/bus`,
//!    `/run/user[/UID[/bus]]`): it reaches (1) without a proxy;
//! 3. session-bus talk or own of `org.freedesktop.systemd1`: transient user units;
//! 4. write access (no `:ro`) to `home`/`~`/`host`, to `/home` or `/var/home`, or to a
//!    path that contains or lies inside `~/.local/share/flatpak/overrides`,
//!    `~/.config/autostart`, `~/.config/systemd/user` or a shell start-up file
//!    (`~/.bashrc`-like), spelled `~/…`, `home/…`, `xdg-config[/…]` or `xdg-data[/…]`,
//!    `..` resolved as Flatpak before 1.17.3 does;
//! 5. beyond the list, documented in the risk model: any access to a container
//!    engine socket (`/run/docker.sock`, `/var/run/docker.sock`, `xdg-run/docker.sock`,
//!    `/run/podman`, `/var/run/podman`, `xdg-run/podman`, or below).

use portcullis_compiler::{compile, Form, Options};
use portcullis_syntax::SourceFile;
use portcullis_verifier::risk;

use super::corpus;

const TARGETS: &[&str] = &[
    ".local/share/flatpak/overrides",
    ".config/autostart",
    ".config/systemd/user",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".xprofile",
    ".xsession",
    ".xsessionrc",
    ".xinitrc",
    ".pam_environment",
    ".config/environment.d",
    ".config/fish",
    ".config/plasma-workspace",
    ".local/bin",
];

fn under(a: &str, b: &str) -> bool {
    b.is_empty() || a == b || a.starts_with(&format!("{b}/"))
}

/// Resolves `.`/`..`; `None` above home.
fn resolve(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

fn filesystem_escape(value: &str) -> bool {
    let (token, mode) = match value.rsplit_once(':') {
        Some((t, m)) if matches!(m, "ro" | "rw" | "create") => (t, m),
        _ => (value, "rw"),
    };
    let parts: Vec<&str> = token.split('/').filter(|p| !p.is_empty()).collect();
    let run_user = token.starts_with('/')
        && matches!(
            parts.as_slice(),
            ["run", "user"] | ["run", "user", _] | ["run", "user", _, "bus"]
        );
    let engines = [
        "/run/docker.sock",
        "/var/run/docker.sock",
        "xdg-run/docker.sock",
        "/run/podman",
        "/var/run/podman",
        "xdg-run/podman",
    ];
    if engines
        .iter()
        .any(|e| under(token.trim_end_matches('/'), e))
    {
        return true;
    }
    if token == "xdg-run/bus" || run_user {
        return true;
    }
    if mode == "ro" {
        return false;
    }
    if matches!(
        token,
        "home" | "~" | "~/" | "host" | "/home" | "/var/home" | "/home/" | "/var/home/"
    ) {
        return true;
    }
    let rel = if let Some(r) = token
        .strip_prefix("~/")
        .or_else(|| token.strip_prefix("home/"))
    {
        r.to_string()
    } else if let Some(r) = token.strip_prefix("xdg-config") {
        format!(".config{r}")
    } else if let Some(r) = token.strip_prefix("xdg-data") {
        format!(".local/share{r}")
    } else {
        let user_dirs = [
            ("xdg-desktop", "Desktop"),
            ("xdg-documents", "Documents"),
            ("xdg-download", "Downloads"),
            ("xdg-music", "Music"),
            ("xdg-pictures", "Pictures"),
            ("xdg-public-share", "Public"),
            ("xdg-templates", "Templates"),
            ("xdg-videos", "Videos"),
            ("xdg-cache", ".cache"),
        ];
        match user_dirs
            .iter()
            .find_map(|(t, d)| token.strip_prefix(t).map(|r| format!("{d}{r}")))
        {
            Some(p) => p,
            None => return false,
        }
    };
    match resolve(&rel) {
        None => true,
        Some(p) => TARGETS.iter().any(|t| under(t, &p) || under(&p, t)),
    }
}

/// Whether a finish-args list holds an escape-class grant (the definition above).
pub fn expected_escape(args: &[String]) -> bool {
    args.iter().any(|arg| {
        let (key, value) = arg.split_once('=').unwrap_or((arg, ""));
        match key {
            "--talk-name" | "--own-name" => matches!(
                value,
                "org.freedesktop.Flatpak"
                    | "org.freedesktop.Flatpak.*"
                    | "org.freedesktop.*"
                    | "org.freedesktop.systemd1"
                    | "org.freedesktop.systemd1.*"
            ),
            "--socket" => value == "session-bus",
            "--filesystem" => filesystem_escape(value),
            _ => false,
        }
    })
}

fn model_escape(args: &[String]) -> bool {
    // INVARIANT: a list of strings always serialises.
    let text = serde_json::to_string(args).expect("json");
    let file = SourceFile::new("finish-args.json", text);
    let options = Options {
        form: Some(Form::FinishArgs),
        ..Options::default()
    };
    let compiled = compile(&file, &options);
    let policy = compiled.policy.unwrap_or_else(|| {
        panic!(
            "corpus list did not compile: {:?}",
            compiled
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        )
    });
    risk::assess(&policy).has_escape()
}

#[test]
fn escape_classification_matches_the_escape_class_on_every_record() {
    let Some(records) = corpus::records() else {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    };
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for r in &records {
        let expected = expected_escape(&r.finish_args);
        let found = model_escape(&r.finish_args);
        match (found, expected) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
        if found != expected {
            wrong.push(format!(
                "{}: model {found}, escape class {expected}",
                r.app_id
            ));
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    eprintln!(
        "escape classification on {} records: {tp} escapes, {tn} without; precision {precision:.3}, recall {recall:.3}",
        records.len()
    );
    assert!(
        tp > 50,
        "the corpus has many escape-class grants; found {tp}"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_escape_class_definition_itself() {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    assert!(expected_escape(&s(&[
        "--filesystem=xdg-config/autostart:create"
    ])));
    assert!(expected_escape(&s(&["--filesystem=~/.local"])));
    assert!(expected_escape(&s(&["--filesystem=xdg-download/.."])));
    assert!(!expected_escape(&s(&[
        "--filesystem=home:ro",
        "--filesystem=xdg-config/gtk-3.0"
    ])));
    assert!(!expected_escape(&s(&[
        "--talk-name=org.freedesktop.Notifications"
    ])));
    assert!(expected_escape(&s(&["--filesystem=xdg-run/podman:create"])));
    assert!(!expected_escape(&s(&["--filesystem=xdg-run/docker"])));
}
