#include "archive/repetition_probe.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace smpack {
namespace {

constexpr std::size_t kSamples = 4;
constexpr std::size_t kSampleBytes = 4 << 10;
constexpr std::size_t kPositionsPerSample = kSampleBytes - 3;
static_assert(kSampleBytes < (1u << 16), "positions + 1 are kept as 16-bit");
static_assert(kSamples * kSampleBytes <= kRepetitionProbeMinBytes);
constexpr unsigned kHashBits = 12;
// More repeats than this share of the positions probed, and LZ77 pays.
constexpr std::size_t kRepeatShareInverse = 16;

std::uint32_t load_u32(const std::byte* at) {
  std::uint32_t value;
  std::memcpy(&value, at, 4);
  return value;
}

// Positions of the sample that start a 4-byte string which an earlier position with
// the same hash also starts: a lower bound on what a hash-chain matcher would find.
std::size_t repeats_in_sample(const std::byte* sample) {
  std::array<std::uint16_t, 1u << kHashBits> last_seen{};  // position + 1; 0 when none
  std::size_t repeats = 0;
  for (std::size_t at = 0; at < kPositionsPerSample; ++at) {
    const std::uint32_t word = load_u32(sample + at);
    const std::uint32_t hash = (word * 2654435761u) >> (32 - kHashBits);
    const std::uint16_t seen = last_seen[hash];
    if (seen != 0 && load_u32(sample + seen - 1) == word) ++repeats;
    last_seen[hash] = static_cast<std::uint16_t>(at + 1);
  }
  return repeats;
}

}  // namespace

bool lz77_pays(std::span<const std::byte> bytes) {
  if (bytes.size() < kRepetitionProbeMinBytes) return true;
  std::size_t repeats = 0;
  const std::size_t last_start = bytes.size() - kSampleBytes;
  for (std::size_t k = 0; k < kSamples; ++k) {
    repeats += repeats_in_sample(bytes.data() + last_start * k / (kSamples - 1));
  }
  return repeats * kRepeatShareInverse > kSamples * kPositionsPerSample;
}

}  // namespace smpack
