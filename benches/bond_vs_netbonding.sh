#!/usr/bin/env bash
# bondd's bond engine vs DPDK's net_bonding PMD (in dpdk-testpmd), side by side in one run.
#
# For each bonding mode, three set-ups forward the same net_pcap infinite_rx replay (FLOWS
# distinct UDP flows, 64-byte frames) on the same two CPUs (main/control on CPU 0, the one
# forwarding core on CPU 1), with the same memory mode:
#   plain        bondd, no bond: src -> one net_null sink (no-rx=1); the upper bound
#   bondd        bondd: src -> bond0 of two net_null members (no-rx=1), bidirectional = false
#   net_bonding  dpdk-testpmd --forward-mode=io between the pcap port and a net_bonding port
#                over the same two net_null members (--portlist: the members are ethdev ports
#                too, and testpmd must not forward on them directly)
# alternating (the order rotates every rep), REPS times each; the figure is the median.
# Throughput = frames sent by the members per second / copies (copies = 2 in broadcast, else
# 1), i.e. source frames that made it out of the bond, per stats period (1 s), the first
# period discarded. The member split is each member's share of the members' TX (bondd: the
# `run --json` final report; net_bonding: testpmd's port stats of the member ports).
# Note: testpmd's io engine also polls the bond's (empty) RX queue, since it pairs ports;
# bondd forwards one way only (as configured).
#
#   benches/bond_vs_netbonding.sh [REPS] [SECONDS] [FLOWS]
# Environment: BONDD=path to the bondd binary (default: build release), NOHUGE=1 to force
# 4 KiB pages, MODES="rr ab ..." to run only some rows (default: all; keys: BOND_ROWS in lib.sh).
# Smoke run: MODES="rr xor-l34" benches/bond_vs_netbonding.sh 1 3 1024
# Exits non-zero if any figure could not be measured; the targets are printed, not enforced.
set -euo pipefail
REPS=${1:-3}
SECS=${2:-6}
FLOWS=${3:-4096}
SIZE=60
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/benches/lib.sh"

PLAIN_TARGET=0.90
select_modes
[ "$SECS" -ge 3 ] || { echo "SECONDS must be >= 3 (the first period is discarded)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/bondd-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not found: run scripts/setup.sh" >&2; exit 1; }
private_bondd

choose_memory

PCAP=$WORK/flows.pcap
"$BONDD" gen-pcap --out "$PCAP" --flows "$FLOWS" --size "$SIZE" >/dev/null
mkdir -p "$WORK/run"
plain_toml >"$WORK/plain.toml"


