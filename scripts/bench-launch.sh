#!/usr/bin/env bash
# Launch benchmark: launch-to-exit time of /bin/true under
#   1. portcullis-exec with the compiled Flatpak-default policy,
#   2. stock bwrap running the same plan through the `portcullis emit --backend bwrap`
#      wrapper (it writes the generated files and the seccomp program at each launch),
#   3. bare `bwrap --ro-bind / / --proc /proc --dev /dev /bin/true`,
#   4. portcullis-exec with the same blob signed, checked against `--trust KEY.pub`
#      (the cost of the signature check at launch),
# and the helper processes' memory (PSS, /proc/PID/smaps_rollup) while an app runs.
# Prints the figures and the ratios; needs bwrap and python3.
#
# Usage: scripts/bench-launch.sh [RUNS]     (default 200; builds release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"
target="${CARGO_TARGET_DIR:-target}"

cargo build --release -q -p portcullis -p portcullis-exec
bin="$target/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

policy=policies/flatpak-default.policy
"$bin/portcullis" compile "$policy" -o "$work/default.blob"
"$bin/portcullis" keygen -o "$work/key" >/dev/null
"$bin/portcullis" compile "$policy" -o "$work/signed.blob" --sign "$work/key"
"$bin/portcullis" emit "$policy" --backend bwrap -o "$work/bwrap.sh"

export PORTCULLIS_BENCH_EXEC="$bin/portcullis-exec" PORTCULLIS_BENCH_BLOB="$work/default.blob"
export PORTCULLIS_BENCH_BWRAP_SH="$work/bwrap.sh" PORTCULLIS_BENCH_RUNS="$runs"
export PORTCULLIS_BENCH_SIGNED="$work/signed.blob" PORTCULLIS_BENCH_KEY="$work/key.pub"
python3 - <<'PY'
import os, statistics, subprocess, time

runs = int(os.environ["PORTCULLIS_BENCH_RUNS"])
exe = os.environ["PORTCULLIS_BENCH_EXEC"]
blob = os.environ["PORTCULLIS_BENCH_BLOB"]
bwrap_wrapper = os.environ["PORTCULLIS_BENCH_BWRAP_SH"]

def portcullis(cmd):
    return [exe, blob, "--"] + cmd

def portcullis_signed(cmd):
    return [exe, "--trust", os.environ["PORTCULLIS_BENCH_KEY"],
            os.environ["PORTCULLIS_BENCH_SIGNED"], "--"] + cmd

def bwrap_same(cmd):
    return ["/bin/sh", bwrap_wrapper] + cmd

def bwrap_bare(cmd):
    return ["bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"] + cmd

launchers = [
    ("portcullis-exec, flatpak-default plan", portcullis),
    ("bwrap, the same plan", bwrap_same),
    ("bwrap, bare", bwrap_bare),
    ("portcullis-exec, signed blob + --trust", portcullis_signed),
]

def time_runs(argv):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        rc = subprocess.run(argv, stdin=subprocess.DEVNULL).returncode
        times.append((time.perf_counter() - start) * 1000)
        if rc != 0:
            raise SystemExit(f"launch failed ({rc}): {' '.join(argv[:4])} ...")
    return times

def children(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = open(f"/proc/{pid}/task/{task}/children").read().split()
            out.extend(int(c) for c in text)
    except OSError:
        pass
    return out

def pss_kb(pid):
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0

def helpers(argv):
    """PSS of every process of the launcher's tree except the app itself (`sleep`)."""
    proc = subprocess.Popen(argv + ["sleep", "3"], stdin=subprocess.DEVNULL)
    time.sleep(1.0)
    tree, todo = [], [proc.pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children(pid))
    found = []
    for pid in tree:
        try:
            comm = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        if comm != "sleep":
            found.append((comm, pss_kb(pid)))
    proc.wait()
    return found

print(f"launch-to-exit of /bin/true, {runs} runs each (ms):")
medians = {}
for name, make in launchers:
    subprocess.run(make(["/bin/true"]), stdin=subprocess.DEVNULL)  # warm the caches
    t = time_runs(make(["/bin/true"]))
    medians[name] = statistics.median(t)
    print(f"  {name:40s} median {statistics.median(t):7.3f}  mean {statistics.mean(t):7.3f}  p90 {sorted(t)[int(len(t)*0.9)]:7.3f}")

ours = medians[launchers[0][0]]
print("ratios (portcullis-exec / other, below 1 is faster):")
for name, _ in launchers[1:3]:
    print(f"  vs {name:37s} {ours / medians[name]:6.3f}")
signed = medians[launchers[3][0]]
print(f"signature check at launch: +{signed - ours:.3f} ms median ({signed / ours:.3f} x unsigned)")

print("helper processes while an app runs (PSS, kB):")
totals = {}
for name, make in launchers[:2]:
    found = helpers(make([]))
    totals[name] = sum(k for _, k in found)
    parts = ", ".join(f"{c} {k}" for c, k in found)
    print(f"  {name:40s} total {totals[name]:6d}  ({parts})")
a, b = totals[launchers[0][0]], totals[launchers[1][0]]
if b:
    print(f"  ratio portcullis-exec / bwrap: {a / b:.3f}")
PY
