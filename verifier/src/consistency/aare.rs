//! AppArmor path patterns (AARE), re-read: variables, `{a,b}` alternation, `*`, `**`, `?`,
//! `[...]` classes and `\` escapes, matched against concrete paths. Written from the
//! apparmor.d(5) description; only what a profile's file rules use.

use std::collections::BTreeMap;

/// Expands variables and alternations into plain glob patterns (`*`, `**`, `?`, `[...]`
/// and escapes left), with repeated slashes collapsed as AppArmor does.
pub fn alternatives(pattern: &str, vars: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    expand(pattern, vars, 0, &mut out);
    out.iter().map(|p| collapse_slashes(p)).collect()
}

fn collapse_slashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '/' && out.ends_with('/') && !out.ends_with("\\/") {
            continue;
        }
        out.push(c);
    }
    out
}

/// The index of the `}` that closes the `{` at `open`, and the top-level commas.
fn group(chars: &[char], open: usize) -> Option<(usize, Vec<usize>)> {
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, commas));
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn expand(
    pattern: &str,
    vars: &BTreeMap<String, Vec<String>>,
    depth: usize,
    out: &mut Vec<String>,
) {
    if depth > 16 {
        return;
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '@' if chars.get(i + 1) == Some(&'{') => {
                let Some(end) = chars[i..].iter().position(|&c| c == '}').map(|p| p + i) else {
                    return;
                };
                let name: String = chars[i + 2..end].iter().collect();
                let head: String = chars[..i].iter().collect();
                let tail: String = chars[end + 1..].iter().collect();
                for value in vars.get(&name).into_iter().flatten() {
                    expand(&format!("{head}{value}{tail}"), vars, depth + 1, out);
                }
                return;
            }
            '{' => {
                let Some((close, commas)) = group(&chars, i) else {
                    return;
                };
                let head: String = chars[..i].iter().collect();
                let tail: String = chars[close + 1..].iter().collect();
                let mut bounds = vec![i];
                bounds.extend(commas);
                bounds.push(close);
                for pair in bounds.windows(2) {
                    let alt: String = chars[pair[0] + 1..pair[1]].iter().collect();
                    expand(&format!("{head}{alt}{tail}"), vars, depth + 1, out);
                }
                return;
            }
            _ => i += 1,
        }
    }
    out.push(pattern.to_string());
}

/// Whether a plain glob (no variables or alternations) matches `path`.
pub fn glob_matches(glob: &str, path: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let p: Vec<char> = path.chars().collect();
    matches_at(&g, &p)
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negate, body) = match class.first() {
        Some('^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut i = 0;
    let mut hit = false;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    hit != negate && c != '/'
}

fn matches_at(g: &[char], p: &[char]) -> bool {
    match g.first() {
        None => p.is_empty(),
        Some('*') if g.get(1) == Some(&'*') => {
            (0..=p.len()).any(|skip| matches_at(&g[2..], &p[skip..]))
        }
        Some('*') => {
            let limit = p.iter().position(|&c| c == '/').unwrap_or(p.len());
            (0..=limit).any(|skip| matches_at(&g[1..], &p[skip..]))
        }
        Some('?') => p.first().is_some_and(|&c| c != '/') && matches_at(&g[1..], &p[1..]),
        Some('[') => {
            let Some(end) = g.iter().position(|&c| c == ']') else {
                return false;
            };
            p.first().is_some_and(|&c| class_matches(&g[1..end], c))
                && matches_at(&g[end + 1..], &p[1..])
        }
        Some('\\') => {
            g.get(1).is_some_and(|c| p.first() == Some(c)) && matches_at(&g[2..], &p[1..])
        }
        Some(c) => p.first() == Some(c) && matches_at(&g[1..], &p[1..]),
    }
}

/// Whether an AppArmor pattern matches `path`.
pub fn matches(pattern: &str, vars: &BTreeMap<String, Vec<String>>, path: &str) -> bool {
    alternatives(pattern, vars)
        .iter()
        .any(|g| glob_matches(g, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_apparmor_reads_them() {
        let mut vars = BTreeMap::new();
        vars.insert(
            "home".to_string(),
            vec!["/home/*/".to_string(), "/root/".to_string()],
        );
        let m = |pat: &str, path: &str| matches(pat, &vars, path);
        assert!(m("@{home}/.ssh{,/**}", "/home/u/.ssh"));
        assert!(m("@{home}/.ssh{,/**}", "/home/u/.ssh/id_rsa"));
        assert!(m("@{home}/.ssh{,/**}", "/root/.ssh/a/b"));
        assert!(!m("@{home}/.ssh{,/**}", "/home/u/.sshx"));
        assert!(!m("/usr/*", "/usr/lib/x"));
        assert!(m("/usr/**", "/usr/lib/x"));
        assert!(m("/run/user/[0-9]*/bus", "/run/user/1000/bus"));
        assert!(!m("/run/user/[0-9]*/bus", "/run/user/x/bus"));
        assert!(m("/srv/a\\{b\\}", "/srv/a{b}"));
        assert!(m("/{,**/}", "/"));
        assert!(m("/{,**/}", "/etc/"));
        assert!(!m("/{,**/}", "/etc/passwd"));
    }
}
