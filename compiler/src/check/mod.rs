//! The checker: validity of each value (Flatpak's parsers, reproduced in [`fs`] and
//! [`values`]), and the conflicts and redundancies of a whole document ([`conflicts`]).
//!
//! Per-statement validity is checked while lowering (one pass, one diagnostic per bad
//! value); document-wide findings run over the lowered [`crate::lower::Fact`]s afterwards.

pub mod conflicts;
pub mod fs;
pub mod strings;
pub mod suggest;
pub mod values;
