//! The launch, step by step, in one fixed order ([`run`]). Each step is one function
//! below, commented with why it sits where it does.
//!
//! Processes: the caller's process sets up the namespaces and stays outside as the
//! waiter that forwards the exit status; its child is pid 1 of the new pid namespace,
//! builds the root, drops every privilege, seals itself (not dumpable, its own session,
//! the caller's strings wiped), installs the seccomp filter and forks the app, which it
//! then reaps (answering the app's `listen` calls when the policy has port rules, see
//! [`crate::init`]). No process of the executor that the app can reach is less confined
//! than the app.

use std::collections::BTreeMap;

use portcullis_blob::expand::{self, Launch, RealFs, Values};
use portcullis_blob::mounts::{Condition, MountOp, PathExpr};
use portcullis_blob::{Blob, Namespaces, SockFilter};

use crate::args::Args;
use crate::failure::{self, Context, Failure};
use std::os::fd::{AsFd, OwnedFd};

use portcullis_blob::landlock::Requirement;

use crate::init::{self, Init};
use crate::sys::notify;
use crate::sys::process::{self, Forked};
use crate::sys::{confine, fs, secure};
use crate::{cgroup, dbus_proxy, landlock, launch, limits, root, trust};

/// The whole launch. Returns the exit status to report (the app's, as forwarded by the
/// outer process; the app itself never returns from here).
pub fn run(args: &Args) -> Result<i32, Failure> {
    let blob = read_blob(args)?;
    let mut host = decide_on_host(args, &blob)?;
    let _buses = start_bus_proxies(&blob, &mut host)?;
    let cgroups = make_cgroups(&blob);
    user_namespace(host.launch.uid, host.launch.gid)?;
    other_namespaces(blob.namespaces)?;
    let held = match split_off_pid1(cgroups)? {
        Split::Outer(status) => return Ok(status),
        Split::Pid1(held) => held,
    };
    loopback(blob.namespaces)?;
    let mask = fs::umask(0);
    root::enter(&host.plan, &host.guarded, &host.root_rules)?;
    root::seal_root()?;
    fs::umask(mask);
    working_directory(host.cwd.as_deref(), &host.launch.home);
    no_new_privs()?;
    apply_landlock(&blob, &host)?;
    apply_limits(&blob, &held)?;
    drop_capabilities()?;
    close_stray_fds()?;
    seal_pid1()?;
    install_seccomp(&blob.seccomp)?;
    let channel = match fork_app(&blob)? {
        Side::Pid1(init) => return init.run(),
        Side::App(channel) => channel,
    };
    set_environment(&host.env);
    let listener = supervise_listen(&blob)?;
    wait_for_pid1(&channel, listener)?;
    Err(exec(&args.command))
}

/// Read and check the whole blob first: a truncated, corrupted, foreign or newer blob,
/// or one whose seccomp program the kernel would refuse, is refused before anything at
/// all is changed, and so is one that the trusted keys do not vouch for (checked on the
/// very bytes that were decoded, see [`crate::trust`]). The file is opened without
/// blocking (a FIFO cannot hang the launch) and must be a regular file of at most
/// `MAX_BLOB_LEN` bytes (a device such as `/dev/zero` is never read).
fn read_blob(args: &Args) -> Result<Blob, Failure> {
    let path = args.blob.as_str();
    let file = fs::open_nonblocking(path).step_on("read blob", path)?;
    let bytes = portcullis_blob::file::read_opened(file).step_on("read blob", path)?;
    let blob = Blob::decode_for_host(&bytes).step_on("read blob", path)?;
    trust::check(&bytes, &args.trust)?;
    Ok(blob)
}

/// What was decided by looking at the host, before any namespace exists.
struct HostView {
    launch: Launch,
    values: Values,
    plan: Vec<MountOp>,
    env: BTreeMap<String, String>,
    guarded: Vec<String>,
    conditions: Vec<(Condition, bool)>,
    root_rules: root::Rules,
    /// The caller's working directory on the host.
    cwd: Option<String>,
}

