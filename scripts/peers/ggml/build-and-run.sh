#!/usr/bin/env bash
# Build ggml's CPU backend from a fetched llama.cpp (or ggml) source tree, compile
# ggml_matmul_bench.cpp against it, and run it with the remaining arguments.
#
#   scripts/peers/ggml/build-and-run.sh [SRC] [-- bench args...]
#   LLAMA_CPP_SRC=/var/tmp/llama.cpp-src scripts/peers/ggml/build-and-run.sh --type q4_k --batch 1
#
# SRC is a llama.cpp checkout (ggml lives in SRC/ggml) or a ggml checkout (SRC itself).
# Env: GGML_BUILD_DIR (default /var/tmp/ggml-build), JOBS (default 1), NICE (default 19).
# Compiles run under `nice` with one job by default so they do not disturb benchmarks
# running on the same cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${LLAMA_CPP_SRC:-}"
if [[ $# -gt 0 && "$1" != -* ]]; then src="$1"; shift; fi
[[ "${1:-}" == "--" ]] && shift
[[ -n "$src" ]] || { echo "usage: $0 LLAMA_CPP_SRC [--] [bench args]  (or set LLAMA_CPP_SRC)" >&2; exit 2; }

if   [[ -f "$src/ggml/CMakeLists.txt" ]];   then ggml_src="$src/ggml"   # llama.cpp tree
elif [[ -d "$src/src/ggml-cpu" ]];          then ggml_src="$src"        # ggml tree
else echo "no ggml sources under $src" >&2; exit 2; fi

build="${GGML_BUILD_DIR:-/var/tmp/ggml-build}"
jobs="${JOBS:-1}"
nice_cmd=(nice -n "${NICE:-19}")

# Configure the ggml subproject directly: only ggml-base, ggml-cpu and the ggml registry
# get built. Options mirror a default llama.cpp CPU build: native ISA, OpenMP threads,
# weight repacking available, and llamafile's sgemm ON (llama.cpp's top-level CMakeLists
# turns GGML_LLAMAFILE on; ggml standalone would default it off). Static libraries keep
# the bench binary self-contained; that does not change kernel code.
if [[ ! -f "$build/build.ninja" ]]; then
    "${nice_cmd[@]}" cmake -S "$ggml_src" -B "$build" -G Ninja \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
        -DGGML_LLAMAFILE=ON -DGGML_CPU_REPACK=ON \
        -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_BLAS=OFF \
        -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF \
        -DBUILD_SHARED_LIBS=OFF -DGGML_CCACHE=OFF >&2
fi
"${nice_cmd[@]}" cmake --build "$build" -j "$jobs" --target ggml ggml-cpu >&2

bench="$build/ggml_matmul_bench"
if [[ ! -x "$bench" || "$here/ggml_matmul_bench.cpp" -nt "$bench" || "$build/src/libggml-cpu.a" -nt "$bench" ]]; then
    # Library order matters for static linking: registry -> cpu backend -> base.
    "${nice_cmd[@]}" g++ -O2 -std=c++17 -I"$ggml_src/include" \
        "$here/ggml_matmul_bench.cpp" -o "$bench" \
        "$build/src/libggml.a" "$build/src/libggml-cpu.a" "$build/src/libggml-base.a" \
        -fopenmp -lpthread -ldl -lm
fi

echo "# ggml sources: $ggml_src  build: $build" >&2
exec "$bench" "$@"
