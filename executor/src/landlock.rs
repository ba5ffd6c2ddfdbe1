//! The Landlock step: applies the blob's Landlock section to the calling thread.
//!
//! Runs after `pivot_root` (so every path is a path inside the sandbox and the `PathFd`s
//! are opened in the new root) and before capabilities are dropped and seccomp is
//! installed. The ruleset handles every filesystem right of ABI 5 to 7, both TCP rights
//! when the policy has a `network` block, and both scopes, and asks the kernel for no more
//! than it has (best effort inside the `landlock` crate). What the kernel actually
//! enforced is then read back from the ABI the crate detected and compared with what the
//! section requires: a required feature that is missing makes the launch fail (the caller
//! exits 125 with [`LandlockError`]'s message); best-effort ones are only reported.
//!
//! A rule whose path does not exist in the sandbox, or whose plan condition does not hold,
//! grants nothing and is skipped: that can only narrow what is allowed.
//!
//! A rule with deny masks beneath its expanded path (any rule's masks: they are global)
//! grants the tree around them, not the tree ([`around`]); a rule at or beneath a mask
//! grants nothing;
//! the section then requires [`Feature::DenyMasks`](portcullis_blob::landlock::Feature), so
//! a kernel without Landlock refuses the launch instead of leaving the masks to the mount
//! plan alone.

mod around;

use std::fmt;
use std::fs;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, LandlockStatus, NetPort, PathBeneath, PathFd,
    RestrictionStatus, Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetError,
    Scope, ABI,
};
use portcullis_blob::landlock::{
    fs_access, FsLayer, FsRule, FsTarget, LandlockSection, Outcome, Ports,
};
use portcullis_blob::mounts::{Condition, PathExpr};

/// What the caller knows about the launch: how to expand a placeholder path and how to
/// test a plan condition (the same rules the mount step used).
pub struct Host<'a> {
    /// Expands a path; `None` when a placeholder has no value (the rule is skipped).
    pub expand: &'a dyn Fn(&PathExpr) -> Option<String>,
    /// Whether a plan condition holds on the host.
    pub holds: &'a dyn Fn(&Condition) -> bool,
}

/// What was applied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LandlockReport {
    /// The kernel's Landlock ABI as the crate uses it (0: no Landlock).
    pub outcome: Outcome,
    /// `PathBeneath` rules added.
    pub fs_rules: usize,
    /// TCP port rules added.
    pub port_rules: usize,
    /// Rule paths that were skipped (missing in the sandbox, or condition false).
    pub skipped_paths: Vec<String>,
}

impl fmt::Display for LandlockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = |list: &[portcullis_blob::landlock::Feature]| {
            list.iter().map(|x| x.word()).collect::<Vec<_>>().join(", ")
        };
        write!(f, "landlock abi {}", self.outcome.abi)?;
        if self.outcome.enforced.is_empty() {
            write!(f, ": nothing enforced")?;
        } else {
            write!(f, ": enforced {}", words(&self.outcome.enforced))?;
        }
        if !self.outcome.skipped.is_empty() {
            write!(
                f,
                "; not enforced (best effort) {}",
                words(&self.outcome.skipped)
            )?;
        }
        write!(
            f,
            "; {} filesystem rules, {} port rules",
            self.fs_rules, self.port_rules
        )
    }
}

/// Why the Landlock step failed; every variant aborts the launch.
#[derive(Debug)]
pub enum LandlockError {
    /// The kernel lacks a feature the policy requires.
    RequiredMissing(Outcome),
    /// The kernel refused the ruleset.
    Kernel(RulesetError),
    /// A deny mask cannot be held (a symbolic link on the way to it, a path without value).
    Mask(String),
}

impl fmt::Display for LandlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LandlockError::RequiredMissing(outcome) => {
                let missing: Vec<String> = outcome
                    .missing_required
                    .iter()
                    .map(|x| format!("{} (needs landlock abi {})", x.word(), x.since()))
                    .collect();
                write!(
                    f,
                    "this kernel has landlock abi {} and lacks what the policy requires: {}",
                    outcome.abi,
                    missing.join(", ")
                )
            }
            LandlockError::Kernel(err) => write!(f, "{err}"),
            LandlockError::Mask(why) => write!(f, "deny masks cannot be held: {why}"),
        }
    }
}

impl From<RulesetError> for LandlockError {
    fn from(err: RulesetError) -> Self {
        LandlockError::Kernel(err)
    }
}

/// The crate's view of the kernel's ABI as a number.
fn abi_number(status: &RestrictionStatus) -> u32 {
    match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => effective_abi as u32,
        _ => 0,
    }
}

/// The `landlock` crate's flags for `fs_access` bits.
fn fs_flags(bits: u64) -> BitFlags<AccessFs> {
    BitFlags::<AccessFs>::from_bits_truncate(bits & fs_access::ALL)
}

fn add_path(
    ruleset: RulesetCreated,
    path: &str,
    access: u64,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    let Ok(meta) = fs::metadata(path) else {
        report.skipped_paths.push(path.to_string());
        return Ok(ruleset);
    };
    let bits = if meta.is_dir() {
        access
    } else {
        access & fs_access::FILE_RIGHTS
    };
    let Ok(fd) = PathFd::new(path) else {
        report.skipped_paths.push(path.to_string());
        return Ok(ruleset);
    };
    report.fs_rules += 1;
    Ok(ruleset.add_rule(PathBeneath::new(fd, fs_flags(bits)))?)
}