/// Expand placeholders and evaluate the plan's host conditions while the host is
/// still the host (Flatpak decides these by looking at it too), and compute the app's
/// environment from the caller's.
fn decide_on_host(args: &Args, blob: &Blob) -> Result<HostView, Failure> {
    const STEP: &str = "expand plan";
    let launch = launch::gather(args, &blob.app_id);
    let values = Values::new(&launch);
    let device_nodes = device_nodes_are_devices(blob, &values)?;
    // Every tmpfs the root step mounts is bounded by the memory limit (or the default),
    // and a device-node bind is checked again on the descriptor it binds.
    let root_rules = root::Rules::new(&blob.limits, device_nodes);
    let plan = expand::expand_plan(&blob.mounts, &values, &RealFs).step(STEP)?;
    let env_ops = expand::expand_env(&blob.env, &values, &RealFs).step(STEP)?;
    let mut env = launch.env.clone();
    expand::apply_env(&env_ops, &mut env);
    // Where an app may be able to write on the host, so where a link may have been
    // planted between launches: bind sources below these are walked without following
    // any symbolic link (walk::host).
    let guarded: Vec<String> = [
        values.get("HOME").map(str::to_string),
        launch.env.get("XDG_RUNTIME_DIR").cloned(),
        Some("/tmp".to_string()),
        Some("/var/tmp".to_string()),
        Some("/dev/shm".to_string()),
    ]
    .into_iter()
    .flatten()
    .filter(|p| p.starts_with('/') && p.len() > 1)
    .collect();
    // Landlock runs after pivot_root, where the host cannot be seen any more: its rule
    // conditions are the plan's and are evaluated now.
    let conditions = blob
        .landlock
        .fs
        .iter()
        .flat_map(|fs| fs.rules.iter().filter_map(|r| r.condition.clone()))
        .map(|c| {
            let holds = expand::holds(&c, &values, &RealFs);
            (c, holds)
        })
        .collect();
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.into_os_string().into_string().ok());
    Ok(HostView {
        cwd,
        launch,
        values,
        plan,
        env,
        guarded,
        conditions,
        root_rules,
    })
}

/// A single device-node grant binds its host path with devices allowed, so it must be a
/// character or block device: a directory (`/dev/shm`, `/dev/input`) or a regular file
/// there is refused here, before anything is created or started. A missing node is left
/// to the plan, which skips it (the bind is optional, like `--dev-bind-try`). The path is
/// followed as the bind follows it (`/dev/serial/by-id/…` links to the node). The mount
/// step checks the opened source once more.
fn device_nodes_are_devices(blob: &Blob, values: &Values) -> Result<Vec<String>, Failure> {
    use std::os::unix::fs::FileTypeExt;
    const STEP: &str = "device nodes";
    let paths: Vec<String> = blob
        .device_nodes
        .iter()
        .filter_map(|node| values.expand(node.as_str()).ok())
        .collect();
    for path in &paths {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let kind = meta.file_type();
        if !(kind.is_char_device() || kind.is_block_device()) {
            let what = if kind.is_dir() {
                "a directory"
            } else {
                "not a device"
            };
            return Err(Failure::setup(
                STEP,
                format!("`{path}` is {what}, not a character or block device"),
            ));
        }
    }
    // The returned paths go to the root step, which checks the descriptor it binds
    // again (no window between the two checks).
    Ok(paths)
}

/// D-Bus, still on the host and before any namespace exists: the real `xdg-dbus-proxy`
/// is started outside the sandbox with the blob's compiled rules, and this waits until
/// its sockets listen (its sync byte). Only the filtered socket is added to the mount
/// plan (`/run/flatpak/bus` and the runtime-dir `bus` symlink,
/// `/run/dbus/system_bus_socket`, `/run/flatpak/at-spi-bus`), and the sandbox's bus
/// variables point there; a bus the host lacks is left out with a note. The returned
/// value holds the sync pipe's read end: it stays in this outer process only (pid 1
/// closes its copy with the stray fds), so the proxy exits when the launch ends, the
/// app's end or a failed setup alike.
fn start_bus_proxies(blob: &Blob, host: &mut HostView) -> Result<dbus_proxy::Buses, Failure> {
    let runtime_dir = host.env.get("XDG_RUNTIME_DIR").cloned();
    let buses = dbus_proxy::start(
        &blob.dbus,
        &host.launch.env,
        runtime_dir.as_deref(),
        host.launch.uid,
        &blob.seccomp,
    )?;
    buses.apply(&mut host.plan, &mut host.env);
    for note in &buses.notes {
        eprintln!("portcullis-exec: note: {note}");
    }
    Ok(buses)
}

