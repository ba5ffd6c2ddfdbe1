//! The CLI on hostile and careless input, through the real binaries (issue 16): findings
//! past column 65,535 of one line in every input form the importers accept, through
//! every subcommand that reads one (an exit status and a message, never a panic or an
//! abort); output that stays linear in the findings on a one-line file; a run that stops
//! says why in SARIF, JSON and on stderr; and the launch papercuts of `run`.
//!
//! Build the binaries first (`cargo build --workspace --bins`, as `scripts/test.sh` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::executor::workspace_bin;

fn portcullis(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(workspace_bin("portcullis"))
        .args(args)
        .current_dir(dir)
        // A launch creates the app's `~/.var/app/ID`: a home of the test's own.
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("portcullis starts");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or_default())
            .expect("stdin accepted");
    }
    child.wait_with_output().expect("portcullis finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// The exit status; a signal (abort, 134) or a panic (101) fails the test.
fn status(output: &Output, what: &str) -> i32 {
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("{what} was killed by a signal: {stderr}"));
    assert_ne!(code, 101, "{what}: {stderr}");
    code
}

/// Filesystem values enough to push the last entry of a one-line list past column 65,535.
fn many_paths() -> Vec<String> {
    (0..8_000).map(|i| format!("/opt/x{i}")).collect()
}

/// One-line inputs, each with a refused value at its end: a minified manifest, a YAML
/// flow mapping, a finish-args list, a policy on one line, a long `x-` string.
fn one_line_invalid_inputs(dir: &Path) -> Vec<PathBuf> {
    let paths = many_paths();
    let args: Vec<String> = paths.iter().map(|p| format!("--filesystem={p}")).collect();
    let quoted: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    let inputs = [
        (
            "minified.json",
            format!(
                "{{\"app-id\":\"org.example.App\",\"runtime\":\"org.freedesktop.Platform\",\
                 \"sdk\":\"org.freedesktop.Sdk\",\"command\":\"app\",\"finish-args\":[{},\
                 \"--socket=bogus\"],\"modules\":[]}}",
                quoted.join(",")
            ),
        ),
        (
            "flow.yml",
            format!(
                "{{app-id: org.example.App, runtime: org.freedesktop.Platform, \
                 sdk: org.freedesktop.Sdk, command: app, finish-args: [{}, --socket=bogus], \
                 modules: []}}\n",
                args.join(", ")
            ),
        ),
        (
            "finish-args.json",
            format!("[{}, \"--socket=bogus\"]", quoted.join(", ")),
        ),
        (
            "one-line.policy",
            format!(
                "app org.example.App {{ filesystem {} socket bogus }}\n",
                paths.join(", ")
            ),
        ),
        (
            "x-string.json",
            format!(
                "{{\"app-id\": \"org.example.App\", \"x-notes\": \"{}\", \
                 \"finish-args\": [\"--socket=bogus\"], \"modules\": []}}",
                "a".repeat(70_000)
            ),
        ),
    ];
    inputs
        .into_iter()
        .map(|(name, content)| {
            let path = dir.join(name);
            std::fs::write(&path, content).expect("write input");
            path
        })
        .collect()
}

/// The column of the `[file:line:column]` header of the first drawn finding.
fn header_column(out: &str) -> Option<usize> {
    let start = out.find("╭─[")?;
    let header = &out[start..];
    let end = header.find(']')?;
    header[..end].rsplit(':').next()?.parse().ok()
}

#[test]
fn findings_past_column_65535_are_drawn_by_every_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = dir.path().join("out.blob");
    let blob = blob.to_str().expect("utf-8 path");
    let subcommands: [&[&str]; 7] = [
        &["check"],
        &["audit"],
        &["explain"],
        &["import"],
        &["emit", "--backend", "seccomp"],
        &["compile", "-o", blob],
        &["run"],
    ];
    for input in one_line_invalid_inputs(dir.path()) {
        let name = input.file_name().and_then(|n| n.to_str()).expect("name");
        for args in subcommands {
            let mut argv = args.to_vec();
            argv.insert(1, name);
            if args[0] == "run" {
                argv.extend(["--", "/bin/true"]);
            }
            let what = format!("portcullis {}", argv.join(" "));
            let output = portcullis(dir.path(), &argv, None);
            assert_eq!(status(&output, &what), 2, "{what}");
            let report = text(if args[0] == "check" {
                &output.stdout
            } else {
                &output.stderr
            });
            assert!(report.contains("bogus"), "{what}: {report}");
            let column = header_column(&report).unwrap_or_else(|| panic!("{what}: {report}"));
            assert!(column > 65_535, "{what}: column {column}");
            assert!(report.len() < 4_000, "{what}: {} bytes", report.len());
        }
    }
}

