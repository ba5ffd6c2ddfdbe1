//! Turns a pest failure into a [`ParseError`] a person can act on.
//!
//! pest reports the furthest position it reached and the rules it tried there. That alone
//! would say "expected value_list". This module looks at the text around the position as
//! well — an unclosed quote, a block still open at the end of the file, a stray `}`, the
//! statement word just before — and says what is missing in the language's own words.

use crate::error::{ParseError, ParseErrorKind};
use crate::lexical::is_bare_char;
use crate::parser::Rule;
use crate::source::{SourceFile, Span};

/// Explains a pest error.
pub(crate) fn from_pest(file: &SourceFile, err: &pest::error::Error<Rule>) -> ParseError {
    let text: &str = &file.text;
    let pos = match err.location {
        pest::error::InputLocation::Pos(pos) => pos,
        pest::error::InputLocation::Span((start, _)) => start,
    }
    .min(text.len());
    let positives: Vec<Rule> = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let whole = scan(text);

    if let Some(start) = whole
        .unclosed_string
        .filter(|s| *s <= pos || same_line(text, *s, pos))
    {
        let end = line_end(text, start);
        return ParseError::new(
            file,
            ParseErrorKind::UnclosedString,
            Span::new(start, end),
            "this quoted string is not closed",
            "the string starts here and runs to the end of the line",
            "close it with `\"` on the same line; write a line break inside quotes as `\\n`",
        );
    }
    if let Some(brace) = whole.stray_close.filter(|b| *b <= pos) {
        return ParseError::new(
            file,
            ParseErrorKind::StrayBrace,
            Span::new(brace, brace + 1),
            "unexpected `}`",
            "no block is open here",
            "remove this `}`, or add the `{` of the block it should close",
        );
    }
    let rest_is_blank = text[pos..].chars().all(char::is_whitespace);
    if let Some(&(open, word_start)) = whole.open_blocks.last().filter(|_| rest_is_blank) {
        let word = word_at(text, word_start);
        let end = text.trim_end().len();
        return ParseError::new(
            file,
            ParseErrorKind::UnclosedBlock,
            Span::new(end, end),
            format!("expected `}}` to close the `{word}` block"),
            "the file ends here",
            format!("add `}}` after the last statement of the `{word}` block"),
        )
        .with_related(
            Span::new(word_start, open + 1),
            format!("the `{word}` block opens here"),
        );
    }

    let found = Span::new(pos, token_end(text, pos));
    let found_text = describe_found(text, found);
    let before = previous_token(text, pos);
    // The blocks open at `pos`, innermost last, and the statement being written there
    // (inside `limits { … }` the statement is the block's).
    let open_at = scan(&text[..pos]).open_blocks;
    let enclosing = open_at
        .last()
        .map(|(_, word_start)| word_at(text, *word_start));
    let statement = match (statement_word(text, pos), &enclosing) {
        (_, Some(block)) if ["limits", "network", "extension"].contains(&block.as_str()) => {
            block.clone()
        }
        (word, _) => word,
    };
    let has = |rule: Rule| positives.contains(&rule);

    if has(Rule::value_list) || has(Rule::filesystem_entry) || has(Rule::quoted) || has(Rule::bare)
    {
        let after = before.clone().unwrap_or_else(|| statement.clone());
        let help = if after == "except" {
            "write the paths to mask after `except`, for example \
             `filesystem home except ~/.ssh, ~/.gnupg`"
                .to_string()
        } else {
            example_help(&statement)
        };
        return ParseError::new(
            file,
            ParseErrorKind::MissingValue,
            found,
            format!("expected a value after `{after}`, found {found_text}"),
            "a value is missing here",
            help,
        );
    }
    if has(Rule::port_list) || has(Rule::port) {
        return ParseError::new(
            file,
            ParseErrorKind::MissingValue,
            found,
            format!("expected a port after `tcp`, found {found_text}"),
            "a port is missing here",
            "write a port such as `connect tcp 443`, a range such as `connect tcp 8000-8080`, or `connect none`",
        );
    }
    if has(Rule::tcp_kw) || has(Rule::none_kw) {
        let after = before.unwrap_or_else(|| "connect".to_string());
        return ParseError::new(
            file,
            ParseErrorKind::Unexpected,
            found,
            format!("expected `tcp` or `none` after `{after}`, found {found_text}"),
            "expected `tcp` or `none`",
            "network rules cover TCP ports (Landlock): write `connect tcp 443` or `bind none`",
        );
    }
    if has(Rule::requirement_level) {
        return ParseError::new(
            file,
            ParseErrorKind::Unexpected,
            found,
            format!("expected `required` or `best-effort`, found {found_text}"),
            "expected `required` or `best-effort`",
            "write for example `require landlock required` or `require scope-signal best-effort`",
        );
    }
    if has(Rule::open) && !has(Rule::close) {
        return ParseError::new(
            file,
            ParseErrorKind::Unexpected,
            found,
            format!("expected `{{` to open the `{statement}` block, found {found_text}"),
            "expected `{`",
            format!("write `{statement} ID {{`, the statements, then `}}`"),
        );
    }
    if let Some(word) = enclosing {
        return ParseError::new(
            file,
            ParseErrorKind::Unexpected,
            found,
            format!("unexpected {found_text} in the `{word}` block"),
            "not understood here",
            "write one statement per line or separate statements with `;`; separate the values \
             of a list with `,`; quote a value that holds spaces or punctuation",
        );
    }
    ParseError::new(
        file,
        ParseErrorKind::Unexpected,
        found,
        format!("unexpected {found_text}"),
        "not understood here",
        "write one statement per line or separate statements with `;`; separate the values \
         of a list with `,`; quote a value that holds spaces or punctuation",
    )
}

