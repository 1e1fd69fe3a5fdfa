#!/usr/bin/env bash
# Instructions per forwarded frame: bondd's bond engine, DPDK's net_bonding and no bond, counted
# by valgrind's callgrind. Unlike Mpps on this shared host (±10 % between runs, and bimodal),
# the count is the same from run to run, so it shows a change of one or two instructions per
# frame that no throughput run can resolve.
#
# The three set-ups of bond_vs_netbonding.sh, all driven by the same `bondd run` forwarder:
#   plain        src (net_pcap infinite_rx) -> one net_null sink
#   bondd        src -> bondd's bond0 over two net_null members
#   net_bonding  src -> a net_bonding port over the same two net_null members
# Only the worker's forwarding loop is counted (callgrind --toggle-collect on
# dataplane::fwd::run), so start-up and the control thread are left out. The count is split by
# where the instructions run: the source PMD (net_pcap: mbuf allocation and copy), the member
# or sink PMD (net_null: mbuf free), net_bonding, bondd itself (forwarder and bond engine),
# and the rest of DPDK (per-lcore TLS lookups, mempool).
#
# What the count does not see: an atomic read-modify-write, a division or a cache miss costs
# many cycles but counts as one instruction. So a count is a floor on the work, not a time:
# broadcast's atomic refcount decrements in the member PMD, and net_bonding's per-frame
# modulo, cost more than their counts say.
#
#   benches/instructions.sh [SECONDS] [FLOWS]
# Environment: BONDD=path to the bondd binary (default: build release), MODES="rr ab ..." to run
# only some rows (keys: BOND_ROWS in lib.sh), KEEP=1 to keep the work directory (profiles,
# for callgrind_annotate). Each run takes about 10 s of valgrind start-up plus SECONDS.
# Exits non-zero if a count could not be taken.
set -euo pipefail
SECS=${1:-2}
FLOWS=${2:-4096}
SIZE=60
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/benches/lib.sh"
select_modes
[ "$SECS" -ge 1 ] || { echo "SECONDS must be >= 1" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind not found: run scripts/setup.sh" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bondd-instr-XXXXXX)
trap '[ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"' EXIT
private_bondd
# valgrind runs on 4 KiB pages: its address-space manager and hugepage mappings do not mix.
MEM_BD=no-huge
PCAP=$WORK/flows.pcap
"$BONDD" gen-pcap --out "$PCAP" --flows "$FLOWS" --size "$SIZE" >/dev/null
mkdir -p "$WORK/run"

# Exclusive instructions per object in a callgrind profile: "COUNT OBJECT" lines. Object names
# are compressed ("ob=(3) /path" once, "ob=(3)" after) and may first appear on a cob= line; the
# cost line after calls= is the callee's inclusive cost and is skipped. A cost line starts with
# its position: a number, +N or -N relative to the last, or * for the same one. The parsed
# costs must add up to the profile's own total, else the line "MISMATCH parsed total" tells
# the caller the parse went wrong.
per_object() {
  awk 'function obj(s,   id, rest) {
         if (match(s, /^\([0-9]+\)/)) {
           id = substr(s, RSTART, RLENGTH); rest = substr(s, RLENGTH + 2)
           if (rest != "") name[id] = rest
           return name[id]
         }
         return s
       }
       /^ob=/ { ob = obj(substr($0, 4)); next }
       /^cob=/ { obj(substr($0, 5)); next }
       /^calls=/ { skip = 1; next }
       /^[0-9+*-]/ { if (skip) { skip = 0; next } sum[ob] += $2; all += $2; next }
       /^totals:/ { total = $2 }
       END {
         for (o in sum) printf "%.0f %s\n", sum[o], o
         if (all != total) printf "MISMATCH %.0f %.0f\n", all, total
       }' "$1"
}

