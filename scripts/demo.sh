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
python3 examples/make_weights.py "$work/model/weights.npy"  # 64 MiB of float32 normals
set -x
"$smpack" build "$work/model" -o "$work/model.tar.gz" --manifest "$work/manifest.json"
"$smpack" info "$work/model.tar.gz"
"$smpack" ls -l "$work/model.tar.gz"
"$smpack" lint "$work/model.tar.gz"
"$smpack" verify "$work/model.tar.gz" --manifest "$work/manifest.json"
"$smpack" cat "$work/model.tar.gz" code/requirements.txt
