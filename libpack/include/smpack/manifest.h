// What an archive holds, as data: every member with its SHA-256, the archive's
// own digest, and a content digest that depends on the members alone (not on
// compression, member order or metadata smpack normalises away).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/entry.h"
#include "smpack/result.h"

namespace smpack {

struct ManifestEntry {
  std::string path;  // normalised; directories without a trailing '/'
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string sha256;  // hex; empty for directories
};

struct Manifest {
  std::string archive_sha256;  // empty when unknown
  std::uint64_t archive_bytes = 0;
  std::string content_digest;
  std::vector<ManifestEntry> entries;
};

// SHA-256 over the lines "<type> <mode octal> <size> <sha256> <path>\n" of the
// members sorted by path (bytewise). docs/format.md gives the exact grammar.
std::string content_digest(std::span<const ManifestEntry> entries);

// "0644": the permission bits as manifests, JSON and listings print them.
std::string octal_mode(std::uint32_t mode);

std::string manifest_to_json(const Manifest& manifest);
// bad_input naming the field when the JSON is not a manifest.
Result<Manifest> manifest_from_json(std::string_view json);
// A manifest file written by build; io when it cannot be read, bad_input (naming the
// file) when it is not a manifest.
Result<Manifest> read_manifest_file(const std::filesystem::path& path);

}  // namespace smpack
