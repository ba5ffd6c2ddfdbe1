//! Cross-backend consistency: the mount plan, the Landlock section and the AppArmor
//! profile must tell the same story, and the network rules must agree with the policy.
//!
//! Every check re-reads the artifacts ([`plan`] re-derives what the plan makes visible,
//! [`profile`] and [`aare`] re-read the profile's text); no backend code is called.
//!
//! | code | what it means |
//! |---|---|
//! | `consistency::landlock-hidden` | a Landlock rule grants a path a deny mask hides |
//! | `consistency::landlock-beyond-plan` | a Landlock rule grants a path the plan mounts nothing at |
//! | `consistency::landlock-write-beyond-plan` | a Landlock rule grants writes where the plan mounts read-only |
//! | `consistency::landlock-mask-unheld` | a deny mask of the plan is not held by Landlock (not listed in the filesystem layer, or no such layer), so a path that does not exist at launch would not be masked |
//! | `consistency::apparmor-hidden` | the profile grants access to a path the plan hides |
//! | `consistency::network-ports` | the Landlock TCP rules differ from the policy's network block |
//! | `consistency::network-apparmor` | the profile's inet rules disagree with `share network` or the port rules |
//!
//! Paths in the plan hold placeholders; the AppArmor checks expand them for a sample user
//! ([`sample_path`]) whose values match the profile's default tunables.
//!
//! Not checked: AppArmor writes on read-only mounts nested in a writable tree. A path rule
//! cannot subtract a mount flag, and a socket bound read-only must stay writable for
//! `connect`, so the profile inherits the tree's rule there and the mount keeps the files
//! read-only.

pub mod aare;
pub mod plan;
pub mod profile;

use portcullis_blob::landlock::{fs_access, FsTarget, LandlockSection, Ports};
use portcullis_blob::mounts::MountOp;
use portcullis_ir::beyond::{Level, PortRange};
use portcullis_ir::context::Share;
use portcullis_ir::Policy;

use plan::{is_within, Visibility};

/// One inconsistency.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// A stable code (`consistency::…`).
    pub code: &'static str,
    /// What is wrong, lower-case, paths in backticks.
    pub message: String,
}

/// The artifacts to compare.
pub struct Artifacts<'a> {
    /// The mount plan.
    pub plan: &'a [MountOp],
    /// The Landlock section.
    pub landlock: &'a LandlockSection,
    /// The AppArmor profile's text, when there is one.
    pub apparmor: Option<&'a str>,
}

const SAMPLE_HOME: &str = "/home/portcullis-sample";

