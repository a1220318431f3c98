#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) in build-fuzz and runs each for SECONDS
# (default 30: the CI smoke; docs/RELIABILITY.md records longer runs), one after another, each on a fresh copy of its
# seed corpus (fuzz/corpus/<target>). Stops at the first crash, leak, timeout or out-of-memory with a non-zero exit
# that names the target and the reproducer. Prints executions and coverage (cov/ft) per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 fuzz_gguf
# Environment: FUZZ_BUILD_DIR (default build-fuzz), NMSCOPE_JOBS (build jobs, default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-30}
shift || true
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${NMSCOPE_JOBS:-$(nproc)}
ALL_TARGETS=(fuzz_npy fuzz_npy_matrix fuzz_safetensors fuzz_gguf fuzz_hf_index fuzz_cli_options fuzz_tokenizer_json)
TARGETS=("${@:-${ALL_TARGETS[@]}}")

log() { printf '[fuzz] %s\n' "$*" >&2; }

# Longest input per format: several times the largest seed, so mutations can grow headers and counts, while one
# execution stays around a millisecond.
max_len() {
  case "$1" in
    fuzz_npy | fuzz_npy_matrix | fuzz_hf_index) echo 4096 ;;
    fuzz_tokenizer_json) echo 8192 ;;
    fuzz_safetensors | fuzz_gguf) echo 16384 ;;
    fuzz_cli_options) echo 256 ;;
  esac
}

dictionary() {
  case "$1" in
    fuzz_npy | fuzz_npy_matrix) echo fuzz/npy.dict ;;
    fuzz_safetensors) echo fuzz/safetensors.dict ;;
    fuzz_hf_index) echo fuzz/hf_index.dict ;;
    fuzz_gguf) echo fuzz/gguf.dict ;;
    fuzz_cli_options) echo fuzz/cli_options.dict ;;
    fuzz_tokenizer_json) echo fuzz/tokenizer_json.dict ;;
  esac
}

command -v clang++ >/dev/null || { log "clang++ is missing (Debian: apt-get install clang libclang-rt-dev)"; exit 2; }
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNMSCOPE_FUZZ=ON -DNMSCOPE_GUI=OFF -DNMSCOPE_TESTS=OFF -DNMSCOPE_VERILATOR=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target nmscope_fuzzers

summary=()
for target in "${TARGETS[@]}"; do
  corpus="$BUILD_DIR/corpus/$target"
  artifacts="$BUILD_DIR/artifacts/$target"
  output="$BUILD_DIR/logs/$target.log"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$output")"
  cp fuzz/corpus/"$target"/* "$corpus"/
  log "$target: ${SECONDS_PER_TARGET}s, seeds $(ls "$corpus" | wc -l), log $output"
  status=0
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD_DIR/fuzz/$target" "$corpus" -dict="$(dictionary "$target")" -max_len="$(max_len "$target")" \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$output" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$output" | tail -1)
  peak_rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$output" | tail -1)
  coverage=$(grep -E '^#[0-9]+' "$output" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
  line=$(printf '%-18s executions %-10s %-22s corpus %-5s peak RSS %s MB' "$target" "${executions:-?}" \
    "${coverage:-cov: ?}" "$(ls "$corpus" | wc -l)" "${peak_rss:-?}")
  summary+=("$line")
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$output" >&2
    reproducer=$(ls -t "$artifacts"/* 2>/dev/null | head -1 || true)
    log "FAILED: $target (exit $status); reproducer: ${reproducer:-none written}"
    log "replay: $BUILD_DIR/fuzz/$target ${reproducer:-<input>}"
    exit 1
  fi
done

printf '%s\n' "${summary[@]}" | tee "$BUILD_DIR/fuzz-summary.txt"
log "all ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without a finding"
