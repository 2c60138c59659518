#include "smpack/manifest.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "smpack/byte_source.h"
#include "smpack/digest.h"
#include "util/json_text.h"

namespace smpack {
namespace {

Result<EntryType> entry_type_from_name(std::string_view name) {
  for (auto type : {EntryType::file, EntryType::directory, EntryType::symlink, EntryType::hardlink,
                    EntryType::char_device, EntryType::block_device, EntryType::fifo,
                    EntryType::socket, EntryType::other}) {
    if (name_of(type) == name) return type;
  }
  return Error::bad_input("unknown member type '" + std::string(name) + "'");
}

}  // namespace

std::string octal_mode(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

std::string content_digest(std::span<const ManifestEntry> entries) {
  std::vector<const ManifestEntry*> sorted;
  sorted.reserve(entries.size());
  for (const auto& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const ManifestEntry* a, const ManifestEntry* b) { return a->path < b->path; });
  Hasher hasher;
  for (const auto* e : sorted) {
    std::string line = std::string(name_of(e->type)) + " " + octal_mode(e->mode) + " " +
                       std::to_string(e->size) + " " + (e->sha256.empty() ? "-" : e->sha256) + " " +
                       e->path + "\n";
    hasher.update(line);
  }
  return hasher.finish_hex();
}

std::string manifest_to_json(const Manifest& manifest) {
  nlohmann::ordered_json doc;
  doc["format"] = "smpack-manifest";
  doc["version"] = 1;
  doc["archive_sha256"] = string_or_null(manifest.archive_sha256);
  doc["archive_bytes"] = manifest.archive_bytes;
  doc["content_digest"] = manifest.content_digest;
  auto& list = doc["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : manifest.entries) {
    list.push_back({{"path", e.path},
                    {"type", name_of(e.type)},
                    {"mode", octal_mode(e.mode)},
                    {"size", e.size},
                    {"sha256", e.sha256}});
  }
  return json_text(doc);
}

Result<Manifest> manifest_from_json(std::string_view json) {
  try {
    auto doc = nlohmann::json::parse(json);
    if (doc.value("format", "") != "smpack-manifest") {
      return Error::bad_input("not an smpack manifest (\"format\" is not \"smpack-manifest\")");
    }
    Manifest m;
    // null: built without the whole-archive SHA-256 (WriteOptions::archive_sha256).
    if (!doc.at("archive_sha256").is_null())
      m.archive_sha256 = doc.at("archive_sha256").get<std::string>();
    m.archive_bytes = doc.at("archive_bytes").get<std::uint64_t>();
    m.content_digest = doc.at("content_digest").get<std::string>();
    for (const auto& item : doc.at("entries")) {
      ManifestEntry e;
      e.path = item.at("path").get<std::string>();
      auto type = entry_type_from_name(item.at("type").get<std::string>());
      if (!type) return std::move(type).error().with_context("entry '" + e.path + "'");
      e.type = *type;
      e.mode =
          static_cast<std::uint32_t>(std::stoul(item.at("mode").get<std::string>(), nullptr, 8));
      e.size = item.at("size").get<std::uint64_t>();
      e.sha256 = item.at("sha256").get<std::string>();
      m.entries.push_back(std::move(e));
    }
    return m;
  } catch (const std::exception& e) {
    return Error::bad_input(std::string("invalid manifest JSON: ") + e.what());
  }
}

Result<Manifest> read_manifest_file(const std::filesystem::path& path) {
  auto file = FileByteSource::open(path);
  if (!file) return std::move(file).error();
  constexpr std::uint64_t kMaxManifestBytes = 256ull << 20;
  if (file->size() > kMaxManifestBytes) {
    return Error::bad_input(path.string() + ": " + std::to_string(file->size()) +
                            " bytes is too large for a manifest");
  }
  std::string text(static_cast<std::size_t>(file->size()), '\0');
  if (auto r = file->read_at(0, std::as_writable_bytes(std::span(text))); !r)
    return std::move(r).error();
  auto parsed = manifest_from_json(text);
  if (!parsed) return std::move(parsed).error().with_context(path.string());
  return parsed;
}

}  // namespace smpack
