//! The launch, step by step, in one fixed order ([`run`]). Each step is one function
//! below, commented with why it sits where it does.
//!
//! Processes: the caller's process sets up the namespaces and stays outside as the
//! waiter that forwards the exit status; its child is pid 1 of the new pid namespace,
//! builds the root, drops every privilege, and forks the app, which it then reaps.

use std::collections::BTreeMap;

use portcullis_blob::expand::{self, Launch, RealFs, Values};
use portcullis_blob::mounts::{Condition, MountOp, PathExpr};
use portcullis_blob::{Blob, Namespaces, SockFilter};

use crate::args::Args;
use crate::failure::{self, Context, Failure};
use crate::sys::process::{self, Forked};
use crate::sys::{fs, secure};
use crate::{dbus_proxy, landlock, launch, limits, root};

/// The whole launch. Returns the exit status to report (the app's, as forwarded by the
/// outer process; the app itself never returns from here).
pub fn run(args: &Args) -> Result<i32, Failure> {
    let blob = read_blob(&args.blob)?;
    let mut host = decide_on_host(args, &blob)?;
    let _buses = start_bus_proxies(&blob, &mut host)?;
    user_namespace(host.launch.uid, host.launch.gid)?;
    other_namespaces(blob.namespaces)?;
    if let Some(status) = split_off_pid1()? {
        return Ok(status);
    }
    loopback(blob.namespaces)?;
    let mask = fs::umask(0);
    root::enter(&host.plan, &host.guarded)?;
    root::seal_root()?;
    fs::umask(mask);
    no_new_privs()?;
    apply_landlock(&blob, &host)?;
    apply_limits(&blob)?;
    drop_capabilities()?;
    close_stray_fds()?;
    if let Some(status) = fork_app_and_reap()? {
        return Ok(status);
    }
    new_session()?;
    set_environment(&host.env);
    install_seccomp(&blob.seccomp)?;
    Err(exec(&args.command))
}

/// Read and check the whole blob first: a truncated, corrupted, foreign or newer blob,
/// or one whose seccomp program the kernel would refuse, is refused before anything at
/// all is changed. The file is opened without blocking (a FIFO cannot hang the launch)
/// and must be a regular file of at most `MAX_BLOB_LEN` bytes (a device such as
/// `/dev/zero` is never read).
fn read_blob(path: &str) -> Result<Blob, Failure> {
    let file = fs::open_nonblocking(path).step_on("read blob", path)?;
    let bytes = portcullis_blob::file::read_opened(file).step_on("read blob", path)?;
    Blob::decode_for_host(&bytes).step_on("read blob", path)
}

/// What was decided by looking at the host, before any namespace exists.
struct HostView {
    launch: Launch,
    values: Values,
    plan: Vec<MountOp>,
    env: BTreeMap<String, String>,
    guarded: String,
    conditions: Vec<(Condition, bool)>,
}

/// Expand placeholders and evaluate the plan's host conditions while the host is
/// still the host (Flatpak decides these by looking at it too), and compute the app's
/// environment from the caller's.
fn decide_on_host(args: &Args, blob: &Blob) -> Result<HostView, Failure> {
    const STEP: &str = "expand plan";
    let launch = launch::gather(args, &blob.app_id);
    let values = Values::new(&launch);
    device_nodes_are_devices(blob, &values)?;
    // Every tmpfs the root step mounts is bounded by the memory limit (or the default).
    root::set_tmpfs_bounds(&blob.limits);
    let plan = expand::expand_plan(&blob.mounts, &values, &RealFs).step(STEP)?;
    let env_ops = expand::expand_env(&blob.env, &values, &RealFs).step(STEP)?;
    let mut env = launch.env.clone();
    expand::apply_env(&env_ops, &mut env);
    let guarded = format!("{}/.var/app", values.get("HOME").unwrap_or(""));
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
    Ok(HostView {
        launch,
        values,
        plan,
        env,
        guarded,
        conditions,
    })
}

/// A single device-node grant binds its host path with devices allowed, so it must be a
/// character or block device: a directory (`/dev/shm`, `/dev/input`) or a regular file
/// there is refused here, before anything is created or started. A missing node is left
/// to the plan, which skips it (the bind is optional, like `--dev-bind-try`). The path is
/// followed as the bind follows it (`/dev/serial/by-id/…` links to the node). The mount
/// step checks the opened source once more.
fn device_nodes_are_devices(blob: &Blob, values: &Values) -> Result<(), Failure> {
    use std::os::unix::fs::FileTypeExt;
    const STEP: &str = "device nodes";
    let paths: Vec<String> = blob
        .device_nodes
        .iter()
        .filter_map(|node| values.expand(node.as_str()).ok())
        .collect();
    // The bind step checks the descriptor it binds again (no window between the two).
    root::set_device_nodes(paths.clone());
    for path in paths {
        let Ok(meta) = std::fs::metadata(&path) else {
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
    Ok(())
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
    )?;
    buses.apply(&mut host.plan, &mut host.env);
    for note in &buses.notes {
        eprintln!("portcullis-exec: note: {note}");
    }
    Ok(buses)
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

/// The first child is pid 1 of the new pid namespace. The caller's process stays
/// outside and only waits, so that the caller gets the app's exit status; pid 1 is
/// killed if it goes away (and the kernel then kills the whole namespace). The outer
/// process only ever leaves `waitpid` by being killed, so the parent-death signal is
/// in place long before that can matter.
fn split_off_pid1() -> Result<Option<i32>, Failure> {
    match process::fork().step("pid 1")? {
        Forked::Parent(child) => {
            process::release_memory();
            let ended = process::wait(child).step("wait")?;
            Ok(Some(ended.map(|(_, e)| e.code()).unwrap_or(failure::SETUP)))
        }
        Forked::Child => {
            process::die_with_parent().step("pid 1")?;
            Ok(None)
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

/// Resource limits while the process can still lower them for itself and its children.
fn apply_limits(blob: &Blob) -> Result<(), Failure> {
    limits::apply(&blob.limits).step("limits")?;
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

/// pid 1 forks the app and reaps every process of the namespace until the app ends,
/// then ends with the app's status (which ends the namespace). While it waits it holds
/// as little memory as it can.
fn fork_app_and_reap() -> Result<Option<i32>, Failure> {
    match process::fork().step("fork app")? {
        Forked::Child => Ok(None),
        Forked::Parent(app) => {
            process::release_memory();
            loop {
                match process::wait(-1).step("reap")? {
                    Some((pid, ended)) if pid == app => return Ok(Some(ended.code())),
                    Some(_) => continue,
                    None => return Ok(Some(failure::SETUP)),
                }
            }
        }
    }
}

/// A new session without a controlling terminal: the app cannot push input into the
/// caller's terminal (TIOCSTI) or get its signals.
fn new_session() -> Result<(), Failure> {
    process::setsid().step("new session")
}

/// The environment computed on the host, exactly.
fn set_environment(env: &BTreeMap<String, String>) {
    for (name, _) in std::env::vars_os() {
        std::env::remove_var(name);
    }
    for (name, value) in env {
        std::env::set_var(name, value);
    }
}

/// Seccomp last, right before exec: nothing of the executor's own setup runs under the
/// filter, and the app runs under it from its first instruction.
fn install_seccomp(program: &[SockFilter]) -> Result<(), Failure> {
    if program.is_empty() {
        return Ok(());
    }
    secure::install_seccomp(program).step("seccomp")
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
