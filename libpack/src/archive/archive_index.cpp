#include "smpack/archive_index.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "archive/gzip_codec.h"
#include "archive/gzip_decoder.h"
#include "archive/index_codec.h"
#include "archive/indexed_member.h"
#include "io/file_io.h"
#include "smpack/digest.h"
#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr char kMagic[8] = {'S', 'M', 'P', 'A', 'C', 'K', 'I', 'X'};
constexpr std::size_t kTrailerPayload = 40;
constexpr std::size_t kEmptyMemberOverhead =
    10 + 2 + 4 + 2 + 8;  // header, XLEN, subfield, block, trailer
constexpr std::uint64_t kMaxIndexJson = 256ull << 20;

std::string index_json(const ArchiveIndex& index) {
  nlohmann::json doc;
  doc["format"] = "smpack-index";
  doc["version"] = index_version(index);
  if (index.foreign_members > 0) doc["foreign_members"] = index.foreign_members;
  doc["level"] = index.level;
  doc["chunk_bytes"] = index.chunk_bytes;
  doc["mtime"] = index.mtime;
  doc["code_member"] = index.code_member;
  auto& members = doc["members"] = nlohmann::json::array();
  for (const auto& m : index.members) {
    members.push_back({m.file_offset, m.file_bytes, m.tar_offset, m.tar_bytes});
  }
  auto& entries = doc["entries"] = nlohmann::json::array();
  for (const auto& e : index.entries) {
    entries.push_back({{"path", e.path},
                       {"type", name_of(e.type)},
                       {"mode", e.mode},
                       {"size", e.size},
                       {"sha256", e.sha256},
                       {"header", e.header_offset},
                       {"data", e.data_offset},
                       {"member", e.first_member}});
  }
  return doc.dump();
}

// Every check a reader needs before trusting offsets from the file.
Result<void> validate(const ArchiveIndex& index) {
  auto bad = [](const std::string& what) { return Error::bad_input("smpack index: " + what); };
  // The writer always writes one: the end-of-archive member.
  if (index.members.empty()) return bad("it lists no gzip member");
  std::uint64_t file_at = 0, tar_at = 0;
  for (std::size_t i = 0; i < index.members.size(); ++i) {
    const auto& m = index.members[i];
    if (m.file_offset != file_at || m.tar_offset != tar_at ||
        m.file_bytes < kGzipHeaderBytes + kGzipTrailerBytes) {
      return bad("gzip member " + std::to_string(i) + " is not where the previous one ends");
    }
    file_at += m.file_bytes;
    tar_at += m.tar_bytes;
  }
  if (file_at != index.index_offset) return bad("the members do not end where the index starts");
  if (index.code_member >= index.members.size()) return bad("code_member is out of range");
  if (index.version != index_version(index) || index.foreign_members > index.code_member)
    return bad("foreign_members does not fit the version or the code part");
  std::uint64_t previous_end = 0;
  for (const auto& e : index.entries) {
    if (e.first_member >= index.members.size())
      return bad("entry '" + e.path + "' names no member");
    const auto& m = index.members[e.first_member];
    if (e.header_offset < previous_end || e.data_offset < e.header_offset ||
        e.header_offset < m.tar_offset || e.header_offset >= m.tar_offset + m.tar_bytes ||
        e.size > tar_at || e.data_offset > tar_at - e.size) {
      return bad("entry '" + e.path + "' has offsets outside its members");
    }
    previous_end = e.data_offset + e.size;
  }
  return {};
}

Result<EntryType> parse_type(std::string_view name) {
  for (auto type : {EntryType::file, EntryType::directory}) {
    if (name_of(type) == name) return type;
  }
  return Error::bad_input("smpack index: member type '" + std::string(name) + "' is not allowed");
}

