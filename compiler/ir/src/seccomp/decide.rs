//! The intended decision: what the filter for `target` with `features` must return for one
//! `seccomp_data`. Written straight from flatpak-semantics §4 (Flatpak 1.14.10's
//! `setup_seccomp` run through libseccomp 2.5), with the project's documented
//! [`Hardening`](super::Hardening) marked where it departs from Flatpak.
//!
//! This function is the specification the verifier checks compiled programs against; it
//! shares no code with [`super::rules`], which is what the backend compiles.

use super::arch::X32_SYSCALL_BIT;
use super::{
    Action, Arch, Features, SeccompData, CLONE_NEWUSER, EACCES, EAFNOSUPPORT, ENOSYS, EOPNOTSUPP,
    EPERM, MSG_FASTOPEN, PER_LINUX, TIOCLINUX, TIOCSTI,
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
    let compat = target.compat().filter(|_| features.multiarch);
    let Some(arch) = [Some(target), compat]
        .into_iter()
        .flatten()
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
        // Hardening (port rules): Landlock's port rules see TCP alone. An inet socket must
        // be TCP, or UDP/ping unless `udp none`; anything else (MPTCP, SCTP, raw, …) would
        // connect and bind past them.
        "socket"
            if features.port_rules
                && !inet_socket_allowed(features, arg(0) as u32, arg(1) as u32, arg(2) as u32) =>
        {
            Action::Errno(EACCES)
        }
        // Hardening (port rules): TCP Fast Open connects without the connect hook. The
        // flags are sendto's 4th, sendmsg's 3rd, sendmmsg's 4th and Arm's send's 4th
        // argument (an int: the low 32 bits).
        "sendto" | "sendmmsg" | "send"
            if features.port_rules && arg(3) as u32 & MSG_FASTOPEN != 0 =>
        {
            Action::Errno(EOPNOTSUPP)
        }
        "sendmsg" if features.port_rules && arg(2) as u32 & MSG_FASTOPEN != 0 => {
            Action::Errno(EOPNOTSUPP)
        }
        // Hardening (port rules): i386's multiplexer keeps its arguments in memory.
        "socketcall" if features.port_rules => enosys,
        // Hardening: io_uring bypasses every argument rule above.
        "io_uring_setup" | "io_uring_enter" | "io_uring_register" if !features.io_uring => enosys,
        _ => Action::Allow,
    }
}

