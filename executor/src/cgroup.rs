//! The launch's own cgroups: memory, process and CPU-share limits that hold for the whole
//! sandbox, for root too, and are removed when the launch ends.
//!
//! Which mechanism holds a limit is decided per controller, in this order:
//!
//! 1. **cgroup v2**, when the unified hierarchy offers the controller (`memory`, `pids`,
//!    `cpu`) and the caller can write there: a delegated subtree, or root. The launch's
//!    cgroup is `portcullis/<app-id>-<pid>` under the caller's own cgroup, or, when that
//!    cgroup holds processes and cannot enable controllers for children (the kernel's
//!    "no internal processes" rule), under its parent. The needed controllers are
//!    enabled in `cgroup.subtree_control` on the way. Limits: `memory.max`,
//!    `memory.swap.max` 0, `memory.oom.group` 1, `pids.max`, `cpu.max`.
//! 2. **cgroup v1**, on hybrid and legacy hosts, for a controller mounted as its own
//!    hierarchy: `portcullis/<app-id>-<pid>` under the caller's cgroup in that hierarchy.
//!    Limits: `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes` when swap is
//!    accounted), `pids.max`, `cpu.cfs_period_us`/`cpu.cfs_quota_us`.
//! 3. **rlimits** ([`crate::limits`]), the last resort, when no cgroup could be made for
//!    the controller: memory as `RLIMIT_AS`, processes as `RLIMIT_NPROC` (which the kernel
//!    does not apply to the host's root); a CPU share has none.
//!
//! The directories are made and filled by the outer process on the host, before any
//! namespace exists ([`create`]); pid 1 joins them right after the split and then enters
//! a new cgroup namespace, so `/proc/self/cgroup` in the sandbox shows `/` and the app's
//! root has no cgroupfs mounted ([`Cgroups::join`]). The outer process, which stays on
//! the host, reports a limit that was hit and removes the directories when pid 1 has
//! ended, killing any process left in them first ([`Cgroups::finish`]); dropping the
//! value removes them too, so a launch that fails before the split leaves nothing. An
//! executor killed outright (`SIGKILL`) cannot clean up: the kernel ends its sandbox, and
//! the next launch that uses the same `portcullis` directory removes the empty cgroup.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sys::{fs, process};

/// Period of the CPU bandwidth controller, in microseconds (the kernel's default).
pub const CPU_PERIOD_US: u64 = 100_000;

/// The limits that a cgroup can hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Bytes of memory.
    pub memory: Option<u64>,
    /// Processes and threads.
    pub processes: Option<u64>,
    /// Percent of one CPU.
    pub cpu_share: Option<u64>,
}

/// A cgroup controller this module uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// `memory`: the memory limit.
    Memory,
    /// `pids`: the process limit.
    Pids,
    /// `cpu`: the CPU share.
    Cpu,
}

impl Controller {
    /// The controller's name in cgroupfs.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }
}

/// The cgroup version of a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// The unified hierarchy.
    V2,
    /// A legacy hierarchy of one or more controllers.
    V1,
}

/// What the cgroups hold, per limit: `None` when not asked for, `Ok(how)` when a cgroup
/// holds it, `Err(why not)` when it falls to the rlimits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// The memory limit.
    pub memory: Option<Result<&'static str, String>>,
    /// The process limit.
    pub processes: Option<Result<&'static str, String>>,
    /// The CPU share.
    pub cpu_share: Option<Result<&'static str, String>>,
}

/// One cgroup directory made for the launch. The outer process reaches it through
/// descriptors opened on the host: once pid 1 has pivoted into the sandbox's root, the
/// mount namespace the outer process shares with it no longer shows the host's paths.
#[derive(Debug)]
struct Dir {
    /// The path on the host, for joining (pid 1, before `pivot_root`) and reports.
    path: PathBuf,
    /// The shared `portcullis` directory holding it.
    base: OwnedFd,
    /// The directory holding `portcullis`.
    above: OwnedFd,
    /// The directory's name in `portcullis`.
    leaf: String,
    version: Version,
    controllers: Vec<Controller>,
}

