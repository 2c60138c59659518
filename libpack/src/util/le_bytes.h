// Little-endian integers and bounds-checked slices of untrusted bytes: the one place the
// readers of gzip, the smpack index, zip, pickle, safetensors, numpy and torch files
// decode a field, so that no reader writes its own shifts or its own bounds check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace smpack {

// The `width` (at most 8) bytes at the start of `bytes` as a little-endian number; the
// caller has checked that they are there.
constexpr std::uint64_t load_le(std::span<const std::byte> bytes, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width && i < 8; ++i) {
    value |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  }
  return value;
}
inline std::uint64_t load_le(std::string_view bytes, std::size_t width) {
  return load_le(std::as_bytes(std::span(bytes.data(), bytes.size())), width);
}

// A T read at `offset`, or nullopt when it is not all there.
template <class T>
requires std::is_unsigned_v<T>
constexpr std::optional<T> read_le(std::span<const std::byte> bytes, std::size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return std::nullopt;
  return static_cast<T>(load_le(bytes.subspan(offset), sizeof(T)));
}

// Appends `value` as `width` little-endian bytes.
inline void append_le(std::vector<std::byte>& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}
// Writes `value` as `width` little-endian bytes at `at`.
constexpr void store_le(std::byte* at, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) at[i] = static_cast<std::byte>(value >> (8 * i));
}

// a + b, or nullopt when it overflows: sizes and offsets from a header are attacker's numbers.
constexpr std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  if (a > std::numeric_limits<std::uint64_t>::max() - b) return std::nullopt;
  return a + b;
}

// bytes[offset, offset + length), or nullopt when any of it lies outside (std::span's
// subspan would be undefined behaviour there).
constexpr std::optional<std::span<const std::byte>> strict_subspan(std::span<const std::byte> bytes,
                                                                   std::uint64_t offset,
                                                                   std::uint64_t length) {
  if (offset > bytes.size() || length > bytes.size() - offset) return std::nullopt;
  return bytes.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
}

}  // namespace smpack
