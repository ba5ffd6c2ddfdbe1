#!/usr/bin/env bash
# Installed-app launch benchmark: launch-to-exit time of
#   1. `portcullis run APP_ID -- true`            (resolve, merge overrides, compile, launch)
#   2. `flatpak run --command=true APP_ID`        (the real Flatpak 1.14)
# on the same installed app, as the installation's user, both under one long-lived session
# bus (as in a desktop session), runs interleaved; prints min / median / mean in ms and the
# ratio of the medians.
#
# Usage (as root, after scripts/setup-flatpak-oracle.sh):
#   scripts/bench-run-app.sh [RUNS] [APP_ID]     (default 15 runs, org.test.App; builds
#                                                 release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
app="${2:-org.test.App}"
user="${ORACLE_USER:-fporacle}"
target="${CARGO_TARGET_DIR:-target}"
[ "$(id -u)" -eq 0 ] || { echo "bench-run-app: run as root (it runs both as $user)" >&2; exit 2; }
[ "$runs" -ge 15 ] || { echo "bench-run-app: at least 15 runs" >&2; exit 2; }
scripts/setup-flatpak-oracle.sh >/dev/null

cargo build --release -q -p portcullis -p portcullis-exec
bin="$(cd "$target/release" && pwd)"
uid="$(id -u "$user")"
home="$(getent passwd "$user" | cut -d: -f6)"
rundir="/run/user/$uid"
bus="unix:path=$rundir/pc-bench-bus"
rm -f "$rundir/pc-bench-bus"
as_user() {
    runuser -u "$user" -- env -i -C "$home" HOME="$home" USER="$user" LOGNAME="$user" \
        PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 XDG_RUNTIME_DIR="$rundir" \
        DBUS_SESSION_BUS_ADDRESS="$bus" "$@"
}
bus_pid="$(as_user dbus-daemon --session --fork --print-pid --address="$bus")"
trap 'kill "$bus_pid" 2>/dev/null || true; rm -f "$rundir/pc-bench-bus"' EXIT

as_user env PC_BIN="$bin/portcullis" PC_APP="$app" PC_RUNS="$runs" python3 - <<'PY'
import os, statistics, subprocess, time

runs, app, pc = int(os.environ["PC_RUNS"]), os.environ["PC_APP"], os.environ["PC_BIN"]
launchers = [
    (f"portcullis run {app} -- true", [pc, "run", app, "--", "true"]),
    (f"flatpak run --command=true {app}", ["flatpak", "run", "--command=true", app]),
]
for _, cmd in launchers:  # warm-up: caches, the bus's activated services
    for _ in range(3):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
times = {name: [] for name, _ in launchers}
for _ in range(runs):
    for name, cmd in launchers:
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - start) * 1000)
print(f"{'launcher':48} {'runs':>5} {'min ms':>8} {'median ms':>10} {'mean ms':>8}")
for name, _ in launchers:
    t = times[name]
    print(f"{name:48} {len(t):5d} {min(t):8.2f} {statistics.median(t):10.2f} {statistics.mean(t):8.2f}")
a, b = (statistics.median(times[n]) for n, _ in launchers)
print(f"median ratio portcullis / flatpak: {a / b:.2f}")
PY
