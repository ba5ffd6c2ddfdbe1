//! Builds the sandbox's file-system tree from an expanded mount plan, then enters it.
//!
//! 1. Host side, in plan order: `HostDir` directories are created and every bind source
//!    is opened (`O_PATH`), before anything covers a host path.
//! 2. A private scratch tmpfs is attached at `/tmp` (it holds data files and the new
//!    root) and a fresh tmpfs root at `/tmp/newroot`.
//! 3. Sandbox side, in plan order: each operation resolves its destination beneath the
//!    new root without following symlinks ([`crate::walk`]) and mounts with the
//!    descriptor-based mount API, so nothing is placed through a path the app controls.
//! 4. `pivot_root` into the new root; the old root (scratch and host) is detached.
//!
//! Every mount gets `nosuid`; `nodev` unless the bind asks for devices.
//!
//! Every tmpfs mounted here — the scratch area, the new root, `/dev` (with `/dev/shm` in
//! it), the plan's tmpfs mounts and deny masks — gets `size=` and `nr_inodes=` from
//! [`portcullis_blob::limits::tmpfs_bounds`]: the memory limit, or 1 GiB without one
//! (rlimits do not count tmpfs pages; bubblewrap mounts these without a size, half of RAM
//! each). The host-side step records the bounds with [`set_tmpfs_bounds`] before the
//! sandbox's processes exist; until then the default applies.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use portcullis_blob::limits::{tmpfs_bounds, LimitsSection, TmpfsBounds};
use portcullis_blob::mounts::MountOp;

use crate::failure::{Context, Failure};
use crate::sys::fs::{self, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS};
use crate::sys::mount::{self, NODEV, NOEXEC, NOSUID, RDONLY};
use crate::walk::{self, Want};

const STEP: &str = "mount plan";

/// The host devices a `Dev` operation binds in.
const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
/// The links a `Dev` operation creates.
const DEV_LINKS: [(&str, &str); 6] = [
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("fd", "/proc/self/fd"),
    ("core", "/proc/kcore"),
    ("ptmx", "pts/ptmx"),
];
/// The parts of a new procfs that are covered read-only, as bubblewrap covers them.
const PROC_READ_ONLY: [&str; 4] = ["sys", "sysrq-trigger", "irq", "bus"];

/// The scratch area: where the new root and data files live until `pivot_root`.
const SCRATCH: &str = "/tmp";
const NEW_ROOT: &str = "/tmp/newroot";

/// What the root step must enforce beyond the plan itself, decided on the host from the
/// blob: the bounds of every tmpfs it mounts (from the limits section) and the expanded
/// host paths of the single device-node grants.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Size and inodes of every tmpfs (root, scratch, `/dev`, tmpfs mounts, masks).
    pub tmpfs: TmpfsBounds,
    /// Host paths that a bind may only take from when they open a character or block
    /// device.
    pub device_nodes: Vec<String>,
}

impl Rules {
    /// The rules for a blob's limits section and its expanded device-node paths.
    pub fn new(limits: &LimitsSection, device_nodes: Vec<String>) -> Rules {
        Rules {
            tmpfs: tmpfs_bounds(limits),
            device_nodes,
        }
    }
}

/// A bind from a single device-node grant's path must open a character or block device:
/// checked on the descriptor that is bound, so nothing can swap the node for a directory
/// between the host-side check and the mount.
fn must_be_device(rules: &Rules, source: &str, fd: &OwnedFd) -> Result<(), Failure> {
    if !rules.device_nodes.iter().any(|n| n == source) {
        return Ok(());
    }
    let kind = fs::fstat(fd.as_fd()).step_on(STEP, source)?.kind;
    if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
        Ok(())
    } else {
        Err(Failure::setup(
            STEP,
            format!("`{source}`: a device-node grant that is not a character or block device"),
        ))
    }
}

/// A new tmpfs with `mode` for its root, bounded in size and inodes.
fn bounded_tmpfs(bounds: TmpfsBounds, mode: &str, attrs: u64) -> io::Result<OwnedFd> {
    let size = bounds.size.to_string();
    let inodes = bounds.nr_inodes.to_string();
    let options = [("mode", mode), ("size", &size), ("nr_inodes", &inodes)];
    mount::new_fs("tmpfs", &options, attrs)
}

