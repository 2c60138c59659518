// What `smpack info` says about an artifact, as data: the container facts, the
// members, the weight files, and the handler scan, profile and deploy verdict taken
// from the same lint run that `smpack lint` makes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/lint.h"
#include "smpack/manifest.h"
#include "smpack/result.h"
#include "smpack/signing.h"

namespace smpack {

struct ArtifactDescription {
  std::string artifact;  // the name it was opened by
  ArtifactKind kind = ArtifactKind::directory;
  std::optional<ArchiveFacts> archive;  // archives only
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t other_members = 0;  // symlinks, links, devices
  std::uint64_t data_bytes = 0;     // sum of the files' sizes
  bool has_code = false;
  // The content digest (manifest.h); empty for a directory, whose weights are not read whole
  // (`digest` hashes them).
  std::string content_digest;
  std::vector<ManifestEntry> largest;  // the five largest files, largest first
  std::vector<WeightFileReport> weights;
  // What stopped the reading of a damaged archive; the rest describes what was read
  // before it.
  std::optional<std::string> read_error;
  LintReport lint;          // profile, handler module and bindings, findings
  std::string deploy_call;  // the SDK call that deploys it without a repack
  // In S3: the objects read, with their ETags, and the ModelDataSource of CreateModel
  // as JSON (model_data_source() in repack.h); empty for a local artifact.
  std::vector<S3Object> s3_objects;
  std::string model_data_source;
  // Every member with its digests (a directory's files are not hashed).
  Manifest manifest;
  // A directory: what build leaves out by default (kDefaultExcludes), each topmost such
  // path with the number of files under it.
  std::vector<std::pair<std::string, std::uint64_t>> left_out_by_build;
  // A signature found beside the artifact (PATH.sig), as its caller read it.
  std::string signature_path;
  std::optional<SignatureSummary> signature;
};

// Reads an smpack archive through its index (no weight data but the files' heads
// and tails), any other archive in one pass.
// `sdk` is the SDK version the deploy call is written for.
Result<ArtifactDescription> describe_artifact(const Artifact& artifact, SdkVersion sdk,
                                              const CancelToken* cancel = nullptr,
                                              ProgressSink* progress = nullptr);

// The handler names the profile's container looks up (kHandlerNames, and TF Serving's).
bool is_handler_name(std::string_view name, Profile profile);

// {"artifact", "kind", "container", ..., "deploy_ready", "deploy_call",
// "model_data_source" (null unless in S3), "s3_objects" ([] unless in S3),
// "left_out_by_build" ([{"path", "files"}], a directory's default excludes), "signature"
// (null, or {"path", "model_name", "key_hint", "files", "missing", "changed", "extra"})}
// (docs/cli.md).
std::string describe_json(const ArtifactDescription& description);

}  // namespace smpack
