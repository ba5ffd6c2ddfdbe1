//! The rule registry: one entry per rule family, shared by the linter, the SARIF rule
//! metadata and the documentation of every code.
//!
//! flatpak-builder-lint's codes keep their names; families whose codes are generated from
//! the input (`finish-args-own-name-<name>`) are matched by prefix. Our own codes start
//! with `portcullis-`. A single table avoids the doc/code drift the linter suffers from.

use crate::severity::Severity;

/// Who defines a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// flatpak-builder-lint (same code, same condition).
    Fblint,
    /// portcullis, for what the linter misses.
    Portcullis,
}

/// How a code is matched to its family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// The code itself.
    Exact(&'static str),
    /// Codes generated with this prefix.
    Prefix(&'static str),
}

/// One rule family.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The family id used as SARIF `ruleId` (the code itself, or the prefix with `*`).
    pub id: &'static str,
    /// How codes are matched.
    pub pattern: Pattern,
    /// Who defines it.
    pub origin: Origin,
    /// Severity when the grant is writable (or has no mode).
    pub severity: Severity,
    /// Severity when the option that caused it is read-only (`:ro`).
    pub ro_severity: Severity,
    /// One line: what was found.
    pub summary: &'static str,
    /// What to do instead.
    pub help: &'static str,
}

const fn fb(
    id: &'static str,
    severity: Severity,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule {
        id,
        pattern: Pattern::Exact(id),
        origin: Origin::Fblint,
        severity,
        ro_severity: severity,
        summary,
        help,
    }
}

const fn fb_rw(
    id: &'static str,
    severity: Severity,
    ro_severity: Severity,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule {
        id,
        pattern: Pattern::Exact(id),
        origin: Origin::Fblint,
        severity,
        ro_severity,
        summary,
        help,
    }
}

const fn fb_prefix(
    id: &'static str,
    prefix: &'static str,
    severity: Severity,
    ro_severity: Severity,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule {
        id,
        pattern: Pattern::Prefix(prefix),
        origin: Origin::Fblint,
        severity,
        ro_severity,
        summary,
        help,
    }
}

const fn own(
    id: &'static str,
    severity: Severity,
    ro_severity: Severity,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule {
        id,
        pattern: Pattern::Exact(id),
        origin: Origin::Portcullis,
        severity,
        ro_severity,
        summary,
        help,
    }
}

use Severity::{Critical, High, Info, Low, Medium};

const PORTALS: &str = "use the matching XDG portal instead of a static permission";