/// Host-side results of pass 1, by operation index.
struct Sources(Vec<Option<OwnedFd>>);

/// Pass 1: creates host directories and opens bind sources, in plan order.
fn open_sources(plan: &[MountOp], guarded: &[String], rules: &Rules) -> Result<Sources, Failure> {
    let mut out = Vec::with_capacity(plan.len());
    for op in plan {
        out.push(match op {
            MountOp::HostDir { path, mode } => {
                walk::host(path.as_str(), guarded, Want::Dir(*mode))
                    .step_on(STEP, path.as_str())?;
                None
            }
            MountOp::Bind { source, flags, .. } => {
                let opened = match walk::host(source.as_str(), guarded, Want::Existing) {
                    // A link where a `-try` bind's source should be: skipped, like a
                    // missing source, with a note (failing would let one app's planted
                    // link stop every launch that binds the same path).
                    Err(e) if flags.optional && walk::is_link_in_the_way(&e) => {
                        eprintln!("portcullis-exec: note: `{}` skipped: {e}", source.as_str());
                        None
                    }
                    other => other.step_on(STEP, source.as_str())?,
                };
                match opened {
                    Some(fd) => {
                        must_be_device(rules, source.as_str(), &fd)?;
                        Some(fd)
                    }
                    None if flags.optional => None,
                    None => {
                        return Err(Failure::setup(
                            STEP,
                            format!("`{}`: bind source does not exist", source.as_str()),
                        ))
                    }
                }
            }
            _ => None,
        });
    }
    Ok(Sources(out))
}

/// The mounted scratch tmpfs and the new root inside it.
struct Tree {
    scratch: OwnedFd,
    root: OwnedFd,
    files: usize,
    bounds: TmpfsBounds,
}

fn reopen(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    fs::openat2(
        dir.as_raw_fd(),
        name,
        libc::O_PATH | libc::O_DIRECTORY,
        0,
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
    )
}

/// Pass 2 preparation: scratch tmpfs at `/tmp`, new root tmpfs at `/tmp/newroot`.
fn new_tree(bounds: TmpfsBounds) -> io::Result<Tree> {
    let scratch = bounded_tmpfs(bounds, "0700", NOSUID | NODEV)?;
    let tmp = fs::openat2(fs::CWD, SCRATCH, libc::O_PATH | libc::O_DIRECTORY, 0, 0)?;
    mount::attach(scratch.as_fd(), tmp.as_fd())?;
    let scratch = fs::openat2(fs::CWD, SCRATCH, libc::O_PATH | libc::O_DIRECTORY, 0, 0)?;
    fs::mkdirat(scratch.as_fd(), "newroot", 0o755)?;
    let slot = reopen(scratch.as_fd(), "newroot")?;
    let root = bounded_tmpfs(bounds, "0755", NOSUID | NODEV)?;
    mount::attach(root.as_fd(), slot.as_fd())?;
    let root = reopen(scratch.as_fd(), "newroot")?;
    Ok(Tree {
        scratch,
        root,
        files: 0,
        bounds,
    })
}

