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
source "$REPO/scripts/lib/debian-arm64.sh"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "onnxruntime-node $ORT_VERSION" ]]; then
  echo "$SYSROOT"
  exit 0
fi
[[ -n "$ORT_VERSION" ]] || fail "onnxruntime-node is not installed in $REPO/node_modules; run npm install first"
for tool in npm tar; do
  command -v "$tool" >/dev/null || fail "$tool is missing: this script needs npm and tar"
done
ensure_arm64_apt nodejs:arm64

# nodejs:arm64 and the libraries it needs at run time, resolved on this Debian version: the
# arm64 packages of its dependency closure and the architecture-independent node-* modules,
# without the packaging tools (dpkg, tar, install-info, openssl's command) that closure drags in.
mapfile -t PACKAGES < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances nodejs:arm64 2>/dev/null | grep -v '^ ' | grep -v '^<' \
    | grep -E '(:arm64$|^node-)' | grep -vE '^(dpkg|tar|install-info|openssl|perl[a-z0-9.-]*):arm64$' | sort -u)
[[ ${#PACKAGES[@]} -gt 0 ]] || fail "apt-cache cannot resolve nodejs:arm64"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arm64-sysroot.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
unpack_arm64_debs "$WORK" "$WORK/root" "${PACKAGES[@]}"
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

write_arm64_cpuinfo "$WORK/root"
echo "onnxruntime-node $ORT_VERSION" > "$WORK/root/.edgespec-complete"
replace_dir "$WORK/root" "$SYSROOT"
echo "$SYSROOT"
