#!/usr/bin/env bash
# Builds the Debian package of portcullis with dpkg-deb alone (no cargo-deb, no debhelper):
#   /usr/bin/portcullis and /usr/bin/portcullis-exec (`run` finds the executor next to itself),
#   /usr/share/portcullis/policies     stock policies and fragments (`include` finds them as
#                                      <prefix>/share/portcullis/policies beside the binary),
#   /usr/share/man/man1/*.1.gz         `portcullis man -o DIR` (every subcommand, the executor),
#   bash, zsh and fish completions     `portcullis completions SHELL`,
#   /usr/share/doc/portcullis/         README.md, copyright.
# Prints the path of the .deb on its last line.
#
# Usage: scripts/package-deb.sh [OUT_DIR]        (default: <target>/debian)
#   PORTCULLIS_DEB_PROFILE=dev packages the debug build (what scripts/test.sh already built;
#   the default is release). CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PORTCULLIS_DEB_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-target}"
case "$profile" in
    dev) bin_dir="$target/debug" ;;
    *) bin_dir="$target/$profile" ;;
esac
out_dir="${1:-$target/debian}"

cargo build --profile "$profile" -q -p portcullis -p portcullis-exec
portcullis="$bin_dir/portcullis"
version="$("$portcullis" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
libc="$(dpkg-query -W -f='${Version}' libc6 | sed 's/-[^-]*$//')"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/portcullis_${version}_${arch}"

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
    "$root/usr/share/doc/portcullis" "$root/usr/share/bash-completion/completions" \
    "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
install -m 0755 "$portcullis" "$bin_dir/portcullis-exec" "$root/usr/bin/"
strip --strip-unneeded "$root/usr/bin/portcullis" "$root/usr/bin/portcullis-exec" 2>/dev/null || true

# Stock policies: every file under policies/, modes normalised.
(cd policies && find . -type f) | while read -r file; do
    install -D -m 0644 "policies/$file" "$root/usr/share/portcullis/policies/$file"
done
find "$root/usr/share/portcullis" -type d -exec chmod 0755 {} +

"$portcullis" man -o "$stage/man"
for page in "$stage"/man/*.1; do
    gzip -9n -c "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"
done
chmod 0644 "$root"/usr/share/man/man1/*.gz

"$portcullis" completions bash > "$root/usr/share/bash-completion/completions/portcullis"
"$portcullis" completions zsh > "$root/usr/share/zsh/vendor-completions/_portcullis"
"$portcullis" completions fish > "$root/usr/share/fish/vendor_completions.d/portcullis.fish"

install -m 0644 README.md "$root/usr/share/doc/portcullis/README.md"
cat > "$root/usr/share/doc/portcullis/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: portcullis

Files: *
Copyright: the portcullis authors
License: MIT or Apache-2.0
 See /usr/share/common-licenses/Apache-2.0 for the Apache License 2.0; the MIT license
 permits use, copying, modification and distribution with the copyright notice kept.
COPYRIGHT
chmod 0644 "$root/usr/share/doc/portcullis/copyright"

installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat > "$root/DEBIAN/control" <<CONTROL
Package: portcullis
Version: $version
Architecture: $arch
Maintainer: portcullis developers <portcullis@example.invalid>
Installed-Size: $installed_kb
Depends: libc6 (>= $libc)
Recommends: xdg-dbus-proxy
Suggests: bubblewrap, apparmor
Section: admin
Priority: optional
Homepage: https://example.invalid/portcullis
Description: check, compile and enforce Flatpak-style sandbox permissions
 portcullis reads an app's sandbox permissions (its policy language, Flatpak manifests,
 metadata keyfiles, finish-args), checks them, and compiles them into seccomp BPF, a
 mount plan, xdg-dbus-proxy rules, Landlock rules and an AppArmor profile, verified
 against the policy. portcullis-exec applies a compiled blob and runs the app.
CONTROL

mkdir -p "$out_dir"
deb="$out_dir/portcullis_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz -z6 --build "$root" "$deb.tmp" >/dev/null
mv -f "$deb.tmp" "$deb"
echo "$deb"
