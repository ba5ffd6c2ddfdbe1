#!/usr/bin/env bash
# The one command that passes the tests on a fresh Debian machine:
#   installs what the tests use for real (bubblewrap, xdg-dbus-proxy, dbus, apparmor's parser),
#   checks formatting and lints, builds the binaries, and runs the whole suite.
# Usage: scripts/test.sh            (as root, or with sudo available for apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=(bubblewrap xdg-dbus-proxy dbus dbus-bin apparmor util-linux iproute2 python3)
missing=()
for pkg in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
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
echo "== cargo test"
cargo test --workspace --no-fail-fast
