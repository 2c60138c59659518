#include "smpack/container_kind.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace smpack {
namespace {

bool starts_with(std::span<const std::byte> head, std::initializer_list<std::uint8_t> magic) {
  if (head.size() < magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), head.begin(),
                    [](std::uint8_t m, std::byte b) { return std::byte{m} == b; });
}

// A ustar/GNU header has "ustar" at 257; a v7 tar has none, so fall back to the
// header checksum, which every tar writer fills in.
bool looks_like_tar(std::span<const std::byte> head) {
  constexpr std::size_t kMagicOffset = 257;
  constexpr std::array<std::uint8_t, 5> kUstar = {'u', 's', 't', 'a', 'r'};
  if (head.size() < 512) return false;
  if (std::equal(kUstar.begin(), kUstar.end(), head.begin() + kMagicOffset,
                 [](std::uint8_t m, std::byte b) { return std::byte{m} == b; })) {
    return true;
  }
  std::uint64_t stored = 0;
  bool digits = false;
  for (std::size_t i = 148; i < 156; ++i) {
    auto c = static_cast<unsigned char>(head[i]);
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + (c - '0');
      digits = true;
    } else if (c != ' ' && c != 0) {
      return false;
    }
  }
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(head[i]);
  }
  return digits && sum == stored;
}

}  // namespace

ContainerKind sniff_container(std::span<const std::byte> head) {
  if (head.empty()) return ContainerKind::empty;
  if (starts_with(head, {0x1f, 0x8b})) return ContainerKind::gzip;
  if (starts_with(head, {'P', 'K', 0x03, 0x04}) || starts_with(head, {'P', 'K', 0x05, 0x06}))
    return ContainerKind::zip;
  if (starts_with(head, {0x28, 0xb5, 0x2f, 0xfd})) return ContainerKind::zstd;
  if (starts_with(head, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return ContainerKind::xz;
  if (starts_with(head, {'B', 'Z', 'h'})) return ContainerKind::bzip2;
  if (looks_like_tar(head)) return ContainerKind::plain_tar;
  return ContainerKind::unknown;
}

std::string_view describe(ContainerKind kind) {
  switch (kind) {
    case ContainerKind::gzip:
      return "a gzip-compressed file";
    case ContainerKind::plain_tar:
      return "an uncompressed tar archive";
    case ContainerKind::zip:
      return "a zip archive";
    case ContainerKind::zstd:
      return "a zstd-compressed file";
    case ContainerKind::xz:
      return "an xz-compressed file";
    case ContainerKind::bzip2:
      return "a bzip2-compressed file";
    case ContainerKind::empty:
      return "an empty file";
    case ContainerKind::unknown:
      break;
  }
  return "unrecognised data (no tar header, no compression magic)";
}

std::string_view name_of(ContainerKind kind) {
  switch (kind) {
    case ContainerKind::gzip:
      return "gzip";
    case ContainerKind::plain_tar:
      return "tar";
    case ContainerKind::zip:
      return "zip";
    case ContainerKind::zstd:
      return "zstd";
    case ContainerKind::xz:
      return "xz";
    case ContainerKind::bzip2:
      return "bzip2";
    case ContainerKind::empty:
      return "empty";
    case ContainerKind::unknown:
      break;
  }
  return "unknown";
}

}  // namespace smpack
