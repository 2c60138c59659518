#include "archive/huffman_deflate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

#include "archive/deflate_codes.h"

namespace smpack {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the bit writer stores its pending word as deflate orders bits");

constexpr std::size_t kLiteralLengthSymbols = 286;
constexpr unsigned kEndOfBlock = 256;
constexpr unsigned kFirstLengthSymbol = 257;
constexpr std::size_t kMinMatch = 3;
constexpr std::size_t kMaxMatch = 258;
// Distance 1 (code 0) is the only distance used; a second code of length 1 beside it
// makes the distance code complete.
constexpr std::size_t kDistanceCodes = 2;

struct LengthCode {
  std::uint16_t symbol;  // 0-28, past kFirstLengthSymbol
  std::uint16_t extra_bits;
  std::uint16_t base;
};

// RFC 1951, 3.2.5: the length code of each match length 3-258.
constexpr std::array<LengthCode, kMaxMatch + 1> kLengthCodes = [] {
  constexpr std::array<std::uint16_t, 29> base = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                                  15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                                  67, 83, 99, 115, 131, 163, 195, 227, 258};
  constexpr std::array<std::uint16_t, 29> extra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  std::array<LengthCode, kMaxMatch + 1> codes{};
  for (std::size_t length = kMinMatch; length <= kMaxMatch; ++length) {
    std::uint16_t symbol = 28;
    while (base[symbol] > length) --symbol;
    codes[length] = {symbol, extra[symbol], base[symbol]};
  }
  return codes;
}();

// The one parse both passes share: literals, eight at a time, and a run wherever the
// next eight bytes all repeat the byte before them. A run extends as far as it goes and
// is cut into matches of 3-258 bytes.
template <class Sink>
void tokenize(const std::uint8_t* in, std::size_t size, Sink& sink) {
  if (size == 0) return;
  sink.literal(in[0]);
  std::size_t at = 1;
  while (at + 8 <= size) {
    std::uint64_t next;
    std::memcpy(&next, in + at, 8);
    const std::uint8_t previous = in[at - 1];
    if (next != previous * 0x0101010101010101ull) {
      sink.literals8(in + at);
      at += 8;
      continue;
    }
    std::size_t end = at + 8;
    while (end < size && in[end] == previous) ++end;
    for (std::size_t left = end - at; left > 0;) {
      std::size_t match = std::min(left, kMaxMatch);
      if (left - match != 0 && left - match < kMinMatch) match = left - kMinMatch;
      sink.match(match);
      left -= match;
    }
    at = end;
  }
  for (; at < size; ++at) sink.literal(in[at]);
}

using LiteralLengthCounts = std::array<std::uint32_t, kLiteralLengthSymbols>;

// The first pass: how often each symbol occurs. Each of eight consecutive bytes has a
// table of its own, so that increments of one byte value do not wait on each other.
struct SymbolCounter {
  std::array<LiteralLengthCounts, 8> lanes{};
  std::uint64_t match_extra_bits = 0;  // length extra bits and distance codes

  void literal(std::uint8_t byte) { ++lanes[0][byte]; }
  void literals8(const std::uint8_t* bytes) {
    for (int k = 0; k < 8; ++k) ++lanes[k][bytes[k]];
  }
  void match(std::size_t length) {
    const LengthCode& code = kLengthCodes[length];
    ++lanes[0][kFirstLengthSymbol + code.symbol];
    match_extra_bits += code.extra_bits + 1u;
  }
  LiteralLengthCounts total() const {
    LiteralLengthCounts sum{};
    for (const auto& lane : lanes) {
      for (std::size_t s = 0; s < sum.size(); ++s) sum[s] += lane[s];
    }
    return sum;
  }
};

// Bits in deflate's order, stored a word at a time. flush() stores 8 bytes whatever
// it keeps, so the buffer has 8 bytes of room past the last one; it leaves at most 7
// bits pending, and between flushes at most 56 more may be added.
class BitWriter {
 public:
  explicit BitWriter(std::uint8_t* out) : out_(out) {}
  void put(std::uint32_t bits, unsigned count) {
    pending_ |= std::uint64_t{bits} << pending_count_;
    pending_count_ += count;
  }
  void flush() {
    std::memcpy(out_, &pending_, 8);
    out_ += pending_count_ >> 3;
    pending_ >>= pending_count_ & ~7u;
    pending_count_ &= 7;
  }
  std::uint8_t* finish() {
    flush();
    return out_ + (pending_count_ != 0 ? 1 : 0);
  }

 private:
  std::uint8_t* out_;
  std::uint64_t pending_ = 0;
  unsigned pending_count_ = 0;
};

// A code packed as its bits (reversed, as deflate sends them) and its length << 16.
using PackedCodes = std::array<std::uint32_t, kLiteralLengthSymbols>;

// The second pass: three codes between flushes at most.
static_assert(7 + 3 * kMaxCodeLength <= 56);
struct SymbolWriter {
  BitWriter& bits;
  const PackedCodes& codes;

