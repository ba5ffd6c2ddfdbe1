#!/usr/bin/env bash
# Defense-layer benchmark over the shared Flathub corpus (60 manifests) and the stock
# policies, one process per file as a packaging pipeline would run it:
#   * `portcullis emit --backend apparmor` (compile the input, plan, proxy rules, profile);
#   * as the peer in the same run, `apparmor_parser -Q -K -T` compiling each of those
#     profiles (what loading it would cost; the kernel here has no AppArmor);
#   * `portcullis emit --backend landlock --text` (rules and the ABI 0-7 report).
# Prints files per second and the mean per file for each.
#
# Usage: scripts/bench-defense.sh [REPS]
set -euo pipefail

reps="${1:-3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${PORTCULLIS_SHARED:-$root/../shared}"
corpus="$shared/corpus/flathub/manifests"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release -q -p portcullis --manifest-path "$root/Cargo.toml"
bin="$CARGO_TARGET_DIR/release/portcullis"
command -v apparmor_parser >/dev/null || { echo "apparmor_parser is not installed (Debian: apparmor)"; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
inputs=("$corpus"/* "$root"/policies/*.policy "$root"/policies/*/*.policy)
count=${#inputs[@]}

now() { date +%s%N; }
best() { if [ "$1" = 0 ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
report() { # name, nanoseconds, files
    awk -v n="$1" -v t="$2" -v f="$3" 'BEGIN { printf "%-36s %8.1f files/s  %8.2f ms/file\n", n, f / (t / 1e9), t / 1e6 / f }'
}

echo "inputs: $count files, $reps repetitions"
best_emit=0; best_parse=0; best_landlock=0
for rep in $(seq "$reps"); do
    start=$(now)
    i=0
    for input in "${inputs[@]}"; do
        "$bin" emit "$input" --backend apparmor -o "$work/$i.profile" 2>/dev/null
        i=$((i + 1))
    done
    best_emit=$(best "$best_emit" $(( $(now) - start )))

    start=$(now)
    for profile in "$work"/*.profile; do
        apparmor_parser -Q -K -T "$profile" 2>/dev/null
    done
    best_parse=$(best "$best_parse" $(( $(now) - start )))

    start=$(now)
    for input in "${inputs[@]}"; do
        "$bin" emit "$input" --backend landlock --text >/dev/null 2>&1
    done
    best_landlock=$(best "$best_landlock" $(( $(now) - start )))
done

echo "best of $reps:"
report "portcullis emit --backend apparmor" "$best_emit" "$count"
report "apparmor_parser -Q -K -T (peer)" "$best_parse" "$count"
report "portcullis emit --backend landlock" "$best_landlock" "$count"
