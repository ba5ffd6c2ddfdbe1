//! The mount-plan model: a plan, expanded for one launch, applied to an abstract tree
//! ([`model`]), then checked against the policy's meaning re-derived from the IR
//! ([`expect`]) — never against backend code:
//!
//! * no host path outside what the policy allows is reachable (`mounts::exposed`), nor
//!   writable where the policy says read-only (`mounts::writable`), nor with device nodes
//!   usable where no device was granted (`mounts::devices`);
//! * every filesystem grant whose host path exists is visible at its own path with its mode
//!   (`mounts::grant-missing`, `mounts::grant-read-only`);
//! * every deny mask hides what it names (`mounts::mask-missing`);
//! * sensitive host files stay out of sight (`/etc/shadow` is never the host's).

pub mod expect;
pub mod model;
pub mod worlds;

use portcullis_blob::expand::{expand_plan, ExpandError, HostFs, Values};
use portcullis_blob::mounts::MountOp;
use portcullis_ir::Policy;

pub use model::{Model, Source, View};
pub use worlds::verify_static;

/// One problem found in a plan.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable code (`mounts::exposed`, …).
    pub code: &'static str,
    /// What is wrong, lower-case, paths in backticks.
    pub message: String,
}

fn finding(code: &'static str, message: String) -> Finding {
    Finding { code, message }
}

/// Checks an expanded plan against the policy for this launch.
pub fn check_expanded(
    ops: &[MountOp],
    policy: &Policy,
    values: &Values,
    fs: &dyn HostFs,
) -> Vec<Finding> {
    let model = Model::apply(ops);
    let allowed = expect::allowances(policy, values);
    let mut out = Vec::new();
    for (source, dest, writable, devices) in model.host_binds() {
        let ok = |w: bool, d: bool| allowed.iter().any(|a| expect::covers(a, &source, w, d));
        if !ok(false, false) {
            out.push(finding(
                "mounts::exposed",
                format!("host path `{source}` is visible at `{dest}` but no grant allows it"),
            ));
        } else if writable && !ok(true, false) && !(devices && ok(true, true)) {
            out.push(finding(
                "mounts::writable",
                format!("host path `{source}` is writable at `{dest}` but the policy allows reading only"),
            ));
        } else if devices && !ok(writable, true) {
            out.push(finding(
                "mounts::devices",
                format!("device nodes under `{source}` are usable at `{dest}` but no device grant allows it"),
            ));
        }
    }
    for grant in expect::grants(policy, values) {
        if fs.kind(&grant.path).is_none() {
            continue;
        }
        let view = model.view(&grant.path);
        if view.source != Source::Host(grant.path.clone())
            && !masked_by_policy(policy, values, &grant.path)
        {
            out.push(finding(
                "mounts::grant-missing",
                format!(
                    "`{}` grants `{}` but the sandbox shows {:?} there",
                    grant.key, grant.path, view.source
                ),
            ));
        } else if grant.writable && !view.writable && view.source != Source::Masked {
            out.push(finding(
                "mounts::grant-read-only",
                format!(
                    "`{}` grants writing `{}` but it is read-only in the sandbox",
                    grant.key, grant.path
                ),
            ));
        }
    }
    for mask in &policy.beyond.deny {
        let path = match mask.path.strip_prefix("~/") {
            Some(rest) => values.get("HOME").map(|h| format!("{h}/{rest}")),
            None => Some(mask.path.clone()),
        };
        let Some(path) = path.map(|p| model::normal(&p)) else {
            continue;
        };
        if fs.kind(&path).is_some() && model.view(&path).source != Source::Masked {
            out.push(finding(
                "mounts::mask-missing",
                format!("deny mask `{}` does not hide `{path}`", mask.path),
            ));
        }
    }
    if let Source::Host(h) = model.view("/etc/shadow").source {
        if h == "/etc/shadow" {
            out.push(finding(
                "mounts::exposed",
                "the host's `/etc/shadow` is visible".into(),
            ));
        }
    }
    out
}

fn masked_by_policy(policy: &Policy, values: &Values, path: &str) -> bool {
    policy.beyond.deny.iter().any(|m| {
        let p = match m.path.strip_prefix("~/") {
            Some(rest) => values.get("HOME").map(|h| format!("{h}/{rest}")),
            None => Some(m.path.clone()),
        };
        p.is_some_and(|p| model::is_under(path, &model::normal(&p)))
    })
}

/// Expands a plan for this launch and checks it.
pub fn check(
    ops: &[MountOp],
    policy: &Policy,
    values: &Values,
    fs: &dyn HostFs,
) -> Result<Vec<Finding>, ExpandError> {
    let expanded = expand_plan(ops, values, fs)?;
    Ok(check_expanded(&expanded, policy, values, fs))
}
