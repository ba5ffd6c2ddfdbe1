#!/usr/bin/env bash
# Sets up the real Flatpak 1.14 installation the run-app tests compare against:
# copies the oracle's tools (the shared folder is read-only) to a writable place and runs
# its setup.sh, which installs Debian's flatpak, creates user fporacle and installs the
# busybox runtime org.test.Platform and the apps org.test.App / org.test.Browser per-user
# for that user. Idempotent; must run as root (CI runs as root).
# Usage: scripts/setup-flatpak-oracle.sh   (env ORACLE_TOOLS_SRC overrides where the tools are)
set -euo pipefail
cd "$(dirname "$0")/.."

src="${ORACLE_TOOLS_SRC:-../shared/oracle/flatpak-1.14/tools}"
[ -d "$src" ] || src=/work/shared/oracle/flatpak-1.14/tools
if [ ! -f "$src/setup.sh" ]; then
    echo "setup-flatpak-oracle: no oracle tools at $src (expected ../shared/oracle/flatpak-1.14/tools)" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup-flatpak-oracle: must run as root (it installs packages and creates user fporacle)" >&2
    exit 2
fi
# flatpak install/run need a system bus (libmalcontent); a socket left by a bus that has
# since ended (a previous session's) is removed so that a new one starts.
system_bus_alive() {
    command -v dbus-send >/dev/null && [ -S /run/dbus/system_bus_socket ] \
        && dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
            org.freedesktop.DBus.GetId >/dev/null 2>&1
}
if command -v dbus-daemon >/dev/null && ! system_bus_alive; then
    rm -f /run/dbus/system_bus_socket /run/dbus/pid
    mkdir -p /run/dbus
    dbus-daemon --system --fork
fi
user="${ORACLE_USER:-fporacle}"
home="$(getent passwd "$user" 2>/dev/null | cut -d: -f6 || true)"
# Already installed: the runtime and both apps deployed for the user; only make sure the
# system bus that flatpak's install/run need is up.
if [ -n "$home" ] && [ -e "$home/.local/share/flatpak/app/org.test.App" ] \
    && [ -e "$home/.local/share/flatpak/app/org.test.Browser" ] \
    && [ -e "$home/.local/share/flatpak/runtime/org.test.Platform" ] && command -v flatpak >/dev/null; then
    install -d -m 0700 -o "$user" -g "$user" "/run/user/$(id -u "$user")"
    echo "== flatpak oracle installation already present for $user"
    exit 0
fi
tools="${ORACLE_TOOLS_COPY:-/var/tmp/pc-flatpak-tools}"
rm -rf "$tools"
cp -r "$src" "$tools"
chmod -R u+w "$tools"
echo "== setting up the flatpak oracle installation (setup.sh from $src)"
bash "$tools/setup.sh"
