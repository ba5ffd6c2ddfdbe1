//! The resource-limits section: memory, processes, open files, CPU time and CPU share.
//!
//! Written by `portcullis_backends::landlock::limits_section`, applied by the executor
//! (`executor/src/limits.rs`) inside the sandbox's user namespace before exec: rlimits
//! always, cgroup v2 only for what rlimits cannot express (a CPU share), and only where the
//! executor's own cgroup lets it create a child.

use crate::landlock::Requirement;

/// The limits of one sandbox. A `None` value is not limited.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitsSection {
    /// How hard the limits must hold: with `Required`, a limit that cannot be applied
    /// aborts the launch (exit 125).
    pub level: Requirement,
    /// Bytes of address space and of data (`RLIMIT_AS` and `RLIMIT_DATA`).
    pub memory: Option<u64>,
    /// Processes and threads of the sandbox's user (`RLIMIT_NPROC`).
    pub processes: Option<u64>,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
    /// Seconds of CPU time (`RLIMIT_CPU`).
    pub cpu_time: Option<u64>,
    /// Percent of one CPU (cgroup v2 `cpu.max`).
    pub cpu_share: Option<u64>,
}

impl LimitsSection {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.processes.is_none()
            && self.open_files.is_none()
            && self.cpu_time.is_none()
            && self.cpu_share.is_none()
    }
}
