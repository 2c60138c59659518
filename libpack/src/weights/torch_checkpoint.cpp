#include "weights/torch_checkpoint.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "archive/tar_header.h"
#include "util/le_bytes.h"
#include "weights/pickle_globals.h"
#include "weights/weight_report_builder.h"

namespace smpack {
namespace {

// PROTO 2 (or any), then LONG1 with the 10 magic bytes, little-endian.
constexpr std::array<unsigned char, 12> kLegacyMagicLong = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                                            0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::array<std::string_view, 4> kLegacyTarMembers = {"sys_info", "pickle", "storages",
                                                               "tensors"};
constexpr std::uint64_t kMaxLegacyDims = 64;

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

bool is_legacy_magic_stream(std::span<const std::byte> head) {
  if (head.empty() || head[0] != std::byte{0x80}) return false;
  std::string_view text = as_text(head.first(std::min<std::size_t>(head.size(), 64)));
  std::string_view magic(reinterpret_cast<const char*>(kLegacyMagicLong.data()),
                         kLegacyMagicLong.size());
  return text.find(magic) != std::string_view::npos;
}

std::string_view tar_field(std::span<const std::byte> block, std::size_t offset, std::size_t size) {
  std::string_view field = as_text(block.subspan(offset, size));
  return field.substr(0, field.find('\0'));
}

// torch.load's legacy path opens any tar that Python's tarfile reads (v7, GNU, ustar or
// pax, in any member order) and takes its storages, tensors and pickle members: the
// head is one when a header in it, past pax and GNU long-name records, names one.
bool is_legacy_tar(std::span<const std::byte> head) {
  for (std::size_t offset = 0; offset + kTarBlock <= head.size();) {
    auto block = head.subspan(offset).first<kTarBlock>();
    if (!tar_checksum_matches(block)) return false;
    const char type = static_cast<char>(block[156]);
    if (type != 'x' && type != 'g' && type != 'L' && type != 'K') {
      std::string_view name = tar_field(block, 0, 100);
      if (name.starts_with("./")) name.remove_prefix(2);
      if (std::find(kLegacyTarMembers.begin(), kLegacyTarMembers.end(), name) !=
          kLegacyTarMembers.end()) {
        return true;
      }
    }
    auto size = parse_tar_number(std::span(block).subspan(124, 12));
    if (!size || *size > head.size()) return false;
    offset += kTarBlock + (*size + kTarBlock - 1) / kTarBlock * kTarBlock;
  }
  return false;
}

std::uint64_t storage_bytes(const PickleStorageRef& storage) {
  if (storage.element_size != 0 &&
      storage.numel > std::numeric_limits<std::uint64_t>::max() / storage.element_size) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return storage.numel * storage.element_size;
}

// ---- zip ------------------------------------------------------------------------

class TorchZipInspector {
 public:
  TorchZipInspector(const ByteSource& source, const ZipDirectory& directory,
                    const WeightScanLimits& limits, WeightFileReport& report)
      : source_(source), directory_(directory), limits_(limits), report_(report) {}

  Result<void> run() {
    const std::string& first = directory_.entries.front().name;
    std::size_t slash = first.find('/');
    if (slash == std::string::npos) {
      add_problem(
          report_, WeightProblemKind::checkpoint_layout,
          "the first record " + first + " is not inside a directory; torch refuses the file");
    }
    prefix_ = first.substr(0, slash == std::string::npos ? 0 : slash + 1);
    index_records();
    report_.format = is_torchscript() ? WeightFormat::torchscript_zip : WeightFormat::pytorch_zip;
    if (report_.format == WeightFormat::torchscript_zip) report_torchscript();

    std::vector<const ZipEntry*> read_already;
    const ZipEntry* data_pkl = record("data.pkl");
    if (data_pkl == nullptr) {
      add_problem(report_, WeightProblemKind::checkpoint_layout,
                  "no " + prefix_ + "data.pkl record: torch cannot load it");
    } else {
      auto analysis = analyze_zip_pickle(source_, *data_pkl, limits_, report_);
      if (!analysis) return std::move(analysis).error();
      read_already.push_back(data_pkl);
      check_storages(*analysis);
    }
    // Any other pickle in the zip (constants.pkl, or one hidden beside the records)
    // is read by something; analyse it too.
    for (const ZipEntry& entry : directory_.entries) {
      if (&entry == data_pkl || !entry.name.ends_with(".pkl")) continue;
      auto analysis = analyze_zip_pickle(source_, entry, limits_, report_);
      if (!analysis) return std::move(analysis).error();
      read_already.push_back(&entry);
    }
    check_small_records(read_already);
    return check_zip_crcs(source_, directory_, read_already, limits_, report_);
  }

