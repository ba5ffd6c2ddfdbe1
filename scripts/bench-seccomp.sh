#!/usr/bin/env bash
# Seccomp benchmark: instructions executed per syscall (our filter vs Flatpak 1.14's, with
# the verifier's interpreter) and ns per call under no filter, a one-instruction allow
# filter, Flatpak's filter and ours, in the same run. Prints markdown tables.
#
# Usage: scripts/bench-seccomp.sh [CALLS] [REPS]
#   FLATPAK_BPF  Flatpak's raw filter (default: the oracle's cases/default/seccomp.bpf)
#   CARGO_TARGET_DIR is honoured (default: target/ next to the bench crate)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${PORTCULLIS_SHARED:-$(pwd)/../shared}"
bpf="${FLATPAK_BPF:-$shared/oracle/flatpak-1.14/cases/default/seccomp.bpf}"
if [ ! -f "$bpf" ]; then
    echo "no Flatpak filter at $bpf (set FLATPAK_BPF or PORTCULLIS_SHARED)" >&2
    exit 2
fi
cargo build --release --quiet --manifest-path scripts/bench-seccomp/Cargo.toml
target="${CARGO_TARGET_DIR:-scripts/bench-seccomp/target}"
echo "# seccomp benchmark ($(uname -r), $(nproc) CPUs, bpf_jit_enable=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null || echo '?'))"
echo
"$target/release/bench-seccomp" "$bpf" "${1:-1000000}" "${2:-7}"
