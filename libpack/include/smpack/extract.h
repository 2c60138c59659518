// Safe extraction: the union of libarchive's secure-extract flags and Python's
// tarfile "data" filter. Nothing is ever written outside the destination:
// members are refused for absolute paths, ".." components, links that leave the
// root or are absolute, device files, FIFOs and sockets, and for writing through
// a symlink (also one an earlier member created). setuid/setgid/sticky bits and
// owners are dropped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"

namespace smpack {

enum class UnsafeMemberPolicy {
  refuse,  // stop at the first unsafe member with Error::bad_input naming it
  skip,    // leave it out, record it in ExtractReport::skipped, go on
};

struct ExtractOptions {
  UnsafeMemberPolicy unsafe = UnsafeMemberPolicy::refuse;
  // Replace files, links and folders that were in the destination before; without it, a
  // member that would replace one is an io error naming it, and nothing is replaced.
  bool overwrite = false;
  const CancelToken* cancel = nullptr;
  ProgressSink* progress = nullptr;
};

struct ExtractReport {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t links = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> skipped;  // "member: reason"
};

// `destination` is created if missing. On error or interrupt, what was extracted
// before the failing member remains, all of it inside `destination`; the member being
// written is removed (the error says so). Reads with the archive's limits.
Result<ExtractReport> extract_archive(const Artifact& archive,
                                      const std::filesystem::path& destination,
                                      const ExtractOptions& options = {});

// {"archive", "destination", "files", "directories", "links", "bytes", "skipped"}.
std::string extract_json(const std::string& archive, const std::string& destination,
                         const ExtractReport& report);

}  // namespace smpack