#[test]
fn a_one_line_keyfile_list_is_drawn_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("metadata");
    std::fs::write(
        &path,
        format!(
            "[Application]\nname=org.example.App\nruntime=org.freedesktop.Platform/x86_64/23.08\n\
             \n[Context]\nfilesystems={};/;\n",
            many_paths().join(";")
        ),
    )
    .expect("write");
    for args in [&["check", "metadata"][..], &["explain", "metadata"]] {
        let output = portcullis(dir.path(), args, None);
        let what = args.join(" ");
        assert!(status(&output, &what) <= 2);
        let report = text(&output.stdout) + &text(&output.stderr);
        let column = header_column(&report).unwrap_or_else(|| panic!("{what}: {report}"));
        assert!(column > 65_535, "{what}: column {column}");
    }
}

#[test]
fn human_output_is_linear_in_the_findings_of_a_one_line_file() {
    // 2,000 warnings on one line of about 120 KB: drawing the whole line each time was
    // 240 MB of output.
    let dir = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = (0..2_000)
        .map(|i| format!("\"--persist=.p{i}\",\"--filesystem=home\""))
        .collect();
    std::fs::write(
        dir.path().join("persist.json"),
        format!(
            "{{\"app-id\":\"org.example.App\",\"finish-args\":[{}],\"modules\":[]}}",
            args.join(",")
        ),
    )
    .expect("write");
    let output = portcullis(dir.path(), &["check", "persist.json"], None);
    assert!(status(&output, "check") <= 1);
    let out = text(&output.stdout);
    let drawn = out.matches("╭─[persist.json:1:").count();
    assert!(drawn >= 2_000, "{drawn} findings drawn");
    assert!(
        out.len() < drawn * 1_200,
        "{} bytes for {drawn} findings",
        out.len()
    );
}

fn sarif_schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sarif-schema-2.1.0.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema fixture"))
        .expect("schema json")
}

fn assert_valid_sarif(log: &Value) {
    let schema = sarif_schema();
    let mut errors = Vec::new();
    crate::audit::schema::validate(&schema, &schema, log, "", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_run_stopped_by_an_input_that_is_not_utf8_says_why_in_sarif_json_and_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("latin1.json"),
        b"{\"app-id\": \"org.caf\xe9.App\", \"finish-args\": []}",
    )
    .expect("write");
    std::fs::write(dir.path().join("good.json"), "[\"--share=ipc\"]").expect("write");

    let output = portcullis(
        dir.path(),
        &["check", "--format", "sarif", "good.json", "latin1.json"],
        None,
    );
    assert_eq!(status(&output, "check --format sarif"), 2);
    assert!(
        text(&output.stderr).contains("not UTF-8"),
        "{}",
        text(&output.stderr)
    );
    let log: Value = serde_json::from_slice(&output.stdout).expect("sarif json");
    assert_valid_sarif(&log);
    let run = &log["runs"][0];
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(
        notes.iter().any(|n| n["level"] == "error"
            && n["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("latin1.json") && t.contains("not UTF-8"))),
        "{notes:#?}"
    );
    let results = run["results"].as_array().expect("results");
    assert!(
        results.iter().any(|r| r["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("not UTF-8"))),
        "{results:#?}"
    );

    let output = portcullis(
        dir.path(),
        &["check", "--format", "json", "latin1.json"],
        None,
    );
    assert_eq!(status(&output, "check --format json"), 2);
    assert!(text(&output.stderr).contains("not UTF-8"));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["summary"]["errors"], 1, "{report:#}");
}

#[test]
fn a_run_stopped_by_an_invalid_input_or_option_fails_its_sarif_invocation() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.json"), "[\"--socket=bogus\"]").expect("write");
    let output = portcullis(
        dir.path(),
        &["check", "--format", "sarif", "bad.json"],
        None,
    );
    assert_eq!(status(&output, "check"), 2);
    assert!(text(&output.stderr).contains("bogus"));
    let log: Value = serde_json::from_slice(&output.stdout).expect("sarif json");
    assert_valid_sarif(&log);
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );

    let output = portcullis(
        dir.path(),
        &[
            "check",
            "--format",
            "sarif",
            "--exceptions",
            "missing.json",
            "bad.json",
        ],
        None,
    );
    assert_eq!(status(&output, "check --exceptions"), 2);
    assert!(text(&output.stderr).contains("missing.json"));
    let log: Value = serde_json::from_slice(&output.stdout).expect("sarif json");
    assert_valid_sarif(&log);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("missing.json"))
    );

    // A run that went through says so.
    std::fs::write(dir.path().join("good.json"), "[\"--share=ipc\"]").expect("write");
    let output = portcullis(
        dir.path(),
        &["check", "--format", "sarif", "good.json"],
        None,
    );
    assert_eq!(status(&output, "check"), 0);
    let log: Value = serde_json::from_slice(&output.stdout).expect("sarif json");
    assert_valid_sarif(&log);
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

