//! Hand-built IRs: a policy from a Flatpak override argument list (the subset the oracle
//! cases and the model tests use), so these tests do not depend on the importer.

use portcullis_ir::context::{Device, EnvEntry, Feature, FsEntry, Setting, Share, Socket};
use portcullis_ir::fs::{FsKey, FsMode, XdgDir};
use portcullis_ir::{Origin, Policy};

fn on(enabled: bool) -> Setting {
    Setting {
        enabled,
        origin: Origin::default(),
    }
}

/// Parses a normalised filesystem argument (`xdg-download/sub:create`, `~/Music:ro`,
/// `home`, `/opt/data`), negated with a leading `!`.
pub fn fs_key(arg: &str) -> (FsKey, FsMode) {
    let (negated, arg) = match arg.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    let (token, mode) = match arg.rsplit_once(':') {
        Some((t, "ro")) => (t, FsMode::Ro),
        Some((t, "rw")) => (t, FsMode::Rw),
        Some((t, "create")) => (t, FsMode::Create),
        _ => (arg, FsMode::Rw),
    };
    let mode = if negated { FsMode::None } else { mode };
    let key = match token {
        "~" | "home" => FsKey::Home,
        _ => match token.strip_prefix("home/") {
            Some(rest) => FsKey::HomePath(rest.to_string()),
            None => FsKey::from_normalised(token).unwrap_or_else(|| panic!("bad key {token}")),
        },
    };
    (key, mode)
}

/// The policy Flatpak would run for `app` with these override arguments.
pub fn from_flatpak_args(app: &str, args: &str) -> Policy {
    let mut policy = Policy::default();
    policy.identity.id = Some(app.to_string());
    let ctx = &mut policy.context;
    for arg in args.split_whitespace() {
        let (opt, value) = arg.split_once('=').unwrap_or((arg, ""));
        match opt {
            "--share" => {
                ctx.shares
                    .insert(Share::from_name(value).expect("share"), on(true));
            }
            "--unshare" => {
                ctx.shares
                    .insert(Share::from_name(value).expect("share"), on(false));
            }
            "--socket" => {
                let s = Socket::from_name(value).expect("socket");
                ctx.sockets.insert(s, on(true));
                if s == Socket::FallbackX11 {
                    ctx.sockets.insert(Socket::X11, on(true));
                }
            }
            "--device" => {
                ctx.devices
                    .insert(Device::from_name(value).expect("device"), on(true));
            }
            "--allow" => {
                ctx.features
                    .insert(Feature::from_name(value).expect("feature"), on(true));
            }
            "--filesystem" | "--nofilesystem" => {
                let text = if opt == "--nofilesystem" {
                    format!("!{value}")
                } else {
                    value.to_string()
                };
                let (key, mode) = fs_key(&text);
                ctx.filesystems.insert(
                    key,
                    FsEntry {
                        mode,
                        origin: Origin::default(),
                    },
                );
            }
            "--persist" => {
                ctx.persistent.insert(value.to_string(), Origin::default());
            }
            "--env" => {
                let (name, v) = value.split_once('=').expect("env");
                ctx.env.insert(
                    name.to_string(),
                    EnvEntry {
                        value: Some(v.to_string()),
                        origin: Origin::default(),
                    },
                );
            }
            // D-Bus names do not touch the mount plan.
            _ => {}
        }
    }
    policy
}

#[test]
fn override_arguments_become_context() {
    let p = from_flatpak_args(
        "org.x.A",
        "--socket=fallback-x11 --filesystem=xdg-download/sub:create --nofilesystem=~/x",
    );
    assert!(p.context.has_socket(Socket::X11));
    assert_eq!(
        p.context.fs_mode(&FsKey::Xdg {
            dir: XdgDir::Download,
            sub: Some("sub".into())
        }),
        FsMode::Create
    );
    assert!(p
        .context
        .filesystems
        .contains_key(&FsKey::HomePath("x".into())));
}
