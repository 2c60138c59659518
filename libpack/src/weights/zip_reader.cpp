#include "smpack/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "smpack/escape.h"
#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::size_t kEndRecordSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kMaxCommentSize = 0xFFFF;
constexpr std::uint16_t kZip64ExtraId = 0x0001;

constexpr std::uint16_t kFlagEncrypted = 1u << 0;
constexpr std::uint16_t kFlagDataDescriptor = 1u << 3;
constexpr std::uint16_t kFlagStrongEncryption = 1u << 6;
constexpr std::uint16_t kFlagUtf8 = 1u << 11;
constexpr std::uint16_t kFlagMaskedHeaders = 1u << 13;
// Bits 1-2 (deflate level hints) and 3 and 11 are ordinary; the rest means a feature
// that loaders handle differently or not at all.
constexpr std::uint16_t kOrdinaryFlags = (1u << 1) | (1u << 2) | kFlagDataDescriptor | kFlagUtf8;

constexpr std::size_t kChunkBytes = 1u << 20;

// Little-endian fields of a header held in memory; bounds are checked by callers.
class Fields {
 public:
  explicit Fields(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::uint64_t le(std::size_t offset, std::size_t width) const {
    return load_le(bytes_.subspan(offset), width);
  }
  std::uint16_t u16(std::size_t offset) const { return static_cast<std::uint16_t>(le(offset, 2)); }
  std::uint32_t u32(std::size_t offset) const { return static_cast<std::uint32_t>(le(offset, 4)); }
  std::uint64_t u64(std::size_t offset) const { return le(offset, 8); }
  std::string text(std::size_t offset, std::size_t length) const {
    return std::string(reinterpret_cast<const char*>(bytes_.data()) + offset, length);
  }
  std::span<const std::byte> sub(std::size_t offset, std::size_t length) const {
    return bytes_.subspan(offset, length);
  }

 private:
  std::span<const std::byte> bytes_;
};

std::string hex(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string quote_name(std::string_view name) {
  return "'" + escape_for_terminal(name) + "'";
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool add_overflows(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b;
}

// Reads [offset, offset + length) if the source holds it; std::nullopt (with the
// reason in *unavailable) if it does not, Error if the source fails.
Result<std::optional<std::vector<std::byte>>> read_if_held(const ByteSource& source,
                                                           std::uint64_t offset,
                                                           std::uint64_t length) {
  if (add_overflows(offset, length) || offset + length > source.size() ||
      !source.holds(offset, length)) {
    return std::optional<std::vector<std::byte>>();
  }
  std::vector<std::byte> bytes(static_cast<std::size_t>(length));
  auto read = source.read_at(offset, bytes);
  if (!read) return std::move(read).error();
  return std::optional<std::vector<std::byte>>(std::move(bytes));
}

class DirectoryReader {
 public:
  DirectoryReader(const ByteSource& source, std::string_view display_name, const ZipLimits& limits)
      : source_(source), display_(display_name), limits_(limits) {}

  Result<ZipDirectory> run() {
    auto end = find_end_record();
    if (!end) return std::move(end).error();
    if (*end) {
      auto entries = read_central_directory();
      if (!entries) return std::move(entries).error();
      if (*entries) {
        auto located = locate_members();
        if (!located) return std::move(located).error();
        check_names();
        check_overlaps();
      }
    }
    return std::move(out_);
  }

 private:
  void problem(WeightProblemKind kind, std::string message) {
    out_.problems.push_back({kind, std::string(display_) + ": " + std::move(message)});
  }
  // A problem after which the structure cannot be followed further.
  bool broken(WeightProblemKind kind, std::string message) {
    problem(kind, std::move(message));
    out_.complete = false;
    return false;
  }
  std::string entry_name(const ZipEntry& entry) const { return "entry " + quote_name(entry.name); }

  // ---- end records ----------------------------------------------------------------

  // The longest suffix of at most `limit` bytes that the source holds (a streamed
  // member may keep less than the 64 KiB an end record with a comment can need).
  std::uint64_t longest_held_suffix(std::uint64_t limit) const {
    std::uint64_t size = source_.size();
    std::uint64_t low = 0;
    std::uint64_t high = limit;
    while (low < high) {
      std::uint64_t middle = low + (high - low + 1) / 2;
      if (source_.holds(size - middle, middle)) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  }

  Result<bool> find_end_record() {
    std::uint64_t size = source_.size();
    if (size < kEndRecordSize) {
      return broken(WeightProblemKind::zip_malformed,
                    "only " + std::to_string(size) + " bytes, too short for a zip end record");
    }
    std::uint64_t tail_length =
        longest_held_suffix(std::min<std::uint64_t>(size, kEndRecordSize + kMaxCommentSize));
    if (tail_length < kEndRecordSize) {
      return broken(WeightProblemKind::not_available,
                    "the end of the zip (its central directory) is not available");
    }
    auto tail = read_if_held(source_, size - tail_length, tail_length);
    if (!tail) return std::move(tail).error();
    if (!*tail) {
      return broken(WeightProblemKind::not_available,
                    "the end of the zip (its central directory) is not available");
    }
    Fields fields(**tail);
    // The last signature whose comment ends exactly at the end of the file wins, like
    // loaders do; a signature that does not fit means garbage after the archive.
    // Every record whose comment fits is a candidate: with two, readers that take the
    // last one (zipfile, miniz) and one that takes the one whose comment ends the file
    // see different directories, so the zip is ambiguous.
    std::optional<std::size_t> exact;
    std::optional<std::size_t> loose;
    std::vector<std::size_t> candidates;
    for (std::size_t at = static_cast<std::size_t>(tail_length - kEndRecordSize) + 1; at-- > 0;) {
      if (fields.u32(at) != kEndSignature) continue;
      std::size_t comment = fields.u16(at + 20);
      if (at + kEndRecordSize + comment > tail_length) continue;
      candidates.push_back(at);
      if (at + kEndRecordSize + comment == tail_length) {
        if (!exact) exact = at;
      } else if (!loose) {
        loose = at;
      }
    }
    if (candidates.size() > 1) {
      const std::uint64_t base = size - tail_length;
      problem(WeightProblemKind::zip_header_mismatch,
              "has " + std::to_string(candidates.size()) +
                  " end of central directory records (at offsets " +
                  std::to_string(base + candidates.back()) + " and " +
                  std::to_string(base + candidates.front()) +
                  "): zip readers that take the last one and those that take another read "
                  "different directories");
    }
    if (!exact && !loose) {
      return broken(WeightProblemKind::zip_malformed, "no end of central directory record");
    }
    std::size_t at = exact ? *exact : *loose;
    end_offset_ = size - tail_length + at;
    if (!exact) {
      std::size_t comment = fields.u16(at + 20);
      problem(WeightProblemKind::zip_malformed,
              std::to_string(tail_length - at - kEndRecordSize - comment) +
                  " bytes of trailing data after the end of central directory record");
    }
    std::uint16_t disk = fields.u16(at + 4);
    std::uint16_t directory_disk = fields.u16(at + 6);
    std::uint64_t entries_on_disk = fields.u16(at + 8);
    entry_count_ = fields.u16(at + 10);
    directory_size_ = fields.u32(at + 12);
    directory_offset_ = fields.u32(at + 16);
    if ((disk != 0 && disk != 0xFFFF) || (directory_disk != 0 && directory_disk != 0xFFFF)) {
      return broken(WeightProblemKind::zip_unsupported, "a multi-disk (split) archive");
    }
    if (entries_on_disk != entry_count_) {
      problem(WeightProblemKind::zip_malformed,
              "the end record counts " + std::to_string(entries_on_disk) +
                  " entries on this disk but " + std::to_string(entry_count_) + " in all");
    }
    directory_end_ = end_offset_;
    bool needs_zip64 =
        entry_count_ == 0xFFFF || directory_size_ == 0xFFFFFFFF || directory_offset_ == 0xFFFFFFFF;
    if (end_offset_ >= kZip64LocatorSize) {
      auto zip64 = read_zip64_end(needs_zip64);
      if (!zip64) return std::move(zip64).error();
      if (!*zip64) return false;
    } else if (needs_zip64) {
      return broken(WeightProblemKind::zip_malformed,
                    "the end record asks for zip64 but there is no zip64 locator");
    }
    return true;
  }

  Result<bool> read_zip64_end(bool needed) {
    auto locator = read_if_held(source_, end_offset_ - kZip64LocatorSize, kZip64LocatorSize);
    if (!locator) return std::move(locator).error();
    if (!*locator || Fields(**locator).u32(0) != kZip64LocatorSignature) {
      if (!needed) return true;
      return broken(WeightProblemKind::zip_malformed,
                    "the end record asks for zip64 but there is no zip64 locator");
    }
    std::uint64_t record_offset = Fields(**locator).u64(8);
    if (record_offset > end_offset_ - kZip64LocatorSize ||
        end_offset_ - kZip64LocatorSize - record_offset < kZip64EndSize) {
      return broken(
          WeightProblemKind::zip_malformed,
          "the zip64 locator points at " + std::to_string(record_offset) + ", outside the archive");
    }
    auto record = read_if_held(source_, record_offset, kZip64EndSize);
    if (!record) return std::move(record).error();
    if (!*record) {
      return broken(WeightProblemKind::not_available, "the zip64 end record is not available");
    }
    Fields fields(**record);
    if (fields.u32(0) != kZip64EndSignature) {
      return broken(WeightProblemKind::zip_malformed,
                    "no zip64 end record at offset " + std::to_string(record_offset));
    }
    if (fields.u32(16) != 0 || fields.u32(20) != 0) {
      return broken(WeightProblemKind::zip_unsupported, "a multi-disk (split) zip64 archive");
    }
    entry_count_ = fields.u64(32);
    directory_size_ = fields.u64(40);
    directory_offset_ = fields.u64(48);
    directory_end_ = record_offset;
    return true;
  }

  // ---- central directory ----------------------------------------------------------

  Result<bool> read_central_directory() {
    if (entry_count_ > limits_.max_entries) {
      return broken(WeightProblemKind::cap_exceeded, std::to_string(entry_count_) +
                                                         " entries, more than the cap of " +
                                                         std::to_string(limits_.max_entries));
    }
    if (directory_size_ > limits_.max_central_directory_bytes) {
      return broken(WeightProblemKind::cap_exceeded,
                    "a " + std::to_string(directory_size_) +
                        "-byte central directory, more than the cap of " +
                        std::to_string(limits_.max_central_directory_bytes));
    }
    if (add_overflows(directory_offset_, directory_size_) ||
        directory_offset_ + directory_size_ > directory_end_) {
      return broken(WeightProblemKind::zip_malformed,
                    "the central directory (" + std::to_string(directory_size_) +
                        " bytes at offset " + std::to_string(directory_offset_) +
                        ") runs past the end records at " + std::to_string(directory_end_));
    }
    if (directory_offset_ + directory_size_ != directory_end_) {
      problem(WeightProblemKind::zip_malformed,
              std::to_string(directory_end_ - directory_offset_ - directory_size_) +
                  " unexplained bytes between the central directory and the end record");
    }
    auto directory = read_if_held(source_, directory_offset_, directory_size_);
    if (!directory) return std::move(directory).error();
    if (!*directory) {
      return broken(WeightProblemKind::not_available, "the central directory at offset " +
                                                          std::to_string(directory_offset_) +
                                                          " is not available");
    }
    Fields fields(**directory);
    std::size_t at = 0;
    std::size_t size = (*directory)->size();
    for (std::uint64_t i = 0; i < entry_count_; ++i) {
      std::string where = "central directory record " + std::to_string(i) + " (offset " +
                          std::to_string(directory_offset_ + at) + ")";
      if (size - at < kCentralHeaderSize || fields.u32(at) != kCentralHeaderSignature) {
        return broken(WeightProblemKind::zip_malformed,
                      where + ": no central directory header; the end record announced " +
                          std::to_string(entry_count_) + " entries");
      }
      std::size_t name_length = fields.u16(at + 28);
      std::size_t extra_length = fields.u16(at + 30);
      std::size_t comment_length = fields.u16(at + 32);
      if (size - at - kCentralHeaderSize < name_length + extra_length + comment_length) {
        return broken(WeightProblemKind::zip_malformed, where + " runs past the central directory");
      }
      ZipEntry entry;
      entry.flags = fields.u16(at + 8);
      entry.method = fields.u16(at + 10);
      entry.crc32 = fields.u32(at + 16);
      entry.compressed_size = fields.u32(at + 20);
      entry.uncompressed_size = fields.u32(at + 24);
      entry.local_header_offset = fields.u32(at + 42);
      entry.name = fields.text(at + kCentralHeaderSize, name_length);
      if (!apply_zip64_extra(fields.sub(at + kCentralHeaderSize + name_length, extra_length),
                             entry)) {
        return broken(
            WeightProblemKind::zip_malformed,
            where + " (" + entry_name(entry) + "): a zip64 extra field is missing a size");
      }
      check_entry(entry);
      out_.entries.push_back(std::move(entry));
      at += kCentralHeaderSize + name_length + extra_length + comment_length;
    }
    if (at != size) {
      problem(WeightProblemKind::zip_malformed,
              std::to_string(size - at) + " bytes in the central directory after its " +
                  std::to_string(entry_count_) + " announced entries");
    }
    return true;
  }

  // Sizes and the offset that overflow 32 bits live in extra field 0x0001, in this
  // order and only those that are 0xFFFFFFFF in the fixed header.
  static bool apply_zip64_extra(std::span<const std::byte> extra, ZipEntry& entry) {
    std::array<std::uint64_t*, 3> wanted{};
    std::size_t count = 0;
    if (entry.uncompressed_size == 0xFFFFFFFF) wanted[count++] = &entry.uncompressed_size;
    if (entry.compressed_size == 0xFFFFFFFF) wanted[count++] = &entry.compressed_size;
    if (entry.local_header_offset == 0xFFFFFFFF) wanted[count++] = &entry.local_header_offset;
    if (count == 0) return true;
    Fields fields(extra);
    for (std::size_t at = 0; at + 4 <= extra.size();) {
      std::uint16_t id = fields.u16(at);
      std::size_t length = fields.u16(at + 2);
      if (extra.size() - at - 4 < length) return false;
      if (id == kZip64ExtraId) {
        if (length < count * 8) return false;
        for (std::size_t i = 0; i < count; ++i) *wanted[i] = fields.u64(at + 4 + 8 * i);
        return true;
      }
      at += 4 + length;
    }
    return false;
  }

  void check_entry(const ZipEntry& entry) {
    if (entry.flags & (kFlagEncrypted | kFlagStrongEncryption)) {
      problem(WeightProblemKind::zip_flags,
              entry_name(entry) + " is marked encrypted (flags " + hex(entry.flags) +
                  "): loaders and scanners disagree on whether to read it");
    } else if (entry.flags & kFlagMaskedHeaders) {
      problem(WeightProblemKind::zip_flags,
              entry_name(entry) + " has masked local headers (flags " + hex(entry.flags) + ")");
    } else if (entry.flags & ~kOrdinaryFlags) {
      problem(WeightProblemKind::zip_flags, entry_name(entry) +
                                                " has unusual general-purpose flag bits " +
                                                hex(entry.flags & ~kOrdinaryFlags));
    }
    if (entry.method != 0 && entry.method != 8) {
      problem(WeightProblemKind::zip_unsupported,
              entry_name(entry) + " uses compression method " + std::to_string(entry.method) +
                  "; only stored (0) and deflated (8) are read");
    }
    if (entry.name.find('\0') != std::string::npos) {
      problem(WeightProblemKind::zip_malformed, entry_name(entry) + " has a NUL byte in its name");
    }
  }

  // ---- local headers --------------------------------------------------------------

  Result<bool> locate_members() {
    std::uint64_t unavailable = 0;
    std::string first_unavailable;
    for (ZipEntry& entry : out_.entries) {
      std::string where = entry_name(entry) + " (local header at offset " +
                          std::to_string(entry.local_header_offset) + ")";
      if (entry.local_header_offset > directory_offset_ ||
          directory_offset_ - entry.local_header_offset < kLocalHeaderSize) {
        problem(WeightProblemKind::zip_malformed, where + " lies outside the member area");
        continue;
      }
      auto header = read_if_held(source_, entry.local_header_offset, kLocalHeaderSize);
      if (!header) return std::move(header).error();
      if (!*header) {
        if (unavailable++ == 0) first_unavailable = where;
        continue;
      }
      Fields fields(**header);
      if (fields.u32(0) != kLocalHeaderSignature) {
        problem(WeightProblemKind::zip_malformed, where + ": no local header signature there");
        continue;
      }
      std::size_t name_length = fields.u16(26);
      std::size_t extra_length = fields.u16(28);
      std::uint64_t variable_offset = entry.local_header_offset + kLocalHeaderSize;
      auto variable = read_if_held(source_, variable_offset, name_length + extra_length);
      if (!variable) return std::move(variable).error();
      if (!*variable) {
        if (unavailable++ == 0) first_unavailable = where;
        continue;
      }
      Fields variable_fields(**variable);
      std::string local_name = variable_fields.text(0, name_length);
      if (local_name != entry.name) {
        problem(WeightProblemKind::zip_name_mismatch,
                where + " is named " + quote_name(local_name) +
                    " in its local header: readers that walk local headers see another file");
      }
      compare_local_fields(entry, fields, variable_fields.sub(name_length, extra_length), where);
      entry.data_offset = variable_offset + name_length + extra_length;
      if (add_overflows(entry.data_offset, entry.compressed_size) ||
          entry.data_offset + entry.compressed_size > directory_offset_) {
        problem(WeightProblemKind::zip_malformed,
                where + ": its " + std::to_string(entry.compressed_size) +
                    " bytes of data run into the central directory");
        continue;
      }
      entry.located = true;
    }
    if (unavailable > 0) {
      out_.complete = false;
      problem(WeightProblemKind::not_available,
              std::to_string(unavailable) +
                  " local headers are not available, the first: " + first_unavailable);
    }
    return true;
  }

  void compare_local_fields(const ZipEntry& entry, const Fields& local,
                            std::span<const std::byte> local_extra, const std::string& where) {
    std::uint16_t flags = local.u16(6);
    std::uint16_t method = local.u16(8);
    if (flags != entry.flags) {
      problem(WeightProblemKind::zip_header_mismatch,
              where + ": flags " + hex(flags) + " in the local header, " + hex(entry.flags) +
                  " in the central directory");
    }
    if (method != entry.method) {
      problem(WeightProblemKind::zip_header_mismatch,
              where + ": compression method " + std::to_string(method) + " in the local header, " +
                  std::to_string(entry.method) + " in the central directory");
    }
    // With a data descriptor the local CRC and sizes may legitimately be zero.
    if (flags & kFlagDataDescriptor) return;
    ZipEntry local_sizes;
    local_sizes.uncompressed_size = local.u32(22);
    local_sizes.compressed_size = local.u32(18);
    apply_zip64_extra(local_extra, local_sizes);
    if (local.u32(14) != entry.crc32 || local_sizes.compressed_size != entry.compressed_size ||
        local_sizes.uncompressed_size != entry.uncompressed_size) {
      problem(WeightProblemKind::zip_header_mismatch,
              where + ": CRC/sizes " + hex(local.u32(14)) + "/" +
                  std::to_string(local_sizes.compressed_size) + "/" +
                  std::to_string(local_sizes.uncompressed_size) + " in the local header, " +
                  hex(entry.crc32) + "/" + std::to_string(entry.compressed_size) + "/" +
                  std::to_string(entry.uncompressed_size) + " in the central directory");
    }
  }

  // ---- whole-archive checks -------------------------------------------------------

  void check_names() {
    std::unordered_map<std::string, std::size_t> exact;
    std::unordered_map<std::string, std::size_t> folded;
    for (std::size_t i = 0; i < out_.entries.size(); ++i) {
      const std::string& name = out_.entries[i].name;
      if (auto [it, inserted] = exact.try_emplace(name, i); !inserted) {
        problem(WeightProblemKind::zip_duplicate_name,
                "entries " + std::to_string(it->second) + " and " + std::to_string(i) +
                    " are both named " + quote_name(name) +
                    ": loaders and scanners may each read a different one");
        continue;
      }
      if (auto [it, inserted] = folded.try_emplace(ascii_lower(name), i); !inserted) {
        problem(WeightProblemKind::zip_duplicate_name,
                "entries " + quote_name(out_.entries[it->second].name) + " and " +
                    quote_name(name) +
                    " differ only in case: on a case-insensitive file system one replaces "
                    "the other");
      }
    }
  }

  void check_overlaps() {
    std::vector<const ZipEntry*> located;
    for (const ZipEntry& entry : out_.entries) {
      if (entry.located) located.push_back(&entry);
    }
    std::sort(located.begin(), located.end(), [](const ZipEntry* a, const ZipEntry* b) {
      return a->local_header_offset < b->local_header_offset;
    });
    for (std::size_t i = 1; i < located.size(); ++i) {
      const ZipEntry& before = *located[i - 1];
      const ZipEntry& after = *located[i];
      std::uint64_t before_end = before.data_offset + before.compressed_size;
      if (before_end > after.local_header_offset) {
        problem(WeightProblemKind::zip_overlap,
                entry_name(before) + " (bytes " + std::to_string(before.local_header_offset) +
                    ".." + std::to_string(before_end) + ") overlaps " + entry_name(after) +
                    " (local header at " + std::to_string(after.local_header_offset) + ")");
      }
    }
  }

  const ByteSource& source_;
  std::string_view display_;
  const ZipLimits& limits_;
  ZipDirectory out_;
  std::uint64_t end_offset_ = 0;
  std::uint64_t entry_count_ = 0;
  std::uint64_t directory_size_ = 0;
  std::uint64_t directory_offset_ = 0;
  std::uint64_t directory_end_ = 0;
};

struct InflateStream {
  z_stream stream{};
  bool initialised = false;
  ~InflateStream() {
    if (initialised) inflateEnd(&stream);
  }
};

// Feeds a member's uncompressed bytes to `sink` until `max_bytes`, then checks the
// CRC and the size against the central directory.
Result<ZipMemberData> uncompress_member(
    const ByteSource& source, const ZipEntry& entry, std::string_view display_name,
    std::uint64_t max_bytes, const std::function<void(std::span<const std::byte>)>& sink) {
  ZipMemberData out;
  std::string where = std::string(display_name) + ": entry " + quote_name(entry.name);
  auto problem = [&](WeightProblemKind kind, std::string message) {
    out.problems.push_back({kind, where + " " + std::move(message)});
    return std::move(out);
  };
  if (!entry.located) return problem(WeightProblemKind::zip_malformed, "could not be located");
  if (entry.method != 0 && entry.method != 8) {
    return problem(WeightProblemKind::zip_unsupported,
                   "uses compression method " + std::to_string(entry.method));
  }
  if (entry.flags & (kFlagEncrypted | kFlagStrongEncryption)) {
    return problem(WeightProblemKind::zip_flags, "is encrypted and was not read");
  }
  if (!source.holds(entry.data_offset, entry.compressed_size)) {
    return problem(WeightProblemKind::not_available,
                   "data (" + std::to_string(entry.compressed_size) + " bytes at offset " +
                       std::to_string(entry.data_offset) + ") is not available");
  }
  InflateStream inflater;
  if (entry.method == 8) {
    if (inflateInit2(&inflater.stream, -MAX_WBITS) != Z_OK) {
      return Error::internal("zlib inflateInit2 failed");
    }
    inflater.initialised = true;
  }
  uLong crc = crc32(0, nullptr, 0);
  std::uint64_t produced = 0;
  // One byte more than the directory announces is enough to prove it wrong, and
  // bounds what a deflate bomb can make us produce.
  bool capped_by_caller = max_bytes <= entry.uncompressed_size;
  std::uint64_t limit = capped_by_caller ? max_bytes : entry.uncompressed_size + 1;
  bool capped = false;
  bool stream_ended = entry.method == 0;
  std::vector<std::byte> input(
      static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, entry.compressed_size)));
  std::vector<std::byte> output(entry.method == 8 ? kChunkBytes / 4 : 0);
  auto emit = [&](std::span<const std::byte> bytes) {
    std::uint64_t room = limit - produced;
    if (bytes.size() > room) {
      bytes = bytes.first(static_cast<std::size_t>(room));
      capped = true;
    }
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
    produced += bytes.size();
    sink(bytes);
  };
  for (std::uint64_t consumed = 0;
       consumed < entry.compressed_size && !capped && !(stream_ended && entry.method == 8);) {
    auto length = static_cast<std::size_t>(
        std::min<std::uint64_t>(kChunkBytes, entry.compressed_size - consumed));
    std::span<std::byte> chunk(input.data(), length);
    auto read = source.read_at(entry.data_offset + consumed, chunk);
    if (!read) return std::move(read).error();
    consumed += length;
    if (entry.method == 0) {
      emit(chunk);
      continue;
    }
    inflater.stream.next_in = reinterpret_cast<Bytef*>(chunk.data());
    inflater.stream.avail_in = static_cast<uInt>(chunk.size());
    while (inflater.stream.avail_in > 0 && !stream_ended && !capped) {
      inflater.stream.next_out = reinterpret_cast<Bytef*>(output.data());
      inflater.stream.avail_out = static_cast<uInt>(output.size());
      int status = inflate(&inflater.stream, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
        return problem(WeightProblemKind::zip_malformed,
                       "has corrupt deflate data near compressed offset " +
                           std::to_string(consumed - inflater.stream.avail_in) + ": " +
                           (inflater.stream.msg ? inflater.stream.msg : "inflate failed"));
      }
      emit(std::span<const std::byte>(output.data(), output.size() - inflater.stream.avail_out));
      if (status == Z_STREAM_END) {
        stream_ended = true;
        if (inflater.stream.avail_in > 0 || consumed < entry.compressed_size) {
          out.problems.push_back(
              {WeightProblemKind::zip_malformed,
               where + " has compressed bytes after the end of its deflate stream"});
        }
      } else if (status == Z_BUF_ERROR && inflater.stream.avail_out > 0) {
        break;  // needs more input
      }
    }
  }
  if (capped && !capped_by_caller) {
    return problem(WeightProblemKind::zip_header_mismatch,
                   "holds more than the " + std::to_string(entry.uncompressed_size) +
                       " bytes the central directory says");
  }
  if (capped) {
    out.problems.push_back({WeightProblemKind::cap_exceeded,
                            where + " is longer than the " + std::to_string(max_bytes) +
                                " bytes read of it; CRC not checked"});
    return out;
  }
  if (!stream_ended) {
    return problem(WeightProblemKind::truncated, "has a deflate stream that ends before its " +
                                                     std::to_string(entry.compressed_size) +
                                                     " compressed bytes are complete");
  }
  if (produced != entry.uncompressed_size) {
    return problem(WeightProblemKind::zip_header_mismatch,
                   "holds " + std::to_string(produced) + " bytes; the central directory says " +
                       std::to_string(entry.uncompressed_size));
  }
  if (static_cast<std::uint32_t>(crc) != entry.crc32) {
    return problem(WeightProblemKind::zip_crc_mismatch,
                   "has CRC-32 " + hex(static_cast<std::uint32_t>(crc)) +
                       " but the central directory says " + hex(entry.crc32) +
                       ": a loader that skips the check reads bytes a scanner may have "
                       "refused");
  }
  out.complete = true;
  return out;
}

}  // namespace

Result<ZipDirectory> read_zip_directory(const ByteSource& source, std::string_view display_name,
                                        const ZipLimits& limits) {
  return DirectoryReader(source, display_name, limits).run();
}

Result<ZipMemberData> read_zip_member(const ByteSource& source, const ZipEntry& entry,
                                      std::string_view display_name, std::uint64_t max_bytes) {
  std::vector<std::byte> bytes;
  bytes.reserve(static_cast<std::size_t>(
      std::min<std::uint64_t>(std::min(entry.uncompressed_size, max_bytes), 64u << 20)));
  auto result = uncompress_member(source, entry, display_name, max_bytes,
                                  [&](std::span<const std::byte> chunk) {
                                    bytes.insert(bytes.end(), chunk.begin(), chunk.end());
                                  });
  if (result) result->bytes = std::move(bytes);
  return result;
}

Result<ZipMemberData> stream_zip_member(
    const ByteSource& source, const ZipEntry& entry, std::string_view display_name,
    const std::function<void(std::span<const std::byte>)>& sink) {
  return uncompress_member(source, entry, display_name, std::numeric_limits<std::uint64_t>::max(),
                           sink);
}

}  // namespace smpack
