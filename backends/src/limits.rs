//! The limits backend: the policy's resource limits as the blob's limits section.
//!
//! A policy whose limits layer is off gets an empty section; otherwise every limit it
//! states is carried with the layer's requirement level (see `executor/src/limits.rs` for
//! how each is enforced).

use portcullis_blob::landlock::Requirement;
use portcullis_blob::limits::LimitsSection;
use portcullis_ir::beyond::Level;
use portcullis_ir::Policy;

/// The limits section of `policy`.
pub fn section(policy: &Policy) -> LimitsSection {
    let limits = &policy.beyond.limits;
    let level = match policy.beyond.requirements.limits {
        Level::Off => return LimitsSection::default(),
        Level::BestEffort => Requirement::BestEffort,
        Level::Required => Requirement::Required,
    };
    LimitsSection {
        level,
        memory: limits.memory.map(|l| l.value),
        processes: limits.processes.map(|l| l.value),
        open_files: limits.open_files.map(|l| l.value),
        cpu_time: limits.cpu_time.map(|l| l.value),
        cpu_share: limits.cpu_share.map(|l| l.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_ir::beyond::Limit;

    #[test]
    fn limits_follow_the_policy_and_its_level() {
        let mut policy = Policy::default();
        assert!(section(&policy).is_empty());
        policy.beyond.limits.memory = Some(Limit {
            value: 256 << 20,
            origin: Default::default(),
        });
        policy.beyond.limits.processes = Some(Limit {
            value: 64,
            origin: Default::default(),
        });
        let s = section(&policy);
        assert_eq!(
            (s.memory, s.processes, s.level),
            (Some(256 << 20), Some(64), Requirement::Required)
        );
        policy.beyond.requirements.limits = Level::Off;
        assert!(section(&policy).is_empty());
    }
}
