#!/usr/bin/env bash
# Makes the sysroot in which onnxruntime-node's AArch64 build runs under qemu-aarch64 for the
# benchmark's linux column (see shared notes arm64-peer.md): Debian's arm64 Node.js and the
# libraries it links, unpacked with dpkg -x (nothing is installed), onnxruntime-node's arm64
# binding from the npm registry, and a /proc/cpuinfo describing one ARM core (under qemu-user
# onnxruntime's CPU probe otherwise reads the x86 host's and crashes).
#
#   scripts/arm64-peer-sysroot.sh [SYSROOT]     default: $EDGESPEC_ARM64_SYSROOT or ~/.cache/edgespec/arm64-sysroot
#
# Idempotent: a finished sysroot (marked by SYSROOT/.edgespec-complete) is left as it is.
# Prints the sysroot's path on its last line. Needs root for dpkg --add-architecture and
# apt-get update when arm64 packages are not yet known to apt.
set -euo pipefail

SYSROOT="${1:-${EDGESPEC_ARM64_SYSROOT:-$HOME/.cache/edgespec/arm64-sysroot}}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
STAMP="$SYSROOT/.edgespec-complete"
ORT_VERSION="$(node -p "require('$REPO/node_modules/onnxruntime-node/package.json').version" 2>/dev/null || true)"

fail() { echo "arm64-peer-sysroot: $*" >&2; exit 1; }

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "onnxruntime-node $ORT_VERSION" ]]; then
  echo "$SYSROOT"
  exit 0
fi
[[ -n "$ORT_VERSION" ]] || fail "onnxruntime-node is not installed in $REPO/node_modules; run npm install first"
for tool in apt-get apt-cache dpkg npm tar; do
  command -v "$tool" >/dev/null || fail "$tool is missing: this script needs a Debian system with npm"
done

if ! dpkg --print-foreign-architectures | grep -qx arm64 || [[ -z "$(apt-cache policy nodejs:arm64 2>/dev/null | grep -m1 Candidate | grep -v '(none)')" ]]; then
  [[ $(id -u) -eq 0 ]] || fail "apt does not know Debian's arm64 packages yet; as root run: dpkg --add-architecture arm64 && apt-get update"
  dpkg --add-architecture arm64
  apt-get update -qq || fail "apt-get update failed (no network to the Debian mirror?)"
fi

# nodejs:arm64 and the libraries it needs at run time, resolved on this Debian version: the
# arm64 packages of its dependency closure and the architecture-independent node-* modules,
# without the packaging tools (dpkg, tar, install-info, openssl's command) that closure drags in.
mapfile -t PACKAGES < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances nodejs:arm64 2>/dev/null | grep -v '^ ' | grep -v '^<' \
    | grep -E '(:arm64$|^node-)' | grep -vE '^(dpkg|tar|install-info|openssl|perl[a-z0-9.-]*):arm64$' | sort -u)
[[ ${#PACKAGES[@]} -gt 0 ]] || fail "apt-cache cannot resolve nodejs:arm64"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arm64-sysroot.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/debs" "$WORK/root"
# apt-get download runs as the _apt user when it can; a world-writable directory lets it.
chmod 755 "$WORK"
chmod 777 "$WORK/debs"
(cd "$WORK/debs" && apt-get download -qq "${PACKAGES[@]}") || fail "apt-get download failed (no network to the Debian mirror?)"
for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$WORK/root"; done
[[ -x "$WORK/root/usr/bin/node" ]] || fail "the unpacked packages hold no usr/bin/node"

# onnxruntime-node's AArch64 binding, from the same version's registry tarball.
(cd "$WORK" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null) || fail "npm pack onnxruntime-node@$ORT_VERSION failed (no network to the npm registry?)"
mkdir -p "$WORK/ort"
tar -xzf "$WORK"/onnxruntime-node-*.tgz -C "$WORK/ort"
ARM64_BIN="package/bin/napi-v6/linux/arm64"
[[ -f "$WORK/ort/$ARM64_BIN/onnxruntime_binding.node" ]] || fail "onnxruntime-node $ORT_VERSION ships no linux/arm64 binding"
mkdir -p "$WORK/root/opt"
# keep only the AArch64 Linux binaries of the package's builds for every platform
find "$WORK/ort/package/bin/napi-v6" -mindepth 2 -maxdepth 2 ! -path "*/linux/arm64" -exec rm -rf {} +
mv "$WORK/ort/package" "$WORK/root/opt/onnxruntime-node"
# The JavaScript of onnxruntime-node needs onnxruntime-common beside it.
if [[ -d "$REPO/node_modules/onnxruntime-common" ]]; then
  mkdir -p "$WORK/root/opt/onnxruntime-node/node_modules"
  cp -r "$REPO/node_modules/onnxruntime-common" "$WORK/root/opt/onnxruntime-node/node_modules/"
fi

mkdir -p "$WORK/root/proc"
cat > "$WORK/root/proc/cpuinfo" <<'CPUINFO'
processor	: 0
BogoMIPS	: 125.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

CPUINFO

echo "onnxruntime-node $ORT_VERSION" > "$WORK/root/.edgespec-complete"
mkdir -p "$(dirname "$SYSROOT")"
rm -rf "$SYSROOT.old"
[[ -e "$SYSROOT" ]] && mv "$SYSROOT" "$SYSROOT.old"
mv "$WORK/root" "$SYSROOT"
rm -rf "$SYSROOT.old"
echo "$SYSROOT"
