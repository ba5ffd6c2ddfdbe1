//! `portcullis emit --backend mounts|bwrap` through the real binary: output forms and
//! exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn portcullis() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("portcullis");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

fn stock(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name)
}

#[test]
fn mounts_emits_the_plan_as_json_and_as_a_table() {
    let out = Command::new(portcullis())
        .args(["emit", "--backend", "mounts"])
        .arg(stock("flatpak-default.policy"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ops = json["ops"].as_array().expect("ops");
    assert!(ops
        .iter()
        .any(|op| op["op"] == "bind" && op["dest"] == "/usr"));
    assert!(json["env"].as_array().is_some_and(|e| !e.is_empty()));
    let out = Command::new(portcullis())
        .args(["emit", "--backend", "mounts", "--text"])
        .arg(stock("flatpak-default.policy"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# mount plan\n"), "{text}");
    assert!(text.contains("# environment"));
}

#[test]
fn bwrap_emits_an_argument_array_for_this_user() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(portcullis())
        .args(["emit", "--backend", "bwrap"])
        .arg(stock("flatpak-default.policy"))
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args: Vec<String> = serde_json::from_slice(&out.stdout).expect("json array of strings");
    let home_text = home.path().to_string_lossy();
    assert!(args.windows(3).any(|w| w == ["--ro-bind", "/usr", "/usr"]));
    assert!(
        args.iter().any(|a| a.contains(home_text.as_ref())),
        "placeholders expanded"
    );
    assert!(
        !args.iter().any(|a| a.contains("${")),
        "no placeholder left"
    );
    assert!(
        home.path()
            .join(".var/app/org.flatpak.Default/data")
            .is_dir(),
        "host dirs made"
    );
}

#[test]
fn invalid_input_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.policy");
    std::fs::write(&bad, "app {").expect("write");
    for backend in ["mounts", "bwrap"] {
        let out = Command::new(portcullis())
            .args(["emit", "--backend", backend])
            .arg(&bad)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{backend}");
    }
}
