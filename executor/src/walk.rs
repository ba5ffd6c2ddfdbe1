//! Symlink-safe path walks (the CVE-2024-42472 class): a destination inside the new root
//! is resolved one component at a time with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`, creating what is missing, so a symlink
//! planted by the app (in a writable grant that a later operation mounts into) can never
//! redirect a mount or a new directory to somewhere else. Host paths in places an app may
//! write (the home directory, the runtime directory, `/tmp`, `/var/tmp`, `/dev/shm`) are
//! walked the same way below that place: a link planted there between launches never
//! redirects a bind source.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use crate::sys::fs::{self, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS};

const STRICT: u64 = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/// What the last component must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// A directory, created (with this mode) when missing.
    Dir(u32),
    /// A file that is not a directory, created empty when missing.
    File,
    /// Whatever is there; missing is `None`.
    Existing,
}

fn components(path: &str) -> io::Result<Vec<&str>> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "`..` in a sandbox path",
        ));
    }
    Ok(parts)
}

/// Whether an error means the path is not there: missing, or a path that cannot exist
/// (longer than `PATH_MAX` or with a name longer than `NAME_MAX` once placeholders are
/// expanded), which is as missing as any other and skipped the same way.
fn absent(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ENAMETOOLONG)
    )
}

/// A symbolic link where a strict walk allows none.
#[derive(Debug)]
pub struct LinkInTheWay;

impl std::fmt::Display for LinkInTheWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a symbolic link is in the way (never followed here)")
    }
}

impl std::error::Error for LinkInTheWay {}

/// Whether `err` is a [`LinkInTheWay`].
pub fn is_link_in_the_way(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<LinkInTheWay>())
}

fn explain(err: io::Error) -> io::Error {
    if err.raw_os_error() == Some(libc::ELOOP) {
        io::Error::other(LinkInTheWay)
    } else {
        err
    }
}

/// Opens directory `name` in `dir` without following links, creating it when `mode` is
/// given and it is missing.
fn step_dir(dir: BorrowedFd<'_>, name: &str, mode: Option<u32>) -> io::Result<OwnedFd> {
    let open = || {
        fs::openat2(
            dir.as_raw_fd(),
            name,
            libc::O_PATH | libc::O_DIRECTORY,
            0,
            STRICT,
        )
    };
    match open() {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) && mode.is_some() => {
            match fs::mkdirat(dir, name, mode.unwrap_or(0o755)) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(e),
            }
            open().map_err(explain)
        }
        other => other.map_err(explain),
    }
}

/// Resolves `path` beneath `root`. Intermediate directories are created (mode 0755)
/// unless `want` is [`Want::Existing`]. `Ok(None)` only for a missing `Existing` path.
pub fn beneath(root: BorrowedFd<'_>, path: &str, want: Want) -> io::Result<Option<OwnedFd>> {
    let parts = components(path)?;
    let create = want != Want::Existing;
    let Some((last, parents)) = parts.split_last() else {
        return root.try_clone_to_owned().map(Some);
    };
    let mut dir = root.try_clone_to_owned()?;
    for name in parents {
        dir = match step_dir(dir.as_fd(), name, create.then_some(0o755)) {
            Err(e) if !create && absent(&e) => return Ok(None),
            other => other?,
        };
    }
    let fd = dir.as_raw_fd();
    match want {
        Want::Dir(mode) => step_dir(dir.as_fd(), last, Some(mode)).map(Some),
        Want::Existing => match fs::openat2(fd, last, libc::O_PATH, 0, STRICT) {
            Err(e) if absent(&e) => Ok(None),
            other => other.map(Some).map_err(explain),
        },
        Want::File => match fs::openat2(fd, last, libc::O_PATH, 0, STRICT) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY;
                drop(fs::openat2(fd, last, flags, 0o644, STRICT).map_err(explain)?);
                fs::openat2(fd, last, libc::O_PATH, 0, STRICT)
                    .map(Some)
                    .map_err(explain)
            }
            other => other.map(Some).map_err(explain),
        },
    }
}

/// The parent directory of `path` beneath `root` (created as needed) and the last name.
pub fn parent<'p>(root: BorrowedFd<'_>, path: &'p str) -> io::Result<(OwnedFd, &'p str)> {
    let trimmed = path.trim_end_matches('/');
    let (dir, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if name.is_empty() || name == "." || name == ".." {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name"));
    }
    let dir = beneath(root, dir, Want::Dir(0o755))?
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
    Ok((dir, name))
}

/// Opens a host path. Below any of `guarded` (the places an app may be able to write:
/// the home directory, the runtime directory, `/tmp`, …) no symlink is followed, so a link
/// an app planted in one launch can never redirect a bind of the next (the longest
/// guarded prefix of `path` is where the strict walk starts); elsewhere the host's own
/// links are followed, as Flatpak follows them. With [`Want::Dir`] missing directories
/// are created with that mode.
pub fn host(path: &str, guarded: &[String], want: Want) -> io::Result<Option<OwnedFd>> {
    let guarded = guarded
        .iter()
        .map(|g| g.trim_end_matches('/'))
        .filter(|g| !g.is_empty())
        .filter(|g| {
            path.strip_prefix(g)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .max_by_key(|g| g.len())
        .unwrap_or("");
    let (start, rest) = match path.strip_prefix(guarded) {
        Some(rest) if !guarded.is_empty() => (guarded, rest),
        _ => (path, ""),
    };
    if let Want::Dir(mode) = want {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(start)?;
    }
    let flags = match want {
        Want::Dir(_) => libc::O_PATH | libc::O_DIRECTORY,
        _ => libc::O_PATH,
    };
    let flags = if rest.is_empty() {
        flags
    } else {
        libc::O_PATH | libc::O_DIRECTORY
    };
    let base = match fs::openat2(fs::CWD, start, flags, 0, 0) {
        Err(e) if absent(&e) && want == Want::Existing => return Ok(None),
        other => other?,
    };
    if rest.is_empty() {
        return Ok(Some(base));
    }
    beneath(base.as_fd(), rest, want)
}
