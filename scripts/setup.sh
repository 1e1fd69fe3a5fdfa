#!/usr/bin/env bash
# Installs what bondd needs on a fresh Debian 12 machine (run as root). Idempotent: a second
# run installs nothing and takes a second.
#   scripts/setup.sh build   what building and running bondd needs
#   scripts/setup.sh test    that, plus cargo-nextest and the real peers of the tests
#                            (Open vSwitch, tshark, tcpdump), and valgrind for
#                            benches/instructions.sh
set -euo pipefail
PROFILE=${1:-test}
case "$PROFILE" in build|test) ;; *) echo "usage: setup.sh [build|test]" >&2; exit 2;; esac

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (apt-get, hugepages and network namespaces need it)" >&2
    exit 1
  fi
}

# Build: DPDK headers/libs/PMDs and testpmd, bindgen's libclang, pkg-config, a C compiler.
PKGS=(libdpdk-dev dpdk-dev dpdk libclang1-14 libclang-common-14-dev pkg-config gcc iproute2 procps)
# Real peers for the interoperability tests.
if [ "$PROFILE" = test ]; then
  PKGS+=(openvswitch-switch openvswitch-common tshark tcpdump iputils-ping tmux valgrind)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # tshark asks whether non-root users may capture: answer no, without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
pkg-config --atleast-version=22.11 libdpdk || { echo "setup.sh: DPDK >= 22.11 not found by pkg-config" >&2; exit 1; }

# Rust: the machine's toolchain (rustup) with rustfmt and clippy, and cargo-nextest.
if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  echo "setup.sh: no Rust toolchain; install one with rustup (https://rustup.rs), then rerun" >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" 2>/dev/null || \
      echo "setup.sh: warning: could not add rustup component $c" >&2
  done
fi
if [ "$PROFILE" = test ] && ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup.sh: installing cargo-nextest from crates.io (a few minutes)"
  cargo install --locked cargo-nextest
fi

# 2 MiB hugepages make DPDK about 40 % faster; everything also works without them.
if [ "$(id -u)" -eq 0 ] && [ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)" -lt 512 ]; then
  echo 512 > /proc/sys/vm/nr_hugepages 2>/dev/null || true
fi
echo "setup.sh: ready (DPDK $(pkg-config --modversion libdpdk), $(cargo --version), hugepages free: $(awk '/HugePages_Free/{print $2}' /proc/meminfo))"
