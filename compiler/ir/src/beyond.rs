//! What portcullis enforces beyond Flatpak: TCP port rules, Landlock scopes, resource
//! limits, single device nodes, deny masks and fine-grained D-Bus rules.
//!
//! Each layer states how hard it must hold ([`Level`]): the executor aborts the launch when
//! a `Required` feature is missing from the kernel and reports what a `BestEffort` one
//! achieved.

use crate::dbus::{Bus, BusName};
use crate::origin::Origin;

/// How hard a layer must hold.
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
pub enum Level {
    /// Not applied.
    Off,
    /// Applied as far as the running kernel allows; what was applied is reported.
    #[default]
    BestEffort,
    /// The launch fails if the kernel cannot apply it.
    Required,
}

/// An inclusive TCP port range.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port (equal to `first` for a single port).
    pub last: u16,
}

impl std::fmt::Display for PortRange {
    /// `443`, or `8000-8080` for a range.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// A list of port ranges joined by `separator`, or `none` when it is empty (how the
/// policy language, `explain`, `audit` and `diff` write a port rule).
pub fn describe_ports(ranges: &[PortRange], separator: &str) -> String {
    if ranges.is_empty() {
        return "none".to_string();
    }
    ranges
        .iter()
        .map(PortRange::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// TCP port allowlists (Landlock ABI 4+). Only meaningful with `share=network`; without it
/// the network namespace is private anyway.
///
/// Landlock's port rules cover TCP alone. So that they cannot be walked around, a policy
/// with port rules also gets a stricter seccomp filter (`seccomp::Features::port_rules`):
/// inet sockets other than TCP, UDP and ping (MPTCP, SCTP, raw, …) are refused, and so is
/// `MSG_FASTOPEN`. UDP stays outside Landlock's rules: `udp none` refuses it altogether.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkRules {
    /// Ports the app may connect to over TCP; empty means none.
    pub connect: Vec<PortRange>,
    /// Ports the app may bind over TCP; empty means none.
    pub bind: Vec<PortRange>,
    /// `udp none`: inet datagram sockets (UDP, UDP-Lite, ping) are refused by seccomp.
    /// Without it UDP is not restricted by port (Landlock has no UDP rules); with it plain
    /// DNS over UDP fails too.
    #[serde(default)]
    pub udp_none: bool,
    /// Where the rules were written.
    pub origin: Origin,
}

/// The accepted range of each limit, in the unit of its field, by its policy-language
/// name. The executor's blob decoder holds the same table
/// (`portcullis_blob::limits::RANGES`), so a blob can never carry what `check` refuses.
///
/// | limit | range | why the bounds |
/// |---|---|---|
/// | `memory` | 1 MiB to 128 TiB | below 1 MiB nothing can even be executed; 128 TiB is the whole user address space of x86-64 and aarch64 with 4-level page tables. `RLIMIT_AS` takes `u64::MAX` as *unlimited*, so larger values would silently mean no limit |
/// | `processes` | 1 to 4194304 | the kernel's `PID_MAX_LIMIT` |
/// | `open-files` | 1 to 1048576 | the kernel's default `fs.nr_open`, above which `RLIMIT_NOFILE` cannot be set |
/// | `cpu-time` | 1 s to 8760 h (one year) | a longer `RLIMIT_CPU` is no limit in practice |
/// | `cpu-share` | 1 % to 102400 % (1024 CPUs) | percent of one CPU |
pub const LIMIT_RANGES: [(&str, u64, u64); 5] = [
    ("memory", 1 << 20, 128 << 40),
    ("processes", 1, 4_194_304),
    ("open-files", 1, 1_048_576),
    ("cpu-time", 1, 8760 * 3600),
    ("cpu-share", 1, 102_400),
];

/// The accepted range of limit `name` (`memory`, `processes`, …), if it is one.
pub fn limit_range(name: &str) -> Option<(u64, u64)> {
    LIMIT_RANGES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, low, high)| (low, high))
}

