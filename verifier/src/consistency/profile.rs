//! An AppArmor profile re-read from its text: variables, file rules and network rules —
//! what the consistency checks need. Other rules (dbus, unix, signal, …) are skipped.

use std::collections::BTreeMap;

use super::aare;

/// One file rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRule {
    /// A `deny` rule.
    pub deny: bool,
    /// The path pattern, unquoted.
    pub pattern: String,
    /// The permission letters.
    pub perms: String,
}

/// One `network` rule: the words after `network`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkRule {
    /// A `deny` rule.
    pub deny: bool,
    /// Family (`inet`, `unix`, …), `None` for every family.
    pub family: Option<String>,
    /// Type or protocol (`stream`, `dgram`, `raw`, …), `None` for every type.
    pub kind: Option<String>,
}

/// What the checks need of a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// Variables and their values.
    pub vars: BTreeMap<String, Vec<String>>,
    /// File rules, in order.
    pub files: Vec<FileRule>,
    /// Network rules, in order.
    pub network: Vec<NetworkRule>,
}

/// Drops a `#` comment that is outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse_file(rule: &str, deny: bool) -> Option<FileRule> {
    let (pattern, rest) = if let Some(quoted) = rule.strip_prefix('"') {
        let end = quoted.find('"')?;
        (quoted[..end].to_string(), quoted[end + 1..].trim())
    } else {
        let (p, r) = rule.split_once(char::is_whitespace)?;
        (p.to_string(), r.trim())
    };
    Some(FileRule {
        deny,
        pattern,
        perms: rest.to_string(),
    })
}

/// Reads a profile's text.
pub fn parse(text: &str) -> Profile {
    let mut profile = Profile::default();
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if let Some(def) = line.strip_prefix("@{") {
            if let Some((name, values)) = def.split_once("}=") {
                profile.vars.insert(
                    name.to_string(),
                    values.split_whitespace().map(str::to_string).collect(),
                );
            }
            continue;
        }
        let Some(rule) = line.strip_suffix(',') else {
            continue;
        };
        let (deny, rule) = match rule.strip_prefix("deny ") {
            Some(r) => (true, r.trim()),
            None => (false, rule),
        };
        if let Some(words) = rule.strip_prefix("network") {
            let mut words = words.split_whitespace();
            profile.network.push(NetworkRule {
                deny,
                family: words.next().map(str::to_string),
                kind: words.next().map(str::to_string),
            });
        } else if rule.starts_with('/') || rule.starts_with('"') || rule.starts_with("@{") {
            if let Some(file) = parse_file(rule, deny) {
                profile.files.push(file);
            }
        }
    }
    profile
}

impl Profile {
    /// The access letters (`rwalkmx`) the profile allows on `path`: allow rules minus deny
    /// rules.
    pub fn allowed(&self, path: &str) -> String {
        let mut allowed: Vec<char> = Vec::new();
        let mut denied: Vec<char> = Vec::new();
        for rule in &self.files {
            if aare::matches(&rule.pattern, &self.vars, path) {
                let into = if rule.deny { &mut denied } else { &mut allowed };
                into.extend(rule.perms.chars().filter(|c| "rwalkmx".contains(*c)));
            }
        }
        let mut out: Vec<char> = allowed
            .into_iter()
            .filter(|c| !denied.contains(c))
            .collect();
        out.sort_unstable();
        out.dedup();
        out.into_iter().collect()
    }

    /// Whether the profile allows some inet or inet6 socket, and whether only streams.
    pub fn inet(&self) -> (bool, bool) {
        let inet: Vec<&NetworkRule> = self
            .network
            .iter()
            .filter(|r| {
                !r.deny && matches!(r.family.as_deref(), None | Some("inet") | Some("inet6"))
            })
            .collect();
        let only_streams = inet.iter().all(|r| r.kind.as_deref() == Some("stream"));
        (!inet.is_empty(), only_streams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
@{pc_home}=/home/*/ /root/  # homes
profile p {
  "@{pc_home}{,/**}" mrkix,  # home, read-only
  deny "@{pc_home}/.ssh{,/**}" mrwlkx,  # a mask
  "/tmp{,/**}" mrwlkix,
  network inet stream,  # tcp
  network unix,
  dbus (send) bus=session,
}
"#;

    #[test]
    fn rules_are_read_back_and_deny_wins() {
        let p = parse(TEXT);
        assert_eq!(p.files.len(), 3);
        assert_eq!(p.allowed("/home/u/doc"), "kmrx");
        assert_eq!(p.allowed("/home/u/.ssh/id"), "");
        assert_eq!(p.allowed("/tmp/x"), "klmrwx");
        assert_eq!(p.allowed("/etc/passwd"), "");
        assert_eq!(p.inet(), (true, true));
    }
}