Result<ArchiveIndex> parse_index_json(std::string_view json) {
  try {
    auto doc = nlohmann::json::parse(json);
    if (doc.at("format").get<std::string>() != "smpack-index") {
      return Error::bad_input("smpack index: wrong format tag");
    }
    ArchiveIndex index;
    index.version = doc.at("version").get<std::uint32_t>();
    index.foreign_members = doc.value("foreign_members", 0u);
    if (index.version != 1 && index.version != 2) {
      return Error::bad_input("smpack index: version " + std::to_string(index.version) +
                              " is newer than this smpack understands");
    }
    index.level = doc.at("level").get<int>();
    index.chunk_bytes = doc.at("chunk_bytes").get<std::uint64_t>();
    index.mtime = doc.at("mtime").get<std::int64_t>();
    index.code_member = doc.at("code_member").get<std::uint32_t>();
    for (const auto& m : doc.at("members")) {
      index.members.push_back({m.at(0).get<std::uint64_t>(), m.at(1).get<std::uint64_t>(),
                               m.at(2).get<std::uint64_t>(), m.at(3).get<std::uint64_t>()});
    }
    for (const auto& e : doc.at("entries")) {
      IndexedEntry entry;
      entry.path = e.at("path").get<std::string>();
      auto type = parse_type(e.at("type").get<std::string>());
      if (!type) return std::move(type).error();
      entry.type = *type;
      entry.mode = e.at("mode").get<std::uint32_t>();
      entry.size = e.at("size").get<std::uint64_t>();
      entry.sha256 = e.at("sha256").get<std::string>();
      entry.header_offset = e.at("header").get<std::uint64_t>();
      entry.data_offset = e.at("data").get<std::uint64_t>();
      entry.first_member = e.at("member").get<std::uint32_t>();
      index.entries.push_back(std::move(entry));
    }
    return index;
  } catch (const std::exception& e) {
    return Error::bad_input(std::string("smpack index: invalid JSON: ") + e.what());
  }
}

// Parses one empty member with a single FEXTRA subfield `id` at `bytes`; returns its
// payload and advances `bytes`, or an empty optional when the bytes are not one.
std::optional<std::span<const std::byte>> take_extra_member(std::span<const std::byte>& bytes,
                                                            std::string_view id) {
  if (bytes.size() < kEmptyMemberOverhead) return std::nullopt;
  const auto* b = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 || b[3] != 0x04) return std::nullopt;
  std::size_t xlen = load_le(bytes.subspan(10), 2);
  if (xlen < 4 || bytes.size() < 12 + xlen + 10) return std::nullopt;
  if (b[12] != static_cast<std::uint8_t>(id[0]) || b[13] != static_cast<std::uint8_t>(id[1]))
    return std::nullopt;
  std::size_t payload = load_le(bytes.subspan(14), 2);
  if (payload + 4 != xlen) return std::nullopt;
  const std::uint8_t* tail = b + 12 + xlen;
  static constexpr std::array<std::uint8_t, 10> kEmptyBody = {3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (!std::equal(kEmptyBody.begin(), kEmptyBody.end(), tail)) return std::nullopt;
  auto out = strict_subspan(bytes, 16, payload);
  if (!out) return std::nullopt;
  bytes = bytes.subspan(12 + xlen + 10);
  return *out;
}

}  // namespace

std::uint32_t index_version(const ArchiveIndex& index) {
  return index.foreign_members > 0 ? 2 : 1;
}

std::vector<ManifestEntry> ArchiveIndex::manifest_entries() const {
  std::vector<ManifestEntry> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back({e.path, e.type, e.mode, e.size, e.sha256});
  return out;
}

