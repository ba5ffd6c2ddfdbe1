//! One policy for tests that need something the machine may lack (a tool, a kernel
//! feature, the shared corpus or oracle): outside CI such a test prints why and returns;
//! in CI (`PORTCULLIS_E2E=1`, which `scripts/test.sh` sets when `CI` is set) it fails with
//! the reason, so that no test passes there by skipping.

/// The variable that makes a missing requirement a failure.
pub const STRICT_VARIABLE: &str = "PORTCULLIS_E2E";

/// Whether missing requirements fail (CI) rather than skip.
pub fn strict() -> bool {
    std::env::var_os(STRICT_VARIABLE).is_some_and(|v| v != "0" && !v.is_empty())
}

/// Reports that a requirement is missing: a failure in strict mode, a printed skip
/// otherwise (the caller then returns).
pub fn unavailable(reason: impl std::fmt::Display) {
    if strict() {
        panic!("required in CI ({STRICT_VARIABLE}=1) but unavailable: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// `skip!("why {}", x)`: [`unavailable`] with a formatted reason.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)*) => {
        $crate::skip::unavailable(format!($($arg)*))
    };
}
