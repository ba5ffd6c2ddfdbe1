#!/usr/bin/env bash
# The one command that passes the tests on a fresh Debian machine:
#   installs what the tests use for real (bubblewrap, xdg-dbus-proxy, dbus, apparmor's parser),
#   checks formatting and lints, builds the binaries, and runs the whole suite.
# Then builds the Debian package (scripts/package-deb.sh), installs it with dpkg, runs the
# README's main job through the installed /usr/bin/portcullis and removes the package.
# Usage: scripts/test.sh            (as root, or with sudo available for apt-get and dpkg)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need_pkgs=(bubblewrap xdg-dbus-proxy dbus dbus-bin apparmor util-linux iproute2 python3)
missing=()
for pkg in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true

# In CI every test runs: a missing tool, kernel feature or data set fails the test with its
# reason instead of skipping it (tests/src/skip.rs).
if [ -n "${CI:-}" ]; then
    export PORTCULLIS_E2E=1
fi

# The real Flatpak 1.14 installation the run-app tests compare against (user fporacle,
# org.test.App and org.test.Browser installed per-user); idempotent. Needs root: under CI
# (root) it must succeed, elsewhere without root the tests that need it skip.
if [ "$(id -u)" -eq 0 ]; then
    scripts/setup-flatpak-oracle.sh
elif [ -n "${CI:-}" ]; then
    echo "scripts/test.sh: CI must run as root (the Flatpak oracle installation needs it)" >&2
    exit 2
else
    echo "== not root: the Flatpak oracle installation is not set up (its tests skip)"
fi

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== building binaries"
cargo build --workspace --bins
echo "== cargo test (HOME is an empty directory that must stay empty)"
# The suite must not write into the caller's home: every test that launches gives the
# launch a temporary HOME. Run it with HOME pointing at an empty directory (cargo and rustup
# keep their own homes) and fail when anything appeared there.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
suite_home="$(mktemp -d)"
status=0
results="$(mktemp)"
HOME="$suite_home" cargo test --workspace --no-fail-fast 2>&1 | tee "$results" || status=$?
if [ -n "$(ls -A "$suite_home")" ]; then
    echo "error: the test suite wrote into HOME:" >&2
    find "$suite_home" -maxdepth 4 >&2
    status=1
fi
rm -rf "$suite_home"
[ "$status" -eq 0 ] || exit "$status"

echo "== Debian package: build, install, run the README's main job from /usr/bin, remove"
scripts/test-deb.sh

# One closing line for the whole run: every `cargo test` binary's counts added up.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$results"
rm -f "$results"
