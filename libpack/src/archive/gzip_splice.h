// Cutting a foreign gzip tar at a tar offset without recompressing what comes before
// it, the technique of zlib's examples/gzappend.c: every compressed byte before the
// deflate block that holds the cut is kept; that block's bits before the cut point are
// merged with a new final block holding the decoded bytes from the block's start to
// the cut; a new trailer ends the member (CRC-32 by crc32_combine, ISIZE). What follows
// the cut is appended as new gzip members (docs/format.md, "Spliced archives").
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "archive/gzip_decoder.h"
#include "smpack/archive_reader.h"
#include "smpack/byte_source.h"
#include "smpack/result.h"

namespace smpack {

// Chooses, during the one pass that decodes the archive, the boundary to resume from for
// a cut that is known only later (at the header of the first member to replace, or the
// end of the tar stream). Bounded work: a boundary's window is copied only when it is a
// gzip member's start or at least 32 KiB of data past the last one kept, so the copies
// never exceed the data decoded and a flood of tiny blocks costs nothing extra; a cut
// then re-encodes at most that much more.
class SplicePointFinder {
 public:
  void on_boundary(const DeflateBoundary& at,
                   const std::function<std::vector<std::byte>()>& fetch_window);
  // The cut lies at or after `tar_offset` (call as the tar headers go by).
  void cut_not_before(std::uint64_t tar_offset);
  // The latest kept boundary at or before `cut`; nullopt when there is none.
  std::optional<DeflateBoundary> choose(std::uint64_t cut) const;

 private:
  std::optional<DeflateBoundary> best_;  // the latest at or before the bound
  std::deque<DeflateBoundary> pending_;  // kept boundaries after the bound, in order
  std::uint64_t bound_ = 0;
  std::uint64_t last_kept_ = 0;
  bool kept_any_ = false;
};

struct SplicedMemberEnd {
  // What goes at file offset from.bit_offset / 8: the merged byte, the new final block,
  // the member's trailer.
  std::vector<std::byte> bytes;
  std::uint64_t file_offset = 0;
  // Resumed at `from` and read up to the cut: the tar stream after it comes next.
  GzipDecoder rest;
};

// `bytes` holds the archive's bytes from file offset `origin` (at most from.bit_offset / 8)
// on; `from` lies in the member that holds `cut`. `level` 0-9 as zlib's.
Result<SplicedMemberEnd> end_member_at(const ByteSource& bytes, std::uint64_t origin,
                                       std::string name, const DeflateBoundary& from,
                                       std::uint64_t cut, int level);

}  // namespace smpack