# bondd run on config $1; the TX of ports $2 (space-separated) summed per period, / $3.
# Prints "MPPS TX0 TX1" (TX0/TX1: the bond's members' final TX counters, "- -" for plain).
run_bondd() {
  local cfg=$1 ports=$2 copies=$3 out=$WORK/bondd.out err=$WORK/bondd.err mpps split
  if ! "$BONDD" run --config "$cfg" --json >"$out" 2>"$err"; then
    { echo "bondd failed on $cfg:"; tail -5 "$err"; } >&2
    echo "nan nan nan"; return
  fi
  grep -E ' (WARN|ERROR) ' "$err" | sed 's/^[^ ]* *//' >>"$WORK/bondd.msgs" || true
  mpps=$(awk -v ports=" $ports " -v copies="$copies" '
      /---- t=/ {if (have) print s/copies; s=0; have=0; next}
      index(ports, " " $1 " ") && NF==7 {s+=$3; have=1}
      END {if (have) print s/copies}' "$out" | mean_after_first)
  if [ "$ports" = sink ]; then split="- -"; else
    split=$(sed -n 's/.*"members":\[\["eth0",\([0-9]*\),[0-9]*\],\["eth1",\([0-9]*\),[0-9]*\]\].*/\1 \2/p' "$out")
    [ -n "$split" ] || { echo "bondd: no bonds[].members in the --json report" >&2; split="nan nan"; }
  fi
  echo "$mpps $split"
}

# testpmd run with net_bonding devargs $1, / $2 copies. Interactive: "show port stats all"
# once a second shows every port, the member ports included (--stats-period shows only the
# forwarding ports). Prints "MPPS TX1 TX2" (member ports' TX counters at the last show).
# $3: run number, for a unique --file-prefix.
run_testpmd() {
  local bond=$1 copies=$2 nrun=$3 fifo=$WORK/tp.fifo out=$WORK/tp.out pid
  rm -f "$fifo"; mkfifo "$fifo"
  # timeout only as a safety net: the run ends with "quit".
  timeout -s INT $((SECS + 60)) stdbuf -oL dpdk-testpmd -l 0,1 $MEM_TP --no-pci --no-telemetry \
    --file-prefix="bbnb$$_$nrun" --log-level='*:notice' \
    --vdev "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" --vdev "net_null1,no-rx=1" \
    --vdev "net_null2,no-rx=1" --vdev "net_bonding0,$bond,slave=net_null1,slave=net_null2" \
    -- -i --forward-mode=io --nb-cores=1 --portlist=0,3 <"$fifo" >"$out" 2>&1 &
  pid=$!
  (
    trap '' PIPE
    exec 3>"$fifo"
    echo start >&3 || exit 0
    for _ in $(seq 600); do    # wait (up to 60 s) until forwarding has started
      grep -q 'packet forwarding - ports=' "$out" && break
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 0.1
    done
    for _ in $(seq "$SECS"); do sleep 1; echo "show port stats all" >&3 || exit 0; done
    echo stop >&3 && echo quit >&3
  ) || true
  wait "$pid" || true
  tr -d '\033' <"$out" | sed 's/^\(testpmd> \)*//' | grep -iE 'warn|fail|error|not supported|bond' \
    | grep -vE '^(show|start|stop|quit)|[RT]X-errors:|NUMA should be configured' \
    | sed -e "s/^\([a-z_]*\)([0-9]*) -/\1 -/" -e "s/^/$bond\t/" >>"$WORK/tp.msgs" || true
  # Exactly two streams, pcap port 0 <-> bond port 3; anything else is a set-up error.
  if [ "$(grep -cE 'RX P=[0-9]+/Q=[0-9]+ .*-> TX P=' "$out")" != 2 ] \
     || ! grep -qE 'RX P=0/Q=0 .*-> TX P=3/Q=0' "$out" || ! grep -qE 'RX P=3/Q=0 .*-> TX P=0/Q=0' "$out"; then
    { echo "testpmd ($bond): not forwarding pcap port 0 <-> bond port 3 only:"; grep -E 'RX P=|Cause|probe' "$out" | head -5; } >&2
    echo "nan nan nan"; return
  fi
  tr -d '\033' <"$out" | awk -v copies="$copies" '
      /NIC statistics for port/ {p=$6; if (p==0) {if (blk) print s/copies; s=0; blk=1}}
      /Tx-pps:/ && (p==1 || p==2) {s+=$2}
      /TX-packets:/ && (p==1 || p==2) {tx[p]=$2}
      END {if (blk) print s/copies; print "TX", (1 in tx ? tx[1] : "nan"), (2 in tx ? tx[2] : "nan")}' \
    >"$WORK/tp.rates"
  echo "$(grep -v '^TX' "$WORK/tp.rates" | mean_after_first) $(awk '/^TX/ {print $2, $3}' "$WORK/tp.rates")"
}

# Share of the members' TX on each, "eth0/eth1" in %, from summed counters.
split_pct() { awk -v a="$1" -v b="$2" 'BEGIN {if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && a+b > 0) printf "%.0f/%.0f", 100*a/(a+b), 100*b/(a+b); else print "nan"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "nan"}'; }

echo "bond engine: net_pcap infinite_rx ($FLOWS flows, ${SIZE}-byte frames + FCS) -> bond of 2 net_null"
echo "memory: $MEM_BD; one forwarding core (CPU 1), control/main on CPU 0; $REPS alternating runs of ${SECS}s each"
echo "bondd: $("$BONDD" --version 2>/dev/null || echo "$BONDD")"
echo
printf "%-30s %-4s %8s %8s %12s\n" "mode/policy" rep plain bondd net_bonding
declare -A PL BD NB BS0 BS1 NS0 NS1
FAILED=0; TP_RUNS=0
# Running sum of frame counters; "nan" once one is missing. printf, not print: mawk prints a
# number of 2^31 or more as "2.14748e+09", which the next call would take for a missing one.
acc() { awk -v s="$1" -v t="$2" 'BEGIN {if (s ~ /^[0-9]+$/ && t ~ /^[0-9]+$/) printf "%.0f\n", s + t; else print "nan"}'; }
for row in "${BOND_ROWS[@]}"; do
  IFS='|' read -r key label bopts nbargs copies _ <<<"$row"
  case " $MODES " in *" $key "*) ;; *) continue;; esac
  bond_toml "$bopts" >"$WORK/bond.toml"
  P=(); B=(); N=(); BS0[$key]=0; BS1[$key]=0; NS0[$key]=0; NS1[$key]=0
  for i in $(seq 1 "$REPS"); do
    order=(plain bondd netb)
    [ -n "$nbargs" ] || order=(plain bondd)
    r=$(( (i - 1) % ${#order[@]} ))
    order=("${order[@]:r}" "${order[@]:0:r}")
    p=nan; b=nan; n=n/a
    for who in "${order[@]}"; do
      case $who in
        plain) read -r p _ _ < <(run_bondd "$WORK/plain.toml" sink 1) ;;
        bondd) read -r b t0 t1 < <(run_bondd "$WORK/bond.toml" "eth0 eth1" "$copies")
               BS0[$key]=$(acc "${BS0[$key]}" "$t0")
               BS1[$key]=$(acc "${BS1[$key]}" "$t1") ;;
        netb)  TP_RUNS=$((TP_RUNS + 1))
               read -r n t0 t1 < <(run_testpmd "$nbargs" "$copies" "$TP_RUNS")
               NS0[$key]=$(acc "${NS0[$key]}" "$t0")
               NS1[$key]=$(acc "${NS1[$key]}" "$t1") ;;
      esac
    done
    P+=("$p"); B+=("$b"); N+=("$n")
    printf "%-30s %-4s %8s %8s %12s\n" "$label" "$i" "$p" "$b" "$n"
  done
  PL[$key]=$(printf "%s\n" "${P[@]}" | median)
  BD[$key]=$(printf "%s\n" "${B[@]}" | median)
  if [ -n "$nbargs" ]; then NB[$key]=$(printf "%s\n" "${N[@]}" | median); else NB[$key]=n/a; fi
