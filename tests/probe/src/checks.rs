//! The probes. Each tries one way out and reports whether it worked.

use std::io::Read;

use crate::sys::{self, Raw};
use crate::{Targets, Verdict};

fn verdict(name: &'static str, escaped: bool, detail: impl Into<String>) -> Verdict {
    Verdict {
        name,
        escaped,
        detail: detail.into(),
    }
}

fn errno_text(e: i32) -> String {
    std::io::Error::from_raw_os_error(e).to_string()
}

/// A raw call must fail; `escaped` when it succeeded.
fn must_fail(name: &'static str, what: &str, result: Raw) -> Verdict {
    match result {
        Ok(v) => verdict(name, true, format!("{what} succeeded ({v})")),
        Err(e) => verdict(name, false, format!("{what}: {}", errno_text(e))),
    }
}

/// A raw call must fail with exactly `errno` (the filter's answer, not the kernel's).
fn must_fail_with(name: &'static str, what: &str, result: Raw, errno: i32) -> Verdict {
    match result {
        Err(e) if e == errno => verdict(name, false, format!("{what}: {}", errno_text(e))),
        Err(e) => verdict(
            name,
            true,
            format!("{what}: {} (expected {})", errno_text(e), errno_text(errno)),
        ),
        Ok(v) => verdict(name, true, format!("{what} succeeded ({v})")),
    }
}

fn read_file(name: &'static str, path: &str) -> Verdict {
    let mut buf = [0u8; 1];
    match std::fs::File::open(path).and_then(|mut f| f.read(&mut buf)) {
        Ok(_) => verdict(name, true, format!("read `{path}`")),
        Err(e) => verdict(name, false, format!("`{path}`: {e}")),
    }
}

fn write_file(name: &'static str, path: &str, create: bool) -> Verdict {
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create(create)
        .truncate(false)
        .open(path);
    match result {
        Ok(_) => verdict(name, true, format!("opened `{path}` for writing")),
        Err(e) => verdict(name, false, format!("`{path}`: {e}")),
    }
}

fn status_field(field: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

fn status_is(name: &'static str, field: &str, want: &str) -> Verdict {
    match status_field(field) {
        Some(v) if v == want => verdict(name, false, format!("{field}: {v}")),
        Some(v) => verdict(name, true, format!("{field}: {v} (want {want})")),
        None => verdict(name, true, format!("no {field} in /proc/self/status")),
    }
}

fn processes(targets: &Targets) -> Vec<Verdict> {
    let mut out = Vec::new();
    if let Some(marker) = &targets.marker {
        let mut seen = Vec::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name.parse::<u32>().is_err() {
                    continue;
                }
                let cmdline = std::fs::read(format!("/proc/{name}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).contains(marker.as_str()) {
                    seen.push(name);
                }
            }
        }
        out.push(verdict(
            "other-processes",
            !seen.is_empty(),
            format!("host process visible as pid {seen:?}"),
        ));
    }
    if let Some(pid) = targets.host_pid {
        out.push(must_fail(
            "signal-host",
            "kill(host pid, 0)",
            sys::kill(pid, 0),
        ));
    }
    // pid 1 is the sandbox's own reaper; the app must not be able to trace it.
    out.push(must_fail(
        "ptrace",
        "ptrace(PTRACE_ATTACH, 1)",
        sys::syscall6(
            libc::SYS_ptrace,
            [libc::PTRACE_ATTACH as u64, 1, 0, 0, 0, 0],
        ),
    ));
    out
}

fn namespaces() -> Vec<Verdict> {
    let clone_flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as u64;
    vec![
        must_fail(
            "unshare-user",
            "unshare(CLONE_NEWUSER)",
            sys::syscall6(
                libc::SYS_unshare,
                [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0],
            ),
        ),
        must_fail(
            "unshare-mount",
            "unshare(CLONE_NEWNS)",
            sys::syscall6(libc::SYS_unshare, [libc::CLONE_NEWNS as u64, 0, 0, 0, 0, 0]),
        ),
        // A raw clone with CLONE_NEWUSER: if it ever succeeded, the child exits at once.
        match sys::in_child(|| {
            match sys::syscall6(libc::SYS_clone, [clone_flags, 0, 0, 0, 0, 0]) {
                Ok(0) => {
                    // The new child: leave without touching anything.
                    sys::syscall6(libc::SYS_exit, [0; 6])
                        .map(|_| 0)
                        .unwrap_or(0) as i32
                }
                Ok(_) => 10,
                Err(_) => 0,
            }
        }) {
            Ok(0) => verdict("clone-newuser", false, "clone(CLONE_NEWUSER) refused"),
            other => verdict(
                "clone-newuser",
                true,
                format!("clone(CLONE_NEWUSER): {other:?}"),
            ),
        },
        must_fail_with(
            "clone3",
            "clone3()",
            sys::syscall6(libc::SYS_clone3, [0, 0, 0, 0, 0, 0]),
            libc::ENOSYS,
        ),
        must_fail(
            "setns",
            "setns(-1, 0)",
            sys::syscall6(libc::SYS_setns, [u64::MAX, 0, 0, 0, 0, 0]),
        ),
    ]
}

