// The splice of a gzip member on arbitrary bytes: decode once reporting block boundaries,
// choose a cut from the input's last byte, end the member there and check the result
// decodes to exactly the data before the cut (a mismatch traps), under a small cap.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "archive/gzip_splice.h"
#include "smpack/byte_source.h"

namespace {

constexpr std::size_t kMaxDecoded = 8u << 20;

smpack::GzipDecoder::Source reader_of(std::span<const std::byte> bytes) {
  return [bytes,
          at = std::size_t{0}](std::span<std::byte> out) mutable -> smpack::Result<std::size_t> {
    const std::size_t n = std::min(out.size(), bytes.size() - at);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
    at += n;
    return n;
  };
}

bool decode(smpack::GzipDecoder& decoder, std::string& out) {
  std::vector<std::byte> buffer(1 << 16);
  for (;;) {
    auto got = decoder.read(buffer);
    if (!got) return false;
    if (*got == 0) return true;
    out.append(reinterpret_cast<const char*>(buffer.data()), *got);
    if (out.size() > kMaxDecoded) return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto input = std::as_bytes(std::span(data, size - 1));
  smpack::SplicePointFinder finder;
  smpack::GzipDecoder first(reader_of(input), "fuzz.gz");
  first.set_boundary_observer([&](const smpack::DeflateBoundary& at,
                                  const std::function<std::vector<std::byte>()>& window) {
    finder.on_boundary(at, window);
  });
  std::string decoded;
  if (!decode(first, decoded) || first.members() != 1) return 0;
  const std::uint64_t cut = decoded.size() * data[size - 1] / 255;
  auto from = finder.choose(cut);
  if (!from) __builtin_trap();  // the member's start is always kept
  smpack::MemoryByteSource source(input);
  smpack::GzipDecoder rest = smpack::resume_at(source, 0, "fuzz.gz", *from);
  if (cut > 0) {
    std::vector<std::byte> spliced(
        input.begin(), input.begin() + static_cast<std::ptrdiff_t>(from->bit_offset / 8));
    auto wrote =
        smpack::end_member_at(source, 0, "fuzz.gz", rest, *from, cut, 1,
                              [&](std::span<const std::byte> piece) -> smpack::Result<void> {
                                spliced.insert(spliced.end(), piece.begin(), piece.end());
                                return {};
                              });
    if (!wrote) __builtin_trap();  // the data decoded once; resuming must too
    smpack::GzipDecoder check(reader_of(spliced), "spliced.gz");
    std::string kept;
    if (!decode(check, kept) || kept != decoded.substr(0, cut)) __builtin_trap();
  }
  std::string after;  // the resumed decoder is left at the cut
  if (!decode(rest, after) || after != decoded.substr(cut)) __builtin_trap();
  return 0;
}