/// Every rule family. Exact codes are listed before the prefixes that would also match them.
pub static RULES: &[Rule] = &[
    fb("finish-args-not-defined", Low, "the manifest declares no finish-args", "declare the permissions the app needs, even if it is only `--share=ipc`"),
    fb("finish-args-metadata-key", Low, "`--metadata` sets a key other than `X-DConf=migrate-path`", "drop the option; metadata keys are not permissions"),
    fb_prefix("finish-args-conditional-permission-not-allowed-*", "finish-args-conditional-permission-not-allowed-", Medium, Medium, "a conditional permission Flathub does not accept", "use only `if:all:!has-input-device`, `if:all:!has-usb-device` or `if:usb:!has-usb-portal`"),
    fb("finish-args-conditional-permission-input-no-restriction", Medium, "`device-if=all:!has-input-device` without `--device=input`", "add `--device=input` so that new Flatpak versions grant less than `all`"),
    fb("finish-args-conditional-permission-usb-no-restriction", Medium, "`device-if=all:!has-usb-device` without `--device=usb`", "add `--device=usb` so that new Flatpak versions grant less than `all`"),
    fb("finish-args-contains-inherit-wayland-socket", Low, "the `inherit-wayland-socket` socket is granted", "remove it unless the app is handed a Wayland socket by its launcher"),
    fb("finish-args-contains-both-x11-and-fallback", Low, "both `x11` and `fallback-x11`", "keep only `fallback-x11` (with `wayland`)"),
    fb("finish-args-contains-both-x11-and-wayland", High, "both `x11` and `wayland`: X11 stays granted on Wayland sessions", "use `wayland` with `fallback-x11`; X11 clients can read input and screen of other X11 clients"),
    fb("finish-args-x11-without-ipc", Low, "X11 without `--share=ipc`", "add `--share=ipc`; X11 shared memory needs it"),
    fb("finish-args-fallback-x11-without-wayland", Medium, "`fallback-x11` without `wayland`: X11 is always used", "add `--socket=wayland`"),
    fb("finish-args-only-wayland", Info, "only `wayland`, no X11 fallback", "add `--socket=fallback-x11` unless the app is verified to run without X11"),
    fb("finish-args-has-socket-gpg-agent", High, "the host GnuPG agent is reachable (signing and decryption with the user's keys)", "use a portal or the app's own keyring"),
    fb("finish-args-has-socket-ssh-auth", High, "the host SSH agent is reachable (authentication with the user's keys)", "ask the user for a key file through the file chooser"),
    fb_prefix("finish-args-has-nosocket-*", "finish-args-has-nosocket-", Low, Low, "`--nosocket` in finish-args", "negations belong in overrides, not in the manifest"),
    fb_prefix("finish-args-has-unshare-*", "finish-args-has-unshare-", Low, Low, "`--unshare` in finish-args", "negations belong in overrides, not in the manifest"),
    fb_prefix("finish-args-has-nodevice-*", "finish-args-has-nodevice-", Low, Low, "`--nodevice` in finish-args", "negations belong in overrides, not in the manifest"),
    fb("finish-args-no-required-flatpak", Low, "`device=input` or `device=usb` without `--require-version`", "add `--require-version=1.16.0` or a conditional fallback"),
    fb("finish-args-insufficient-required-flatpak", Low, "`device=input` or `device=usb` with `--require-version` below 1.16.0", "require Flatpak 1.16.0 or later"),
    fb_prefix("finish-args-arbitrary-xdg-*-access", "finish-args-arbitrary-xdg-", High, Medium, "the whole `xdg-data`, `xdg-config` or `xdg-cache` directory", "grant only the subdirectory the app needs, or none"),
    fb_prefix("finish-args-unnecessary-xdg-*-access", "finish-args-unnecessary-xdg-", Medium, Low, "a subdirectory of another program's data, config or cache", "apps keep their own files in `~/.var/app/APPID`"),
    fb_prefix("finish-args-reserved-*", "finish-args-reserved-", Low, Low, "a path Flatpak reserves for itself (it is never exported)", "remove the option; it has no effect"),
    fb_rw("finish-args-home-filesystem-access", Critical, High, "read-write access to the whole home directory", PORTALS),
    fb("finish-args-home-ro-filesystem-access", High, "read access to the whole home directory, secrets included", PORTALS),
    fb_rw("finish-args-host-filesystem-access", Critical, High, "read-write access to all host files the sandbox can export", PORTALS),
    fb("finish-args-host-ro-filesystem-access", High, "read access to all host files the sandbox can export", PORTALS),
    fb("finish-args-host-root-filesystem-access", Critical, "the whole host root", PORTALS),
    fb("finish-args-host-root-ro-filesystem-access", High, "the whole host root, read-only", PORTALS),
    fb("finish-args-host-etc-filesystem-access", Medium, "host `/etc`", "read only the files the app needs through a portal"),
    fb("finish-args-host-etc-ro-filesystem-access", Medium, "host `/etc`, read-only", "read only the files the app needs through a portal"),
    fb("finish-args-host-os-filesystem-access", Medium, "host `/usr` and libraries", "use the runtime's tools instead of the host's"),
    fb("finish-args-host-os-ro-filesystem-access", Medium, "host `/usr` and libraries, read-only", "use the runtime's tools instead of the host's"),
    fb_rw("finish-args-full-home-config-access", Critical, High, "the whole `~/.config` (autostart entries and systemd user units live there)", "grant only the subdirectory the app needs"),
    fb("finish-args-full-home-cache-access", Medium, "the whole `~/.cache`", "the app has its own cache in `~/.var/app/APPID/cache`"),
    fb_rw("finish-args-full-home-local-access", Critical, High, "the whole `~/.local` (Flatpak overrides live there)", "grant only the subdirectory the app needs"),
    fb_rw("finish-args-full-home-local-share-access", Critical, Medium, "the whole `~/.local/share` (Flatpak overrides live there)", "grant only the subdirectory the app needs"),
    fb_rw("finish-args-autostart-filesystem-access", Critical, Low, "`~/.config/autostart`: programs started at login outside the sandbox", "use the Background portal's autostart request"),
    fb_rw("finish-args-systemd-filesystem-access", Critical, Low, "`~/.config/systemd`: user units run outside the sandbox", "remove the grant"),
    fb_rw("finish-args-desktopfile-filesystem-access", High, Low, "`~/.local/share/applications`: launchers run outside the sandbox when clicked", "use the DynamicLauncher portal"),
    fb("finish-args-ssh-filesystem-access", High, "`~/.ssh`: private keys and the SSH configuration", "ask for a key file through the file chooser"),
    fb("finish-args-gnupg-filesystem-access", High, "`~/.gnupg`: private keys", "use a portal or the app's own keyring"),
    fb("finish-args-absolute-home-path", Medium, "an absolute `/home` or `/var/home` path (user-specific)", "use `~/` or `home/` paths"),
    fb("finish-args-absolute-run-media-path", Low, "a subdirectory of `/run/media` (device- and user-specific)", "grant `/run/media` or use the file chooser"),
    fb("finish-args-direct-dconf-path", Medium, "the host dconf database directly", "use GSettings' keyfile backend inside the sandbox"),
    fb_prefix("finish-args-flatpak-appdata-folder-*", "finish-args-flatpak-appdata-folder", High, Medium, "other Flatpak apps' data in `~/.var/app`", "share data through portals, not another app's sandbox"),
    fb("finish-args-legacy-icon-folder-permission", Low, "legacy `~/.icons`", "use icon theme extensions"),
    fb("finish-args-legacy-font-folder-permission", Low, "legacy `~/.fonts`", "fonts in `~/.local/share/fonts` are visible by default"),
    fb("finish-args-incorrect-theme-folder-permission", Low, "`~/.themes`", "use theme extensions"),
    fb_prefix("finish-args-flatpak-system-folder-*", "finish-args-flatpak-system-folder", High, Medium, "the system Flatpak installation in `/var/lib/flatpak`", "use the Flatpak session helper or portal APIs"),
    fb_prefix("finish-args-flatpak-user-folder-*", "finish-args-flatpak-user-folder", Critical, Medium, "the user Flatpak installation (overrides of every app live there)", "remove the grant"),
    fb("finish-args-host-tmp-access", Medium, "host `/tmp`", "use the app's private `/tmp`"),
    fb("finish-args-host-var-access", Medium, "host `/var`", "grant only what is needed"),
    fb("finish-args-unnecessary-appid-own-name", Info, "owning the app's own name (granted by default)", "remove the option"),
    fb("finish-args-unnecessary-appid-mpris-own-name", Info, "owning the app's MPRIS name (granted by default)", "remove the option"),
    fb_prefix("finish-args-own-name-*", "finish-args-own-name-", Medium, Medium, "owning a session-bus name other than the app's", "own only names below the app id"),
    fb("finish-args-uses-no-talk-name", Low, "`--no-talk-name` in finish-args", "negations belong in overrides"),
    fb("finish-args-unnecessary-appid-talk-name", Info, "talking to the app's own name (granted by default)", "remove the option"),
    fb("finish-args-mpris-flatpak-id-talk-name", Info, "talking to the app's MPRIS name (granted by default)", "remove the option"),
    fb("finish-args-wildcard-freedesktop-talk-name", Critical, "every `org.freedesktop.*` name, `org.freedesktop.Flatpak` included", "list the names the app needs"),
    fb("finish-args-wildcard-gnome-talk-name", High, "every `org.gnome.*` name", "list the names the app needs"),
    fb("finish-args-wildcard-kde-talk-name", High, "every `org.kde.*` name", "list the names the app needs"),
    fb("finish-args-portal-talk-name", Low, "a portal name (portals are reachable by default)", "remove the option"),
    fb("finish-args-dconf-talk-name", Medium, "the dconf service (every app's settings)", "use GSettings' keyfile backend inside the sandbox"),
    fb("finish-args-freedesktop-dbus-talk-name", Medium, "the bus driver's extra interfaces", "remove the option"),
    fb("finish-args-incorrect-dbus-gvfs", Low, "`org.gtk.vfs` (not how GVfs is reached)", "use `org.gtk.vfs.*` and `xdg-run/gvfsd` as documented"),
    fb("finish-args-flatpak-spawn-access", Critical, "`org.freedesktop.Flatpak`: `flatpak-spawn --host` runs commands on the host", "use portals; host command execution is a sandbox escape"),
    fb("finish-args-flatpak-talk-name", Medium, "a name below `org.freedesktop.Flatpak`", "remove the option unless the app is a Flatpak client"),
    fb("finish-args-incorrect-secret-service-talk-name", Low, "`org.freedesktop.Secrets` (the service is `org.freedesktop.secrets`)", "use the lower-case name, or the Secret portal"),
    fb_prefix("finish-args-portal-impl-*-talk-name", "finish-args-portal-impl-", High, High, "a portal backend (bypasses the portal's checks)", "talk to the portal frontend instead"),
    fb("finish-args-systemd1-talk-name", Critical, "the user's systemd manager: transient units run outside the sandbox", "remove the option"),
    fb("finish-args-login1-talk-name", Medium, "logind on the session bus", "use the Inhibit portal"),
    fb("finish-args-kwin-talk-name", Medium, "KWin (window manager scripting)", "use portals"),
    fb("finish-args-plasmashell-talk-name", Medium, "Plasma shell (shell scripting)", "use portals"),
    fb_prefix("finish-args-system-own-name-*", "finish-args-system-own-name-", Medium, Medium, "owning a system-bus name", "system services are not Flatpak apps"),
    fb("finish-args-wildcard-freedesktop-system-talk-name", High, "every `org.freedesktop.*` name on the system bus", "list the names the app needs"),
    fb("finish-args-wildcard-gnome-system-talk-name", High, "every `org.gnome.*` name on the system bus", "list the names the app needs"),
    fb("finish-args-wildcard-kde-system-talk-name", High, "every `org.kde.*` name on the system bus", "list the names the app needs"),
    fb("finish-args-freedesktop-dbus-system-talk-name", Medium, "the system bus driver's extra interfaces", "remove the option"),
    fb("finish-args-flatpak-system-talk-name", High, "the system Flatpak helper (installs and changes system apps)", "remove the option"),
    fb("finish-args-mpris-flatpak-id-system-talk-name", Info, "the app's MPRIS name on the system bus", "remove the option"),
    fb("finish-args-systemd1-system-talk-name", High, "the system manager (unit control, polkit-gated)", "remove the option"),
    fb("finish-args-login1-system-talk-name", Medium, "logind on the system bus (power, sessions)", "use the Inhibit portal"),
    fb("finish-args-kwin-system-talk-name", Low, "KWin on the system bus", "remove the option"),
    fb("finish-args-plasmashell-system-talk-name", Low, "Plasma shell on the system bus", "remove the option"),
    fb("finish-args-arbitrary-dbus-access", Critical, "the unfiltered session or system bus (no proxy)", "list the names the app needs; the session bus reaches `org.freedesktop.Flatpak`"),
    own("portcullis-x11", High, High, "X11 is granted without a Wayland alternative: keystroke logging, input injection and screen capture of other X11 clients", "use `wayland` with `fallback-x11`"),
    own("portcullis-device-all", High, High, "every host device node (`device=all`), webcams, raw input and disks included", "grant `dri`, `input` or `usb` instead"),
    own("portcullis-devel", Medium, Medium, "`allow=devel`: ptrace and perf inside the sandbox, a weaker seccomp filter", "only for debuggers and IDEs"),
    own("portcullis-shell-startup-write", Critical, Low, "a shell start-up or session file is writable: commands run on the host at the next login", "remove the grant"),
    own("portcullis-autostart-write", Critical, Low, "`xdg-config/autostart` is writable: programs start at login outside the sandbox", "use the Background portal's autostart request"),
    own("portcullis-flatpak-overrides-write", Critical, Medium, "the Flatpak overrides directory is writable: the app can grant itself any permission", "remove the grant"),
    own("portcullis-bus-socket-filesystem", Critical, Critical, "the session bus socket is exposed as a file: the proxy is bypassed", "use `--talk-name` for the names the app needs"),
    own("portcullis-system-bus-socket-filesystem", High, High, "the system bus socket is exposed as a file: the proxy is bypassed", "use `--system-talk-name` for the names the app needs"),
    own("portcullis-container-socket", Critical, Critical, "a container engine socket (Docker, Podman): runs containers with host mounts", "remove the grant"),
    own("portcullis-parent-traversal", High, High, "a path with `..` that Flatpak before 1.17.3 accepts and resolves outside the named directory", "write the intended directory without `..`"),
    own("portcullis-host-launcher-talk-name", High, High, "a session service that starts programs outside the sandbox", "remove the option"),
    own("portcullis-persist-ignored", Info, Info, "`--persist` has no effect with home or host access", "remove the option or the broad grant"),
    own("portcullis-device-ignored", Low, Low, "a device class that `device=all` already includes", "remove the option"),
    own("portcullis-bus-names-ignored", Info, Info, "bus names are ignored when the whole bus socket is granted", "remove `--socket=session-bus` or `--socket=system-bus` and keep the names"),
    own("portcullis-stale-exception", Low, Low, "an exception for a code the input no longer triggers", "remove the exception"),
];

