#!/usr/bin/env bash
# shards-bench.sh — write throughput of three kvd processes with 1 and with
# 16 shards (the same binaries, machine and workload), interleaved.
#
# Builds anvil and kvd from this checkout and kvbench from the shared
# benchmark tree (KVBENCH_DIR, default ../shared/bench/kv next to the
# repository), then for each of ROUNDS rounds starts `anvil cluster up
# --kvd 3 --shards N` for N in SHARDS (order alternates per round), runs
# kvbench put-seq at CLIENTS for DURATION and stops the cluster. Prints
# every run, then per client count the median puts/s of each shard count
# and the ratio of the last shard count to the first, with the load
# average. Environment: ROUNDS (3), DURATION (10s), CLIENTS (16,64),
# SHARDS (1,16), VALUE_SIZE (256).
set -euo pipefail
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10s}; CLIENTS=${CLIENTS:-16,64}; SHARDS=${SHARDS:-1,16}; VALUE_SIZE=${VALUE_SIZE:-256}
. "$(dirname "$0")/bench-env.sh" kvd-shards-bench
IFS=, read -r -a counts <<< "$SHARDS"
for r in $(seq 1 "$ROUNDS"); do
  order=("${counts[@]}")
  if [ $((r % 2)) = 0 ]; then order=($(printf '%s\n' "${counts[@]}" | tac)); fi
  for n in "${order[@]}"; do
    dir=$WORK/cluster-$n-$r
    "$WORK/bin/anvil" cluster up --kvd 3 --shards "$n" --random-ports --dir "$dir" --json > "$WORK/c.json"
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$WORK/bin/kvbench" -target kvd -cluster "$WORK/c.json" -workloads put-seq -clients "$CLIENTS" \
      -duration "$DURATION" -value-size "$VALUE_SIZE" | tail -1 > "$WORK/r.$n.$r.json"
    "$WORK/bin/anvil" cluster down --dir "$dir" >/dev/null
    echo "$load" > "$WORK/load.$n.$r"
    echo "round $r shards=$n load=$load $(python3 -c 'import json,sys; print(" ".join("c=%d:%.0f/s(err %d)" % (x["clients"], x["ops_per_sec"], x["errors"]) for x in json.load(open(sys.argv[1]))["results"]))' "$WORK/r.$n.$r.json")"
  done
done
python3 - "$WORK" "$ROUNDS" "$SHARDS" <<'PY'
import json, sys, statistics
work, rounds, shards = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
ops, loads = {}, []
for n in shards:
    for r in range(1, rounds + 1):
        loads.append(float(open(f"{work}/load.{n}.{r}").read()))
        for x in json.load(open(f"{work}/r.{n}.{r}.json"))["results"]:
            ops.setdefault((x["clients"], n), []).append(x["ops_per_sec"])
print(f"{'clients':>7} " + " ".join(f"{'shards=' + n:>10}" for n in shards) + f" {shards[-1] + '/' + shards[0]:>8}")
for c in sorted({k[0] for k in ops}):
    med = [statistics.median(ops[(c, n)]) for n in shards]
    print(f"{c:>7} " + " ".join(f"{m:>10.0f}" for m in med) + f" {med[-1] / med[0]:>8.2f}")
print(f"load average (1 min) at the runs: {min(loads):.2f}..{max(loads):.2f}")
PY
