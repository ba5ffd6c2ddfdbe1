//! The mount-plan backend: IR → the ordered [`MountOp`] list the executor applies on a fresh
//! tmpfs root, reproducing Flatpak 1.14's sandbox layout (`flatpak run`, semantics §5), and
//! the environment Flatpak sets (§5.4) as [`EnvOp`]s.
//!
//! Pure and deterministic: nothing here looks at the host. What Flatpak decides from the host
//! (which sockets and device nodes exist, where the user dirs are, what the runtime's `etc/`
//! holds) is written as placeholders, optional binds and [`MountOp::When`] conditions that
//! the executor decides at launch (`portcullis_blob::expand`). The plan follows Flatpak's
//! emission order step by step: [`base`] (runtime, app, `/proc`, `/tmp`, `/sys`, `/etc`,
//! `/var`), [`devices`] (`/dev`), [`exports`] (persist, the sorted export list, `/run/host`,
//! user dirs), [`sockets`], [`late`] (journal, fonts, icons, runtime-dir symlinks); [`env`]
//! computes the environment and [`text`] renders a plan as a table.
//!
//! # DIFFERENCES from Flatpak 1.14 (deliberate; the oracle parity tests allow exactly these)
//!
//! * `~/.local/share/flatpak` (Flatpak's installation and `flatpak override` files) and
//!   `~/.var/app` (every app's data) are covered by an empty tmpfs whenever a user-directory grant (`xdg-data`, `xdg-download`,
//!   …) may contain it once expanded; Flatpak compares the expanded paths at launch and
//!   makes a plain directory when the grant cannot reach it. Without this an app granted
//!   `xdg-data` could write its own override (`filesystems=host;`) for the next launch.
//! * No instance machinery: no `--lock-file`s, no `/run/flatpak/.flatpak/<instance>`, no
//!   `/run/flatpak/per-app-dirs-ref`, no `--info-fd`/`--sync-fd`; `/.flatpak-info` holds the
//!   app id, runtime and the granted context, not the instance paths.
//! * No document portal (`/run/flatpak/doc`), no session-helper monitor: the host's
//!   `resolv.conf`, `host.conf`, `hosts` and `gai.conf` are bound read-only (Flatpak's own
//!   fallback without the helper), no p11-kit server socket.
//! * No generated `ld.so.cache`: the runtime's `etc/ld.so.cache` comes with its `etc/`
//!   entries, and the host's `/etc/ld.so.cache` is bound when the runtime has none (the host's
//!   `/usr` serving as runtime). `/etc/timezone` is the host's file, bound read-only; no
//!   zoneinfo redirection.
//! * X11 cookies are not filtered: the host's `$XAUTHORITY` (else `~/.Xauthority`) is bound
//!   read-only at `/run/flatpak/Xauthority`. PulseAudio's server is `$PULSE_SERVER` or
//!   `$XDG_RUNTIME_DIR/pulse/native` (no `client.conf` lookup); the gpg-agent socket is
//!   gpgconf's default path (gpgconf is not run).
//! * The cups socket is bound at `/run/cups/cups.sock` (Flatpak writes `/var/run/…`, which is
//!   the same file through the `/var/run → ../run` symlink; the executor never follows
//!   symlinks in destinations).
//! * D-Bus sockets and their variables belong to the D-Bus section of the blob (the executor
//!   binds the proxy's socket); this plan only adds the runtime-dir `bus` symlink.
//! * Host symlinks inside a granted path are not mirrored as symlinks (Flatpak's export of
//!   `/home → var/home`): the bind follows them on the host side.
//! * Filesystem keys with a `..` component are refused with a warning (1.14 accepts
//!   `xdg-download/..` and exports `$HOME`; 1.17.3 refuses it).
//! * The per-app `/dev/shm` directory is `/dev/shm/portcullis-$APP_ID` (Flatpak adds a random
//!   suffix); Debian's `/dev/shm → /run/shm` layout is not special-cased.
//! * `PS1` is not set (it is only a prompt), and `LD_LIBRARY_PATH=/app/lib` is set only when
//!   the runtime has no `bin/ldconfig`, judged at launch.
//! * With x11 granted, `XAUTHORITY=/run/flatpak/Xauthority` is set even when the host has no
//!   `DISPLAY` (Flatpak sets it only for a valid local `DISPLAY`); nothing is bound there
//!   then, so the variable names an absent file.
//! * Runtime-dir members (`flatpak-info`, `app`, `bus`, `wayland-N`) are created with
//!   symlink operations in the plan (Flatpak creates them on the host before bwrap runs).
//! * Hidden paths (`--nofilesystem=/dir`) become a tmpfs whenever some grant *may* contain
//!   them after expansion (Flatpak decides with the host's real paths; a tmpfs where Flatpak
//!   would make an empty directory hides the same thing).
//!
//! Beyond Flatpak: deny masks (`policy.beyond.deny`) become [`MountOp::Mask`] right after
//! the export list; single device nodes (`policy.beyond.device_nodes`) are bound after `/dev`.

pub mod base;
pub mod devices;
pub mod env;
pub mod exports;
pub mod late;
pub mod ops;
pub mod sockets;
pub mod text;

use portcullis_blob::mounts::{EnvOp, MountOp};
use portcullis_ir::{Origin, Policy};

pub use env::environment;

/// Something the plan leaves out, with the reason (Flatpak prints these at run time).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// A stable code (`mounts::reserved-path`, `mounts::dotdot`, …).
    pub code: &'static str,
    /// What happened, lower-case, user input in backticks.
    pub message: String,
    /// The statement that asked for it.
    pub origin: Origin,
}

/// The mount backend's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MountPlan {
    /// The operations, in order.
    pub ops: Vec<MountOp>,
    /// The environment operations, in order.
    pub env: Vec<EnvOp>,
    /// What was refused or dropped.
    pub warnings: Vec<Warning>,
}

/// Builds the mount plan and environment of a policy.
pub fn plan(policy: &Policy) -> MountPlan {
    let mut warnings = Vec::new();
    let mut ops = Vec::new();
    ops.extend(base::host_preparation(policy));
    ops.extend(exports::create_dirs(policy));
    ops.extend(base::runtime_and_app(policy));
    ops.extend(base::base_setup(policy));
    ops.extend(base::instance_info(policy));
    ops.extend(devices::dev(policy));
    ops.extend(base::per_app_tmp(policy));
    ops.extend(exports::exports(policy, &mut warnings));
    ops.extend(sockets::sockets(policy));
    ops.extend(late::late(policy));
    MountPlan {
        ops,
        env: environment(policy),
        warnings,
    }
}