/// The family of a code: an exact entry, else the longest matching prefix.
pub fn rule_for(code: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| matches!(r.pattern, Pattern::Exact(c) if c == code))
        .or_else(|| {
            RULES
                .iter()
                .filter(|r| matches!(r.pattern, Pattern::Prefix(p) if code.starts_with(p)))
                .max_by_key(|r| match r.pattern {
                    Pattern::Prefix(p) => p.len(),
                    Pattern::Exact(_) => 0,
                })
        })
}

/// Where a rule is documented publicly: Flathub's linter page for its codes; our own
/// rules are documented by their help text only.
pub fn help_uri(rule: &Rule) -> Option<String> {
    match rule.origin {
        Origin::Fblint => Some("https://docs.flathub.org/linter".to_string()),
        Origin::Portcullis => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_corpus_code_family_is_known() {
        for code in [
            "finish-args-own-name-wildcard-org.kde",
            "finish-args-unnecessary-xdg-config-gtk-3.0-rw-access",
            "finish-args-flatpak-appdata-folder-com.valvesoftware.Steam-rw-access",
            "finish-args-portal-impl-permissionstore-talk-name",
            "finish-args-portal-impl-permissionstore-system-talk-name",
            "finish-args-home-filesystem-access",
        ] {
            assert!(rule_for(code).is_some(), "{code}");
        }
        assert_eq!(
            rule_for("finish-args-unnecessary-appid-own-name").map(|r| r.id),
            Some("finish-args-unnecessary-appid-own-name")
        );
        assert!(rule_for("appid-too-short").is_none());
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }
}
