//! Seccomp in the IR: architectures, verdicts, the feature bits that matter to the filter,
//! the syscall tables, the rules the backend compiles, and the intended decision the
//! verifier checks the compiled program against.
//!
//! Two independent statements of the same meaning live here on purpose:
//!
//! * [`rules::spec`] is *what to compile*: a list of per-syscall rules with their reasons,
//!   which the backend turns into BPF and `explain` shows;
//! * [`decide::decide`] is *what it must mean*: a direct transcription of Flatpak 1.14's
//!   `setup_seccomp` (flatpak-semantics §4) plus the documented [`Hardening`], as a plain
//!   function of one `seccomp_data`.
//!
//! The verifier proves that the program compiled from the first agrees with the second on
//! every syscall number and every argument partition.

pub mod arch;
pub mod decide;
pub mod rules;
pub mod table;

pub use arch::Arch;
pub use decide::decide;
pub use rules::{spec, Clause, Condition, FilterSpec, Hardening, Rule};

use crate::context::{Context, Feature};

/// `EPERM`: the same number on every supported architecture.
pub const EPERM: u16 = 1;
/// `ENOSYS`: the same number on every supported architecture.
pub const ENOSYS: u16 = 38;
/// `EAFNOSUPPORT`: the same number on every supported architecture.
pub const EAFNOSUPPORT: u16 = 97;
/// `EACCES`: the same number on every supported architecture. What Landlock returns for a
/// refused `connect`/`bind`, and what we return for an inet socket the port rules cannot
/// cover (MPTCP, SCTP, raw, …).
pub const EACCES: u16 = 13;
/// `EOPNOTSUPP`: the same number on every supported architecture (95 on x86, Arm and
/// asm-generic). What the kernel itself returns for `MSG_FASTOPEN` when client TCP Fast
/// Open is off, so programs fall back to `connect`, which Landlock checks.
pub const EOPNOTSUPP: u16 = 95;

/// `AF_INET`.
pub const AF_INET: u32 = 2;
/// `AF_INET6`.
pub const AF_INET6: u32 = 10;
/// `SOCK_STREAM`.
pub const SOCK_STREAM: u32 = 1;
/// `SOCK_DGRAM`.
pub const SOCK_DGRAM: u32 = 2;
/// `SOCK_TYPE_MASK`: the kernel reads the socket type from these bits of `socket`'s
/// second argument; the others carry `SOCK_NONBLOCK` and `SOCK_CLOEXEC`.
pub const SOCK_TYPE_MASK: u32 = 0xf;
/// `IPPROTO_IP`: the default protocol of the type (TCP for stream, UDP for datagram).
pub const IPPROTO_IP: u32 = 0;
/// `IPPROTO_ICMP` (ping sockets).
pub const IPPROTO_ICMP: u32 = 1;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u32 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u32 = 17;
/// `IPPROTO_ICMPV6` (IPv6 ping sockets).
pub const IPPROTO_ICMPV6: u32 = 58;
/// `MSG_FASTOPEN`: TCP Fast Open, a connect carried by `sendto`/`sendmsg`, which does not
/// go through the `connect` hook Landlock's port rules use.
pub const MSG_FASTOPEN: u32 = 0x2000_0000;

/// `CLONE_NEWUSER`, the flag Flatpak refuses in `clone`.
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
/// `TIOCSTI` (asm-generic and x86 agree): pushes bytes into a terminal's input.
pub const TIOCSTI: u32 = 0x5412;
/// `TIOCLINUX` (asm-generic and x86 agree): console selection copy and paste.
pub const TIOCLINUX: u32 = 0x541C;
/// `PER_LINUX`, the only personality Flatpak lets a non-devel app set.
pub const PER_LINUX: u64 = 0;

/// What a seccomp filter returns for one syscall.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Action {
    /// Run the syscall.
    Allow,
    /// Fail it with this errno, without running it.
    Errno(u16),
    /// Kill the whole process (`SECCOMP_RET_KILL_PROCESS`).
    KillProcess,
    /// Kill the calling thread (`SECCOMP_RET_KILL_THREAD`), what libseccomp uses by default.
    KillThread,
}

impl Action {
    /// The 32-bit value a `BPF_RET` returns for this action.
    pub fn to_ret(self) -> u32 {
        match self {
            Action::Allow => 0x7fff_0000,
            Action::Errno(errno) => 0x0005_0000 | u32::from(errno),
            Action::KillProcess => 0x8000_0000,
            Action::KillThread => 0,
        }
    }