impl Dir {
    /// Opens the directories around the cgroup `path` made by [`make_leaf`]; when they
    /// cannot be opened, the cgroup is removed again.
    fn open(path: PathBuf, version: Version, controllers: &[Controller]) -> Result<Dir, String> {
        let open = |p: &Path| {
            std::fs::File::open(p)
                .map(OwnedFd::from)
                .map_err(with_path(p))
        };
        let base_path = path.parent().unwrap_or(Path::new("/"));
        let opened = open(base_path)
            .and_then(|base| Ok((base, open(base_path.parent().unwrap_or(Path::new("/")))?)));
        let leaf = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match opened {
            Ok((base, above)) => Ok(Dir {
                path,
                base,
                above,
                leaf,
                version,
                controllers: controllers.to_vec(),
            }),
            Err(e) => {
                let _ = std::fs::remove_dir(&path);
                Err(e)
            }
        }
    }

    /// Reads `file` of the cgroup through the descriptor (empty when it cannot).
    fn read(&self, file: &str) -> String {
        let mut text = String::new();
        let rel = format!("{}/{file}", self.leaf);
        if let Ok(fd) = fs::openat2(self.base.as_raw_fd(), &rel, libc::O_RDONLY, 0, BENEATH) {
            let _ = std::fs::File::from(fd).read_to_string(&mut text);
        }
        text
    }

    /// Writes `value` to `file` of the cgroup through the descriptor.
    fn write(&self, file: &str, value: &str) -> io::Result<()> {
        let rel = format!("{}/{file}", self.leaf);
        let fd = fs::openat2(self.base.as_raw_fd(), &rel, libc::O_WRONLY, 0, BENEATH)?;
        std::fs::File::from(fd).write_all(value.as_bytes())
    }
}

/// Resolution inside the directory only, no symbolic links (cgroupfs has none).
const BENEATH: u64 = fs::RESOLVE_BENEATH | fs::RESOLVE_NO_SYMLINKS;

/// The launch's cgroups. Dropped in the outer process, it removes them.
#[derive(Debug)]
pub struct Cgroups {
    dirs: Vec<Dir>,
    wanted: Wanted,
    held: Held,
    armed: bool,
}

/// A cgroup hierarchy mounted on this host, as `/proc/self/mountinfo` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where it is mounted.
    pub mount: PathBuf,
    /// The mount's root inside the hierarchy (`/` unless a subtree is mounted).
    pub root: String,
    /// v1 or v2.
    pub version: Version,
    /// The v1 controllers bound to it (empty for v2).
    pub controllers: Vec<String>,
}

/// The cgroup hierarchies in `mountinfo` text.
pub fn hierarchies(mountinfo: &str) -> Vec<Hierarchy> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let options = right.nth(1).unwrap_or("");
            let (root, mount) = (fields.get(3)?, fields.get(4)?);
            let version = match fstype {
                "cgroup2" => Version::V2,
                "cgroup" => Version::V1,
                _ => return None,
            };
            let controllers = match version {
                Version::V2 => Vec::new(),
                Version::V1 => options
                    .split(',')
                    .filter(|o| ["memory", "pids", "cpu"].contains(o))
                    .map(String::from)
                    .collect(),
            };
            Some(Hierarchy {
                mount: PathBuf::from(mount),
                root: root.to_string(),
                version,
                controllers,
            })
        })
        .collect()
}

/// The caller's cgroup in each hierarchy from `/proc/self/cgroup` text: the v2 path, and
/// the v1 path of each controller.
pub fn memberships(text: &str) -> (Option<String>, Vec<(String, String)>) {
    let mut v2 = None;
    let mut v1 = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        } else {
            v1.extend(
                controllers
                    .split(',')
                    .map(|c| (c.to_string(), path.to_string())),
            );
        }
    }
    (v2, v1)
}

/// The directory of cgroup `path` (as `/proc/self/cgroup` names it) in `hierarchy`;
/// `None` when the path lies outside what is mounted.
pub fn dir_of(hierarchy: &Hierarchy, path: &str) -> Option<PathBuf> {
    let root = hierarchy.root.trim_end_matches('/');
    let rest = path.strip_prefix(root)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = rest.trim_start_matches('/');
    if rest.split('/').any(|c| c == "..") {
        return None;
    }
    Some(if rest.is_empty() {
        hierarchy.mount.clone()
    } else {
        hierarchy.mount.join(rest)
    })
}

