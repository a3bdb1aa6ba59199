#!/usr/bin/env bash
# Fetches Debian's generic arm64 kernel (the cloud flavour, the smallest) for the linux-vm
# target's `--kernel debian` builds and for the footprint's comparison with a generic stack:
# the package linux-image-cloud-arm64:arm64 resolved to its versioned image package,
# downloaded with apt-get download and unpacked with dpkg -x (nothing is installed). Keeps
# the kernel Image (boot/vmlinuz-*, an uncompressed arm64 Image that QEMU's -kernel takes),
# its config and the package's name and size.
#
#   scripts/debian-arm64-kernel.sh [DIR]   default: $EDGESPEC_LINUX_VM_CACHE/debian or ~/.cache/edgespec/linux-vm/debian
#
# Idempotent: a finished directory (DIR/package.json) is left as it is. Prints DIR on its
# last line. Needs root (or sudo) for dpkg --add-architecture and apt-get update when apt does
# not know Debian's arm64 packages yet.
set -euo pipefail

CACHE="${EDGESPEC_LINUX_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgespec/linux-vm}"
DIR="${1:-$CACHE/debian}"
fail() { echo "debian-arm64-kernel: $*" >&2; exit 1; }
source "$(dirname "$0")/lib/debian-arm64.sh"

if [[ -f "$DIR/package.json" && -f "$DIR/Image" ]]; then
  echo "$DIR"
  exit 0
fi
ensure_arm64_apt linux-image-cloud-arm64:arm64
PACKAGE="$(apt-cache depends linux-image-cloud-arm64:arm64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1)"
[[ -n "$PACKAGE" ]] || fail "apt-cache cannot resolve linux-image-cloud-arm64:arm64 to a kernel package"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/debian-arm64-kernel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
unpack_arm64_debs "$WORK" "$WORK/root" "$PACKAGE:arm64"
DEB="$(ls "$WORK"/debs/*.deb)"
VMLINUZ="$(ls "$WORK"/root/boot/vmlinuz-* | head -n1)"
[[ -f "$VMLINUZ" ]] || fail "$PACKAGE holds no boot/vmlinuz-*"
VERSION="$(dpkg-deb -f "$DEB" Version)"

mkdir -p "$(dirname "$DIR")"
STAGE="$DIR.partial-$$"
rm -rf "$STAGE"; mkdir -p "$STAGE"
# an EFI zboot or gzip'd vmlinuz would need unpacking; Debian 12's arm64 vmlinuz is the plain Image
if [[ "$(head -c 2 "$VMLINUZ" | od -An -tx1 | tr -d ' ')" == "1f8b" ]]; then
  gzip -dc "$VMLINUZ" > "$STAGE/Image"
else
  cp "$VMLINUZ" "$STAGE/Image"
fi
cp "$WORK"/root/boot/config-* "$STAGE/config"
printf '{"package": "%s", "version": "%s", "deb_bytes": %s, "image_bytes": %s, "installed_bytes": %s}\n' \
  "$PACKAGE" "$VERSION" "$(stat -c %s "$DEB")" "$(stat -c %s "$STAGE/Image")" "$(du -sb "$WORK/root" | cut -f1)" > "$STAGE/package.json"
replace_dir "$STAGE" "$DIR"
echo "$DIR"
