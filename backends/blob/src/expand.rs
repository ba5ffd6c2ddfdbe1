//! Placeholder expansion in [`PathExpr`]s: `${NAME}` is replaced by what the caller's
//! lookup returns. The list of names and their meaning is in [`crate::mounts`]; the
//! executor supplies the values at launch.

use crate::mounts::PathExpr;

impl PathExpr {
    /// The text with every `${NAME}` replaced by `lookup(NAME)`. Fails with the first name
    /// the lookup has no value for. A `$` not followed by `{…}` is kept as it is.
    pub fn expand<F>(&self, mut lookup: F) -> Result<String, String>
    where
        F: FnMut(&str) -> Option<String>,
    {
        let mut out = String::with_capacity(self.0.len());
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + 2 + len];
            out.push_str(&rest[..start]);
            out.push_str(&lookup(name).ok_or_else(|| name.to_string())?);
            rest = &rest[start + 3 + len..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The placeholder names the text holds, in order.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            names.push(&rest[start + 2..start + 2 + len]);
            rest = &rest[start + 3 + len..];
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/u".into()),
            "APP_ID" => Some("org.x.Y".into()),
            _ => None,
        }
    }

    #[test]
    fn replaces_known_names_and_reports_the_first_unknown() {
        let p = PathExpr::new("${HOME}/.var/app/${APP_ID}");
        assert_eq!(p.expand(vars).unwrap(), "/home/u/.var/app/org.x.Y");
        assert_eq!(PathExpr::new("${APP}/bin").expand(vars), Err("APP".into()));
        assert_eq!(PathExpr::new("a$b${c").expand(vars).unwrap(), "a$b${c");
        assert_eq!(p.placeholders(), ["HOME", "APP_ID"]);
    }
}