const IndexedEntry* ArchiveIndex::find(std::string_view path) const {
  for (const auto& e : entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

EncodedIndex encode_index(const ArchiveIndex& index) {
  std::string json = index_json(index);
  auto json_bytes = std::as_bytes(std::span(json));
  std::vector<std::byte> out;
  std::uint32_t members = 1;  // the trailer
  for (std::size_t at = 0; at < json_bytes.size(); at += kMaxExtraPayload, ++members) {
    append_empty_member_with_extra(
        "SI", json_bytes.subspan(at, std::min(kMaxExtraPayload, json_bytes.size() - at)), out);
  }
  std::array<std::byte, kTrailerPayload> trailer{};
  std::memcpy(trailer.data(), kMagic, 8);
  store_le(trailer.data() + 8, index_version(index), 4);
  store_le(trailer.data() + 12, crc32_of(json_bytes), 4);
  store_le(trailer.data() + 16, index.index_offset, 8);
  store_le(trailer.data() + 24, out.size(), 8);
  store_le(trailer.data() + 32, json.size(), 8);
  append_empty_member_with_extra("SX", trailer, out);
  return {std::move(out), members};
}

Result<std::optional<ArchiveIndex>> read_archive_index(const ByteSource& file,
                                                       std::string_view name) {
  const std::uint64_t size = file.size();
  if (size < kTrailerMemberBytes) return std::optional<ArchiveIndex>();
  std::array<std::byte, kTrailerMemberBytes> tail{};
  if (auto r = file.read_at(size - kTrailerMemberBytes, tail); !r) return std::move(r).error();
  std::span<const std::byte> tail_view(tail);
  auto trailer = take_extra_member(tail_view, "SX");
  if (!trailer || trailer->size() != kTrailerPayload ||
      std::memcmp(trailer->data(), kMagic, 8) != 0) {
    return std::optional<ArchiveIndex>();
  }
  auto corrupt = [&](const std::string& what) {
    return Error::bad_input(std::string(name) + ": damaged smpack index: " + what);
  };
  const std::uint64_t index_offset = load_le(trailer->subspan(16), 8);
  const std::uint64_t index_bytes = load_le(trailer->subspan(24), 8);
  const std::uint64_t json_bytes = load_le(trailer->subspan(32), 8);
  const auto json_crc = static_cast<std::uint32_t>(load_le(trailer->subspan(12), 4));
  const auto index_end = checked_add(index_offset, index_bytes);
  if (!index_end || *index_end != size - kTrailerMemberBytes || json_bytes > kMaxIndexJson ||
      json_bytes > index_bytes) {
    return corrupt("the trailer's offsets do not fit the file");
  }
  std::vector<std::byte> region(index_bytes);
  if (auto r = file.read_at(index_offset, region); !r) return std::move(r).error();
  std::string json;
  json.reserve(json_bytes);
  std::span<const std::byte> rest(region);
  std::uint32_t index_gzip_members = 1;  // the trailer
  for (; !rest.empty(); ++index_gzip_members) {
    auto slice = take_extra_member(rest, "SI");
    if (!slice) return corrupt("an index member is malformed");
    json.append(reinterpret_cast<const char*>(slice->data()), slice->size());
  }
  if (json.size() != json_bytes || crc32_of(std::as_bytes(std::span(json))) != json_crc) {
    return corrupt("the index CRC-32 does not match");
  }
  auto index = parse_index_json(json);
  if (!index) return std::move(index).error().with_context(std::string(name));
  index->index_offset = index_offset;
  index->file_bytes = size;
  index->index_gzip_members = index_gzip_members;
  if (auto ok = validate(*index); !ok) return std::move(ok).error().with_context(std::string(name));
  return std::optional<ArchiveIndex>(std::move(*index));
}

Result<std::vector<std::byte>> decode_indexed_member(const ByteSource& file,
                                                     const ArchiveIndex& index, std::size_t i,
                                                     const std::string& where) {
  const GzipMemberSpan& span = index.members[i];
  const std::string member = where + ": gzip member " + std::to_string(i);
  if (i < index.foreign_members) {  // read in order only (an Artifact streams those)
    return Error::bad_input(member + " was written by another tool and is not read at random");
  }
  if (span.tar_bytes > kMaxMemberTarBytes) {  // more than the writer ever puts in one: hostile
    return Error::bad_input(member + " claims " + std::to_string(span.tar_bytes) +
                            " bytes, more than any smpack archive holds in one member");
  }
  const auto member_end = checked_add(span.file_offset, span.file_bytes);
  if (!member_end || *member_end > file.size()) {
    return Error::bad_input(member + ": the archive ends inside it");
  }
  std::uint64_t position = span.file_offset;
  const std::uint64_t end = *member_end;
  GzipDecoder decoder(
      [&](std::span<std::byte> out) -> Result<std::size_t> {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), end - position));
        if (auto r = file.read_at(position, out.first(n)); !r) return std::move(r).error();
        position += n;
        return n;
      },
      member);
  // One byte more than promised, so that a member holding too much is caught.
  std::vector<std::byte> data(static_cast<std::size_t>(span.tar_bytes) + 1);
  std::size_t filled = 0;
  for (;;) {
    auto got = decoder.read(std::span(data).subspan(filled));
    if (!got) return std::move(got).error();
    if (*got == 0) break;
    filled += *got;
    if (filled == data.size()) break;
  }
  if (filled != span.tar_bytes) {
    return Error::bad_input(member + " holds " + (filled > span.tar_bytes ? "more" : "fewer") +
                            " bytes than the index says (" + std::to_string(span.tar_bytes) + ")");
  }
  data.resize(filled);
  return data;
}

namespace {

// Which gzip members hold [data_offset, data_offset + size) of the tar stream.
std::pair<std::size_t, std::size_t> members_holding(const ArchiveIndex& index,
                                                    const IndexedEntry& entry) {
  std::size_t last = entry.first_member;
  const std::uint64_t end = entry.data_offset + entry.size;
  while (last + 1 < index.members.size() && index.members[last + 1].tar_offset < end) ++last;
  return {entry.first_member, last};
}

}  // namespace