/// A rule on the tree at `path`: the whole tree, or the tree around the `masked` paths
/// beneath it.
fn add_tree(
    ruleset: RulesetCreated,
    path: &str,
    access: u64,
    masked: &[String],
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    let Some(way) = around::Way::new(path, masked) else {
        return Err(LandlockError::Mask(format!(
            "a deny mask beneath `{path}` has a `..` component"
        )));
    };
    if way.is_empty() {
        return add_path(ruleset, path, access, report);
    }
    // Opened without following links: the way to a masked path must be the real one.
    let dir = match around::open_base(path) {
        Ok(dir) => dir,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            report.skipped_paths.push(path.to_string());
            return Ok(ruleset);
        }
        Err(e) => {
            return Err(LandlockError::Mask(format!(
                "`{path}` holds deny masks and cannot be opened without following links: {e}"
            )))
        }
    };
    match crate::sys::fs::fstat(std::os::fd::AsFd::as_fd(&dir)) {
        Ok(stat) if stat.is_dir() => around::grant(ruleset, dir, path, &way, access, report),
        // Nothing can be beneath a file: the rule is an ordinary one.
        _ => add_path(ruleset, path, access, report),
    }
}

/// Every mask of `layer`, expanded; a mask without a value cannot be located, so the
/// launch is refused rather than the tree granted.
fn expanded_masks(layer: &FsLayer, host: &Host<'_>) -> Result<Vec<String>, LandlockError> {
    layer
        .masks()
        .iter()
        .map(|mask| {
            (host.expand)(mask).ok_or_else(|| {
                LandlockError::Mask(format!("`{}` has no value here", mask.as_str()))
            })
        })
        .collect()
}

/// Adds `rule`, holding every mask in `masks` (expanded) that lies beneath its path.
fn add_fs_rule(
    mut ruleset: RulesetCreated,
    rule: &FsRule,
    masks: &[String],
    host: &Host<'_>,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    let (base, except) = match &rule.target {
        FsTarget::Path { path } => (path, None),
        FsTarget::Entries { dir, except } => (dir, Some(except)),
    };
    let Some(base) = (host.expand)(base) else {
        report.skipped_paths.push(base.as_str().to_string());
        return Ok(ruleset);
    };
    if rule.condition.as_ref().is_some_and(|c| !(host.holds)(c)) {
        report.skipped_paths.push(base);
        return Ok(ruleset);
    }
    // A rule at or beneath a mask grants nothing: the mask hides all of it.
    if masks.iter().any(|m| around::beneath(m, &base).is_some()) {
        report.skipped_paths.push(base);
        return Ok(ruleset);
    }
    // Masks are held against a rule that grants more than listing; for one that only
    // lists, the tree around them would be the tree.
    let masked: &[String] = if rule.access & !fs_access::READ_DIR != 0 {
        masks
    } else {
        &[]
    };
    match except {
        None => add_tree(ruleset, &base, rule.access, masked, report),
        Some(except) => {
            let mut names: Vec<String> = match fs::read_dir(&base) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|name| !except.contains(name))
                    .collect(),
                Err(_) => Vec::new(),
            };
            names.sort();
            for name in names {
                let path = format!("{}/{name}", base.trim_end_matches('/'));
                if masks.iter().any(|m| around::beneath(m, &path).is_some()) {
                    report.skipped_paths.push(path);
                    continue;
                }
                ruleset = add_tree(ruleset, &path, rule.access, masked, report)?;
            }
            Ok(ruleset)
        }
    }
}

fn add_ports(
    mut ruleset: RulesetCreated,
    ranges: &[Ports],
    access: AccessNet,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    for range in ranges {
        for port in range.first..=range.last {
            ruleset = ruleset.add_rule(NetPort::new(port, access))?;
            report.port_rules += 1;
        }
    }
    Ok(ruleset)
}

/// Applies `section` to the calling thread (and, through exec, to the sandboxed command).
pub fn apply(section: &LandlockSection, host: &Host<'_>) -> Result<LandlockReport, LandlockError> {
    let mut report = LandlockReport::default();
    if section.is_empty() {
        return Ok(report);
    }
    let mut ruleset = Ruleset::default();
    if section.fs.is_some() {
        // ABI 7 adds no filesystem right over 5; newer rights are not asked for.
        ruleset = ruleset.handle_access(AccessFs::from_all(ABI::V7))?;
    }
    if section.net.is_some() {
        ruleset = ruleset.handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)?;
    }
    if section.scope_abstract_unix.is_some() {
        ruleset = ruleset.scope(Scope::AbstractUnixSocket)?;
    }
    if section.scope_signal.is_some() {
        ruleset = ruleset.scope(Scope::Signal)?;
    }
    let mut created = ruleset.create()?;
    if let Some(fs) = &section.fs {
        let masks = expanded_masks(fs, host)?;
        for rule in &fs.rules {
            created = add_fs_rule(created, rule, &masks, host, &mut report)?;
        }
    }
    if let Some(net) = &section.net {
        created = add_ports(created, &net.connect, AccessNet::ConnectTcp, &mut report)?;
        created = add_ports(created, &net.bind, AccessNet::BindTcp, &mut report)?;
    }
    let status = created.restrict_self()?;
    report.outcome = section.outcome_at(abi_number(&status));
    if !report.outcome.launches() {
        return Err(LandlockError::RequiredMissing(report.outcome));
    }
    announce(&report);
    Ok(report)
}

/// Says on stderr what was enforced: always when a best-effort feature could not be, in
/// full when `PORTCULLIS_EXEC_REPORT` is set.
fn announce(report: &LandlockReport) {
    if !report.outcome.skipped.is_empty() || std::env::var_os(REPORT_VARIABLE).is_some() {
        eprintln!("portcullis-exec: {report}");
    }
}

/// Set it to have the executor print what each defense layer enforced.
pub const REPORT_VARIABLE: &str = "PORTCULLIS_EXEC_REPORT";

#[cfg(test)]
mod tests;
