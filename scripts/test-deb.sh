#!/usr/bin/env bash
# The package end to end, as CI runs it (scripts/test.sh calls this after the suite):
# builds the .deb from the debug binaries already built (scripts/package-deb.sh), installs
# it with `dpkg -i`, runs the README's main job through the installed /usr/bin/portcullis
# from a directory outside the repository (so it must find portcullis-exec next to itself
# and includes in /usr/share/portcullis/policies), checks the man pages and completions,
# then `dpkg -r`. Prints the time each phase took.
# Usage: scripts/test-deb.sh   (as root, or with sudo available for dpkg)
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q "install ok installed"; then
    echo "error: a portcullis package is already installed; this test would remove it" >&2
    exit 1
fi

t0=$SECONDS
deb="$(PORTCULLIS_DEB_PROFILE="${PORTCULLIS_DEB_PROFILE:-dev}" scripts/package-deb.sh | tail -n 1)"
t1=$SECONDS
$SUDO dpkg -i "$deb" >/dev/null
t2=$SECONDS
work="$(mktemp -d)"
cleanup() {
    rm -rf "$work"
    if dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q "install ok installed"; then
        $SUDO dpkg -r portcullis >/dev/null
    fi
}
trap cleanup EXIT
chmod 755 "$work"
mkdir -m 700 "$work/home" "$work/run"
fail() {
    echo "error: installed package: $*" >&2
    exit 1
}

# The README's main job, through the installed binary and the installed stock policy.
(cd "$work" && env HOME="$work/home" XDG_RUNTIME_DIR="$work/run" /usr/bin/portcullis run \
    /usr/share/portcullis/policies/flatpak-default.policy -- \
    /bin/sh -c 'id; ls /; grep -E "Seccomp|NoNewPrivs|CapEff" /proc/self/status') \
    > "$work/out" 2>&1 || { cat "$work/out" >&2; fail "portcullis run failed"; }
grep -q "^Seccomp:[[:space:]]*2" "$work/out" || { cat "$work/out" >&2; fail "no seccomp filter in the sandbox"; }
grep -q "^NoNewPrivs:[[:space:]]*1" "$work/out" || fail "no_new_privs not set"

# An include resolved from /usr/share/portcullis/policies (nothing next to the file).
printf 'app org.example.Installed {\n    include "fragments/audio.policy"\n}\n' > "$work/app.policy"
(cd "$work" && env -u PORTCULLIS_POLICIES /usr/bin/portcullis export app.policy --to finish-args) \
    | grep -q -- "--socket=pulseaudio" || fail "the stock fragment was not found"

# Man pages and completions.
for page in portcullis portcullis-run portcullis-emit portcullis-exec; do
    zcat "/usr/share/man/man1/$page.1.gz" | grep -q "^\.TH" || fail "man page $page"
done
bash -c 'source /usr/share/bash-completion/completions/portcullis && complete -p portcullis' \
    >/dev/null || fail "bash completion"
grep -q "compdef\|#compdef" /usr/share/zsh/vendor-completions/_portcullis || fail "zsh completion"
grep -q "complete -c portcullis" /usr/share/fish/vendor_completions.d/portcullis.fish \
    || fail "fish completion"
t3=$SECONDS

$SUDO dpkg -r portcullis >/dev/null
[ ! -e /usr/bin/portcullis ] && [ ! -e /usr/bin/portcullis-exec ] \
    && [ ! -e /usr/share/portcullis ] || fail "files left after dpkg -r"
t4=$SECONDS
echo "package ok: $(basename "$deb"), $(du -k "$deb" | cut -f1) kB; build $((t1 - t0))s," \
    "install $((t2 - t1))s, use $((t3 - t2))s, remove $((t4 - t3))s"
