//! The Landlock section: the filesystem rules that mirror the mount plan, the TCP port
//! allowlists, the scopes, and how hard each of them must hold.
//!
//! Written by `portcullis_backends::landlock`, applied by the executor
//! (`executor/src/landlock.rs`) after `pivot_root`, so every path here is a path inside the
//! sandbox. Access rights are Landlock's own bit values (`linux/landlock.h`), which are a
//! stable kernel ABI. [`Feature`] and [`Feature::since`] are the one table of which Landlock
//! ABI brings which feature; the backend's ABI report and the executor's enforcement report
//! both read it.

use crate::mounts::{Condition, PathExpr};

/// Filesystem access rights, as Landlock numbers them (`LANDLOCK_ACCESS_FS_*`).
pub mod fs_access {
    /// Execute a file.
    pub const EXECUTE: u64 = 1 << 0;
    /// Open a file for writing.
    pub const WRITE_FILE: u64 = 1 << 1;
    /// Open a file for reading.
    pub const READ_FILE: u64 = 1 << 2;
    /// List a directory.
    pub const READ_DIR: u64 = 1 << 3;
    /// Remove an empty directory.
    pub const REMOVE_DIR: u64 = 1 << 4;
    /// Unlink a file.
    pub const REMOVE_FILE: u64 = 1 << 5;
    /// Create a character device.
    pub const MAKE_CHAR: u64 = 1 << 6;
    /// Create a directory.
    pub const MAKE_DIR: u64 = 1 << 7;
    /// Create a regular file.
    pub const MAKE_REG: u64 = 1 << 8;
    /// Create a UNIX socket.
    pub const MAKE_SOCK: u64 = 1 << 9;
    /// Create a named pipe.
    pub const MAKE_FIFO: u64 = 1 << 10;
    /// Create a block device.
    pub const MAKE_BLOCK: u64 = 1 << 11;
    /// Create a symbolic link.
    pub const MAKE_SYM: u64 = 1 << 12;
    /// Link or rename a file from or to a different directory (ABI 2).
    pub const REFER: u64 = 1 << 13;
    /// Truncate a file (ABI 3).
    pub const TRUNCATE: u64 = 1 << 14;
    /// `ioctl` on a device file (ABI 5).
    pub const IOCTL_DEV: u64 = 1 << 15;

    /// What a read-only grant allows.
    pub const READ: u64 = EXECUTE | READ_FILE | READ_DIR;
    /// What a writable grant adds to [`READ`]: everything but device creation.
    pub const WRITE: u64 = WRITE_FILE
        | REMOVE_DIR
        | REMOVE_FILE
        | MAKE_DIR
        | MAKE_REG
        | MAKE_SOCK
        | MAKE_FIFO
        | MAKE_SYM
        | REFER
        | TRUNCATE;
    /// The rights that make sense on a file that is not a directory.
    pub const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
    /// Every right portcullis knows (ABI 1 to 7).
    pub const ALL: u64 = (1 << 16) - 1;

    /// Names of the rights, in bit order, for reports.
    pub const NAMES: [(u64, &str); 16] = [
        (EXECUTE, "execute"),
        (WRITE_FILE, "write-file"),
        (READ_FILE, "read-file"),
        (READ_DIR, "read-dir"),
        (REMOVE_DIR, "remove-dir"),
        (REMOVE_FILE, "remove-file"),
        (MAKE_CHAR, "make-char"),
        (MAKE_DIR, "make-dir"),
        (MAKE_REG, "make-reg"),
        (MAKE_SOCK, "make-sock"),
        (MAKE_FIFO, "make-fifo"),
        (MAKE_BLOCK, "make-block"),
        (MAKE_SYM, "make-sym"),
        (REFER, "refer"),
        (TRUNCATE, "truncate"),
        (IOCTL_DEV, "ioctl-dev"),
    ];

    /// The names of the rights set in `bits`, in bit order.
    pub fn names(bits: u64) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    /// The rights the kernel knows at Landlock ABI `abi` (none below 1).
    pub fn known_at(abi: u32) -> u64 {
        match abi {
            0 => 0,
            1 => (1 << 13) - 1,
            2 => (1 << 14) - 1,
            3 | 4 => (1 << 15) - 1,
            _ => ALL,
        }
    }
}

