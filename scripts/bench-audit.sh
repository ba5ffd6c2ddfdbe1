#!/usr/bin/env bash
# Benchmark of `portcullis check` (lints included) and `portcullis audit` on the shared
# Flathub corpus, compared with flatpak-builder-lint's figures recorded in the oracle
# (../shared/oracle/fblint/README.md: one process per manifest, 0.90 manifests/s,
# 1.121 s median per manifest, 641.7 ms process start-up).
#
# Measures, with a release build:
#   * `check` over the whole corpus in one process: the 60 verbatim manifests, then a
#     synthetic manifest per corpus record (the oracle's "synth" shape), manifests/s;
#   * per-file cost with one process per manifest (as Flathub runs the linter);
#   * process start-up (`portcullis --version`).
# Also prints the escape classification of the corpus (the integration test asserts it).
#
# Usage: scripts/bench-audit.sh [RUNS]   (needs python3 to write the synthetic manifests)
set -euo pipefail

runs="${1:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${PORTCULLIS_SHARED:-$root/../shared}"
corpus="$shared/corpus/flathub"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release -q -p portcullis --manifest-path "$root/Cargo.toml"
bin="$CARGO_TARGET_DIR/release/portcullis"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/synth"
python3 - "$corpus/apps.jsonl" "$work/synth" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = {"id": r["app_id"], "runtime": r["runtime"], "runtime-version": r["runtime_version"],
         "sdk": r["sdk"], "command": r["command"], "finish-args": r["finish_args"], "modules": []}
    json.dump(m, open(f"{sys.argv[2]}/{r['app_id']}.json", "w"), indent=2)
PY

now() { date +%s%N; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }

# Median wall time in ns of "$@" over $runs runs (output discarded; exit 1 is expected
# when findings fail the check).
median() {
    local times=()
    for _ in $(seq "$runs"); do
        local t0; t0=$(now)
        "$@" >/dev/null 2>&1 || true
        times+=($(( $(now) - t0 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

manifests=("$corpus"/manifests/*)
synth=("$work"/synth/*.json)
n_m=${#manifests[@]}
n_s=${#synth[@]}

echo "portcullis audit/check benchmark ($runs runs each, median; release build)"
t=$(median "$bin" check --format json "${manifests[@]}")
echo "check, ${n_m} verbatim manifests, one process: $(ms "$t") ms -> $(awk -v n="$n_m" -v t="$t" 'BEGIN { printf "%.0f", n / (t / 1e9) }') manifests/s"
t=$(median "$bin" check --format json "${synth[@]}")
echo "check, ${n_s} synthetic manifests (corpus records), one process: $(ms "$t") ms -> $(awk -v n="$n_s" -v t="$t" 'BEGIN { printf "%.0f", n / (t / 1e9) }') manifests/s"
t=$(median "$bin" check --format sarif "${manifests[@]}" "${synth[@]}")
echo "check --format sarif, whole corpus ($((n_m + n_s)) inputs), one process: $(ms "$t") ms"

per_file() {
    for f in "${manifests[@]}"; do "$bin" "$@" "$f" >/dev/null 2>&1 || true; done
}
t=$(median per_file check)
echo "check, one process per manifest: $(ms $(( t / n_m ))) ms per manifest"
t=$(median per_file audit)
echo "audit, one process per manifest: $(ms $(( t / n_m ))) ms per manifest"
startup() { for _ in $(seq 20); do "$bin" --version >/dev/null; done; }
t=$(median startup)
echo "process start-up (portcullis --version): $(ms $(( t / 20 ))) ms"

echo
echo "flatpak-builder-lint (oracle, same machine kind): 0.90 manifests/s; 1121 ms median per manifest;"
echo "  641.7 ms start-up; 66.5 ms in-process work per manifest (0.45 ms of it the finish-args check)"

escapes=0
for f in "${synth[@]}"; do
    if "$bin" audit --format json "$f" 2>/dev/null | grep -q '"message": "known escape found via'; then
        escapes=$((escapes + 1))
    fi
done
echo
echo "escape classification: ${escapes} of ${n_s} corpus records report a known escape"
echo "  (precision and recall against the escape-class set: tests/tests/audit/escapes.rs)"
