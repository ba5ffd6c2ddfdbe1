//! `portcullis check` refuses what the executor would refuse later, each with its stable
//! code, a label on the value and help, exit 2 like any invalid input: a NUL byte (in an
//! env value, from the policy language and from a manifest), limits outside their
//! documented ranges, paths that can never exist, and device-node grants that are
//! certainly not single devices. Values at the edges of the ranges pass.

use std::process::{Command, Output};

use portcullis_blob::limits::RANGES;
use portcullis_ir::beyond::LIMIT_RANGES;

use crate::executor::workspace_bin;

fn check(dir: &std::path::Path, name: &str, text: &str) -> Output {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write input");
    Command::new(workspace_bin("portcullis"))
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .expect("spawn portcullis")
}

fn policy(body: &str) -> String {
    format!("app org.test.Check {{\n    {body}\n}}\n")
}

/// The findings of a JSON report: `(code, message, label, help)`.
fn findings(out: &Output) -> Vec<(String, String, String, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let mut found = Vec::new();
    let list = report["inputs"]
        .as_array()
        .map(|inputs| {
            inputs
                .iter()
                .flat_map(|i| i["findings"].as_array().cloned().unwrap_or_default())
                .collect::<Vec<_>>()
        })
        .or_else(|| report["findings"].as_array().cloned())
        .unwrap_or_default();
    for f in list {
        let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
        found.push((
            s(&f["code"]),
            s(&f["message"]),
            s(&f["labels"][0]["text"]),
            s(&f["help"]),
        ));
    }
    found
}

#[test]
fn check_refuses_what_the_executor_would_refuse_with_stable_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long_name = "n".repeat(256);
    let long_path = ["d"; 2049].join("/");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            policy(r#"env "FOO=a\u{0}b""#),
            "portcullis::check::nul-byte",
            "NUL byte here",
        ),
        (
            policy("limits { memory 18446744073709551615 }"),
            "portcullis::check::limit-out-of-range",
            "out of range",
        ),
        (
            policy("limits { memory 512K }"),
            "portcullis::check::limit-out-of-range",
            "out of range",
        ),
        (
            policy("limits { processes 5000000 }"),
            "portcullis::check::limit-out-of-range",
            "out of range",
        ),
        (
            policy("limits { open-files 2000000 }"),
            "portcullis::check::limit-out-of-range",
            "out of range",
        ),
        (
            policy("limits { cpu-time 8761h }"),
            "portcullis::check::limit-out-of-range",
            "out of range",
        ),
        (
            policy("limits { cpu-share 102401% }"),
            "portcullis::check::limit-out-of-range",
            "out of range",
        ),
        (
            policy(&format!("filesystem /missing/{long_name}")),
            "portcullis::check::path-too-long",
            "can never exist",
        ),
        (
            policy(&format!("filesystem ~/{long_path}:ro")),
            "portcullis::check::path-too-long",
            "can never exist",
        ),
        (
            policy(&format!("persist {long_name}")),
            "portcullis::check::path-too-long",
            "can never exist",
        ),
        (
            policy(&format!("filesystem home except ~/{long_name}")),
            "portcullis::check::path-too-long",
            "can never exist",
        ),
        (
            policy("device-node /dev/shm"),
            "portcullis::check::not-a-device-node",
            "not a single character or block device",
        ),
        (
            policy("device-node /dev/pts"),
            "portcullis::check::not-a-device-node",
            "not a single character or block device",
        ),
        (
            policy("device-node /dev/input:ro"),
            "portcullis::check::not-a-device-node",
            "not a single character or block device",
        ),
    ];
    for (i, (full, code, label)) in cases.iter().enumerate() {
        let text: String = full.chars().take(80).collect();
        let out = check(dir.path(), &format!("case{i}.policy"), full);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let found = findings(&out);
        let hit = found.iter().find(|f| f.0 == *code);
        let Some((_, message, shown_label, help)) = hit else {
            panic!("{text}: no {code} in {found:?}");
        };
        assert_eq!(shown_label, label, "{text}");
        assert!(!message.is_empty() && !help.is_empty(), "{text}: {found:?}");
    }

    // A manifest's NUL byte in an env value is refused the same way.
    let manifest = r#"{"app-id": "org.test.Check", "finish-args": ["--env=A=x\u0000y"]}"#;
    let out = check(dir.path(), "org.test.Check.json", manifest);
    assert_eq!(out.status.code(), Some(2));
    assert!(findings(&out)
        .iter()
        .any(|f| f.0 == "portcullis::check::nul-byte"));

    // The edges of every range, a real device node and a long but possible path pass.
    let edges = policy(&format!(
        "limits {{ memory 128T; processes 4194304; open-files 1048576; cpu-time 8760h; cpu-share 102400% }}\n    \
         device-node /dev/ttyUSB0\n    filesystem /missing/{}:ro",
        "n".repeat(255)
    ));
    let out = check(dir.path(), "edges.policy", &edges);
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&out));
    let low = policy("limits { memory 1M }");
    let out = check(dir.path(), "edges-low.policy", &low);
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&out));
}

#[test]
fn the_checker_and_the_decoder_accept_the_same_limit_ranges() {
    assert_eq!(LIMIT_RANGES, RANGES);
}
