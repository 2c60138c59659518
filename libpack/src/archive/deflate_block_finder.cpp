#include "archive/deflate_block_finder.h"

#include <array>
#include <cstring>

#include "archive/deflate_codes.h"
#include "util/le_bytes.h"

namespace smpack {
namespace {

// deflate_codes.h's limits, as the int arithmetic below uses them.
constexpr int kMaxCodeLengthBits = static_cast<int>(kMaxCodeLengthCodeLength);
constexpr int kMaxCodeBits = static_cast<int>(kMaxCodeLength);

// At least 57 bits from `bit` on, zeros past the end of `bytes`.
std::uint64_t bits_at(std::span<const std::byte> bytes, std::uint64_t bit) {
  const std::size_t byte = bit / 8;
  std::array<std::byte, 8> raw{};
  if (byte < bytes.size()) {
    std::memcpy(raw.data(), bytes.data() + byte, std::min<std::size_t>(8, bytes.size() - byte));
  }
  return load_le(raw, 8) >> (bit % 8);
}

enum class Completeness { complete, single_code, none, invalid };

// Kraft's sum of the lengths: complete, a lone code of one bit (which inflate accepts
// for the literal/length and distance codes), no codes at all, or neither.
Completeness completeness(std::span<const std::uint8_t> lengths, int max_bits) {
  std::array<int, kMaxCodeBits + 1> count{};
  for (auto length : lengths) ++count[length];
  if (count[0] == static_cast<int>(lengths.size())) return Completeness::none;
  int left = 1;
  for (int bits = 1; bits <= max_bits; ++bits) {
    left = left * 2 - count[bits];
    if (left < 0) return Completeness::invalid;
  }
  if (left == 0) return Completeness::complete;
  return count[1] == 1 && left == 1 ? Completeness::single_code : Completeness::invalid;
}

// The code-length code as a table of 2^7 entries indexed by the next 7 input bits.
struct LengthCodeTable {
  std::array<std::uint8_t, 1 << kMaxCodeLengthBits> symbol{};
  std::array<std::uint8_t, 1 << kMaxCodeLengthBits> bits{};
};

LengthCodeTable table_of(const std::array<std::uint8_t, 19>& lengths) {
  LengthCodeTable table;
  const auto codes = canonical_reversed_codes(lengths);
  for (std::size_t symbol = 0; symbol < lengths.size(); ++symbol) {
    const unsigned length = lengths[symbol];
    if (length == 0) continue;
    for (auto fill = codes[symbol]; fill < (1u << kMaxCodeLengthBits); fill += 1u << length) {
      table.symbol[fill] = static_cast<std::uint8_t>(symbol);
      table.bits[fill] = static_cast<std::uint8_t>(length);
    }
  }
  return table;
}

// The checks that reject almost every bit offset, cheaply, before the full check:
// `head` holds the 13 bits from the offset on (BFINAL, BTYPE, HLIT, HDIST).
bool plausible_header(std::uint64_t head) {
  return ((head >> 1) & 3) == 2 && ((head >> 3) & 31) <= 29 && ((head >> 8) & 31) <= 29;
}

// Whether the code-length code's lengths at `at` (whose header bits `head` holds, HCLEN
// included) form a complete code: Kraft's sum of 2^(7 - length) over the non-zero
// lengths is 2^7 exactly.
bool complete_length_code(std::span<const std::byte> bytes, std::uint64_t at, std::uint64_t head) {
  const int length_codes = static_cast<int>((head >> 13) & 15) + 4;
  const std::uint64_t lengths = bits_at(bytes, at + 17);
  unsigned kraft = 0;
  for (int i = 0; i < length_codes; ++i) {
    const unsigned length = (lengths >> (3 * i)) & 7;
    if (length != 0) kraft += (1u << kMaxCodeLengthBits) >> length;
  }
  return kraft == 1u << kMaxCodeLengthBits;
}

}  // namespace

bool is_dynamic_block_header(std::span<const std::byte> bytes, std::uint64_t at) {
  const std::uint64_t end = std::uint64_t{bytes.size()} * 8;
  const std::uint64_t head = bits_at(bytes, at);
  if (((head >> 1) & 3) != 2) return false;  // BTYPE 10
  const int literal_codes = static_cast<int>((head >> 3) & 31) + 257;
  const int distance_codes = static_cast<int>((head >> 8) & 31) + 1;
  const int length_codes = static_cast<int>((head >> 13) & 15) + 4;
  if (literal_codes > 286 || distance_codes > 30) return false;
  std::uint64_t cursor = at + 17;
  const std::uint64_t lengths_word = bits_at(bytes, cursor);
  std::array<std::uint8_t, 19> length_code{};
  for (int i = 0; i < length_codes; ++i) {
    length_code[kCodeLengthOrder[i]] = static_cast<std::uint8_t>((lengths_word >> (3 * i)) & 7);
  }
  cursor += 3 * static_cast<std::uint64_t>(length_codes);
  if (completeness(length_code, kMaxCodeLengthBits) != Completeness::complete) return false;
  const LengthCodeTable table = table_of(length_code);

  std::array<std::uint8_t, 286 + 30> lengths{};
  const int total = literal_codes + distance_codes;
  // What is left of each code's Kraft sum, in units of 2^-15: below zero, the code is
  // over-subscribed whatever lengths follow (completeness() would say invalid), and most
  // false candidates end here after a few lengths instead of decoding all of them.
  int literal_room = 1 << kMaxCodeBits, distance_room = 1 << kMaxCodeBits;
  for (int n = 0; n < total;) {
    if (cursor + 14 > end) return false;
    const std::uint64_t word = bits_at(bytes, cursor);
    const auto index = static_cast<std::size_t>(word & ((1 << kMaxCodeLengthBits) - 1));
    const int symbol = table.symbol[index], bits = table.bits[index];
    const std::uint64_t extra = word >> bits;
    cursor += static_cast<std::uint64_t>(bits);
    int repeat = 1;
    std::uint8_t value = static_cast<std::uint8_t>(symbol);
    if (symbol == 16) {
      if (n == 0) return false;
      value = lengths[static_cast<std::size_t>(n - 1)];
      repeat = 3 + static_cast<int>(extra & 3);
      cursor += 2;
    } else if (symbol == 17) {
      value = 0;
      repeat = 3 + static_cast<int>(extra & 7);
      cursor += 3;
    } else if (symbol == 18) {
      value = 0;
      repeat = 11 + static_cast<int>(extra & 127);
      cursor += 7;
    }
    if (n + repeat > total) return false;
    for (int i = 0; i < repeat; ++i) {
      if (value != 0) {
        int& room = n < literal_codes ? literal_room : distance_room;
        room -= (1 << kMaxCodeBits) >> value;
        if (room < 0) return false;
      }
      lengths[static_cast<std::size_t>(n++)] = value;
    }
  }
  if (cursor > end || lengths[256] == 0) return false;
  const auto literals = std::span(lengths).first(static_cast<std::size_t>(literal_codes));
  const auto distances = std::span(lengths).subspan(static_cast<std::size_t>(literal_codes),
                                                    static_cast<std::size_t>(distance_codes));
  const auto literal_form = completeness(literals, kMaxCodeBits);
  const auto distance_form = completeness(distances, kMaxCodeBits);
  return (literal_form == Completeness::complete || literal_form == Completeness::single_code) &&
         distance_form != Completeness::invalid;
}

std::optional<std::uint64_t> find_dynamic_block(std::span<const std::byte> bytes,
                                                std::uint64_t from_bit, std::uint64_t until_bit) {
  const std::uint64_t end = std::min<std::uint64_t>(until_bit, std::uint64_t{bytes.size()} * 8);
  for (std::uint64_t at = from_bit; at < end;) {
    // One load serves the eight offsets of a byte (57 bits from each).
    const std::uint64_t word = bits_at(bytes, at - at % 8);
    for (unsigned shift = at % 8; shift < 8 && at < end; ++shift, ++at) {
      const std::uint64_t head = word >> shift;
      if (plausible_header(head) && complete_length_code(bytes, at, head) &&
          is_dynamic_block_header(bytes, at))
        return at;
    }
  }
  return std::nullopt;
}

}  // namespace smpack
