//! Fuzzing the parser: no text makes it panic; an error always points inside the text
//! and renders; text that parses prints to text that parses to the same document.

use miette::{GraphicalReportHandler, GraphicalTheme};
use portcullis_syntax::lexical::STATEMENT_KEYWORDS;
use portcullis_syntax::{parse, print, SourceFile};
use proptest::prelude::*;

/// Text assembled from the language's own pieces, so that the parser gets deep.
fn policy_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(STATEMENT_KEYWORDS).prop_map(str::to_string),
        2 => proptest::sample::select(&[
            "{", "}", ";", ",", "\n", "\r\n", " ", "\t", "#", "# c\n", "\"", "\"q r\"", "\\",
            "except", "tcp", "none", "required", "best-effort", "connect", "443", "1-2",
            "x11", "home:ro", "~/.ssh", "\"\\u{41}\"", "\"\\q\"", "70000", "com.foo.Bar",
        ][..]).prop_map(str::to_string),
        1 => "[ -~]{1,6}",
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|parts| parts.join(" "))
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let file = SourceFile::new("fuzz.policy", text);
    match parse(&file) {
        Ok(doc) => {
            let printed = print(&doc);
            let back = parse(&SourceFile::new("printed.policy", printed.as_str()));
            prop_assert!(back.is_ok(), "printed text does not parse:\n{}", printed);
            if let Ok(back) = back {
                prop_assert_eq!(print(&back), printed);
            }
        }
        Err(err) => {
            prop_assert!(err.span.start <= err.span.end && err.span.end <= text.len());
            prop_assert!(
                text.is_char_boundary(err.span.start) && text.is_char_boundary(err.span.end)
            );
            let mut out = String::new();
            prop_assert!(
                GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
                    .render_report(&mut out, &err)
                    .is_ok()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn policy_like_text_never_panics(text in policy_like()) {
        check(&text)?;
    }
}
