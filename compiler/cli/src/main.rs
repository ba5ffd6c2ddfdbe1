//! The portcullis CLI.
fn main() {}
