// The parallel inflate of arbitrary bytes in chunks of 4 KiB, against GzipDecoder: both
// must agree on whether the file is good and, when it is, hand over the same bytes (a
// difference traps), under a cap on the decoded size.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "archive/gzip_decoder.h"
#include "archive/parallel_gzip_inflate.h"
#include "smpack/byte_source.h"

namespace {

constexpr std::size_t kMaxDecoded = 8u << 20;

struct Outcome {
  std::string bytes;
  bool good = false;
};

Outcome sequential(std::span<const std::byte> input) {
  smpack::GzipDecoder decoder(
      [input,
       at = std::size_t{0}](std::span<std::byte> out) mutable -> smpack::Result<std::size_t> {
        const std::size_t n = std::min(out.size(), input.size() - at);
        std::copy_n(input.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
        at += n;
        return n;
      },
      "fuzz.gz");
  Outcome outcome;
  std::vector<std::byte> buffer(1 << 16);
  while (outcome.bytes.size() <= kMaxDecoded) {
    auto got = decoder.read(buffer);
    if (!got) return outcome;
    if (*got == 0) {
      outcome.good = true;
      return outcome;
    }
    outcome.bytes.append(reinterpret_cast<const char*>(buffer.data()), *got);
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  smpack::MemoryByteSource source(input);
  auto parallel = smpack::ParallelGzipInflate::start(source, "fuzz.gz", {}, {}, {4096, 2});
  if (!parallel) return 0;
  Outcome outcome;
  while (outcome.bytes.size() <= kMaxDecoded) {
    auto got = parallel->next();
    if (!got) break;
    if (got->empty()) {
      outcome.good = true;
      break;
    }
    outcome.bytes.append(reinterpret_cast<const char*>(got->data()), got->size());
  }
  const Outcome expected = sequential(input);
  if (outcome.bytes.size() > kMaxDecoded || expected.bytes.size() > kMaxDecoded) return 0;
  if (outcome.good != expected.good) __builtin_trap();
  if (outcome.good && outcome.bytes != expected.bytes) __builtin_trap();
  return 0;
}
