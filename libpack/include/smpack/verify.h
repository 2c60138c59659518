// What `smpack verify` checks, as data: every gzip CRC and length (one full pass),
// the smpack index against the bytes, and optionally an expected manifest and
// archive SHA-256.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/manifest.h"
#include "smpack/result.h"

namespace smpack {

struct VerifyOptions {
  std::optional<Manifest> expected;   // from `build --manifest`
  std::optional<std::string> sha256;  // the archive's expected SHA-256, hex
  const CancelToken* cancel = nullptr;
  ProgressSink* progress = nullptr;
};

struct VerifyReport {
  std::string artifact;
  bool ok = false;  // no problem found
  std::uint64_t members = 0;
  std::uint64_t gzip_members = 0;
  bool smpack_index = false;
  bool manifest_checked = false;
  bool sha256_checked = false;
  std::vector<std::string> problems;  // what differs, one sentence each
};

// usage for a directory (verify checks archives); bad_input for corruption the
// reader stops on (it names the member) and for a container SageMaker cannot read
// (not gzip or tar).
Result<VerifyReport> verify_artifact(const Artifact& artifact, const VerifyOptions& options);

// Problems found comparing a manifest with an expected one ("'x': missing from the
// archive", "'x': content differs from the manifest"); empty when they agree.
std::vector<std::string> compare_manifests(const Manifest& actual, const Manifest& expected);

// {"archive", "ok", "members", "gzip_members", "smpack_index", "problems"} (docs/cli.md).
std::string verify_json(const VerifyReport& report);

}  // namespace smpack
