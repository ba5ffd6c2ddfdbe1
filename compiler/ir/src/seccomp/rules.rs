//! What the backend compiles: for one target and feature set, the architectures, the
//! verdicts outside the syscall table, and one rule per restricted syscall, each with the
//! reason `explain` shows and the hardening it belongs to (if it is not Flatpak's own).
//!
//! Rules name syscalls, not numbers: the backend resolves each name per architecture and
//! skips a name an architecture lacks, as libseccomp does for Flatpak (§4.1).

use super::decide::filter_arches;
use super::{
    Action, Arch, Features, CLONE_NEWUSER, EAFNOSUPPORT, ENOSYS, EPERM, PER_LINUX, TIOCLINUX,
    TIOCSTI,
};

/// When a rule's action applies; otherwise the syscall is allowed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Condition {
    /// Whatever the arguments.
    Always,
    /// Any of `mask`'s bits is set in the low 32 bits of argument `arg`.
    LowBitsSet { arg: u8, mask: u32 },
    /// The low 32 bits of argument `arg` are one of `values`.
    LowIn { arg: u8, values: Vec<u32> },
    /// The low 32 bits of argument `arg` are none of `values`.
    LowNotIn { arg: u8, values: Vec<u32> },
    /// Argument `arg`, at its full width (64 bits on 64-bit ABIs), is not `value`.
    Ne { arg: u8, value: u64 },
}

/// A deliberate departure from Flatpak 1.14, always in the stricter direction.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Hardening {
    /// 32-bit arguments (ioctl command, socket family) are compared on their low 32 bits,
    /// as the kernel reads them; high-word garbage neither hides nor causes a match.
    Low32Arguments,
    /// Numbers outside the syscall table get ENOSYS instead of being allowed, so a syscall
    /// newer than the table cannot slip past the rules (libc falls back on ENOSYS).
    UnknownSyscallsEnosys,
    /// x32 numbers and foreign ABIs kill the whole process, not only the calling thread.
    KillProcess,
    /// Socket-family filtering is kept with multiarch, on the native ABI and on the compat
    /// ABI's direct `socket` syscall (Flatpak 1.14 drops it on both). `socketcall` on i386
    /// passes its arguments through memory and cannot be filtered by family.
    SocketFamiliesUnderMultiarch,
    /// Newer syscalls of a family Flatpak blocks are blocked too: `quotactl_fd`,
    /// `set_mempolicy_home_node` (EPERM) and `open_tree_attr` (ENOSYS).
    NewerSiblings,
}

impl Hardening {
    /// Every hardening, in a fixed order.
    pub const ALL: [Hardening; 5] = [
        Hardening::Low32Arguments,
        Hardening::UnknownSyscallsEnosys,
        Hardening::KillProcess,
        Hardening::SocketFamiliesUnderMultiarch,
        Hardening::NewerSiblings,
    ];

    /// A short stable tag.
    pub fn tag(self) -> &'static str {
        match self {
            Hardening::Low32Arguments => "low-32-bit-arguments",
            Hardening::UnknownSyscallsEnosys => "unknown-syscalls-enosys",
            Hardening::KillProcess => "kill-process",
            Hardening::SocketFamiliesUnderMultiarch => "socket-families-under-multiarch",
            Hardening::NewerSiblings => "newer-siblings",
        }
    }

    /// One sentence for `explain`.
    pub fn describe(self) -> &'static str {
        match self {
            Hardening::Low32Arguments => {
                "the ioctl command and the socket family are compared on the low 32 bits the kernel reads"
            }
            Hardening::UnknownSyscallsEnosys => {
                "syscall numbers missing from the table fail with ENOSYS instead of being allowed"
            }
            Hardening::KillProcess => {
                "foreign ABIs and x32 syscall numbers kill the process, not only the thread"
            }
            Hardening::SocketFamiliesUnderMultiarch => {
                "socket families stay filtered with multiarch (socketcall on i386 cannot be)"
            }
            Hardening::NewerSiblings => {
                "quotactl_fd and set_mempolicy_home_node get EPERM and open_tree_attr ENOSYS, like their older siblings"
            }
        }
    }
}

/// One restricted syscall.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// The syscall's name in the tables.
    pub syscall: &'static str,
    /// When [`Rule::action`] applies.
    pub condition: Condition,
    /// The verdict when the condition holds.
    pub action: Action,
    /// Why (paraphrasing Flatpak's source comments).
    pub why: &'static str,
    /// `None` for Flatpak's own rule.
    pub hardening: Option<Hardening>,
}

/// Everything the backend needs to build one filter.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FilterSpec {
    /// The features it was built for.
    pub features: Features,
    /// The native architecture.
    pub target: Arch,
    /// The architectures with a section, native first.
    pub arches: Vec<Arch>,
    /// The verdict for an ABI with no section, and for x32 numbers.
    pub foreign: Action,
    /// The verdict for a number missing from an architecture's table.
    pub unknown: Action,
    /// The restricted syscalls, in a fixed order; at most one rule per syscall.
    pub rules: Vec<Rule>,
}

