#!/usr/bin/env bash
# Plain forwarding, bondd vs dpdk-testpmd --forward-mode=io, side by side in one run.
#
# Both forward the same net_pcap infinite_rx replay (>= 1024 distinct UDP flows) into a
# net_null sink (no-rx=1), on the same two CPUs (main/control on CPU 0, the one forwarding
# core on CPU 1), with the same memory mode, alternating, REPS times each. The figure is the
# sink's TX rate as each tool reports it per stats period (the first period, which includes
# start-up, is discarded). Prints every run, the medians and the ratio bondd / testpmd.
#
#   benches/fwd_vs_testpmd.sh [REPS] [SECONDS] [FLOWS] [FRAME_SIZE]
# Environment: BONDD=path to the bondd binary (default: build release), NOHUGE=1 to force
# 4 KiB pages.
set -euo pipefail
REPS=${1:-5}
SECS=${2:-8}
FLOWS=${3:-4096}
SIZE=${4:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/benches/lib.sh"
WORK=$(mktemp -d /tmp/bondd-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not found: run scripts/setup.sh" >&2; exit 1; }
private_bondd

choose_memory

PCAP=$WORK/flows.pcap
"$BONDD" gen-pcap --out "$PCAP" --flows "$FLOWS" --size "$SIZE" >/dev/null
{ bondd_toml_head net_pcap_bench0 "$PCAP"; cat <<TOML
[[port]]
name = "sink"
device = "net_null_bench0,no-rx=1"
[[forward]]
from = "src"
to = "sink"
[run]
stats_period_ms = 1000
duration_s = $SECS
TOML
} > "$WORK/bondd.toml"

run_bondd() {
  { "$BONDD" run --config "$WORK/bondd.toml" 2>"$WORK/bondd.err" || cat "$WORK/bondd.err" >&2; } \
    | awk '$1=="sink" {print $3}' | mean_after_first
}
run_testpmd() {
  # testpmd runs until SIGINT; timeout's own exit status (124) is expected.
  { timeout -s INT $((SECS + 3)) dpdk-testpmd -l 0,1 $MEM_TP --no-pci --no-telemetry \
    --file-prefix="tpbench$$" --log-level='*:notice' \
    --vdev "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" --vdev "net_null0,no-rx=1" \
    -- --forward-mode=io --stats-period 1 --nb-cores=1 2>&1 || true; } \
    | tr -d '\033' | awk '/NIC statistics for port/ {p=$6} /Tx-pps:/ && p==1 {print $2}' \
    | mean_after_first
}

echo "plain forwarding: net_pcap infinite_rx ($FLOWS flows, ${SIZE}-byte frames + FCS) -> net_null"
echo "memory: $MEM_BD; one forwarding core (CPU 1); $REPS alternating runs of ${SECS}s each"
printf "%-4s %12s %12s\n" run "bondd Mpps" "testpmd Mpps"
B=(); T=()
for i in $(seq 1 "$REPS"); do
  b=$(run_bondd); t=$(run_testpmd)
  B+=("$b"); T+=("$t")
  printf "%-4s %12s %12s\n" "$i" "$b" "$t"
done
mb=$(printf "%s\n" "${B[@]}" | median); mt=$(printf "%s\n" "${T[@]}" | median)
printf "%-4s %12s %12s\n" median "$mb" "$mt"
case "$mb$mt" in *nan*) echo "no rate measured (runs too short, or a tool failed)" >&2; exit 1;; esac
awk -v b="$mb" -v t="$mt" 'BEGIN {printf "ratio bondd/testpmd: %.3f (target >= 0.95)\n", b/t}'