 private:
  void index_records() {
    for (const ZipEntry& entry : directory_.entries) {
      if (!entry.name.starts_with(prefix_) || prefix_.empty()) {
        add_problem(report_, WeightProblemKind::checkpoint_layout,
                    "the record " + entry.name + " is outside the checkpoint directory " + prefix_ +
                        ": torch never reads it, other tools may");
        continue;
      }
      records_.try_emplace(entry.name.substr(prefix_.size()), &entry);
    }
  }
  const ZipEntry* record(const std::string& name) const {
    auto it = records_.find(name);
    return it == records_.end() ? nullptr : it->second;
  }
  bool is_torchscript() const {
    if (record("constants.pkl")) return true;
    return std::any_of(records_.begin(), records_.end(),
                       [](const auto& record) { return record.first.starts_with("code/"); });
  }
  void report_torchscript() {
    auto code_files = std::count_if(records_.begin(), records_.end(), [](const auto& record) {
      return record.first.starts_with("code/") && record.first.ends_with(".py");
    });
    report_.verdict = report_.verdict ? worse(*report_.verdict, PickleVerdict::unknown_code)
                                      : PickleVerdict::unknown_code;
    add_problem(report_, WeightProblemKind::torchscript_code,
                "a TorchScript archive (" + std::to_string(code_files) + " source files under " +
                    prefix_ + "code/" + (record("constants.pkl") ? ", constants.pkl" : "") +
                    "): torch.jit.load compiles and runs its code, and torch.load before 2.6 "
                    "loads it even with weights_only=True; it is code, not weights");
  }

  // Every storage data.pkl names must be a record of exactly numel x element size.
  void check_storages(const PickleAnalysis& analysis) {
    for (const PickleStorageRef& storage : analysis.storages) {
      std::string name = "data/" + storage.key;
      const ZipEntry* entry = record(name);
      if (entry == nullptr) {
        add_problem(
            report_, WeightProblemKind::checkpoint_layout,
            "data.pkl uses storage " + storage.key + " but there is no record " + prefix_ + name);
        continue;
      }
      if (storage.element_size != 0 && entry->uncompressed_size != storage_bytes(storage)) {
        add_problem(report_, WeightProblemKind::checkpoint_layout,
                    "the record " + prefix_ + name + " holds " +
                        std::to_string(entry->uncompressed_size) + " bytes but storage " +
                        storage.key + " needs " + std::to_string(storage.numel) + " x " +
                        storage.dtype + " = " + std::to_string(storage_bytes(storage)));
      }
    }
  }

  // version must be a small decimal record; byteorder, when present, "little".
  void check_small_records(std::vector<const ZipEntry*>& read_already) {
    const ZipEntry* version = record("version");
    if (version == nullptr) version = record(".data/version");
    if (version == nullptr) {
      add_problem(report_, WeightProblemKind::checkpoint_layout,
                  "no " + prefix_ + "version record: torch cannot load it");
    }
    const ZipEntry* byteorder = record("byteorder");
    if (byteorder != nullptr && byteorder->uncompressed_size <= 16) {
      auto data = read_zip_member(source_, *byteorder, report_.member, 16);
      if (data && data->complete) {
        read_already.push_back(byteorder);
        if (as_text(data->bytes) != "little") {
          add_problem(report_, WeightProblemKind::checkpoint_layout,
                      "byteorder record says '" + std::string(as_text(data->bytes)) +
                          "': tensors are not little-endian");
        }
      }
    }
  }

