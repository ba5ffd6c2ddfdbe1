//! The rendered diagnostics for the bad inputs under `tests/ui/`: each file must fail to
//! parse, and what a person sees (code, message, labels, help) is snapshotted.

use miette::{GraphicalReportHandler, GraphicalTheme};
use portcullis_syntax::{parse, SourceFile};

fn render(err: &portcullis_syntax::ParseError) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .render_report(&mut out, err)
        .expect("rendering into a String cannot fail");
    out
}

#[test]
fn parse_errors_render() {
    insta::glob!("ui/*.policy", |path| {
        let text = std::fs::read_to_string(path).expect("ui file is readable");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = SourceFile::new(name, text);
        match parse(&file) {
            Ok(doc) => panic!("{} should not parse, got {doc:#?}", path.display()),
            Err(err) => insta::assert_snapshot!(render(&err)),
        }
    });
}
