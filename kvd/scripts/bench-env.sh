# bench-env.sh — sourced by shards-bench.sh and shards-profile.sh: builds
# anvil and kvd from this checkout and kvbench from the shared benchmark
# tree (KVBENCH_DIR, default ../shared/bench/kv next to the repository)
# into a fresh $WORK (named after $1), and on exit stops every cluster
# started under $WORK/cluster-* and removes $WORK.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVBENCH_DIR=${KVBENCH_DIR:-$ROOT/../shared/bench/kv}
WORK=$(mktemp -d "/tmp/$1.XXXXXX")
cleanup() {
  for d in "$WORK"/cluster-*; do [ -d "$d" ] && "$WORK/bin/anvil" cluster down --dir "$d" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
(cd "$ROOT" && go build -o "$WORK/bin/" ./cmd/anvil ./cmd/kvd)
(cd "$KVBENCH_DIR" && go build -o "$WORK/bin/kvbench" ./cmd/kvbench)