/// How hard a layer must hold (the IR's `Level` without `Off`: a layer that is off is
/// simply absent from the section).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Applied as far as the kernel allows; what was applied is reported.
    #[default]
    BestEffort,
    /// The launch fails (exit 125) when the kernel cannot apply it.
    Required,
}

/// The Landlock features portcullis uses, each tied to the ABI that brought it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// Filesystem access control (ABI 1).
    Filesystem,
    /// Deny masks held by the filesystem rules (ABI 1): the executor grants the tree around
    /// each masked path, so it can be neither created nor moved (see [`FsRule::masked`]).
    /// Always required: without it a mask only hides what exists at launch.
    DenyMasks,
    /// Cross-directory rename and link control (ABI 2); below it such moves always fail.
    FsRefer,
    /// Truncation control (ABI 3).
    FsTruncate,
    /// TCP bind and connect port rules (ABI 4).
    TcpPorts,
    /// Device `ioctl` control (ABI 5).
    FsIoctlDev,
    /// Abstract UNIX socket scoping (ABI 6).
    ScopeAbstractUnix,
    /// Signal scoping (ABI 6).
    ScopeSignal,
    /// Audit logging of denials (ABI 7); changes no access decision.
    AuditLog,
}

impl Feature {
    /// Every feature, in ABI order.
    pub const ALL: [Feature; 9] = [
        Feature::Filesystem,
        Feature::DenyMasks,
        Feature::FsRefer,
        Feature::FsTruncate,
        Feature::TcpPorts,
        Feature::FsIoctlDev,
        Feature::ScopeAbstractUnix,
        Feature::ScopeSignal,
        Feature::AuditLog,
    ];

    /// The first Landlock ABI that has this feature.
    pub fn since(self) -> u32 {
        match self {
            // ABI 1 suffices: below ABI 2 the kernel refuses every rename and link across
            // directories, which is stricter than the refer rules masks rely on above it.
            Feature::Filesystem | Feature::DenyMasks => 1,
            Feature::FsRefer => 2,
            Feature::FsTruncate => 3,
            Feature::TcpPorts => 4,
            Feature::FsIoctlDev => 5,
            Feature::ScopeAbstractUnix | Feature::ScopeSignal => 6,
            Feature::AuditLog => 7,
        }
    }

    /// A short name for reports and messages.
    pub fn word(self) -> &'static str {
        match self {
            Feature::Filesystem => "filesystem rules",
            Feature::DenyMasks => "deny masks",
            Feature::FsRefer => "cross-directory rename/link control",
            Feature::FsTruncate => "truncate control",
            Feature::TcpPorts => "tcp port rules",
            Feature::FsIoctlDev => "device ioctl control",
            Feature::ScopeAbstractUnix => "abstract unix socket scoping",
            Feature::ScopeSignal => "signal scoping",
            Feature::AuditLog => "audit logging",
        }
    }
}

/// What a filesystem rule is about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FsTarget {
    /// One path and everything beneath it.
    Path {
        /// Path in the sandbox.
        path: PathExpr,
    },
    /// Each entry of the sandbox directory `dir` except the names in `except`: the mirror
    /// of a `BindEntries` operation, listed at launch after `pivot_root`.
    Entries {
        /// Directory in the sandbox.
        dir: PathExpr,
        /// Entry names that get no rule (left out by the plan, or covered later), sorted.
        except: Vec<String>,
    },
}

/// One `PathBeneath` rule (or a family of them, for [`FsTarget::Entries`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FsRule {
    /// Where the rule applies.
    pub target: FsTarget,
    /// The rights granted (`fs_access` bits). On a file that is not a directory only the
    /// [`fs_access::FILE_RIGHTS`] part is used.
    pub access: u64,
    /// The rule applies only when this host condition holds (the plan's `When`).
    pub condition: Option<Condition>,
    /// Masked subpaths inside this rule's tree, as far as the text of the paths tells. The
    /// plan hides those that exist at launch with an empty read-only mount; Landlock cannot
    /// subtract from a rule, so the executor grants the tree *around* them instead of the
    /// tree: each directory on the way from the rule's path to a masked path (the rule's
    /// path included) gets at most `read-dir`, every other entry of those directories,
    /// listed at launch, gets [`FsRule::access`], the masked paths get nothing. Nothing can
    /// then be created at a masked path or move any directory above it, whatever the app
    /// does, in one launch or many.
    ///
    /// Masks are global: the executor takes every rule's list ([`FsLayer::masks`]) and
    /// holds each mask against every rule whose *expanded* path contains it, since
    /// placeholders hide some of that here (a `/tmp` rule and a `${HOME}` under `/tmp`).
    pub masked: Vec<PathExpr>,
}

