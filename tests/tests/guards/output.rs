//! `-o FILE` outputs under attack (found by the adversarial review): someone who can write
//! the output's directory plants a symbolic link, or a file of their own, where the output
//! or its temporary file will be. The output must replace the name — never write through a
//! link, never keep a planted file's permissions — and no victim file may change.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

use crate::defense::policies_dir;
use crate::executor::workspace_bin;

fn compile(output: &std::path::Path) -> std::process::Output {
    Command::new(workspace_bin("portcullis"))
        .arg("compile")
        .arg(policies_dir().join("flatpak-default.policy"))
        .arg("-o")
        .arg(output)
        .output()
        .expect("portcullis runs")
}

#[test]
fn an_output_replaces_a_planted_link_or_file_and_never_writes_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    // A link at the output's name: replaced by the blob, the victim untouched.
    let output = dir.path().join("app.blob");
    std::os::unix::fs::symlink(&victim, &output).unwrap();
    // Links at the temporary names the old code used (`.NAME.PID.tmp`), for every pid
    // the run could get, are beside the point now: the name has a random part.
    let out = compile(&output);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(&output).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was replaced by a file"
    );
    assert!(std::fs::read(&output).unwrap().starts_with(b"PCULBLOB"));
    // A world-writable file at the output's name that is not ours (when running as
    // root, as in CI): its mode is not kept.
    let planted = dir.path().join("planted.blob");
    std::fs::write(&planted, "x").unwrap();
    std::fs::set_permissions(&planted, PermissionsExt::from_mode(0o666)).unwrap();
    let mine = std::fs::metadata(&planted).unwrap().uid();
    if mine == 0 {
        std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    }
    let out = compile(&planted);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let meta = std::fs::metadata(&planted).unwrap();
    assert_eq!(meta.uid(), mine, "the output is the writer's own file");
    if mine == 0 {
        assert_eq!(
            meta.mode() & 0o022,
            0,
            "a planted file's world-writable mode is not kept: {:o}",
            meta.mode()
        );
    }
    // Nothing else is left in the directory (no temporary files).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["app.blob", "planted.blob", "victim.txt"]);
}

/// A value carrying terminal escape sequences (which could retitle, clear or rewrite the
/// screen of a reviewer running `explain`) is shown escaped, for a policy and for a blob.
#[test]
fn explain_never_prints_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("esc.policy");
    std::fs::write(
        &policy,
        // The policy language's own escapes: the value holds the raw characters.
        "app org.test.Esc {\n    env \"EVIL=\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{1b}[31mred\"\n}\n",
    )
    .unwrap();
    let blob = dir.path().join("esc.blob");
    let out = compile_input(&policy, &blob);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for input in [&policy, &blob] {
        let out = Command::new(workspace_bin("portcullis"))
            .arg("explain")
            .arg(input)
            .output()
            .expect("portcullis runs");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{}: {text:?}",
            input.display()
        );
        assert!(text.contains("\\u{1b}[2J"), "{}: {text}", input.display());
    }
}

fn compile_input(input: &std::path::Path, output: &std::path::Path) -> std::process::Output {
    Command::new(workspace_bin("portcullis"))
        .arg("compile")
        .arg(input)
        .arg("-o")
        .arg(output)
        .output()
        .expect("portcullis runs")
}
