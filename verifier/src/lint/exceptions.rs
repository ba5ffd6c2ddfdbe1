//! Lint exceptions: Flathub's `exceptions.json` and our policy-language form.
//!
//! Flathub's file maps an app id to codes with a reason. Three shapes are in use and all
//! are read: `{app: {code: reason}}`, the repository-keyed `{app: {"stable"|"beta"|"*":
//! {code: reason}}}` (every branch key counts), and the user-exceptions list
//! `{app: [code, …]}`. Our own form reads like a policy block:
//!
//! ```text
//! # why: the app browses projects anywhere in home
//! exceptions com.example.Editor {
//!     finish-args-home-filesystem-access "opens projects anywhere in home"
//!     portcullis-x11 "X11-only toolkit"
//! }
//! ```
//!
//! A code `*` excepts everything for that app, as in Flathub. An exception whose code the
//! input no longer triggers is *stale* and reported.

use std::fmt;

/// One exception, with where it was written (1-based line and column in the file).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exception {
    /// The app it applies to.
    pub app_id: String,
    /// The code it excepts (`*` for all).
    pub code: String,
    /// Why.
    pub reason: String,
    /// Line of the code in the exceptions file.
    pub line: usize,
    /// Column of the code in the exceptions file.
    pub column: usize,
}

/// Why an exceptions file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExceptionsError {
    /// Not valid JSON, or JSON of the wrong shape.
    #[error("exceptions file is not valid: {0}")]
    Json(String),
    /// The policy-language form has a syntax error.
    #[error("exceptions file, line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Every exception of a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exceptions {
    /// In file order.
    pub entries: Vec<Exception>,
}

impl Exceptions {
    /// Reads either form: JSON when the text starts with `{`, else the policy form.
    pub fn parse(text: &str) -> Result<Exceptions, ExceptionsError> {
        if text.trim_start().starts_with('{') {
            parse_json(text)
        } else {
            parse_policy(text)
        }
    }

    /// The exceptions of one app.
    pub fn for_app<'a>(&'a self, app_id: &'a str) -> impl Iterator<Item = &'a Exception> + 'a {
        self.entries.iter().filter(move |e| e.app_id == app_id)
    }

    /// The exception that covers `code` for `app_id`, if any.
    pub fn find(&self, app_id: &str, code: &str) -> Option<&Exception> {
        let mine = || self.entries.iter().filter(move |e| e.app_id == app_id);
        mine()
            .find(|e| e.code == code)
            .or_else(|| mine().find(|e| e.code == "*"))
    }

    /// Exceptions of `app_id` for codes this tool checks that are not in `active`.
    /// Codes of checks we do not run (appstream, modules, …) are never called stale.
    pub fn stale(&self, app_id: &str, active: &[&str]) -> Vec<&Exception> {
        self.entries
            .iter()
            .filter(|e| e.app_id == app_id)
            .filter(|e| e.code.starts_with("finish-args-") || e.code.starts_with("portcullis-"))
            .filter(|e| !active.contains(&e.code.as_str()))
            .collect()
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Finds the position of `"code"` after the first `"app"` key in the JSON text.
fn json_position(text: &str, app: &str, code: &str, from: &mut usize) -> (usize, usize) {
    let app_key = format!("\"{app}\"");
    let start = text.find(&app_key).unwrap_or(0);
    let start = start.max(*from);
    let quoted = format!("\"{code}\"");
    match text[start..].find(&quoted) {
        Some(at) => {
            *from = start + at + quoted.len();
            line_col(text, start + at + 1)
        }
        None => line_col(text, start),
    }
}

fn parse_json(text: &str) -> Result<Exceptions, ExceptionsError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ExceptionsError::Json(e.to_string()))?;
    let apps = value
        .as_object()
        .ok_or_else(|| ExceptionsError::Json("the top level must be an object".into()))?;
    let mut entries = Vec::new();
    for (app, body) in apps {
        let mut from = 0;
        let mut push = |code: &str, reason: &str| {
            let (line, column) = json_position(text, app, code, &mut from);
            entries.push(Exception {
                app_id: app.clone(),
                code: code.to_string(),
                reason: reason.to_string(),
                line,
                column,
            });
        };
        match body {
            serde_json::Value::Array(codes) => {
                for code in codes {
                    let code = code.as_str().ok_or_else(|| {
                        ExceptionsError::Json(format!("`{app}`: codes must be strings"))
                    })?;
                    push(code, "");
                }
            }
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match inner {
                        serde_json::Value::String(reason) => push(key, reason),
                        serde_json::Value::Object(codes) => {
                            for (code, reason) in codes {
                                push(code, reason.as_str().unwrap_or(""));
                            }
                        }
                        _ => {
                            return Err(ExceptionsError::Json(format!(
                                "`{app}`.`{key}` must be a reason or an object of codes"
                            )))
                        }
                    }
                }
            }
            _ => {
                return Err(ExceptionsError::Json(format!(
                    "`{app}` must map to an object or a list of codes"
                )))
            }
        }
    }
    Ok(Exceptions { entries })
}

