//! Deny masks held by Landlock: a rule on a tree with masked paths beneath it grants the
//! tree *around* those paths instead of the tree itself.
//!
//! A `PathBeneath` rule cannot subtract a subtree, and the mount plan can only hide a
//! masked path that exists at launch. So for a rule on `P` (rights `A`) with masked paths
//! `M…` beneath it, the rules added here are:
//!
//! 1. every directory on the way from `P` to a masked path — `P` included, the masked path
//!    excluded, and only those that exist — gets `A ∩ read-dir` and nothing else: it can be
//!    listed, but nothing can be created in it, removed from it or renamed in or out of it;
//! 2. every other entry of those directories, listed now (after `pivot_root`, inside the
//!    sandbox), gets `A` (only the file rights for a non-directory); symbolic links get no
//!    rule of their own: what they point at is decided by its own rules;
//! 3. a masked path gets nothing (the plan's empty read-only mount hides it when it exists).
//!
//! Why that holds whatever the app does, in one launch or many: a masked path cannot be
//! created (no make right on its parent), no directory above it can be removed or renamed
//! (no remove right on *its* parent, which is on the way too, or is `P`'s parent outside
//! the rule), links and renames out of the masked area need `refer` on both sides, which it
//! lacks (below ABI 2 the kernel refuses every cross-directory link and rename), and since
//! nothing on the way can move, the next launch finds the masks at the same place.
//!
//! Consequences (documented in ARCHITECTURE.md): the app cannot create, remove or rename
//! entries directly in a directory on the way (e.g. directly in `~` when `~/.ssh` is
//! masked; files there can still be read and written in place); entries the host adds to
//! those directories after launch get no rule, so they stay out of reach until the next
//! launch; `read-dir` is inherited beneath, so the *names* in a masked directory that the
//! host creates after launch can be listed (never read: the root's rule gives read-dir
//! everywhere anyway).
//!
//! Every path is opened without following symbolic links (`openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`): a symbolic link on the way to a masked path
//! would let the masked name resolve somewhere granted, so it aborts the launch, as it
//! already does in the mount step.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use landlock::{PathBeneath, RulesetCreated, RulesetCreatedAttr};
use portcullis_blob::landlock::fs_access;

use super::{fs_flags, LandlockError, LandlockReport};
use crate::sys::fs::{self, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS};

const STRICT: u64 = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/// The directories on the way from a rule's path to its masked paths.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Way {
    /// This path is masked itself: no rule for it or anything beneath it.
    masked: bool,
    /// Entries on the way further down, by name.
    next: BTreeMap<Vec<u8>, Way>,
}

impl Way {
    /// The way from `base` to each of `masked` (all expanded sandbox paths). Masked paths
    /// that are not beneath `base` are left out; `..` components are refused (`None`), as
    /// the IR never holds them.
    pub fn new(base: &str, masked: &[String]) -> Option<Way> {
        let mut root = Way::default();
        for mask in masked {
            let Some(rest) = beneath(base, mask) else {
                continue;
            };
            let mut at = &mut root;
            for name in rest.split('/').filter(|c| !c.is_empty() && *c != ".") {
                if name == ".." {
                    return None;
                }
                at = at.next.entry(name.as_bytes().to_vec()).or_default();
            }
            at.masked = true;
        }
        Some(root)
    }

    /// Whether there is no masked path beneath the rule at all.
    pub fn is_empty(&self) -> bool {
        !self.masked && self.next.is_empty()
    }
}

/// `path` relative to `base` when it is `base` or beneath it (whole components).
pub fn beneath<'p>(base: &str, path: &'p str) -> Option<&'p str> {
    let base = base.trim_end_matches('/');
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// Adds one rule on the open file `fd`.
fn add(
    ruleset: RulesetCreated,
    fd: OwnedFd,
    access: u64,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    report.fs_rules += 1;
    Ok(ruleset.add_rule(PathBeneath::new(fd, fs_flags(access)))?)
}

fn in_the_way(path: &str, why: &str) -> LandlockError {
    LandlockError::Mask(format!("`{path}` is on the way to a deny mask and {why}"))
}

