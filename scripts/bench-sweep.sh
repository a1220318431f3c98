#!/usr/bin/env bash
# The sweep targets of issue 11 (docs/PERFORMANCE.md, "Sweeps: planning and merge"):
#  - `nmscope-cli sweep --plan` of a sweep with about 10^6 points into 100 shards (target < 1 s, slowest shard within
#    1.5x of the mean), and
#  - `nmscope-cli merge` of 100 shard databases holding 10^6 measurements together (target < 30 s), the shards written
#    by bench_sweep_shards through the store's API.
# Usage: scripts/bench-sweep.sh [BUILD_DIR] [REPEATS]   (builds bench_sweep_shards in BUILD_DIR first)
set -euo pipefail
build=${1:-build}
repeats=${2:-3}
cli="$build/app/cli/nmscope-cli"
cmake --build "$build" --target nmscope-cli bench_sweep_shards >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u +%F); commit: $(git rev-parse --short HEAD)"

# 112 LLaMA-7B blocks (784 layers) x 8 patterns x 4 bit widths x 5 engines x 8 batch sizes.
python3 - "$work/sweep.json" <<'PY'
import json, sys
json.dump({"sources": [f"synth:llama-7b-block:seed={seed}" for seed in range(112)],
           "patterns": ["dense", "2:4", "1:4", "3:4", "4:8", "2:8", "1:8", "6:8"],
           "bits": [8, 4, 3, 2],
           "engines": ["cpu/eigen-fp32-dense", "fpga"],
           "arrays": ["8x8", "16x16", "32x32", "64x64"],
           "batches": [1, 2, 4, 8, 16, 32, 64, 128]}, open(sys.argv[1], "w"))
PY
echo; echo "== sweep --plan, 100 shards"
for run in $(seq "$repeats"); do
  /usr/bin/time -f "plan run $run: %e s wall, %M KiB peak RSS" "$cli" sweep --spec "$work/sweep.json" --shard 0/100 --plan \
    > "$work/plan.txt"
done
tail -1 "$work/plan.txt"

echo; echo "== merge of 100 shard databases, 10^6 measurements"
mkdir "$work/shards"
"$build/tests/core/sweep/bench_sweep_shards" "$work/shards" 100 1000000
du -sh "$work/shards"
for run in $(seq "$repeats"); do
  rm -f "$work"/all.db*
  /usr/bin/time -f "merge run $run: %e s wall, %M KiB peak RSS" "$cli" merge --out "$work/all.db" "$work"/shards/shard-*.db \
    | tail -1
done
/usr/bin/time -f "re-merge (every row a duplicate): %e s wall" "$cli" merge --out "$work/all.db" "$work"/shards/shard-*.db | tail -1
