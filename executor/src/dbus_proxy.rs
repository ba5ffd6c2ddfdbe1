//! D-Bus for the sandbox: starts the real `xdg-dbus-proxy` on the host with the blob's
//! compiled rules and turns each bus route into the binds and variables the sandbox
//! needs, as Flatpak 1.14 does (`flatpak_run_add_{session,system,a11y}_dbus_args`,
//! `start_dbus_proxy`).
//!
//! * One proxy process serves every proxied bus: `xdg-dbus-proxy --fd=1 ADDRESS SOCKET
//!   ARGS… [ADDRESS SOCKET ARGS…]`. Its stdout is the write end of a sync pipe: it writes
//!   one byte once every socket listens, and exits when the pipe's read end closes. The
//!   read end stays only in the executor's outer process (the one that waits outside the
//!   sandbox), so the proxy lives exactly as long as the launch: it ends with the app, and
//!   with the executor when setup fails or the executor is killed.
//! * The proxy's sockets are created in a private directory on the host
//!   (`$XDG_RUNTIME_DIR/.dbus-proxy/`, or `/tmp/.portcullis-dbus-proxy-UID/` without a
//!   runtime dir) and only the socket itself is bound into the sandbox, read-only, at the
//!   standard place; no host bus path or address reaches the sandbox.
//! * Direct routes (`socket=session-bus` / `socket=system-bus`) bind the host socket
//!   itself; a session address that is not a `unix:path=` one goes through a proxy
//!   without `--filter` instead, as in Flatpak.
//! * A bus the host does not have is left out with a note, and the app starts anyway.
//!   The accessibility bus is proxied when the host says where it is: `AT_SPI_BUS_ADDRESS`,
//!   or else `org.a11y.Bus.GetAddress` on the session bus, as Flatpak asks ([`a11y`]).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::os::fd::{IntoRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use portcullis_blob::dbus::{BusAccess, BusKind, DbusSection};
use portcullis_blob::mounts::{BindFlags, MountOp, PathExpr};
use portcullis_blob::SockFilter;

use crate::failure::Failure;
use crate::sys::{confine, secure};

mod a11y;

const STEP: &str = "d-bus proxy";

/// The running proxy. The sync pipe's read end is kept as a bare descriptor that is never
/// closed explicitly: the process that started the proxy closes it by exiting, and pid 1
/// closes its inherited copy with the other stray descriptors (an owned handle would be
/// closed twice there). Never kills by pid either: a copy of this value in a process of
/// another pid namespace must not signal anything.
pub struct Running {
    /// The read end of the sync pipe (only held, never read again).
    _sync_fd: RawFd,
}

/// What the buses add to the launch.
#[derive(Default)]
pub struct Buses {
    /// Binds (and the runtime-dir `bus` symlink) appended to the mount plan.
    pub mounts: Vec<MountOp>,
    /// Variables set in the sandbox (`DBUS_SESSION_BUS_ADDRESS=unix:path=/run/flatpak/bus`).
    pub set_env: Vec<(String, String)>,
    /// Variables removed from the sandbox: the host's value of a bus the sandbox does
    /// not get must not leak in.
    pub unset_env: Vec<String>,
    /// Things the user should know (a bus the host lacks).
    pub notes: Vec<String>,
    /// The proxy, when any bus is proxied.
    pub proxy: Option<Running>,
}

impl Buses {
    /// Adds the binds to the plan and the variables to the sandbox's environment.
    pub fn apply(&self, plan: &mut Vec<MountOp>, env: &mut BTreeMap<String, String>) {
        plan.extend(self.mounts.iter().cloned());
        for name in &self.unset_env {
            env.remove(name);
        }
        for (name, value) in &self.set_env {
            env.insert(name.clone(), value.clone());
        }
    }
}

/// The socket path of a `unix:path=…` address (the first one of a `;` list), with
/// `%XX` escapes decoded; `None` for any other transport.
pub fn unix_path(address: &str) -> Option<String> {
    let first = address.split(';').next()?;
    let params = first.strip_prefix("unix:")?;
    let value = params.split(',').find_map(|kv| kv.strip_prefix("path="))?;
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|p| !p.is_empty())
}

