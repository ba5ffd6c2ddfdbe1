//! Validity of single values: env assignments, generic policies, USB queries, app ids,
//! persist paths and the portcullis extensions (limits, ports, device nodes).
//!
//! Each function follows the Flatpak rule it names and returns a message on failure; the
//! lowering turns that into a diagnostic on the value's span.

/// Splits `--env=NAME=VALUE` at the first `=` (E-7: no `=` or an empty name is an error).
pub fn split_env(raw: &str) -> Result<(&str, &str), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        Some(_) => Err(format!("invalid env format `{raw}`: the name is empty")),
        None => Err(format!("invalid env format `{raw}`: expected `NAME=VALUE`")),
    }
}

/// Whether a variable name is a conventional one (`[A-Za-z_][A-Za-z0-9_]*`). Flatpak does
/// not check this; shells cannot use other names.
pub fn is_portable_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Validates `--unset-env=NAME` (E-8: a `=` is an error).
pub fn check_unset_env(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the variable name is empty".into());
    }
    if name.contains('=') {
        return Err(format!(
            "`{name}` contains `=`; unset-env takes a name only"
        ));
    }
    Ok(())
}

/// Splits `SUBSYSTEM.KEY=VALUE` (`--add-policy`, §1.11, M-22).
pub fn split_policy(raw: &str) -> Result<(&str, &str), String> {
    let Some((key, value)) = raw.split_once('=') else {
        return Err(format!("`{raw}` is not of the form `SUBSYSTEM.KEY=VALUE`"));
    };
    if !key.contains('.') || key.starts_with('.') || key.ends_with('.') {
        return Err(format!("`{key}` is not of the form `SUBSYSTEM.KEY`"));
    }
    if value.starts_with('!') {
        return Err(format!("the value `{value}` can't start with `!`"));
    }
    Ok((key, value))
}

/// Validates a USB query (`flatpak-usb.c`, §1.13).
pub fn check_usb_query(query: &str) -> Result<(), String> {
    if query.is_empty() {
        return Err("the query is empty".into());
    }
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let (mut all, mut cls, mut vnd, mut dev) = (false, false, false, false);
    let rules: Vec<&str> = query.split('+').collect();
    for rule in &rules {
        let (kind, data) = match rule.split_once(':') {
            Some((k, d)) => (k, Some(d)),
            None => (*rule, None),
        };
        let seen = match kind {
            "all" if data.is_none() => &mut all,
            "cls" => match data.and_then(|d| d.split_once(':')) {
                Some((c, s)) if hex(c, 2) && (s == "*" || hex(s, 2)) => &mut cls,
                _ => {
                    return Err(format!(
                        "`{rule}`: expected `cls:CC:SS` or `cls:CC:*` in hex"
                    ))
                }
            },
            "vnd" if data.is_some_and(|d| hex(d, 4)) => &mut vnd,
            "dev" if data.is_some_and(|d| hex(d, 4)) => &mut dev,
            _ => {
                return Err(format!(
                    "`{rule}` is not a USB rule (all, cls:CC:SS, vnd:VVVV, dev:PPPP)"
                ))
            }
        };
        if *seen {
            return Err(format!("`{kind}` appears twice in one query"));
        }
        *seen = true;
    }
    if all && rules.len() > 1 {
        return Err("`all` cannot be combined with other rules".into());
    }
    if dev && !vnd {
        return Err("`dev` needs a `vnd` rule in the same query".into());
    }
    Ok(())
}

/// Validates an application or runtime id as Flatpak's `flatpak_is_valid_name` does: at
/// most 255 bytes, at least three elements, elements of `[A-Za-z0-9_-]` that do not start
/// with a digit, and `-` only in the last element.
pub fn check_app_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the id is empty".into());
    }
    if id.len() > 255 {
        return Err("the id is longer than 255 bytes".into());
    }
    let elements: Vec<&str> = id.split('.').collect();
    if elements.len() < 3 {
        return Err(format!(
            "`{id}` needs at least three elements (`org.example.App`)"
        ));
    }
    let last = elements.len() - 1;
    for (i, element) in elements.iter().enumerate() {
        let Some(first) = element.chars().next() else {
            return Err(format!("`{id}` has an empty element"));
        };
        if first.is_ascii_digit() {
            return Err(format!("the element `{element}` starts with a digit"));
        }
        if let Some(bad) = element
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(format!("`{bad}` is not allowed in an id"));
        }
        if i != last && element.contains('-') {
            return Err(format!(
                "`-` is only allowed in the last element, not in `{element}`"
            ));
        }
    }
    Ok(())
}

