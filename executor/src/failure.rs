//! Why a launch did not happen: the failed step and the cause, mapped to the exit codes
//! of the command-line contract (125 setup, 126 not executable, 127 not found).

use std::fmt;

/// A failed launch.
#[derive(Debug)]
pub struct Failure {
    /// The step that failed, as named in `steps.rs`.
    pub step: &'static str,
    /// What went wrong.
    pub message: String,
    /// The exit code to report.
    pub code: i32,
}

/// The sandbox could not be set up.
pub const SETUP: i32 = 125;
/// The command exists but could not be executed.
pub const NOT_EXECUTABLE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

impl Failure {
    /// A setup failure in `step`.
    pub fn setup(step: &'static str, message: impl fmt::Display) -> Failure {
        Failure {
            step,
            message: message.to_string(),
            code: SETUP,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step, self.message)
    }
}

/// Attaches a step name to any error.
pub trait Context<T> {
    /// On error, a setup [`Failure`] in `step`.
    fn step(self, step: &'static str) -> Result<T, Failure>;
    /// On error, a setup [`Failure`] in `step` with `what` before the cause.
    fn step_on(self, step: &'static str, what: &str) -> Result<T, Failure>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn step(self, step: &'static str) -> Result<T, Failure> {
        self.map_err(|e| Failure::setup(step, e))
    }
    fn step_on(self, step: &'static str, what: &str) -> Result<T, Failure> {
        self.map_err(|e| Failure::setup(step, format!("`{what}`: {e}")))
    }
}
