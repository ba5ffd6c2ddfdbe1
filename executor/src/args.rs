//! The command line, parsed by hand:
//!
//! ```text
//! portcullis-exec [--trust PATH]... [--runtime DIR] [--app DIR] [--extensions DIR] BLOB -- CMD [ARG...]
//! ```
//!
//! `--trust PATH` (repeatable) names a public-key file or a directory of `*.pub` keys: the
//! blob must then be signed by one of them (see [`crate::trust`]).
//!
//! `--runtime` is the tree mounted at `/usr` (`${RUNTIME}`, default the host's `/usr`),
//! `--app` the tree mounted at `/app` (`${APP}`; without it operations that use `${APP}`
//! are skipped), `--extensions` the directory of extension trees. The `--` before the
//! command is required, so a command can never be taken for an option.
//!
//! `--help` (`-h`) and `--version` (`-V`), given before the blob, ask for the usage or the
//! version instead of a launch.

/// What the executor was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    /// The blob file.
    pub blob: String,
    /// `--runtime DIR`.
    pub runtime: Option<String>,
    /// `--app DIR`.
    pub app: Option<String>,
    /// `--extensions DIR`.
    pub extensions: Option<String>,
    /// `--trust PATH`, in order.
    pub trust: Vec<String>,
    /// The command and its arguments.
    pub command: Vec<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// Launch a command in the sandbox.
    Run(Args),
    /// Print the usage and the options (`--help`).
    Help,
    /// Print the version (`--version`).
    Version,
}

/// The usage line printed on errors.
pub const USAGE: &str = "usage: portcullis-exec [--trust PATH]... [--runtime DIR] [--app DIR] [--extensions DIR] BLOB -- CMD [ARG...]";

/// The text of `--help`: the usage line, the options and the exit statuses.
pub const HELP: &str = "\
Applies a compiled portcullis policy blob and runs CMD inside the sandbox.

options:
  --runtime DIR     the tree mounted at /usr (default: the host's /usr)
  --app DIR         the tree mounted at /app (without it, /app operations are skipped)
  --extensions DIR  the directory of extension trees
  --trust PATH      a public-key file or a directory of *.pub keys: the blob must be
                    signed by one of them (repeatable); keys in /etc/portcullis/trusted.d
                    and in $PORTCULLIS_TRUST_DIR are trusted too, and make signatures
                    mandatory for every launch
  -h, --help        print this help and exit
  -V, --version     print the version and exit

exit status: the command's own; 125 when the sandbox could not be set up or the
command line is wrong; 126 when CMD could not be executed; 127 when it was not found.
";

/// The text of `--version`.
pub fn version() -> String {
    format!("portcullis-exec {}", env!("CARGO_PKG_VERSION"))
}

/// Parses the arguments after the program name.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Request, String> {
    let mut runtime = None;
    let mut app = None;
    let mut extensions = None;
    let mut trust = Vec::new();
    let mut blob = None;
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--runtime" => &mut runtime,
            "--app" => &mut app,
            "--extensions" => &mut extensions,
            "--trust" if blob.is_none() => {
                let path = args.next().ok_or("`--trust` needs a path")?;
                trust.push(path);
                continue;
            }
            "--" => break,
            "--help" | "-h" if blob.is_none() => return Ok(Request::Help),
            "--version" | "-V" if blob.is_none() => return Ok(Request::Version),
            _ if arg.starts_with('-') && blob.is_none() => {
                return Err(format!("unknown option `{arg}`"));
            }
            _ if blob.is_none() => {
                blob = Some(arg);
                continue;
            }
            _ => return Err(format!("unexpected `{arg}` (the command follows `--`)")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("`{arg}` needs a directory"))?;
        *slot = Some(value);
    }
    let blob = blob.ok_or("no blob given")?;
    let command: Vec<String> = args.collect();
    if command.is_empty() {
        return Err("no command given after `--`".to_string());
    }
    Ok(Request::Run(Args {
        blob,
        runtime,
        app,
        extensions,
        trust,
        command,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Args, String> {
        match parse(words.iter().map(|w| w.to_string()))? {
            Request::Run(args) => Ok(args),
            other => Err(format!("not a launch: {other:?}")),
        }
    }

    fn request(words: &[&str]) -> Result<Request, String> {
        parse(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn help_and_version_before_the_blob() {
        assert_eq!(request(&["--help"]), Ok(Request::Help));
        assert_eq!(request(&["-h"]), Ok(Request::Help));
        assert_eq!(request(&["--runtime", "/rt", "--help"]), Ok(Request::Help));
        assert_eq!(request(&["--version"]), Ok(Request::Version));
        assert_eq!(request(&["-V", "b", "--", "x"]), Ok(Request::Version));
        // After `--` they belong to the command.
        let args = parse_words(&["b.blob", "--", "ls", "--help"]).unwrap();
        assert_eq!(args.command, ["ls", "--help"]);
        // After the blob they are not options.
        assert!(request(&["b.blob", "--help"]).is_err());
        assert!(version().starts_with("portcullis-exec "));
        assert!(HELP.contains("--runtime DIR"));
    }

    #[test]
    fn options_blob_and_command() {
        let args = parse_words(&["--runtime", "/rt", "b.blob", "--", "sh", "-c", "--x"]).unwrap();
        assert_eq!(args.blob, "b.blob");
        assert_eq!(args.runtime.as_deref(), Some("/rt"));
        assert_eq!(args.app, None);
        assert_eq!(args.command, ["sh", "-c", "--x"]);
        let args = parse_words(&["--trust", "a.pub", "--trust", "/etc/k", "b", "--", "x"]).unwrap();
        assert_eq!(args.trust, ["a.pub", "/etc/k"]);
        assert!(parse_words(&["--trust"])
            .unwrap_err()
            .contains("needs a path"));
    }

    #[test]
    fn refuses_incomplete_lines() {
        assert!(parse_words(&["b.blob"]).unwrap_err().contains("no command"));
        assert!(parse_words(&["--", "true"])
            .unwrap_err()
            .contains("no blob"));
        assert!(parse_words(&["--bogus", "b", "--", "true"]).is_err());
        assert!(parse_words(&["b", "true"])
            .unwrap_err()
            .contains("follows `--`"));
        assert!(parse_words(&["b", "--app"])
            .unwrap_err()
            .contains("needs a directory"));
    }
}
