//! The shared corpus and the flatpak-builder-lint oracle, read once per test.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// `../shared` next to the work tree, or `PORTCULLIS_SHARED`.
pub fn shared() -> PathBuf {
    std::env::var_os("PORTCULLIS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// One corpus record (`apps.jsonl`).
pub struct Record {
    pub app_id: String,
    pub finish_args: Vec<String>,
}

/// Every record of `apps.jsonl`, or `None` when the corpus is not present.
pub fn records() -> Option<Vec<Record>> {
    let text = std::fs::read_to_string(shared().join("corpus/flathub/apps.jsonl")).ok()?;
    Some(
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("apps.jsonl line");
                Record {
                    app_id: v["app_id"].as_str().expect("app_id").to_string(),
                    finish_args: v["finish_args"]
                        .as_array()
                        .expect("finish_args")
                        .iter()
                        .map(|a| a.as_str().expect("string").to_string())
                        .collect(),
                }
            })
            .collect(),
    )
}

/// The oracle's `finish-args-*` codes per input, keyed by (source, input).
pub fn oracle(file: &str) -> Option<BTreeMap<(String, String), Vec<String>>> {
    let text = std::fs::read_to_string(shared().join("oracle/fblint").join(file)).ok()?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("oracle line");
        let mut codes: Vec<String> = v["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|c| c.as_str())
            .filter(|c| c.starts_with("finish-args-"))
            .map(str::to_string)
            .collect();
        codes.sort();
        out.insert(
            (
                v["source"].as_str().expect("source").to_string(),
                v["input"].as_str().expect("input").to_string(),
            ),
            codes,
        );
    }
    Some(out)
}
