#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds bondd and runs its embedded demo on virtual
# devices (no NIC, no config file). Extra arguments go to `bondd run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p control
exec target/release/bondd run "$@"