/// The launch's cgroups, made and filled on the host while the executor still has the
/// caller's full rights there, before any namespace exists: after the user namespace the
/// executor no longer has the caller's capabilities over the host's cgroupfs, and after
/// `pivot_root` it cannot see cgroupfs at all. After the bus proxies, so that they stay in
/// the caller's cgroup. pid 1 joins them right after the split ([`split_off_pid1`]); the
/// outer process removes them when the launch ends, and dropping the value (a failed step
/// before the split) removes them too. Only limits that need a cgroup (memory, processes,
/// a CPU share) make one; what no cgroup can hold falls to the rlimits in [`apply_limits`].
fn make_cgroups(blob: &Blob) -> cgroup::Cgroups {
    let l = &blob.limits;
    let wanted = cgroup::Wanted {
        memory: l.memory,
        processes: l.processes,
        cpu_share: l.cpu_share,
    };
    if wanted == cgroup::Wanted::default() {
        return cgroup::Cgroups::none();
    }
    let cgroups = cgroup::create(wanted, &blob.app_id, &cgroup::HostCgroups::read());
    if std::env::var_os(landlock::REPORT_VARIABLE).is_some() {
        for path in cgroups.paths() {
            eprintln!("portcullis-exec: cgroup: {}", path.display());
        }
    }
    cgroups
}

/// A user namespace first: it gives the capabilities the other namespaces and the
/// mounts need without being root on the host, and works for root and for an ordinary
/// user alike. The caller's uid and gid map to themselves; `setgroups` is denied, as
/// the kernel requires before an unprivileged gid map (and so supplementary groups can
/// never be dropped to get around a group-denied file).
fn user_namespace(uid: u32, gid: u32) -> Result<(), Failure> {
    const STEP: &str = "user namespace";
    process::unshare(libc::CLONE_NEWUSER).step(STEP)?;
    std::fs::write("/proc/self/setgroups", "deny").step_on(STEP, "setgroups")?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1\n")).step_on(STEP, "uid_map")?;
    std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1\n")).step_on(STEP, "gid_map")?;
    Ok(())
}

/// Mount, pid, uts and (unless shared) ipc and network namespaces, all owned by the
/// new user namespace. The pid namespace applies to children only: see the next step.
fn other_namespaces(ns: Namespaces) -> Result<(), Failure> {
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS;
    if ns.ipc {
        flags |= libc::CLONE_NEWIPC;
    }
    if ns.net {
        flags |= libc::CLONE_NEWNET;
    }
    process::unshare(flags).step("namespaces")
}

/// Which side of the split this is.
enum Split {
    /// The outer process, with the status to report once the launch has ended.
    Outer(i32),
    /// pid 1, with how its cgroups hold the limits.
    Pid1(cgroup::Held),
}

/// The first child is pid 1 of the new pid namespace. The caller's process stays
/// outside and only waits, so that the caller gets the app's exit status; pid 1 is
/// killed if it goes away (and the kernel then kills the whole namespace). The outer
/// process only ever leaves `waitpid` by being killed, so the parent-death signal is
/// in place long before that can matter.
///
/// pid 1 joins the launch's cgroups first thing, before it builds the root (which hides
/// cgroupfs) and before any child exists, so the app and everything it starts are born
/// inside; then it enters a new cgroup namespace rooted there, so the sandbox sees its
/// cgroup as `/` and has nothing above it to name. The outer process stays in the
/// caller's cgroup: once pid 1 has ended (and with it every process of the namespace) it
/// reports a limit that was hit and removes the cgroups.
fn split_off_pid1(cgroups: cgroup::Cgroups) -> Result<Split, Failure> {
    match process::fork().step("pid 1")? {
        Forked::Parent(child) => {
            // The waiter outside holds the caller's environment; nothing in the sandbox
            // can see it (another pid namespace), and it is not dumpable either.
            confine::not_dumpable().step("pid 1")?;
            process::release_memory();
            let ended = process::wait(child).step("wait")?;
            cgroups.finish();
            Ok(Split::Outer(
                ended.map(|(_, e)| e.code()).unwrap_or(failure::SETUP),
            ))
        }
        Forked::Child => {
            let dies_with_parent = process::die_with_parent();
            // Joined (and so given up: the cgroups are the outer process's to remove)
            // before anything here can fail.
            let held = cgroups.join();
            dies_with_parent.step("pid 1")?;
            Ok(Split::Pid1(held.step("cgroup")?))
        }
    }
}

/// A new network namespace has only a loopback interface, and it is down.
fn loopback(ns: Namespaces) -> Result<(), Failure> {
    if ns.net {
        process::loopback_up().step("loopback")?;
    }
    Ok(())
}