/// Where a bus is on the host: (`address` for a proxy, `socket` for a direct bind).
struct HostBus {
    address: Option<String>,
    socket: Option<String>,
}

fn host_bus(bus: BusKind, env: &BTreeMap<String, String>, uid: u32) -> HostBus {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
    match bus {
        BusKind::Session => match var("DBUS_SESSION_BUS_ADDRESS") {
            Some(address) => HostBus {
                socket: unix_path(&address),
                address: Some(address),
            },
            // Without an address Flatpak only uses `$XDG_RUNTIME_DIR/bus` directly, and only
            // when it is a socket of the caller's.
            None => {
                let socket = var("XDG_RUNTIME_DIR")
                    .map(|dir| format!("{dir}/bus"))
                    .filter(|p| {
                        std::fs::metadata(p)
                            .is_ok_and(|m| m.file_type().is_socket() && m.uid() == uid)
                    });
                HostBus {
                    address: None,
                    socket,
                }
            }
        },
        BusKind::System => {
            let socket = match var("DBUS_SYSTEM_BUS_ADDRESS") {
                Some(address) => unix_path(&address),
                None => Some("/var/run/dbus/system_bus_socket".to_string())
                    .filter(|p| Path::new(p).exists()),
            };
            let address = var("DBUS_SYSTEM_BUS_ADDRESS")
                .or_else(|| socket.as_ref().map(|s| format!("unix:path={s}")));
            HostBus { address, socket }
        }
        BusKind::Accessibility => {
            let asked = || {
                let session = unix_path(&var("DBUS_SESSION_BUS_ADDRESS")?)?;
                a11y::ask_session_bus(&session, uid).ok()
            };
            HostBus {
                address: var("AT_SPI_BUS_ADDRESS").or_else(asked),
                socket: None,
            }
        }
    }
}

/// A private directory for the proxy sockets, created 0700 and checked to be ours.
fn socket_dir(env: &BTreeMap<String, String>, uid: u32) -> io::Result<PathBuf> {
    let dir = match env.get("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_dir()) {
        Some(runtime) => Path::new(runtime).join(".dbus-proxy"),
        None => PathBuf::from(format!("/tmp/.portcullis-dbus-proxy-{uid}")),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        return Err(io::Error::other(format!(
            "`{}` is not a private directory of uid {uid}",
            dir.display()
        )));
    }
    Ok(dir)
}

/// `PREFIX-XXXXXX` with six random characters, like Flatpak's socket names.
fn socket_name(prefix: &str) -> io::Result<String> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = [0u8; 6];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let tail: String = random
        .iter()
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect();
    Ok(format!("{prefix}-{tail}"))
}

fn bind(source: &str, bus: BusKind) -> MountOp {
    MountOp::Bind {
        source: PathExpr::new(source),
        dest: PathExpr::new(bus.sandbox_socket()),
        flags: BindFlags {
            readonly: true,
            devices: false,
            optional: false,
        },
    }
}

/// Whether a route is one the policy asked for: the whole bus, or a name to talk to, see
/// or own besides the implicit ones (the app's own id and its MPRIS name, which come as a
/// pair `X` and `org.mpris.MediaPlayer2.X`).
fn asks_for_bus(access: &BusAccess) -> bool {
    let args = match access {
        BusAccess::Direct => return true,
        BusAccess::Proxy { args } => args,
    };
    let owned: Vec<&str> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--own="))
        .collect();
    let implicit = |name: &str| {
        owned.contains(&format!("org.mpris.MediaPlayer2.{name}").as_str())
            || name
                .strip_prefix("org.mpris.MediaPlayer2.")
                .is_some_and(|own| owned.contains(&own))
    };
    args.iter()
        .any(|a| a.starts_with("--talk=") || a.starts_with("--see="))
        || owned.iter().any(|name| !implicit(name))
}

