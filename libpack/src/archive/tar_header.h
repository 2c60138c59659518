// POSIX tar headers as smpack writes them: ustar, with a pax extended header only
// when a name does not fit ustar's name/prefix fields or a size needs more than
// 11 octal digits. uid/gid 0, no user or group names, the given mtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/entry.h"

namespace smpack {

inline constexpr std::size_t kTarBlock = 512;

// The header block(s) for one member; `path` without a trailing '/' (added for
// directories here).
std::vector<std::byte> make_tar_header(std::string_view path, EntryType type, std::uint32_t mode,
                                       std::uint64_t size, std::int64_t mtime);

// A numeric header field as every reader takes it: octal digits (spaces and NULs around
// them), or base-256 when the first byte has its high bit set; nullopt when it is neither
// (or starts with NUL and has digits after it, which readers read differently).
std::optional<std::uint64_t> parse_tar_number(std::span<const std::byte> field);

// Whether the header's checksum field matches its bytes (unsigned or, as old BSD and
// Solaris tars wrote it, signed): every tar format has one, v7 too.
bool tar_checksum_matches(std::span<const std::byte, kTarBlock> header);

// Zero bytes that pad `size` up to a whole block.
inline std::size_t tar_padding(std::uint64_t size) {
  return static_cast<std::size_t>((kTarBlock - size % kTarBlock) % kTarBlock);
}

}  // namespace smpack
