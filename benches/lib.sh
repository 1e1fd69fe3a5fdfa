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