/// A plan path for a sample user, or `None` for a placeholder without a sample value.
pub fn sample_path(path: &str, app_id: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let value = match &after[..end] {
            "HOME" => SAMPLE_HOME.to_string(),
            "UID" | "GID" => "1000".to_string(),
            "USER" => "portcullis-sample".to_string(),
            "APP_ID" => app_id.to_string(),
            "XDG_RUNTIME_DIR" => "/run/user/1000".to_string(),
            "XDG_DATA_HOME" => format!("{SAMPLE_HOME}/.local/share"),
            "XDG_CONFIG_HOME" => format!("{SAMPLE_HOME}/.config"),
            "XDG_CACHE_HOME" => format!("{SAMPLE_HOME}/.cache"),
            "XDG_DESKTOP_DIR" => format!("{SAMPLE_HOME}/Desktop"),
            "XDG_DOCUMENTS_DIR" => format!("{SAMPLE_HOME}/Documents"),
            "XDG_DOWNLOAD_DIR" => format!("{SAMPLE_HOME}/Downloads"),
            "XDG_MUSIC_DIR" => format!("{SAMPLE_HOME}/Music"),
            "XDG_PICTURES_DIR" => format!("{SAMPLE_HOME}/Pictures"),
            "XDG_PUBLICSHARE_DIR" => format!("{SAMPLE_HOME}/Public"),
            "XDG_TEMPLATES_DIR" => format!("{SAMPLE_HOME}/Templates"),
            "XDG_VIDEOS_DIR" => format!("{SAMPLE_HOME}/Videos"),
            "WAYLAND_NAME" => "wayland-0".to_string(),
            _ => return None,
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Every mask of the plan, conditional ones included.
fn plan_masks<'p>(ops: &'p [MountOp], out: &mut Vec<&'p str>) {
    for op in ops {
        match op {
            MountOp::Mask { dest } => out.push(dest.as_str()),
            MountOp::When { then, .. } => plan_masks(std::slice::from_ref(then.as_ref()), out),
            MountOp::Sorted { ops } => plan_masks(ops, out),
            _ => {}
        }
    }
}

/// The mount plan hides a masked path only if it exists at launch; the executor holds
/// masks with Landlock rules around them (a required feature), from the masks the
/// filesystem layer lists. Every mask of the plan must be there.
fn mask_checks(plan: &[MountOp], section: &LandlockSection, out: &mut Vec<Finding>) {
    let mut masks = Vec::new();
    plan_masks(plan, &mut masks);
    let held: Vec<String> = section
        .fs
        .as_ref()
        .map(|fs| fs.masks().iter().map(|m| m.as_str().to_string()).collect())
        .unwrap_or_default();
    for mask in masks {
        if !held.iter().any(|h| h == mask) {
            out.push(Finding {
                code: "consistency::landlock-mask-unheld",
                message: format!(
                    "the deny mask `{mask}` is not held by landlock: created or moved later, it would not be masked"
                ),
            });
        }
    }
}

fn landlock_checks(mounts: &[plan::Mount], section: &LandlockSection, out: &mut Vec<Finding>) {
    let Some(fs) = &section.fs else { return };
    for rule in &fs.rules {
        let path = match &rule.target {
            FsTarget::Path { path } => path.as_str(),
            FsTarget::Entries { dir, .. } => dir.as_str(),
        };
        let probe = match &rule.target {
            FsTarget::Path { .. } => path.to_string(),
            FsTarget::Entries { dir, .. } => format!("{}/portcullis-probe", dir.as_str()),
        };
        match plan::visibility(mounts, &probe) {
            Visibility::Masked => out.push(Finding {
                code: "consistency::landlock-hidden",
                message: format!("landlock grants `{path}`, which the mount plan hides"),
            }),
            Visibility::RootOnly if path != "/" => out.push(Finding {
                code: "consistency::landlock-beyond-plan",
                message: format!("landlock grants `{path}`, where the mount plan mounts nothing"),
            }),
            Visibility::ReadOnly if rule.access & fs_access::WRITE != 0 => out.push(Finding {
                code: "consistency::landlock-write-beyond-plan",
                message: format!(
                    "landlock grants writes to `{path}`, which the mount plan mounts read-only"
                ),
            }),
            _ => {}
        }
    }
}

fn apparmor_checks(
    mounts: &[plan::Mount],
    profile: &profile::Profile,
    app_id: &str,
    out: &mut Vec<Finding>,
) {
    for (i, mount) in mounts.iter().enumerate() {
        let later_inside = mounts[i + 1..]
            .iter()
            .any(|m| m.dest != mount.dest && is_within(&m.dest, &mount.dest));
        let Some(sample) = sample_path(&mount.dest, app_id) else {
            continue;
        };
        if mount.hides && !later_inside {
            for probe in [sample.clone(), format!("{sample}/portcullis-probe")] {
                let allowed = profile.allowed(&probe);
                if !allowed.is_empty() {
                    out.push(Finding {
                        code: "consistency::apparmor-hidden",
                        message: format!(
                            "the apparmor profile allows `{allowed}` on `{probe}`, which the mount plan hides"
                        ),
                    });
                }
            }
        }
    }
}

/// Ports as merged, sorted ranges (the same set written the same way).
fn normalise(ranges: impl IntoIterator<Item = (u16, u16)>) -> Vec<(u16, u16)> {
    let mut sorted: Vec<(u16, u16)> = ranges
        .into_iter()
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    sorted.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (first, last) in sorted {
        match out.last_mut() {
            Some(prev) if u32::from(first) <= u32::from(prev.1) + 1 => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

fn from_ir(ranges: &[PortRange]) -> Vec<(u16, u16)> {
    normalise(ranges.iter().map(|r| (r.first, r.last)))
}

fn from_blob(ranges: &[Ports]) -> Vec<(u16, u16)> {
    normalise(ranges.iter().map(|r| (r.first, r.last)))
}

fn network_checks(
    policy: &Policy,
    artifacts: &Artifacts<'_>,
    profile: Option<&profile::Profile>,
    out: &mut Vec<Finding>,
) {
    let wanted = policy
        .beyond
        .network
        .as_ref()
        .filter(|_| policy.beyond.requirements.landlock_network != Level::Off);
    match (wanted, &artifacts.landlock.net) {
        (None, None) => {}
        (Some(w), Some(n)) => {
            if from_ir(&w.connect) != from_blob(&n.connect)
                || from_ir(&w.bind) != from_blob(&n.bind)
            {
                out.push(Finding {
                    code: "consistency::network-ports",
                    message: "landlock's tcp ports differ from the policy's network block".into(),
                });
            }
        }
        (Some(_), None) => out.push(Finding {
            code: "consistency::network-ports",
            message: "the policy restricts tcp ports but the landlock section has no tcp rules"
                .into(),
        }),
        (None, Some(_)) => out.push(Finding {
            code: "consistency::network-ports",
            message: "the landlock section restricts tcp ports the policy does not mention".into(),
        }),
    }
    let Some(profile) = profile else { return };
    let shared = policy.context.has_share(Share::Network);
    let (inet, only_streams) = profile.inet();
    let nothing_allowed = artifacts
        .landlock
        .net
        .as_ref()
        .is_some_and(|n| n.connect.is_empty() && n.bind.is_empty());
    let problem = if !shared && inet {
        Some("the apparmor profile allows inet sockets but the policy does not share the network")
    } else if shared && !inet && !nothing_allowed {
        Some("the policy shares the network but the apparmor profile allows no inet socket")
    } else if inet && nothing_allowed {
        Some("landlock allows no tcp port but the apparmor profile allows inet sockets")
    } else if inet && artifacts.landlock.net.is_some() && !only_streams {
        Some("landlock restricts tcp ports but the apparmor profile allows other inet sockets")
    } else {
        None
    };
    if let Some(message) = problem {
        out.push(Finding {
            code: "consistency::network-apparmor",
            message: message.into(),
        });
    }
}

/// Compares the artifacts of `policy`; an empty list means they agree.
pub fn check(policy: &Policy, artifacts: &Artifacts<'_>) -> Vec<Finding> {
    let mounts = plan::mounts(artifacts.plan);
    let profile = artifacts.apparmor.map(profile::parse);
    let mut out = Vec::new();
    landlock_checks(&mounts, artifacts.landlock, &mut out);
    mask_checks(artifacts.plan, artifacts.landlock, &mut out);
    if let Some(profile) = &profile {
        apparmor_checks(&mounts, profile, policy.app_id(), &mut out);
    }
    network_checks(policy, artifacts, profile.as_ref(), &mut out);
    out
}

#[cfg(test)]
mod tests;
