#include <algorithm>
#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/archive_scan.h"

namespace smpack::cli {
namespace {

struct InfoArgs {
  std::string archive;
  FormatFlag format;
};

// The facts `info` prints, gathered from the index (smpack archives: nothing is
// decompressed) or from one streaming pass (any other archive).
struct ArchiveFacts {
  std::string container;
  std::string writer, writer_evidence;
  std::string tar_format;
  std::string gzip_name;
  std::uint64_t file_bytes = 0, tar_bytes = 0, gzip_members = 0;
  Manifest manifest;
  std::uint64_t other_members = 0;
  bool has_index = false;
};

Result<ArchiveFacts> gather(const std::string& path, Context& context) {
  ArchiveFacts facts;
  auto index = read_archive_index(path);
  if (!index) return std::move(index).error();
  if (*index) {
    const ArchiveIndex& ix = **index;
    facts.container = "gzip";
    facts.writer = "smpack";
    facts.writer_evidence = "an smpack index (format version " + std::to_string(ix.version) + ")";
    facts.tar_format = "POSIX ustar/pax";
    facts.file_bytes = ix.file_bytes;
    facts.tar_bytes = ix.members.back().tar_offset + ix.members.back().tar_bytes;
    facts.gzip_members = ix.members.size();
    facts.manifest.entries = ix.manifest_entries();
    facts.manifest.content_digest = content_digest(facts.manifest.entries);
    facts.has_index = true;
    return facts;
  }
  TerminalProgress progress(context, "reading");
  ScanOptions options;
  options.cancel = &context.cancel;
  options.progress = progress.sink();
  auto scan = scan_archive(path, options);
  progress.finish();
  if (!scan) return std::move(scan).error();
  facts.container = std::string(name_of(scan->container));
  facts.writer = scan->writer;
  facts.writer_evidence = scan->writer_evidence;
  facts.tar_format = scan->tar_format;
  facts.gzip_name = scan->gzip.file_name;
  facts.file_bytes = scan->file_bytes;
  facts.tar_bytes = scan->tar_bytes;
  facts.gzip_members = scan->gzip_members;
  facts.manifest = scan->manifest();
  facts.other_members = scan->entries.size() - facts.manifest.entries.size();
  return facts;
}

Result<int> run_info(const InfoArgs& args, Context& context) {
  auto facts = gather(args.archive, context);
  if (!facts) return std::move(facts).error();
  std::uint64_t files = 0, dirs = 0, data = 0;
  bool has_code = false;
  std::vector<const ManifestEntry*> largest;
  for (const auto& e : facts->manifest.entries) {
    if (e.type == EntryType::directory) ++dirs;
    if (e.type == EntryType::file) {
      ++files;
      data += e.size;
      largest.push_back(&e);
    }
    if (e.path.rfind("code/", 0) == 0) has_code = true;
  }
  std::sort(largest.begin(), largest.end(), [](auto* a, auto* b) { return a->size > b->size; });
  if (largest.size() > 5) largest.resize(5);

  if (args.format.json()) {
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const auto* e : largest)
      top.push_back({{"path", e->path}, {"size", e->size}, {"sha256", e->sha256}});
    print_json({{"archive", args.archive},
                {"container", facts->container},
                {"writer", facts->writer},
                {"writer_evidence", facts->writer_evidence},
                {"tar_format", facts->tar_format},
                {"gzip_file_name", facts->gzip_name},
                {"archive_bytes", facts->file_bytes},
                {"tar_bytes", facts->tar_bytes},
                {"gzip_members", facts->gzip_members},
                {"smpack_index", facts->has_index},
                {"files", files},
                {"directories", dirs},
                {"other_members", facts->other_members},
                {"data_bytes", data},
                {"has_code", has_code},
                {"content_digest", facts->manifest.content_digest},
                {"largest", top}});
    return kExitOk;
  }
  double ratio = facts->file_bytes ? static_cast<double>(facts->tar_bytes) /
                                         static_cast<double>(facts->file_bytes)
                                   : 0;
  std::printf("archive         %s\n", escape_name(args.archive).c_str());
  std::printf("container       %s%s\n", facts->container.c_str(),
              facts->container == "gzip" ? "" : "  (SageMaker needs a gzip-compressed tar)");
  std::printf("written by      %s%s%s\n", facts->writer.c_str(),
              facts->writer_evidence.empty() ? "" : ": ",
              escape_name(facts->writer_evidence).c_str());
  std::printf("size            %s compressed, %s tar (%.2fx), %llu gzip members\n",
              human_bytes(facts->file_bytes).c_str(), human_bytes(facts->tar_bytes).c_str(), ratio,
              static_cast<unsigned long long>(facts->gzip_members));
  std::printf("members         %llu files (%s), %llu directories, %llu other\n",
              static_cast<unsigned long long>(files), human_bytes(data).c_str(),
              static_cast<unsigned long long>(dirs),
              static_cast<unsigned long long>(facts->other_members));
  std::printf("code/           %s\n", has_code ? "present" : "absent");
  std::printf("content digest  %s\n", facts->manifest.content_digest.c_str());
  if (!largest.empty()) std::printf("largest\n");
  for (const auto* e : largest) {
    std::printf("  %10s  %s\n", human_bytes(e->size).c_str(), escape_name(e->path).c_str());
  }
  return kExitOk;
}

}  // namespace

void add_info_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd = app.add_subcommand("info", "Summarise an archive: sizes, members, writer, digests");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz")->required();
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_info(*args, context)); });
}

}  // namespace smpack::cli
