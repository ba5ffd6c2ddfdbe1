//! flatpak-builder-lint's finish-args checks, re-implemented on the finish-args view.
//!
//! Same codes, same conditions, same generated names (`finish-args-own-name-<name>`,
//! `finish-args-unnecessary-xdg-config-<subdir>-<mode>-access`, …) as the linter's
//! `checks/finish_args.py` at commit `3b7a092`, so that Flathub's exceptions and CI
//! habits carry over. What the linter does not have is added here: every hit keeps the
//! origin of the option that caused it, so findings have positions.
//!
//! Matching is on the option text exactly as written, like the linter: `~/.ssh` and
//! `home/.ssh` are both caught, `/home/me/.ssh` is not (that is `absolute-home-path`).

use portcullis_ir::Origin;

use super::view::{FinishArg, FinishArgs, Subject};

/// One raw hit: a code and the option (or header) that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The flatpak-builder-lint code.
    pub code: String,
    /// Where the cause was written.
    pub origin: Origin,
    /// The option that caused it (`None` for a missing finish-args list).
    pub option: Option<String>,
}

const MODES: [&str; 3] = [":ro", ":rw", ":create"];

/// Conditions the linter accepts in `--*-if=` options, with the fallback they stand for.
const ALLOWED_CONDITIONS: [(&str, Fallback); 3] = [
    ("if:all:!has-input-device", Fallback::InputToAll),
    ("if:all:!has-usb-device", Fallback::UsbToAll),
    ("if:usb:!has-usb-portal", Fallback::UsbToPortal),
];

const RESERVED_DIRS: [&str; 14] = [
    "/.flatpak-info",
    "/app",
    "/bin",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/root",
    "/run/flatpak",
    "/run/host",
    "/sbin",
    "/usr",
];

/// `/var` subtrees the host-var check leaves alone.
const VAR_EXEMPT: [&str; 6] = [
    "/var/cache",
    "/var/config",
    "/var/data",
    "/var/tmp",
    "/var/lib/flatpak",
    "/var/home",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fallback {
    InputToAll,
    UsbToAll,
    UsbToPortal,
}

/// One option as the linter files it: its section (`socket`, `device`, `features`, …)
/// and its value, with `!` for the negated forms and `if:` for conditional ones.
struct Entry<'a> {
    section: &'static str,
    value: String,
    arg: &'a FinishArg,
}

fn classify(arg: &FinishArg) -> Option<Entry<'_>> {
    let v = arg.value.clone();
    let (section, value) = match arg.key.as_str() {
        "share" => ("share", v),
        "unshare" => ("share", format!("!{v}")),
        "share-if" => ("share", format!("if:{v}")),
        "socket" => ("socket", v),
        "nosocket" => ("socket", format!("!{v}")),
        "socket-if" => ("socket", format!("if:{v}")),
        "device" => ("device", v),
        "nodevice" => ("device", format!("!{v}")),
        "device-if" => ("device", format!("if:{v}")),
        "allow" => ("features", v),
        "allow-if" => ("features", format!("if:{v}")),
        "filesystem" => ("filesystem", v),
        "own-name" => ("own-name", v),
        "talk-name" => ("talk-name", v),
        "system-own-name" => ("system-own-name", v),
        "system-talk-name" => ("system-talk-name", v),
        "no-talk-name" | "system-no-talk-name" => ("none-name", v),
        "require-version" => ("required-flatpak", v),
        "metadata" => ("metadata", v),
        _ => return None,
    };
    Some(Entry {
        section,
        value,
        arg,
    })
}