  void symbol(unsigned s) { bits.put(codes[s] & 0xffff, codes[s] >> 16); }
  void literal(std::uint8_t byte) {
    symbol(byte);
    bits.flush();
  }
  void literals8(const std::uint8_t* bytes) {
    symbol(bytes[0]);
    symbol(bytes[1]);
    symbol(bytes[2]);
    bits.flush();
    symbol(bytes[3]);
    symbol(bytes[4]);
    symbol(bytes[5]);
    bits.flush();
    symbol(bytes[6]);
    symbol(bytes[7]);
    bits.flush();
  }
  void match(std::size_t length) {
    const LengthCode& code = kLengthCodes[length];
    symbol(kFirstLengthSymbol + code.symbol);
    bits.put(static_cast<std::uint32_t>(length - code.base), code.extra_bits);
    bits.put(0, 1);  // distance code 0: distance 1
    bits.flush();
  }
};

// A symbol of the code-length alphabet (RFC 1951, 3.2.7) and its repeat count's bits.
struct CodeLengthToken {
  std::uint8_t symbol;
  std::uint8_t extra;
};

unsigned code_length_extra_bits(unsigned symbol) {
  switch (symbol) {
    case 16:
      return 2;
    case 17:
      return 3;
    case 18:
      return 7;
    default:
      return 0;
  }
}

std::vector<CodeLengthToken> code_length_tokens(std::span<const std::uint8_t> lengths) {
  std::vector<CodeLengthToken> tokens;
  for (std::size_t at = 0; at < lengths.size();) {
    const std::uint8_t length = lengths[at];
    std::size_t run = 1;
    while (at + run < lengths.size() && lengths[at + run] == length) ++run;
    at += run;
    if (length == 0) {
      for (; run >= 11; run -= std::min<std::size_t>(run, 138)) {
        tokens.push_back({18, static_cast<std::uint8_t>(std::min<std::size_t>(run, 138) - 11)});
      }
      if (run >= 3) {
        tokens.push_back({17, static_cast<std::uint8_t>(run - 3)});
        run = 0;
      }
    } else {
      tokens.push_back({length, 0});
      --run;
      for (; run >= 3; run -= std::min<std::size_t>(run, 6)) {
        tokens.push_back({16, static_cast<std::uint8_t>(std::min<std::size_t>(run, 6) - 3)});
      }
    }
    for (; run > 0; --run) tokens.push_back({length, 0});
  }
  return tokens;
}

}  // namespace

void huffman_code_lengths(std::span<const std::uint32_t> frequencies, unsigned max_length,
                          std::span<std::uint8_t> lengths) {
  std::fill(lengths.begin(), lengths.end(), std::uint8_t{0});
  std::vector<std::uint32_t> symbols;
  for (std::uint32_t s = 0; s < frequencies.size(); ++s) {
    if (frequencies[s] != 0) symbols.push_back(s);
  }
  if (symbols.empty()) return;
  if (symbols.size() == 1) {
    lengths[symbols[0]] = 1;
    lengths[symbols[0] == 0 ? 1 : 0] = 1;
    return;
  }
  // Ascending frequency; ties in symbol order, so that the code depends on the counts only.
  std::stable_sort(symbols.begin(), symbols.end(), [&](std::uint32_t a, std::uint32_t b) {
    return frequencies[a] < frequencies[b];
  });

  // Huffman's tree with two queues: the sorted leaves, and the inner nodes, which are
  // made in order of weight.
  const std::size_t leaves = symbols.size();
  const std::size_t nodes = 2 * leaves - 1;
  std::vector<std::uint64_t> weight(nodes);
  std::vector<std::size_t> parent(nodes);
  for (std::size_t i = 0; i < leaves; ++i) weight[i] = frequencies[symbols[i]];
  std::size_t next_leaf = 0, next_inner = leaves;
  auto lightest = [&](std::size_t made) {
    if (next_leaf < leaves && (next_inner == made || weight[next_leaf] <= weight[next_inner])) {
      return next_leaf++;
    }
    return next_inner++;
  };
  for (std::size_t made = leaves; made < nodes; ++made) {
    const std::size_t a = lightest(made);
    const std::size_t b = lightest(made);
    weight[made] = weight[a] + weight[b];
    parent[a] = parent[b] = made;
  }
  std::vector<unsigned> depth(nodes, 0);
  for (std::size_t i = nodes - 1; i-- > 0;) depth[i] = depth[parent[i]] + 1;

  // Codes deeper than max_length move up to it; the code is then over-full, and each
  // step below takes one code off the deepest level and hangs it beside a shallower
  // code, pushed one level down, until the code is exactly complete again.
  std::array<std::uint32_t, kMaxCodeLength + 1> per_length{};
  for (std::size_t i = 0; i < leaves; ++i) ++per_length[std::min(depth[i], max_length)];
  std::uint64_t kraft = 0;
  for (unsigned length = 1; length <= max_length; ++length) {
    kraft += std::uint64_t{per_length[length]} << (max_length - length);
  }
  while (kraft > (std::uint64_t{1} << max_length)) {
    --per_length[max_length];
    for (unsigned length = max_length - 1; length > 0; --length) {
      if (per_length[length] != 0) {
        --per_length[length];
        per_length[length + 1] += 2;
        break;
      }
    }
    --kraft;
  }
  // The least frequent symbols get the longest codes.
  std::size_t next = 0;
  for (unsigned length = max_length; length > 0; --length) {
    for (std::uint32_t k = 0; k < per_length[length]; ++k) {
      lengths[symbols[next++]] = static_cast<std::uint8_t>(length);
    }
  }
}

