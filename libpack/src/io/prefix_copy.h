// The first bytes of a source appended to an output on a thread of its own, as far as
// the caller has said they are kept, so that the copy (and, into a local file, its
// write to disk) runs while the pass that decides where the prefix ends is still
// reading. add-code's splice keeps a foreign archive's bytes up to a cut that is known
// only once the scan has ended, but every block boundary the scan passes bounds it from
// below (SplicePointFinder::kept_bytes_at_least).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "smpack/archive_output.h"
#include "smpack/byte_source.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

class PrefixCopy {
 public:
  // `output` and `source` must outlive the copy; nothing else writes to `output` before
  // finish() returns.
  PrefixCopy(ArchiveOutput& output, const ByteSource& source, const CancelToken* cancel);
  // Without finish(): stops after the piece being copied; the output is left unfinished.
  ~PrefixCopy();
  PrefixCopy(const PrefixCopy&) = delete;
  PrefixCopy& operator=(const PrefixCopy&) = delete;

  // The prefix is at least `bytes` long (a smaller bound than one given before changes
  // nothing). The copy goes on once some MiB more than it has copied are allowed.
  void at_least(std::uint64_t bytes);
  // The prefix is `bytes` long: returns once all of it is in the output, or with the
  // copy's error. Called once; an internal error when more than `bytes` was already
  // allowed (the copy is then stopped).
  Result<void> finish(std::uint64_t bytes);

 private:
  void run();
  void stop();

  ArchiveOutput& output_;
  const ByteSource& source_;
  const CancelToken* cancel_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t allowed_ = 0;
  std::uint64_t copied_ = 0;
  bool final_ = false;  // allowed_ is the whole prefix
  bool stop_ = false;
  bool done_ = false;
  std::optional<Error> error_;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace smpack
