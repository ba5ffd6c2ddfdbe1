//! GKeyFile's string escaping, shared by every writer of Flatpak keyfiles (the metadata
//! exporter and the sandbox's `/.flatpak-info`).

/// A value escaped as GKeyFile writes strings (`\\`, `\n`, `\t`, `\r`, a leading `\s`), so
/// that no value can add lines or groups to the file.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' ' if i == 0 => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_value;

    #[test]
    fn no_value_adds_a_line() {
        assert_eq!(escape_value(" a\\b\nc\td\r"), "\\sa\\\\b\\nc\\td\\r");
        assert_eq!(escape_value("a b"), "a b");
    }
}
