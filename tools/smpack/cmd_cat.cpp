#include <unistd.h>

#include "commands.h"
#include "smpack/artifact.h"

namespace smpack::cli {
namespace {

struct CatArgs {
  std::string archive;
  std::string member;
};

Result<int> run_cat(const CatArgs& args, Context& context) {
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  auto streamed = artifact->stream_member(
      args.member,
      [](std::span<const std::byte> piece) -> Result<void> {
        while (!piece.empty()) {
          ssize_t put = ::write(STDOUT_FILENO, piece.data(), piece.size());
          if (put < 0) {
            if (errno == EINTR) continue;
            return Error::io("cannot write to standard output");
          }
          piece = piece.subspan(static_cast<std::size_t>(put));
        }
        return {};
      },
      &context.cancel);
  if (!streamed) return std::move(streamed).error();
  return kExitOk;
}

}  // namespace

void add_cat_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<CatArgs>();
  auto* cmd = app.add_subcommand("cat", "Write one member's content to standard output");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz or directory")->required();
  cmd->add_option("MEMBER", args->member, "Member path, e.g. code/inference.py")->required();
  cmd->callback([args, &context] { context.finish(run_cat(*args, context)); });
}

}  // namespace smpack::cli
