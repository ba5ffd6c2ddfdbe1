//! What a package installs beside the binaries: `portcullis completions bash|zsh|fish` and
//! `portcullis man -o DIR` (one page per subcommand, and the executor's page, which must
//! list every option `portcullis-exec --help` prints). The package itself is built,
//! installed, used and removed by `scripts/test-deb.sh`, which `scripts/test.sh` runs.

use std::process::{Command, Output};

use crate::executor::workspace_bin;

fn portcullis(args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .output()
        .expect("portcullis runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn completions_for_bash_zsh_and_fish_know_every_subcommand() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef portcullis"),
        ("fish", "complete -c portcullis"),
    ] {
        let out = portcullis(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {out:?}");
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        for sub in ["check", "emit", "run", "completions", "man"] {
            assert!(text.contains(sub), "{shell} lacks {sub}");
        }
        if shell == "bash" {
            let check = Command::new("bash")
                .args(["-n", "-c", &text])
                .output()
                .expect("bash runs");
            assert!(check.status.success(), "bash -n: {check:?}");
        }
    }
    assert_eq!(portcullis(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_writes_a_page_per_subcommand_and_the_executors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = portcullis(&["man", "-o", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    // Every subcommand `portcullis --help` lists has its page.
    let help = stdout(&portcullis(&["--help"]));
    let subs: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .expect("a command list")
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .collect();
    assert!(subs.len() > 10, "{subs:?}");
    for sub in &subs {
        assert!(
            page(&format!("portcullis-{sub}.1")).starts_with(".ie"),
            "{sub}"
        );
    }
    assert!(page("portcullis.1").contains(".TH portcullis 1"));
    // The executor's page, written by hand in clap terms: every option of its real help.
    let exec_help = Command::new(workspace_bin("portcullis-exec"))
        .arg("--help")
        .output()
        .expect("portcullis-exec runs");
    let exec_page = page("portcullis-exec.1");
    let options: Vec<String> = stdout(&exec_help)
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("--"))
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| format!("\\-\\-{w}"))
        .collect();
    assert!(options.len() >= 5, "{options:?}");
    for option in options {
        assert!(
            exec_page.contains(&option),
            "portcullis-exec.1 lacks {option}"
        );
    }
    // Without -o: portcullis(1) on stdout, nothing written.
    let out = portcullis(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains(".TH portcullis 1"));
}
