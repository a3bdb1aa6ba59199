#!/usr/bin/env bash
# Installs whatever this machine is missing for edgespec, and nothing it already has:
# Debian's AArch64 toolchain, QEMU and Chromium; a Python virtual environment (.venv) with
# PyTorch, TensorFlow, JupyterLab and the edgespec package; node modules; the compiled
# toolchain and lab extension. Safe to run again; the second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\n== %s\n' "$*" >&2; }

APT_PACKAGES=(gcc-aarch64-linux-gnu picolibc-aarch64-linux-gnu qemu-system-arm qemu-user chromium binutils-aarch64-linux-gnu zip unzip
  linux-source-6.1 flex bison bc make cpio
  qemu-efi-aarch64 mtools dosfstools
  socat)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

# linux-vm: Debian's generic arm64 kernel, for --kernel debian and the footprint's comparison
# (the purpose-built kernel is compiled from linux-source-6.1 by the first linux-vm build, then cached)
if ! scripts/debian-arm64-kernel.sh >/dev/null; then
  say "could not fetch Debian's arm64 kernel (offline?); linux-vm builds with --kernel debian will ask for scripts/debian-arm64-kernel.sh"
fi

PY=${EDGESPEC_BASE_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating the Python environment in .venv"
  "$PY" -m venv .venv
fi
VPY=$ROOT/.venv/bin/python
stamp=.venv/.edgespec-installed
want=$(cat kernel-bridge/pyproject.toml scripts/requirements-dev.txt scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (PyTorch, TensorFlow, JupyterLab: several GB the first time)"
  "$VPY" -m pip install -q --upgrade pip
  if ! "$VPY" -c "import torch, torchvision" 2>/dev/null; then
    # torch asks for cuda-bindings; where that cannot be had, its CPU path runs without it.
    "$VPY" -m pip install -q torch==2.14.1 torchvision==0.29.1 || {
      "$VPY" -m pip install -q filelock typing-extensions sympy networkx jinja2 fsspec pillow numpy
      "$VPY" -m pip install -q --no-deps torch==2.14.1 torchvision==0.29.1
    }
  fi
  "$VPY" -m pip install -q -r scripts/requirements-dev.txt
  echo "$want" > "$stamp"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node modules"
  # onnxruntime-node's install script would fetch CUDA binaries that we neither need nor can reach.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

say "compiling the toolchain and the lab extension"
PATH="$ROOT/.venv/bin:$PATH" npm run --silent build > .venv/.edgespec-build.log 2>&1 || { cat .venv/.edgespec-build.log; exit 1; }

# The editable install copies the built lab extension and the server-extension switch into
# the environment (share/jupyter, etc/jupyter), so it follows every build of the extension.
lab_stamp=.venv/.edgespec-labextension
lab_want=$(cd kernel-bridge && find edgespec/labextension jupyter-config pyproject.toml -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [ "$(cat "$lab_stamp" 2>/dev/null)" != "$lab_want" ]; then
  say "installing the edgespec Python package with its lab and server extensions"
  "$VPY" -m pip install -q -e kernel-bridge
  echo "$lab_want" > "$lab_stamp"
fi
