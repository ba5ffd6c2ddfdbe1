//! IR to a Flatpak metadata keyfile in the non-flattened save form (§3.3): bitsets in enum
//! order with `!` for revoked bits, `!host:reset` first among filesystems, `none` bus
//! entries kept, unset variables written both as `NAME=` in `[Environment]` and in
//! `unset-environment` (as Flatpak does for older readers), GKeyFile escapes applied.

use std::fmt::Write;

use portcullis_ir::identity::Kind;
use portcullis_ir::Policy;

use super::bitsets;
use crate::check::fs::unparse;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use portcullis_ir::keyfile::escape_value;

/// Escapes one list element (also `;`).
fn escape_element(value: &str) -> String {
    escape_value(value).replace(';', "\\;")
}

fn list<I: IntoIterator<Item = String>>(items: I) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str(&escape_element(&item));
        out.push(';');
    }
    out
}

/// The keyfile text for a policy, and what could not be expressed.
pub fn metadata(policy: &Policy) -> (String, Vec<Diagnostic>) {
    let mut out = String::new();
    let mut diags = Vec::new();
    let identity = &policy.identity;
    let group = match identity.kind {
        Kind::Runtime => "Runtime",
        _ => "Application",
    };
    let _ = writeln!(out, "[{group}]");
    if let Some(id) = &identity.id {
        let _ = writeln!(out, "name={}", escape_value(id));
    }
    if let Some(runtime) = &identity.runtime {
        let reference = match &identity.runtime_version {
            Some(version) => format!("{runtime}//{version}"),
            None => runtime.clone(),
        };
        let _ = writeln!(out, "runtime={}", escape_value(&reference));
    }
    if let Some(sdk) = &identity.sdk {
        let _ = writeln!(out, "sdk={}", escape_value(sdk));
    }
    if let Some(command) = &identity.command {
        let _ = writeln!(out, "command={}", escape_value(command));
    }

    let context = &policy.context;
    let mut ctx = String::new();
    let keys = ["shared", "sockets", "devices", "features"];
    for (key, (_, _, words)) in keys.iter().zip(bitsets(context)) {
        if !words.is_empty() {
            let items = words
                .into_iter()
                .map(|(w, on)| if on { w.to_string() } else { format!("!{w}") });
            let _ = writeln!(ctx, "{key}={}", list(items));
        }
    }
    if !context.filesystems.is_empty() {
        let items = context.filesystems.iter().map(|(k, e)| unparse(k, e.mode));
        let _ = writeln!(ctx, "filesystems={}", list(items));
    }
    if !context.persistent.is_empty() {
        let _ = writeln!(
            ctx,
            "persistent={}",
            list(context.persistent.keys().cloned())
        );
    }
    let unset: Vec<String> = context
        .env
        .iter()
        .filter(|(_, e)| e.value.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    if !unset.is_empty() {
        let _ = writeln!(ctx, "unset-environment={}", list(unset));
    }
    if !ctx.is_empty() {
        let _ = write!(out, "\n[Context]\n{ctx}");
    }
    for (title, map) in [
        ("Session Bus Policy", &context.session_bus),
        ("System Bus Policy", &context.system_bus),
    ] {
        if !map.is_empty() {
            let _ = writeln!(out, "\n[{title}]");
            for (name, entry) in map {
                let _ = writeln!(out, "{name}={}", entry.policy.name());
            }
        }
    }
    if !context.a11y_bus.is_empty() {
        diags.push(
            Diagnostic::warning(
                Code::NoCliForm,
                "accessibility-bus rules are left out: Flatpak does not read them back from a keyfile",
            )
            .with_help("pass them as `--a11y-own-name` at run time"),
        );
    }
    if !context.env.is_empty() {
        let _ = writeln!(out, "\n[Environment]");
        for (name, entry) in &context.env {
            let value = entry.value.as_deref().unwrap_or("");
            let _ = writeln!(out, "{name}={}", escape_value(value));
        }
    }
    let mut policy_groups: std::collections::BTreeMap<&str, Vec<(&str, String)>> =
        Default::default();
    for (key, values) in &context.generic_policy {
        let (subsystem, name) = key.split_once('.').unwrap_or((key.as_str(), ""));
        let items = values.iter().map(|v| {
            if v.removed {
                format!("!{}", v.value)
            } else {
                v.value.clone()
            }
        });
        policy_groups
            .entry(subsystem)
            .or_default()
            .push((name, list(items)));
    }
    for (subsystem, entries) in policy_groups {
        let _ = writeln!(out, "\n[Policy {subsystem}]");
        for (name, value) in entries {
            let _ = writeln!(out, "{name}={value}");
        }
    }
    if !context.usb_enumerable.is_empty() || !context.usb_hidden.is_empty() {
        let _ = writeln!(out, "\n[USB Devices]");
        if !context.usb_enumerable.is_empty() {
            let _ = writeln!(
                out,
                "enumerable-devices={}",
                list(context.usb_enumerable.iter().cloned())
            );
        }
        if !context.usb_hidden.is_empty() {
            let _ = writeln!(
                out,
                "hidden-devices={}",
                list(context.usb_hidden.iter().cloned())
            );
        }
    }
    for extension in &identity.extensions {
        let _ = writeln!(out, "\n[Extension {}]", extension.name);
        if let Some(directory) = &extension.directory {
            let _ = writeln!(out, "directory={}", escape_value(directory));
        }
        for (key, value) in &extension.properties {
            let _ = writeln!(out, "{key}={}", escape_value(value));
        }
    }
    diags.extend(super::beyond_dropped(policy, "metadata"));
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_gkeyfile() {
        assert_eq!(escape_value(" a\\b\n"), "\\sa\\\\b\\n");
        assert_eq!(escape_element("a;b"), "a\\;b");
        assert_eq!(list(["/srv/a\\:b".to_string()]), "/srv/a\\\\:b;");
    }
}
