#!/usr/bin/env bash
# Builds with AddressSanitizer + UndefinedBehaviorSanitizer (no LibTorch, no Python
# module: neither can load an ASan runtime) and runs the unit and CLI tests on it.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-asan}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMPACK_SANITIZE=ON \
  -DSMPACK_WITH_TORCH=OFF -DSMPACK_PYTHON=OFF
cmake --build "$build_dir" -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" -LE 'python|torch'