/// Grants the tree at `base` (already open as `dir`, a directory) around the masked paths
/// of `way`, with rights `access` for what is not on the way.
pub fn grant(
    ruleset: RulesetCreated,
    dir: OwnedFd,
    base: &str,
    way: &Way,
    access: u64,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    if way.masked {
        // The rule's own path is masked: it grants nothing at all.
        report.skipped_paths.push(base.to_string());
        return Ok(ruleset);
    }
    let mut ruleset = ruleset;
    // 1. The directory on the way: listing at most, never a write right.
    let on_the_way = access & fs_access::READ_DIR;
    if on_the_way != 0 {
        let again = dir
            .try_clone()
            .map_err(|e| in_the_way(base, &format!("cannot be opened: {e}")))?;
        ruleset = add(ruleset, again, on_the_way, report)?;
    }
    // 2. Its entries, as they are now. A directory that cannot be listed keeps its
    //    entries out of reach: that only narrows what is granted.
    let mut names = match fs::entries(dir.as_fd()) {
        Ok(names) => names,
        Err(_) => {
            report.skipped_paths.push(format!("{base}/*"));
            Vec::new()
        }
    };
    names.sort();
    for name in names {
        let path = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            String::from_utf8_lossy(&name)
        );
        match way.next.get(&name) {
            // 3. A masked path: no rule.
            Some(next) if next.masked => {}
            Some(next) => {
                ruleset = further(ruleset, dir.as_fd(), &name, &path, next, access, report)?
            }
            None => ruleset = entry(ruleset, dir.as_fd(), &name, &path, access, report)?,
        }
    }
    Ok(ruleset)
}

/// A directory further on the way: walked in turn. A symbolic link there aborts (the
/// masked name would resolve through it); a file that is not a directory cannot hold the
/// masked path, so it is an ordinary entry.
fn further(
    ruleset: RulesetCreated,
    dir: BorrowedFd<'_>,
    name: &[u8],
    path: &str,
    way: &Way,
    access: u64,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    let fd = fs::openat2_bytes(
        dir.as_raw_fd(),
        name,
        libc::O_PATH | libc::O_NOFOLLOW,
        0,
        STRICT,
    )
    .map_err(|e| in_the_way(path, &format!("cannot be opened: {e}")))?;
    let stat = fs::fstat(fd.as_fd()).map_err(|e| in_the_way(path, &e.to_string()))?;
    if stat.is_symlink() {
        return Err(in_the_way(path, "is a symbolic link (never followed here)"));
    }
    if !stat.is_dir() {
        return add(ruleset, fd, access & fs_access::FILE_RIGHTS, report);
    }
    grant(ruleset, fd, path, way, access, report)
}

/// An entry off the way: the rule's rights, on the entry itself (never through a link).
fn entry(
    ruleset: RulesetCreated,
    dir: BorrowedFd<'_>,
    name: &[u8],
    path: &str,
    access: u64,
    report: &mut LandlockReport,
) -> Result<RulesetCreated, LandlockError> {
    let opened = fs::openat2_bytes(
        dir.as_raw_fd(),
        name,
        libc::O_PATH | libc::O_NOFOLLOW,
        0,
        STRICT,
    );
    let Ok(fd) = opened else {
        // Gone since it was listed: nothing to grant.
        report.skipped_paths.push(path.to_string());
        return Ok(ruleset);
    };
    let Ok(stat) = fs::fstat(fd.as_fd()) else {
        report.skipped_paths.push(path.to_string());
        return Ok(ruleset);
    };
    if stat.is_symlink() {
        // A link gets no rule: what it points at is decided by the target's own rules.
        return Ok(ruleset);
    }
    let bits = if stat.is_dir() {
        access
    } else {
        access & fs_access::FILE_RIGHTS
    };
    add(ruleset, fd, bits, report)
}

/// Opens the rule's own path from the sandbox's root without following any link.
pub fn open_base(base: &str) -> std::io::Result<OwnedFd> {
    let root = fs::openat2(fs::CWD, "/", libc::O_PATH | libc::O_DIRECTORY, 0, 0)?;
    let relative = base.trim_start_matches('/');
    if relative.is_empty() {
        return Ok(root);
    }
    fs::openat2(root.as_raw_fd(), relative, libc::O_PATH, 0, STRICT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(way: &Way) -> Vec<String> {
        way.next
            .keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn the_way_follows_whole_components() {
        let masked = [
            "/home/u/.config/autostart".to_string(),
            "/home/u/.config/systemd".to_string(),
            "/home/u/.ssh".to_string(),
            "/home/user/.ssh".to_string(),
        ];
        let way = Way::new("/home/u", &masked).expect("no ..");
        assert_eq!(names(&way), [".config", ".ssh"]);
        assert!(!way.masked);
        let config = &way.next[b".config".as_slice()];
        assert!(!config.masked);
        assert_eq!(names(config), ["autostart", "systemd"]);
        assert!(config.next[b"autostart".as_slice()].masked);
        assert!(way.next[b".ssh".as_slice()].masked);
    }

    #[test]
    fn a_masked_base_and_dot_dot() {
        let way = Way::new("/home/u/", &["/home/u".to_string()]).unwrap();
        assert!(way.masked);
        assert!(Way::new("/home/u", &["/home/u/a/../b".to_string()]).is_none());
        assert!(Way::new("/home/u", &["/srv".to_string()])
            .unwrap()
            .is_empty());
    }
}
