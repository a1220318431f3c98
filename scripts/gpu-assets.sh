#!/usr/bin/env bash
# What the lent GPU machine lacks, fetched on the development machine into one folder to carry there
# (docs/gpu-kernels.md, "Build and run"): the Debian 12 packages scripts/gpu-bench.sh unpacks (NMSCOPE_DEBS), the
# Python wheels the test fixtures need (NMSCOPE_WHEELS) and a copy of the peers' sources (NMSCOPE_PEERS, when
# ../shared/peers exists). The lent machine reaches nothing, so each session fetches them anew.
#
#   scripts/gpu-assets.sh DIR      then carry DIR/debs, DIR/wheels and DIR/peers, and on the lent machine:
#   BUILD_DIR=/tmp/nmscope-build NMSCOPE_DEBS=DIR/debs NMSCOPE_WHEELS=DIR/wheels NMSCOPE_PEERS=DIR/peers \
#       scripts/gpu-bench.sh build test verify bench peers decode cpu
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
target=$(mkdir -p "$1" && cd "$1" && pwd)
# Qt Core + Test, Eigen, TBB, SQLite, nlohmann-json, CLI11, oneDNN and the runtime libraries they need that Ubuntu
# 24.04's CUDA image lacks (the list docs/gpu-kernels.md names).
packages=(qt6-base-dev qt6-base-dev-tools libqt6core6 libqt6test6 libicu72 libdouble-conversion3 libpcre2-16-0 libb2-1
          libtbb-dev libtbb12 libtbbmalloc2 libtbbbind-2-5 libsqlite3-dev libsqlite3-0 libeigen3-dev nlohmann-json3-dev
          libcli11-dev libzstd1 libglib2.0-0 libpcre2-8-0 libffi8 libdnnl-dev libdnnl2 ocl-icd-libopencl1)
mkdir -p "$target/debs" "$target/wheels"
(cd "$target/debs" && apt-get download "${packages[@]}")
# gguf: make_fixtures.py writes the GGUF fixtures with it; the lent machine's Python (3.12) lacks it.
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_17_x86_64 -d "$target/wheels" gguf
if [ -d ../shared/peers ]; then
  rm -rf "$target/peers" && cp -r ../shared/peers "$target/peers"
fi
du -sh "$target"/* >&2
