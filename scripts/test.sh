#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs bondd's whole test suite (run as root).
# Tests use 4 KiB pages (--no-huge) whatever the machine has, so they behave the same
# everywhere; namespace/tap/OVS tests need root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export PATH="$HOME/.cargo/bin:$PATH"

echo "== format and lints"
cargo fmt --all -- --check
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets -q -- -D warnings
else
  echo "clippy not available: lints skipped" >&2
fi

echo "== build"
cargo build --workspace --all-targets -q

echo "== tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo nextest run --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
summary=$(grep -E 'Summary .* tests? run:' "$log" | tail -1)

echo "== benchmark harness smoke (figures not checked: CI machines are noisy)"
BONDD=target/debug/bondd NOHUGE=1 benches/fwd_vs_testpmd.sh 1 4 1024
BONDD=target/debug/bondd NOHUGE=1 MODES="rr xor-l34" benches/bond_vs_netbonding.sh 1 3 1024
BONDD=target/debug/bondd NOHUGE=1 benches/lacp_cadence.sh 8 256
target/debug/bondd bench failover --miimon 10 --trials 3 --settle-ms 100 --down-ms 100 --rate 100kpps --memory no-huge --quiet
target/debug/bondd bench run --duration 1 --memory no-huge --quiet --csv /tmp/bondd-bench-smoke.csv
target/debug/bondd bench rfc2544 --dut bondd --trial 0.3 --max-trials 4 --resolution 10 --memory no-huge --quiet
# 802.3ad: two facing bonds per device; fails if a pair does not converge (about 8 s).
target/debug/bondd bench run --mode 4 --duration 0.5 --rate 1Mpps --memory no-huge --quiet
# The same with the worker as the bound: a net_pcap replay into net_null ports.
target/debug/bondd bench run --source replay --mode 4 --duration 0.5 --memory no-huge --quiet

# The closing line CI reads: the test counts, after the smoke runs' output.
passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
