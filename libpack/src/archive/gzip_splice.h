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
  // How many of the file's bytes a splice at any cut allowed so far keeps at least: the
  // boundary it resumes from is this one or a later one (nearer_boundary moves forward).
  std::uint64_t kept_bytes_at_least() const;

 private:
  std::optional<DeflateBoundary> best_;  // the latest at or before the bound
  std::deque<DeflateBoundary> pending_;  // kept boundaries after the bound, in order
  std::uint64_t bound_ = 0;
  std::uint64_t last_kept_ = 0;
  bool kept_any_ = false;
};

// How many of the file's bytes a splice at `cut` resuming from `from` keeps as they are:
// those before the block that `from` starts, or, for a cut at the start of from's gzip
// member, the members before it whole and none of it.
std::uint64_t kept_file_bytes(const DeflateBoundary& from, std::uint64_t cut);

// A decoder resumed at `from`; `bytes` holds the archive's bytes from file offset `origin`
// (at most from.bit_offset / 8) on.
GzipDecoder resume_at(const ByteSource& bytes, std::uint64_t origin, std::string name,
                      const DeflateBoundary& from);

// The latest kept boundary at or before `cut`, by decoding with zlib from `from` (one at
// or before it, such as a chunk start of the parallel inflate, which reports no others):
// what a cut re-encodes is then at most the SplicePointFinder's spacing, not a chunk.
Result<DeflateBoundary> nearer_boundary(const ByteSource& bytes, const std::string& name,
                                        const DeflateBoundary& from, std::uint64_t cut);

// Ends the gzip member that holds `cut` (after from.tar_offset, in from's member) at the
// cut: writes what goes at file offset from.bit_offset / 8 (the shared byte's kept bits
// merged with a new final block of the data from the boundary to the cut, at zlib `level`,
// then the member's trailer) and returns how many bytes that is. `rest`, resumed at
// `from` over the same bytes, is read up to the cut, so the tar stream after it comes next.
Result<std::uint64_t> end_member_at(
    const ByteSource& bytes, std::uint64_t origin, const std::string& name, GzipDecoder& rest,
    const DeflateBoundary& from, std::uint64_t cut, int level,
    const std::function<Result<void>(std::span<const std::byte>)>& write);

}  // namespace smpack
