//! Snapshots of every stock policy's AppArmor profile and Landlock rules (with the ABI
//! report), as `emit --backend apparmor` and `emit --backend landlock --text` print them.

use portcullis_backends::landlock::text;

use super::{landlock_section, load, policies_dir, profile};

#[test]
fn stock_policy_profiles_and_landlock_rules() {
    insta::glob!("../../../policies", "**/*.policy", |path| {
        let (file, policy) = load(path);
        // Included fragments are named by path: keep the snapshots machine-independent.
        let root = format!("{}/", policies_dir().display());
        insta::assert_snapshot!("apparmor", profile(&file, &policy).replace(&root, ""));
        insta::assert_snapshot!(
            "landlock",
            text::render(policy.app_id(), &landlock_section(&policy))
        );
    });
}
