#!/usr/bin/env bash
# Builds smpack and smpack-harness on a CUDA machine against the LibTorch inside its
# PyTorch, makes fixtures there with that PyTorch, runs the harness checks on the GPU,
# a benchmark (a small CNN and a transformer block at several batch sizes) and
# `smpack-harness serve` of the CNN under hey at concurrency 1, 4 and 16, writes
# every report as JSON into OUT_DIR and prints a short table last.
#   tools/harness/gpu/run.sh OUT_DIR
# Libraries the machine lacks come from .deps/debs (tools/harness/gpu/fetch-debs.sh).
# Exit status: 0 when every check came out as expected, 1 otherwise.
set -euo pipefail

out=$(realpath -m "${1:?usage: tools/harness/gpu/run.sh OUT_DIR}")
root=$(cd "$(dirname "$0")/../../.." && pwd)
python=${PYTHON:-python3}
build="$root/build-gpu"
prefix="$root/.deps/prefix"
mkdir -p "$out"
log() { echo "[gpu/run.sh] $*" >&2; }

# --- what this machine is --------------------------------------------------------
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
  nproc; gcc --version | head -1; cmake --version | head -1
} | tee "$out/machine.txt" >&2
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_abi=$("$python" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')

# --- dependencies: the system's where complete, else the Debian packages ------------
missing=()
for header in archive.h isa-l.h zlib.h openssl/evp.h nlohmann/json.hpp CLI/CLI.hpp curl/curl.h \
              pugixml.hpp httplib.h; do
  [[ -e /usr/include/$header ]] || missing+=("$header")
done
command -v pkg-config >/dev/null || missing+=(pkg-config)
cmake_deps=()
libdirs=""
if ((${#missing[@]})); then
  log "not on this machine: ${missing[*]}; using .deps/debs"
  [[ -d "$root/.deps/debs" ]] || { log "no .deps/debs: run tools/harness/gpu/fetch-debs.sh where apt works"; exit 1; }
  rm -rf "$prefix" && mkdir -p "$prefix"
  for deb in "$root"/.deps/debs/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
  # Absolute symlinks (libz.so -> /lib/...) must point into the extracted tree.
  while IFS= read -r link; do
    ln -sfn "$prefix$(readlink "$link")" "$link"
  done < <(find "$prefix" -type l -lname '/*')
  libdirs="$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu"
  # The .pc files say prefix=/usr; point them at the extracted tree.
  sed -i "s|^prefix=/usr\$|prefix=$prefix/usr|" "$prefix"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc
  pkgconfig_wrapper="$prefix/pkg-config"
  if command -v pkg-config >/dev/null; then pkgconf_bin=$(command -v pkg-config); else pkgconf_bin="$prefix/usr/bin/pkgconf"; fi
  # Only pkg-config itself and our binaries see the extracted libraries, never Python or CMake.
  cat > "$pkgconfig_wrapper" <<WRAPPER
#!/bin/sh
LD_LIBRARY_PATH="$libdirs" PKG_CONFIG_PATH="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}" exec "$pkgconf_bin" "\$@"
WRAPPER
  chmod +x "$pkgconfig_wrapper"
  cmake_deps=(-DPKG_CONFIG_EXECUTABLE="$pkgconfig_wrapper" -DOPENSSL_ROOT_DIR="$prefix/usr"
              -DZLIB_ROOT="$prefix/usr" "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu")
fi
with_libs() { LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }

# --- build --------------------------------------------------------------------------
log "building against LibTorch at $torch_prefix (C++11 ABI $torch_abi)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSMPACK_BUILD_TESTS=OFF \
  -DSMPACK_WITH_TORCH=ON "-DCMAKE_PREFIX_PATH=$torch_prefix;$prefix/usr" \
  "-DCMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=$torch_abi" "${cmake_deps[@]}" > "$out/cmake.log" 2>&1 ||
  { tail -40 "$out/cmake.log" >&2; exit 1; }
grep -E "smpack-harness|SMPACK_HARNESS_CUDA_STATS" "$out/cmake.log" >&2 || true
cmake --build "$build" -j "$(nproc)" --target smpack smpack-harness > "$out/build.log" 2>&1 ||
  { grep -E "error|Error" "$out/build.log" | head -40 >&2; exit 1; }
smpack="$build/tools/smpack/smpack"
harness="$build/tools/harness/smpack-harness"

# --- fixtures, made here by this PyTorch, packed with smpack build ---------------------
fixtures="$out/fixtures"
rm -rf "$fixtures" && mkdir -p "$fixtures"
"$python" "$root/tools/harness/gpu/make_fixtures.py" "$fixtures"
for name in cnn transformer broken weights corrupt; do
  with_libs "$smpack" build "$fixtures/$name" -o "$fixtures/$name.tar.gz" > /dev/null
done

# --- checks: each harness run against the exit status it must give ---------------------
summary="$out/summary.txt"
: > "$summary"
failures=0
expect() {  # expect NAME STATUS ARGS...: run the harness, keep its JSON, compare the status
  local name=$1 want=$2; shift 2
  local status=0
  with_libs "$harness" "$@" --json "$out/$name.json" > "$out/$name.txt" 2> "$out/$name.err" || status=$?
  local verdict=ok
  if [[ $status != "$want" ]]; then verdict="UNEXPECTED"; failures=$((failures + 1)); fi
  printf '%-28s exit %-3s (want %s) %s\n' "$name" "$status" "$want" "$verdict" | tee -a "$summary" >&2
}
tol=(--rtol 1e-3 --atol 1e-4)
expect check-cnn-match 0 "$fixtures/cnn.tar.gz" --device cuda --input-file "$fixtures/cnn-inputs.pt" \
  --expect-file "$fixtures/cnn-expected.pt" "${tol[@]}" --dtype float16 --iters 0
expect check-cnn-perturbed 1 "$fixtures/cnn.tar.gz" --device cuda --input-file "$fixtures/cnn-inputs.pt" \
  --expect-file "$fixtures/cnn-perturbed.pt" "${tol[@]}" --iters 0
expect check-transformer-match 0 "$fixtures/transformer.tar.gz" --device cuda \
  --input-file "$fixtures/transformer-inputs.pt" --expect-file "$fixtures/transformer-expected.pt" \
  "${tol[@]}" --dtype bfloat16 --iters 0
expect check-nan-output 1 "$fixtures/broken.tar.gz" --device cuda --input 4x4:float32 --iters 0
expect check-corrupt-model 1 "$fixtures/corrupt.tar.gz" --device cuda --input 1x3x64x64:float32
expect check-state-dict 1 "$fixtures/weights.tar.gz" --device cuda

# --- benchmark ----------------------------------------------------------------------
sweep=1,2,4,8,16,32,64,128,256,512,1024
expect bench-cnn 0 "$fixtures/cnn.tar.gz" --device cuda --input 32x3x64x64:float32 \
  --warmup 20 --iters 200 --batch-sweep "$sweep"
expect bench-transformer 0 "$fixtures/transformer.tar.gz" --device cuda --input 8x128x512:float32 \
  --warmup 20 --iters 200 --batch-sweep "$sweep"

# --- serve under load on CUDA: the endpoint contract with hey at 1, 4 and 16 -------------
hey_bin=$(command -v hey || echo "$prefix/usr/bin/hey")
"$python" -c "import json, torch; json.dump(torch.randn(1, 3, 64, 64).tolist(), open('$out/serve-body.json', 'w'))"
with_libs "$harness" serve "$fixtures/cnn.tar.gz" --device cuda --port 0 --threads 16 \
  --access-log - > "$out/serve.txt" 2> "$out/serve.err" &
serve_pid=$!
port=""
for _ in $(seq 600); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$out/serve.txt")
  [[ -n "$port" ]] && curl -sf "http://127.0.0.1:$port/ping" > /dev/null && break
  sleep 0.1
done
for c in 1 4 16; do
  if [[ -x "$hey_bin" && -n "$port" ]]; then
    "$hey_bin" -z 10s -c "$c" -m POST -T application/json -D "$out/serve-body.json" \
      "http://127.0.0.1:$port/invocations" > "$out/serve-hey-c$c.txt" 2>&1 || true
    printf 'serve cnn cuda c=%-3s %s\n' "$c" \
      "$(grep -E 'Requests/sec|99% in' "$out/serve-hey-c$c.txt" | tr -s ' \t' ' ' | tr '\n' ' ')" | tee -a "$summary" >&2
  fi
done
kill -TERM "$serve_pid" 2> /dev/null || true
wait "$serve_pid" || true

# --- the short table, last ------------------------------------------------------------
"$python" - "$out" <<'TABLE'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print()
print((out / "machine.txt").read_text().splitlines()[0])
print((out / "summary.txt").read_text(), end="")
for name in ("bench-cnn", "bench-transformer"):
    path = out / f"{name}.json"
    if not path.exists():
        continue
    report = json.loads(path.read_text())
    print(f"{name}: cold load {report['cold_load_ms']:.1f} ms, first result "
          f"{report['first_result_ms']:.1f} ms, largest batch {report['largest_batch']}")
    print(f"  {'batch':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'samples/s':>11} {'peak MiB':>9}")
    for point in report["batch_sweep"]:
        if not point["fits"]:
            print(f"  {point['batch']:>5} out of memory")
            continue
        latency, peak = point["latency"], point["peak_memory_bytes"]
        peak_text = f"{peak / 2**20:.0f}" if peak is not None else "-"
        print(f"  {point['batch']:>5} {latency['p50_ms']:>8.3f} {latency['p90_ms']:>8.3f} "
              f"{latency['p99_ms']:>8.3f} {latency['samples_per_second']:>11.1f} {peak_text:>9}")
TABLE
exit $((failures > 0))