fn default_policy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies/flatpak-default.policy")
}

#[test]
fn run_refuses_app_and_runtime_trees_that_do_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = default_policy();
    let policy = policy.to_str().expect("utf-8 path");
    let file = dir.path().join("file");
    std::fs::write(&file, "").expect("write");
    let file = file.to_str().expect("utf-8 path");
    for (option, tree, problem) in [
        ("--app", "/nonexistent/app-tree", "does not exist"),
        ("--runtime", "/nonexistent/usr", "does not exist"),
        ("--app", file, "is not a directory"),
    ] {
        let output = portcullis(
            dir.path(),
            &["run", option, tree, policy, "--", "/bin/true"],
            None,
        );
        let what = format!("run {option} {tree}");
        assert_eq!(status(&output, &what), 2, "{what}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(option) && stderr.contains(tree) && stderr.contains(problem),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn run_without_the_separator_suggests_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = default_policy();
    let output = portcullis(
        dir.path(),
        &["run", policy.to_str().expect("utf-8"), "/bin/true"],
        None,
    );
    assert_eq!(status(&output, "run"), 2);
    assert!(
        text(&output.stderr).contains("put `--` between the input and the command"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn run_without_a_command_runs_the_policys_own_or_says_there_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The policy's command is looked up in the sandbox: a name that is nowhere shows it
    // was the one tried (the executor's 127 names it).
    std::fs::write(
        dir.path().join("named.policy"),
        "app org.example.Named {\n    command portcullis-no-such-command\n}\n",
    )
    .expect("write");
    let output = portcullis(dir.path(), &["run", "named.policy"], None);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("portcullis-no-such-command"),
        "the policy's command was not tried: {stderr}"
    );
    assert_ne!(status(&output, "run named.policy"), 2, "{stderr}");

    std::fs::write(
        dir.path().join("nameless.policy"),
        "app org.example.Nameless {\n    share ipc\n}\n",
    )
    .expect("write");
    let output = portcullis(dir.path(), &["run", "nameless.policy"], None);
    assert_eq!(status(&output, "run nameless.policy"), 2);
    assert!(text(&output.stderr).contains("no command to run"));
}

#[test]
fn an_empty_input_is_an_error_not_an_unnamed_app() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("empty.policy"), "").expect("write");
    std::fs::write(dir.path().join("blank.json"), " \n\t\n").expect("write");
    for (args, stdin) in [
        (&["check", "empty.policy"][..], None),
        (&["check", "blank.json"], None),
        (&["explain", "-"], Some(&b""[..])),
        (&["audit", "-"], Some(&b"\n"[..])),
        (&["compile", "empty.policy", "-o", "out.blob"], None),
    ] {
        let what = args.join(" ");
        let output = portcullis(dir.path(), args, stdin);
        assert_eq!(status(&output, &what), 2, "{what}");
        let all = text(&output.stdout) + &text(&output.stderr);
        assert!(all.contains("empty"), "{what}: {all}");
        assert!(!all.contains("org.portcullis.Unnamed"), "{what}: {all}");
    }
    assert!(!dir.path().join("out.blob").exists());
}

#[test]
fn compile_to_a_path_that_takes_no_file_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = default_policy();
    let policy = policy.to_str().expect("utf-8");
    let cases = [
        ("/proc/version", "does not take new files"),
        ("/dev/null", "is not a regular file"),
        (
            "no-such-dir/out.blob",
            "directory `no-such-dir` does not exist",
        ),
    ];
    for (target, why) in cases {
        let output = portcullis(dir.path(), &["compile", policy, "-o", target], None);
        assert_eq!(status(&output, target), 2, "{target}");
        let stderr = text(&output.stderr).replace('\n', " ").replace("  ", " ");
        assert!(stderr.contains(why), "{target}: {stderr}");
    }
}

