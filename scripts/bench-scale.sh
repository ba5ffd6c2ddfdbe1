#!/usr/bin/env bash
# Scaling benchmark: `portcullis check` on Flatpak manifests with many finish-args, to
# show that every stage (importer, checker, lowering and merge, lints, rendering) grows
# linearly or as n log n. Prints, for each size, the wall time and peak memory of one
# run in the human and the JSON format:
#   * N `--env` entries (10k … 500k), one per line;
#   * the same number split over `--talk-name` / `--no-talk-name` entries (the bus
#     checks), and `--unset-env` then `--env` of the same names (every entry a finding);
#   * a 50 MB manifest of 470,000 `--env` entries;
#   * a one-line (minified) manifest with 2,000 findings: the human report's size and the
#     peak memory show that rendering a one-line file is linear in the findings.
#
# Usage: scripts/bench-scale.sh [SIZES...]     (default: 10000 20000 50000 100000 200000 500000)
#   KINDS               the generated families to run (default: "env talk unset big oneline")
#   CARGO_TARGET_DIR    honoured (default: target/)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(10000 20000 50000 100000 200000 500000)
cargo build --release --quiet -p portcullis
bin="${CARGO_TARGET_DIR:-target}/release/portcullis"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# gen KIND N FILE [VALUE_LEN]
gen() {
    python3 - "$@" <<'PY'
import json, sys
kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pad = "v" * int(sys.argv[4]) if len(sys.argv) > 4 else "value"
if kind == "env":
    args = [f"--env=VARIABLE_{i}={pad}{i}" for i in range(n)]
elif kind == "talk":
    half = n // 2
    args = [f"--talk-name=org.example.Talk{i}" for i in range(half)]
    args += [f"--no-talk-name=org.example.Talk{i}.Sub" for i in range(n - half)]
elif kind == "unset":
    half = n // 2
    args = [f"--unset-env=V{i}" for i in range(half)] + [f"--env=V{i}=1" for i in range(n - half)]
elif kind == "oneline":
    args = []
    for i in range(n):
        args += [f"--persist=.p{i}", "--filesystem=home"]
manifest = {
    "app-id": "org.example.Scale",
    "runtime": "org.freedesktop.Platform",
    "runtime-version": "23.08",
    "sdk": "org.freedesktop.Sdk",
    "command": "scale",
    "finish-args": args,
    "modules": [],
}
with open(path, "w") as f:
    if kind == "oneline":
        json.dump(manifest, f, separators=(",", ":"))
    else:
        json.dump(manifest, f, indent=4)
PY
}

# measure FILE FORMAT -> "seconds peak_kb output_bytes"
measure() {
    local out="$work/out" status
    set +e
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" check --format "$2" "$1" >"$out" 2>/dev/null
    status=$?
    set -e
    if [ "$status" -gt 2 ]; then
        echo "portcullis check $1 failed (exit $status)" >&2
        exit 1
    fi
    # time(1) puts "Command exited with non-zero status 1" first when there are findings.
    echo "$(tail -1 "$work/time") $(stat -c %s "$out")"
}

row() { # LABEL FILE
    local size human json
    size=$(stat -c %s "$2")
    read -r ht hm hb <<<"$(measure "$2" human)"
    read -r jt jm _ <<<"$(measure "$2" json)"
    printf '%-26s %9.1f MB %9s s %9.0f MB %9s s %9.0f MB %10s\n' "$1" \
        "$(echo "$size / 1048576" | bc -l)" "$ht" "$(echo "$hm / 1024" | bc -l)" \
        "$jt" "$(echo "$jm / 1024" | bc -l)" "$hb"
}

echo "# scaling benchmark: portcullis check (release), $(nproc) CPUs"
printf '%-26s %12s %11s %12s %11s %12s %10s\n' input file human peak json peak "report B"
kinds="${KINDS:-env talk unset big oneline}"
for kind in $kinds; do
    case "$kind" in
    big)
        gen env 470000 "$work/env-50mb.json" 72
        row "env x 470000 (50 MB)" "$work/env-50mb.json"
        rm -f "$work/env-50mb.json"
        ;;
    oneline)
        gen oneline 2000 "$work/oneline.json"
        row "one line, 2000 findings" "$work/oneline.json"
        ;;
    *)
        for n in "${sizes[@]}"; do
            gen "$kind" "$n" "$work/$kind-$n.json"
            row "$kind x $n" "$work/$kind-$n.json"
            rm -f "$work/$kind-$n.json"
        done
        ;;
    esac
done