done

echo
echo "medians of $REPS runs (Mpps); targets (not enforced): bondd/plain >= $PLAIN_TARGET everywhere;"
echo "bondd/net_bonding >= 1.18 balance-xor, >= 1.05 balance-rr and broadcast, >= 1.00 active-backup"
printf "%-30s %7s %7s %8s %16s %15s %11s %11s\n" "mode/policy" plain bondd net_bond \
  "bondd/net_bond" "bondd/plain" "bondd split" "nb split"
for row in "${BOND_ROWS[@]}"; do
  IFS='|' read -r key label _ nbargs _ target <<<"$row"
  case " $MODES " in *" $key "*) ;; *) continue;; esac
  bp=$(ratio "${BD[$key]}" "${PL[$key]}")
  bs=$(split_pct "${BS0[$key]}" "${BS1[$key]}")
  if [ -n "$nbargs" ]; then
    bn="$(ratio "${BD[$key]}" "${NB[$key]}") (>=$target)"; ns=$(split_pct "${NS0[$key]}" "${NS1[$key]}")
  else
    bn="n/a"; ns="n/a"
  fi
  printf "%-30s %7s %7s %8s %16s %15s %11s %11s\n" "$label" "${PL[$key]}" "${BD[$key]}" "${NB[$key]}" \
    "$bn" "$bp (>=$PLAIN_TARGET)" "$bs" "$ns"
  case "${PL[$key]} ${BD[$key]} ${NB[$key]} $bn $bp $bs $ns" in *nan*) FAILED=1;; esac
done
echo "(split: % of the members' TX frames on eth0/eth1; net_bonding: member ports 1/2)"

# Each distinct message once, with how many runs printed it and for which devargs.
if [ -s "$WORK/bondd.msgs" ]; then
  echo; echo "bondd warnings/errors (count, message):"
  sort "$WORK/bondd.msgs" | uniq -c | sort -rn | awk 'NR<=20'
fi
if [ -s "$WORK/tp.msgs" ]; then
  echo; echo "testpmd/net_bonding messages (count, message, net_bonding devargs):"
  awk -F'\t' '{n[$2]++; if (!(($2, $1) in seen)) {seen[$2, $1]; m[$2] = m[$2] " | " $1}}
    END {for (k in n) printf "%7d  %s  [%s]\n", n[k], k, substr(m[k], 4)}' "$WORK/tp.msgs" | sort -k2
fi
if [ "$FAILED" -ne 0 ]; then
  echo "some figure could not be measured (nan): runs too short, or a tool failed" >&2
  exit 1
fi
