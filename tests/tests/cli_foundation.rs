//! The foundation subcommands end to end, through the real `portcullis` binary: `check`
//! (human and JSON, exit codes, `--fail-on`), `fmt` (in place and `--check`), `import`,
//! `export`, `explain`; bad input of every kind gets exit 2 and a diagnostic, never a
//! panic. Snapshots: diagnostics for the bad inputs under `cli_foundation/`, and
//! `explain` for every stock policy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cli_foundation")
}

/// The `portcullis` binary of this build (built once if needed).
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // The test binary lives in <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("the test binary has a path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps");
        let target_dir = profile_dir.parent().expect("target dir");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "portcullis",
                "--bin",
                "portcullis",
                "--target-dir",
            ])
            .arg(target_dir)
            .current_dir(repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building portcullis failed");
        profile_dir.join("portcullis")
    })
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut command = Command::new(binary());
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("portcullis starts");
    if let Some(mut pipe) = child.stdin.take() {
        if let Some(bytes) = stdin {
            pipe.write_all(bytes).expect("stdin accepted");
        }
    }
    child.wait_with_output().expect("portcullis finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("exited normally, not by a signal")
}

fn assert_no_panic(output: &Output) {
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "portcullis panicked: {stderr}"
    );
}

#[test]
fn check_bad_inputs_exit_2_with_snapshotted_diagnostics() {
    for name in [
        "unknown-socket.json",
        "bad-names.yml",
        "truncated.json",
        "bad-filesystems.txt",
        "bad-syntax.policy",
    ] {
        let output = run_in(&cases_dir(), &["check", name], None);
        assert_no_panic(&output);
        assert_eq!(code(&output), 2, "{name}: {}", text(&output.stdout));
        insta::assert_snapshot!(format!("check-{name}"), text(&output.stdout));
    }
}

#[test]
fn check_json_has_codes_and_positions() {
    let output = run_in(
        &cases_dir(),
        &["check", "--format", "json", "unknown-socket.json"],
        None,
    );
    assert_eq!(code(&output), 2);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let findings = report["findings"].as_array().expect("findings");
    let socket = findings
        .iter()
        .find(|f| f["code"] == "portcullis::check::unknown-value")
        .expect("the unknown socket is reported");
    assert_eq!(socket["severity"], "error");
    assert_eq!(socket["line"], 7);
    assert_eq!(socket["column"], 19);
    assert_eq!(socket["help"], "did you mean `wayland`?");
    let option = findings
        .iter()
        .find(|f| f["code"] == "portcullis::check::unknown-option")
        .expect("the unknown option is reported");
    assert_eq!(option["help"], "did you mean `--device`?");
    assert_eq!(report["summary"]["errors"], 4);
}

/// The compiler's own findings (`portcullis::check::…`) of a JSON report, one line each;
/// the lints that `check` also runs belong to the audit engineer's tests.
fn own_findings(report: &[u8]) -> String {
    let report: serde_json::Value = serde_json::from_slice(report).expect("JSON report");
    let mut out = String::new();
    for f in report["findings"].as_array().expect("findings") {
        let code = f["code"].as_str().unwrap_or_default();
        // `mask-needs-landlock` is what a policy with deny masks is meant to be told.
        if code.starts_with("portcullis::check::")
            && code != "portcullis::check::mask-needs-landlock"
        {
            out.push_str(&format!(
                "{}:{}:{} {} {}: {}\n",
                f["file"].as_str().unwrap_or("?"),
                f["line"],
                f["column"],
                f["severity"].as_str().unwrap_or("?"),
                code,
                f["message"].as_str().unwrap_or_default()
            ));
        }
    }
    out
}

#[test]
fn check_warnings_and_fail_on() {
    let output = run_in(&cases_dir(), &["check", "duplicate.json"], None);
    assert_eq!(
        code(&output),
        0,
        "warnings do not fail by default: {}",
        text(&output.stdout)
    );
    assert!(text(&output.stdout).contains("portcullis::check::duplicate"));
    let output = run_in(
        &cases_dir(),
        &["check", "--fail-on", "warning", "duplicate.json"],
        None,
    );
    assert_eq!(code(&output), 1);
    let output = run_in(
        &cases_dir(),
        &["check", "--fail-on", "sometimes", "duplicate.json"],
        None,
    );
    assert_eq!(code(&output), 2, "a bad level is a usage error");
    for name in ["conflicts.json", "metadata"] {
        let output = run_in(&cases_dir(), &["check", "--format", "json", name], None);
        assert_ne!(code(&output), 2, "{name} is valid input");
        insta::assert_snapshot!(format!("check-{name}"), own_findings(&output.stdout));
    }
}