    /// The action a `BPF_RET` value stands for, when it is one of the four above
    /// (`None` for trap, trace, log, user-notify and reserved values).
    pub fn from_ret(ret: u32) -> Option<Action> {
        match ret & 0xffff_0000 {
            0x7fff_0000 => Some(Action::Allow),
            0x0005_0000 => Some(Action::Errno((ret & 0xffff) as u16)),
            0x8000_0000 => Some(Action::KillProcess),
            0 => Some(Action::KillThread),
            _ => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Allow => f.write_str("ALLOW"),
            Action::Errno(e) => match *e {
                EPERM => f.write_str("ERRNO(EPERM)"),
                ENOSYS => f.write_str("ERRNO(ENOSYS)"),
                EAFNOSUPPORT => f.write_str("ERRNO(EAFNOSUPPORT)"),
                EACCES => f.write_str("ERRNO(EACCES)"),
                EOPNOTSUPP => f.write_str("ERRNO(EOPNOTSUPP)"),
                other => write!(f, "ERRNO({other})"),
            },
            Action::KillProcess => f.write_str("KILL_PROCESS"),
            Action::KillThread => f.write_str("KILL_THREAD"),
        }
    }
}

/// What changes the filter: the four Flatpak features (`flatpak_context_get_run_flags`)
/// and three portcullis-only settings (port rules, `udp none`, `allow io-uring`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Features {
    /// `allow=devel`: ptrace, perf_event_open and personality are not blocked.
    pub devel: bool,
    /// `allow=multiarch`: the compat architecture (i386, arm) is added.
    pub multiarch: bool,
    /// `allow=bluetooth`: `socket(AF_BLUETOOTH)` is allowed.
    pub bluetooth: bool,
    /// `allow=canbus`: `socket(AF_CAN)` is allowed.
    pub canbus: bool,
    /// Beyond Flatpak: the policy has TCP port rules (a `network` block). The filter then
    /// closes what Landlock's port rules do not see: inet sockets other than TCP, UDP and
    /// ping (MPTCP, SCTP, raw…), `MSG_FASTOPEN`, and `socketcall` on the compat ABI.
    #[serde(default)]
    pub port_rules: bool,
    /// Beyond Flatpak: `network { udp none }`, inet datagram sockets refused too (only
    /// meaningful with [`Features::port_rules`]).
    #[serde(default)]
    pub udp_none: bool,
    /// Beyond Flatpak: `allow io-uring`; without it the three io_uring syscalls get ENOSYS.
    #[serde(default)]
    pub io_uring: bool,
}

impl Features {
    /// The features a merged context grants.
    pub fn from_context(context: &Context) -> Features {
        Features {
            devel: context.has_feature(Feature::Devel),
            multiarch: context.has_feature(Feature::Multiarch),
            bluetooth: context.has_feature(Feature::Bluetooth),
            canbus: context.has_feature(Feature::Canbus),
            port_rules: false,
            udp_none: false,
            io_uring: false,
        }
    }

    /// The features of a policy: its context's, plus the port rules, `udp none` and
    /// `allow io-uring` of its beyond-Flatpak layers.
    pub fn from_policy(policy: &crate::Policy) -> Features {
        let network = policy.beyond.network.as_ref();
        Features {
            port_rules: network.is_some(),
            udp_none: network.is_some_and(|n| n.udp_none),
            io_uring: policy.beyond.io_uring.is_some(),
            ..Features::from_context(&policy.context)
        }
    }

    /// Every combination that can occur, in a fixed order (for exhaustive tests): the four
    /// Flatpak bits, times no port rules / port rules / port rules with `udp none`, times
    /// io_uring refused or allowed (96 in all).
    pub fn all() -> impl Iterator<Item = Features> {
        (0u8..16).flat_map(|bits| {
            [(false, false), (true, false), (true, true)]
                .into_iter()
                .flat_map(move |(port_rules, udp_none)| {
                    [false, true].into_iter().map(move |io_uring| Features {
                        devel: bits & 1 != 0,
                        multiarch: bits & 2 != 0,
                        bluetooth: bits & 4 != 0,
                        canbus: bits & 8 != 0,
                        port_rules,
                        udp_none,
                        io_uring,
                    })
                })
        })
    }
}

/// The part of the kernel's `struct seccomp_data` a filter can see that matters here
/// (the instruction pointer is never looked at).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeccompData {
    /// The syscall number.
    pub nr: u32,
    /// The `AUDIT_ARCH_*` value of the calling ABI.
    pub arch: u32,
    /// The instruction pointer.
    pub instruction_pointer: u64,
    /// The six arguments, as 64-bit values.
    pub args: [u64; 6],
}