/// Runs every finish-args check of flatpak-builder-lint on one input.
pub fn check(view: &FinishArgs) -> Vec<Hit> {
    let mut out = Vec::new();
    if view.subject != Subject::App {
        return out;
    }
    if !view.defined {
        out.push(Hit {
            code: "finish-args-not-defined".into(),
            origin: view.header,
            option: None,
        });
        return out;
    }
    let mut entries = Vec::new();
    for arg in &view.args {
        let Some(entry) = classify(arg) else { continue };
        if entry.section == "metadata" {
            if !entry.value.starts_with("X-DConf=migrate-path=/") {
                out.push(hit("finish-args-metadata-key", arg));
            }
            continue;
        }
        entries.push(entry);
    }
    let lint = Lint {
        app_id: view.app_id.as_deref(),
        entries: &entries,
    };
    lint.run(&mut out);
    out
}

fn hit(code: impl Into<String>, arg: &FinishArg) -> Hit {
    Hit {
        code: code.into(),
        origin: arg.origin,
        option: Some(arg.text()),
    }
}

struct Lint<'a> {
    app_id: Option<&'a str>,
    entries: &'a [Entry<'a>],
}

impl<'a> Lint<'a> {
    fn section(&self, name: &'a str) -> impl Iterator<Item = &'a Entry<'a>> + 'a {
        self.entries.iter().filter(move |e| e.section == name)
    }

    /// The first option in `section` whose value is `value`.
    fn find(&self, section: &'a str, value: &str) -> Option<&'a FinishArg> {
        self.section(section)
            .find(|e| e.value == value)
            .map(|e| e.arg)
    }

    fn run(&self, out: &mut Vec<Hit>) {
        let fallbacks = self.conditions(out);
        self.sockets(out);
        self.devices(&fallbacks, out);
        for entry in self.section("filesystem") {
            filesystem(self.app_id, &entry.value, entry.arg, out);
        }
        self.own_names(out);
        self.talk_names(out);
        self.system_names(out);
        let bus = self
            .find("socket", "system-bus")
            .or(self.find("socket", "session-bus"));
        if let Some(o) = bus {
            out.push(hit("finish-args-arbitrary-dbus-access", o));
        }
    }

    /// Conditional permissions: reports the ones the linter refuses, returns the
    /// fallbacks of the accepted ones.
    fn conditions(&self, out: &mut Vec<Hit>) -> Vec<Fallback> {
        let mut fallbacks = Vec::new();
        let mut origins = Vec::new();
        for entry in self.entries.iter().filter(|e| {
            matches!(e.section, "socket" | "share" | "device" | "features")
                && e.value.starts_with("if:")
                && e.value.matches(':').count() == 2
        }) {
            match ALLOWED_CONDITIONS.iter().find(|(c, _)| *c == entry.value) {
                Some((_, fallback)) => {
                    fallbacks.push(*fallback);
                    origins.push((*fallback, entry.arg));
                }
                None => {
                    let name = entry.value.replace('!', "not-").replace(':', "-");
                    out.push(hit(
                        format!("finish-args-conditional-permission-not-allowed-{name}"),
                        entry.arg,
                    ));
                }
            }
        }
        let origin_of = |f: Fallback| origins.iter().find(|(g, _)| *g == f).map(|(_, o)| *o);
        if fallbacks.contains(&Fallback::InputToAll) && self.find("device", "input").is_none() {
            if let Some(arg) = origin_of(Fallback::InputToAll) {
                out.push(hit(
                    "finish-args-conditional-permission-input-no-restriction",
                    arg,
                ));
            }
        }
        if fallbacks.contains(&Fallback::UsbToAll) && self.find("device", "usb").is_none() {
            if let Some(arg) = origin_of(Fallback::UsbToAll) {
                out.push(hit(
                    "finish-args-conditional-permission-usb-no-restriction",
                    arg,
                ));
            }
        }
        fallbacks
    }

    fn sockets(&self, out: &mut Vec<Hit>) {
        let socket = |v: &str| self.find("socket", v);
        if let Some(o) = socket("inherit-wayland-socket") {
            out.push(hit("finish-args-contains-inherit-wayland-socket", o));
        }
        if let (Some(o), Some(_)) = (socket("x11"), socket("fallback-x11")) {
            out.push(hit("finish-args-contains-both-x11-and-fallback", o));
        }
        if let (Some(o), Some(_)) = (socket("x11"), socket("wayland")) {
            out.push(hit("finish-args-contains-both-x11-and-wayland", o));
        }
        if let Some(o) = socket("x11").or(socket("fallback-x11")) {
            if self.find("share", "ipc").is_none() {
                out.push(hit("finish-args-x11-without-ipc", o));
            }
        }
        if let (Some(o), None) = (socket("fallback-x11"), socket("wayland")) {
            out.push(hit("finish-args-fallback-x11-without-wayland", o));
        }
        if let Some(o) = socket("wayland") {
            if socket("x11").is_none() && socket("fallback-x11").is_none() {
                out.push(hit("finish-args-only-wayland", o));
            }
        }
        if let Some(o) = socket("gpg-agent") {
            out.push(hit("finish-args-has-socket-gpg-agent", o));
        }
        if let Some(o) = socket("ssh-auth") {
            out.push(hit("finish-args-has-socket-ssh-auth", o));
        }
        for (section, code) in [
            ("socket", "finish-args-has-nosocket-"),
            ("share", "finish-args-has-unshare-"),
        ] {
            for entry in self.section(section) {
                if let Some(name) = entry.value.strip_prefix('!') {
                    out.push(hit(format!("{code}{name}"), entry.arg));
                }
            }
        }
    }

    fn devices(&self, fallbacks: &[Fallback], out: &mut Vec<Hit>) {
        // The linter takes one `--require-version` value (its set has no order; in
        // practice there is one).
        let required = self.section("required-flatpak").next();
        for entry in self.section("device") {
            let dev = entry.value.as_str();
            if let Some(name) = dev.strip_prefix('!') {
                out.push(hit(format!("finish-args-has-nodevice-{name}"), entry.arg));
            }
            let skip = (dev == "input" && fallbacks.contains(&Fallback::InputToAll))
                || (dev == "usb"
                    && (fallbacks.contains(&Fallback::UsbToAll)
                        || fallbacks.contains(&Fallback::UsbToPortal)));
            if !matches!(dev, "input" | "usb") || skip {
                continue;
            }
            match required {
                None => out.push(hit("finish-args-no-required-flatpak", entry.arg)),
                Some(req) => {
                    let version = req.value.split(';').next().unwrap_or("");
                    if !version_at_least(version, &[1, 16, 0]) {
                        out.push(hit("finish-args-insufficient-required-flatpak", entry.arg));
                    }
                }
            }
        }
    }

    fn own_names(&self, out: &mut Vec<Hit>) {
        for entry in self.section("own-name") {
            let name = entry.value.as_str();
            let origin = entry.arg;
            let mut handled = false;
            if let Some(app) = self.app_id {
                if is_name_or_child(name, app) {
                    out.push(hit("finish-args-unnecessary-appid-own-name", origin));
                    handled = true;
                }
                if name.starts_with("org.mpris.MediaPlayer2.") {
                    // MPRIS names of other players are left alone, as the linter does.
                    if is_name_or_child(name, &format!("org.mpris.MediaPlayer2.{app}")) {
                        out.push(hit("finish-args-unnecessary-appid-mpris-own-name", origin));
                    }
                    handled = true;
                }
            }
            if !handled {
                out.push(hit(own_name_code("finish-args-own-name-", name), origin));
            }
        }
        if let Some(entry) = self.section("none-name").next() {
            out.push(hit("finish-args-uses-no-talk-name", entry.arg));
        }
    }

    fn talk_names(&self, out: &mut Vec<Hit>) {
        for entry in self.section("talk-name") {
            let name = entry.value.as_str();
            let mut add = |code: String| out.push(hit(code, entry.arg));
            if let Some(app) = self.app_id {
                if is_name_or_child(name, app) {
                    add("finish-args-unnecessary-appid-talk-name".into());
                }
                if is_name_or_child(name, &format!("org.mpris.MediaPlayer2.{app}")) {
                    add("finish-args-mpris-flatpak-id-talk-name".into());
                }
            }
            for (wildcard, family) in [
                ("org.freedesktop.*", "freedesktop"),
                ("org.gnome.*", "gnome"),
                ("org.kde.*", "kde"),
            ] {
                if name == wildcard {
                    add(format!("finish-args-wildcard-{family}-talk-name"));
                }
            }
            if name.starts_with("org.freedesktop.portal.") {
                add("finish-args-portal-talk-name".into());
            }
            if is_name_or_child(name, "ca.desrt.dconf") {
                add("finish-args-dconf-talk-name".into());
            }
            if is_name_or_child(name, "org.freedesktop.DBus") {
                add("finish-args-freedesktop-dbus-talk-name".into());
            }
            if name == "org.gtk.vfs" {
                add("finish-args-incorrect-dbus-gvfs".into());
            }
            if name == "org.freedesktop.Flatpak" || name == "org.freedesktop.Flatpak.*" {
                add("finish-args-flatpak-spawn-access".into());
            }
            if name != "org.freedesktop.Flatpak.*" && name.starts_with("org.freedesktop.Flatpak.") {
                add("finish-args-flatpak-talk-name".into());
            }
            if name == "org.freedesktop.Secrets" {
                add("finish-args-incorrect-secret-service-talk-name".into());
            }
            if name.starts_with("org.freedesktop.impl.portal.") {
                add(format!(
                    "finish-args-portal-impl-{}-talk-name",
                    last_component(name)
                ));
            }
            for (service, code) in SERVICES {
                if is_name_or_child(name, service) {
                    add(format!("finish-args-{code}-talk-name"));
                }
            }
        }
    }

    fn system_names(&self, out: &mut Vec<Hit>) {
        for entry in self.section("system-own-name") {
            out.push(hit(
                own_name_code("finish-args-system-own-name-", &entry.value),
                entry.arg,
            ));
        }
        for entry in self.section("system-talk-name") {
            let name = entry.value.as_str();
            let mut add = |code: String| out.push(hit(code, entry.arg));
            for (wildcard, family) in [
                ("org.freedesktop.*", "freedesktop"),
                ("org.gnome.*", "gnome"),
                ("org.kde.*", "kde"),
            ] {
                if name == wildcard {
                    add(format!("finish-args-wildcard-{family}-system-talk-name"));
                }
            }
            if is_name_or_child(name, "org.freedesktop.DBus") {
                add("finish-args-freedesktop-dbus-system-talk-name".into());
            }
            if is_name_or_child(name, "org.freedesktop.Flatpak") {
                add("finish-args-flatpak-system-talk-name".into());
            }
            if let Some(app) = self.app_id {
                if name == format!("org.mpris.MediaPlayer2.{app}") {
                    add("finish-args-mpris-flatpak-id-system-talk-name".into());
                }
            }
            if name.starts_with("org.freedesktop.impl.portal.") {
                add(format!(
                    "finish-args-portal-impl-{}-system-talk-name",
                    last_component(name)
                ));
            }
            for (service, code) in SERVICES {
                if is_name_or_child(name, service) {
                    add(format!("finish-args-{code}-system-talk-name"));
                }
            }
        }
    }
}

/// Services with a dedicated talk-name code, checked on both buses.
const SERVICES: [(&str, &str); 4] = [
    ("org.freedesktop.systemd1", "systemd1"),
    ("org.freedesktop.login1", "login1"),
    ("org.kde.KWin", "kwin"),
    ("org.kde.plasmashell", "plasmashell"),
];

/// `name` is `base` or starts with `base.` (the linter's test; `base.*` counts too).
fn is_name_or_child(name: &str, base: &str) -> bool {
    name == base || (name.starts_with(base) && name.as_bytes().get(base.len()) == Some(&b'.'))
}

fn last_component(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_lowercase()
}

fn own_name_code(prefix: &str, name: &str) -> String {
    match name.strip_suffix(".*") {
        Some(base) => format!("{prefix}wildcard-{base}"),
        None => format!("{prefix}{name}"),
    }
}

/// Compares dotted version numbers; a part that is not a number counts as 0.
fn version_at_least(version: &str, wanted: &[u64]) -> bool {
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    for (i, want) in wanted.iter().enumerate() {
        let have = parts.get(i).copied().unwrap_or(0);
        if have != *want {
            return have > *want;
        }
    }
    true
}

/// `input` is `prefix` or (with `subdirs`) below it, optionally with a mode suffix; without
/// `subdirs` only a trailing `/` may follow.
fn matches_prefix(input: &str, prefix: &str, subdirs: bool) -> bool {
    let Some(rest) = input.strip_prefix(prefix) else {
        return false;
    };
    if subdirs && rest.starts_with('/') {
        return true;
    }
    let rest = if subdirs {
        rest
    } else {
        rest.strip_prefix('/').unwrap_or(rest)
    };
    rest.is_empty() || matches!(rest, ":ro" | ":rw" | ":create")
}

fn any_prefix(input: &str, prefixes: &[&str], subdirs: bool) -> bool {
    prefixes.iter().any(|p| matches_prefix(input, p, subdirs))
}

/// Splits off a trailing `:ro`, `:rw` or `:create`; the mode word defaults to `rw`.
fn split_mode(fs: &str) -> (&str, &'static str) {
    for (suffix, word) in [(":ro", "ro"), (":create", "create"), (":rw", "rw")] {
        if let Some(path) = fs.strip_suffix(suffix) {
            return (path, word);
        }
    }
    (fs, "rw")
}

/// `finish-args-<family>[-<sub>-<dirs>]-<mode>-access` for a path under one of `prefixes`.
fn subdir_code(fs: &str, prefixes: &[&str], family: &str) -> String {
    let (path, mode) = split_mode(fs);
    let mut code = format!("finish-args-{family}");
    if let Some(rest) = prefixes.iter().find_map(|p| path.strip_prefix(p)) {
        for part in rest.split('/').filter(|c| !c.is_empty()) {
            code.push('-');
            code.push_str(&part.replace(' ', "-"));
        }
    }
    code.push_str(&format!("-{mode}-access"));
    code
}

fn filesystem(app_id: Option<&str>, fs: &str, arg: &FinishArg, out: &mut Vec<Hit>) {
    let mut add = |code: String| out.push(hit(code, arg));
    xdg_base_dirs(app_id, fs, &mut add);

    for dir in RESERVED_DIRS {
        if matches_prefix(fs, dir, true) {
            add(format!(
                "finish-args-reserved-{}",
                dir.trim_start_matches('/')
            ));
        }
    }
    let (token, mode) = match fs.rsplit_once(':') {
        Some((t, m)) if matches!(m, "ro" | "rw" | "create") => (t, Some(m)),
        _ => (fs, None),
    };
    let special = match token {
        "home" | "~" | "~/" => Some("home"),
        "host" | "host-root" | "host-etc" | "host-os" => Some(token),
        _ => None,
    };
    if let Some(name) = special {
        if mode == Some("ro") {
            add(format!("finish-args-{name}-ro-filesystem-access"));
        } else {
            add(format!("finish-args-{name}-filesystem-access"));
        }
    }
    let home = |sub: &str| [format!("~/{sub}"), format!("home/{sub}")];
    let in_home =
        |sub: &str, subdirs: bool| home(sub).iter().any(|p| matches_prefix(fs, p, subdirs));
    for (sub, subdirs, code) in [
        (".config", false, "finish-args-full-home-config-access"),
        (".cache", false, "finish-args-full-home-cache-access"),
        (".local", false, "finish-args-full-home-local-access"),
        (
            ".local/share",
            false,
            "finish-args-full-home-local-share-access",
        ),
        (
            ".config/autostart",
            false,
            "finish-args-autostart-filesystem-access",
        ),
        (
            ".config/systemd",
            true,
            "finish-args-systemd-filesystem-access",
        ),
        (
            ".local/share/applications",
            false,
            "finish-args-desktopfile-filesystem-access",
        ),
        (".ssh", true, "finish-args-ssh-filesystem-access"),
        (".gnupg", true, "finish-args-gnupg-filesystem-access"),
    ] {
        if in_home(sub, subdirs) {
            add(code.into());
        }
    }
    if any_prefix(fs, &["/home", "/var/home"], true) {
        add("finish-args-absolute-home-path".into());
    }
    if let Some(rest) = fs.strip_prefix("/run/media/") {
        if rest
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            add("finish-args-absolute-run-media-path".into());
        }
    }
    let run_user_dconf = fs
        .strip_prefix("/run/user/")
        .is_some_and(|rest| rest.contains("/dconf"));
    if in_home(".config/dconf", true) || matches_prefix(fs, "xdg-run/dconf", true) || run_user_dconf
    {
        add("finish-args-direct-dconf-path".into());
    }
    if in_home(".var/app", true) {
        add(subdir_code(
            fs,
            &["~/.var/app/", "home/.var/app/"],
            "flatpak-appdata-folder",
        ));
    }
    for (sub, code) in [
        (".icons", "finish-args-legacy-icon-folder-permission"),
        (".fonts", "finish-args-legacy-font-folder-permission"),
        (".themes", "finish-args-incorrect-theme-folder-permission"),
    ] {
        if in_home(sub, true) {
            add(code.into());
        }
    }
    if matches_prefix(fs, "/var/lib/flatpak", true) {
        add(subdir_code(
            fs,
            &["/var/lib/flatpak/"],
            "flatpak-system-folder",
        ));
    }
    if in_home(".local/share/flatpak", true) {
        add(subdir_code(
            fs,
            &["~/.local/share/flatpak/", "home/.local/share/flatpak/"],
            "flatpak-user-folder",
        ));
    }
    if matches_prefix(fs, "/tmp", true) {
        add("finish-args-host-tmp-access".into());
    }
    if fs.starts_with("/var")
        && !VAR_EXEMPT.iter().any(|p| fs.starts_with(p))
        && matches_prefix(fs, "/var", true)
    {
        add("finish-args-host-var-access".into());
    }
}

/// The `xdg-data`, `xdg-config` and `xdg-cache` checks: the whole directory is
/// "arbitrary", a subdirectory "unnecessary".
fn xdg_base_dirs(app_id: Option<&str>, fs: &str, add: &mut impl FnMut(String)) {
    // Inherited by apps from the KDE runtime.
    if fs == "xdg-config/kdeglobals:ro" {
        return;
    }
    let cosmic = app_id.is_some_and(|id| {
        id.starts_with("org.cosmic_utils.") || id.starts_with("io.github.cosmic_utils.")
    });
    if cosmic && matches_prefix(fs, "xdg-config/cosmic", true) {
        return;
    }
    for dir in ["xdg-data", "xdg-config", "xdg-cache"] {
        let Some(rest) = fs.strip_prefix(dir) else {
            continue;
        };
        let mode = MODES
            .iter()
            .find(|m| fs.ends_with(*m))
            .map(|m| &m[1..])
            .unwrap_or("rw");
        // `xdg-data`, `xdg-data:` or `xdg-data:MODE`.
        if rest.is_empty() || matches!(rest, ":" | ":ro" | ":rw" | ":create") {
            add(format!("finish-args-arbitrary-{dir}-{mode}-access"));
            continue;
        }
        let subpath = match rest.strip_prefix('/') {
            Some(sub) => sub,
            None => continue,
        };
        let first = subpath.split('/').next().unwrap_or("");
        let subdir = if MODES.iter().any(|m| first.ends_with(m)) {
            first.split(':').next().unwrap_or("")
        } else {
            first
        };
        add(format!(
            "finish-args-unnecessary-{dir}-{subdir}-{mode}-access"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(app: &str, args: &[&str]) -> Vec<String> {
        let view = FinishArgs::from_strings(Some(app), args, Origin::default());
        let mut codes: Vec<String> = check(&view).into_iter().map(|h| h.code).collect();
        codes.sort();
        codes.dedup();
        codes
    }

    #[test]
    fn prefixes_match_like_the_linter() {
        assert!(matches_prefix("~/.ssh", "~/.ssh", true));
        assert!(matches_prefix("~/.ssh/id:ro", "~/.ssh", true));
        assert!(!matches_prefix("~/.sshx", "~/.ssh", true));
        assert!(matches_prefix("~/.config/:ro", "~/.config", false));
        assert!(!matches_prefix("~/.config/foo", "~/.config", false));
    }

    #[test]
    fn generated_codes() {
        assert_eq!(
            codes(
                "com.valvesoftware.Steam",
                &[
                    "--filesystem=~/.var/app/com.valvesoftware.Steam/data/Steam:ro",
                    "--share=ipc"
                ]
            ),
            vec!["finish-args-flatpak-appdata-folder-com.valvesoftware.Steam-data-Steam-ro-access"]
        );
        assert_eq!(
            codes(
                "a.b.C",
                &[
                    "--filesystem=xdg-config/gtk-3.0:create",
                    "--filesystem=xdg-data"
                ]
            ),
            vec![
                "finish-args-arbitrary-xdg-data-rw-access",
                "finish-args-unnecessary-xdg-config-gtk-3.0-create-access"
            ]
        );
        assert_eq!(
            codes(
                "a.b.C",
                &[
                    "--own-name=org.kde.*",
                    "--own-name=a.b.C.x",
                    "--own-name=org.mpris.MediaPlayer2.vlc"
                ]
            ),
            vec![
                "finish-args-own-name-wildcard-org.kde",
                "finish-args-unnecessary-appid-own-name"
            ]
        );
    }

    #[test]
    fn sockets_and_devices() {
        assert_eq!(
            codes(
                "a.b.C",
                &["--socket=x11", "--socket=wayland", "--device=input"]
            ),
            vec![
                "finish-args-contains-both-x11-and-wayland",
                "finish-args-no-required-flatpak",
                "finish-args-x11-without-ipc"
            ]
        );
        assert_eq!(
            codes(
                "a.b.C",
                &[
                    "--socket=fallback-x11",
                    "--share=ipc",
                    "--device=usb",
                    "--require-version=1.15.0"
                ]
            ),
            vec![
                "finish-args-fallback-x11-without-wayland",
                "finish-args-insufficient-required-flatpak"
            ]
        );
        assert!(version_at_least("1.16.0", &[1, 16, 0]));
        assert!(!version_at_least("1.9.9", &[1, 16, 0]));
    }

    #[test]
    fn special_filesystems() {
        assert_eq!(
            codes(
                "a.b.C",
                &[
                    "--filesystem=~:ro",
                    "--filesystem=host-etc",
                    "--filesystem=/var/lib/flatpak/app:ro"
                ]
            ),
            vec![
                "finish-args-flatpak-system-folder-app-ro-access",
                "finish-args-home-ro-filesystem-access",
                "finish-args-host-etc-filesystem-access",
            ]
        );
        assert_eq!(
            codes(
                "a.b.C",
                &[
                    "--filesystem=/run/media/me",
                    "--filesystem=/var/log",
                    "--filesystem=/usr/share"
                ]
            ),
            vec![
                "finish-args-absolute-run-media-path",
                "finish-args-host-var-access",
                "finish-args-reserved-usr",
            ]
        );
    }
}