#[test]
fn check_exceptions_drop_findings() {
    let dir = tempfile::tempdir().unwrap();
    let exceptions = dir.path().join("exceptions.json");
    std::fs::write(
        &exceptions,
        r#"{"org.example.Conflicts": ["duplicate", "portcullis::check::fallback-x11-with-x11"]}"#,
    )
    .unwrap();
    let args = [
        "check",
        "--format",
        "json",
        "--exceptions",
        exceptions.to_str().unwrap(),
        "conflicts.json",
    ];
    let output = run_in(&cases_dir(), &args, None);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"portcullis::check::duplicate"),
        "{codes:?}"
    );
    assert!(
        !codes.contains(&"portcullis::check::fallback-x11-with-x11"),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"portcullis::check::shadowed-grant"),
        "{codes:?}"
    );
}

#[test]
fn unreadable_inputs_exit_2_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 0xff, 0xfe, 7, 0]).unwrap();
    let nul = dir.path().join("metadata");
    std::fs::write(
        &nul,
        b"[Application]\nname=org.x.Y\n[Context]\nshared=network\0;ipc;\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.json");
    for (args, needle) in [
        (vec!["check", missing.to_str().unwrap()], "read-error"),
        (
            vec!["check", dir.path().to_str().unwrap()],
            "is a directory",
        ),
        (vec!["check", garbage.to_str().unwrap()], "binary-input"),
        (vec!["check", nul.to_str().unwrap()], "NUL byte"),
        (vec!["explain", missing.to_str().unwrap()], "read-error"),
        (
            vec!["export", garbage.to_str().unwrap(), "--to", "metadata"],
            "binary-input",
        ),
        (
            vec!["import", dir.path().to_str().unwrap()],
            "is a directory",
        ),
        (vec!["fmt", missing.to_str().unwrap()], "read-error"),
    ] {
        let output = run_in(dir.path(), &args, None);
        assert_no_panic(&output);
        assert_eq!(code(&output), 2, "{args:?}");
        let all = text(&output.stdout) + &text(&output.stderr);
        assert!(all.contains(needle), "{args:?}: {all}");
    }
    let output = run_in(
        dir.path(),
        &["check", "-"],
        Some(b"{\"app-id\": \"org.x.Y\", \"finish-args\": [\"--share=ipc\""),
    );
    assert_eq!(code(&output), 2, "truncated JSON on stdin");
    assert!(text(&output.stdout).contains("<stdin>"));
}

#[test]
fn fmt_rewrites_atomically_and_check_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messy.policy");
    std::fs::write(
        &path,
        "app   org.example.Messy{\nsocket wayland\n   share    network\n}\n",
    )
    .unwrap();
    let output = run_in(dir.path(), &["fmt", "--check", "messy.policy"], None);
    assert_eq!(
        code(&output),
        1,
        "unformatted file: {}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("messy.policy"));
    let output = run_in(dir.path(), &["fmt", "messy.policy"], None);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let formatted = std::fs::read_to_string(&path).unwrap();
    assert!(formatted.contains("    socket wayland\n"), "{formatted}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    let output = run_in(dir.path(), &["fmt", "--check", "messy.policy"], None);
    assert_eq!(code(&output), 0);
    let output = run_in(
        dir.path(),
        &["fmt", "-"],
        Some(b"app org.example.Stdin {\nshare ipc\n}\n"),
    );
    assert_eq!(code(&output), 0);
    assert_eq!(
        text(&output.stdout),
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("Messy", "Stdin")
            .replace("    socket wayland\n    share network\n", "    share ipc\n")
    );
    let output = run_in(&cases_dir(), &["fmt", "bad-syntax.policy"], None);
    assert_eq!(code(&output), 2, "a file that does not parse is left alone");
    let output = run_in(&cases_dir(), &["fmt", "conflicts.json"], None);
    assert_eq!(code(&output), 2, "fmt refuses a manifest");
}

#[test]
fn stock_policies_are_formatted_and_valid() {
    let mut policies = stock_policies();
    assert!(!policies.is_empty(), "policies/ has stock policies");
    policies.sort();
    for policy in &policies {
        let output = run_in(&repo_root(), &["fmt", "--check", policy], None);
        assert_eq!(
            code(&output),
            0,
            "{policy} is not formatted: {}",
            text(&output.stdout)
        );
        let output = run_in(&repo_root(), &["check", "--format", "json", policy], None);
        assert_ne!(code(&output), 2, "{policy}: {}", text(&output.stdout));
        assert_eq!(
            own_findings(&output.stdout),
            "",
            "{policy} has compiler findings"
        );
    }
}

fn stock_policies() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "policy") {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                out.push(relative.to_string_lossy().to_string());
            }
        }
    }
    let root = repo_root();
    let mut out = Vec::new();
    walk(&root.join("policies"), &root, &mut out);
    out
}