/// `cpu.max` for a share in percent of one CPU: quota and period in microseconds.
pub fn cpu_max(share: u64) -> String {
    format!("{} {CPU_PERIOD_US}", cpu_quota(share))
}

/// The CFS quota in microseconds for a share in percent of one CPU (at least 1 ms, the
/// kernel's minimum).
pub fn cpu_quota(share: u64) -> u64 {
    share
        .saturating_mul(CPU_PERIOD_US / 100)
        .clamp(1000, 1 << 40)
}

/// The value of `key` in a flat-keyed cgroup file (`memory.events`, `pids.events`,
/// `memory.oom_control`): `key N` lines.
pub fn counter(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes `value` to an existing cgroup file (never creates one).
fn write(path: &Path, value: &str) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.write_all(value.as_bytes())
}

/// The text of a cgroup file, empty when it cannot be read.
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// An error message naming the file it is about.
fn with_path(path: &Path) -> impl Fn(io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// Makes `parent/portcullis/leaf`; for v2, `enable` is written to the subtree control of
/// `parent` (when it lacks them) and of `parent/portcullis`. A concurrent launch may
/// remove an empty `portcullis` between the two `mkdir`s: then it is tried again.
fn make_leaf(parent: &Path, leaf: &str, enable: Option<&[Controller]>) -> Result<PathBuf, String> {
    if let Some(enable) = enable {
        let control = parent.join("cgroup.subtree_control");
        let enabled = read(&control);
        let missing: Vec<String> = enable
            .iter()
            .filter(|c| !enabled.split_whitespace().any(|e| e == c.name()))
            .map(|c| format!("+{}", c.name()))
            .collect();
        if !missing.is_empty() {
            write(&control, &missing.join(" ")).map_err(with_path(&control))?;
        }
    }
    let base = parent.join("portcullis");
    let path = base.join(leaf);
    let mut tries = 0;
    loop {
        match std::fs::create_dir(&base) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => sweep(&base),
            Err(e) => return Err(with_path(&base)(e)),
        }
        if let Some(enable) = enable {
            let names: Vec<String> = enable.iter().map(|c| format!("+{}", c.name())).collect();
            let control = base.join("cgroup.subtree_control");
            if let Err(e) = write(&control, &names.join(" ")) {
                if e.kind() != io::ErrorKind::NotFound || tries > 3 {
                    return Err(with_path(&control)(e));
                }
                tries += 1;
                continue;
            }
        }
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < 3 => tries += 1,
            Err(e) => return Err(with_path(&path)(e)),
        }
    }
}

/// Removes what an executor that was killed before it could clean up left in `base`:
/// launch cgroups named `…-<pid>` whose executor no longer runs (no `/proc/<pid>`; read
/// on the host, before any namespace). `rmdir` only ever removes an empty cgroup, and a
/// live launch's cgroup is skipped by its pid, so nothing in use is touched. (A launcher
/// in another pid namespace sharing the hierarchy has pids this one cannot see: its empty
/// cgroup could be removed in the moment between `mkdir` and its pid 1 joining, which
/// then fails that launch with 125 rather than running it unlimited.)
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != 0 && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

/// Writes the limits of `controllers` into `dir`; returns how each is held.
fn write_limits(
    dir: &Path,
    version: Version,
    controller: Controller,
    wanted: &Wanted,
) -> Result<&'static str, String> {
    let put = |file: &str, value: String| {
        let path = dir.join(file);
        write(&path, &value).map_err(with_path(&path))
    };
    match (version, controller) {
        (Version::V2, Controller::Memory) => {
            let bytes = wanted.memory.unwrap_or(u64::MAX);
            put("memory.max", bytes.to_string())?;
            put("memory.oom.group", "1".into())?;
            if dir.join("memory.swap.max").exists() {
                put("memory.swap.max", "0".into())?;
                Ok("cgroup v2 memory.max, memory.swap.max 0, memory.oom.group 1")
            } else {
                Ok("cgroup v2 memory.max (no swap accounting), memory.oom.group 1")
            }
        }
        (Version::V1, Controller::Memory) => {
            let bytes = wanted.memory.unwrap_or(u64::MAX);
            put("memory.limit_in_bytes", bytes.to_string())?;
            // memsw counts memory and swap together and must not be below the limit.
            if dir.join("memory.memsw.limit_in_bytes").exists() {
                put("memory.memsw.limit_in_bytes", bytes.to_string())?;
                Ok("cgroup v1 memory.limit_in_bytes, memory.memsw.limit_in_bytes")
            } else {
                Ok("cgroup v1 memory.limit_in_bytes (no swap accounting)")
            }
        }
        (version, Controller::Pids) => {
            put("pids.max", wanted.processes.unwrap_or(0).to_string())?;
            Ok(match version {
                Version::V2 => "cgroup v2 pids.max",
                Version::V1 => "cgroup v1 pids.max",
            })
        }
        (Version::V2, Controller::Cpu) => {
            put("cpu.max", cpu_max(wanted.cpu_share.unwrap_or(100)))?;
            Ok("cgroup v2 cpu.max")
        }
        (Version::V1, Controller::Cpu) => {
            put("cpu.cfs_period_us", CPU_PERIOD_US.to_string())?;
            put(
                "cpu.cfs_quota_us",
                cpu_quota(wanted.cpu_share.unwrap_or(100)).to_string(),
            )?;
            Ok("cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us")
        }
    }
}