fn mounts() -> Vec<Verdict> {
    vec![
        must_fail(
            "mount",
            "mount(tmpfs, /tmp)",
            sys::mount("tmpfs", "/tmp", "tmpfs"),
        ),
        must_fail_with(
            "fsopen",
            "fsopen(tmpfs)",
            sys::fsopen("tmpfs"),
            libc::ENOSYS,
        ),
        must_fail_with(
            "open-tree",
            "open_tree(/)",
            sys::open_tree("/"),
            libc::ENOSYS,
        ),
        must_fail_with(
            "move-mount",
            "move_mount()",
            sys::syscall6(libc::SYS_move_mount, [u64::MAX, 0, u64::MAX, 0, 0, 0]),
            libc::ENOSYS,
        ),
        must_fail_with(
            "mount-setattr",
            "mount_setattr()",
            sys::syscall6(libc::SYS_mount_setattr, [u64::MAX, 0, 0, 0, 0, 0]),
            libc::ENOSYS,
        ),
        must_fail(
            "umount",
            "umount2(/proc, MNT_DETACH)",
            sys::syscall6(libc::SYS_umount2, [c"/proc".as_ptr() as u64, 2, 0, 0, 0, 0]),
        ),
        must_fail(
            "pivot-root",
            "pivot_root(/tmp, /tmp)",
            sys::syscall6(
                libc::SYS_pivot_root,
                [c"/tmp".as_ptr() as u64, c"/tmp".as_ptr() as u64, 0, 0, 0, 0],
            ),
        ),
        must_fail("chroot", "chroot(/tmp)", sys::chroot("/tmp")),
    ]
}

fn terminal() -> Vec<Verdict> {
    const TIOCSTI: u64 = 0x5412;
    const TIOCLINUX: u64 = 0x541C;
    const HIGH: u64 = 0x1_0000_0000;
    let mut out = Vec::new();
    // On a bad descriptor the kernel says EBADF; only the filter says EPERM first.
    for (name, request) in [
        ("tiocsti-filter", TIOCSTI),
        ("tiocsti-high-bits", TIOCSTI | HIGH),
        ("tioclinux-filter", TIOCLINUX),
        ("tioclinux-high-bits", TIOCLINUX | HIGH),
    ] {
        out.push(must_fail_with(
            name,
            &format!("ioctl(-1, {request:#x})"),
            sys::ioctl_byte(-1, request, b'x'),
            libc::EPERM,
        ));
    }
    for (name, fd) in [("tiocsti-stdin", 0), ("tiocsti-stderr", 2)] {
        out.push(must_fail(
            name,
            "ioctl(TIOCSTI)",
            sys::ioctl_byte(fd, TIOCSTI, b'x'),
        ));
    }
    match sys::open_pty() {
        Ok((_, slave)) => out.push(must_fail(
            "tiocsti-pty",
            "ioctl(pty, TIOCSTI)",
            sys::ioctl_byte(slave, TIOCSTI, b'x'),
        )),
        Err(e) => out.push(verdict(
            "tiocsti-pty",
            false,
            format!("no pty: {}", errno_text(e)),
        )),
    }
    out
}