impl Tree {
    fn dir(&self, path: &str, mode: u32) -> io::Result<OwnedFd> {
        walk::beneath(self.root.as_fd(), path, Want::Dir(mode))?
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    fn file(&self, path: &str) -> io::Result<OwnedFd> {
        walk::beneath(self.root.as_fd(), path, Want::File)?
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    /// Binds the tree at `source` over a new or existing destination of the same kind.
    fn bind(
        &self,
        source: BorrowedFd<'_>,
        dest: &str,
        attrs: u64,
        recursive: bool,
    ) -> io::Result<()> {
        let target = if fs::fstat(source)?.is_dir() {
            self.dir(dest, 0o755)?
        } else {
            self.file(dest)?
        };
        let tree = mount::clone_tree(source, recursive)?;
        mount::set_attrs(tree.as_fd(), attrs, recursive)?;
        mount::attach(tree.as_fd(), target.as_fd())
    }

    fn tmpfs(&self, dest: &str, mode: u32, attrs: u64) -> io::Result<()> {
        let target = self.dir(dest, 0o755)?;
        let fs = bounded_tmpfs(self.bounds, &format!("{mode:o}"), attrs)?;
        mount::attach(fs.as_fd(), target.as_fd())
    }

    /// A new file in the scratch area with `content` and `mode`.
    fn scratch_file(&mut self, content: &[u8], mode: u32) -> io::Result<OwnedFd> {
        self.files += 1;
        let name = format!("data-{}", self.files);
        let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY;
        let fd = fs::openat2(
            self.scratch.as_raw_fd(),
            &name,
            flags,
            mode,
            RESOLVE_BENEATH,
        )?;
        std::fs::File::from(fd).write_all(content)?;
        fs::openat2(
            self.scratch.as_raw_fd(),
            &name,
            libc::O_PATH,
            0,
            RESOLVE_BENEATH,
        )
    }

    fn symlink(&self, target: &str, dest: &str) -> io::Result<()> {
        let (dir, name) = walk::parent(self.root.as_fd(), dest)?;
        match fs::symlinkat(target, dir.as_fd(), name) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                if fs::readlinkat(dir.as_fd(), name).ok().as_deref() == Some(target) {
                    Ok(())
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        "something else is there",
                    ))
                }
            }
            other => other,
        }
    }

    fn proc(&self, dest: &str) -> io::Result<()> {
        let target = self.dir(dest, 0o755)?;
        let procfs = mount::new_fs("proc", &[], NOSUID | NODEV | NOEXEC)?;
        mount::attach(procfs.as_fd(), target.as_fd())?;
        let proc_root = self.dir(dest, 0o755)?;
        for name in PROC_READ_ONLY {
            let flags = libc::O_PATH;
            let part = match fs::openat2(proc_root.as_raw_fd(), name, flags, 0, RESOLVE_BENEATH) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                other => other?,
            };
            let tree = mount::clone_tree(part.as_fd(), false)?;
            mount::set_attrs(tree.as_fd(), RDONLY | NOSUID | NODEV | NOEXEC, false)?;
            mount::attach(tree.as_fd(), part.as_fd())?;
        }
        Ok(())
    }

    fn dev(&self, dest: &str) -> io::Result<()> {
        // The tmpfs itself is `nodev`, as bubblewrap's: only the device nodes bound into it
        // below (each a mount of its own, with devices allowed) are usable devices.
        self.tmpfs(dest, 0o755, NOSUID | NODEV)?;
        let dev = self.dir(dest, 0o755)?;
        for name in DEV_NODES {
            let host = fs::openat2(fs::CWD, &format!("/dev/{name}"), libc::O_PATH, 0, 0)?;
            let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY;
            drop(fs::openat2(
                dev.as_raw_fd(),
                name,
                flags,
                0o666,
                RESOLVE_BENEATH,
            )?);
            let node = fs::openat2(dev.as_raw_fd(), name, libc::O_PATH, 0, RESOLVE_BENEATH)?;
            let tree = mount::clone_tree(host.as_fd(), false)?;
            mount::set_attrs(tree.as_fd(), NOSUID | NOEXEC, false)?;
            mount::attach(tree.as_fd(), node.as_fd())?;
        }
        for (name, target) in DEV_LINKS {
            fs::symlinkat(target, dev.as_fd(), name)?;
        }
        fs::mkdirat(dev.as_fd(), "shm", 0o1777)?;
        fs::mkdirat(dev.as_fd(), "pts", 0o755)?;
        let pts = reopen(dev.as_fd(), "pts")?;
        let devpts = mount::new_fs(
            "devpts",
            &[("ptmxmode", "0666"), ("mode", "620")],
            NOSUID | NOEXEC,
        )?;
        mount::attach(devpts.as_fd(), pts.as_fd())
    }

    fn mask(&mut self, dest: &str) -> io::Result<()> {
        let Some(target) = walk::beneath(self.root.as_fd(), dest, Want::Existing)? else {
            return Ok(());
        };
        if fs::fstat(target.as_fd())?.is_dir() {
            let fs = bounded_tmpfs(self.bounds, "0755", RDONLY | NOSUID | NODEV)?;
            mount::attach(fs.as_fd(), target.as_fd())
        } else {
            let empty = self.scratch_file(b"", 0o444)?;
            let tree = mount::clone_tree(empty.as_fd(), false)?;
            mount::set_attrs(tree.as_fd(), RDONLY | NOSUID | NODEV, false)?;
            mount::attach(tree.as_fd(), target.as_fd())
        }
    }

    /// Applies one operation of pass 2.
    fn apply(&mut self, op: &MountOp, source: Option<&OwnedFd>) -> io::Result<()> {
        match op {
            MountOp::Tmpfs { dest, mode } => self.tmpfs(dest.as_str(), *mode, NOSUID | NODEV),
            MountOp::Dir { dest, mode } => self.dir(dest.as_str(), *mode).map(drop),
            MountOp::HostDir { .. } => Ok(()),
            MountOp::Bind { dest, flags, .. } => {
                let Some(source) = source else {
                    return Ok(()); // an optional source that does not exist
                };
                let mut attrs = NOSUID;
                if flags.readonly {
                    attrs |= RDONLY;
                }
                if !flags.devices {
                    attrs |= NODEV;
                }
                self.bind(source.as_fd(), dest.as_str(), attrs, true)
            }
            MountOp::Proc { dest } => self.proc(dest.as_str()),
            MountOp::Dev { dest } => self.dev(dest.as_str()),
            MountOp::Symlink { target, dest } => self.symlink(target, dest.as_str()),
            MountOp::File {
                dest,
                content,
                mode,
                readonly,
                ..
            } => {
                let data = self.scratch_file(content, *mode)?;
                let attrs = NOSUID | NODEV | if *readonly { RDONLY } else { 0 };
                self.bind(data.as_fd(), dest.as_str(), attrs, false)
            }
            MountOp::RemountRo { dest } => {
                let target = walk::beneath(self.root.as_fd(), dest.as_str(), Want::Existing)?
                    .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
                mount::set_attrs(target.as_fd(), RDONLY, false)
            }
            MountOp::Mask { dest } => self.mask(dest.as_str()),
            MountOp::When { .. } | MountOp::BindEntries { .. } | MountOp::Sorted { .. } => Err(
                io::Error::new(io::ErrorKind::InvalidInput, "operation was not expanded"),
            ),
        }
    }
}