/// Directories under `/dev` that are never a single device node.
const DEV_DIRECTORIES: [&str; 18] = [
    "block",
    "bus",
    "bus/usb",
    "char",
    "cpu",
    "disk",
    "dri",
    "hugepages",
    "input",
    "mapper",
    "mqueue",
    "net",
    "pts",
    "serial",
    "shm",
    "snd",
    "v4l",
    "vfio",
];
/// Trees under `/dev` that hold no device of the host's: files of memory file systems
/// (`shm`, `mqueue`, `hugepages`), the sandbox's own terminals (`pts`), links into `/proc`
/// (`fd`).
const DEV_NOT_DEVICES: [&str; 5] = ["fd", "hugepages", "mqueue", "pts", "shm"];
/// Links under `/dev` into `/proc`, never a device.
const DEV_PROC_LINKS: [&str; 4] = ["core", "stderr", "stdin", "stdout"];

/// Whether a `device-node` path (already known to be under `/dev/`, without `..`) can
/// name a single character or block device: a directory of devices (`/dev/input`), a
/// memory file system (`/dev/shm`), the sandbox's own terminals (`/dev/pts`), a link into
/// `/proc` (`/dev/fd`, `/dev/stdin`, `/dev/core`) or a path with a placeholder (`$`) or a
/// trailing `/` certainly cannot. The executor also refuses, at launch, whatever else turns
/// out not to be a device.
pub fn check_device_node(path: &str) -> Result<(), String> {
    let rest = path.trim_start_matches("/dev/");
    if path.contains('$') {
        return Err(format!(
            "`{path}` holds `$`: device paths are taken literally"
        ));
    }
    if path.ends_with('/') {
        return Err(format!("`{path}` ends with `/`: it names a directory"));
    }
    if DEV_DIRECTORIES.contains(&rest) {
        return Err(format!("`{path}` is a directory, not a device node"));
    }
    let top = rest.split('/').next().unwrap_or(rest);
    if DEV_NOT_DEVICES.contains(&top) {
        return Err(format!(
            "`{path}` is not a device of the host (`/dev/{top}`)"
        ));
    }
    if DEV_PROC_LINKS.contains(&rest) {
        return Err(format!("`{path}` is a link into /proc, not a device node"));
    }
    Ok(())
}

/// Parses a size with an optional binary suffix (`512M`, `2G`, `4096`).
pub fn parse_size(text: &str) -> Option<u64> {
    let (digits, factor) = match text.char_indices().last()? {
        (i, 'K' | 'k') => (&text[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&text[..i], 1 << 20),
        (i, 'G' | 'g') => (&text[..i], 1 << 30),
        (i, 'T' | 't') => (&text[..i], 1 << 40),
        _ => (text, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

/// Parses a duration in seconds with an optional `s`/`m`/`h` suffix.
pub fn parse_seconds(text: &str) -> Option<u64> {
    let (digits, factor) = match text.char_indices().last()? {
        (i, 's') => (&text[..i], 1u64),
        (i, 'm') => (&text[..i], 60),
        (i, 'h') => (&text[..i], 3600),
        _ => (text, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_e7_e8() {
        assert!(split_env("NOEQUALS").is_err());
        assert!(split_env("=v").is_err());
        assert_eq!(split_env("A=b=c"), Ok(("A", "b=c")));
        assert_eq!(split_env("A="), Ok(("A", "")));
        assert!(check_unset_env("A=B").is_err());
    }

    #[test]
    fn policy_m22() {
        assert!(split_policy("foo=bar").is_err());
        assert!(split_policy("a.b=!x").is_err());
        assert_eq!(split_policy("a.b.c=x"), Ok(("a.b.c", "x")));
    }

    #[test]
    fn usb_e17_e18() {
        for ok in [
            "all",
            "cls:09:03",
            "cls:09:*",
            "vnd:0fd9",
            "vnd:0fd9+dev:0063",
            "vnd:0fd9+dev:0063+cls:09:*",
        ] {
            assert_eq!(check_usb_query(ok), Ok(()), "{ok}");
        }
        for bad in [
            "all:09",
            "cls:0009:0003",
            "cls:*:03",
            "cls:*:*",
            "cls:*",
            "cls",
            "dev:00",
            "dev:*",
            "dev",
            "vnd:00",
            "vnd:*",
            "vnd",
            "",
            "dev:0063",
            "all+dev:0063",
        ] {
            assert!(check_usb_query(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn device_nodes() {
        for ok in [
            "/dev/ttyUSB0",
            "/dev/kvm",
            "/dev/input/event3",
            "/dev/dri/renderD128",
        ] {
            assert_eq!(check_device_node(ok), Ok(()), "{ok}");
        }
        for bad in [
            "/dev/shm",
            "/dev/shm/x",
            "/dev/pts",
            "/dev/pts/0",
            "/dev/input",
            "/dev/bus/usb",
            "/dev/fd/3",
            "/dev/stdin",
            "/dev/core",
            "/dev/mqueue/q",
            "/dev/ttyUSB0/",
            "/dev/${X}",
        ] {
            assert!(check_device_node(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn app_ids_and_sizes() {
        assert!(check_app_id("org.example.App").is_ok());
        assert!(check_app_id("org.example").is_err());
        assert!(check_app_id("org.1x.App").is_err());
        assert!(check_app_id("org.my-co.App").is_err());
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_seconds("2m"), Some(120));
        assert_eq!(parse_size("x"), None);
    }
}
