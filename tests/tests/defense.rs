//! Defense in depth beyond Flatpak: the AppArmor profiles and Landlock rules of every stock
//! policy (snapshots, and the real `apparmor_parser` over them and over the Flathub
//! corpus), cross-backend consistency, what older Landlock ABIs would enforce, and the
//! layers end to end under the real executor (ports, abstract sockets, memory and process
//! limits, deny masks, a single device node), and the limits held by the launch's cgroups.

mod abi;
mod apparmor;
mod cgroup;
mod consistency;
mod e2e;
mod snapshots;

use std::path::{Path, PathBuf};

use portcullis_backends::{apparmor as aa, dbus, landlock, mounts};
use portcullis_compiler::{compile, Options};
use portcullis_ir::{Origin, Policy};
use portcullis_syntax::SourceFile;

/// The stock policies directory.
pub fn policies_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    dir.canonicalize().unwrap_or(dir)
}

/// Every stock policy file, sorted.
pub fn stock_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir)
            .expect("policies directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "policy") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&policies_dir(), &mut out);
    out.sort();
    out
}

/// A policy file (stock policy or manifest) compiled, with its source for line numbers.
pub fn load(path: &Path) -> (SourceFile, Policy) {
    let text = std::fs::read_to_string(path).expect("readable input");
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let name = path
        .strip_prefix(policies_dir())
        .unwrap_or(&path)
        .to_string_lossy()
        .to_string();
    let file = SourceFile::new(name, text);
    let options = Options {
        policies_dir: Some(policies_dir()),
        ..Options::default()
    };
    let compiled = compile(&file, &options);
    let policy = compiled.policy.unwrap_or_else(|| {
        panic!(
            "{} does not compile: {:?}",
            path.display(),
            compiled.diagnostics
        )
    });
    (file, policy)
}

/// The AppArmor profile of a policy, origins named `FILE:LINE`.
pub fn profile(file: &SourceFile, policy: &Policy) -> String {
    let plan = mounts::plan(policy);
    let bus = dbus::compile(policy);
    let name = |origin: Origin| {
        if origin.is_implicit() {
            return "implicit".to_string();
        }
        let source = policy
            .sources
            .get(origin.source as usize)
            .map(String::as_str);
        if source == Some(&*file.name) {
            format!("{}:{}", file.name, file.line_col(origin.start as usize).0)
        } else {
            format!("{}@{}", source.unwrap_or("?"), origin.start)
        }
    };
    aa::render_with(policy, &plan.ops, &bus, &name)
}

/// The Landlock section of a policy.
pub fn landlock_section(policy: &Policy) -> portcullis_blob::landlock::LandlockSection {
    landlock::section(policy, &mounts::plan(policy).ops)
}