/// The filter for `target` with `features`.
pub fn spec(features: Features, target: Arch) -> FilterSpec {
    let mut rules = Vec::new();
    let mut always = |syscall, action, why, hardening| {
        rules.push(Rule {
            syscall,
            condition: Condition::Always,
            action,
            why,
            hardening,
        })
    };
    let eperm = Action::Errno(EPERM);
    let enosys = Action::Errno(ENOSYS);
    for (syscall, why) in [
        ("syslog", "reads the kernel log (dmesg)"),
        ("uselib", "obsolete"),
        ("acct", "process accounting"),
        ("quotactl", "quota information"),
        ("add_key", "the kernel keyring is not namespaced"),
        ("keyctl", "the kernel keyring is not namespaced"),
        ("request_key", "the kernel keyring is not namespaced"),
        ("move_pages", "NUMA and VM internals"),
        ("mbind", "NUMA and VM internals"),
        ("get_mempolicy", "NUMA and VM internals"),
        ("set_mempolicy", "NUMA and VM internals"),
        ("migrate_pages", "NUMA and VM internals"),
        ("unshare", "no sub-namespaces"),
        ("setns", "no joining other namespaces"),
        ("mount", "no mounting"),
        ("umount", "no unmounting"),
        ("umount2", "no unmounting"),
        ("pivot_root", "no changing the root"),
        ("chroot", "no changing the root"),
        (
            "modify_ldt",
            "information leaks (Flatpak 1.14 blocks it even with multiarch)",
        ),
    ] {
        always(syscall, eperm, why, None);
    }
    always(
        "quotactl_fd",
        eperm,
        "quota information, like quotactl",
        Some(Hardening::NewerSiblings),
    );
    always(
        "set_mempolicy_home_node",
        eperm,
        "NUMA and VM internals, like set_mempolicy",
        Some(Hardening::NewerSiblings),
    );
    always(
        "clone3",
        enosys,
        "its flags live in memory and cannot be checked; ENOSYS makes libc fall back to clone",
        None,
    );
    for syscall in [
        "open_tree",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
    ] {
        always(syscall, enosys, "the new mount API", None);
    }
    always(
        "open_tree_attr",
        enosys,
        "the new mount API",
        Some(Hardening::NewerSiblings),
    );
    if !features.devel {
        always("ptrace", eperm, "no tracing without devel", None);
        always(
            "perf_event_open",
            eperm,
            "no performance counters without devel",
            None,
        );
        rules.push(Rule {
            syscall: "personality",
            condition: Condition::Ne {
                arg: 0,
                value: PER_LINUX,
            },
            action: eperm,
            why: "only PER_LINUX without devel (a full-width compare)",
            hardening: None,
        });
    }
    rules.push(Rule {
        syscall: "clone",
        condition: Condition::LowBitsSet {
            arg: 0,
            mask: CLONE_NEWUSER as u32,
        },
        action: eperm,
        why: "no new user namespace",
        hardening: None,
    });
    rules.push(Rule {
        syscall: "ioctl",
        condition: Condition::LowIn {
            arg: 1,
            values: vec![TIOCSTI, TIOCLINUX],
        },
        action: eperm,
        why: "TIOCSTI and TIOCLINUX inject input into the terminal (CVE-2017-5226, CVE-2023-28100)",
        hardening: Some(Hardening::Low32Arguments),
    });
    let mut families = vec![0, 1, 2, 10, 16];
    if features.canbus {
        families.push(29);
    }
    if features.bluetooth {
        families.push(31);
    }
    rules.push(Rule {
        syscall: "socket",
        condition: Condition::LowNotIn {
            arg: 0,
            values: families,
        },
        action: Action::Errno(EAFNOSUPPORT),
        why: "only the allowed address families",
        hardening: Some(if features.multiarch {
            Hardening::SocketFamiliesUnderMultiarch
        } else {
            Hardening::Low32Arguments
        }),
    });
    rules.sort_by(|a, b| a.syscall.cmp(b.syscall));
    FilterSpec {
        features,
        target,
        arches: filter_arches(target, features),
        foreign: Action::KillProcess,
        unknown: Action::Errno(ENOSYS),
        rules,
    }
}

impl FilterSpec {
    /// The filter in words, one `# `-prefixed line each: target, sections, features, the
    /// verdicts outside the table, every rule with its reason and hardening tag, and what
    /// each hardening means. `emit --text` prints it above the listing; `explain` can show
    /// it for a policy.
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let arches: Vec<&str> = self.arches.iter().map(|a| a.name()).collect();
        let _ = writeln!(out, "# seccomp filter for {}", self.target);
        let _ = writeln!(out, "# sections: {}", arches.join(", "));
        let f = self.features;
        let on: Vec<&str> = [
            ("devel", f.devel),
            ("multiarch", f.multiarch),
            ("bluetooth", f.bluetooth),
            ("canbus", f.canbus),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        let on = if on.is_empty() {
            "none".to_string()
        } else {
            on.join(", ")
        };
        let _ = writeln!(out, "# features: {on}");
        let _ = writeln!(
            out,
            "# other ABIs and x32: {}; numbers missing from the table: {}",
            self.foreign, self.unknown
        );
        for rule in &self.rules {
            let tag = rule
                .hardening
                .map(|h| format!(" [hardening: {}]", h.tag()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "# {:<24} {:<20} {}: {}{tag}",
                rule.syscall,
                rule.action.to_string(),
                rule.condition,
                rule.why
            );
        }
        for hardening in Hardening::ALL {
            let _ = writeln!(
                out,
                "# hardening {}: {}",
                hardening.tag(),
                hardening.describe()
            );
        }
        out
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |values: &[u32]| {
            values
                .iter()
                .map(|v| format!("{v:#x}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Condition::Always => f.write_str("always"),
            Condition::LowBitsSet { arg, mask } => write!(f, "a{arg}.lo & {mask:#x} != 0"),
            Condition::LowIn { arg, values } => write!(f, "a{arg}.lo in {{{}}}", list(values)),
            Condition::LowNotIn { arg, values } => {
                write!(f, "a{arg}.lo not in {{{}}}", list(values))
            }
            Condition::Ne { arg, value } => write!(f, "a{arg} != {value:#x}"),
        }
    }
}
