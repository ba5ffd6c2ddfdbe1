//! The checker: validity of each value (Flatpak's parsers, reproduced in [`fs`] and
//! [`values`]), and the conflicts and redundancies of a whole document ([`conflicts`]).
//!
//! Per-statement validity is checked while lowering (one pass, one diagnostic per bad
//! value); document-wide findings run over the lowered [`crate::lower::Fact`]s afterwards,
//! and [`beyond`] over the beyond-Flatpak layers once includes are merged.

pub mod beyond;
pub mod conflicts;
pub mod fs;
pub mod strings;
pub mod suggest;
pub mod values;
