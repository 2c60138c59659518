// The tar/gzip reader on arbitrary bytes: every header, every member's data, and
// the member-path judgement, under small caps so a bomb cannot stall the fuzzer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "smpack/archive_reader.h"
#include "smpack/member_path.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smpack::ReadLimits limits;
  limits.max_entries = 1000;
  limits.max_total_bytes = 64ull << 20;
  limits.ratio_floor_bytes = 1 << 20;
  auto reader = smpack::ArchiveReader::open_memory(std::as_bytes(std::span(data, size)),
                                                   "fuzz.tar.gz", limits);
  if (!reader) return 0;
  std::byte buffer[4096];
  for (;;) {
    auto next = reader->next();
    if (!next || !*next) break;
    (void)smpack::check_member_path((*next)->path);
    (void)smpack::resolve_symlink_target((*next)->path, (*next)->link_target);
    for (;;) {
      auto got = reader->read(buffer);
      if (!got || *got == 0) break;
    }
  }
  return 0;
}