/// Where the host's cgroups are: `/proc/self/mountinfo` and `/proc/self/cgroup`.
pub struct HostCgroups {
    /// The mounted hierarchies.
    pub hierarchies: Vec<Hierarchy>,
    /// The caller's v2 cgroup.
    pub v2: Option<String>,
    /// The caller's v1 cgroup per controller.
    pub v1: Vec<(String, String)>,
}

impl HostCgroups {
    /// Reads this process's view.
    pub fn read() -> HostCgroups {
        let (v2, v1) = memberships(&read(Path::new("/proc/self/cgroup")));
        HostCgroups {
            hierarchies: hierarchies(&read(Path::new("/proc/self/mountinfo"))),
            v2,
            v1,
        }
    }
}

/// Makes and fills the launch's cgroups on the host (see the module's order). Limits no
/// cgroup can hold are left to the rlimits, with the reason in [`Cgroups::held`].
pub fn create(wanted: Wanted, app_id: &str, host: &HostCgroups) -> Cgroups {
    let leaf = format!("{app_id}-{}", std::process::id());
    let mut needed = Vec::new();
    if wanted.memory.is_some() {
        needed.push(Controller::Memory);
    }
    if wanted.processes.is_some() {
        needed.push(Controller::Pids);
    }
    if wanted.cpu_share.is_some() {
        needed.push(Controller::Cpu);
    }
    let mut cgroups = Cgroups {
        dirs: Vec::new(),
        wanted,
        held: Held::default(),
        armed: true,
    };
    let mut why: Vec<(Controller, String)> = Vec::new();
    let mut left = needed.clone();

    // 1. cgroup v2, for the controllers the unified hierarchy offers.
    let v2 = host
        .hierarchies
        .iter()
        .find(|h| h.version == Version::V2)
        .and_then(|h| Some((h, dir_of(h, host.v2.as_deref()?)?)));
    if let Some((hierarchy, own)) = v2 {
        let offered = read(&hierarchy.mount.join("cgroup.controllers"));
        let on_v2: Vec<Controller> = left
            .iter()
            .copied()
            .filter(|c| offered.split_whitespace().any(|o| o == c.name()))
            .collect();
        if !on_v2.is_empty() {
            match v2_leaf(hierarchy, &own, &leaf, &on_v2) {
                Ok((path, got)) => {
                    for c in on_v2.iter().filter(|c| !got.contains(c)) {
                        why.push((*c, "cgroup v2: not delegated to this cgroup".into()));
                    }
                    match Dir::open(path, Version::V2, &got) {
                        Ok(dir) => {
                            cgroups.dirs.push(dir);
                            left.retain(|c| !got.contains(c));
                        }
                        Err(e) => why.extend(got.iter().map(|c| (*c, format!("cgroup v2: {e}")))),
                    }
                }
                Err(e) => why.extend(on_v2.iter().map(|c| (*c, format!("cgroup v2: {e}")))),
            }
        }
    }

    // 2. cgroup v1, one hierarchy per controller that is still left.
    for controller in left.clone() {
        let found = host.hierarchies.iter().find(|h| {
            h.version == Version::V1 && h.controllers.iter().any(|c| c == controller.name())
        });
        let Some(hierarchy) = found else {
            if !why.iter().any(|(c, _)| *c == controller) {
                why.push((
                    controller,
                    format!("no cgroup hierarchy offers `{}`", controller.name()),
                ));
            }
            continue;
        };
        let own = host
            .v1
            .iter()
            .find(|(c, _)| c == controller.name())
            .and_then(|(_, p)| dir_of(hierarchy, p));
        let Some(own) = own else {
            why.push((
                controller,
                "cgroup v1: this process's cgroup is not mounted".into(),
            ));
            continue;
        };
        // A hierarchy with several controllers (`cpu,cpuacct`) is one directory.
        let shared = cgroups.dirs.iter_mut().find(|d| {
            d.version == Version::V1 && d.path.parent().and_then(Path::parent) == Some(&own)
        });
        if let Some(dir) = shared {
            dir.controllers.push(controller);
            continue;
        }
        match make_leaf(&own, &leaf, None) {
            Ok(path) => match Dir::open(path, Version::V1, &[controller]) {
                Ok(dir) => cgroups.dirs.push(dir),
                Err(e) => why.push((controller, format!("cgroup v1: {e}"))),
            },
            Err(e) => why.push((controller, format!("cgroup v1: {e}"))),
        }
    }

    let reason = |c: Controller| -> Result<&'static str, String> {
        Err(why
            .iter()
            .filter(|(w, _)| *w == c)
            .map(|(_, r)| r.clone())
            .collect::<Vec<_>>()
            .join("; "))
    };
    let fill = |c: Controller| -> Result<&'static str, String> {
        let Some(dir) = cgroups.dirs.iter().find(|d| d.controllers.contains(&c)) else {
            return reason(c);
        };
        write_limits(&dir.path, dir.version, c, &wanted)
    };
    let held = Held {
        memory: wanted.memory.map(|_| fill(Controller::Memory)),
        processes: wanted.processes.map(|_| fill(Controller::Pids)),
        cpu_share: wanted.cpu_share.map(|_| fill(Controller::Cpu)),
    };
    cgroups.held = held;
    cgroups
}