/// Starts the proxy for `section` and returns what the launch must add.
/// `host_env` is the caller's environment, `runtime_dir` the sandbox's
/// `XDG_RUNTIME_DIR` (for the `bus` symlink), `uid` the caller's uid.
pub fn start(
    section: &DbusSection,
    host_env: &BTreeMap<String, String>,
    runtime_dir: Option<&str>,
    uid: u32,
    filter: &[SockFilter],
) -> Result<Buses, Failure> {
    let mut buses = Buses::default();
    let mut proxy_argv: Vec<String> = Vec::new();
    let mut dir: Option<PathBuf> = None;
    for bus in [BusKind::Session, BusKind::System, BusKind::Accessibility] {
        let variable = bus.address_variable().to_string();
        let sandbox_address = format!("unix:path={}", bus.sandbox_socket());
        let Some(route) = section.route(bus) else {
            buses.unset_env.push(variable);
            continue;
        };
        let host = host_bus(bus, host_env, uid);
        let direct = match (&route.access, &host.socket) {
            (BusAccess::Direct, Some(socket)) => Some(socket.clone()),
            _ => None,
        };
        let args: &[String] = match &route.access {
            BusAccess::Proxy { args } => args,
            // A direct grant on a host address that is not a socket path: an unfiltered
            // proxy, as Flatpak does.
            BusAccess::Direct => &[],
        };
        if let Some(socket) = direct {
            buses.mounts.push(bind(&socket, bus));
        } else if let Some(address) = host.address {
            let dir = match &dir {
                Some(d) => d.clone(),
                None => {
                    let d = socket_dir(host_env, uid).map_err(|e| {
                        Failure::setup(STEP, format!("proxy socket directory: {e}"))
                    })?;
                    dir = Some(d.clone());
                    d
                }
            };
            let name = socket_name(bus.proxy_socket_prefix())
                .map_err(|e| Failure::setup(STEP, format!("socket name: {e}")))?;
            let socket = dir.join(name).to_string_lossy().into_owned();
            proxy_argv.push(address);
            proxy_argv.push(socket.clone());
            proxy_argv.extend(args.iter().cloned());
            buses.mounts.push(bind(&socket, bus));
        } else {
            let looked = match bus {
                BusKind::Session => Some("`DBUS_SESSION_BUS_ADDRESS` is not set"),
                BusKind::System => Some(
                    "`DBUS_SYSTEM_BUS_ADDRESS` is not set and `/var/run/dbus/system_bus_socket` does not exist",
                ),
                // Flatpak is silent about a missing accessibility bus too.
                BusKind::Accessibility => None,
            };
            // The default session route (own id, portals) is no request of the policy's:
            // say nothing then, unless asked for a report.
            let wanted = bus != BusKind::Session
                || asks_for_bus(&route.access)
                || host_env.contains_key(crate::landlock::REPORT_VARIABLE);
            if let (Some(looked), true) = (looked, wanted) {
                buses.notes.push(format!(
                    "no {} bus on the host ({looked}): the app starts without one",
                    bus.word()
                ));
            }
            buses.unset_env.push(variable);
            continue;
        }
        buses.set_env.push((variable, sandbox_address));
        if bus == BusKind::Session {
            if let Some(runtime) = runtime_dir {
                buses.mounts.push(MountOp::Symlink {
                    target: "../../flatpak/bus".to_string(),
                    dest: PathExpr::new(format!("{runtime}/bus")),
                });
            }
        }
    }
    if !proxy_argv.is_empty() {
        buses.proxy = Some(spawn(&proxy_argv, filter)?);
    }
    Ok(buses)
}

