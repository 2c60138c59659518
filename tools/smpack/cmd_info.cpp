#include <algorithm>
#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/archive_scan.h"
#include "smpack/handler_scan.h"
#include "smpack/lint.h"
#include "smpack/model_tree.h"
#include "smpack/repack.h"

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
  ModelTree tree;  // members and the small files lint and the handler scan read
};

// Weight files are listed by structure: the tensor data's CRCs are `verify`'s business.
TreeLoadOptions tree_options() {
  return lint_load_options(/*check_tensor_crcs=*/false);
}

Result<ArchiveFacts> gather(const std::string& path, Context& context) {
  ArchiveFacts facts;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    auto tree = load_model_tree(path, tree_options());
    if (!tree) return std::move(tree).error();
    facts.container = "directory";
    facts.writer = "a model directory";
    for (const auto& m : tree->members) {
      if (m.type != EntryType::file && m.type != EntryType::directory) {
        ++facts.other_members;
        continue;
      }
      facts.manifest.entries.push_back({m.path, m.type, m.mode, m.size, m.sha256});
    }
    facts.manifest.content_digest = "";  // only kept files are hashed: use `smpack digest`
    facts.tree = std::move(*tree);
    return facts;
  }
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
    // Through the index: code, configs and the parts of weight files that say what they are.
    auto tree = load_model_tree(path, tree_options());
    if (!tree) return std::move(tree).error();
    facts.tree = std::move(*tree);
    return facts;
  }
  TerminalProgress progress(context, "reading");
  ScanOptions options;
  options.cancel = &context.cancel;
  options.progress = progress.sink();
  options.keep_content = keep_content_by_default;
  options.weights = tree_options().weights;
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
  facts.tree = scan->tree();
  return facts;
}

FrameworkClass framework_for(Profile profile) {
  switch (profile) {
    case Profile::pytorch:
      return FrameworkClass::pytorch;
    case Profile::huggingface:
      return FrameworkClass::huggingface;
    case Profile::tensorflow:
      return FrameworkClass::tensorflow;
    case Profile::sklearn:
      return FrameworkClass::sklearn;
    case Profile::xgboost:
      return FrameworkClass::xgboost;
    case Profile::generic:
      break;
  }
  return FrameworkClass::generic_model;
}

// The handler module and what it binds, as the toolkit would see it at import.
struct HandlerView {
  std::string module;  // "" when there is none
  ModuleScan scan;
};

HandlerView scan_handlers(const ModelTree& tree) {
  HandlerView view;
  const std::string module = "code/inference.py";
  const std::string* source = tree.content(module);
  if (!source) return view;
  view.module = module;
  view.scan = scan_handler_module(module, *source,
                                  [&tree](std::string_view path) { return tree.content(path); });
  return view;
}

std::string verdict_text(const WeightFileReport& report) {
  if (report.format == WeightFormat::torchscript_zip) return "code (TorchScript)";
  if (!report.verdict) return "data";
  switch (*report.verdict) {
    case PickleVerdict::weights_only:
      return "weights-only pickle";
    case PickleVerdict::unknown_code:
      return "pickle importing code";
    case PickleVerdict::dangerous:
      return "DANGEROUS pickle";
  }
  return "";
}

nlohmann::ordered_json weights_json(const std::vector<WeightFileReport>& weights) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& report : weights) {
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const auto& problem : report.problems)
      problems.push_back({{"kind", name_of(problem.kind)}, {"message", problem.message}});
    out.push_back({{"member", report.member},
                   {"format", name_of(report.format)},
                   {"verdict", report.verdict ? nlohmann::ordered_json(name_of(*report.verdict))
                                              : nlohmann::ordered_json(nullptr)},
                   {"tensors", report.tensors.size()},
                   {"tensor_bytes", report.tensor_bytes},
                   {"globals", report.globals},
                   {"problems", problems},
                   {"complete", report.complete}});
  }
  return out;
}

void print_weights(const std::vector<WeightFileReport>& weights) {
  std::printf("weight files    %zu\n", weights.size());
  for (const auto& report : weights) {
    std::string notes = verdict_text(report);
    if (!report.problems.empty())
      notes += ", " + std::to_string(report.problems.size()) + " problem(s)";
    if (!report.complete) notes += ", partly read";
    std::printf("  %-15s %6zu tensors %10s  %s  (%s)\n",
                std::string(name_of(report.format)).c_str(), report.tensors.size(),
                human_bytes(report.tensor_bytes).c_str(), escape_name(report.member).c_str(),
                notes.c_str());
  }
}

bool is_handler_name(std::string_view name, Profile profile) {
  auto in = [&](const auto& names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  return in(kHandlerNames) || (profile == Profile::tensorflow && in(kTfServingHandlerNames));
}

Result<int> run_info(const InfoArgs& args, Context& context) {
  auto facts = gather(args.archive, context);
  if (!facts) return std::move(facts).error();
  LintReport lint = lint_tree(facts->tree, LintOptions{});
  HandlerView handlers = scan_handlers(facts->tree);
  const bool ready = !handlers.module.empty() && lint.deploy_ready;
  const std::string deploy_call = no_repack_deploy_call(framework_for(lint.profile));
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
    nlohmann::ordered_json handler_json = nlohmann::ordered_json::object();
    for (const auto& [name, binding] : handlers.scan.bindings) {
      if (!is_handler_name(name, lint.profile)) continue;
      nlohmann::ordered_json h = {{"line", binding.line}, {"file", binding.file}};
      h["params"] = binding.params ? nlohmann::ordered_json(*binding.params)
                                   : nlohmann::ordered_json(nullptr);
      h["async"] = binding.is_async();
      if (!binding.note.empty()) h["note"] = binding.note;
      handler_json[name] = h;
    }
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
                {"largest", top},
                {"weights", weights_json(facts->tree.weights)},
                {"profile", name_of(lint.profile)},
                {"profile_reason", lint.profile_reason},
                {"module", handlers.module},
                {"handlers", handler_json},
                {"lint_errors",
                 std::count_if(lint.findings.begin(), lint.findings.end(),
                               [](const Finding& f) { return f.severity == Severity::error; })},
                {"deploy_ready_without_repack", ready},
                {"deploy_call", deploy_call}});
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
  print_weights(facts->tree.weights);
  std::printf("profile         %s (%s)\n", std::string(name_of(lint.profile)).c_str(),
              escape_name(lint.profile_reason).c_str());
  if (handlers.module.empty()) {
    std::printf("handlers        none: no code/inference.py, the container's defaults run\n");
  } else {
    std::printf("handlers        %s\n", handlers.module.c_str());
    for (const auto& [name, binding] : handlers.scan.bindings) {
      if (!is_handler_name(name, lint.profile)) continue;
      std::string params = binding.params ? std::to_string(*binding.params) : "?";
      std::printf("  %-16s line %-5d %s parameter(s)%s\n", name.c_str(), binding.line,
                  params.c_str(), binding.is_async() ? ", async" : "");
    }
  }
  std::printf("deploy-ready    %s\n", ready ? "yes, without a repack" : "no (see `smpack lint`)");
  if (ready && !context.quiet)
    std::printf("\nDeploy with no entry_point/source_dir:\n%s\n", deploy_call.c_str());
  return kExitOk;
}

}  // namespace

void add_info_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd = app.add_subcommand("info",
                                 "Summarise an archive or model directory: sizes, writer, digests, "
                                 "handlers, deploy readiness");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz or model directory")->required();
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_info(*args, context)); });
}

}  // namespace smpack::cli
