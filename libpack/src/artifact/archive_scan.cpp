#include "smpack/archive_scan.h"

#include <algorithm>
#include <map>

#include "io/file_io.h"
#include "archive/index_codec.h"
#include "smpack/digest.h"

namespace smpack {
namespace {

constexpr std::array<std::uint8_t, 10> kSmpackMemberHeader = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
constexpr std::array<std::uint8_t, 10> kSmpackIndexMemberHeader = {0x1f, 0x8b, 8, 4, 0,
                                                                   0,    0,    0, 0, 255};

void identify_writer(ArchiveScan& scan) {
  auto first_stored = scan.entries.empty() ? std::string() : scan.entries.front().entry.path;
  if (scan.index) {
    scan.writer = "smpack";
    scan.writer_evidence =
        "an smpack index (format version " + std::to_string(scan.index->version) + ") at the end";
  } else if (first_stored == "/" || scan.gzip.file_name.rfind("temp-model.tar", 0) == 0) {
    scan.writer = "SageMaker SDK repack";
    scan.writer_evidence = first_stored == "/"
                               ? "the first member is a root directory named '/'"
                               : "the gzip header names '" + scan.gzip.file_name + "'";
  } else if (scan.tar_format.find("GNU") != std::string::npos) {
    scan.writer = "GNU tar";
    scan.writer_evidence = "GNU tar header magic";
  } else if (!scan.gzip.file_name.empty() && scan.tar_format.find("pax") != std::string::npos) {
    scan.writer = "Python tarfile";
    scan.writer_evidence = "pax headers and a gzip header naming '" + scan.gzip.file_name + "'";
  } else {
    scan.writer = "unknown";
  }
}

// Compares what streaming saw with what the index claims, member by member.
void check_against_index(ArchiveScan& scan, const std::vector<GzipMemberInfo>& members,
                         const std::filesystem::path& path) {
  const ArchiveIndex& index = *scan.index;
  auto problem = [&](std::string text) { scan.index_problems.push_back(std::move(text)); };
  const std::size_t content_members = index.members.size();
  if (members.size() < content_members) {
    problem("the archive has " + std::to_string(members.size()) +
            " gzip members, the index lists " + std::to_string(content_members));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& seen = members[i];
    if (seen.fixed_header != kSmpackMemberHeader && i < content_members) {
      problem("gzip member " + std::to_string(i) + " at offset " +
              std::to_string(seen.file_offset) + " does not have smpack's fixed header");
    }
    if (i < content_members) {
      const auto& listed = index.members[i];
      if (seen.file_offset != listed.file_offset || seen.file_bytes != listed.file_bytes ||
          seen.decoded_bytes != listed.tar_bytes) {
        problem("gzip member " + std::to_string(i) + " does not match the index");
      }
    }
  }
  // The index and trailer must be exactly what smpack would write for this index.
  if (auto reread = read_file_from(path, index.index_offset);
      !reread || *reread != encode_index(index)) {
    problem("the index members are not byte-for-byte what the index encodes (damaged)");
  }
  std::vector<const ScannedEntry*> stored;
  for (const auto& e : scan.entries) stored.push_back(&e);
  if (stored.size() != index.entries.size()) {
    problem("the tar stream has " + std::to_string(stored.size()) + " members, the index lists " +
            std::to_string(index.entries.size()));
  }
  for (std::size_t i = 0; i < std::min(stored.size(), index.entries.size()); ++i) {
    const auto& listed = index.entries[i];
    const auto& seen = *stored[i];
    if (seen.path.normalized != listed.path || seen.entry.size != listed.size ||
        seen.entry.mode != listed.mode || seen.entry.type != listed.type ||
        (listed.type == EntryType::file && seen.sha256 != listed.sha256)) {
      problem("member '" + listed.path + "' does not match the index");
    }
  }
}

}  // namespace

Manifest ArchiveScan::manifest() const {
  Manifest m;
  m.archive_bytes = file_bytes;
  for (const auto& e : entries) {
    if (e.entry.type != EntryType::file && e.entry.type != EntryType::directory) continue;
    if (e.path.problem == PathProblem::root_member) continue;
    m.entries.push_back({e.path.normalized, e.entry.type, e.entry.mode, e.entry.size, e.sha256});
  }
  m.content_digest = content_digest(m.entries);
  return m;
}

ModelTree ArchiveScan::tree() const {
  ModelTree tree;
  tree.display_name = display_name;
  tree.source = index ? TreeSource::smpack_archive : TreeSource::archive;
  tree.container = container;
  for (const auto& e : entries) {
    TreeMember m;
    m.path = e.path.normalized;
    m.stored_path = e.entry.path;
    m.path_problem = e.path.problem;
    m.type = e.entry.type;
    m.mode = e.entry.mode;
    m.size = e.entry.size;
    m.link_target = e.entry.link_target;
    m.sha256 = e.sha256;
    tree.members.push_back(std::move(m));
  }
  tree.contents = contents;
  tree.weights = weights;
  tree.weights_scanned = weights_scanned;
  return tree;
}

Result<ArchiveScan> scan_archive(const std::filesystem::path& path, const ScanOptions& options) {
  ArchiveScan scan;
  scan.display_name = path.string();
  auto index = read_archive_index(path);
  if (!index) return std::move(index).error();
  scan.index = std::move(*index);
  auto reader = ArchiveReader::open_file(path, options.limits);
  if (!reader) return std::move(reader).error();
  std::vector<GzipMemberInfo> members;
  if (options.check_index) {
    reader->set_gzip_member_observer([&](const GzipMemberInfo& m) { members.push_back(m); });
  }
  std::error_code ec;
  scan.file_bytes = std::filesystem::file_size(path, ec);
  std::vector<std::byte> buffer(1 << 20);
  Hasher sha;
  std::optional<StreamedWeightCollector> weights;
  if (options.weights) weights.emplace(*options.weights);
  for (;;) {
    if (options.cancel && options.cancel->cancelled()) return Error::interrupted();
    auto next = reader->next();
    if (!next) return std::move(next).error();
    if (!*next) break;
    ScannedEntry scanned;
    scanned.entry = **next;
    scanned.path = check_member_path(scanned.entry.path, options.limits.max_name_bytes);
    const bool keep = scanned.entry.type == EntryType::file && options.keep_content &&
                      scanned.entry.size <= options.max_content_bytes &&
                      options.keep_content(scanned.path.normalized, scanned.entry.size);
    std::string kept;
    const bool is_file = scanned.entry.type == EntryType::file;
    if (is_file && weights) weights->begin(scanned.path.normalized, scanned.entry.size);
    // Kept members are hashed always (the tree reports their SHA-256); a member read
    // only for the weight inventory is hashed only when hashing was asked for.
    const bool hash = is_file && (options.hash_members || keep);
    if (is_file && (hash || (weights && weights->wants_data()))) {
      for (;;) {
        if (!hash && !weights->wants_data()) break;  // the rest is skipped by next()
        auto got = reader->read(buffer);
        if (!got) return std::move(got).error();
        if (*got == 0) break;
        if (hash) sha.update(std::span<const std::byte>(buffer.data(), *got));
        if (keep) kept.append(reinterpret_cast<const char*>(buffer.data()), *got);
        if (weights) weights->feed(std::span<const std::byte>(buffer.data(), *got));
        if (options.progress) options.progress->update(reader->compressed_bytes(), scan.file_bytes);
        if (options.cancel && options.cancel->cancelled()) return Error::interrupted();
      }
      if (hash) scanned.sha256 = sha.finish_hex();
    }
    if (is_file && weights) {
      if (auto r = weights->end(); !r) return std::move(r).error();
    }
    if (keep) scan.contents[scanned.path.normalized] = std::move(kept);
    scan.entries.push_back(std::move(scanned));
  }
  if (weights) scan.weights = weights->take_reports();
  scan.weights_scanned = weights.has_value();
  scan.container = reader->container();
  scan.tar_format = reader->tar_format();
  scan.gzip = reader->gzip_header();
  scan.tar_bytes = reader->uncompressed_bytes();
  scan.gzip_members = reader->gzip_members();
  identify_writer(scan);
  if (options.check_index && scan.index) check_against_index(scan, members, path);
  if (options.check_index && !scan.index) {
    // smpack's index members without a readable trailer: the trailer is damaged.
    for (const auto& m : members) {
      if (m.decoded_bytes == 0 && m.fixed_header == kSmpackIndexMemberHeader) {
        scan.index_problems.push_back("empty gzip members with smpack index fields at offset " +
                                      std::to_string(m.file_offset) +
                                      " but no valid index trailer at the end (damaged)");
        break;
      }
    }
  }
  return scan;
}

std::vector<std::string> compare_with_manifest(const ArchiveScan& scan, const Manifest& expected,
                                               const std::string& archive_sha256) {
  std::vector<std::string> problems;
  if (!archive_sha256.empty() && !expected.archive_sha256.empty() &&
      archive_sha256 != expected.archive_sha256) {
    problems.push_back("archive SHA-256 is " + archive_sha256 + ", the manifest says " +
                       expected.archive_sha256);
  }
  Manifest actual = scan.manifest();
  std::map<std::string, const ManifestEntry*> seen;
  for (const auto& e : actual.entries) seen[e.path] = &e;
  for (const auto& want : expected.entries) {
    auto it = seen.find(want.path);
    if (it == seen.end()) {
      problems.push_back("'" + want.path + "': missing from the archive");
      continue;
    }
    const ManifestEntry& got = *it->second;
    if (got.size != want.size || got.sha256 != want.sha256) {
      problems.push_back("'" + want.path + "': content differs from the manifest");
    } else if (got.mode != want.mode || got.type != want.type) {
      problems.push_back("'" + want.path + "': type or mode differs from the manifest");
    }
    seen.erase(it);
  }
  for (const auto& [path, entry] : seen) problems.push_back("'" + path + "': not in the manifest");
  return problems;
}

}  // namespace smpack
