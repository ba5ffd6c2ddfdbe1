//! The end of Flatpak's plan (semantics §5.1 steps 12–16): the resolved socket with
//! network, the journal sockets, host fonts and icons under `/run/host`, the debug-source
//! symlinks and the members of the sandbox's runtime dir.

use portcullis_blob::mounts::{Condition, MountOp};
use portcullis_ir::context::{Share, Socket};
use portcullis_ir::Policy;

use super::ops::*;
use super::sockets::has_wayland;

const FONT_DIRS: &str = "<?xml version=\"1.0\"?>\n\
<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n\
<fontconfig>\n\
\t<remap-dir as-path=\"/usr/share/fonts\">/run/host/fonts</remap-dir>\n\
\t<remap-dir as-path=\"/usr/local/share/fonts\">/run/host/local-fonts</remap-dir>\n";

/// A read-only tmpfs at `dest` when `condition` holds (Flatpak's empty cache stand-in).
fn ro_tmpfs_when(condition: Condition, dest: &str) -> Vec<MountOp> {
    vec![
        when(condition.clone(), tmpfs(dest)),
        when(condition, MountOp::RemountRo { dest: p(dest) }),
    ]
}

/// Fonts and icons, always.
fn fonts(_policy: &Policy) -> Vec<MountOp> {
    let sys_cache = "/var/cache/fontconfig";
    let lib_cache = "/usr/lib/fontconfig/cache";
    let user_fonts = "${HOME}/.local/share/fonts";
    let old_fonts = "${HOME}/.fonts";
    let user_cache = "${HOME}/.cache/fontconfig";
    let mut ops = vec![
        ro_bind_try("/usr/share/fonts", "/run/host/fonts"),
        ro_bind_try("/usr/local/share/fonts", "/run/host/local-fonts"),
        when(
            exists(sys_cache),
            ro_bind(sys_cache, "/run/host/fonts-cache"),
        ),
        when(
            Condition::All(vec![not(exists(sys_cache)), exists(lib_cache)]),
            ro_bind(lib_cache, "/run/host/fonts-cache"),
        ),
    ];
    ops.extend(ro_tmpfs_when(
        Condition::All(vec![not(exists(sys_cache)), not(exists(lib_cache))]),
        "/run/host/fonts-cache",
    ));
    ops.push(when(
        exists(user_fonts),
        ro_bind(user_fonts, "/run/host/user-fonts"),
    ));
    ops.push(when(
        Condition::All(vec![not(exists(user_fonts)), exists(old_fonts)]),
        ro_bind(old_fonts, "/run/host/user-fonts"),
    ));
    ops.push(when(
        exists(user_cache),
        ro_bind(user_cache, "/run/host/user-fonts-cache"),
    ));
    ops.extend(ro_tmpfs_when(
        not(exists(user_cache)),
        "/run/host/user-fonts-cache",
    ));
    let with_user = format!(
        "{FONT_DIRS}\t<remap-dir as-path=\"${{HOME}}/.local/share/fonts\">/run/host/user-fonts</remap-dir>\n</fontconfig>\n"
    );
    ops.push(when(
        exists(user_fonts),
        data("/run/host/font-dirs.xml", with_user, true),
    ));
    ops.push(when(
        not(exists(user_fonts)),
        data(
            "/run/host/font-dirs.xml",
            format!("{FONT_DIRS}</fontconfig>\n"),
            false,
        ),
    ));
    ops.push(ro_bind_try("/usr/share/icons", "/run/host/share/icons"));
    ops.push(ro_bind_try(
        "${HOME}/.local/share/icons",
        "/run/host/user-share/icons",
    ));
    ops
}

/// Steps 12–16.
pub fn late(policy: &Policy) -> Vec<MountOp> {
    let ctx = &policy.context;
    let mut ops = Vec::new();
    if ctx.has_share(Share::Network) {
        let resolved = "/run/systemd/resolve/io.systemd.Resolve";
        ops.push(bind_try(resolved, resolved));
    }
    for name in ["socket", "stdout"] {
        let path = format!("/run/systemd/journal/{name}");
        ops.push(ro_bind_try(&path, &path));
    }
    ops.extend(fonts(policy));
    ops.push(symlink("/app/lib/debug/source", "/run/build"));
    ops.push(symlink("/usr/lib/debug/source", "/run/build-runtime"));
    ops.push(symlink(
        "../../../.flatpak-info",
        &format!("{RUN_USER}/flatpak-info"),
    ));
    ops.push(symlink("../../flatpak/app", &format!("{RUN_USER}/app")));
    ops.push(symlink("../../flatpak/bus", &format!("{RUN_USER}/bus")));
    if ctx.has_socket(Socket::Wayland) {
        ops.push(when(
            has_wayland(),
            symlink(
                "../../flatpak/${WAYLAND_NAME}",
                &format!("{RUN_USER}/${{WAYLAND_NAME}}"),
            ),
        ));
    }
    ops
}
