//! What the backend compiles: for one target and feature set, the architectures, the
//! verdicts outside the syscall table, and one rule per restricted syscall, each with the
//! reason `explain` shows and the hardening it belongs to (if it is not Flatpak's own).
//!
//! Rules name syscalls, not numbers: the backend resolves each name per architecture and
//! skips a name an architecture lacks, as libseccomp does for Flatpak (§4.1).
//!
//! A rule is an ordered list of [`Clause`]s, each a [`Condition`] and the verdict when it
//! holds: the first clause that holds decides, and a syscall no clause matches is allowed.
//! Most rules have one clause. `socket` under port rules has two (the family allowlist,
//! then the inet type and protocol allowlist, with different errnos), and the second one's
//! condition is compound ([`Condition::All`], [`Condition::Any`], [`Condition::Not`]).

use super::decide::filter_arches;
use super::{
    Action, Arch, Features, AF_INET, AF_INET6, CLONE_NEWUSER, EACCES, EAFNOSUPPORT, ENOSYS,
    EOPNOTSUPP, EPERM, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP,
    MSG_FASTOPEN, PER_LINUX, SOCK_DGRAM, SOCK_STREAM, SOCK_TYPE_MASK, TIOCLINUX, TIOCSTI,
};

/// When a clause's action applies.
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
    /// The low 32 bits of argument `arg`, and-ed with `mask`, are one of `values` (the
    /// socket type without its `SOCK_NONBLOCK`/`SOCK_CLOEXEC` bits).
    MaskedLowIn {
        arg: u8,
        mask: u32,
        values: Vec<u32>,
    },
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
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
    /// io_uring is refused (ENOSYS, so programs fall back to ordinary syscalls) unless the
    /// policy says `allow io-uring`: its operations (socket, connect, send, listen, …) run
    /// in the kernel without meeting the filter, so they bypass every argument rule, and
    /// Flatpak 1.14's filter allows it.
    IoUringRefused,
    /// With port rules, what Landlock's TCP port rules cannot see is refused: inet sockets
    /// other than TCP, UDP and ping (MPTCP, SCTP, raw, …: EACCES), `MSG_FASTOPEN` on
    /// `sendto`/`sendmsg`/`sendmmsg` (EOPNOTSUPP), `socketcall` on the compat ABI (ENOSYS),
    /// and with `udp none` inet datagram sockets (EACCES).
    PortRuleBypasses,
}

impl Hardening {
    /// Every hardening, in a fixed order.
    pub const ALL: [Hardening; 7] = [
        Hardening::Low32Arguments,
        Hardening::UnknownSyscallsEnosys,
        Hardening::KillProcess,
        Hardening::SocketFamiliesUnderMultiarch,
        Hardening::NewerSiblings,
        Hardening::IoUringRefused,
        Hardening::PortRuleBypasses,
    ];

    /// A short stable tag.
    pub fn tag(self) -> &'static str {
        match self {
            Hardening::Low32Arguments => "low-32-bit-arguments",
            Hardening::UnknownSyscallsEnosys => "unknown-syscalls-enosys",
            Hardening::KillProcess => "kill-process",
            Hardening::SocketFamiliesUnderMultiarch => "socket-families-under-multiarch",
            Hardening::NewerSiblings => "newer-siblings",
            Hardening::IoUringRefused => "io-uring-refused",
            Hardening::PortRuleBypasses => "port-rule-bypasses",
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
            Hardening::IoUringRefused => {
                "io_uring_setup, io_uring_enter and io_uring_register get ENOSYS unless `allow io-uring` (io_uring operations bypass the filter's argument rules)"
            }
            Hardening::PortRuleBypasses => {
                "with port rules: inet sockets other than TCP, UDP and ping get EACCES (UDP too with `udp none`), MSG_FASTOPEN gets EOPNOTSUPP, compat socketcall ENOSYS"
            }
        }
    }
}

/// One restricted syscall: its clauses, tried in order; the first that holds decides, and
/// the syscall is allowed when none does.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// The syscall's name in the tables.
    pub syscall: &'static str,
    /// At least one clause.
    pub clauses: Vec<Clause>,
}

