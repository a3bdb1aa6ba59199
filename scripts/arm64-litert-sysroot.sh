#!/usr/bin/env bash
# Makes the sysroot in which LiteRT's AArch64 build runs under qemu-aarch64 for the benchmark's
# tiny-model section (the way arm64-peer-sysroot.sh does it for onnxruntime): Debian's arm64
# Python and the libraries it links, unpacked with dpkg -x (nothing is installed); the aarch64
# wheels of ai-edge-litert (the version installed in the project's venv) and NumPy, fetched by
# pip download --platform manylinux_*_aarch64 --only-binary=:all: and unzipped into
# SYSROOT/opt/litert; and a /proc/cpuinfo describing one ARM core (under qemu-user the probe
# otherwise reads the x86 host's).
#
#   scripts/arm64-litert-sysroot.sh [SYSROOT]   default: $EDGESPEC_ARM64_LITERT_SYSROOT or ~/.cache/edgespec/arm64-litert-sysroot
#
# Idempotent: a finished sysroot (marked by SYSROOT/.edgespec-complete) is left as it is.
# Prints the sysroot's path on its last line. Needs root for dpkg --add-architecture and
# apt-get update when arm64 packages are not yet known to apt.
set -euo pipefail

SYSROOT="${1:-${EDGESPEC_ARM64_LITERT_SYSROOT:-$HOME/.cache/edgespec/arm64-litert-sysroot}}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${EDGESPEC_PYTHON:-$REPO/.venv/bin/python}"
STAMP="$SYSROOT/.edgespec-complete"

fail() { echo "arm64-litert-sysroot: $*" >&2; exit 1; }
source "$REPO/scripts/lib/debian-arm64.sh"

[[ -x "$PYTHON" ]] || fail "no Python at $PYTHON (run scripts/setup.sh, or set EDGESPEC_PYTHON)"
LITERT_VERSION="$("$PYTHON" -c 'from importlib.metadata import version; print(version("ai-edge-litert"))' 2>/dev/null || true)"
[[ -n "$LITERT_VERSION" ]] || fail "ai-edge-litert is not installed in $PYTHON's environment; pip install ai-edge-litert first"
NUMPY_VERSION="$("$PYTHON" -c 'import numpy; print(numpy.__version__)')"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "ai-edge-litert $LITERT_VERSION numpy $NUMPY_VERSION" ]]; then
  echo "$SYSROOT"
  exit 0
fi
ensure_arm64_apt python3:arm64

# Debian's python3 for arm64 names its interpreter package (python3.11 on Debian 12, python3.13 on 13).
PYPKG="$(apt-cache depends python3-minimal:arm64 2>/dev/null | sed -n -E 's/^ *(Pre)?Depends: (python3\.[0-9]+-minimal)(:arm64)?$/\2/p' | head -1)"
PYPKG="${PYPKG%-minimal}"
[[ -n "$PYPKG" ]] || fail "apt-cache cannot resolve python3-minimal:arm64"
PYVER="${PYPKG#python}"

# and the C++ runtime that the wheels' extension modules link (NumPy, LiteRT)
mapfile -t PACKAGES < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$PYPKG:arm64" libstdc++6:arm64 libgcc-s1:arm64 2>/dev/null | grep -v '^ ' | grep -v '^<' \
    | grep -E ':arm64$' | grep -vE '^(dpkg|tar|install-info|perl[a-z0-9.-]*|debconf[a-z0-9.-]*):arm64$' | sort -u)
[[ ${#PACKAGES[@]} -gt 0 ]] || fail "apt-cache cannot resolve $PYPKG:arm64"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arm64-litert-sysroot.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/wheels"
unpack_arm64_debs "$WORK" "$WORK/root" "${PACKAGES[@]}"
[[ -x "$WORK/root/usr/bin/python$PYVER" ]] || fail "the unpacked packages hold no usr/bin/python$PYVER"

# The glibc of the sysroot bounds the manylinux tags its wheels may carry.
GLIBC_MINOR="$(dpkg-deb -f "$(ls "$WORK"/debs/libc6_*_arm64.deb | head -1)" Version | sed -n 's/^2\.\([0-9]*\).*/\1/p')"
[[ -n "$GLIBC_MINOR" ]] || fail "cannot read the glibc version of libc6:arm64"
PLATFORMS=()
for minor in $(seq 17 "$GLIBC_MINOR"); do PLATFORMS+=(--platform "manylinux_2_${minor}_aarch64"); done
PLATFORMS+=(--platform manylinux2014_aarch64)
ABI="cp${PYVER//./}"
"$PYTHON" -m pip download --quiet --only-binary=:all: "${PLATFORMS[@]}" --python-version "$PYVER" \
    --implementation cp --abi "$ABI" -d "$WORK/wheels" "ai-edge-litert==$LITERT_VERSION" "numpy==$NUMPY_VERSION" \
  || "$PYTHON" -m pip download --quiet --only-binary=:all: "${PLATFORMS[@]}" --python-version "$PYVER" \
    --implementation cp --abi "$ABI" -d "$WORK/wheels" "ai-edge-litert==$LITERT_VERSION" numpy \
  || fail "pip download of ai-edge-litert $LITERT_VERSION for aarch64 (Python $PYVER, glibc 2.$GLIBC_MINOR) failed"
SITE="$WORK/root/opt/litert/site-packages"
mkdir -p "$SITE"
for wheel in "$WORK"/wheels/*.whl; do
  "$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$SITE"
done
[[ -d "$SITE/ai_edge_litert" ]] || fail "the ai-edge-litert wheel held no ai_edge_litert package"
ln -sf "python$PYVER" "$WORK/root/usr/bin/edgespec-python"

write_arm64_cpuinfo "$WORK/root"
echo "ai-edge-litert $LITERT_VERSION numpy $NUMPY_VERSION" > "$WORK/root/.edgespec-complete"
replace_dir "$WORK/root" "$SYSROOT"
echo "$SYSROOT"
