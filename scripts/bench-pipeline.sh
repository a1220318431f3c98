#!/usr/bin/env bash
# Times `nmscope-cli run` on a 4096 x 11008 fp16 safetensors tensor (2:4, int4 g128, --engines none): the whole
# pipeline of load (mmap + decode), prune, quantize + pack, dequantize and the error figures, one config.
# Usage: scripts/bench-pipeline.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
build=${1:-build}
repeats=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/down_proj.safetensors" <<'PY'
import sys, numpy as np
from safetensors.numpy import save_file
rng = np.random.default_rng(0)
save_file({"down_proj.weight": (rng.standard_normal((4096, 11008), dtype=np.float32) * 0.02).astype(np.float16)}, sys.argv[1])
PY
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u +%F)"; echo
for run in $(seq "$repeats"); do
  rm -f "$work"/results.db*
  /usr/bin/time -f "run $run: %e s wall, %M KiB peak RSS" "$build/app/cli/nmscope-cli" run \
    --weights "$work/down_proj.safetensors" --pattern 2:4 --bits 4 --engines none --db "$work/results.db" >/dev/null 2>&1
done
