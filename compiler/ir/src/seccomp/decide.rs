//! The intended decision: what the filter for `target` with `features` must return for one
//! `seccomp_data`. Written straight from flatpak-semantics §4 (Flatpak 1.14.10's
//! `setup_seccomp` run through libseccomp 2.5), with the project's documented
//! [`Hardening`](super::Hardening) marked where it departs from Flatpak.
//!
//! This function is the specification the verifier checks compiled programs against; it
//! shares no code with [`super::rules`], which is what the backend compiles.

use super::arch::X32_SYSCALL_BIT;
use super::{
    Action, Arch, Features, SeccompData, CLONE_NEWUSER, EAFNOSUPPORT, ENOSYS, EPERM, PER_LINUX,
    TIOCLINUX, TIOCSTI,
};

/// The architectures a filter for `target` carries (§4.1: the native one, plus the compat
/// one with multiarch).
pub fn filter_arches(target: Arch, features: Features) -> Vec<Arch> {
    let mut arches = vec![target];
    if features.multiarch {
        arches.extend(target.compat());
    }
    arches
}

/// The verdict of the filter for `target` with `features` on `data`.
pub fn decide(features: Features, target: Arch, data: &SeccompData) -> Action {
    // §4.1: an ABI not in the filter is killed (libseccomp's bad-arch default). Hardening:
    // the whole process, not just the thread.
    let Some(arch) = filter_arches(target, features)
        .into_iter()
        .find(|a| a.audit() == data.arch)
    else {
        return Action::KillProcess;
    };
    let nr = data.nr;
    // nr -1 is what a tracer writes to skip a syscall; libseccomp lets it through, and so
    // do we (the kernel runs nothing for it).
    if nr == u32::MAX {
        return Action::Allow;
    }
    // §4.1: x32 numbers in the x86_64 section are killed (Flatpak: thread; we: process).
    if arch == Arch::X86_64 && nr >= X32_SYSCALL_BIT {
        return Action::KillProcess;
    }
    // Hardening: a number the table does not know gets ENOSYS (Flatpak: allowed).
    let Some(name) = arch.syscall_name(nr) else {
        return Action::Errno(ENOSYS);
    };
    // On 32-bit ABIs the kernel zero-extends arguments: only the low word exists.
    let arg = |i: usize| {
        if arch.is_64bit() {
            data.args[i]
        } else {
            data.args[i] & 0xffff_ffff
        }
    };
    let eperm = Action::Errno(EPERM);
    let enosys = Action::Errno(ENOSYS);
    match name {
        // §4.2, always blocked with EPERM.
        "syslog" | "uselib" | "acct" | "quotactl" | "add_key" | "keyctl" | "request_key"
        | "move_pages" | "mbind" | "get_mempolicy" | "set_mempolicy" | "migrate_pages"
        | "unshare" | "setns" | "mount" | "umount" | "umount2" | "pivot_root" | "chroot"
        | "modify_ldt" => eperm,
        // Hardening: newer siblings of the calls above, unknown to Flatpak 1.14.
        "quotactl_fd" | "set_mempolicy_home_node" => eperm,
        // §4.2: ENOSYS so that libc falls back (clone3, the new mount API).
        "clone3" | "open_tree" | "move_mount" | "fsopen" | "fsconfig" | "fsmount" | "fspick"
        | "mount_setattr" => enosys,
        // Hardening: the newest member of the mount API.
        "open_tree_attr" => enosys,
        // §4.2: no new user namespace (flags are arg0 on every supported arch).
        "clone" if arg(0) & CLONE_NEWUSER == CLONE_NEWUSER => eperm,
        // §4.2: the kernel reads the command as 32 bits; so does Flatpak's mask.
        "ioctl" if matches!(arg(1) as u32, TIOCSTI | TIOCLINUX) => eperm,
        // §4.3: blocked unless devel.
        "ptrace" | "perf_event_open" if !features.devel => eperm,
        "personality" if !features.devel && arg(0) != PER_LINUX => eperm,
        // §4.4: the family allowlist. Hardening: compared on the 32 bits the kernel reads,
        // and kept under multiarch (Flatpak 1.14 loses it there).
        "socket" if !family_allowed(features, arg(0) as u32) => Action::Errno(EAFNOSUPPORT),
        _ => Action::Allow,
    }
}

/// §4.4: `AF_UNSPEC`, `AF_UNIX`, `AF_INET`, `AF_INET6`, `AF_NETLINK`, plus `AF_CAN` with
/// canbus and `AF_BLUETOOTH` with bluetooth.
fn family_allowed(features: Features, family: u32) -> bool {
    match family {
        0 | 1 | 2 | 10 | 16 => true,
        29 => features.canbus,
        31 => features.bluetooth,
        _ => false,
    }
}

/// The constants [`decide`] compares argument `index` of syscall `nr` against on `arch`, so
/// that a checker can probe both sides of each (empty when the verdict ignores arguments).
pub fn argument_constants(arch: Arch, nr: u32, index: usize) -> Vec<u64> {
    match (arch.syscall_name(nr), index) {
        (Some("clone"), 0) => vec![CLONE_NEWUSER],
        (Some("ioctl"), 1) => vec![u64::from(TIOCSTI), u64::from(TIOCLINUX)],
        (Some("personality"), 0) => vec![PER_LINUX],
        (Some("socket"), 0) => vec![0, 1, 2, 10, 16, 29, 31],
        _ => Vec::new(),
    }
}
