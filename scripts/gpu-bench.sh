#!/usr/bin/env bash
# The GPU engine's one script for the device (issue 5): build without the GUI, run the CUDA test suites, verify every
# gpu/ variant against the double reference, and time them beside cuBLAS and cuSPARSELt. Logs and tables go to $OUT
# (default ./gpu-out).
#
#   scripts/gpu-bench.sh [all|build|test|verify|bench|bench-quick|decode|reproduce|peers|cpu|ab]...
#                                                          (default: all = build test verify bench peers decode)
#
# Environment:
#   NMSCOPE_DEBS      folder of Debian .deb files to unpack when Qt6 Test / Eigen / TBB / ... are missing (the GPU
#                     machine has CUDA, CMake and a compiler but no Qt): unpacked into $NMSCOPE_DEPS, never into /
#   NMSCOPE_DEPS      where they are unpacked (default /tmp/nmscope-deps)
#   NMSCOPE_WHEELS    folder of Python wheels the test fixtures need and the machine lacks (gguf: make_fixtures.py
#                     writes GGUF files with it), installed with --no-deps under $NMSCOPE_DEPS/python, put on PYTHONPATH
#   BUILD_DIR         default build-gpu; on the lent machine put it outside the carried checkout (e.g.
#                     /tmp/nmscope-build): a carried folder is replaced on every call, /tmp stays while the machine is warm
#                     NMSCOPE_JOBS default: all cores
#   BUILD_TARGETS     only these targets (e.g. "nmscope-cli"), for a quick call; default: everything
#   TEST_FILTER       a regular expression: only the cuda suites it matches (ctest -R)
#   VERIFY_CONFIGS    random configurations for verify (default 60)
#   BENCH_SHAPES, BENCH_BATCHES, BENCH_SECONDS  the bench sweep (defaults: the issue's three layers, batch 1..8192)
#   BENCH_PARTS       which sweeps: any of int4 (2:4 and dense), int8 (2:4), nm (4:8, 1:4, 2:8); default all
#   DECODE_PRESET, DECODE_ENGINES, DECODE_BATCHES, DECODE_CONTEXT  the decoder step (defaults: llama-7b, int4 2:4 and
#                     dense and cuSPARSELt beside cuBLAS fp16, batch 1, 4, 16 and 64, context 512); then gpu/int4-2:4
#                     at batch 1 again with plain launches (DECODE_SKIP_PLAIN=1 skips it), and the whole step again
#                     with an int8 KV cache (DECODE_SKIP_INT8_KV=1 skips it)
#   NMSCOPE_PEERS     a folder holding Sparse-Marlin's sources (sparse-marlin/) and the PyTorch harness that times it
#                     beside cuBLAS (gpu_marlin.py): ../shared/peers in the development checkout, carried to the GPU
#                     machine. The peers step builds Sparse-Marlin for sm_90a under NMSCOPE_PEERS_BUILD (default
#                     /tmp/nmscope-peers), times it, and joins it with the bench's rows into the GPU issue's peer table
#                     (peers-table.md). Without it the step is skipped with a note; nothing of the peers enters the
#                     project.
#   CPU_THREADS       the cpu step (the lent machine's host CPU, often one with AMX): its threads (default 2, as the
#                     CPU issue's tables); cpu is not part of all
#   NMSCOPE_BASE      ab: a tarball of the tree to compare with (git archive of main before the change); AB_SHAPES,
#                     AB_BATCHES, AB_ENGINES, AB_PATTERNS, AB_ROUNDS, AB_SECONDS the sweep (defaults: the three
#                     layers, batch 1, 16, 32, int4 2:4 and dense, two rounds); ab is not part of all
#   DECODE_MODEL      a model directory whose real weights the decode step then runs on gpu/int4-2:4 beside cuBLAS
#                     and the CPU (default: the tiny qwen2 fixture; DECODE_MODEL= skips it)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
BUILD_DIR=${BUILD_DIR:-build-gpu}
JOBS=${NMSCOPE_JOBS:-$(nproc)}
DEPS=${NMSCOPE_DEPS:-/tmp/nmscope-deps}
CLI="$BUILD_DIR/app/cli/nmscope-cli"
log() { printf '[gpu-bench] %s\n' "$*" >&2; }

