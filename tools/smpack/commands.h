// The subcommand table: one line per cmd_*.cpp.
#pragma once

#include "command.h"

namespace smpack::cli {

void add_build_command(CLI::App& app, Context& context);
void add_ls_command(CLI::App& app, Context& context);
void add_cat_command(CLI::App& app, Context& context);
void add_info_command(CLI::App& app, Context& context);
void add_digest_command(CLI::App& app, Context& context);
void add_verify_command(CLI::App& app, Context& context);
void add_diff_command(CLI::App& app, Context& context);
void add_extract_command(CLI::App& app, Context& context);
void add_lint_command(CLI::App& app, Context& context);
void add_stage_command(CLI::App& app, Context& context);
void add_add_code_command(CLI::App& app, Context& context);
void add_repack_check_command(CLI::App& app, Context& context);
void add_init_command(CLI::App& app, Context& context);
void add_docs_command(CLI::App& app, Context& context);
void add_sign_command(CLI::App& app, Context& context);
void add_invoke_command(CLI::App& app, Context& context);

inline constexpr AddCommand kCommands[] = {
    add_build_command,  add_ls_command,     add_cat_command,      add_info_command,
    add_digest_command, add_verify_command, add_diff_command,     add_extract_command,
    add_lint_command,   add_stage_command,  add_add_code_command, add_repack_check_command,
    add_init_command,   add_sign_command,   add_invoke_command,   add_docs_command,
};

}  // namespace smpack::cli
