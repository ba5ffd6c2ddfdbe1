//! The Landlock section and its ABI report as text, for `emit --backend landlock --text`
//! and for snapshots.

use std::fmt::Write;

use portcullis_blob::landlock::{fs_access, FsTarget, LandlockSection, Ports, Requirement};
use portcullis_blob::mounts::Condition;

use super::report::abi_report;

fn level(level: Requirement) -> &'static str {
    match level {
        Requirement::BestEffort => "best effort",
        Requirement::Required => "required",
    }
}

fn ports(list: &[Ports]) -> String {
    if list.is_empty() {
        return "none".to_string();
    }
    let parts: Vec<String> = list
        .iter()
        .map(|p| {
            if p.first == p.last {
                p.first.to_string()
            } else {
                format!("{}-{}", p.first, p.last)
            }
        })
        .collect();
    parts.join(", ")
}

fn condition(cond: &Condition) -> String {
    match cond {
        Condition::Exists(p) => format!("exists {}", p.as_str()),
        Condition::IsDir(p) => format!("is-dir {}", p.as_str()),
        Condition::IsSocket(p) => format!("is-socket {}", p.as_str()),
        Condition::IsSymlink(p) => format!("is-symlink {}", p.as_str()),
        Condition::Not(inner) => format!("not {}", condition(inner)),
        Condition::All(list) => {
            let parts: Vec<String> = list.iter().map(condition).collect();
            format!("all({})", parts.join(", "))
        }
    }
}

/// The section, then the ABI report.
pub fn render(app_id: &str, section: &LandlockSection) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(out, "# landlock rules for {app_id}");
    match &section.fs {
        None => {
            let _ = writeln!(out, "filesystem: off");
        }
        Some(fs) => {
            let _ = writeln!(
                out,
                "filesystem ({}): every right the kernel knows is handled; only these rules grant",
                level(fs.level)
            );
            let masks = fs.masks();
            if !masks.is_empty() {
                let masks: Vec<&str> = masks.iter().map(|m| m.as_str()).collect();
                let _ = writeln!(
                    out,
                    "deny masks (required, landlock abi 1): {}; held against every rule whose \
                     path contains one at launch",
                    masks.join(" ")
                );
            }
            for rule in &fs.rules {
                let target = match &rule.target {
                    FsTarget::Path { path } => path.as_str().to_string(),
                    FsTarget::Entries { dir, except } if except.is_empty() => {
                        format!("{}/*", dir.as_str())
                    }
                    FsTarget::Entries { dir, except } => {
                        format!("{}/* except {}", dir.as_str(), except.join(" "))
                    }
                };
                let _ = write!(
                    out,
                    "  {target}: {}",
                    fs_access::names(rule.access).join(" ")
                );
                if let Some(cond) = &rule.condition {
                    let _ = write!(out, " [when {}]", condition(cond));
                }
                if !rule.masked.is_empty() {
                    let masked: Vec<&str> = rule.masked.iter().map(|m| m.as_str()).collect();
                    let _ = write!(out, " [masked by the plan: {}]", masked.join(" "));
                }
                out.push('\n');
                if rule.holds_masks() {
                    let _ = writeln!(
                        out,
                        "    masks held (required): the tree around the masked paths is granted, \
                         not the tree; directories on the way to them get {}, their other \
                         entries (listed at launch) the rights above, the masked paths nothing",
                        names_or_none(rule.ancestor_access())
                    );
                }
            }
        }
    }
    match &section.net {
        None => {
            let _ = writeln!(out, "tcp: not restricted by landlock");
        }
        Some(net) => {
            let _ = writeln!(
                out,
                "tcp ({}): connect {}; bind {}",
                level(net.level),
                ports(&net.connect),
                ports(&net.bind)
            );
        }
    }
    for (name, scope) in [
        ("abstract unix sockets", &section.scope_abstract_unix),
        ("signals", &section.scope_signal),
    ] {
        match scope {
            None => {
                let _ = writeln!(out, "scope {name}: off");
            }
            Some(s) => {
                let _ = writeln!(
                    out,
                    "scope {name} ({}): confined to the sandbox",
                    level(s.level)
                );
            }
        }
    }
    let _ = writeln!(out, "\n# what each landlock abi enforces");
    for line in abi_report(section) {
        let o = &line.outcome;
        let words = |list: &[portcullis_blob::landlock::Feature]| -> String {
            if list.is_empty() {
                "-".to_string()
            } else {
                list.iter().map(|f| f.word()).collect::<Vec<_>>().join(", ")
            }
        };
        let verdict = if o.launches() { "launches" } else { "aborts" };
        let _ = writeln!(out, "abi {}: {verdict}", o.abi);
        let _ = writeln!(out, "  enforced: {}", words(&o.enforced));
        if !o.skipped.is_empty() {
            let _ = writeln!(out, "  skipped (best effort): {}", words(&o.skipped));
        }
        if !o.missing_required.is_empty() {
            let _ = writeln!(out, "  missing (required): {}", words(&o.missing_required));
        }
        if !line.unhandled_rights.is_empty() {
            let _ = writeln!(
                out,
                "  rights not mediated: {}",
                line.unhandled_rights.join(" ")
            );
        }
        for note in &line.notes {
            let _ = writeln!(out, "  note: {note}");
        }
    }
    out
}

/// The names of `bits`, or `no right`.
fn names_or_none(bits: u64) -> String {
    if bits == 0 {
        "no right".to_string()
    } else {
        fs_access::names(bits).join(" ")
    }
}
