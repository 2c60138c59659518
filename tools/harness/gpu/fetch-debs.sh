#!/usr/bin/env bash
# Downloads (does not install) the Debian packages that tools/harness/gpu/run.sh needs
# on the GPU machine, which cannot reach a registry: the -dev packages smpack builds
# against, their runtime libraries and what those pull in, and pkgconf. Run it here,
# on a machine with apt; it writes .deps/debs/ (ignored by git), which travels along.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
dest="$root/.deps/debs"
mkdir -p "$dest"

packages=(
  # libarchive and what libarchive.so.13 links
  libarchive-dev libarchive13 libacl1 libbz2-1.0 liblz4-1 liblzma5 libnettle8 libxml2 libicu72 libzstd1
  # ISA-L, zlib, OpenSSL
  libisal-dev libisal2 zlib1g-dev zlib1g libssl-dev libssl3
  # S3 (libcurl, pugixml) and serve's HTTP (cpp-httplib, compiled, with brotli)
  libcurl4-openssl-dev libcurl4 libnghttp2-14 librtmp1 libssh2-1 libpsl5 libbrotli1 libbrotli-dev
  libpugixml-dev libpugixml1v5 libcpp-httplib-dev libcpp-httplib0.11
  # the load client of serve's run
  hey
  # header-only libraries
  nlohmann-json3-dev libcli11-dev
  # pkg-config, for CMake's pkg_check_modules
  pkgconf pkgconf-bin libpkgconf3
)

cd "$dest"
rm -f ./*.deb
apt-get download "${packages[@]}"
ls -1 "$dest"
echo "fetch-debs: ${#packages[@]} packages in $dest" >&2
