// Caps that bound the work and memory of reading an untrusted archive.
// Every cap is checked while streaming; the first one exceeded stops the read
// with Error::bad_input naming the member and the cap. Defaults: docs/format.md.
#pragma once

#include <cstdint>

namespace smpack {

struct ReadLimits {
  std::uint64_t max_entries = 1'000'000;
  std::uint64_t max_entry_bytes = 1ull << 40;  // 1 TiB for one member
  std::uint64_t max_total_bytes = 4ull << 40;  // 4 TiB uncompressed in all
  std::uint64_t max_name_bytes = 4096;         // a path or link target
  std::uint64_t max_pax_bytes = 1ull << 20;    // one pax extended header
  // Uncompressed / compressed bytes. One deflate layer tops out near 1032:1, so
  // a ratio above this is either an absurdly uniform model or a bomb; it is only
  // checked once ratio_floor_bytes have come out, so small archives never trip it.
  double max_ratio = 250.0;
  std::uint64_t ratio_floor_bytes = 64ull << 20;
  // After a tar error in a gzip stream, how much more is decoded to see whether the
  // stream itself is damaged (its CRC then names the cause, not the tar).
  std::uint64_t max_bytes_after_tar_error = 256ull << 20;
};

}  // namespace smpack