/// One resource limit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limit {
    /// The value, in the unit of its field.
    pub value: u64,
    /// Where it was written.
    pub origin: Origin,
}

/// Resource limits (rlimits, and cgroup v2 where delegated).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Address-space / memory limit in bytes.
    pub memory: Option<Limit>,
    /// Number of processes (threads included, as `RLIMIT_NPROC` counts them).
    pub processes: Option<Limit>,
    /// Open file descriptors.
    pub open_files: Option<Limit>,
    /// CPU time in seconds.
    pub cpu_time: Option<Limit>,
    /// CPU share in percent of one CPU (cgroup `cpu.max`), where cgroups are delegated.
    pub cpu_share: Option<Limit>,
}

/// A subpath masked inside a granted tree (`home except ~/.ssh`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DenyMask {
    /// `~/…` or an absolute path, normalised.
    pub path: String,
    /// Where it was written.
    pub origin: Origin,
}

/// A single device node granted on its own (`device-node /dev/ttyUSB0`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceNode {
    /// Absolute path under `/dev`.
    pub path: String,
    /// Read-write (the default) or read-only.
    pub writable: bool,
    /// Where it was written.
    pub origin: Origin,
}

/// Whether a fine-grained D-Bus rule is a method-call or a broadcast rule.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum BusRuleKind {
    /// `--call=NAME=RULE`.
    Call,
    /// `--broadcast=NAME=RULE`.
    Broadcast,
}

/// A fine-grained `--call` / `--broadcast` proxy rule.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusRule {
    /// Which bus.
    pub bus: Bus,
    /// The peer name (or wildcard).
    pub name: BusName,
    /// Call or broadcast.
    pub kind: BusRuleKind,
    /// `[METHOD][@PATH]` as xdg-dbus-proxy reads it (empty matches everything).
    pub rule: String,
    /// Where it was written.
    pub origin: Origin,
}

/// How hard each portcullis layer must hold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Requirements {
    /// Landlock filesystem rules mirroring the mount plan.
    pub landlock: Level,
    /// Landlock TCP port rules (ABI 4+); only used when [`Beyond::network`] is set.
    pub landlock_network: Level,
    /// Landlock abstract UNIX socket scoping (ABI 6).
    pub scope_abstract_unix: Level,
    /// Landlock signal scoping (ABI 6).
    pub scope_signal: Level,
    /// Resource limits.
    pub limits: Level,
}

impl Default for Requirements {
    fn default() -> Self {
        Requirements {
            landlock: Level::BestEffort,
            landlock_network: Level::Required,
            scope_abstract_unix: Level::BestEffort,
            scope_signal: Level::BestEffort,
            limits: Level::Required,
        }
    }
}

/// Everything beyond Flatpak's context.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Beyond {
    /// TCP port allowlists; `None` means no port rules (share=network alone decides).
    pub network: Option<NetworkRules>,
    /// Resource limits.
    pub limits: Limits,
    /// Deny masks inside granted trees.
    pub deny: Vec<DenyMask>,
    /// Single device nodes.
    pub device_nodes: Vec<DeviceNode>,
    /// Fine-grained D-Bus rules.
    pub bus_rules: Vec<BusRule>,
    /// How hard each layer must hold.
    pub requirements: Requirements,
    /// `allow io-uring` (portcullis only): where it was granted. `None`, the default,
    /// refuses `io_uring_setup`, `io_uring_enter` and `io_uring_register` with ENOSYS,
    /// because io_uring operations (socket, connect, send, listen, …) bypass every
    /// argument rule of the seccomp filter.
    #[serde(default)]
    pub io_uring: Option<Origin>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_written_as_single_ports_ranges_or_none() {
        let single = PortRange {
            first: 443,
            last: 443,
        };
        let range = PortRange {
            first: 8000,
            last: 8080,
        };
        assert_eq!(describe_ports(&[single, range], ", "), "443, 8000-8080");
        assert_eq!(describe_ports(&[single, range], ","), "443,8000-8080");
        assert_eq!(describe_ports(&[], ","), "none");
    }
}
