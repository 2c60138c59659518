// RFC 1951's prefix codes, as both the block finder (reading dynamic headers) and the
// Huffman-only encoder (writing them) need them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace smpack {

inline constexpr unsigned kMaxCodeLength = 15;           // literal/length and distance codes
inline constexpr unsigned kMaxCodeLengthCodeLength = 7;  // the code-length code
// 3.2.7: the order in which a dynamic header sends the code-length code's lengths.
inline constexpr std::array<std::uint8_t, 19> kCodeLengthOrder = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// 3.2.2: the canonical code of each symbol with a length (0 for none), with its bits
// reversed: deflate sends a code from its most significant bit, and bit readers and
// writers work from the least.
template <std::size_t N>
std::array<std::uint32_t, N> canonical_reversed_codes(const std::array<std::uint8_t, N>& lengths) {
  std::array<std::uint32_t, kMaxCodeLength + 1> per_length{}, next{};
  for (auto length : lengths) ++per_length[length];
  per_length[0] = 0;
  for (unsigned length = 1, code = 0; length <= kMaxCodeLength; ++length) {
    code = (code + per_length[length - 1]) << 1;
    next[length] = code;
  }
  std::array<std::uint32_t, N> codes{};
  for (std::size_t symbol = 0; symbol < N; ++symbol) {
    const unsigned length = lengths[symbol];
    if (length == 0) continue;
    std::uint32_t code = next[length]++, reversed = 0;
    for (unsigned bit = 0; bit < length; ++bit, code >>= 1) reversed = (reversed << 1) | (code & 1);
    codes[symbol] = reversed;
  }
  return codes;
}

}  // namespace smpack