/// The v2 cgroup for the launch, with the controllers it got: under the caller's own
/// cgroup when that can give children controllers, else under its parent (see the
/// module's order). At each place only the wanted controllers that are available there
/// (its `cgroup.controllers`) are asked for; the others fall through to v1 or rlimits.
fn v2_leaf(
    hierarchy: &Hierarchy,
    own: &Path,
    leaf: &str,
    controllers: &[Controller],
) -> Result<(PathBuf, Vec<Controller>), String> {
    let mut errors = Vec::new();
    let mut candidates = vec![own.to_path_buf()];
    if own != hierarchy.mount {
        if let Some(parent) = own.parent() {
            candidates.push(parent.to_path_buf());
        }
    }
    for parent in candidates {
        let available = read(&parent.join("cgroup.controllers"));
        let here: Vec<Controller> = controllers
            .iter()
            .copied()
            .filter(|c| available.split_whitespace().any(|a| a == c.name()))
            .collect();
        if here.is_empty() {
            errors.push(format!(
                "{}: no wanted controller available",
                parent.display()
            ));
            continue;
        }
        match make_leaf(&parent, leaf, Some(&here)) {
            Ok(path) => return Ok((path, here)),
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("; "))
}

impl Cgroups {
    /// No cgroup at all (no limit needs one).
    pub fn none() -> Cgroups {
        Cgroups {
            dirs: Vec::new(),
            wanted: Wanted::default(),
            held: Held::default(),
            armed: false,
        }
    }

    /// How each limit is held.
    #[cfg(test)]
    pub fn held(&self) -> &Held {
        &self.held
    }

    /// The directories made for the launch.
    pub fn paths(&self) -> Vec<&Path> {
        self.dirs.iter().map(|d| d.path.as_path()).collect()
    }

    /// In pid 1, right after the split: moves this process into every cgroup made for
    /// the launch (`0` is the writer itself; its children are born there), then enters a
    /// new cgroup namespace rooted there. The directories are the outer process's to
    /// remove: this copy forgets them. A cgroup that cannot be joined fails the launch
    /// (its limits were promised to the rlimits step as held).
    ///
    /// In v1 the thread is moved through `tasks`: the executor is single-threaded, so
    /// that moves the whole process, and moving one's own single thread skips the
    /// kernel's global thread-group lock, whose first taking waits for an RCU grace
    /// period (about 10 ms, measured by `scripts/bench-limits.sh`). v2 has no per-thread
    /// move outside threaded cgroups and pays that wait unless the hierarchy is mounted
    /// with `favordynmods`.
    pub fn join(mut self) -> Result<Held, String> {
        self.armed = false;
        for dir in &self.dirs {
            let file = match dir.version {
                Version::V1 => "tasks",
                Version::V2 => "cgroup.procs",
            };
            let path = dir.path.join(file);
            write(&path, "0").map_err(with_path(&path))?;
        }
        if !self.dirs.is_empty() {
            process::unshare(libc::CLONE_NEWCGROUP)
                .map_err(|e| format!("cgroup namespace: {e}"))?;
        }
        Ok(std::mem::take(&mut self.held))
    }

    /// In the outer process, once pid 1 has ended: says which limit the kernel enforced
    /// (an OOM kill, refused forks), kills whatever is left in the cgroups and removes
    /// them.
    pub fn finish(mut self) {
        for event in self.events() {
            eprintln!("portcullis-exec: limit hit: {event}");
        }
        self.remove();
        self.armed = false;
    }

    /// The limits the kernel enforced during the launch, from the cgroups' counters.
    pub fn events(&self) -> Vec<LimitEvent> {
        let mut events = Vec::new();
        for dir in &self.dirs {
            for controller in &dir.controllers {
                // The OOM killer's count (v2 `memory.events`, v1 `memory.oom_control`) and
                // the refused forks (`pids.events`, both versions).
                let (file, key) = match (dir.version, controller) {
                    (Version::V2, Controller::Memory) => ("memory.events", "oom_kill"),
                    (Version::V1, Controller::Memory) => ("memory.oom_control", "oom_kill"),
                    (_, Controller::Pids) => ("pids.events", "max"),
                    (_, Controller::Cpu) => continue,
                };
                let count = counter(&dir.read(file), key);
                if count == 0 {
                    continue;
                }
                events.push(match controller {
                    Controller::Memory => LimitEvent::Memory {
                        limit: self.wanted.memory.unwrap_or(0),
                        killed: count,
                    },
                    _ => LimitEvent::Processes {
                        limit: self.wanted.processes.unwrap_or(0),
                        refused: count,
                    },
                });
            }
        }
        events
    }

    /// Kills what is left in each directory and removes it (and the shared `portcullis`
    /// directory above it when no other launch uses it).
    fn remove(&mut self) {
        for dir in self.dirs.drain(..) {
            remove_dir(&dir);
        }
    }
}

/// Kills every process in `dir` and removes it, trying for up to about a second (an
/// exiting process leaves its cgroup only once it has been reaped).
fn remove_dir(dir: &Dir) {
    for _ in 0..200 {
        match fs::rmdirat(dir.base.as_fd(), &dir.leaf) {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(_) => {
                if dir.write("cgroup.kill", "1").is_err() {
                    for pid in dir
                        .read("cgroup.procs")
                        .lines()
                        .filter_map(|l| l.trim().parse::<i32>().ok())
                    {
                        process::kill(pid, libc::SIGKILL);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    // Fails while another launch uses it; that launch removes it then.
    let _ = fs::rmdirat(dir.above.as_fd(), "portcullis");
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        if self.armed {
            self.remove();
        }
    }
}

/// A limit the kernel enforced during the launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitEvent {
    /// Processes of the sandbox were killed for going over the memory limit.
    Memory {
        /// The limit in bytes.
        limit: u64,
        /// How many processes the OOM killer killed.
        killed: u64,
    },
    /// Process creation was refused at the process limit.
    Processes {
        /// The limit.
        limit: u64,
        /// How many `fork`/`clone` calls failed.
        refused: u64,
    },
}

impl fmt::Display for LimitEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitEvent::Memory { limit, killed } => write!(
                f,
                "memory {limit} bytes: out of memory, the kernel killed {killed} process(es) of the sandbox"
            ),
            LimitEvent::Processes { limit, refused } => write!(
                f,
                "processes {limit}: {refused} process creation(s) refused (EAGAIN)"
            ),
        }
    }
}

#[cfg(test)]
mod tests;
