//! The socket permissions (semantics §1.3), in Flatpak 1.14's order: wayland, x11 (with
//! fallback-x11 decided at launch by whether the Wayland socket exists), ssh-auth,
//! pulseaudio, pcsc, cups, gpg-agent. Every host socket is a placeholder; a missing one is
//! skipped at launch.

use portcullis_blob::mounts::{Condition, MountOp};
use portcullis_ir::context::Socket;
use portcullis_ir::Policy;

use super::ops::*;

/// How X11 is decided for a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X11 {
    /// No X11.
    Off,
    /// X11 whatever the host has.
    On,
    /// X11 only when the Wayland socket is not there (fallback-x11 with wayland).
    UnlessWayland,
}

/// Flatpak's X11 decision (§1.9): `fallback-x11` overrides `x11`.
pub fn x11(policy: &Policy) -> X11 {
    let ctx = &policy.context;
    if ctx.has_socket(Socket::FallbackX11) {
        if ctx.has_socket(Socket::Wayland) {
            X11::UnlessWayland
        } else {
            X11::On
        }
    } else if ctx.has_socket(Socket::X11) {
        X11::On
    } else {
        X11::Off
    }
}

/// The Wayland socket on the host is really a socket ("has wayland").
pub fn has_wayland() -> Condition {
    is_socket("${WAYLAND_SOCKET}")
}

fn guarded(guard: &Option<Condition>, cond: Condition, op: MountOp) -> MountOp {
    match guard {
        Some(g) => when(Condition::All(vec![g.clone(), cond]), op),
        None => when(cond, op),
    }
}

/// The socket operations.
pub fn sockets(policy: &Policy) -> Vec<MountOp> {
    let ctx = &policy.context;
    let mut ops = Vec::new();
    if ctx.has_socket(Socket::Wayland) {
        ops.push(when(
            has_wayland(),
            ro_bind("${WAYLAND_SOCKET}", "/run/flatpak/${WAYLAND_NAME}"),
        ));
    }
    ops.push(tmpfs("/tmp/.X11-unix"));
    let guard = match x11(policy) {
        X11::Off => None,
        X11::On => Some(Condition::All(Vec::new())),
        X11::UnlessWayland => Some(not(has_wayland())),
    };
    if guard.is_some() {
        ops.push(guarded(
            &guard,
            exists("${X11_SOCKET}"),
            ro_bind("${X11_SOCKET}", "${X11_SOCKET}"),
        ));
        ops.push(guarded(
            &guard,
            exists("${ENV:XAUTHORITY}"),
            ro_bind("${ENV:XAUTHORITY}", "/run/flatpak/Xauthority"),
        ));
        ops.push(guarded(
            &guard,
            Condition::All(vec![
                not(exists("${ENV:XAUTHORITY}")),
                exists("${HOME}/.Xauthority"),
            ]),
            ro_bind("${HOME}/.Xauthority", "/run/flatpak/Xauthority"),
        ));
    }
    if ctx.has_socket(Socket::SshAuth) {
        ops.push(ro_bind_try("${ENV:SSH_AUTH_SOCK}", "/run/flatpak/ssh-auth"));
    }
    if ctx.has_socket(Socket::Pulseaudio) {
        ops.push(when(
            exists("${PULSE_SOCKET}"),
            data("/run/flatpak/pulse/config", "enable-shm=no\n", false),
        ));
        ops.push(ro_bind_try("${PULSE_SOCKET}", "/run/flatpak/pulse/native"));
    }
    if ctx.has_socket(Socket::Pcsc) {
        ops.push(ro_bind_try("${PCSC_SOCKET}", "/run/pcscd/pcscd.comm"));
    }
    if ctx.has_socket(Socket::Cups) {
        ops.push(ro_bind_try("${CUPS_SOCKET}", "/run/cups/cups.sock"));
    }
    if ctx.has_socket(Socket::GpgAgent) {
        ops.push(ro_bind_try(
            "${GPG_AGENT_SOCKET}",
            &format!("{RUN_USER}/gnupg/S.gpg-agent"),
        ));
    }
    ops
}