/// Port rules: which inet sockets Landlock's rules (or their absence for UDP) account for.
/// Other families are not inet sockets and pass (the family allowlist decided them).
fn inet_socket_allowed(features: Features, family: u32, ty: u32, protocol: u32) -> bool {
    // AF_INET, AF_INET6.
    if family != 2 && family != 10 {
        return true;
    }
    // The kernel reads the type through SOCK_TYPE_MASK; the rest is NONBLOCK/CLOEXEC.
    match (ty & 0xf, protocol) {
        // SOCK_STREAM with IPPROTO_IP (which means TCP) or IPPROTO_TCP.
        (1, 0 | 6) => true,
        // SOCK_DGRAM with IPPROTO_IP (UDP), IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6.
        (2, 0 | 17 | 1 | 58) => !features.udp_none,
        _ => false,
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
        // Types, bare and with SOCK_NONBLOCK (0x800) / SOCK_CLOEXEC (0x80000), and a bit
        // outside the type mask.
        (Some("socket"), 1) => vec![1, 2, 3, 5, 10, 0x801, 0x80002, 0x80805, 0x11, 0x12],
        // IPPROTO_IP, ICMP, TCP, UDP, ICMPV6, SCTP, UDPLITE, MPTCP, RAW.
        (Some("socket"), 2) => vec![0, 1, 6, 17, 58, 132, 136, 262, 255],
        (Some("sendto" | "sendmmsg" | "send"), 3) | (Some("sendmsg"), 2) => {
            vec![u64::from(MSG_FASTOPEN), u64::from(MSG_FASTOPEN) | 0x40]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(features: Features, arch: Arch, name: &str, args: [u64; 6]) -> Action {
        let nr = arch.syscall_number(name).expect("known syscall");
        decide(
            features,
            Arch::X86_64,
            &SeccompData {
                nr,
                arch: arch.audit(),
                instruction_pointer: 0,
                args,
            },
        )
    }

    const NONE: Features = Features {
        devel: false,
        multiarch: false,
        bluetooth: false,
        canbus: false,
        port_rules: false,
        udp_none: false,
        io_uring: false,
    };

    /// flatpak-semantics §7.5, S-1 to S-19, on x86_64.
    #[test]
    fn conformance_cases() {
        let x = Arch::X86_64;
        let eperm = Action::Errno(EPERM);
        let devel = Features {
            devel: true,
            ..NONE
        };
        assert_eq!(call(NONE, x, "chmod", [1, 0, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(call(NONE, x, "chroot", [0; 6]), eperm);
        assert_eq!(call(NONE, x, "clone3", [0; 6]), Action::Errno(ENOSYS));
        assert_eq!(
            call(NONE, x, "ioctl", [0, 0x5422, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(call(NONE, x, "ioctl", [0, 0x5412, 0, 0, 0, 0]), eperm);
        assert_eq!(
            call(NONE, x, "ioctl", [0, (0x123 << 32) | 0x5412, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(call(NONE, x, "ioctl", [0, 0x541C, 0, 0, 0, 0]), eperm);
        assert_eq!(call(NONE, x, "listen", [0; 6]), Action::Allow);
        let eafno = Action::Errno(EAFNOSUPPORT);
        assert_eq!(call(NONE, x, "socket", [17, 0, 0, 0, 0, 0]), eafno);
        assert_eq!(call(NONE, x, "socket", [31, 0, 0, 0, 0, 0]), eafno);
        let bt = Features {
            bluetooth: true,
            ..NONE
        };
        assert_eq!(call(bt, x, "socket", [31, 0, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(call(NONE, x, "socket", [29, 0, 0, 0, 0, 0]), eafno);
        let can = Features {
            canbus: true,
            ..NONE
        };
        assert_eq!(call(can, x, "socket", [29, 0, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(call(NONE, x, "unshare", [0; 6]), eperm);
        assert_eq!(
            call(NONE, x, "clone", [CLONE_NEWUSER | 17, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(call(NONE, x, "clone", [17, 0, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(call(NONE, x, "ptrace", [0; 6]), eperm);
        assert_eq!(call(devel, x, "ptrace", [0; 6]), Action::Allow);
        assert_eq!(call(devel, x, "perf_event_open", [0; 6]), Action::Allow);
        assert_eq!(call(NONE, x, "personality", [0; 6]), Action::Allow);
        assert_eq!(
            call(NONE, x, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(call(NONE, x, "modify_ldt", [0; 6]), eperm);
        for name in ["fsopen", "open_tree", "mount_setattr"] {
            assert_eq!(call(NONE, x, name, [0; 6]), Action::Errno(ENOSYS));
        }
        for name in ["add_key", "keyctl", "syslog", "acct"] {
            assert_eq!(call(NONE, x, name, [0; 6]), eperm);
        }
    }

    /// S-20 and the multiarch rules: i386 is killed without multiarch, filtered with it.
    #[test]
    fn compat_architecture() {
        let multi = Features {
            multiarch: true,
            ..NONE
        };
        assert_eq!(
            call(NONE, Arch::I386, "getpid", [0; 6]),
            Action::KillProcess
        );
        assert_eq!(call(multi, Arch::I386, "getpid", [0; 6]), Action::Allow);
        assert_eq!(
            call(multi, Arch::I386, "umount", [0; 6]),
            Action::Errno(EPERM)
        );
        // Hardening: socket families stay filtered on both ABIs.
        let eafno = Action::Errno(EAFNOSUPPORT);
        assert_eq!(
            call(multi, Arch::X86_64, "socket", [17, 0, 0, 0, 0, 0]),
            eafno
        );
        assert_eq!(
            call(multi, Arch::I386, "socket", [17, 0, 0, 0, 0, 0]),
            eafno
        );
        // A 32-bit ABI has no high word.
        assert_eq!(
            call(multi, Arch::I386, "personality", [1 << 32, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            call(multi, Arch::Aarch64, "getpid", [0; 6]),
            Action::KillProcess
        );
    }

    /// Port rules: inet sockets only as TCP, UDP or ping; no TFO; no compat socketcall.
    #[test]
    fn port_rules_close_what_landlock_does_not_see() {
        let ports = Features {
            port_rules: true,
            ..NONE
        };
        let no_udp = Features {
            udp_none: true,
            ..ports
        };
        let x = Arch::X86_64;
        let eacces = Action::Errno(EACCES);
        let allow = Action::Allow;
        // (family, type, protocol) → without port rules, with them, with `udp none`.
        for (args, with_ports, with_udp_none) in [
            ([2, 1, 0], allow, allow),
            ([10, 1 | 0x80800, 6], allow, allow),
            ([2, 1, 262], eacces, eacces),  // MPTCP
            ([10, 1, 132], eacces, eacces), // SCTP stream
            ([2, 5, 0], eacces, eacces),    // SEQPACKET: SCTP
            ([2, 3, 255], eacces, eacces),  // raw
            ([2, 2, 0], allow, eacces),
            ([10, 2 | 0x800, 17], allow, eacces),
            ([2, 2, 1], allow, eacces),    // ping
            ([2, 2, 136], eacces, eacces), // UDP-Lite
            ([1, 5, 0], allow, allow),     // AF_UNIX is not inet
            ([16, 3, 0], allow, allow),    // netlink
        ] {
            let a = [args[0], args[1], args[2], 0, 0, 0];
            assert_eq!(call(NONE, x, "socket", a), allow, "{args:?}");
            assert_eq!(call(ports, x, "socket", a), with_ports, "{args:?}");
            assert_eq!(call(no_udp, x, "socket", a), with_udp_none, "{args:?}");
        }
        // The family allowlist still answers first.
        assert_eq!(
            call(ports, x, "socket", [17, 1, 262, 0, 0, 0]),
            Action::Errno(EAFNOSUPPORT)
        );
        let tfo = u64::from(MSG_FASTOPEN) | 0x40;
        let eop = Action::Errno(EOPNOTSUPP);
        assert_eq!(call(ports, x, "sendto", [3, 0, 1, tfo, 0, 0]), eop);
        assert_eq!(call(NONE, x, "sendto", [3, 0, 1, tfo, 0, 0]), allow);
        assert_eq!(call(ports, x, "sendto", [3, 0, 1, 0x40, 0, 0]), allow);
        assert_eq!(call(ports, x, "sendmsg", [3, 0, tfo, 0, 0, 0]), eop);
        assert_eq!(call(ports, x, "sendmsg", [3, 0, 0, tfo, 0, 0]), allow);
        assert_eq!(call(ports, x, "sendmmsg", [3, 0, 1, tfo, 0, 0]), eop);
        // The compat ABI: socketcall refused, the direct calls filtered.
        let multi = Features {
            multiarch: true,
            ..ports
        };
        let i = Arch::I386;
        assert_eq!(
            call(multi, i, "socketcall", [1, 0, 0, 0, 0, 0]),
            Action::Errno(ENOSYS)
        );
        assert_eq!(
            call(
                Features {
                    port_rules: false,
                    ..multi
                },
                i,
                "socketcall",
                [1, 0, 0, 0, 0, 0]
            ),
            allow
        );
        assert_eq!(call(multi, i, "socket", [2, 1, 262, 0, 0, 0]), eacces);
        assert_eq!(call(multi, i, "sendto", [3, 0, 1, tfo, 0, 0]), eop);
    }

    /// io_uring: ENOSYS unless `allow io-uring`.
    #[test]
    fn io_uring_is_refused_unless_allowed() {
        let allowed = Features {
            io_uring: true,
            ..NONE
        };
        for name in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
            assert_eq!(
                call(NONE, Arch::X86_64, name, [0; 6]),
                Action::Errno(ENOSYS)
            );
            assert_eq!(call(allowed, Arch::X86_64, name, [0; 6]), Action::Allow);
        }
    }

    #[test]
    fn numbers_outside_the_table() {
        let at = |nr: u32| {
            decide(
                NONE,
                Arch::X86_64,
                &SeccompData {
                    nr,
                    arch: Arch::X86_64.audit(),
                    instruction_pointer: 0,
                    args: [0; 6],
                },
            )
        };
        assert_eq!(at(400), Action::Errno(ENOSYS));
        assert_eq!(at(0x3fff_ffff), Action::Errno(ENOSYS));
        assert_eq!(at(0x4000_0000 | 39), Action::KillProcess);
        assert_eq!(at(u32::MAX), Action::Allow);
    }
}