#[test]
fn explain_every_stock_policy() {
    let mut policies = stock_policies();
    policies.sort();
    for policy in &policies {
        let output = run_in(&repo_root(), &["explain", policy], None);
        assert_eq!(code(&output), 0, "{policy}: {}", text(&output.stderr));
        let name = format!(
            "explain-{}",
            policy.trim_start_matches("policies/").replace('/', "-")
        );
        insta::assert_snapshot!(name, text(&output.stdout));
        let output = run_in(&repo_root(), &["explain", "--json", policy], None);
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("explain --json");
        assert!(json["entries"].as_array().is_some_and(|e| !e.is_empty()));
        assert!(json["policy"]["context"].is_object());
    }
}

#[test]
fn import_and_export_round_trip_through_the_cli() {
    let corpus = std::env::var_os("PORTCULLIS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus/flathub"));
    let manifest = corpus.join("manifests/io.bassi.Amberol.json");
    assert!(
        manifest.is_file(),
        "corpus manifest at {}",
        manifest.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("amberol.policy");
    let output = run_in(
        dir.path(),
        &["import", manifest.to_str().unwrap(), "-o", "amberol.policy"],
        None,
    );
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let imported = std::fs::read_to_string(&policy).unwrap();
    assert!(imported.starts_with("app io.bassi.Amberol {"), "{imported}");
    let from_manifest = run_in(
        dir.path(),
        &["export", manifest.to_str().unwrap(), "--to", "finish-args"],
        None,
    );
    let from_policy = run_in(
        dir.path(),
        &["export", "amberol.policy", "--to", "finish-args"],
        None,
    );
    assert_eq!(code(&from_policy), 0, "{}", text(&from_policy.stderr));
    assert_eq!(text(&from_manifest.stdout), text(&from_policy.stdout));
    let list: Vec<String> =
        serde_json::from_slice(&from_policy.stdout).expect("a JSON array of strings");
    assert!(
        list.contains(&"--socket=fallback-x11".to_string()),
        "{list:?}"
    );
    let output = run_in(
        dir.path(),
        &[
            "export",
            "amberol.policy",
            "--to",
            "metadata",
            "-o",
            "metadata",
        ],
        None,
    );
    assert_eq!(code(&output), 0);
    let output = run_in(
        dir.path(),
        &["export", "metadata", "--to", "metadata"],
        None,
    );
    assert_eq!(
        text(&output.stdout),
        std::fs::read_to_string(dir.path().join("metadata")).unwrap()
    );
    let output = run_in(dir.path(), &["import", "metadata"], None);
    assert_eq!(
        text(&output.stdout),
        imported.replace(
            "    sdk-extensions org.freedesktop.Sdk.Extension.rust-stable\n",
            ""
        )
    );
}

#[test]
fn flathub_lint_codes_gate_manifests_but_advise_policies() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The same grant (wayland without an X11 fallback) as a Flathub manifest and as a
    // policy: flatpak-builder-lint's code fails the manifest, as on Flathub, and is
    // advice on the policy language.
    let manifest = dir.path().join("org.example.Only.json");
    std::fs::write(
        &manifest,
        r#"{"app-id": "org.example.Only", "runtime": "org.freedesktop.Platform",
            "runtime-version": "24.08", "sdk": "org.freedesktop.Sdk", "command": "only",
            "finish-args": ["--socket=wayland"], "modules": []}"#,
    )
    .expect("manifest written");
    let policy = dir.path().join("only.policy");
    std::fs::write(
        &policy,
        "app org.example.Only {\n    command only\n\n    socket wayland\n}\n",
    )
    .expect("policy written");
    let empty = dir.path().join("empty.policy");
    std::fs::write(&empty, "app org.example.Empty {\n    command empty\n}\n")
        .expect("policy written");

    let output = run_in(dir.path(), &["check", "org.example.Only.json"], None);
    assert_eq!(code(&output), 1, "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("finish-args-only-wayland"));

    let output = run_in(dir.path(), &["check", "only.policy"], None);
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("finish-args-only-wayland"));

    // A policy that grants nothing is Flatpak's default sandbox, not a manifest that
    // forgot its finish-args.
    let output = run_in(dir.path(), &["check", "empty.policy"], None);
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));
    assert!(!text(&output.stdout).contains("finish-args-not-defined"));
}

