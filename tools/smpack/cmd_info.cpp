#include <algorithm>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/describe.h"

namespace smpack::cli {
namespace {

struct InfoArgs {
  std::string archive;
  SdkFlag sdk;
  FormatFlag format;
};

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

void print_weights(const std::vector<WeightFileReport>& weights) {
  std::printf("weight files    %zu\n", weights.size());
  for (const auto& report : weights) {
    std::string notes = verdict_text(report);
    const auto defects = std::count_if(report.problems.begin(), report.problems.end(),
                                       [](const WeightProblem& p) { return is_defect(p.kind); });
    if (defects > 0) notes += ", " + std::to_string(defects) + " problem(s) (smpack lint)";
    if (!report.complete) notes += ", partly read";
    std::printf("  %-15s %6zu tensors %10s  %s  (%s)\n",
                std::string(name_of(report.format)).c_str(), report.tensors.size(),
                human_bytes(report.tensor_bytes).c_str(),
                escape_for_terminal(report.member).c_str(), notes.c_str());
  }
}

// A signature beside the artifact (PATH.sig) and what it says it covers, compared with
// the artifact's digests; its signature is not checked (that needs the public key).
void find_signature(Context& context, const Artifact& artifact, ArtifactDescription& d) {
  const std::string path = default_signature_path(artifact.name());
  if (!is_s3_url(path) && !std::filesystem::exists(path)) return;
  auto bundle = read_small_file(context, path);
  if (!bundle) return;  // none in S3 (or unreadable): nothing to say
  auto summary = summarize_signature(*bundle, d.manifest, path);
  if (!summary) {
    print_warning(context, summary.error().message);
    return;
  }
  d.signature_path = path;
  d.signature = std::move(*summary);
}

void print_signature(const ArtifactDescription& d) {
  if (!d.signature) return;
  const SignatureSummary& s = *d.signature;
  std::printf("signature       %s: %llu files of model '%s'",
              escape_for_terminal(d.signature_path).c_str(),
              static_cast<unsigned long long>(s.files), escape_for_terminal(s.model_name).c_str());
  if (s.missing + s.changed + s.extra == 0) {
    std::printf(d.kind == ArtifactKind::directory ? ", the same files (info does not hash them)\n"
                                                  : ", the digests of every file match\n");
  } else {
    std::printf(": %llu changed, %llu missing, %llu not signed\n",
                static_cast<unsigned long long>(s.changed),
                static_cast<unsigned long long>(s.missing),
                static_cast<unsigned long long>(s.extra));
  }
  std::printf("                not checked against a key: verify --signature %s --public-key KEY\n",
              escape_for_terminal(d.signature_path).c_str());
}

Result<int> run_info(const InfoArgs& args, Context& context) {
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  TerminalProgress progress(context, "reading");
  auto described = describe_artifact(*artifact, args.sdk.value(), &context.cancel, progress.sink());
  progress.finish();
  if (!described) return std::move(described).error();
  find_signature(context, *artifact, *described);
  const ArtifactDescription& d = *described;
  // A damaged archive: what was read is shown, then the problem, with exit code 3.
  const int exit_code = d.read_error ? kExitBadInput : kExitOk;
  if (args.format.json()) {
    std::cout << describe_json(d);
    return exit_code;
  }
  const ArchiveFacts none;
  const ArchiveFacts& facts = d.archive ? *d.archive : none;
  const std::string container = d.archive ? std::string(name_of(facts.container)) : "directory";
  const double ratio = facts.file_bytes ? static_cast<double>(facts.tar_bytes) /
                                              static_cast<double>(facts.file_bytes)
                                        : 0;
  std::printf("archive         %s\n", escape_for_terminal(d.artifact).c_str());
  std::printf("container       %s%s\n", container.c_str(),
              !d.archive || facts.container == ContainerKind::gzip
                  ? ""
                  : "  (SageMaker needs a gzip-compressed tar)");
  std::printf("written by      %s%s%s\n",
              d.archive ? escape_for_terminal(facts.writer).c_str() : "a model directory",
              facts.writer_evidence.empty() ? "" : ": ",
              escape_for_terminal(facts.writer_evidence).c_str());
  if (d.archive) {
    std::printf("size            %s compressed, %s tar (%.2fx), %llu gzip members\n",
                human_bytes(facts.file_bytes).c_str(), human_bytes(facts.tar_bytes).c_str(), ratio,
                static_cast<unsigned long long>(facts.gzip_members));
  }
  std::printf("members         %llu files (%s), %llu directories, %llu other\n",
              static_cast<unsigned long long>(d.files), human_bytes(d.data_bytes).c_str(),
              static_cast<unsigned long long>(d.directories),
              static_cast<unsigned long long>(d.other_members));
  std::printf("code/           %s\n", d.has_code ? "present" : "absent");
  std::printf("content digest  %s\n", d.content_digest.empty()
                                          ? "(not computed for a directory: smpack digest)"
                                          : d.content_digest.c_str());
  if (!d.largest.empty()) std::printf("largest\n");
  for (const auto& e : d.largest) {
    std::printf("  %10s  %s\n", human_bytes(e.size).c_str(), escape_for_terminal(e.path).c_str());
  }
  print_weights(d.weights);
  std::printf("profile         %s (%s)\n", std::string(name_of(d.lint.profile)).c_str(),
              escape_for_terminal(d.lint.profile_reason).c_str());
  if (d.lint.handler_module.empty()) {
    std::printf("handlers        none: the container's default handlers run\n");
  } else {
    std::printf("handlers        %s\n", escape_for_terminal(d.lint.handler_module).c_str());
    for (const auto& [name, binding] : d.lint.handler_scan.bindings) {
      if (!is_handler_name(name, d.lint.profile)) continue;
      std::string params = binding.params ? std::to_string(*binding.params) : "?";
      std::printf("  %-16s line %-5d %s parameter(s)%s\n", name.c_str(), binding.line,
                  params.c_str(), binding.is_async() ? ", async" : "");
    }
  }
  if (!d.left_out_by_build.empty()) {
    std::string listed;
    for (const auto& [path, files] : d.left_out_by_build) {
      listed += (listed.empty() ? "" : ", ") + escape_for_terminal(path) + " (" +
                std::to_string(files) + (files == 1 ? " file)" : " files)");
    }
    std::printf("left out        %s by build (--no-default-excludes keeps them)\n", listed.c_str());
  }
  print_signature(d);
  std::printf("deploy-ready    %s\n",
              d.lint.deploy_ready ? "yes, without a repack" : "no (see `smpack lint`)");
  if (d.s3_objects.size() == 1) {
    std::printf("etag            %s\n", escape_for_terminal(d.s3_objects.front().etag).c_str());
  } else if (!d.s3_objects.empty()) {
    std::printf("etags           %zu objects (`info --json` lists them)\n", d.s3_objects.size());
  }
  if (!d.model_data_source.empty()) {
    // CreateModel's PrimaryContainer.ModelDataSource, and the SDK's model_data.
    std::printf("\nModelDataSource (CreateModel):\n%s\n", d.model_data_source.c_str());
  }
  if (d.lint.deploy_ready && !context.quiet)
    std::printf("\nDeploy with no repack (SDK %s):\n%s\n",
                std::string(name_of(args.sdk.value())).c_str(), d.deploy_call.c_str());
  if (d.read_error) {
    std::printf("unreadable      %s\n", escape_for_terminal(*d.read_error).c_str());
    print_error(context, *d.read_error);
  }
  return exit_code;
}

}  // namespace

void add_info_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd = app.add_subcommand("info",
                                 "Summarise an archive or model directory: sizes, writer, digests, "
                                 "handlers, deploy readiness");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz or model directory")->required();
  add_sdk_flag(*cmd, args->sdk);
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_info(*args, context)); });
}

}  // namespace smpack::cli