fn parse_policy(text: &str) -> Result<Exceptions, ExceptionsError> {
    let mut entries = Vec::new();
    let mut current: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let indent = raw.len() - raw.trim_start().len();
        let body = raw.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let err = |message: &str| ExceptionsError::Syntax {
            line,
            message: message.to_string(),
        };
        match &current {
            None => {
                let rest = body
                    .strip_prefix("exceptions ")
                    .ok_or_else(|| err("expected `exceptions APP_ID {`"))?;
                let app = rest
                    .strip_suffix('{')
                    .map(str::trim)
                    .filter(|a| !a.is_empty() && !a.contains(char::is_whitespace))
                    .ok_or_else(|| err("expected `exceptions APP_ID {`"))?;
                current = Some(app.to_string());
            }
            Some(app) => {
                if body == "}" {
                    current = None;
                    continue;
                }
                let (code, reason) = match body.split_once(char::is_whitespace) {
                    Some((code, rest)) => (code, rest.trim()),
                    None => (body, ""),
                };
                let reason = reason
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .ok_or_else(|| err("expected `CODE \"reason\"`"))?;
                entries.push(Exception {
                    app_id: app.clone(),
                    code: code.to_string(),
                    reason: reason.to_string(),
                    line,
                    column: indent + 1,
                });
            }
        }
    }
    if current.is_some() {
        return Err(ExceptionsError::Syntax {
            line: text.lines().count(),
            message: "missing `}`".into(),
        });
    }
    Ok(Exceptions { entries })
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.app_id, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_flathub_shape() {
        let text = r#"{
  "a.b.C": {"stable": {"finish-args-home-filesystem-access": "predates"}},
  "d.e.F": {"finish-args-x11-without-ipc": "why"},
  "g.h.I": ["finish-args-has-socket-ssh-auth"]
}"#;
        let ex = Exceptions::parse(text).unwrap();
        assert_eq!(ex.entries.len(), 3);
        let home = ex
            .find("a.b.C", "finish-args-home-filesystem-access")
            .unwrap();
        assert_eq!((home.line, home.column), (2, 25));
        assert!(ex
            .find("g.h.I", "finish-args-has-socket-ssh-auth")
            .is_some());
        assert_eq!(ex.stale("d.e.F", &[]).len(), 1);
    }

    #[test]
    fn reads_the_policy_form() {
        let text =
            "# c\nexceptions a.b.C {\n    portcullis-x11 \"old toolkit\"\n    * \"all\"\n}\n";
        let ex = Exceptions::parse(text).unwrap();
        assert_eq!(ex.entries[0].reason, "old toolkit");
        assert_eq!((ex.entries[0].line, ex.entries[0].column), (3, 5));
        assert_eq!(
            ex.find("a.b.C", "anything").map(|e| e.code.as_str()),
            Some("*")
        );
        assert!(matches!(
            Exceptions::parse("exceptions a.b.C {\n x y\n}"),
            Err(ExceptionsError::Syntax { line: 2, .. })
        ));
        assert!(Exceptions::parse("exceptions a.b.C {\n").is_err());
    }
}
