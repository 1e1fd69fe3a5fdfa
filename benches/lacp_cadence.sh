#!/usr/bin/env bash
# LACP cadence while the data path is idle and while it forwards at full rate.
#
# One appliance, two 802.3ad bonds facing each other over two bondd_ring_pair links (DPDK
# rings, no kernel), both lacp_rate=fast (a periodic LACPDU every 1 s per member), different
# ad_actor_system so that loopback detection does not refuse them:
#
#   src (net_pcap infinite_rx, FLOWS UDP flows, 64-byte frames) --> bondA ==2 rings==> bondB
#
# idle:   no [[forward]]: the one worker only polls the members for LACPDUs.
# loaded: src -> bondA at full rate (one worker core does it all: it also polls bondB's
#         members and drops the data they receive).
# The control thread (CPU 0) records the time each LACPDU leaves (it hands it to the
# member's own TX queue) and arrives (it takes it from the worker's ring), per member
# (`show bonding lacp info <bond> --json`, lacpdu_times). After a WARM-second convergence
# period, every interval between two consecutive periodic LACPDUs of a member should be
# 1000 ms; jitter = interval - 1000 ms. 4 streams (2 bonds x 2 members) each way.
#
#   benches/lacp_cadence.sh [SECONDS] [FLOWS]
# Environment: BONDD=path to the bondd binary (default: build release), NOHUGE=1 to force
# 4 KiB pages, KEEP=1 to keep the work directory. Smoke run: benches/lacp_cadence.sh 8 256
# Exits non-zero if a figure could not be measured; the target (< 10 ms) is printed, not
# enforced.
set -euo pipefail
SECS=${1:-30}
FLOWS=${2:-4096}
WARM=4
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/benches/lib.sh"
[ "$SECS" -ge $((WARM + 4)) ] || { echo "SECONDS must be >= $((WARM + 4))" >&2; exit 2; }

WORK=$(mktemp -d /tmp/bondd-cadence-XXXXXX)
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

private_bondd
choose_memory
"$BONDD" gen-pcap --out "$WORK/flows.pcap" --flows "$FLOWS" --size 60 >/dev/null

config() { # phase (idle|loaded)
  bondd_toml_head net_pcap_lc0 "$WORK/flows.pcap"
  for b in A B; do
    side=0; sys=02:00:00:00:0c:0a
    [ $b = B ] && { side=1; sys=02:00:00:00:0c:0b; }
    cat <<TOML
[[bond]]
name = "bond$b"
mac = "$sys"
options = "mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4 ad_actor_system=$sys"
[[bond.member]]
name = "${b,,}0"
device = "bondd_ring_pair:lc$$x0:$side"
[[bond.member]]
name = "${b,,}1"
device = "bondd_ring_pair:lc$$x1:$side"
TOML
  done
  if [ "$1" = loaded ]; then
    printf '[[forward]]\nfrom = "src"\nto = "bondA"\nbidirectional = false\n'
  fi
  cat <<TOML
[run]
stats_period_ms = 0
duration_s = $SECS
run_dir = "$WORK/run_$1"
socket = "$WORK/run_$1/bondd.sock"
TOML
}

# Runs one phase; leaves $WORK/<phase>.A.json, .B.json (LACP info) and .report (final JSON).
run_phase() {
  local ph=$1
  config "$ph" >"$WORK/$ph.toml"
  "$BONDD" run --config "$WORK/$ph.toml" --json >"$WORK/$ph.out" 2>"$WORK/$ph.err" &
  BPID=$!
  sleep $((SECS - 1))
  for b in A B; do
    "$BONDD" ctl --socket "$WORK/run_$ph/bondd.sock" "show bonding lacp info bond$b --json" \
      >"$WORK/$ph.$b.json" || { echo "ctl failed ($ph, bond$b)" >&2; tail -5 "$WORK/$ph.err" >&2; }
  done
  wait "$BPID" || { echo "bondd failed ($ph):" >&2; tail -5 "$WORK/$ph.err" >&2; }
  BPID=
  grep '^{' "$WORK/$ph.out" | tail -1 >"$WORK/$ph.report" || true
}

echo "LACP cadence: two 802.3ad bonds over 2 ring pairs in one appliance, lacp_rate=fast"
echo "memory: $MEM_BD; worker on CPU 1, control thread on CPU 0; ${SECS} s per phase, first ${WARM} s discarded"
echo "bondd: $("$BONDD" --version 2>/dev/null || echo "$BONDD")"
for ph in idle loaded; do run_phase "$ph"; done

python3 - "$WORK" "$WARM" "$SECS" <<'PY'
import json, statistics, sys
work, warm, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
failed = False
print()
print(f"{'phase':7} {'what':9} {'n':>4} {'mean ms':>9} {'stdev ms':>9} {'min ms':>8} {'max ms':>8} "
      f"{'max |jitter| ms':>16} {'p99 |jitter| ms':>16}  Mpps into bondA")
for ph in ("idle", "loaded"):
    mpps = "-"
    try:
        rep = json.load(open(f"{work}/{ph}.report"))
        a = next(b for b in rep["bonds"] if b["name"] == "bondA")
        mpps = f"{sum(m[1] for m in a['members']) / rep['elapsed_s'] / 1e6:.2f}"
    except Exception:
        if ph == "loaded":
            failed = True
    for what, key in (("departure", "tx_us"), ("arrival", "rx_us")):
        iv = []
        for b in "AB":
            try:
                members = json.load(open(f"{work}/{ph}.{b}.json"))
            except Exception:
                failed = True
                continue
            for m in members:
                t = [x / 1e3 for x in m["lacpdu_times"][key] if x / 1e6 >= warm]
                # Only periodic LACPDUs: an NTT one (a state change) would be closer.
                iv += [y - x for x, y in zip(t, t[1:]) if y - x >= 500]
        if len(iv) < 4:
            print(f"{ph:7} {what:9} too few intervals ({len(iv)})")
            failed = True
            continue
        jit = sorted(abs(x - 1000) for x in iv)
        p99 = jit[min(len(jit) - 1, int(0.99 * len(jit)))]
        print(f"{ph:7} {what:9} {len(iv):4} {statistics.mean(iv):9.3f} {statistics.pstdev(iv):9.3f} "
              f"{min(iv):8.3f} {max(iv):8.3f} {jit[-1]:16.3f} {p99:16.3f}  {mpps}")
print()
print("target: LACPDU interval jitter < 10 ms while forwarding at full rate (not enforced)")
sys.exit(1 if failed else 0)
PY