/// The app starts where bubblewrap (and so `flatpak run`) starts it: in the caller's
/// working directory when the same path is a directory inside the sandbox, else in the
/// home directory when it is one there, else at `/`. The paths are looked up inside the
/// new root only (after `pivot_root`), so nothing of the host is reached.
fn working_directory(cwd: Option<&str>, home: &str) {
    let inside = |path: &str| path.starts_with('/') && std::env::set_current_dir(path).is_ok();
    if !cwd.is_some_and(inside) && !inside(home) {
        let _ = std::env::set_current_dir("/");
    }
}

/// After the root is built and before anything that runs app code: no exec may ever
/// grant privileges again (setuid, file capabilities); seccomp requires it too.
fn no_new_privs() -> Result<(), Failure> {
    secure::no_new_privs().step("no_new_privs")
}

/// Landlock after pivot_root (its paths are sandbox paths) and before capabilities go
/// (creating the ruleset needs nothing, but it must cover pid 1 and the app alike).
fn apply_landlock(blob: &Blob, host: &HostView) -> Result<(), Failure> {
    let expand_path = |p: &PathExpr| host.values.expand(p.as_str()).ok();
    let holds = |c: &Condition| {
        host.conditions
            .iter()
            .find(|(known, _)| known == c)
            .is_some_and(|(_, holds)| *holds)
    };
    let view = landlock::Host {
        expand: &expand_path,
        holds: &holds,
    };
    landlock::apply(&blob.landlock, &view).step("landlock")?;
    Ok(())
}

/// Resource limits while the process can still lower them for itself and its children:
/// the rlimits (open files, CPU time, core dumps) and, for a limit no cgroup holds, the
/// rlimit fallback; a required limit nothing can hold aborts here.
fn apply_limits(blob: &Blob, held: &cgroup::Held) -> Result<(), Failure> {
    limits::apply(&blob.limits, held).step("limits")?;
    Ok(())
}

/// Every capability goes (bounding, ambient, effective, permitted, inheritable), so
/// neither pid 1 nor the app keeps the user namespace's full set.
fn drop_capabilities() -> Result<(), Failure> {
    secure::drop_capabilities().step("capabilities")
}

/// Only stdin, stdout and stderr reach the app; any other inherited descriptor could
/// be a way out (a directory of the host, a socket).
fn close_stray_fds() -> Result<(), Failure> {
    process::close_from(3).step("close fds")
}

/// Pid 1 is sealed before anything the app controls can reach it (the app shares its
/// pid namespace, its uid and its mounts):
/// - its initial environment and arguments are wiped from memory, so `/proc/1/environ`
///   and `/proc/1/cmdline` show none of the caller's variables or paths (the copy the
///   launch needs is already on the heap);
/// - it is not dumpable, so `/proc/1/mem`, `ptrace`, `process_vm_writev`, `/proc/1/fd`
///   and `pidfd_getfd` on it need `CAP_SYS_PTRACE` over the host's user namespace, which
///   nothing in the sandbox has (this is what stops the app writing code into pid 1).
///
/// It leaves the caller's session right after forking the app ([`fork_app`]), before the
/// app execs.
fn seal_pid1() -> Result<(), Failure> {
    const STEP: &str = "seal pid 1";
    confine::wipe_initial_strings("portcullis-init").step(STEP)?;
    confine::not_dumpable().step(STEP)
}

/// Which process this is after [`fork_app`].
enum Side {
    /// Pid 1, which reaps (and answers `listen` when the policy has port rules).
    Pid1(Init),
    /// The app's process, with its end of the channel to pid 1.
    App(OwnedFd),
}

