// What a file really is, from its first bytes: never from its name.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace smpack {

enum class ContainerKind { gzip, plain_tar, zip, zstd, xz, bzip2, empty, unknown };

// How many leading bytes sniff_container looks at (a tar's "ustar" magic sits at 257).
inline constexpr std::size_t kSniffBytes = 512;

// Classifies by magic numbers; `head` may be shorter than kSniffBytes.
ContainerKind sniff_container(std::span<const std::byte> head);

// A short noun phrase for messages: "a gzip-compressed file", "a zip archive", ...
std::string_view describe(ContainerKind kind);

// A stable lower-case name for JSON: "gzip", "tar", "zip", ...
std::string_view name_of(ContainerKind kind);

}  // namespace smpack
