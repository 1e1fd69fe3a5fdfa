#!/usr/bin/env bash
# Shared by the benchmark scripts (sourced, not run).

# Memory: 2 MiB hugepages when they can be had (about 40 % faster), else 4 KiB pages.
# Sets MEM_TP (testpmd's EAL arguments) and MEM_BD (bondd's [eal] memory).
choose_memory() {
  MEM_TP="--no-huge -m 1024 --no-shconf"; MEM_BD="no-huge"
  if [ -z "${NOHUGE:-}" ]; then
    local cur free
    cur=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
    [ "$cur" -ge 512 ] || echo 512 > /proc/sys/vm/nr_hugepages 2>/dev/null || true
    free=$(awk '/HugePages_Free/{print $2}' /proc/meminfo)
    if [ "${free:-0}" -ge 512 ]; then MEM_TP="--in-memory"; MEM_BD="hugepages"; fi
  fi
}

# Mean of the per-period rates on stdin after the first period, in Mpps ("nan" if none).
mean_after_first() { awk 'NR>1 && $1>0 {s+=$1; n++} END {if (n) printf "%.2f", s/n/1e6; else print "nan"}'; }

# Median of the numbers on stdin.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# The head of a bondd config every benchmark shares: memory mode, control on CPU 0, one
# worker on CPU 1, and port "src" replaying pcap $2 forever as DPDK device $1.
bondd_toml_head() { # device-name pcap
  cat <<TOML
[eal]
memory = "$MEM_BD"
[cores]
control = 0
workers = [1]
[[port]]
name = "src"
device = "$1,rx_pcap=$2,infinite_rx=1"
TOML
}

# BONDD: the binary to measure (default: a release build of this tree), copied into $WORK so
# that a rebuild during the run cannot change what is measured. Needs ROOT and WORK.
private_bondd() {
  if [ -z "${BONDD:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p control)
    BONDD=$ROOT/target/release/bondd
  fi
  cp "$BONDD" "$WORK/bondd"; BONDD=$WORK/bondd
}

# MODES (env, default: every row of BOND_ROWS) checked against BOND_ROWS' keys.
select_modes() {
  local all k
  all=$(for r in "${BOND_ROWS[@]}"; do printf "%s " "${r%%|*}"; done)
  MODES=${MODES:-$all}
  for k in $MODES; do
    case " $all " in *" $k "*) ;; *) echo "MODES: unknown key '$k' (known: $all)" >&2; exit 2;; esac
  done
}

# The rows of the bond-engine benchmarks (bond_vs_netbonding.sh, instructions.sh):
# key | label | bondd options | net_bonding devargs ("" = no equivalent) | copies | target vs net_bonding
BOND_ROWS=(
  "rr|balance-rr|mode=balance-rr|mode=0|1|1.05"
  "ab|active-backup|mode=active-backup|mode=1|1|1.00"
  "xor-l2|balance-xor layer2 / l2|mode=balance-xor xmit_hash_policy=layer2|mode=2,xmit_policy=l2|1|1.18"
  "xor-l23|balance-xor layer2+3 / l23|mode=balance-xor xmit_hash_policy=layer2+3|mode=2,xmit_policy=l23|1|1.18"
  "xor-l34|balance-xor layer3+4 / l34|mode=balance-xor xmit_hash_policy=layer3+4|mode=2,xmit_policy=l34|1|1.18"
  "xor-encap23|balance-xor encap2+3|mode=balance-xor xmit_hash_policy=encap2+3||1|"
  "xor-encap34|balance-xor encap3+4|mode=balance-xor xmit_hash_policy=encap3+4||1|"
  "xor-vlansrcmac|balance-xor vlan+srcmac|mode=balance-xor xmit_hash_policy=vlan+srcmac||1|"
  "bcast|broadcast|mode=broadcast|mode=3|2|1.05"
)

# The configs both bond-engine benchmarks run: "src" (pcap $PCAP, forever) forwarded one way
# to a net_null sink (plain_toml) or to bond0 over two net_null members (bond_toml OPTIONS),
# for $SECS seconds, run directory under $WORK. net_bonding_toml DEVARGS: the same, into
# DPDK's net_bonding over the same two net_null members (EAL probes them first).
fwd_toml_tail() { # to
  cat <<TOML
[[forward]]
from = "src"
to = "$1"
bidirectional = false
[run]
stats_period_ms = 1000
duration_s = $SECS
run_dir = "$WORK/run"
TOML
}
plain_toml() {
  bondd_toml_head net_pcap_bb0 "$PCAP"
  printf '[[port]]\nname = "sink"\ndevice = "net_null_bb1,no-rx=1"\n'
  fwd_toml_tail sink
}
bond_toml() { # options
  bondd_toml_head net_pcap_bb0 "$PCAP"
  cat <<TOML
[[bond]]
name = "bond0"
options = "$1 miimon=100"
[[bond.member]]
name = "eth0"
device = "net_null_bb1,no-rx=1"
[[bond.member]]
name = "eth1"
device = "net_null_bb2,no-rx=1"
TOML
  fwd_toml_tail bond0
}
net_bonding_toml() { # devargs
  bondd_toml_head net_pcap_bb0 "$PCAP" \
    | sed 's/^\[eal\]$/[eal]\nargs = ["--vdev", "net_null_bb1,no-rx=1", "--vdev", "net_null_bb2,no-rx=1"]/'
  printf '[[port]]\nname = "bond0"\ndevice = "net_bonding_bb,%s,slave=net_null_bb1,slave=net_null_bb2"\n' "$1"
  fwd_toml_tail bond0
}