  const ByteSource& source_;
  const ZipDirectory& directory_;
  const WeightScanLimits& limits_;
  WeightFileReport& report_;
  std::string prefix_;
  std::unordered_map<std::string, const ZipEntry*> records_;
};

// ---- legacy stream ----------------------------------------------------------------

Result<void> inspect_legacy_stream(const ByteSource& source, const WeightScanLimits& limits,
                                   WeightFileReport& report) {
  constexpr std::array<std::string_view, 5> kPickles = {
      "magic number pickle", "protocol version pickle", "sys_info pickle", "object pickle",
      "storage keys pickle"};
  std::uint64_t offset = 0;
  PickleAnalysis object;
  for (std::size_t i = 0; i < kPickles.size(); ++i) {
    std::string record = std::string(kPickles[i]) + " at offset " + std::to_string(offset);
    auto analysis =
        analyze_pickle_in(source, offset, source.size() - offset, record, limits, report);
    if (!analysis) return std::move(analysis).error();
    if (!analysis->reached_stop) return {};
    if (i == 3) object = std::move(*analysis);
    offset += analysis->end_offset;
  }
  // The raw storages follow in sorted key order, each as numel then data.
  std::vector<const PickleStorageRef*> storages;
  for (const PickleStorageRef& storage : object.storages) storages.push_back(&storage);
  std::sort(storages.begin(), storages.end(),
            [](const auto* a, const auto* b) { return a->key < b->key; });
  for (const PickleStorageRef* storage : storages) {
    std::array<std::byte, 8> numel_bytes{};
    if (!source.holds(offset, 8)) {
      add_problem(report,
                  offset + 8 > source.size() ? WeightProblemKind::truncated
                                             : WeightProblemKind::not_available,
                  "the raw data of storage " + storage->key + " at offset " +
                      std::to_string(offset) + " is not there");
      return {};
    }
    if (auto read = source.read_at(offset, numel_bytes); !read) return std::move(read).error();
    std::uint64_t numel = load_le(numel_bytes, 8);
    if (numel != storage->numel) {
      add_problem(report, WeightProblemKind::checkpoint_layout,
                  "storage " + storage->key + " at offset " + std::to_string(offset) + " has " +
                      std::to_string(numel) + " elements; the object pickle says " +
                      std::to_string(storage->numel));
      return {};
    }
    std::uint64_t bytes = storage_bytes(*storage);
    if (storage->element_size == 0 || bytes > source.size() - offset - 8) {
      add_problem(report, WeightProblemKind::truncated,
                  "storage " + storage->key + " at offset " + std::to_string(offset) +
                      " runs past the end of the file");
      return {};
    }
    offset += 8 + bytes;
  }
  if (offset != source.size()) {
    add_problem(report, WeightProblemKind::checkpoint_layout,
                std::to_string(source.size() - offset) + " bytes after the last storage (offset " +
                    std::to_string(offset) + ") that torch never reads");
  }
  return {};
}

// ---- legacy tar -------------------------------------------------------------------

struct TarMember {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// storages/tensors members: a count pickle, then per item a pickle and raw bytes.
Result<void> walk_legacy_tar_items(const ByteSource& source, const TarMember& member,
                                   const WeightScanLimits& limits, WeightFileReport& report) {
  SliceByteSource bytes(source, member.offset, member.size);
  std::uint64_t offset = 0;
  auto count =
      analyze_pickle_in(bytes, 0, bytes.size(), member.name + " count pickle", limits, report);
  if (!count || !count->reached_stop) return count ? Result<void>() : std::move(count).error();
  offset = count->end_offset;
  while (offset < bytes.size()) {
    std::string record = member.name + " pickle at offset " + std::to_string(offset);
    auto item = analyze_pickle_in(bytes, offset, bytes.size() - offset, record, limits, report);
    if (!item) return std::move(item).error();
    if (!item->reached_stop) return {};
    offset += item->end_offset;
    std::array<std::byte, 8> header{};
    std::size_t header_size = member.name == "storages" ? 8 : 4;
    if (!bytes.holds(offset, header_size)) break;
    if (auto read = bytes.read_at(offset, std::span(header).first(header_size)); !read) {
      return std::move(read).error();
    }
    std::uint64_t skip = 0;
    if (member.name == "storages") {
      std::uint64_t element_size = 0;
      for (const std::string& global : item->globals) {
        if (auto element = storage_element_type(global)) element_size = element->size;
      }
      std::uint64_t numel = load_le(header, 8);
      if (element_size == 0 || numel > (bytes.size() - offset) / element_size) break;
      skip = 8 + numel * element_size;
    } else {
      std::uint64_t dims = load_le(header, 4);
      if (dims > kMaxLegacyDims) break;
      skip = 4 + dims * 16 + 8;  // ndim, sizes, strides, storage offset
    }
    if (skip > bytes.size() - offset) break;
    offset += skip;
  }
  if (offset != bytes.size()) {
    add_problem(report, WeightProblemKind::checkpoint_layout,
                "the " + member.name + " member could not be followed past offset " +
                    std::to_string(offset) + " of " + std::to_string(bytes.size()));
  }
  return {};
}

Result<void> inspect_legacy_tar(const ByteSource& source, const WeightScanLimits& limits,
                                WeightFileReport& report) {
  std::vector<TarMember> members;
  for (std::uint64_t offset = 0; source.size() - offset >= kTarBlock;) {
    std::array<std::byte, kTarBlock> block{};
    if (!source.holds(offset, kTarBlock)) {
      add_problem(report, WeightProblemKind::not_available,
                  "the tar header at offset " + std::to_string(offset) + " is not available");
      break;
    }
    if (auto read = source.read_at(offset, block); !read) return std::move(read).error();
    std::string_view name = tar_field(block, 0, 100);
    if (name.empty()) break;  // end-of-archive blocks
    auto size = parse_tar_number(std::span(block).subspan(124, 12));
    std::uint64_t data = offset + kTarBlock;
    if (!size || *size > source.size() - data) {
      add_problem(report, WeightProblemKind::truncated,
                  "the tar member " + std::string(name) + " at offset " + std::to_string(offset) +
                      " has a bad or too large size");
      break;
    }
    const char type = static_cast<char>(block[156]);
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      // tarfile applies these (a pax path can rename the next member to "pickle"), so
      // a name read here is not the name torch.load sees: every member below is then
      // analysed as a pickle, and the record itself is refused.
      add_problem(report, WeightProblemKind::checkpoint_layout,
                  std::string("a ") + (type == 'x' || type == 'g' ? "pax" : "GNU long-name") +
                      " record at offset " + std::to_string(offset) +
                      " in a legacy torch tar, which can rename the member after it");
    } else {
      if (name.starts_with("./")) name.remove_prefix(2);  // tarfile normalises it away
      members.push_back({std::string(name), data, *size});
    }
    offset = data + (*size + kTarBlock - 1) / kTarBlock * kTarBlock;
  }
  for (const TarMember& member : members) {
    if (member.name != "storages" && member.name != "tensors") {
      auto analysis =
          analyze_pickle_in(source, member.offset, member.size, member.name, limits, report);
      if (!analysis) return std::move(analysis).error();
      if (member.name != "sys_info" && member.name != "pickle") {
        add_problem(report, WeightProblemKind::checkpoint_layout,
                    "unexpected member " + member.name + " in a legacy torch tar");
      }
    } else if (auto walked = walk_legacy_tar_items(source, member, limits, report); !walked) {
      return walked;
    }
  }
  return {};
}

}  // namespace

bool is_torch_zip(const ZipDirectory& directory) {
  return std::any_of(directory.entries.begin(), directory.entries.end(), [](const ZipEntry& e) {
    std::size_t slash = e.name.find('/');
    if (slash == std::string::npos) return false;
    std::string_view rest = std::string_view(e.name).substr(slash + 1);
    return rest == "data.pkl" || rest == "constants.pkl" || rest.starts_with("code/");
  });
}

Result<void> inspect_torch_zip(const ByteSource& source, const ZipDirectory& directory,
                               const WeightScanLimits& limits, WeightFileReport& report) {
  if (directory.entries.empty()) return {};
  return TorchZipInspector(source, directory, limits, report).run();
}

bool looks_like_torch_legacy(std::span<const std::byte> head) {
  return is_legacy_magic_stream(head) || is_legacy_tar(head);
}

Result<void> inspect_torch_legacy(const ByteSource& source, const WeightScanLimits& limits,
                                  WeightFileReport& report) {
  report.format = WeightFormat::pytorch_legacy;
  std::array<std::byte, kTarBlock> head{};
  std::size_t head_size = static_cast<std::size_t>(
      std::min<std::uint64_t>({source.size(), source.held_from(0), kTarBlock}));
  if (auto read = source.read_at(0, std::span(head).first(head_size)); !read) {
    return std::move(read).error();
  }
  if (is_legacy_tar(std::span(head).first(head_size))) {
    return inspect_legacy_tar(source, limits, report);
  }
  return inspect_legacy_stream(source, limits, report);
}

}  // namespace smpack