#[test]
fn explain_takes_format_like_the_other_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = default_policy();
    let policy = policy.to_str().expect("utf-8");
    let output = portcullis(dir.path(), &["explain", "--format", "json", policy], None);
    assert_eq!(status(&output, "explain --format json"), 0);
    let explained: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(explained["entries"].is_array());
    let output = portcullis(dir.path(), &["explain", "--format", "human", policy], None);
    assert_eq!(status(&output, "explain --format human"), 0);
    assert!(text(&output.stdout).contains("identity"));
    assert!(serde_json::from_slice::<Value>(&output.stdout).is_err());
    // The old spelling still works.
    let output = portcullis(dir.path(), &["explain", "--json", policy], None);
    assert!(serde_json::from_slice::<Value>(&output.stdout).is_ok());
}

#[test]
fn a_huge_value_is_not_echoed_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = "a".repeat(100_000);
    std::fs::write(
        dir.path().join("long-id.json"),
        format!("{{\"app-id\": \"{id}\", \"finish-args\": [\"--socket=bogus\"]}}"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("long-id.policy"),
        format!("app {id} {{\n    share network\n}}\n"),
    )
    .expect("write");
    for input in ["long-id.json", "long-id.policy"] {
        for args in [
            &["check", input][..],
            &["check", "--format", "json", input],
            &["check", "--format", "sarif", input],
            &["audit", input],
            &["explain", input],
            &["import", input],
        ] {
            let what = args.join(" ");
            let output = portcullis(dir.path(), args, None);
            status(&output, &what);
            let size = output.stderr.len()
                + if args[0] == "check" {
                    output.stdout.len()
                } else {
                    0
                };
            assert!(size < 20_000, "{what}: {size} bytes of messages");
        }
    }
}

#[test]
fn diff_and_verify_say_why_they_stopped_in_sarif_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("latin1.json"), b"[\"--env=A=caf\xe9\"]").expect("write");
    std::fs::write(dir.path().join("good.json"), "[\"--share=ipc\"]").expect("write");
    std::fs::write(dir.path().join("garbage.blob"), "not a blob").expect("write");

    let output = portcullis(
        dir.path(),
        &["diff", "--format", "sarif", "good.json", "latin1.json"],
        None,
    );
    assert_eq!(status(&output, "diff --format sarif"), 2);
    assert!(text(&output.stderr).contains("not UTF-8"));
    let log: Value = serde_json::from_slice(&output.stdout).expect("sarif json");
    assert_valid_sarif(&log);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("latin1.json"))
    );

    for format in ["json", "sarif"] {
        let output = portcullis(
            dir.path(),
            &["verify", "--format", format, "garbage.blob"],
            None,
        );
        let what = format!("verify --format {format}");
        assert_eq!(status(&output, &what), 2);
        assert!(text(&output.stderr).contains("not a valid blob"), "{what}");
        let report: Value = serde_json::from_slice(&output.stdout).expect("json");
        let said = report.to_string();
        assert!(said.contains("not a valid blob"), "{what}: {said}");
        if format == "sarif" {
            assert_valid_sarif(&report);
        }
    }
}

#[test]
fn the_missing_session_bus_note_needs_a_request_or_verbose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = default_policy();
    let policy = policy.to_str().expect("utf-8");
    let launch = |args: &[&str]| {
        let mut command = Command::new(workspace_bin("portcullis"));
        command
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("PORTCULLIS_EXEC_REPORT")
            .stdin(Stdio::null());
        command.output().expect("portcullis runs")
    };
    let quiet = launch(&["run", policy, "--", "/bin/true"]);
    if quiet.status.code() == Some(125) {
        portcullis_tests::skip!("the sandbox cannot be set up here: {}", text(&quiet.stderr));
        return;
    }
    assert!(
        !text(&quiet.stderr).contains("no session bus"),
        "the default route is no request: {}",
        text(&quiet.stderr)
    );
    let verbose = launch(&["run", "-v", policy, "--", "/bin/true"]);
    assert!(
        text(&verbose.stderr).contains("no session bus"),
        "{}",
        text(&verbose.stderr)
    );
}