#[test]
fn yaml_manifest_on_stdin_is_read_as_yaml() {
    let yaml = b"---\napp-id: org.test.App\nruntime: org.freedesktop.Platform\n\
                 runtime-version: '23.08'\nsdk: org.freedesktop.Sdk\ncommand: app\n\
                 finish-args:\n  - --share=ipc\n  - --socket=wayland\nmodules: []\n";
    let output = run_in(&repo_root(), &["import", "-"], Some(yaml));
    assert_no_panic(&output);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("socket wayland"), "{stdout}");
    assert!(stdout.contains("org.test.App"), "{stdout}");
}

#[test]
fn export_warns_about_dropped_restrictions_and_exits_0() {
    let output = run_in(
        &repo_root(),
        &[
            "export",
            "policies/examples/home-minus-secrets.policy",
            "--to",
            "finish-args",
        ],
        None,
    );
    assert_no_panic(&output);
    assert_eq!(code(&output), 0);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("not-expressible"), "{stderr}");
    assert!(stderr.contains("~/.ssh"), "{stderr}");
    assert!(stderr.contains("grants more"), "{stderr}");
}

#[test]
fn a_failed_output_write_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let policy = repo_root().join("policies/flatpak-default.policy");
    let target = dir.path().join("no/such/dir/x.blob");
    let output = run_in(
        dir.path(),
        &[
            "compile",
            policy.to_str().unwrap(),
            "-o",
            target.to_str().unwrap(),
        ],
        None,
    );
    assert_no_panic(&output);
    assert_eq!(code(&output), 2);
    let all = text(&output.stdout) + &text(&output.stderr);
    assert!(all.contains("write-error"), "{all}");
    assert!(all.contains("cannot write"), "{all}");
    assert!(!all.contains("read-error"), "{all}");
}

#[test]
fn a_compiled_blob_given_as_source_points_to_explain_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let policy = repo_root().join("policies/flatpak-default.policy");
    let policy = policy.to_str().unwrap();
    let output = run_in(dir.path(), &["compile", policy, "-o", "x.blob"], None);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    for args in [
        &["audit", "x.blob"][..],
        &["diff", policy, "x.blob"],
        &["export", "x.blob", "--to", "finish-args"],
        &["check", "x.blob"],
    ] {
        let output = run_in(dir.path(), args, None);
        assert_no_panic(&output);
        assert_eq!(code(&output), 2, "{args:?}");
        let all = text(&output.stdout) + &text(&output.stderr);
        assert!(all.contains("compiled policy blob"), "{args:?}: {all}");
        assert!(all.contains("portcullis explain x.blob"), "{args:?}: {all}");
        assert!(all.contains("portcullis verify x.blob"), "{args:?}: {all}");
        assert!(!all.contains("not UTF-8"), "{args:?}: {all}");
    }
}

#[test]
fn includes_fall_back_to_env_then_installed_share_then_build_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // An installed layout: <prefix>/bin/portcullis and <prefix>/share/portcullis/policies.
    std::fs::create_dir_all(root.join("prefix/bin")).unwrap();
    let installed = root.join("prefix/bin/portcullis");
    portcullis_tests::stage::copy_executable(binary(), &installed);
    let fragment = |dir: &Path, statement: &str| {
        std::fs::create_dir_all(dir.join("fragments")).unwrap();
        std::fs::write(
            dir.join("fragments/only-here.policy"),
            format!("fragment {{\n    {statement}\n}}\n"),
        )
        .unwrap();
    };
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(
        root.join("app/a.policy"),
        "app org.example.A {\n    include \"fragments/only-here.policy\"\n}\n",
    )
    .unwrap();
    let export = |env: Option<&Path>| {
        let mut command = Command::new(&installed);
        command
            .args(["export", "app/a.policy", "--to", "finish-args"])
            .current_dir(root)
            .env("NO_COLOR", "1")
            .env_remove("PORTCULLIS_POLICIES");
        if let Some(env) = env {
            command.env("PORTCULLIS_POLICIES", env);
        }
        command.output().expect("portcullis runs")
    };
    // Nowhere to be found: not in the build tree either.
    let output = export(None);
    assert_eq!(code(&output), 2, "{}", text(&output.stdout));
    // The installed share directory.
    fragment(
        &root.join("prefix/share/portcullis/policies"),
        "share network",
    );
    let output = export(None);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("--share=network"));
    // `$PORTCULLIS_POLICIES` comes before the installed directory.
    fragment(&root.join("env"), "socket wayland");
    let output = export(Some(&root.join("env")));
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("--socket=wayland"));
    assert!(!text(&output.stdout).contains("--share=network"));
    // The including file's directory comes first.
    fragment(&root.join("app"), "socket pulseaudio");
    let output = export(Some(&root.join("env")));
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("--socket=pulseaudio"));
    assert!(!text(&output.stdout).contains("--socket=wayland"));
}
