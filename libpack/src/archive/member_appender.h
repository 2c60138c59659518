// The part of the writer that turns members into gzip members and index records;
// shared by `build` (a whole archive) and `add-code` (a new tail after members
// copied or kept from an existing archive, or members streamed from a foreign one).
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <vector>

#include "smpack/archive_index.h"
#include "smpack/archive_writer.h"
#include "smpack/result.h"

namespace smpack {

class ThreadPool;

// One member to write; its data comes from a ContentReader.
struct MemberSpec {
  std::string archive_path;  // normalised, no trailing '/'
  EntryType type = EntryType::file;
  std::uint32_t mode = 0644;
  std::uint64_t size = 0;
  std::string origin;  // for messages: the file or archive member it comes from
};

// Fills `out` with the member's next bytes; 0 at its end.
using ContentReader = std::function<Result<std::size_t>(std::span<std::byte> out)>;

class MemberAppender {
 public:
  // `write` receives the archive bytes in order. `index` already describes the
  // members before this point (empty for a new archive); records are appended.
  using Write = std::function<Result<void>(std::span<const std::byte>)>;
  MemberAppender(Write write, ArchiveIndex& index, const WriteOptions& options);
  ~MemberAppender();

  // Appends one member as tar header + data in independent gzip members. A reader
  // that yields fewer or more than spec.size bytes is bad_input.
  Result<void> append(const MemberSpec& spec, const ContentReader& content);
  // Appends files and directories from disk, in the given order.
  Result<void> append(const std::vector<SourceFile>& sources);
  // Writes the end-of-archive member, the index and the trailer. code/ starts at the
  // first appended member under code/ (or at the end when there is none).
  Result<void> finish();

  std::uint64_t file_offset() const { return file_offset_; }

 private:
  struct Compressed;
  Result<void> submit(std::vector<std::byte> chunk);
  Result<void> drain(std::size_t keep);
  Result<void> emit(std::vector<std::byte> member, std::uint64_t tar_bytes);
  Result<void> fail(Error error);

  Write write_;
  ArchiveIndex& index_;
  const WriteOptions& options_;
  std::unique_ptr<ThreadPool> pool_;
  std::size_t window_;
  std::deque<std::future<Compressed>> in_flight_;
  std::uint64_t file_offset_ = 0;
  std::uint64_t tar_offset_ = 0;     // tar bytes emitted
  std::uint64_t tar_submitted_ = 0;  // tar bytes submitted (emitted or in flight)
  std::uint64_t members_submitted_ = 0;
  std::uint64_t progress_done_ = 0, progress_total_ = 0;
  bool code_marked_ = false;
};

}  // namespace smpack
