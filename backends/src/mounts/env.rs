//! The environment Flatpak sets (semantics §1.6, §5.4, §1.3), as [`EnvOp`]s applied in order
//! on top of the caller's environment: the forced defaults and unsets, the policy's own
//! variables, the app identity, then the variables Flatpak re-forces after `--env` (runtime
//! dir, XDG base dirs, socket variables). D-Bus variables come with the blob's D-Bus section.

use portcullis_blob::mounts::{Condition, EnvOp, PathExpr};
use portcullis_ir::context::Socket;
use portcullis_ir::Policy;

use super::ops::{exists, not, APP_DIR, RUN_USER};
use super::sockets::{has_wayland, x11, X11};

/// Variables Flatpak removes from the inherited environment.
pub const UNSET: &[&str] = &[
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "LD_AUDIT",
    "TEMP",
    "TEMPDIR",
    "TMP",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "container",
    "TZDIR",
    "PYTHONPATH",
    "PERLLIB",
    "PERL5LIB",
    "XCURSOR_PATH",
    "GST_PLUGIN_PATH_1_0",
    "GST_REGISTRY",
    "GST_REGISTRY_1_0",
    "GST_PLUGIN_PATH",
    "GST_PLUGIN_SYSTEM_PATH",
    "GST_PLUGIN_SCANNER",
    "GST_PLUGIN_SCANNER_1_0",
    "GST_PLUGIN_SYSTEM_PATH_1_0",
    "GST_PRESET_PATH",
    "GST_PTP_HELPER",
    "GST_PTP_HELPER_1_0",
    "GST_INSTALL_PLUGINS_HELPER",
    "KRB5CCNAME",
    "XKB_CONFIG_ROOT",
    "GIO_EXTRA_MODULES",
    "GDK_BACKEND",
    "VK_ADD_DRIVER_FILES",
    "VK_ADD_LAYER_PATH",
    "VK_DRIVER_FILES",
    "VK_ICD_FILENAMES",
    "VK_LAYER_PATH",
    "__EGL_EXTERNAL_PLATFORM_CONFIG_DIRS",
    "__EGL_EXTERNAL_PLATFORM_CONFIG_FILENAMES",
    "__EGL_VENDOR_LIBRARY_DIRS",
    "__EGL_VENDOR_LIBRARY_FILENAMES",
];

fn set(name: &str, value: &str) -> EnvOp {
    EnvOp::Set {
        name: name.to_string(),
        value: PathExpr::new(value),
    }
}

fn unset(name: &str) -> EnvOp {
    EnvOp::Unset {
        name: name.to_string(),
    }
}

fn when(condition: Condition, op: EnvOp) -> EnvOp {
    EnvOp::When {
        condition,
        then: Box::new(op),
    }
}

/// A policy's value written so that no part of it is read as a placeholder (`$${` is the
/// plan's escape for a literal `${`).
fn literal(value: &str) -> String {
    value.replace("${", "$${")
}

/// The environment operations of a policy.
pub fn environment(policy: &Policy) -> Vec<EnvOp> {
    let ctx = &policy.context;
    let mut ops = vec![
        set("PATH", "/app/bin:/usr/bin"),
        set("XDG_CONFIG_DIRS", "/app/etc/xdg:/etc/xdg"),
        set("XDG_DATA_DIRS", "/app/share:/usr/share"),
        set("SHELL", "/bin/sh"),
    ];
    ops.extend(UNSET.iter().map(|n| unset(n)));
    ops.push(when(
        not(exists("${RUNTIME}/bin/ldconfig")),
        set("LD_LIBRARY_PATH", "/app/lib"),
    ));
    for (name, entry) in &ctx.env {
        ops.push(match &entry.value {
            Some(v) => set(name, &literal(v)),
            None => unset(name),
        });
    }
    ops.push(set("FLATPAK_ID", "${APP_ID}"));
    ops.push(set("FLATPAK_SANDBOX_DIR", &format!("{APP_DIR}/sandbox")));
    ops.push(set("container", "flatpak"));
    ops.push(set("XDG_RUNTIME_DIR", RUN_USER));
    for (var, sub) in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ] {
        ops.push(set(&format!("HOST_{var}"), &format!("${{ENV:{var}}}")));
        ops.push(set(var, &format!("{APP_DIR}/{sub}")));
    }
    if ctx.has_socket(Socket::Wayland) {
        ops.push(when(
            has_wayland(),
            set("WAYLAND_DISPLAY", "${WAYLAND_NAME}"),
        ));
    }
    match x11(policy) {
        X11::Off => ops.push(unset("DISPLAY")),
        X11::On => ops.push(set("XAUTHORITY", "/run/flatpak/Xauthority")),
        X11::UnlessWayland => {
            ops.push(when(has_wayland(), unset("DISPLAY")));
            ops.push(when(
                not(has_wayland()),
                set("XAUTHORITY", "/run/flatpak/Xauthority"),
            ));
        }
    }
    if ctx.has_socket(Socket::SshAuth) {
        let sock = "${ENV:SSH_AUTH_SOCK}";
        ops.push(when(
            exists(sock),
            set("SSH_AUTH_SOCK", "/run/flatpak/ssh-auth"),
        ));
        ops.push(when(not(exists(sock)), unset("SSH_AUTH_SOCK")));
    }
    if ctx.has_socket(Socket::Pulseaudio) {
        let found = exists("${PULSE_SOCKET}");
        ops.push(when(
            found.clone(),
            set("PULSE_SERVER", "unix:/run/flatpak/pulse/native"),
        ));
        ops.push(when(
            found,
            set("PULSE_CLIENTCONFIG", "/run/flatpak/pulse/config"),
        ));
    }
    if ctx.has_socket(Socket::Pcsc) {
        let found = exists("${PCSC_SOCKET}");
        ops.push(when(
            found.clone(),
            set("PCSCLITE_CSOCK_NAME", "/run/pcscd/pcscd.comm"),
        ));
        ops.push(when(not(found), unset("PCSCLITE_CSOCK_NAME")));
    }
    ops
}