/// Pid 1 forks the app and then only reaps (and answers `listen`) until the app ends,
/// ending with its status (which ends the namespace). `SIGCHLD` is blocked before the
/// fork so that no child's end can be missed; the app gets the old mask back. Both run
/// under the seccomp filter installed just before.
///
/// The terminal: the app stays in the caller's session and process group, as Flatpak's
/// does, so job control holds — an app in a background job that reads the terminal is
/// stopped (`SIGTTIN`) instead of reading what the user types into the shell — while
/// TIOCSTI and TIOCLINUX are refused by the seccomp filter. Pid 1, which never touches the
/// terminal, leaves the session once the app is forked (a new session, no controlling
/// terminal) and only then lets the app exec: a handshake over a socket pair, which also
/// carries the `listen` listener to pid 1 when the policy has port rules.
fn fork_app(blob: &Blob) -> Result<Side, Failure> {
    const STEP: &str = "fork app";
    let mask = confine::block_sigchld().step(STEP)?;
    let (pid1_end, app_end) = confine::socket_pair().step(STEP)?;
    match process::fork().step(STEP)? {
        Forked::Child => {
            confine::set_signal_mask(&mask).step(STEP)?;
            drop(pid1_end);
            Ok(Side::App(app_end))
        }
        Forked::Parent(app) => {
            drop(app_end);
            // The app's message: the listener (port rules), or a plain byte; nothing when
            // its process ended before (a failed setup step: nothing to answer then).
            let listener = if blob.landlock.net.is_some() {
                confine::recv_fd(pid1_end.as_fd()).step("listen supervision")?
            } else {
                confine::recv_byte(pid1_end.as_fd()).step(STEP)?;
                None
            };
            process::setsid().step("seal pid 1")?;
            // The app may exec now; if it is gone already, there is no one to tell.
            let _ = confine::send_byte(pid1_end.as_fd());
            drop(pid1_end);
            let signals = confine::sigchld_fd().step("reap")?;
            process::release_memory();
            Ok(Side::Pid1(Init {
                app,
                signals,
                listener,
                arch: blob.arch,
                bind: blob
                    .landlock
                    .net
                    .as_ref()
                    .map(|net| net.bind.clone())
                    .unwrap_or_default(),
            }))
        }
    }
}

/// The app's side of the handshake: the listener (or a byte) to pid 1, then wait until
/// pid 1 has left the session.
fn wait_for_pid1(channel: &OwnedFd, listener: Option<OwnedFd>) -> Result<(), Failure> {
    const STEP: &str = "fork app";
    match &listener {
        Some(listener) => confine::send_fd(channel.as_fd(), listener.as_fd()).step(STEP)?,
        None => confine::send_byte(channel.as_fd()).step(STEP)?,
    }
    drop(listener);
    if !confine::recv_byte(channel.as_fd()).step(STEP)? {
        return Err(Failure::setup(
            STEP,
            "pid 1 ended before the app could start",
        ));
    }
    Ok(())
}

/// The environment computed on the host, exactly: libc's environment is emptied first
/// (its old entries pointed into the wiped area) and rebuilt from the computed one.
fn set_environment(env: &BTreeMap<String, String>) {
    confine::clear_environment();
    for (name, value) in env {
        std::env::set_var(name, value);
    }
}

/// Seccomp last: installed in pid 1 after every setup step, right before it forks the
/// app, so that pid 1 and the app run under the same filter (pid 1 is as confined as the
/// app, as bubblewrap's is) and the app's process only starts a session, sets its
/// environment (and the `listen` filter) and execs under it.
fn install_seccomp(program: &[SockFilter]) -> Result<(), Failure> {
    if program.is_empty() {
        return Ok(());
    }
    secure::install_seccomp(program).step("seccomp")
}

/// With TCP port rules, the app's `listen` calls go to pid 1 ([`crate::init`]): the last
/// filter, installed right before exec with a notification listener that is handed to
/// pid 1 in the handshake ([`wait_for_pid1`]). Without it, `listen` on an unbound socket
/// would bind a port that no bind rule allowed. A kernel without user notification fails
/// the launch when the port rules are required, and is reported otherwise (pid 1 then
/// gets a plain byte and answers nothing).
fn supervise_listen(blob: &Blob) -> Result<Option<OwnedFd>, Failure> {
    const STEP: &str = "listen supervision";
    let Some(net) = &blob.landlock.net else {
        return Ok(None);
    };
    match notify::install_with_listener(&init::listen_program(blob.arch)) {
        Ok(listener) => Ok(Some(listener)),
        Err(e) if net.level == Requirement::Required => Err(Failure::setup(STEP, e)),
        Err(e) => {
            eprintln!("portcullis-exec: note: `listen` is not supervised ({e}): a listening socket that was never bound gets a port the bind rules did not allow");
            Ok(None)
        }
    }
}

/// Exec the command; only a failure returns (127 not found, 126 anything else).
fn exec(command: &[String]) -> Failure {
    let err = process::execvp(command);
    let name = command.first().map(String::as_str).unwrap_or("");
    let (code, what) = match err.raw_os_error() {
        Some(libc::ENOENT) => (failure::NOT_FOUND, "not found".to_string()),
        _ => (failure::NOT_EXECUTABLE, err.to_string()),
    };
    Failure {
        step: "exec",
        message: format!("`{name}`: {what}"),
        code,
    }
}
