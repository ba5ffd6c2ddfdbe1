//! Where an IR item came from: a source index and a byte range.
//!
//! Plain data, no miette: the CLI turns an origin into a file name and a line and column
//! when it has the text at hand.

/// A position in one of the policy's sources (see [`crate::Policy::sources`]).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Origin {
    /// Index into [`crate::Policy::sources`].
    pub source: u32,
    /// First byte of the statement.
    pub start: u32,
    /// One past its last byte.
    pub end: u32,
}

impl Origin {
    /// An origin for items that no statement wrote (Flatpak's implicit defaults).
    pub const IMPLICIT: Origin = Origin {
        source: u32::MAX,
        start: 0,
        end: 0,
    };

    /// Whether this origin stands for an implicit default rather than a statement.
    pub fn is_implicit(&self) -> bool {
        self.source == u32::MAX
    }
}