bool append_huffman_deflate(std::span<const std::byte> input, std::size_t smaller_than,
                            std::vector<std::byte>& out) {
  // Symbol counts are 32-bit.
  if (input.empty() || input.size() > std::numeric_limits<std::uint32_t>::max()) return false;
  const auto* in = reinterpret_cast<const std::uint8_t*>(input.data());
  const std::size_t size = input.size();

  SymbolCounter counter;
  tokenize(in, size, counter);
  LiteralLengthCounts frequencies = counter.total();
  frequencies[kEndOfBlock] = 1;
  std::array<std::uint8_t, kLiteralLengthSymbols> literal_lengths;
  huffman_code_lengths(frequencies, kMaxCodeLength, literal_lengths);
  std::size_t literal_codes = kLiteralLengthSymbols;
  while (literal_codes > kFirstLengthSymbol && literal_lengths[literal_codes - 1] == 0) {
    --literal_codes;
  }

  std::vector<std::uint8_t> sent_lengths(literal_lengths.begin(),
                                         literal_lengths.begin() + literal_codes);
  sent_lengths.insert(sent_lengths.end(), kDistanceCodes, 1);
  const auto tokens = code_length_tokens(sent_lengths);
  std::array<std::uint32_t, 19> token_counts{};
  for (const auto& token : tokens) ++token_counts[token.symbol];
  std::array<std::uint8_t, 19> token_lengths;
  huffman_code_lengths(token_counts, kMaxCodeLengthCodeLength, token_lengths);
  std::size_t token_codes_sent = kCodeLengthOrder.size();
  while (token_codes_sent > 4 && token_lengths[kCodeLengthOrder[token_codes_sent - 1]] == 0) {
    --token_codes_sent;
  }

  // The block's exact size, known before writing it.
  std::uint64_t bits = 3 + 5 + 5 + 4 + 3 * token_codes_sent + counter.match_extra_bits;
  for (const auto& token : tokens) {
    bits += token_lengths[token.symbol] + code_length_extra_bits(token.symbol);
  }
  for (std::size_t s = 0; s < kLiteralLengthSymbols; ++s) {
    bits += std::uint64_t{frequencies[s]} * literal_lengths[s];
  }
  const std::size_t bytes = static_cast<std::size_t>((bits + 7) / 8);
  if (bytes >= smaller_than) return false;

  const auto literal_codes_reversed = canonical_reversed_codes(literal_lengths);
  const auto token_codes = canonical_reversed_codes(token_lengths);
  PackedCodes packed{};
  for (std::size_t s = 0; s < kLiteralLengthSymbols; ++s) {
    packed[s] = literal_codes_reversed[s] | std::uint32_t{literal_lengths[s]} << 16;
  }

  const std::size_t start = out.size();
  out.resize(start + bytes + 8);
  auto* const block = reinterpret_cast<std::uint8_t*>(out.data() + start);
  BitWriter writer(block);
  writer.put(1, 1);  // BFINAL
  writer.put(2, 2);  // BTYPE 10: dynamic Huffman codes
  writer.put(static_cast<std::uint32_t>(literal_codes - kFirstLengthSymbol), 5);
  writer.put(kDistanceCodes - 1, 5);
  writer.put(static_cast<std::uint32_t>(token_codes_sent - 4), 4);
  writer.flush();
  for (std::size_t k = 0; k < token_codes_sent; ++k) {
    writer.put(token_lengths[kCodeLengthOrder[k]], 3);
    writer.flush();
  }
  for (const auto& token : tokens) {
    writer.put(token_codes[token.symbol], token_lengths[token.symbol]);
    writer.put(token.extra, code_length_extra_bits(token.symbol));
    writer.flush();
  }
  SymbolWriter symbols{writer, packed};
  tokenize(in, size, symbols);
  symbols.symbol(kEndOfBlock);
  // The size computed above and the bits written are two accounts of one block; should
  // they ever differ, stored blocks are written rather than a block that is cut short.
  const bool exact = writer.finish() == block + bytes;
  out.resize(exact ? start + bytes : start);
  return exact;
}

}  // namespace smpack
