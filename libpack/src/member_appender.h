// The part of the writer that turns source files into gzip members and index
// records; shared by `build` (a whole archive) and `add-code` (a new tail after
// members copied or kept from an existing smpack archive).
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "smpack/archive_index.h"
#include "smpack/archive_writer.h"
#include "smpack/result.h"

namespace smpack {

class MemberAppender {
 public:
  // `write` receives the archive bytes in order. `index` already describes the
  // members before this point (empty for a new archive); records are appended.
  using Write = std::function<Result<void>(std::span<const std::byte>)>;
  MemberAppender(Write write, ArchiveIndex& index, const WriteOptions& options);

  // Appends each source as tar header + data in independent gzip members.
  Result<void> append(const std::vector<SourceFile>& sources);
  // Marks where code/ starts (call before appending the code/ sources).
  void mark_code_start();
  // Writes the end-of-archive member, the index and the trailer.
  Result<void> finish();

  std::uint64_t file_offset() const { return file_offset_; }

 private:
  Result<void> emit(std::vector<std::byte> member, std::uint64_t tar_bytes);

  Write write_;
  ArchiveIndex& index_;
  const WriteOptions& options_;
  std::uint64_t file_offset_ = 0;
  std::uint64_t tar_offset_ = 0;
  bool code_marked_ = false;
};

}  // namespace smpack