# Unpacks the .deb files once; exposes to the loader only the libraries this machine lacks, so its own newer
# zstd, glib, ... stay in use for cmake, nvcc and python.
prepare_python_wheels() {
  [ -n "${NMSCOPE_WHEELS:-}" ] || return 0
  local target="$DEPS/python"
  if [ ! -d "$target" ]; then
    log "installing $(ls "$NMSCOPE_WHEELS"/*.whl | wc -l) wheels into $target"
    python3 -m pip install --no-deps --quiet --target "$target" "$NMSCOPE_WHEELS"/*.whl
  fi
  export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"
}

prepare_dependencies() {
  prepare_python_wheels
  [ -n "${NMSCOPE_DEBS:-}" ] || return 0
  if [ ! -d "$DEPS/usr" ]; then
    log "unpacking $(ls "$NMSCOPE_DEBS"/*.deb | wc -l) packages into $DEPS"
    mkdir -p "$DEPS"
    for deb in "$NMSCOPE_DEBS"/*.deb; do dpkg -x "$deb" "$DEPS"; done
    # Qt's CMake packages check that every file of every module exists (qmake, Gui, plugins ...); only Core and Test
    # are unpacked (and used), so the others get empty placeholders.
    grep -ho '${_IMPORT_PREFIX}/[^" ]*' "$DEPS"/usr/lib/x86_64-linux-gnu/cmake/Qt6*/*Targets-*.cmake |
      sed "s#\${_IMPORT_PREFIX}#$DEPS/usr#" | sort -u | while read -r file; do
        [ -e "$file" ] || { mkdir -p "$(dirname "$file")"; : > "$file"; }
      done
    mkdir -p "$DEPS/usr/lib/x86_64-linux-gnu/qt6/mkspecs/linux-g++"  # in Qt::Platform's include path, unused here
  fi
  mkdir -p "$DEPS/runtime"
  local library soname
  for library in "$DEPS"/usr/lib/x86_64-linux-gnu/*.so.* "$DEPS"/lib/x86_64-linux-gnu/*.so.*; do
    [ -s "$library" ] || continue
    soname=$(basename "$library")
    ldconfig -p | grep -q " $soname " && continue
    ln -sf "$library" "$DEPS/runtime/$soname"
  done
  export LD_LIBRARY_PATH="$DEPS/runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

configure_flags() {
  local flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DNMSCOPE_GUI=OFF -DNMSCOPE_CUDA=ON -DNMSCOPE_CUDA_PTXAS_REPORT=ON
               "-DPython3_EXECUTABLE=$(command -v python3)")
  if [ -d "$DEPS/usr" ]; then
    local lib="$DEPS/usr/lib/x86_64-linux-gnu"
    flags+=("-DCMAKE_PREFIX_PATH=$DEPS/usr" "-DQt6_DIR=$lib/cmake/Qt6" "-DEigen3_DIR=$DEPS/usr/share/eigen3/cmake"
            "-Dnlohmann_json_DIR=$DEPS/usr/share/cmake/nlohmann_json" "-DCLI11_DIR=$DEPS/usr/share/cmake/CLI11"
            "-DTBB_DIR=$lib/cmake/TBB" "-Ddnnl_DIR=$lib/cmake/dnnl" "-DSQLite3_INCLUDE_DIR=$DEPS/usr/include" "-DSQLite3_LIBRARY=$lib/libsqlite3.so")
  fi
  printf '%s\n' "${flags[@]}"
}

build() {
  prepare_dependencies
  mapfile -t flags < <(configure_flags)
  log "configure ($BUILD_DIR)"
  { uname -a; nvidia-smi || true; nvcc --version | tail -2; c++ --version | head -1; cmake --version | head -1; } \
    > "$OUT/setup.log" 2>&1
  if ! cmake -S . -B "$BUILD_DIR" "${flags[@]}" >> "$OUT/setup.log" 2>&1; then
    log "configure with the Qt Test suites failed (tail of setup.log below); again without them"
    tail -15 "$OUT/setup.log" >&2
    cmake -S . -B "$BUILD_DIR" "${flags[@]}" -DNMSCOPE_TESTS=OFF >> "$OUT/setup.log" 2>&1
  fi
  log "build"
  # Touching the CUDA sources makes ninja rerun nvcc, so the resource report below is complete on every build.
  touch kernels/cuda/*.cu
  local targets=()
  [ -n "${BUILD_TARGETS:-}" ] && targets=(--target $BUILD_TARGETS)
  cmake --build "$BUILD_DIR" -j "$JOBS" "${targets[@]}" > "$BUILD_DIR/build.log" 2>&1 ||
    { tail -40 "$BUILD_DIR/build.log" >&2; return 1; }
  grep -v -E "ptxas info|bytes stack frame" "$BUILD_DIR/build.log" | tail -20 >> "$OUT/setup.log"
  # The compiler's resource report of every tensor-core kernel (registers, shared memory, spills).
  grep -E "Compiling entry|registers|spill" "$BUILD_DIR/build.log" > "$OUT/ptxas.txt" || true
}

run_tests() {
  prepare_dependencies
  log "ctest -L cuda ${TEST_FILTER:+-R $TEST_FILTER}"
  (cd "$BUILD_DIR" && ctest -L cuda ${TEST_FILTER:+-R "$TEST_FILTER"} --output-on-failure -V) > "$OUT/ctest-cuda.log" 2>&1 && status=0 || status=$?
  grep -E "PASS|FAIL|SKIP|QINFO|tests passed|Totals" "$OUT/ctest-cuda.log" | tail -40 >&2
  return $status
}

verify() {
  prepare_dependencies
  log "verify --engine gpu"
  "$CLI" verify --engine gpu --configs "${VERIFY_CONFIGS:-60}" --seed "${VERIFY_SEED:-1}" > "$OUT/verify.log" 2>&1 \
    && status=0 || status=$?
  grep -E "^FAIL" "$OUT/verify.log" | head -30 >&2 || true
  tail -1 "$OUT/verify.log" >&2
  return $status
}

bench() {
  prepare_dependencies
  local shapes=${BENCH_SHAPES:-4096x4096,11008x4096,4096x11008}
  local batches=${BENCH_BATCHES:-1,4,16,32,64,128,512,2048,8192}
  local seconds=${BENCH_SECONDS:-0.2}
  local db="$BUILD_DIR/bench.db"
  log "bench: $shapes at batch $batches"
  local parts=" ${BENCH_PARTS:-int4 int8 nm} "
  # int4 2:4 and int4 dense, beside cuBLAS fp16 and cuSPARSELt fp16 2:4 (added by bench as baselines).
  [[ $parts != *" int4 "* ]] || "$CLI" bench --engines gpu/int4-2:4,gpu/int4-dense --pattern 2:4,dense --bits 4 --shapes "$shapes" \
    --batch "$batches" --timing-seconds "$seconds" --db "$db" > "$OUT/bench-int4.txt" 2>> "$OUT/bench.err" || true
  # int8 2:4 and the general N:M path (4:8 on mma.sync tiles, 1:4 and 2:8 on mma.sp tiles).
  [[ $parts != *" int8 "* ]] || "$CLI" bench --engines gpu/int8-2:4 --pattern 2:4 --bits 8 --shapes "$shapes" --batch "$batches" \
    --timing-seconds "$seconds" --db "$db" > "$OUT/bench-int8.txt" 2>> "$OUT/bench.err" || true
  [[ $parts != *" nm "* ]] || "$CLI" bench --engines gpu/int4-nm --pattern 4:8,1:4,2:8 --bits 4 --shapes "${BENCH_NM_SHAPES:-4096x4096}" \
    --batch "$batches" --timing-seconds "$seconds" --db "$db" > "$OUT/bench-nm.txt" 2>> "$OUT/bench.err" || true
  "$CLI" export --db "$db" --csv "$OUT/bench.csv" > /dev/null 2>&1 || true
  summarize | tee "$OUT/summary.txt"
}

bench_quick() {
  BENCH_SHAPES=${BENCH_SHAPES:-4096x4096} BENCH_BATCHES=${BENCH_BATCHES:-1,16,128,2048} BENCH_SECONDS=0.1 \
    BENCH_NM_SHAPES=4096x4096 bench
}

# The LLaMA decoder step on every named variant beside gpu/cublas-fp16-dense (issue 9): table and JSON lines.
decode() {
  prepare_dependencies
  local preset=${DECODE_PRESET:-llama-7b}
  local engines=${DECODE_ENGINES:-gpu/int4-2:4,gpu/int4-dense,gpu/cusparselt-fp16-2:4}
  local batches=${DECODE_BATCHES:-1,4,16,64} context=${DECODE_CONTEXT:-512}
  log "decode $preset: $engines at batch $batches, context $context"
  "$CLI" decode --preset "$preset" --engines "$engines" --batch "$batches" --context "$context" \
    > "$OUT/decode.txt" 2>> "$OUT/decode.err" && status=0 || status=$?
  # The same step with an int8 KV cache (the compressed variants; the baseline keeps fp16): issue 21's batch 16-64.
  if [ -z "${DECODE_SKIP_INT8_KV:-}" ]; then
    log "decode, int8 KV cache: $engines at batch $batches"
    "$CLI" decode --preset "$preset" --engines "$engines" --batch "$batches" --context "$context" --kv-cache int8 \
      > "$OUT/decode-int8kv.txt" 2>> "$OUT/decode.err" || status=1
  fi
  # The same step with plain launches (no programmatic dependent launch), batch 1: what the overlap is worth.
  if [ -z "${DECODE_SKIP_PLAIN:-}" ]; then
    log "decode, plain launches: gpu/int4-2:4 at batch 1"
    NMSCOPE_DECODE_PLAIN_LAUNCH=1 "$CLI" decode --preset "$preset" --engines gpu/int4-2:4 --batch 1 --context "$context" \
      > "$OUT/decode-plain.txt" 2>> "$OUT/decode.err" || true
  fi
  # A model directory's real weights on both steps (qwen2: q/k/v biases, a tied head).
  local model=${DECODE_MODEL-tests/fixtures/models/tiny_qwen2}
  if [ -n "$model" ]; then
    log "decode on the real weights of $model"
    "$CLI" decode --model "$model" --engines gpu/int4-2:4,gpu/cublas-fp16-dense,cpu/int4-2:4 --batch 1,4 \
      --context 16 --timing-seconds 0.05 > "$OUT/decode-model.txt" 2>> "$OUT/decode.err" || status=1
  fi
  cat "$OUT/decode.txt" "$OUT/decode-int8kv.txt" "$OUT/decode-plain.txt" "$OUT/decode-model.txt" 2> /dev/null
  return $status
}

# Sparse-Marlin beside our kernels (issue 21): an optional peer, built from NMSCOPE_PEERS and timed by its harness,
# then one table of speedups over cuBLAS with the bench's rows (run bench first, in the same call or lease).
peers() {
  local source=${NMSCOPE_PEERS:-}
  if [ -z "$source" ] || [ ! -d "$source/sparse-marlin" ] || [ ! -f "$source/gpu_marlin.py" ]; then
    log "peers: skipped (NMSCOPE_PEERS is not a folder holding sparse-marlin/ and gpu_marlin.py)"
    echo "peers: skipped: NMSCOPE_PEERS not given" > "$OUT/peers.txt"
    return 0
  fi
  local work=${NMSCOPE_PEERS_BUILD:-/tmp/nmscope-peers}
  if [ ! -e "$work/sparse-marlin/.built" ]; then
    log "peers: building Sparse-Marlin for sm_90a in $work"
    rm -rf "$work" && mkdir -p "$work/dense-stub/marlin_dense"
    # Dense Marlin does not run on Hopper: the harness skips it (SKIP_DENSE_MARLIN) but imports its package.
    touch "$work/dense-stub/marlin_dense/__init__.py"
    cp -r "$source/sparse-marlin" "$work/" && chmod -R u+w "$work"
    sed -i 's/-arch=sm_86/-gencode=arch=compute_90a,code=sm_90a/' "$work/sparse-marlin/setup.py"
    (cd "$work/sparse-marlin" && python3 setup.py build_ext --inplace) > "$OUT/peers-build.log" 2>&1 ||
      { log "peers: Sparse-Marlin did not build (peers-build.log)"; tail -20 "$OUT/peers-build.log" >&2; return 1; }
    touch "$work/sparse-marlin/.built"
  fi
  log "peers: Sparse-Marlin check and bench (gpu_marlin.py)"
  (cd "$work/sparse-marlin" &&
    SKIP_DENSE_MARLIN=1 python3 "$source/gpu_marlin.py" "$work/sparse-marlin" "$work/dense-stub" check-sparse &&
    SKIP_DENSE_MARLIN=1 python3 "$source/gpu_marlin.py" "$work/sparse-marlin" "$work/dense-stub" bench) \
    > "$OUT/peers.txt" 2>&1 || { log "peers: the harness failed (peers.txt)"; tail -20 "$OUT/peers.txt" >&2; return 1; }
  if [ -s "$OUT/bench.csv" ]; then
    python3 scripts/peers/peer_table.py "$OUT/bench.csv" "$OUT/peers.txt" > "$OUT/peers-table.md" || return 1
    cat "$OUT/peers-table.md"
  else
    log "peers: no bench.csv in $OUT: run the bench step first for the joined table"
    cat "$OUT/peers.txt"
  fi
}

# The lines that matter, last, so they end the output the device call returns.
summarize() {
  local file
  for file in "$OUT"/bench-*.txt; do
    [ -s "$file" ] || continue
    echo "== $(basename "$file")"
    grep -E "^[0-9]+x[0-9]+ " "$file" | grep -E "gpu/(int|cusparselt)" | grep -v "unavailable" |
      awk '{printf "%-11s %-5s %-5s %-5s %-24s %9s %6s %s %s %s\n", $1, $2, $3, $4, $5, $6, $9, $10, $12, $13}'
  done
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(all)
failed=0
# `nmscope-cli reproduce hsieh2025` on every family (the GPU's decode step and 4096x4096 layer, the CPU's 7B decoder,
# the FPGA array): the table, the rows and docs/REPRODUCTION.md's Markdown.
reproduce() {
  log "reproduce hsieh2025"
  "$CLI" reproduce hsieh2025 --db "$OUT/reproduce.db" --report "$OUT/REPRODUCTION.md" > "$OUT/reproduce.txt" \
    2>> "$OUT/reproduce.err" && status=0 || status=$?
  cat "$OUT/reproduce.txt"
  return $status
}

# The CPU engine on the lent machine's host (issue 23): the packed kernels on AMX tiles where the CPU has them, and
# again on the VNNI kernel (NMSCOPE_CPU_NO_AMX=1), beside Eigen fp32 and oneDNN bf16, at batch 1, 16 and 128.
cpu() {
  prepare_dependencies
  local threads=${CPU_THREADS:-2}
  { grep -m1 "model name" /proc/cpuinfo; grep -o -w -E "amx_[a-z0-9]+|avx512_bf16|avx512_vnni|avx512vbmi" /proc/cpuinfo |
      sort -u | tr '\n' ' '; echo; } > "$OUT/cpu-host.txt"
  cat "$OUT/cpu-host.txt"
  local args=(bench --engines cpu --shapes "${CPU_SHAPES:-4096x4096,4096x11008}" --batch "${CPU_BATCHES:-1,16,128}"
              --pattern dense,2:4 --bits 4 --threads "$threads" --timing-seconds "${CPU_SECONDS:-0.5}")
  log "cpu: bench on the host's CPU, $threads threads (AMX where present)"
  "$CLI" "${args[@]}" > "$OUT/cpu-bench.txt" 2>&1 && status=0 || status=$?
  log "cpu: again on the VNNI kernel (NMSCOPE_CPU_NO_AMX=1)"
  NMSCOPE_CPU_NO_AMX=1 "$CLI" "${args[@]}" > "$OUT/cpu-bench-vnni.txt" 2>&1 || status=1
  grep -E "^[0-9]+x[0-9]+ " "$OUT/cpu-bench.txt" "$OUT/cpu-bench-vnni.txt"
  return $status
}

# A change's effect in one lease (issue 21): NMSCOPE_BASE is a tarball of the tree before it (`git archive --format=tar.gz
# -o base.tgz main`, carried like the debs); its CLI is built under /tmp and timed in turns with this tree's, two
# rounds each (AB_ROUNDS), on the same layers and batches, so the two columns share the card's state and clocks.
ab() {
  local base=${NMSCOPE_BASE:-}
  if [ -z "$base" ] || [ ! -f "$base" ]; then
    log "ab: NMSCOPE_BASE is not a tarball of the base tree"
    return 1
  fi
  prepare_dependencies
  local base_tree base_build
  base_tree=$(realpath -m "${NMSCOPE_BASE_TREE:-/tmp/nmscope-base}")
  base_build=$(realpath -m "${NMSCOPE_BASE_BUILD:-/tmp/nmscope-base-build}")
  if [ ! -x "$base_build/app/cli/nmscope-cli" ]; then
    log "ab: building the base tree's CLI in $base_build"
    rm -rf "$base_tree" && mkdir -p "$base_tree" && tar xzf "$base" -C "$base_tree"
    # The base tree's script runs from its own folder: every path it is given must be absolute.
    local out debs wheels deps
    out=$(realpath -m "$OUT/base") debs=${NMSCOPE_DEBS:+$(realpath "$NMSCOPE_DEBS")}
    wheels=${NMSCOPE_WHEELS:+$(realpath "$NMSCOPE_WHEELS")} deps=$(realpath -m "$DEPS")
    (cd "$base_tree" && OUT="$out" BUILD_DIR="$base_build" BUILD_TARGETS=nmscope-cli NMSCOPE_DEBS="$debs" \
      NMSCOPE_WHEELS="$wheels" NMSCOPE_DEPS="$deps" scripts/gpu-bench.sh build) \
      > "$OUT/ab-base-build.log" 2>&1 || { log "ab: the base tree did not build (ab-base-build.log)"; return 1; }
  fi
  local engines=${AB_ENGINES:-gpu/int4-2:4,gpu/int4-dense} round cli label
  for round in $(seq "${AB_ROUNDS:-2}"); do
    for label in base new; do
      cli="$CLI"
      [ "$label" = base ] && cli="$base_build/app/cli/nmscope-cli"
      "$cli" bench --engines "$engines" --pattern "${AB_PATTERNS:-2:4,dense}" --bits 4 \
        --shapes "${AB_SHAPES:-4096x4096,11008x4096,4096x11008}" --batch "${AB_BATCHES:-1,16,32}" \
        --timing-seconds "${AB_SECONDS:-0.1}" 2>> "$OUT/ab.err" | grep -E "^[0-9]+x[0-9]+ " | grep -v -E "cublas|cusparselt" |
        awk -v label="$label" -v round="$round" '{print label, round, $1, $2, $4, $5, $6, $10}'
    done
  done | sort -k3,3 -k4,4 -k6,6 -k5,5n -k1,1 | tee "$OUT/ab.txt"
}

for step in "${steps[@]}"; do
  case "$step" in
    all) build && { run_tests || failed=1; verify || failed=1; bench; peers || failed=1; decode || failed=1; } ;;
    build) build ;;
    test) run_tests || failed=1 ;;
    verify) verify || failed=1 ;;
    bench) bench ;;
    bench-quick) bench_quick ;;
    decode) decode || failed=1 ;;
    reproduce) reproduce || failed=1 ;;
    peers) peers || failed=1 ;;
    cpu) cpu || failed=1 ;;
    ab) ab || failed=1 ;;
    *) echo "usage: $0 [all|build|test|verify|bench|bench-quick|decode|reproduce|peers|cpu|ab]..." >&2; exit 2 ;;
  esac
done
exit $failed