/// Runs `xdg-dbus-proxy --fd=1 ARGV…` with the sync pipe as its stdout and waits for its
/// ready byte. `$PORTCULLIS_DBUS_PROXY` names another binary (Flatpak's
/// `FLATPAK_DBUSPROXY`).
///
/// The proxy parses every message the app sends, so it is the app's first target on the
/// host: it runs in a session of its own (no controlling terminal), with `no_new_privs`
/// and under the app's own seccomp filter (`filter`), never less confined than the app.
/// (It still sees the host's filesystem as the caller; a mount namespace of its own is
/// the portal-identity work, see ARCHITECTURE.md.)
fn spawn(argv: &[String], filter: &[SockFilter]) -> Result<Running, Failure> {
    let program =
        std::env::var("PORTCULLIS_DBUS_PROXY").unwrap_or_else(|_| "xdg-dbus-proxy".to_string());
    let mut command = Command::new(&program);
    confine::confine_helper(&mut command, secure::kernel_program(filter));
    let mut child = command
        .arg("--fd=1")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Failure::setup(STEP, format!("cannot start `{program}`: {e}")))?;
    let Some(mut sync) = child.stdout.take() else {
        return Err(Failure::setup(STEP, "no sync pipe"));
    };
    let mut byte = [0u8; 1];
    match sync.read(&mut byte) {
        Ok(1) => Ok(Running {
            _sync_fd: sync.into_raw_fd(),
        }),
        _ => {
            // It exited (or closed the pipe) before listening: reap it, nothing stays.
            let _ = child.kill();
            let _ = child.wait();
            Err(Failure::setup(
                STEP,
                format!("`{program}` exited before its sockets were ready"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_paths_are_read_like_flatpak() {
        assert_eq!(
            unix_path("unix:path=/run/user/1000/bus,guid=abc").as_deref(),
            Some("/run/user/1000/bus")
        );
        assert_eq!(
            unix_path("unix:guid=x,path=/tmp/a%20b").as_deref(),
            Some("/tmp/a b")
        );
        assert_eq!(unix_path("unix:abstract=/tmp/dbus-x"), None);
        assert_eq!(unix_path("tcp:host=localhost,port=1"), None);
    }

    fn session_route(args: &[&str]) -> DbusSection {
        DbusSection {
            routes: vec![portcullis_blob::dbus::BusRoute {
                bus: BusKind::Session,
                access: BusAccess::Proxy {
                    args: args.iter().map(|a| a.to_string()).collect(),
                },
            }],
        }
    }

    #[test]
    fn a_missing_session_bus_is_noted_only_when_the_policy_asks_for_it() {
        let implicit = [
            "--filter",
            "--own=org.example.App.*",
            "--own=org.mpris.MediaPlayer2.org.example.App.*",
            "--call=org.freedesktop.portal.*=*",
        ];
        let env = BTreeMap::new();
        let quiet = start(&session_route(&implicit), &env, None, 1, &[]).unwrap();
        assert!(quiet.notes.is_empty(), "{:?}", quiet.notes);
        for extra in [
            "--talk=org.freedesktop.Notifications",
            "--own=org.other.Name",
        ] {
            let mut args = implicit.to_vec();
            args.push(extra);
            let buses = start(&session_route(&args), &env, None, 1, &[]).unwrap();
            assert_eq!(buses.notes.len(), 1, "{extra}");
            assert!(buses.notes[0].contains("no session bus"), "{extra}");
        }
        let report = BTreeMap::from([(crate::landlock::REPORT_VARIABLE.to_string(), "1".into())]);
        let buses = start(&session_route(&implicit), &report, None, 1, &[]).unwrap();
        assert_eq!(buses.notes.len(), 1);
        let direct = DbusSection {
            routes: vec![portcullis_blob::dbus::BusRoute {
                bus: BusKind::Session,
                access: BusAccess::Direct,
            }],
        };
        assert_eq!(start(&direct, &env, None, 1, &[]).unwrap().notes.len(), 1);
    }

    #[test]
    fn a_missing_bus_is_a_note_and_its_variable_is_removed() {
        let section = session_route(&["--filter", "--talk=org.example.Other"]);
        let env = BTreeMap::new();
        let buses = start(&section, &env, Some("/run/user/1"), 1, &[]).unwrap();
        assert!(buses.proxy.is_none());
        assert!(buses.mounts.is_empty());
        assert_eq!(buses.notes.len(), 1);
        assert!(buses
            .unset_env
            .contains(&"DBUS_SESSION_BUS_ADDRESS".to_string()));
        assert!(buses
            .unset_env
            .contains(&"DBUS_SYSTEM_BUS_ADDRESS".to_string()));
        let mut sandbox_env = BTreeMap::from([(
            "DBUS_SESSION_BUS_ADDRESS".to_string(),
            "unix:path=/host/bus".to_string(),
        )]);
        let mut plan = Vec::new();
        buses.apply(&mut plan, &mut sandbox_env);
        assert!(sandbox_env.is_empty());
    }
}
