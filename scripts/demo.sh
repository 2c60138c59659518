#!/usr/bin/env bash
# The README's first command: install, build, then package the bundled example
# (examples/model plus generated weights) and inspect it as a user would.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
smpack=build/tools/smpack/smpack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/model "$work/model"
# 64 MiB of float32 weights drawn from a normal distribution, like a real checkpoint.
python3 - "$work/model/weights.bin" <<'PY'
import random, struct, sys
rng = random.Random(0)
block = struct.pack("<65536f", *(rng.gauss(0.0, 0.02) for _ in range(65536)))
with open(sys.argv[1], "wb") as out:
    for i in range(256):
        out.write(block[i % 7 * 4:] + block[:i % 7 * 4])
PY
set -x
"$smpack" build "$work/model" -o "$work/model.tar.gz" --manifest "$work/manifest.json"
"$smpack" info "$work/model.tar.gz"
"$smpack" ls -l "$work/model.tar.gz"
"$smpack" lint "$work/model.tar.gz"
"$smpack" verify "$work/model.tar.gz" --manifest "$work/manifest.json"
"$smpack" cat "$work/model.tar.gz" code/requirements.txt
