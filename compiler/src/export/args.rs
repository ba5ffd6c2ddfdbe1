//! IR to a finish-args list, in the order of Flatpak's `flatpak_context_to_args` (§3.4):
//! bitsets, env, persist, session names, system names, filesystems (`host:reset` first),
//! then generic policies and USB queries. Option names are the real ones; a `see` rule,
//! which has no command-line option, is left out with a diagnostic.

use portcullis_ir::dbus::BusPolicy;
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::Policy;

use super::bitsets;
use crate::check::fs::unparse;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// The finish-args for a policy, and what could not be expressed.
pub fn finish_args(policy: &Policy) -> (Vec<String>, Vec<Diagnostic>) {
    let context = &policy.context;
    let mut args = Vec::new();
    let mut diags = Vec::new();
    for (on, off, words) in bitsets(context) {
        let words = if on == "socket" {
            // `--socket=fallback-x11` already grants x11: when both are granted, say it once
            // (the manifest did not need `--socket=x11`).
            let granted = |w: &str| words.iter().any(|(word, en)| *word == w && *en);
            let both = granted("x11") && granted("fallback-x11");
            super::cli_order(words, both)
        } else {
            words
        };
        for (word, enabled) in words {
            args.push(format!("--{}={word}", if enabled { on } else { off }));
        }
    }
    for (name, entry) in &context.env {
        match &entry.value {
            Some(value) => args.push(format!("--env={name}={value}")),
            None => args.push(format!("--unset-env={name}")),
        }
    }
    for path in context.persistent.keys() {
        args.push(format!("--persist={path}"));
    }
    for (prefix, map) in [("", &context.session_bus), ("system-", &context.system_bus)] {
        for (name, entry) in map {
            let option = match entry.policy {
                BusPolicy::None => "no-talk-name",
                BusPolicy::Talk => "talk-name",
                BusPolicy::Own => "own-name",
                BusPolicy::See => {
                    diags.push(
                        Diagnostic::warning(
                            Code::NoCliForm,
                            format!("`see` for `{name}` has no finish-args form and is left out"),
                        )
                        .with_help("export to the metadata keyfile to keep it"),
                    );
                    continue;
                }
            };
            args.push(format!("--{prefix}{option}={name}"));
        }
    }
    for (name, entry) in &context.a11y_bus {
        if entry.policy == BusPolicy::Own {
            args.push(format!("--a11y-own-name={name}"));
        } else {
            diags.push(
                Diagnostic::warning(
                    Code::NoCliForm,
                    format!("the accessibility-bus rule for `{name}` has no finish-args form and is left out"),
                )
                .with_help("only `own` exists on the accessibility bus"),
            );
        }
    }
    for (key, entry) in &context.filesystems {
        let text = unparse(key, entry.mode);
        if *key == FsKey::HostReset {
            args.push("--nofilesystem=host:reset".to_string());
        } else if entry.mode == FsMode::None {
            args.push(format!("--nofilesystem={}", text.trim_start_matches('!')));
        } else {
            args.push(format!("--filesystem={text}"));
        }
    }
    for (key, values) in &context.generic_policy {
        for value in values {
            let option = if value.removed {
                "remove-policy"
            } else {
                "add-policy"
            };
            args.push(format!("--{option}={key}={}", value.value));
        }
    }
    for query in &context.usb_enumerable {
        args.push(format!("--usb={query}"));
    }
    for query in &context.usb_hidden {
        args.push(format!("--nousb={query}"));
    }
    diags.extend(super::beyond_dropped(policy, "finish-args"));
    (args, diags)
}
