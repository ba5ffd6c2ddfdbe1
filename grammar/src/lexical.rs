//! Lexical rules shared by the parser and the printer: what a bare word may contain,
//! how quoted strings are escaped and unescaped, and the statement keywords.
//!
//! The printer writes a value bare exactly when the grammar's `bare` rule would read it
//! back whole; otherwise it quotes it. Both sides use [`is_bare_char`], so the two cannot
//! drift apart.

/// Whether `c` may appear in a bare word (the grammar's `bare_char`).
pub fn is_bare_char(c: char) -> bool {
    !(c == ' '
        || c == '\t'
        || c <= '\u{1f}'
        || c == '\u{7f}'
        || c == '"'
        || c == ','
        || c == ';'
        || c == '{'
        || c == '}')
}

/// Whether `value` can be written without quotes and read back unchanged.
pub fn is_bare_safe(value: &str) -> bool {
    !value.is_empty() && !value.starts_with('#') && value.chars().all(is_bare_char)
}

/// `value` as the language writes it: bare when that is safe, quoted otherwise.
pub fn render_value(value: &str) -> String {
    if is_bare_safe(value) {
        value.to_string()
    } else {
        quote(value)
    }
}

/// `value` as a quoted string, escaping `\`, `"` and control characters.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c <= '\u{1f}' || c == '\u{7f}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An escape in a quoted string that the language does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEscape {
    /// Byte offset of the backslash within the quoted text (after the opening quote).
    pub offset: usize,
    /// Byte length of the bad escape.
    pub len: usize,
}

/// The text between the quotes of a quoted string, with its escapes resolved.
pub fn unquote(inner: &str) -> Result<String, BadEscape> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((idx, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, esc)) = chars.next() else {
            return Err(BadEscape {
                offset: idx,
                len: 1,
            });
        };
        match esc {
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'u' => {
                let rest = &inner[idx + 2..];
                let decoded = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .filter(|(hex, _)| !hex.is_empty() && hex.len() <= 6)
                    .and_then(|(hex, _)| u32::from_str_radix(hex, 16).ok().map(|n| (hex, n)))
                    .and_then(|(hex, n)| char::from_u32(n).map(|ch| (hex, ch)));
                match decoded {
                    Some((hex, ch)) => {
                        out.push(ch);
                        // Skip `{`, the digits and `}`.
                        for _ in 0..hex.len() + 2 {
                            chars.next();
                        }
                    }
                    None => {
                        let len = rest
                            .find('}')
                            .map_or(2, |end| end + 3)
                            .min(inner.len() - idx);
                        return Err(BadEscape { offset: idx, len });
                    }
                }
            }
            other => {
                return Err(BadEscape {
                    offset: idx,
                    len: 1 + other.len_utf8(),
                })
            }
        }
    }
    Ok(out)
}

/// Every word that begins a statement, in the order the reference lists them.
pub const STATEMENT_KEYWORDS: &[&str] = &[
    "app",
    "runtime",
    "fragment",
    "runtime-version",
    "sdk",
    "sdk-extensions",
    "command",
    "base",
    "extension",
    "include",
    "share",
    "unshare",
    "socket",
    "nosocket",
    "device",
    "nodevice",
    "allow",
    "disallow",
    "filesystem",
    "nofilesystem",
    "persist",
    "env",
    "unset-env",
    "talk-name",
    "own-name",
    "see-name",
    "no-talk-name",
    "system-talk-name",
    "system-own-name",
    "system-see-name",
    "system-no-talk-name",
    "a11y-talk-name",
    "a11y-own-name",
    "a11y-see-name",
    "a11y-no-talk-name",
    "add-policy",
    "remove-policy",
    "usb",
    "nousb",
    "network",
    "limits",
    "device-node",
    "dbus-call",
    "dbus-broadcast",
    "system-dbus-call",
    "system-dbus-broadcast",
    "a11y-dbus-call",
    "a11y-dbus-broadcast",
    "require",
    "option",
    "unknown",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_then_unquote_is_identity() {
        for s in [
            "",
            "a b",
            "x\"y",
            "back\\slash",
            "nl\nx",
            "\u{1}",
            "é ü",
            "a\\:b",
        ] {
            let q = quote(s);
            assert_eq!(unquote(&q[1..q.len() - 1]).as_deref(), Ok(s));
        }
    }

    #[test]
    fn bare_safety() {
        assert!(is_bare_safe("xdg-download/Bar:create"));
        assert!(is_bare_safe("/srv/obs/debian\\:sid"));
        assert!(is_bare_safe("a#b"));
        assert!(!is_bare_safe("#a"));
        assert!(!is_bare_safe("a b"));
        assert!(!is_bare_safe("a,b"));
        assert!(!is_bare_safe(""));
        assert!(!is_bare_safe("QT_QPA_PLATFORM=wayland;xcb"));
    }

    #[test]
    fn unicode_escape() {
        assert_eq!(unquote("\\u{e9}x").as_deref(), Ok("éx"));
        assert_eq!(unquote("a\\u{zz}"), Err(BadEscape { offset: 1, len: 6 }));
        assert_eq!(unquote("a\\q"), Err(BadEscape { offset: 1, len: 2 }));
    }
}
