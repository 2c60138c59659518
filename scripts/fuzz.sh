#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# SECONDS (default 600) on a seed corpus made by tests/fuzz/make_seeds.py.
# Crashes land in tests/fuzz/out/<target>/; minimised crashers worth keeping go to
# tests/fuzz/corpus/<target>/, which the unit tests replay.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
build_dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSMPACK_FUZZ=ON -DSMPACK_BUILD_TESTS=OFF -DSMPACK_WITH_TORCH=OFF -DSMPACK_PYTHON=OFF >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}"
seeds=tests/fuzz/out/seeds
# The seeds come from the oracle tests' cases, which need torch: the venv's Python.
python=.venv/bin/python
[ -x "$python" ] || python=/usr/bin/python3
"$python" tests/fuzz/make_seeds.py "$seeds"
for target in "${targets[@]}"; do
  out=tests/fuzz/out/$target
  mkdir -p "$out/corpus" "$out/crashes"
  seed_dirs=()
  [ -d "$seeds/$target" ] && seed_dirs+=("$seeds/$target")
  [ -d "tests/fuzz/corpus/$target" ] && seed_dirs+=("tests/fuzz/corpus/$target")
  echo "== $target: ${seconds}s"
  "$build_dir/tests/fuzz/$target" "$out/corpus" "${seed_dirs[@]}" -max_total_time="$seconds" \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 >"$out/log" 2>&1 || true
  # The figures docs/security.md records: executions, speed, coverage, crashes.
  grep -E '^#[0-9]+ +DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$out/log"
  echo "crashes: $(find "$out/crashes" -type f | wc -l)"
done