fn kernel() -> Vec<Verdict> {
    const KEYCTL_GET_KEYRING_ID: u64 = 0;
    const KEY_SPEC_SESSION_KEYRING: u64 = (-3i64) as u64;
    vec![
        must_fail(
            "keyctl",
            "keyctl(GET_KEYRING_ID)",
            sys::syscall6(
                libc::SYS_keyctl,
                [KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1, 0, 0, 0],
            ),
        ),
        must_fail(
            "add-key",
            "add_key()",
            sys::syscall6(
                libc::SYS_add_key,
                [
                    c"user".as_ptr() as u64,
                    c"x".as_ptr() as u64,
                    0,
                    0,
                    KEY_SPEC_SESSION_KEYRING,
                    0,
                ],
            ),
        ),
        must_fail_with(
            "perf-event-open",
            "perf_event_open()",
            sys::syscall6(libc::SYS_perf_event_open, [0, 0, u64::MAX, u64::MAX, 0, 0]),
            libc::EPERM,
        ),
        must_fail(
            "init-module",
            "init_module()",
            sys::syscall6(libc::SYS_init_module, [0, 0, c"".as_ptr() as u64, 0, 0, 0]),
        ),
        must_fail(
            "finit-module",
            "finit_module(0)",
            sys::syscall6(libc::SYS_finit_module, [0, c"".as_ptr() as u64, 0, 0, 0, 0]),
        ),
        must_fail(
            "personality",
            "personality(PER_LINUX32)",
            sys::syscall6(libc::SYS_personality, [0x0008, 0, 0, 0, 0, 0]),
        ),
        must_fail(
            "personality-query",
            "personality(0xffffffff)",
            sys::syscall6(libc::SYS_personality, [0xffff_ffff, 0, 0, 0, 0, 0]),
        ),
    ]
}

fn network(targets: &Targets) -> Vec<Verdict> {
    let mut out = Vec::new();
    for addr in &targets.tcp {
        let result = addr
            .parse::<std::net::SocketAddr>()
            .map_err(|e| e.to_string())
            .and_then(|a| {
                std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_millis(500))
                    .map_err(|e| e.to_string())
            });
        out.push(match result {
            Ok(_) => verdict("tcp-host", true, format!("connected to {addr}")),
            Err(e) => verdict("tcp-host", false, format!("{addr}: {e}")),
        });
    }
    for name in &targets.abstract_sockets {
        out.push(must_fail(
            "abstract-socket",
            &format!("connect(@{name})"),
            sys::connect_abstract(name),
        ));
    }
    let interfaces: Vec<String> = std::fs::read_to_string("/proc/net/dev")
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(|n| n.trim().to_string()))
        .filter(|n| n != "lo")
        .collect();
    out.push(verdict(
        "network-interfaces",
        !interfaces.is_empty(),
        format!("interfaces besides lo: {interfaces:?}"),
    ));
    out
}

fn files(targets: &Targets) -> Vec<Verdict> {
    let mut out = vec![
        read_file("etc-shadow", "/etc/shadow"),
        write_file("write-runtime", "/usr/portcullis-probe", true),
        write_file("write-root", "/portcullis-probe", true),
        write_file("write-etc", "/etc/portcullis-probe", true),
        write_file(
            "sys-write",
            "/sys/kernel/mm/transparent_hugepage/enabled",
            false,
        ),
        write_file("proc-sys-write", "/proc/sys/kernel/hostname", false),
        write_file("sysrq-trigger", "/proc/sysrq-trigger", false),
        must_fail(
            "mknod",
            "mknod(/tmp/null, c 1 3)",
            sys::mknod_char("/tmp/portcullis-null", 1, 3),
        ),
    ];
    for path in &targets.host_files {
        out.push(read_file("host-file", path));
    }
    for path in &targets.ro_files {
        out.push(write_file("read-only-grant", path, false));
    }
    for path in &targets.devices {
        out.push(read_file("device", path));
    }
    out
}

fn confinement() -> Vec<Verdict> {
    vec![
        status_is("no-new-privs", "NoNewPrivs", "1"),
        status_is("seccomp-mode", "Seccomp", "2"),
        status_is("cap-effective", "CapEff", "0000000000000000"),
        status_is("cap-permitted", "CapPrm", "0000000000000000"),
        status_is("cap-bounding", "CapBnd", "0000000000000000"),
        status_is("cap-ambient", "CapAmb", "0000000000000000"),
    ]
}

/// Every probe, in a fixed order.
pub fn all(targets: &Targets) -> Vec<Verdict> {
    let mut out = files(targets);
    out.extend(processes(targets));
    out.extend(namespaces());
    out.extend(mounts());
    out.extend(terminal());
    out.extend(kernel());
    out.extend(network(targets));
    out.extend(confinement());
    out
}
