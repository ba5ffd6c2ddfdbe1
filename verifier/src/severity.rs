//! Severity levels shared by lints, the risk model and the diff.

use std::fmt;

/// How bad a finding is, ordered `Info < Low < Medium < High < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; no risk by itself.
    Info,
    /// Untidy or ineffective.
    Low,
    /// Widens the sandbox in a way reviewers should see.
    Medium,
    /// Serious: secrets, input injection, broad devices; not a known escape on its own.
    High,
    /// A known way out of the sandbox.
    Critical,
}

impl Severity {
    /// Every level, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The word used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a level word (`--fail-on high`).
    pub fn from_name(word: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.name() == word)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