# Counts one config. Prints "TOTAL PCAP NULL BOND BONDD OTHER" in instructions per source frame
# ("nan ..." when the run failed, forwarded nothing or dropped frames).
count_once() { # name config
  local name=$1 cfg=$2 prof=$WORK/$1.cg frames dropped
  # --fair-sched: valgrind runs one thread at a time, and without it the busy worker can keep
  # the control thread (which ends the run after SECONDS) from ever being scheduled.
  if ! valgrind --tool=callgrind --fair-sched=yes --toggle-collect='dataplane::fwd::run' \
      --callgrind-out-file="$prof" "$BONDD" run --config "$cfg" --json \
      >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    { echo "$name: bondd under valgrind failed:"; grep -v '^==' "$WORK/$name.err" | tail -5; } >&2
    echo "nan nan nan nan nan nan"; return
  fi
  # The source port is the config's first: its first rx_packets in the final JSON report.
  frames=$(tail -n 1 "$WORK/$name.out" | grep -o '"rx_packets":[0-9]*' | head -n 1 | cut -d: -f2)
  # A frame dropped instead of sent (no usable member yet while valgrind starved the control
  # thread, a full queue) skips the member PMD's free: the count would look cheaper than the
  # path is. Every drop counter of the final report must be 0.
  dropped=$(tail -n 1 "$WORK/$name.out" |
    grep -o '"drops":\[[0-9,]*\]\|"no_member_drops":[0-9]*' | tr -c '0-9\n' ' ' |
    awk '{for (i = 1; i <= NF; i++) s += $i} END {printf "%.0f", s}')
  if [ "${dropped:-0}" != 0 ]; then
    echo "$name: $dropped frames dropped during the count" >&2
    echo "nan nan nan nan nan nan"; return
  fi
  per_object "$prof" | awk -v fr="${frames:-0}" -v bin="$BONDD" -v name="$name" '
    $1 == "MISMATCH" {
      printf "%s: parsed %s instructions of the profile'"'"'s %s\n", name, $2, $3 > "/dev/stderr"
      bad = 1; next
    }
    $2 ~ /librte_net_pcap/ {p += $1; next}
    $2 ~ /librte_net_null/ {n += $1; next}
    $2 ~ /librte_net_bond/ {b += $1; next}
    $2 == bin {d += $1; next}
    {o += $1}
    END {
      if (bad || fr + 0 == 0 || p + n + b + d + o == 0) {print "nan nan nan nan nan nan"; exit}
      printf "%.1f %.1f %.1f %.1f %.1f %.1f\n", (p+n+b+d+o)/fr, p/fr, n/fr, b/fr, d/fr, o/fr
    }'
}

# count_once, up to three times until a run is clean (under valgrind, a control thread starved
# at start-up can leave the bond without a usable member for its first frames).
count() { # name config
  local out
  for _ in 1 2 3; do
    out=$(count_once "$@")
    case "$out" in nan*) ;; *) echo "$out"; return;; esac
  done
  echo "$out"
}

echo "instructions per source frame in the worker's loop (callgrind), ${SECS}s per run"
echo "src: net_pcap infinite_rx ($FLOWS flows, ${SIZE}-byte frames + FCS); members: 2 net_null"
echo "bondd: $("$BONDD" --version 2>/dev/null || echo "$BONDD")"
echo
FAILED=0
plain_toml >"$WORK/plain.toml"
read -r PT PP PN _ PD PO < <(count plain "$WORK/plain.toml")
case "$PT" in nan) FAILED=1;; esac
HDR="%-28s %-12s %8s %8s %8s %8s %8s %8s %9s %10s\n"
# shellcheck disable=SC2059
printf "$HDR" "mode/policy" device total net_pcap net_null net_bond bondd "dpdk etc" "/ plain" "bondd/nb"
# shellcheck disable=SC2059
printf "$HDR" "(no bond)" plain "$PT" "$PP" "$PN" - "$PD" "$PO" 1.00 -
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.3f", a/b; else print "nan"}'; }
for row in "${BOND_ROWS[@]}"; do
  IFS='|' read -r key label bopts nbargs _ _ <<<"$row"
  case " $MODES " in *" $key "*) ;; *) continue;; esac
  bond_toml "$bopts" >"$WORK/bond.toml"
  read -r BT BP BN _ BD BO < <(count "bondd-$key" "$WORK/bond.toml")
  NT=n/a
  if [ -n "$nbargs" ]; then
    net_bonding_toml "$nbargs" >"$WORK/nb.toml"
    read -r NT NP NN NB ND NO < <(count "nb-$key" "$WORK/nb.toml")
  fi
  # Fewer instructions per frame is faster: "/ plain" and "bondd/nb" are plain/x and nb/bondd,
  # the throughput ratios the instruction counts alone would give.
  # shellcheck disable=SC2059
  printf "$HDR" "$label" bondd "$BT" "$BP" "$BN" - "$BD" "$BO" "$(ratio "$PT" "$BT")" \
    "$( [ "$NT" = n/a ] && echo n/a || ratio "$NT" "$BT")"
  if [ "$NT" != n/a ]; then
    # shellcheck disable=SC2059
    printf "$HDR" "" net_bonding "$NT" "$NP" "$NN" "$NB" "$ND" "$NO" "$(ratio "$PT" "$NT")" -
  fi
  case "$BT $NT" in *nan*) FAILED=1;; esac
done
echo
echo "(bondd: its forwarder and bond engine; in the net_bonding and plain rows, the forwarder"
echo " only. '/ plain' and 'bondd/nb' are what the counts predict for throughput, atomics and"
echo " divisions aside: plain/row and net_bonding/bondd.)"
if [ "$FAILED" -ne 0 ]; then
  echo "some count could not be taken (nan): see the messages above" >&2
  exit 1
fi
