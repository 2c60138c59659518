#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/artifact_manifest.h"

namespace smpack::cli {
namespace {

struct DiffArgs {
  std::string before, after;
  FormatFlag format;
};

Result<int> run_diff(const DiffArgs& args) {
  auto before = manifest_of(args.before);
  if (!before) return std::move(before).error();
  auto after = manifest_of(args.after);
  if (!after) return std::move(after).error();
  ManifestDiff diff = diff_manifests(*before, *after);
  if (args.format.json()) {
    nlohmann::ordered_json modes = nlohmann::ordered_json::array();
    for (const auto& m : diff.mode_changed) {
      modes.push_back(
          {{"path", m.path}, {"before", octal_mode(m.before)}, {"after", octal_mode(m.after)}});
    }
    print_json({{"added", diff.added},
                {"removed", diff.removed},
                {"content_changed", diff.content_changed},
                {"mode_changed", modes}});
  } else {
    for (const auto& p : diff.added) std::cout << "+ " << escape_name(p) << "\n";
    for (const auto& p : diff.removed) std::cout << "- " << escape_name(p) << "\n";
    for (const auto& p : diff.content_changed) std::cout << "M " << escape_name(p) << "\n";
    for (const auto& m : diff.mode_changed) {
      std::cout << "m " << escape_name(m.path) << " " << octal_mode(m.before) << " -> "
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
  cmd->callback([args, &context] { context.finish(run_diff(*args)); });
}

}  // namespace smpack::cli