/// What a quick lexical pass finds: the first unclosed string or stray `}`, and the
/// blocks still open at the end (the position of each `{` and of its statement's word).
#[derive(Debug, Default)]
struct Scan {
    unclosed_string: Option<usize>,
    stray_close: Option<usize>,
    open_blocks: Vec<(usize, usize)>,
}

fn scan(text: &str) -> Scan {
    let mut out = Scan::default();
    let bytes = text.as_bytes();
    let mut statement_start = 0;
    let mut idx = 0;
    while idx < bytes.len() {
        let b = bytes[idx];
        match b {
            b'#' if idx == 0 || !is_bare_char(char::from(bytes[idx - 1])) => {
                idx = line_end(text, idx);
                continue;
            }
            b'"' => {
                let mut j = idx + 1;
                let mut closed = false;
                while j < bytes.len() && bytes[j] != b'\n' && bytes[j] != b'\r' {
                    if bytes[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if bytes[j] == b'"' {
                        closed = true;
                        break;
                    }
                    j += 1;
                }
                if !closed {
                    out.unclosed_string = Some(idx);
                    return out;
                }
                idx = j + 1;
                continue;
            }
            b'{' => {
                out.open_blocks.push((idx, statement_start));
                statement_start = skip_blank(text, idx + 1);
            }
            b'}' => {
                if out.open_blocks.pop().is_none() {
                    out.stray_close = Some(idx);
                    return out;
                }
                statement_start = skip_blank(text, idx + 1);
            }
            b'\n' | b';' => statement_start = skip_blank(text, idx + 1),
            _ => {}
        }
        idx += 1;
    }
    out
}

fn skip_blank(text: &str, from: usize) -> usize {
    let rest = &text[from.min(text.len())..];
    from + (rest.len() - rest.trim_start().len())
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(['\n', '\r'])
        .map_or(text.len(), |off| from + off)
}

fn same_line(text: &str, a: usize, b: usize) -> bool {
    let (lo, hi) = (a.min(b), a.max(b).min(text.len()));
    !text[lo..hi].contains('\n')
}

/// The bare word starting at `start` (or `…` when there is none).
fn word_at(text: &str, start: usize) -> String {
    let word: String = text[start.min(text.len())..]
        .chars()
        .take_while(|c| is_bare_char(*c))
        .collect();
    if word.is_empty() {
        "…".to_string()
    } else {
        word
    }
}

/// Where the token at `pos` ends: a bare word, a quoted string's opening, or one char.
fn token_end(text: &str, pos: usize) -> usize {
    let rest = &text[pos..];
    let word: usize = rest
        .chars()
        .take_while(|c| is_bare_char(*c))
        .map(char::len_utf8)
        .sum();
    if word > 0 {
        return pos + word;
    }
    match rest.chars().next() {
        Some('\n') | Some('\r') | None => pos,
        Some(c) => pos + c.len_utf8(),
    }
}

fn describe_found(text: &str, found: Span) -> String {
    if found.is_empty() {
        if found.start >= text.trim_end().len() {
            "the end of the file".to_string()
        } else {
            "the end of the line".to_string()
        }
    } else {
        format!("`{}`", &text[found.start..found.end])
    }
}

/// The token just before `pos` on the same line (or a `,` ending an earlier line): a bare
/// word or a punctuation mark.
fn previous_token(text: &str, pos: usize) -> Option<String> {
    let before = text[..pos].trim_end_matches([' ', '\t']);
    let last = before.chars().last()?;
    if last == '\n' || last == '\r' {
        return before.trim_end().ends_with(',').then(|| ",".to_string());
    }
    if !is_bare_char(last) {
        return Some(last.to_string());
    }
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_bare_char(*c))
        .last()
        .map_or(before.len(), |(i, _)| i);
    Some(before[start..].to_string())
}

