//! `/dev` (semantics §1.4): a minimal device tree, or the host's with `device=all`, the
//! granted device nodes (present ones only, decided at launch), `/dev/shm` handling, and
//! beyond Flatpak the single device nodes of `policy.beyond.device_nodes`.

use portcullis_blob::mounts::{MountOp, PathExpr};
use portcullis_ir::context::Device;
use portcullis_ir::Policy;

use super::base::per_app_dev_shm;
use super::ops::*;

/// The GPU nodes `device=dri` binds when they exist.
pub fn dri_nodes() -> Vec<String> {
    let mut nodes: Vec<String> = [
        "/dev/dri",
        "/dev/mali",
        "/dev/mali0",
        "/dev/umplock",
        "/dev/nvidiactl",
        "/dev/nvidia-modeset",
        "/dev/nvidia-uvm",
        "/dev/nvidia-uvm-tools",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    nodes.extend((0..20).map(|n| format!("/dev/nvidia{n}")));
    nodes
}

/// The per-app shared `/dev/shm` directory on the host.
pub const PER_APP_SHM: &str = "/dev/shm/portcullis-${APP_ID}";

/// The `/dev` operations.
pub fn dev(policy: &Policy) -> Vec<MountOp> {
    let ctx = &policy.context;
    let mut ops = Vec::new();
    if ctx.has_device(Device::All) {
        ops.push(MountOp::Bind {
            source: p("/dev"),
            dest: p("/dev"),
            flags: portcullis_blob::mounts::BindFlags {
                readonly: false,
                devices: true,
                optional: false,
            },
        });
        if ctx.has_device(Device::Shm) {
            // The host's /dev/shm stays visible through the /dev bind.
        } else if per_app_dev_shm(policy) {
            ops.push(bind(PER_APP_SHM, "/dev/shm"));
        } else {
            ops.push(tmpfs("/dev/shm"));
        }
    } else {
        ops.push(MountOp::Dev { dest: p("/dev") });
        if ctx.has_device(Device::Dri) {
            for node in dri_nodes() {
                ops.push(dev_bind_try(&node, &node, false));
            }
        }
        for (device, node) in [
            (Device::Kvm, "/dev/kvm"),
            (Device::Input, "/dev/input"),
            (Device::Usb, "/dev/bus/usb"),
        ] {
            if ctx.has_device(device) {
                ops.push(dev_bind_try(node, node, false));
            }
        }
        if ctx.has_device(Device::Shm) {
            ops.push(bind_try("/dev/shm", "/dev/shm"));
        } else if per_app_dev_shm(policy) {
            ops.push(bind(PER_APP_SHM, "/dev/shm"));
        }
    }
    let mut nodes: Vec<_> = policy.beyond.device_nodes.iter().collect();
    nodes.sort_by(|a, b| a.path.cmp(&b.path));
    for node in nodes {
        ops.push(dev_bind_try(&node.path, &node.path, !node.writable));
    }
    ops
}

/// The host paths of the single device nodes, sorted and without repeats: the blob's
/// device-node section, which makes the executor refuse a launch where one of them is not
/// a character or block device (a `device-node /dev/shm` would otherwise bind the host's
/// whole shared-memory directory, devices allowed).
pub fn single_nodes(policy: &Policy) -> Vec<PathExpr> {
    let mut paths: Vec<&str> = policy
        .beyond
        .device_nodes
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    paths.sort_unstable();
    paths.dedup();
    paths.into_iter().map(p).collect()
}