Result<void> stream_indexed_entry(const ByteSource& archive, std::string_view name,
                                  const ArchiveIndex& index, const IndexedEntry& entry,
                                  ThreadPool& pool, const ByteSink& sink,
                                  const CancelToken* cancel) {
  const std::string where = std::string(name) + ": member '" + entry.path + "'";
  // Every gzip member is a complete gzip stream of its own: workers decode them side
  // by side while this thread hashes them and hands them on in order.
  const auto held = members_holding(index, entry);
  const std::size_t first = held.first, last = held.second;
  const std::size_t ahead = 2 * std::size_t{pool.size()};  // a few members per worker
  std::deque<std::future<Result<std::vector<std::byte>>>> pending;
  // The tasks reference this frame: wait for the ones in flight whatever the exit.
  struct Drain {
    std::deque<std::future<Result<std::vector<std::byte>>>>& pending;
    ~Drain() {
      for (auto& p : pending) p.wait();
    }
  } drain{pending};
  std::size_t next = first;
  Hasher sha;
  const std::uint64_t end = entry.data_offset + entry.size;
  for (std::size_t i = first; i <= last; ++i) {
    if (cancel && cancel->cancelled()) return Error::interrupted();
    for (; next <= last && next < i + ahead; ++next) {
      pending.push_back(
          pool.submit([&, n = next] { return decode_indexed_member(archive, index, n, where); }));
    }
    auto decoded = pending.front().get();
    pending.pop_front();
    if (!decoded) return std::move(decoded).error();
    const GzipMemberSpan& span = index.members[i];
    const std::uint64_t from = std::max(entry.data_offset, span.tar_offset);
    const std::uint64_t to = std::min(end, span.tar_offset + span.tar_bytes);
    if (from >= to) continue;
    std::span<const std::byte> piece(decoded->data() + (from - span.tar_offset), to - from);
    sha.update(piece);
    if (auto r = sink(piece); !r) return r;
  }
  if (entry.type == EntryType::file && sha.finish_hex() != entry.sha256) {
    return Error::bad_input(where + ": content does not match the SHA-256 in the index");
  }
  return {};
}

Result<std::string> read_indexed_entry(const ByteSource& archive, std::string_view name,
                                       const ArchiveIndex& index, const IndexedEntry& entry,
                                       ThreadPool& pool, std::uint64_t max_bytes) {
  if (entry.size > max_bytes) {
    return Error::bad_input(std::string(name) + ": member '" + entry.path + "' is " +
                            std::to_string(entry.size) + " bytes, more than the " +
                            std::to_string(max_bytes) + " this operation reads into memory");
  }
  std::string data;
  data.reserve(static_cast<std::size_t>(entry.size));
  auto streamed = stream_indexed_entry(
      archive, name, index, entry, pool, [&](std::span<const std::byte> piece) -> Result<void> {
        data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
        return {};
      });
  if (!streamed) return std::move(streamed).error();
  return data;
}

IndexedEntryByteSource::IndexedEntryByteSource(const ByteSource& archive, std::string_view name,
                                               const ArchiveIndex& index, const IndexedEntry& entry)
    : archive_(archive),
      index_(index),
      entry_(entry),
      where_(std::string(name) + ": member '" + entry.path + "'") {}

std::uint64_t IndexedEntryByteSource::size() const {
  return entry_.size;
}

std::uint64_t IndexedEntryByteSource::held_from(std::uint64_t offset) const {
  return offset < size() ? size() - offset : 0;
}

Result<void> IndexedEntryByteSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (offset > size() || out.size() > size() - offset) {
    return Error::bad_input(where_ + ": bytes " + std::to_string(offset) + "+" +
                            std::to_string(out.size()) + " are not available (past its end)");
  }
  const ArchiveIndex& index = index_;
  std::uint64_t tar_at = entry_.data_offset + offset;
  while (!out.empty()) {
    // The member holding tar_at: members are contiguous and sorted by tar_offset.
    auto it = std::upper_bound(
        index.members.begin(), index.members.end(), tar_at,
        [](std::uint64_t at, const GzipMemberSpan& m) { return at < m.tar_offset; });
    const auto i = static_cast<std::size_t>(it - index.members.begin()) - 1;
    auto& cache = cache_;
    auto hit = std::find_if(cache.begin(), cache.end(), [&](auto& c) { return c.first == i; });
    if (hit == cache.end()) {
      auto decoded = decode_indexed_member(archive_, index, i, where_);
      if (!decoded) return std::move(decoded).error();
      if (cache.size() == 4) cache.pop_front();
      cache.emplace_back(i, std::move(*decoded));
      hit = std::prev(cache.end());
    }
    const std::uint64_t within = tar_at - index.members[i].tar_offset;
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), hit->second.size() - within));
    std::memcpy(out.data(), hit->second.data() + within, n);
    out = out.subspan(n);
    tar_at += n;
  }
  return {};
}

}  // namespace smpack
