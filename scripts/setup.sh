#!/usr/bin/env bash
# Installs everything smpack needs to build, test and benchmark, from Debian's
# packages (and PyPI, for test oracles only, into .venv). Idempotent.
#   scripts/setup.sh            build + test dependencies
#   SMPACK_SKIP_VENV=1 ...      skip the Python oracle virtualenv
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  # build
  cmake ninja-build g++ pkg-config git
  # libpack
  libarchive-dev zlib1g-dev libssl-dev libisal-dev nlohmann-json3-dev
  # S3: HTTP and SigV4 through libcurl, S3's XML answers through pugixml
  libcurl4-openssl-dev libpugixml-dev
  # CLI, tests, benchmarks
  libcli11-dev libgtest-dev libgmock-dev
  # harness (CPU LibTorch; HTTP for serve) and the Python that writes TorchScript fixtures
  libtorch-dev libcpp-httplib-dev python3-torch python3-numpy
  # Python bindings
  pybind11-dev python3-dev
  # interoperability oracles and benchmark competitors
  python3 python3-venv tar gzip libarchive-tools pigz isal time xz-utils zstd bzip2
  # the HTTP load client of the serve tests and benchmark
  hey
  # counting the opens and reads of a command (tests/cli/test_open_once.py)
  strace
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # formatting
  clang-format
)

missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Oracles that nobody here wrote: the SageMaker toolkit's own handler rules, the
# SDK's repack, pickle scanners, the safetensors reference, a SARIF validator, an S3
# server, OpenSSF model signing, the SDK v3. The main venv sees the system's site packages, so that
# python3-torch is visible in it; an oracle that conflicts with them gets its own.
# make_venv DIR REQUIREMENTS [VENV_OPTION]: (re)made when its requirements changed.
make_venv() {
  local dir=$1 requirements=$2
  if [ ! -x "$dir/bin/python" ] || [ ! -f "$dir/.complete" ] || [ "$requirements" -nt "$dir/.complete" ]; then
    /usr/bin/python3 -m venv ${3:-} "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    touch "$dir/.complete"
  fi
}
if [ "${SMPACK_SKIP_VENV:-0}" != 1 ]; then
  make_venv .venv scripts/requirements-test.txt --system-site-packages
  make_venv .venv-signing scripts/requirements-signing.txt
  make_venv .venv-sdk-v3 scripts/requirements-sdk-v3.txt
  make_venv .venv-serving scripts/requirements-serving.txt --system-site-packages
fi