fn describe(op: &MountOp) -> String {
    portcullis_blob::explain::mount_line(op)
}

/// Builds the tree for `plan` (expanded: no placeholders, `When`, `BindEntries` or
/// `Sorted`) and pivots into it. `guarded` is the host directory below which symlinks are
/// never followed (see [`walk::host`]); `rules` bound every tmpfs and guard device-node
/// binds.
pub fn enter(plan: &[MountOp], guarded: &[String], rules: &Rules) -> Result<(), Failure> {
    // Nothing done in this mount namespace may propagate back to the host.
    mount::make_all_slave().step("mount propagation")?;
    let sources = open_sources(plan, guarded, rules)?;
    let mut tree = new_tree(rules.tmpfs).step("new root")?;
    for (op, source) in plan.iter().zip(&sources.0) {
        tree.apply(op, source.as_ref())
            .map_err(|e| Failure::setup(STEP, format!("{}: {e}", describe(op))))?;
    }
    drop(sources);
    let Tree { scratch, root, .. } = tree;
    drop((scratch, root));
    std::env::set_current_dir(NEW_ROOT).step("pivot_root")?;
    mount::pivot_here().step("pivot_root")?;
    mount::detach(".").step("detach old root")?;
    std::env::set_current_dir("/").step("pivot_root")?;
    Ok(())
}

/// Makes the root of the sandbox read-only (mounts below it keep their own flags).
pub fn seal_root() -> Result<(), Failure> {
    let root =
        fs::openat2(fs::CWD, "/", libc::O_PATH | libc::O_DIRECTORY, 0, 0).step("read-only root")?;
    mount::set_attrs(root.as_fd(), RDONLY, false).step("read-only root")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_node_source_must_open_a_device() {
        let dir = std::env::temp_dir();
        let dir = dir.to_str().expect("utf-8 temp dir");
        let rules = Rules::new(
            &LimitsSection::default(),
            vec![dir.to_string(), "/dev/null".to_string()],
        );
        let open = |p: &str| fs::openat2(fs::CWD, p, libc::O_PATH, 0, 0).expect("open");
        let err = must_be_device(&rules, dir, &open(dir)).unwrap_err();
        assert!(
            err.message.contains("not a character or block device"),
            "{err}"
        );
        assert!(must_be_device(&rules, "/dev/null", &open("/dev/null")).is_ok());
        // Other binds are not device-node grants: a directory is fine there.
        assert!(must_be_device(&rules, "/usr", &open("/usr")).is_ok());
    }
}
