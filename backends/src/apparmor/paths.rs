//! Plan paths as AppArmor path patterns: literal text escaped, launch-time placeholders
//! turned into the profile's tunable variables (defined at the top of every profile, so an
//! integrator can narrow them to the host's layout).

/// The tunables every profile defines: name, value, and what it stands for.
pub const TUNABLES: &[(&str, &str, &str)] = &[
    ("pc_home", "/home/*/ /root/", "home directories"),
    ("pc_uid", "[0-9]*", "the user's numeric id"),
    (
        "pc_xdg_data_home",
        "@{pc_home}/.local/share",
        "$XDG_DATA_HOME",
    ),
    (
        "pc_xdg_config_home",
        "@{pc_home}/.config",
        "$XDG_CONFIG_HOME",
    ),
    ("pc_xdg_cache_home", "@{pc_home}/.cache", "$XDG_CACHE_HOME"),
    (
        "pc_xdg_desktop",
        "@{pc_home}/Desktop",
        "the desktop user dir",
    ),
    (
        "pc_xdg_documents",
        "@{pc_home}/Documents",
        "the documents user dir",
    ),
    (
        "pc_xdg_download",
        "@{pc_home}/Downloads",
        "the download user dir",
    ),
    ("pc_xdg_music", "@{pc_home}/Music", "the music user dir"),
    (
        "pc_xdg_pictures",
        "@{pc_home}/Pictures",
        "the pictures user dir",
    ),
    (
        "pc_xdg_publicshare",
        "@{pc_home}/Public",
        "the public-share user dir",
    ),
    (
        "pc_xdg_templates",
        "@{pc_home}/Templates",
        "the templates user dir",
    ),
    ("pc_xdg_videos", "@{pc_home}/Videos", "the videos user dir"),
];

/// The pattern text a placeholder stands for in a sandbox path, or `None` when the
/// placeholder cannot appear in a profile (host-only values).
fn placeholder(name: &str, app_id: &str) -> Option<String> {
    Some(match name {
        "HOME" => "@{pc_home}".into(),
        "UID" => "@{pc_uid}".into(),
        "GID" => "[0-9]*".into(),
        "USER" => "*".into(),
        "APP_ID" => escape(app_id),
        "XDG_RUNTIME_DIR" => "/run/user/@{pc_uid}".into(),
        "XDG_DATA_HOME" => "@{pc_xdg_data_home}".into(),
        "XDG_CONFIG_HOME" => "@{pc_xdg_config_home}".into(),
        "XDG_CACHE_HOME" => "@{pc_xdg_cache_home}".into(),
        "XDG_DESKTOP_DIR" => "@{pc_xdg_desktop}".into(),
        "XDG_DOCUMENTS_DIR" => "@{pc_xdg_documents}".into(),
        "XDG_DOWNLOAD_DIR" => "@{pc_xdg_download}".into(),
        "XDG_MUSIC_DIR" => "@{pc_xdg_music}".into(),
        "XDG_PICTURES_DIR" => "@{pc_xdg_pictures}".into(),
        "XDG_PUBLICSHARE_DIR" => "@{pc_xdg_publicshare}".into(),
        "XDG_TEMPLATES_DIR" => "@{pc_xdg_templates}".into(),
        "XDG_VIDEOS_DIR" => "@{pc_xdg_videos}".into(),
        "WAYLAND_NAME" => "wayland-*".into(),
        "WAYLAND_SOCKET" => "/run/user/@{pc_uid}/wayland-*".into(),
        "X11_SOCKET" => "/tmp/.X11-unix/X[0-9]*".into(),
        "PULSE_SOCKET" => "/run/user/@{pc_uid}/pulse/native".into(),
        "PCSC_SOCKET" => "/run/pcscd/pcscd.comm".into(),
        "CUPS_SOCKET" => "/run/cups/cups.sock".into(),
        "GPG_AGENT_SOCKET" => "/run/user/@{pc_uid}/gnupg/S.gpg-agent".into(),
        _ => return None,
    })
}

/// Escapes literal text for a quoted AppArmor path pattern.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '*' | '?' | '[' | ']' | '{' | '}' | '^' | '"' | '\\' | '@' | ','
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A plan path (placeholders unexpanded) as a pattern; `None` when it holds a placeholder
/// that has no meaning in a profile or a character a profile cannot carry.
pub fn pattern(path: &str, app_id: &str) -> Option<String> {
    if path.chars().any(|c| c.is_control()) {
        return None;
    }
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find("${") {
        out.push_str(&escape(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        out.push_str(&placeholder(&after[..end], app_id)?);
        rest = &after[end + 1..];
    }
    out.push_str(&escape(rest));
    Some(out)
}

/// The path and everything beneath it.
pub fn tree(pattern: &str) -> String {
    if pattern == "/" {
        "/**".to_string()
    } else {
        format!("{}{{,/**}}", pattern.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_tunables_and_literals_are_escaped() {
        assert_eq!(pattern("${HOME}/.ssh", "a.b").unwrap(), "@{pc_home}/.ssh");
        assert_eq!(
            pattern("${HOME}/.var/app/${APP_ID}", "org.x.Y").unwrap(),
            "@{pc_home}/.var/app/org.x.Y"
        );
        assert_eq!(pattern("/srv/a{b}*", "a.b").unwrap(), "/srv/a\\{b\\}\\*");
        assert_eq!(
            pattern("/run/user/${UID}", "a.b").unwrap(),
            "/run/user/@{pc_uid}"
        );
        assert_eq!(pattern("${RUNTIME}", "a.b"), None, "host-only placeholder");
        assert_eq!(pattern("/a\nb", "a.b"), None);
        assert_eq!(tree("/usr"), "/usr{,/**}");
        assert_eq!(tree("/"), "/**");
    }
}
