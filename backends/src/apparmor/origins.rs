//! Which policy statement a plan path comes from, so that every file rule of the profile
//! can name it. The mount plan carries no origins; they are found again from the IR: the
//! path each filesystem grant exports, the deny masks, the device grants and single device
//! nodes, and the sandbox paths of the sockets. What matches nothing is Flatpak's implicit
//! base layout.

use portcullis_ir::context::{Device, Socket};
use portcullis_ir::fs::FsMode;
use portcullis_ir::{Origin, Policy};

use crate::landlock::fs::is_within;
use crate::mounts::devices::dri_nodes;
use crate::mounts::exports::key_path;

/// Sandbox path prefixes and the statement that put something there.
pub struct Origins {
    entries: Vec<(String, Origin, String)>,
}

fn mask_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("${{HOME}}/{}", rest.trim_end_matches('/')),
        None if path == "~" => "${HOME}".to_string(),
        None => path.to_string(),
    }
}

impl Origins {
    /// The index for one policy.
    pub fn new(policy: &Policy) -> Origins {
        let ctx = &policy.context;
        let mut entries = Vec::new();
        for (key, entry) in &ctx.filesystems {
            if entry.mode > FsMode::None {
                if let Some(path) = key_path(key) {
                    entries.push((path, entry.origin, format!("filesystem {key}")));
                }
            }
        }
        for (key, run_host) in [
            ("host", "/run/host"),
            ("host-os", "/run/host"),
            ("host-etc", "/run/host/etc"),
        ] {
            if let Some(entry) = portcullis_ir::fs::FsKey::from_normalised(key)
                .and_then(|k| ctx.filesystems.get(&k))
                .filter(|e| e.mode > FsMode::None)
            {
                entries.push((
                    run_host.to_string(),
                    entry.origin,
                    format!("filesystem {key}"),
                ));
            }
        }
        for mask in &policy.beyond.deny {
            entries.push((
                mask_path(&mask.path),
                mask.origin,
                format!("deny mask {}", mask.path),
            ));
        }
        for node in &policy.beyond.device_nodes {
            entries.push((
                node.path.clone(),
                node.origin,
                format!("device node {}", node.path),
            ));
        }
        let one = |path: &str| vec![path.to_string()];
        for (device, paths) in [
            (Device::Dri, dri_nodes()),
            (Device::All, one("/dev")),
            (Device::Kvm, one("/dev/kvm")),
            (Device::Shm, one("/dev/shm")),
            (Device::Input, one("/dev/input")),
            (Device::Usb, one("/dev/bus/usb")),
        ] {
            if let Some(setting) = ctx.devices.get(&device).filter(|s| s.enabled) {
                for path in paths {
                    entries.push((path, setting.origin, format!("device {device}")));
                }
            }
        }
        for (socket, paths) in [
            (
                Socket::Wayland,
                &["/run/flatpak/wayland-0", "/run/flatpak/${WAYLAND_NAME}"][..],
            ),
            (
                Socket::X11,
                &["/tmp/.X11-unix", "/run/flatpak/Xauthority"][..],
            ),
            (
                Socket::FallbackX11,
                &["/tmp/.X11-unix", "/run/flatpak/Xauthority"][..],
            ),
            (Socket::Pulseaudio, &["/run/flatpak/pulse"][..]),
            (Socket::SshAuth, &["/run/flatpak/ssh-auth"][..]),
            (Socket::Pcsc, &["/run/pcscd"][..]),
            (Socket::Cups, &["/run/cups"][..]),
            (Socket::GpgAgent, &["/run/user/${UID}/gnupg"][..]),
        ] {
            if let Some(setting) = ctx.sockets.get(&socket).filter(|s| s.enabled) {
                for path in paths {
                    entries.push((path.to_string(), setting.origin, format!("socket {socket}")));
                }
            }
        }
        Origins { entries }
    }

    /// The statement behind `path`: an exact match first, else the longest prefix.
    pub fn find(&self, path: &str) -> Option<(Origin, &str)> {
        self.entries
            .iter()
            .filter(|(prefix, _, _)| prefix != "/" && is_within(path, prefix))
            .max_by_key(|(prefix, _, _)| (prefix == path, prefix.len()))
            .map(|(_, origin, what)| (*origin, what.as_str()))
    }
}
