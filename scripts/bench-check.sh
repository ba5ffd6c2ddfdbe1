#!/usr/bin/env bash
# Check benchmark: `portcullis check` over the whole Flathub corpus (the 60 manifests plus
# every apps.jsonl record as a finish-args list), once in one process and once with one
# process per file; and, as the peer in the same run, Python parsing the same files only
# (json + PyYAML, no checking at all). Prints files per second for each.
#
# Usage: scripts/bench-check.sh [REPS]
#   PORTCULLIS_CORPUS   the corpus directory (default: ../shared/corpus/flathub)
#   CARGO_TARGET_DIR    honoured (default: target/)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${PORTCULLIS_CORPUS:-$(pwd)/../shared/corpus/flathub}"
reps="${1:-5}"
if [ ! -d "$corpus/manifests" ] || [ ! -f "$corpus/apps.jsonl" ]; then
    echo "no corpus at $corpus (set PORTCULLIS_CORPUS)" >&2
    exit 2
fi
cargo build --release --quiet -p portcullis
bin="${CARGO_TARGET_DIR:-target}/release/portcullis"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
i=0
while IFS= read -r line; do
    [ -n "$line" ] || continue
    i=$((i + 1))
    printf '%s\n' "$line" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["finish_args"]))' \
        >"$work/record-$i.json"
done <"$corpus/apps.jsonl"
files=("$corpus"/manifests/* "$work"/record-*.json)
count="${#files[@]}"

now() { date +%s%N; }
rate() { # files nanoseconds
    python3 -c "import sys; n, ns = int(sys.argv[1]), int(sys.argv[2]); print(f'{ns / 1e6:9.1f} ms  {n / (ns / 1e9):10.0f} files/s')" "$1" "$2"
}
best() { sort -n | head -1; }

one_process() {
    local start end status
    start=$(now)
    set +e
    "$bin" check --format json "${files[@]}" >/dev/null
    status=$?
    set -e
    end=$(now)
    if [ "$status" -gt 1 ]; then
        echo "portcullis check failed (exit $status)" >&2
        exit 1
    fi
    echo $((end - start))
}

per_file() {
    local start end
    start=$(now)
    for f in "${files[@]}"; do
        "$bin" check --format json "$f" >/dev/null || [ $? -eq 1 ]
    done
    end=$(now)
    echo $((end - start))
}

peer() {
    local start end
    start=$(now)
    python3 - "${files[@]}" <<'PY'
import json, sys, yaml
for path in sys.argv[1:]:
    with open(path) as f:
        text = f.read()
    if path.endswith((".yml", ".yaml")):
        yaml.safe_load(text)
    else:
        # flatpak-builder accepts comments; strip whole-line // comments for json.loads
        lines = [l for l in text.splitlines() if not l.lstrip().startswith("//")]
        try:
            json.loads("\n".join(lines))
        except ValueError:
            pass
PY
    end=$(now)
    echo $((end - start))
}

echo "# check benchmark: $count files ($(ls "$corpus"/manifests | wc -l) manifests + $i records), best of $reps, $(nproc) CPUs"
echo
one=$(for _ in $(seq "$reps"); do one_process; done | best)
each=$(for _ in $(seq "$reps"); do per_file; done | best)
py=$(for _ in $(seq "$reps"); do peer; done | best)
echo "portcullis check, one process:      $(rate "$count" "$one")"
echo "portcullis check, process per file: $(rate "$count" "$each")"
echo "peer: python3 json/yaml parse only: $(rate "$count" "$py")"
