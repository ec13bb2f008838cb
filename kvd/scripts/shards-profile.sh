#!/usr/bin/env bash
# shards-profile.sh — where a write's cost goes with 1 and with 16 shards:
# per put, summed over the three kvd processes, the CPU time, fsyncs,
# write/writev/read/futex/epoll system calls, context switches, Raft write
# rounds (entries) and appends per grouped fsync.
#
# Builds anvil and kvd from this checkout and kvbench from the shared
# benchmark tree (KVBENCH_DIR, default ../shared/bench/kv next to the
# repository). For each shard count in SHARDS and client count in CLIENTS
# it starts `anvil cluster up --kvd 3 --shards N`, runs kvbench put-seq for
# 14 s and, from the 7th second, counts for WINDOW seconds: CPU from
# /proc/PID/stat, system calls and context switches with `perf stat` (skipped
# when perf is missing or not permitted), and kvd's own counters from
# /metrics. With PPROF=DIR it also saves a CPU profile of each node there.
# Environment: SHARDS (1,16), CLIENTS (64), WINDOW (5), VALUE_SIZE (256).
#
# Run it alone on the machine (flock -x /tmp/anvil-bench.lock ...).
set -euo pipefail
SHARDS=${SHARDS:-1,16}; CLIENTS=${CLIENTS:-64}; WINDOW=${WINDOW:-5}; VALUE_SIZE=${VALUE_SIZE:-256}
. "$(dirname "$0")/bench-env.sh" kvd-shards-profile
EVENTS=syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_nanosleep,context-switches
PERF=1
if ! command -v perf >/dev/null || ! perf stat -x, -e "$EVENTS" -o /dev/null true 2>/dev/null; then
  PERF=0; echo "perf unavailable: no system call counts" >&2
fi
TICK=$(getconf CLK_TCK)

cpu() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
counters() { # summed over the nodes
  local a
  for a in "$@"; do curl -s "http://$a/metrics"; done |
    awk '/^anvil_kvd_(write_rounds_total|proposals_total|applied_entries_total|pebble_grouped_syncs_total|pebble_grouped_appends_total) /{s[$1]+=$2} END{for (k in s) print k, s[k]}' | sort
}

IFS=, read -r -a shard_counts <<< "$SHARDS"
IFS=, read -r -a client_counts <<< "$CLIENTS"
for c in "${client_counts[@]}"; do
  for n in "${shard_counts[@]}"; do
    dir=$WORK/cluster-$n-$c
    "$WORK/bin/anvil" cluster up --kvd 3 --shards "$n" --random-ports --dir "$dir" --json > "$dir.json"
    read -r -a pids <<< "$(python3 -c 'import json,sys; print(" ".join(str(x["pid"]) for x in json.load(open(sys.argv[1]))["nodes"]))' "$dir.json")"
    read -r -a admins <<< "$(python3 -c 'import json,sys; print(" ".join(x["admin"] for x in json.load(open(sys.argv[1]))["nodes"]))' "$dir.json")"
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$WORK/bin/kvbench" -target kvd -cluster "$dir.json" -workloads put-seq -clients "$c" -duration 14s \
      -value-size "$VALUE_SIZE" | tail -1 > "$WORK/r.json" &
    bench=$!
    sleep 7
    counters "${admins[@]}" > "$WORK/m0"
    cpu0=$(cpu "${pids[@]}")
    if [ -n "${PPROF:-}" ]; then
      mkdir -p "$PPROF"
      for i in "${!admins[@]}"; do
        curl -s -o "$PPROF/shards=$n.clients=$c.node$i.pprof" "http://${admins[$i]}/debug/pprof/profile?seconds=$WINDOW" &
      done
    fi
    if [ "$PERF" = 1 ]; then
      perf stat -x, -e "$EVENTS" -p "$(IFS=,; echo "${pids[*]}")" -o "$WORK/perf" sleep "$WINDOW"
    else
      sleep "$WINDOW"; : > "$WORK/perf"
    fi
    cpu1=$(cpu "${pids[@]}")
    counters "${admins[@]}" > "$WORK/m1"
    wait
    "$WORK/bin/anvil" cluster down --dir "$dir" >/dev/null
    python3 - "$WORK" "$n" "$c" "$load" "$WINDOW" "$((cpu1 - cpu0))" "$TICK" <<'PY'
import json, sys
work, n, c, load, window, ticks, hz = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
ops = json.load(open(f"{work}/r.json"))["results"][0]["ops_per_sec"]
m0 = dict(l.split() for l in open(f"{work}/m0"))
m1 = dict(l.split() for l in open(f"{work}/m1"))
d = {k.removeprefix("anvil_kvd_").removesuffix("_total"): float(m1[k]) - float(m0.get(k, 0)) for k in m1}
puts = d.get("proposals", 0) or ops * window
rounds = d.get("write_rounds", 0)
print(f"shards={n} clients={c} load={load}: {ops:.0f} puts/s, kvd CPU {ticks / hz / window:.2f} cores = {ticks / hz * 1e6 / puts:.0f} us/put;"
      f" {puts / rounds if rounds else 0:.1f} puts per write round;"
      f" {d.get('pebble_grouped_appends', 0) / max(1, d.get('pebble_grouped_syncs', 0)):.1f} appends per fsync")
for line in open(f"{work}/perf"):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].replace(".", "").isdigit():
        v = float(f[0])
        print(f"  {f[2].removeprefix('syscalls:sys_enter_'):18s} {v / puts:6.2f} per put  {v / rounds if rounds else 0:6.2f} per round")
PY
  done
done