impl FsRule {
    /// Whether the executor grants the tree around [`FsRule::masked`] rather than the
    /// whole tree: there are masks and the rule grants more than listing directories (a
    /// rule that only lists is the same either way).
    pub fn holds_masks(&self) -> bool {
        !self.masked.is_empty() && self.access & !fs_access::READ_DIR != 0
    }

    /// What a directory on the way to a masked path gets: listing, when the rule allows it.
    pub fn ancestor_access(&self) -> u64 {
        self.access & fs_access::READ_DIR
    }
}

/// The filesystem layer: every right Landlock knows is handled, and only these rules grant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FsLayer {
    /// How hard it must hold.
    pub level: Requirement,
    /// The rules, in plan order.
    pub rules: Vec<FsRule>,
}

impl FsLayer {
    /// Every masked path of every rule, sorted, once each: the masks the executor holds
    /// against every rule (see [`FsRule::masked`]).
    pub fn masks(&self) -> Vec<PathExpr> {
        let mut out: Vec<PathExpr> = self
            .rules
            .iter()
            .flat_map(|rule| rule.masked.iter().cloned())
            .collect();
        out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        out.dedup();
        out
    }
}

/// An inclusive TCP port range.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Ports {
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

/// The TCP layer (ABI 4): both bind and connect are handled; only these ports are allowed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetLayer {
    /// How hard it must hold.
    pub level: Requirement,
    /// Ports the sandbox may connect to; empty means none.
    pub connect: Vec<Ports>,
    /// Ports the sandbox may bind; empty means none.
    pub bind: Vec<Ports>,
}

/// One Landlock scope (ABI 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeLayer {
    /// How hard it must hold.
    pub level: Requirement,
}

/// The whole Landlock section. A `None` layer is not applied at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LandlockSection {
    /// Filesystem rules mirroring the mount plan.
    pub fs: Option<FsLayer>,
    /// TCP port allowlists.
    pub net: Option<NetLayer>,
    /// Abstract UNIX sockets outside the sandbox's Landlock domain are unreachable.
    pub scope_abstract_unix: Option<ScopeLayer>,
    /// Processes outside the sandbox's Landlock domain cannot be signalled.
    pub scope_signal: Option<ScopeLayer>,
}

impl LandlockSection {
    /// Each feature the section uses, with its requirement level, in ABI order.
    pub fn features(&self) -> Vec<(Feature, Requirement)> {
        let mut out = Vec::new();
        if let Some(fs) = &self.fs {
            out.push((Feature::Filesystem, fs.level));
            // A mask that only the mount plan held would hide what exists at launch and
            // nothing else: masks never degrade silently, whatever the layer's own level.
            if !fs.masks().is_empty() {
                out.push((Feature::DenyMasks, Requirement::Required));
            }
            let used = fs.rules.iter().fold(0, |acc, rule| acc | rule.access);
            // Refer and truncate are part of every writable grant; below their ABI the
            // kernel still confines the rest of the filesystem layer.
            if used & fs_access::REFER != 0 {
                out.push((Feature::FsRefer, Requirement::BestEffort));
            }
            if used & fs_access::TRUNCATE != 0 {
                out.push((Feature::FsTruncate, Requirement::BestEffort));
            }
            if used & fs_access::IOCTL_DEV != 0 {
                out.push((Feature::FsIoctlDev, Requirement::BestEffort));
            }
        }
        if let Some(net) = &self.net {
            out.push((Feature::TcpPorts, net.level));
        }
        if let Some(scope) = &self.scope_abstract_unix {
            out.push((Feature::ScopeAbstractUnix, scope.level));
        }
        if let Some(scope) = &self.scope_signal {
            out.push((Feature::ScopeSignal, scope.level));
        }
        out.sort();
        out
    }

    /// Whether the section asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.features().is_empty()
    }
}

