#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/diff.h"

namespace smpack::cli {
namespace {

struct DiffArgs {
  std::string before, after;
  FormatFlag format;
};

Result<int> run_diff(const DiffArgs& args, Context& context) {
  auto before = open_artifact(context, args.before);
  if (!before) return std::move(before).error();
  auto after = open_artifact(context, args.after);
  if (!after) return std::move(after).error();
  auto compared = diff_artifacts(*before, *after, &context.cancel);
  if (!compared) return std::move(compared).error();
  const ManifestDiff& diff = *compared;
  if (args.format.json()) {
    std::cout << diff_json(diff);
  } else {
    for (const auto& p : diff.added) std::cout << "+ " << escape_for_terminal(p) << "\n";
    for (const auto& p : diff.removed) std::cout << "- " << escape_for_terminal(p) << "\n";
    for (const auto& p : diff.content_changed) std::cout << "M " << escape_for_terminal(p) << "\n";
    for (const auto& m : diff.mode_changed) {
      std::cout << "m " << escape_for_terminal(m.path) << " " << octal_mode(m.before) << " -> "
                << octal_mode(m.after) << "\n";
    }
  }
  return diff.empty() ? kExitOk : kExitFindings;
}

}  // namespace

void add_diff_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<DiffArgs>();
  auto* cmd = app.add_subcommand(
      "diff", "Member-level differences: added (+), removed (-), content (M), mode (m)");
  cmd->add_option("A", args->before, "Archive or directory")->required();
  cmd->add_option("B", args->after, "Archive or directory")->required();
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_diff(*args, context)); });
}

}  // namespace smpack::cli
