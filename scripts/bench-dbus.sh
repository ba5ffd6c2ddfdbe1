#!/usr/bin/env bash
# The cost of the D-Bus proxy, measured in one run:
#   1. sandbox start-up (`portcullis-exec BLOB -- true`) with a session-bus proxy and
#      without one (no session bus on the host), runs interleaved;
#   2. round-trip time of a method call through the real xdg-dbus-proxy (with a compiled
#      policy's rules) and directly on the bus (tests/examples/dbus_rtt.rs).
# A private dbus-daemon is started for the run and stopped at the end.
# Knobs: RUNS (start-ups per variant, default 30), CALLS (method calls, default 20000),
# PROFILE (release or debug, default release).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-30}
CALLS=${CALLS:-20000}
PROFILE=${PROFILE:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
flag=()
[ "$PROFILE" = release ] && flag=(--release)

for tool in dbus-daemon xdg-dbus-proxy; do
    command -v "$tool" >/dev/null || { echo "bench-dbus: $tool is not installed" >&2; exit 2; }
done

echo "== building ($PROFILE)"
cargo build -q "${flag[@]}" -p portcullis -p portcullis-exec
cargo build -q "${flag[@]}" -p portcullis-tests --example dbus_rtt
bin="$CARGO_TARGET_DIR/$PROFILE"

work=$(mktemp -d)
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address >"$work/address" 2>/dev/null &
daemon=$!
for _ in $(seq 100); do [ -s "$work/address" ] && break; sleep 0.05; done
address="unix:path=$work/bus"

cat >"$work/app.policy" <<'POLICY'
app org.portcullis.Bench {
    talk-name org.freedesktop.Notifications
    own-name org.portcullis.Bench.Extra
}
POLICY
"$bin/portcullis" compile "$work/app.policy" -o "$work/app.blob"

# One start-up, in microseconds.
launch_us() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}

: >"$work/with"
: >"$work/without"
echo "== start-up: $RUNS runs each, interleaved (portcullis-exec BLOB -- true)"
for _ in $(seq 3); do # warm-up
    DBUS_SESSION_BUS_ADDRESS="$address" "$bin/portcullis-exec" "$work/app.blob" -- true >/dev/null 2>&1
done
for _ in $(seq "$RUNS"); do
    launch_us env DBUS_SESSION_BUS_ADDRESS="$address" "$bin/portcullis-exec" "$work/app.blob" -- true >>"$work/with"
    launch_us env -u DBUS_SESSION_BUS_ADDRESS "$bin/portcullis-exec" "$work/app.blob" -- true >>"$work/without"
done
stats() {
    sort -n "$1" | awk -v name="$2" '{ v[NR] = $1; sum += $1 }
        END { printf "%-34s median %8.2f ms   mean %8.2f ms   min %8.2f ms   max %8.2f ms\n",
              name, v[int((NR + 1) / 2)] / 1000, sum / NR / 1000, v[1] / 1000, v[NR] / 1000 }'
}
stats "$work/without" "without a session bus (no proxy)"
stats "$work/with" "with the session-bus proxy"
median_us() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "proxy start-up cost: $(( $(median_us "$work/with") - $(median_us "$work/without") )) us (median difference)"

echo "== method-call round trip: $CALLS calls each"
"$bin/examples/dbus_rtt" "$CALLS"
