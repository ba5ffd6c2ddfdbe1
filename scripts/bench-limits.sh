#!/usr/bin/env bash
# Limits benchmark: launch-to-exit time of /bin/true under portcullis-exec, with the same
# minimal policy compiled without limits and with `limits { memory 256M; processes 64;
# cpu-share 50% }` (made in the launch's own cgroups where the host allows, else rlimits).
# Runs alternate between the two blobs so that drift on a shared machine hits both alike.
# Prints medians, means, the lower quartile (the least disturbed by other load on a shared
# machine) and the differences (target: limits add under 1 ms).
#
# Usage: scripts/bench-limits.sh [RUNS]     (default 200; builds release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"
target="${CARGO_TARGET_DIR:-target}"

cargo build --release -q -p portcullis -p portcullis-exec
bin="$target/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

cat > "$work/plain.policy" <<'POLICY'
app org.example.Bench {
    command true
}
POLICY
cat > "$work/limited.policy" <<'POLICY'
app org.example.Bench {
    command true
    limits { memory 256M; processes 64; cpu-share 50% }
    require limits required
}
POLICY
"$bin/portcullis" compile "$work/plain.policy" -o "$work/plain.blob"
"$bin/portcullis" compile "$work/limited.policy" -o "$work/limited.blob"

# Which mechanism holds each limit here (the executor's note), once.
PORTCULLIS_EXEC_REPORT=1 "$bin/portcullis-exec" "$work/limited.blob" -- /bin/true 2>&1 \
    | grep -E 'note: limits|cgroup:' || true

export PORTCULLIS_BENCH_EXEC="$bin/portcullis-exec" PORTCULLIS_BENCH_WORK="$work"
export PORTCULLIS_BENCH_RUNS="$runs"
python3 - <<'PY'
import os, statistics, subprocess, time

runs = int(os.environ["PORTCULLIS_BENCH_RUNS"])
exe = os.environ["PORTCULLIS_BENCH_EXEC"]
work = os.environ["PORTCULLIS_BENCH_WORK"]
blobs = {"without limits": f"{work}/plain.blob", "with limits": f"{work}/limited.blob"}
times = {name: [] for name in blobs}

def once(blob):
    start = time.perf_counter()
    rc = subprocess.run([exe, blob, "--", "/bin/true"], stdin=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    if rc != 0:
        raise SystemExit(f"launch failed ({rc}): {blob}")
    return (time.perf_counter() - start) * 1000

for blob in blobs.values():
    once(blob)  # warm the caches
for _ in range(runs):
    for name, blob in blobs.items():
        times[name].append(once(blob))

print(f"launch-to-exit of /bin/true, {runs} runs each, alternating (ms):")
def p(t, q):
    return sorted(t)[int(len(t) * q)]
for name, t in times.items():
    print(f"  {name:16s} min {min(t):7.3f}  p25 {p(t, 0.25):7.3f}  median {statistics.median(t):7.3f}  mean {statistics.mean(t):7.3f}  p90 {p(t, 0.9):7.3f}")
w, wo = times["with limits"], times["without limits"]
print(f"limits add: {statistics.median(w) - statistics.median(wo):.3f} ms (medians), "
      f"{p(w, 0.25) - p(wo, 0.25):.3f} ms (lower quartiles), {min(w) - min(wo):.3f} ms (minima)")
PY
