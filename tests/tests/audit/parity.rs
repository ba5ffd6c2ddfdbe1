//! Lint parity with flatpak-builder-lint, code by code, on every corpus record.

use std::collections::BTreeMap;

use portcullis_ir::Origin;
use portcullis_verifier::lint::{self, FinishArgs};

use super::corpus;

fn fblint_codes(app_id: &str, args: &[String]) -> Vec<String> {
    let view = FinishArgs::from_strings(Some(app_id), args, Origin::default());
    let mut codes: Vec<String> = lint::lint(&view)
        .into_iter()
        .filter(|f| f.fblint)
        .map(|f| f.code)
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

#[test]
fn finish_args_codes_match_the_oracle_on_every_record() {
    let (Some(records), Some(oracle)) = (corpus::records(), corpus::oracle("results.jsonl")) else {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    };
    let mut per_code: BTreeMap<String, Counts> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for record in &records {
        let Some(expected) = oracle.get(&("synth".to_string(), record.app_id.clone())) else {
            continue;
        };
        compared += 1;
        let ours = fblint_codes(&record.app_id, &record.finish_args);
        let mut union: Vec<&String> = ours.iter().chain(expected.iter()).collect();
        union.sort();
        union.dedup();
        for code in union {
            let c = per_code.entry(code.clone()).or_default();
            match (ours.contains(code), expected.contains(code)) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                _ => c.fn_ += 1,
            }
        }
        if &ours != expected {
            mismatches.push(format!(
                "{}: ours {ours:?}, fblint {expected:?}",
                record.app_id
            ));
        }
    }
    eprintln!("code: inputs (tp fp fn) precision recall");
    for (code, c) in &per_code {
        let precision = c.tp as f64 / (c.tp + c.fp).max(1) as f64;
        let recall = c.tp as f64 / (c.tp + c.fn_).max(1) as f64;
        eprintln!(
            "{code}: ({} {} {}) {precision:.2} {recall:.2}",
            c.tp, c.fp, c.fn_
        );
    }
    eprintln!(
        "compared {compared} records, {} mismatches",
        mismatches.len()
    );
    assert!(
        compared >= 300,
        "only {compared} records had an oracle entry"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// With Flathub's exceptions for the corpus apps (`tests/fixtures/flathub-exceptions-corpus.json`:
/// the app → code pairs of the linter's shipped `exceptions.json`, every branch key merged as
/// the linter does without a repository key), the codes left are the ones the linter leaves.
#[test]
fn exceptions_leave_what_the_linter_leaves() {
    let (Some(records), Some(oracle)) = (
        corpus::records(),
        corpus::oracle("results_with_exceptions.jsonl"),
    ) else {
        portcullis_tests::skip!("the shared corpus is not present");
        return;
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/flathub-exceptions-corpus.json"
    );
    let exceptions =
        lint::Exceptions::parse(&std::fs::read_to_string(path).expect("fixture")).expect("parses");
    let (mut mismatches, mut stale, mut suppressed) = (Vec::new(), 0, 0);
    for record in &records {
        let Some(expected) = oracle.get(&("synth".to_string(), record.app_id.clone())) else {
            continue;
        };
        let view =
            FinishArgs::from_strings(Some(&record.app_id), &record.finish_args, Origin::default());
        let mut findings: Vec<_> = lint::lint(&view).into_iter().filter(|f| f.fblint).collect();
        stale += lint::apply_exceptions(&mut findings, &record.app_id, &exceptions).len();
        suppressed += findings.iter().filter(|f| f.suppressed.is_some()).count();
        let mut left: Vec<String> = findings
            .into_iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| f.code)
            .collect();
        left.sort();
        left.dedup();
        if &left != expected {
            mismatches.push(format!(
                "{}: ours {left:?}, fblint {expected:?}",
                record.app_id
            ));
        }
    }
    eprintln!("exceptions: {suppressed} findings suppressed, {stale} stale exceptions reported");
    assert!(suppressed > 400, "{suppressed}");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
