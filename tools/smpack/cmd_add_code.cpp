#include <iostream>

#include "code_options.h"
#include "commands.h"
#include "lint_gate.h"
#include "output.h"
#include "sign_flag.h"
#include "smpack/add_code.h"

namespace smpack::cli {
namespace {

struct AddCodeArgs {
  std::string archive;
  std::string output;
  bool in_place = false;
  CodeOptions code;
  WriteFlags write;
  bool no_lint = false;
  SignFlag sign;
  FormatFlag format;
};

Result<int> run_add_code(const AddCodeArgs& args, Context& context) {
  if (args.in_place == !args.output.empty())
    return Error::usage("give exactly one of -o OUT and --in-place");
  auto write = args.write.resolve(context);
  if (!write) return std::move(write).error();
  AddCodeOptions options;
  options.write = *write;
  options.lint = !args.no_lint;
  for (const auto& location : {args.archive, args.output}) {
    auto s3 = s3_for(context, location);
    if (!s3) return std::move(s3).error();
    options.s3 = *s3;
  }
  auto key = args.sign.load();
  if (!key) return std::move(key).error();
  TerminalProgress progress(context, "adding code");
  options.write.progress = progress.sink();
  std::optional<std::filesystem::path> output;
  if (!args.output.empty()) output = args.output;
  auto result = add_code(args.archive, args.code.spec(), output, options);
  progress.finish();
  if (!result) return std::move(result).error();
  if (result->refused) return report_gate_refusal(*result->refused, context);
  const std::string written_to = args.output.empty() ? args.archive : args.output;
  if (*key) {
    auto signature = sign_beside(context, written_to, **key);
    if (!signature) return std::move(signature).error();
    if (!args.format.json()) std::cout << "signed " << escape_for_terminal(*signature) << "\n";
  } else if (const std::string old = default_signature_path(args.archive);
             !is_s3_url(old) && std::filesystem::exists(old)) {
    print_warning(context, old + " signs the archive as it was, not the new code" +
                               (args.output.empty() ? "" : " in " + args.output) +
                               ": sign again (add-code --sign KEY, or smpack sign)");
  }
  if (args.format.json()) {
    std::cout << add_code_json(written_to, *result);
    return kExitOk;
  }
  std::cout << escape_for_terminal(written_to) << ": " << describe(result->method) << ", wrote "
            << human_bytes(result->bytes_written) << "\n";
  if (result->method == AddCodeMethod::splice) {
    std::cout << "kept the first " << human_bytes(result->kept_bytes)
              << " as they were; compressed again: " << human_bytes(result->rewritten_tar_bytes)
              << " of tar (the rest of the deflate block before the old code/, and any members "
                 "after it); the next add-code rewrites only code/\n";
  }
  if (!result->etag.empty()) std::cout << "etag " << result->etag << "  (checked)\n";
  for (const auto& p : result->added) std::cout << "+ " << escape_for_terminal(p) << "\n";
  for (const auto& p : result->replaced) std::cout << "M " << escape_for_terminal(p) << "\n";
  for (const auto& p : result->removed)
    std::cout << "- " << escape_for_terminal(p) << "  (not in the new code)\n";
  return kExitOk;
}

}  // namespace

void add_add_code_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<AddCodeArgs>();
  auto* cmd = app.add_subcommand("add-code", "Add or replace code/ without a full repack");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz")->required();
  cmd->add_option("-o,--output", args->output, "Write the result here");
  cmd->add_flag("--in-place", args->in_place,
                "Rewrite ARCHIVE (on smpack archives: only its tail)");
  args->code.add_to(*cmd);
  args->write.add_to(*cmd);
  cmd->add_flag("--no-lint", args->no_lint, "Write even when lint finds errors");
  args->sign.add_to(*cmd, "the result (from its index: no pass over the weights)");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_add_code(*args, context)); });
}

}  // namespace smpack::cli
