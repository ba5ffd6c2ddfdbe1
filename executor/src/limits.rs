//! The resource-limits step: rlimits from the blob's limits section.
//!
//! Runs inside the sandbox's user namespace, before exec; rlimits are inherited by every
//! process the command starts and can only be lowered from there.
//!
//! | limit | mechanism |
//! |---|---|
//! | memory | `RLIMIT_AS` and `RLIMIT_DATA` (an allocation past it fails with `ENOMEM`) |
//! | processes | `RLIMIT_NPROC` (a `fork`/`clone` past it fails with `EAGAIN`) |
//! | open files | `RLIMIT_NOFILE` (`EMFILE`) |
//! | cpu time | `RLIMIT_CPU` soft (`SIGXCPU`), hard one second later (`SIGKILL`) |
//! | cpu share | cgroup v2 `cpu.max`: not applied by this step (reported as such) |
//!
//! `RLIMIT_NPROC` counts the processes of the *real uid*, and since Linux 5.14 the count
//! is kept per user namespace (`ucounts`): processes of the sandbox's own user namespace
//! are charged to that namespace's counter for the uid they run as, not to the host
//! user's other processes. Because the executor always enters a new user namespace, the
//! limit therefore counts the sandbox's processes (and threads) only, including the
//! executor itself. The kernel skips the check for tasks with `CAP_SYS_ADMIN` or
//! `CAP_SYS_RESOURCE` in the *initial* user namespace, which a sandboxed process never has,
//! even when the executor was started by root.
//!
//! The kernel also exempts every task whose *host* uid is 0 (`INIT_USER`), whatever its
//! namespace: when root launches the sandbox with its own uid mapped, `RLIMIT_NPROC` is
//! still set but cannot bind, and the step says so (a required process limit then aborts
//! the launch). Launched by an ordinary user, the sandbox runs under that user's host uid
//! and the limit holds.
//!
//! A value is never raised: when the current hard limit is already lower, it stays.

use std::fmt;

use portcullis_blob::landlock::Requirement;
use portcullis_blob::limits::LimitsSection;

use crate::sys;

/// One limit that was applied or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The limit's name in the policy language.
    pub name: &'static str,
    /// The value asked for.
    pub value: u64,
    /// How it was applied (`RLIMIT_AS, RLIMIT_DATA`), or why not.
    pub how: Result<&'static str, String>,
}

/// What the limits step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitsReport {
    /// One entry per limit in the section, in the table's order.
    pub limits: Vec<Applied>,
}

impl fmt::Display for LimitsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limits.is_empty() {
            return write!(f, "limits: none");
        }
        let parts: Vec<String> = self
            .limits
            .iter()
            .map(|a| match &a.how {
                Ok(how) => format!("{} {} ({how})", a.name, a.value),
                Err(why) => format!("{} {} not applied: {why}", a.name, a.value),
            })
            .collect();
        write!(f, "limits: {}", parts.join("; "))
    }
}

/// A required limit that could not be applied; the launch is aborted (exit 125).
#[derive(Debug, PartialEq, Eq)]
pub struct LimitsError {
    /// The limit's name.
    pub name: &'static str,
    /// Why.
    pub why: String,
}

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is required and could not be applied: {}",
            self.name, self.why
        )
    }
}

/// Lowers one resource to `soft`/`hard` (never above the current hard limit).
fn lower(resource: sys::Resource, soft: u64, hard: u64) -> Result<(), String> {
    let (_, current_hard) = sys::getrlimit(resource).map_err(|e| e.to_string())?;
    let hard = hard.min(current_hard);
    sys::setrlimit(resource, soft.min(hard), hard).map_err(|e| e.to_string())
}

/// Whether this process runs as the host's root: its uid, mapped through the user
/// namespace it is in, is 0 outside (`/proc/self/status` and `/proc/self/uid_map`).
fn host_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(uid) = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return false;
    };
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    map.lines().any(|line| {
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        f.len() == 3 && f[0] <= uid && uid < f[0] + f[2] && f[1] + (uid - f[0]) == 0
    })
}

fn rlimits(resources: &[sys::Resource], soft: u64, hard: u64) -> Result<(), String> {
    resources.iter().try_for_each(|r| lower(*r, soft, hard))
}

/// Applies the section to the calling process.
pub fn apply(section: &LimitsSection) -> Result<LimitsReport, LimitsError> {
    use sys::Resource::{AddressSpace, Cpu, Data, OpenFiles, Processes};
    let mut report = LimitsReport::default();
    let mut push = |name: &'static str,
                    value: Option<u64>,
                    how: &dyn Fn(u64) -> Result<&'static str, String>| {
        if let Some(value) = value {
            report.limits.push(Applied {
                name,
                value,
                how: how(value),
            });
        }
    };
    push("memory", section.memory, &|v| {
        rlimits(&[AddressSpace, Data], v, v).map(|()| "RLIMIT_AS, RLIMIT_DATA")
    });
    push("processes", section.processes, &|v| {
        rlimits(&[Processes], v, v)?;
        if host_root() {
            return Err(
                "RLIMIT_NPROC is set, but the kernel exempts the host's root from it; \
                 launch as an ordinary user for a process limit"
                    .to_string(),
            );
        }
        Ok("RLIMIT_NPROC, counted in the sandbox's user namespace")
    });
    push("open-files", section.open_files, &|v| {
        rlimits(&[OpenFiles], v, v).map(|()| "RLIMIT_NOFILE")
    });
    push("cpu-time", section.cpu_time, &|v| {
        rlimits(&[Cpu], v, v.saturating_add(1)).map(|()| "RLIMIT_CPU")
    });
    push("cpu-share", section.cpu_share, &|_| {
        Err(
            "a cpu share needs a delegated cgroup v2, which this executor does not set up"
                .to_string(),
        )
    });
    if section.level == Requirement::Required {
        for applied in &report.limits {
            if let Err(why) = &applied.how {
                return Err(LimitsError {
                    name: applied.name,
                    why: why.clone(),
                });
            }
        }
    }
    let unapplied = report.limits.iter().any(|a| a.how.is_err());
    if unapplied || std::env::var_os(crate::landlock::REPORT_VARIABLE).is_some() {
        eprintln!("portcullis-exec: {report}");
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
