//! portcullis-exec.
fn main() {}
