//! The policy blob format.
