# Sourced by the scripts that unpack Debian's arm64 packages without installing them
# (arm64-peer-sysroot.sh, arm64-litert-sysroot.sh, debian-arm64-kernel.sh). Each caller
# defines fail() (its own name in the message) before sourcing this file.

# Makes apt know Debian's arm64 packages, unless PROBE (an arm64 package) already resolves.
# Needs root, or sudo when it is there.
ensure_arm64_apt() {
  local probe=$1 sudo=""
  for tool in apt-get apt-cache dpkg dpkg-deb; do
    command -v "$tool" >/dev/null || fail "$tool is missing: this script needs a Debian system"
  done
  if dpkg --print-foreign-architectures | grep -qx arm64 \
      && apt-cache policy "$probe" 2>/dev/null | grep -m1 Candidate | grep -qv '(none)'; then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null \
      || fail "apt does not know Debian's arm64 packages yet; as root run: dpkg --add-architecture arm64 && apt-get update"
    sudo="sudo"
  fi
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq || fail "apt-get update failed (no network to the Debian mirror?)"
}

# Downloads PACKAGES into WORK/debs and unpacks each into ROOT (dpkg -x: nothing is installed).
unpack_arm64_debs() {
  local work=$1 root=$2; shift 2
  mkdir -p "$work/debs" "$root"
  # apt-get download runs as the _apt user when it can; a world-writable directory lets it.
  chmod 755 "$work"; chmod 777 "$work/debs"
  (cd "$work/debs" && apt-get download -qq "$@") || fail "apt-get download failed (no network to the Debian mirror?)"
  local deb
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
}

# A /proc/cpuinfo describing one Cortex-A72 core: under qemu-user the runtimes' CPU probes
# otherwise read the x86 host's and fail.
write_arm64_cpuinfo() {
  mkdir -p "$1/proc"
  cat > "$1/proc/cpuinfo" <<'CPUINFO'
processor	: 0
BogoMIPS	: 125.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

CPUINFO
}

# Puts the finished directory STAGE at DEST, replacing what was there only once STAGE is whole.
replace_dir() {
  local stage=$1 dest=$2
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest.old"
  if [[ -e "$dest" ]]; then mv "$dest" "$dest.old"; fi
  mv "$stage" "$dest"
  rm -rf "$dest.old"
}
