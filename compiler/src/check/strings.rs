//! Checks on the raw strings of any statement, for what no later stage can carry: a NUL
//! byte (paths, arguments and environment variables end at the first one, and the blob
//! refuses it) and paths that can never exist (longer than `PATH_MAX`, or with a
//! component longer than `NAME_MAX`; the executor aborts on them where it skips other
//! missing paths).

use portcullis_syntax::ast::ItemKind;
use portcullis_syntax::Spanned;

/// The longest path the kernel resolves, in bytes without the terminating NUL
/// (`PATH_MAX` is 4096 with it).
pub const PATH_MAX: usize = 4095;
/// The longest file name, in bytes (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Every string value of a statement, as written.
pub fn values(kind: &ItemKind) -> Vec<&Spanned<String>> {
    match kind {
        ItemKind::Share { value, .. }
        | ItemKind::Socket { value, .. }
        | ItemKind::Device { value, .. }
        | ItemKind::Allow { value, .. } => vec![value],
        ItemKind::Filesystem { value, except, .. } => {
            std::iter::once(value).chain(except.iter()).collect()
        }
        ItemKind::Persist { path } | ItemKind::Include { path } | ItemKind::DeviceNode { path } => {
            vec![path]
        }
        ItemKind::Env { raw }
        | ItemKind::GenericPolicy { raw, .. }
        | ItemKind::BusRule { raw, .. }
        | ItemKind::OtherOption { raw }
        | ItemKind::Unknown { raw } => vec![raw],
        ItemKind::UnsetEnv { name } | ItemKind::BusName { name, .. } => vec![name],
        ItemKind::Usb { query, .. } => vec![query],
        ItemKind::NetworkRule { direction, .. } => vec![direction],
        ItemKind::Limit { name, value } => vec![name, value],
        ItemKind::Require { feature, .. } => vec![feature],
    }
}

/// The first value of a statement that holds a NUL byte.
pub fn with_nul(kind: &ItemKind) -> Option<&Spanned<String>> {
    values(kind).into_iter().find(|v| v.value.contains('\0'))
}

/// Refuses a path that can never exist: longer than [`PATH_MAX`] bytes as written (a `~/`
/// path only gets longer once home is put in front), or with a component longer than
/// [`NAME_MAX`] bytes.
pub fn check_path_length(path: &str) -> Result<(), String> {
    if let Some(long) = path.split('/').find(|c| c.len() > NAME_MAX) {
        let head: String = long.chars().take(16).collect();
        return Err(format!(
            "the path component `{head}…` is {} bytes long; a file name has at most {NAME_MAX}",
            long.len()
        ));
    }
    if path.len() > PATH_MAX {
        return Err(format!(
            "the path is {} bytes long; a path has at most {PATH_MAX}",
            path.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lengths() {
        let name = "n".repeat(NAME_MAX);
        assert_eq!(check_path_length(&format!("/{name}")), Ok(()));
        let err = check_path_length(&format!("/{name}n")).unwrap_err();
        assert!(err.contains("256 bytes long"), "{err}");
        let deep = format!("/{}", ["d"; 2047].join("/"));
        assert_eq!(deep.len(), PATH_MAX - 1);
        assert_eq!(check_path_length(&deep), Ok(()));
        let err = check_path_length(&format!("{deep}/x")).unwrap_err();
        assert!(err.contains("4096 bytes long"), "{err}");
    }
}