/// One condition of a rule and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Clause {
    /// When [`Clause::action`] applies.
    pub condition: Condition,
    /// The verdict when the condition holds.
    pub action: Action,
    /// Why (paraphrasing Flatpak's source comments).
    pub why: &'static str,
    /// `None` for Flatpak's own rule.
    pub hardening: Option<Hardening>,
}

impl Rule {
    /// A rule of one clause.
    pub fn one(
        syscall: &'static str,
        condition: Condition,
        action: Action,
        why: &'static str,
        hardening: Option<Hardening>,
    ) -> Rule {
        Rule {
            syscall,
            clauses: vec![Clause {
                condition,
                action,
                why,
                hardening,
            }],
        }
    }
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
    let always = |syscall, action, why, hardening| {
        Rule::one(syscall, Condition::Always, action, why, hardening)
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
        rules.push(always(syscall, eperm, why, None));
    }
    rules.push(always(
        "quotactl_fd",
        eperm,
        "quota information, like quotactl",
        Some(Hardening::NewerSiblings),
    ));
    rules.push(always(
        "set_mempolicy_home_node",
        eperm,
        "NUMA and VM internals, like set_mempolicy",
        Some(Hardening::NewerSiblings),
    ));
    rules.push(always(
        "clone3",
        enosys,
        "its flags live in memory and cannot be checked; ENOSYS makes libc fall back to clone",
        None,
    ));
    for syscall in [
        "open_tree",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
    ] {
        rules.push(always(syscall, enosys, "the new mount API", None));
    }
    rules.push(always(
        "open_tree_attr",
        enosys,
        "the new mount API",
        Some(Hardening::NewerSiblings),
    ));
    if !features.devel {
        rules.push(always("ptrace", eperm, "no tracing without devel", None));
        rules.push(always(
            "perf_event_open",
            eperm,
            "no performance counters without devel",
            None,
        ));
        rules.push(Rule::one(
            "personality",
            Condition::Ne {
                arg: 0,
                value: PER_LINUX,
            },
            eperm,
            "only PER_LINUX without devel (a full-width compare)",
            None,
        ));
    }
    // Hardening: io_uring runs socket, connect, send, listen, … without meeting this
    // filter. ENOSYS, not EPERM: programs read it as "io_uring is not there" and fall back
    // to ordinary syscalls (liburing users, libuv, tokio), as libc does for clone3.
    if !features.io_uring {
        for syscall in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
            rules.push(always(
                syscall,
                enosys,
                "io_uring operations bypass the filter's argument rules (`allow io-uring` grants it)",
                Some(Hardening::IoUringRefused),
            ));
        }
    }
    rules.push(Rule::one(
        "clone",
        Condition::LowBitsSet {
            arg: 0,
            mask: CLONE_NEWUSER as u32,
        },
        eperm,
        "no new user namespace",
        None,
    ));
    rules.push(Rule::one(
        "ioctl",
        Condition::LowIn {
            arg: 1,
            values: vec![TIOCSTI, TIOCLINUX],
        },
        eperm,
        "TIOCSTI and TIOCLINUX inject input into the terminal (CVE-2017-5226, CVE-2023-28100)",
        Some(Hardening::Low32Arguments),
    ));
    let mut families = vec![0, 1, 2, 10, 16];
    if features.canbus {
        families.push(29);
    }
    if features.bluetooth {
        families.push(31);
    }
    let mut socket = Rule::one(
        "socket",
        Condition::LowNotIn {
            arg: 0,
            values: families,
        },
        Action::Errno(EAFNOSUPPORT),
        "only the allowed address families",
        Some(if features.multiarch {
            Hardening::SocketFamiliesUnderMultiarch
        } else {
            Hardening::Low32Arguments
        }),
    );
    if features.port_rules {
        // Hardening: Landlock's port rules see TCP alone, so an inet socket of any other
        // protocol (MPTCP 262, SCTP 132 — which `SOCK_SEQPACKET` with protocol 0 picks —,
        // UDP-Lite, raw) would connect and bind anywhere. The second clause refuses it;
        // the family clause before it keeps EAFNOSUPPORT for the families Flatpak refuses.
        socket.clauses.push(Clause {
            condition: inet_socket_refused(features.udp_none),
            action: Action::Errno(EACCES),
            why: if features.udp_none {
                "with port rules and `udp none`: inet sockets only as TCP (Landlock's port rules cover TCP alone)"
            } else {
                "with port rules: inet sockets only as TCP, UDP or ping (Landlock's port rules cover TCP alone)"
            },
            hardening: Some(Hardening::PortRuleBypasses),
        });
        // Hardening: TCP Fast Open connects inside sendto/sendmsg, past the connect hook
        // Landlock's port rules use. EOPNOTSUPP is what the kernel returns when client TFO
        // is off, so programs fall back to connect(), which Landlock checks.
        for (syscall, flags) in [("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3), ("send", 3)] {
            rules.push(Rule::one(
                syscall,
                Condition::LowBitsSet {
                    arg: flags,
                    mask: MSG_FASTOPEN,
                },
                Action::Errno(EOPNOTSUPP),
                "with port rules: no TCP Fast Open (MSG_FASTOPEN connects past Landlock's connect hook)",
                Some(Hardening::PortRuleBypasses),
            ));
        }
        // Hardening: socketcall (i386) passes its arguments in memory, where no filter can
        // read them; the compat ABI's direct socket calls (filtered above) remain. ENOSYS:
        // "not there", what a libc falling back to the direct calls looks for.
        rules.push(always(
            "socketcall",
            enosys,
            "with port rules: its arguments are in memory and cannot be checked (use the direct socket calls)",
            Some(Hardening::PortRuleBypasses),
        ));
    }
    rules.push(socket);
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

/// The condition under which an inet socket escapes the port rules: an `AF_INET` or
/// `AF_INET6` socket that is neither TCP (`SOCK_STREAM` with protocol 0 or `IPPROTO_TCP`)
/// nor, unless `udp none`, a datagram socket of UDP or ping (`SOCK_DGRAM` with protocol 0,
/// `IPPROTO_UDP`, `IPPROTO_ICMP` or `IPPROTO_ICMPV6`). The type is read through
/// `SOCK_TYPE_MASK`, as the kernel reads it, so `SOCK_NONBLOCK`/`SOCK_CLOEXEC` do not matter.
fn inet_socket_refused(udp_none: bool) -> Condition {
    let kind = |ty: u32, protocols: Vec<u32>| {
        Condition::All(vec![
            Condition::MaskedLowIn {
                arg: 1,
                mask: SOCK_TYPE_MASK,
                values: vec![ty],
            },
            Condition::LowIn {
                arg: 2,
                values: protocols,
            },
        ])
    };
    let mut allowed = vec![kind(SOCK_STREAM, vec![IPPROTO_IP, IPPROTO_TCP])];
    if !udp_none {
        allowed.push(kind(
            SOCK_DGRAM,
            vec![IPPROTO_IP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6],
        ));
    }
    Condition::All(vec![
        Condition::LowIn {
            arg: 0,
            values: vec![AF_INET, AF_INET6],
        },
        Condition::Not(Box::new(Condition::Any(allowed))),
    ])
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
            ("port-rules", f.port_rules),
            ("udp-none", f.udp_none),
            ("io-uring", f.io_uring),
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
            for clause in &rule.clauses {
                let tag = clause
                    .hardening
                    .map(|h| format!(" [hardening: {}]", h.tag()))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "# {:<24} {:<20} {}: {}{tag}",
                    rule.syscall,
                    clause.action.to_string(),
                    clause.condition,
                    clause.why
                );
            }
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
            Condition::MaskedLowIn { arg, mask, values } => {
                write!(f, "a{arg}.lo & {mask:#x} in {{{}}}", list(values))
            }
            Condition::All(parts) => join(f, parts, " and "),
            Condition::Any(parts) => join(f, parts, " or "),
            Condition::Not(inner) => write!(f, "not ({inner})"),
        }
    }
}

/// `(a) and (b)`: compound parts in parentheses, atoms bare.
fn join(f: &mut std::fmt::Formatter<'_>, parts: &[Condition], separator: &str) -> std::fmt::Result {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        match part {
            Condition::All(_) | Condition::Any(_) => write!(f, "({part})")?,
            _ => write!(f, "{part}")?,
        }
    }
    Ok(())
}
