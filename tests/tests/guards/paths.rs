//! A granted path that cannot exist once placeholders are expanded (longer than
//! `PATH_MAX` after `${HOME}` is put in front, which `check` cannot know) is skipped at
//! launch like any other missing path, instead of aborting the launch with
//! `ENAMETOOLONG`, as root and as uid 65534.

use portcullis_ir::context::FsEntry;
use portcullis_ir::fs::{FsKey, FsMode};

use crate::executor::{blob_with, default_policy, As, Stage};

#[test]
fn a_home_path_too_long_once_expanded_is_skipped_like_a_missing_one() {
    let Some(stage) = Stage::new() else {
        return;
    };
    // 4093 bytes as written: within what `check` accepts, too long under any home.
    let long = ["d"; 2047].join("/");
    assert_eq!(long.len(), 4093);
    for (name, path) in [("long", long), ("short", "missing/dir".to_string())] {
        let mut policy = default_policy("org.test.LongPath");
        policy.context.filesystems.insert(
            FsKey::HomePath(path),
            FsEntry {
                mode: FsMode::Ro,
                origin: Default::default(),
            },
        );
        let blob = stage.write_blob(
            &format!("{name}.blob"),
            &blob_with(&policy, vec![]).encode(),
        );
        for who in [As::Caller, As::Nobody] {
            let out = stage.run(who, &[blob.to_str().unwrap(), "--", "/bin/true"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} {who:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