/// The first word of the statement that `pos` is in.
fn statement_word(text: &str, pos: usize) -> String {
    // Walk back to the last separator; a line break after a `,` continues the statement.
    let mut end = pos;
    let start = loop {
        match text[..end].rfind(['\n', ';', '{', '}']) {
            Some(i) if text.as_bytes()[i] == b'\n' && text[..i].trim_end().ends_with(',') => {
                end = i
            }
            Some(i) => break i + 1,
            None => break 0,
        }
    };
    let start = skip_blank(text, start);
    if start >= pos {
        // `pos` is at the start of its statement: look at the previous line's statement.
        return previous_token(text, pos).unwrap_or_else(|| "…".to_string());
    }
    word_at(text, start)
}

/// "write, for example, `socket wayland`" for the statement being written.
fn example_help(statement: &str) -> String {
    let example = match statement {
        "app" => "app com.example.App {",
        "runtime" => "runtime org.freedesktop.Platform//24.08",
        "runtime-version" => "runtime-version 24.08",
        "sdk" => "sdk org.freedesktop.Sdk",
        "sdk-extensions" => "sdk-extensions org.freedesktop.Sdk.Extension.node20",
        "command" => "command my-app",
        "base" => "base org.electronjs.Electron2.BaseApp",
        "extension" => "extension org.freedesktop.Platform.ffmpeg-full { directory lib/ffmpeg }",
        "include" => "include \"fragments/audio.policy\"",
        "share" | "unshare" => "share network",
        "socket" | "nosocket" => "socket wayland",
        "device" | "nodevice" => "device dri",
        "allow" | "disallow" => "allow bluetooth",
        "filesystem" | "nofilesystem" => "filesystem xdg-download:ro",
        "persist" => "persist .mozilla",
        "env" => "env GTK_THEME=Adwaita",
        "unset-env" => "unset-env LD_PRELOAD",
        "add-policy" | "remove-policy" => "add-policy Tor.permissions=tor-browser",
        "usb" | "nousb" => "usb vnd:0fd9",
        "device-node" => "device-node /dev/ttyUSB0",
        "require" => "require landlock required",
        "limits" => "limits { memory 512M; processes 64 }",
        "network" => "network { connect tcp 443; bind none }",
        "option" => "option --require-version=1.0",
        w if w.ends_with("-name") => "talk-name org.freedesktop.Notifications",
        w if w.contains("dbus-") => "dbus-call org.freedesktop.Notifications=*",
        _ => return "give the statement a value; quote a value that holds spaces".to_string(),
    };
    format!("write, for example, `{example}`")
}