/// What a kernel at one Landlock ABI makes of a section.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// The ABI (0: no Landlock).
    pub abi: u32,
    /// Features the kernel enforces.
    pub enforced: Vec<Feature>,
    /// Best-effort features the kernel lacks: the launch goes on without them.
    pub skipped: Vec<Feature>,
    /// Required features the kernel lacks: the launch is aborted.
    pub missing_required: Vec<Feature>,
}

impl Outcome {
    /// Whether the launch goes on.
    pub fn launches(&self) -> bool {
        self.missing_required.is_empty()
    }
}

impl LandlockSection {
    /// What a kernel at Landlock ABI `abi` enforces of this section, and whether it
    /// launches. The backend's ABI report and the executor's report both come from here.
    pub fn outcome_at(&self, abi: u32) -> Outcome {
        let mut outcome = Outcome {
            abi,
            ..Outcome::default()
        };
        for (feature, level) in self.features() {
            if feature.since() <= abi {
                outcome.enforced.push(feature);
            } else if level == Requirement::Required {
                outcome.missing_required.push(feature);
            } else {
                outcome.skipped.push(feature);
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_grow_with_the_abi() {
        assert_eq!(fs_access::known_at(0), 0);
        assert_eq!(fs_access::known_at(1) & fs_access::REFER, 0);
        assert_ne!(fs_access::known_at(2) & fs_access::REFER, 0);
        assert_eq!(fs_access::known_at(2) & fs_access::TRUNCATE, 0);
        assert_ne!(fs_access::known_at(3) & fs_access::TRUNCATE, 0);
        assert_eq!(fs_access::known_at(4) & fs_access::IOCTL_DEV, 0);
        assert_eq!(fs_access::known_at(7), fs_access::ALL);
        for abi in 1..7 {
            let lower = fs_access::known_at(abi);
            assert_eq!(lower & fs_access::known_at(abi + 1), lower);
        }
    }

    #[test]
    fn masks_under_a_grant_are_required_and_need_abi_1() {
        let rule = |access: u64, masked: &[&str]| FsRule {
            target: FsTarget::Path {
                path: PathExpr::new("${HOME}"),
            },
            access,
            condition: None,
            masked: masked.iter().map(|m| PathExpr::new(*m)).collect(),
        };
        let section = |rules: Vec<FsRule>| LandlockSection {
            fs: Some(FsLayer {
                level: Requirement::BestEffort,
                rules,
            }),
            ..LandlockSection::default()
        };
        // Listing alone is not a grant to cut around, but the mask is still held against
        // whatever rule contains it at launch, so it is still required.
        let listing = section(vec![rule(fs_access::READ_DIR, &["${HOME}/.ssh"])]);
        assert!(!listing.fs.as_ref().unwrap().rules[0].holds_masks());
        assert!(!listing.outcome_at(0).launches());
        let twice = section(vec![
            rule(fs_access::READ_DIR, &["${HOME}/.ssh", "${HOME}/.a"]),
            rule(fs_access::READ, &["${HOME}/.ssh"]),
        ]);
        assert_eq!(
            twice.fs.as_ref().unwrap().masks(),
            [PathExpr::new("${HOME}/.a"), PathExpr::new("${HOME}/.ssh")]
        );
        let plain = section(vec![rule(fs_access::READ | fs_access::WRITE, &[])]);
        assert!(plain.outcome_at(0).launches());
        let masked = section(vec![rule(fs_access::READ, &["${HOME}/.ssh"])]);
        assert_eq!(
            masked.fs.as_ref().unwrap().rules[0].ancestor_access(),
            fs_access::READ_DIR
        );
        assert_eq!(masked.outcome_at(0).missing_required, [Feature::DenyMasks]);
        assert_eq!(masked.outcome_at(0).skipped, [Feature::Filesystem]);
        assert!(masked.outcome_at(1).launches());
        assert!(masked.outcome_at(1).enforced.contains(&Feature::DenyMasks));
    }

    #[test]
    fn write_grants_never_create_devices() {
        assert_eq!(
            fs_access::WRITE & (fs_access::MAKE_CHAR | fs_access::MAKE_BLOCK),
            0
        );
        assert_eq!(
            fs_access::names(fs_access::READ),
            ["execute", "read-file", "read-dir"]
        );
    }
}
