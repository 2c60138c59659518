#!/usr/bin/env bash
# Configures and builds smpack into build/ (BUILD_DIR to change). Werror under CI.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
werror=OFF
[ "${CI:-}" = true ] && werror=ON
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMPACK_WERROR="$werror" "$@"
cmake --build "$build_dir" -j "$(nproc)"
