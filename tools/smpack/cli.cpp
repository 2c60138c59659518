#include "cli.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "command.h"
#include "commands.h"
#include "output.h"
#include "smpack/edit_distance.h"

namespace smpack::cli {
namespace {

Context* g_context = nullptr;

void on_interrupt(int) {
  if (g_context) g_context->cancel.cancel();
}

std::optional<std::string> source_date_epoch() {
  const char* value = std::getenv("SOURCE_DATE_EPOCH");
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

// "did you mean" for a mistyped subcommand: the closest name within two edits.
std::string closest_command(const CLI::App& app, const std::string& typed) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    auto d = edit_distance(typed, sub->get_name());
    if (d < best_distance) {
      best_distance = d;
      best = sub->get_name();
    }
  }
  return best;
}

// Whether the subcommand that ran was asked for JSON (--json or --format json).
bool json_requested(const CLI::App& app) {
  for (const auto* sub : app.get_subcommands()) {
    const auto* json = sub->get_option_no_throw("--json");
    if (json && json->count() > 0) return true;
    const auto* format = sub->get_option_no_throw("--format");
    if (format && format->count() > 0 && format->as<std::string>() == "json") return true;
  }
  return false;
}

// The library's message with its hint spelled as this CLI's flag.
std::string render(const Error& error) {
  if (!error.hint) return error.message;
  return error.message + "; use --" + error.hint->option + " " + error.hint->action;
}

bool has_command(const CLI::App& app, const std::string& name) {
  auto found = app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == name; });
  return !found.empty();
}

}  // namespace

int exit_code_for(const Error& error) {
  switch (error.kind) {
    case ErrorKind::usage:
      return kExitUsage;
    case ErrorKind::bad_input:
    case ErrorKind::io:
      return kExitBadInput;
    case ErrorKind::interrupted:
      return kExitInterrupted;
    case ErrorKind::internal:
      break;
  }
  return kExitInternal;
}

void add_format_flag(CLI::App& command, FormatFlag& flag, bool with_sarif) {
  auto* option = command.add_option("--format", flag.format, "Output format");
  if (with_sarif) {
    option->check(CLI::IsMember({"text", "json", "sarif"}));
  } else {
    option->check(CLI::IsMember({"text", "json"}));
  }
  command.add_flag("--json", flag.json_flag, "Same as --format json");
}

void add_sdk_flag(CLI::App& command, SdkFlag& flag) {
  command
      .add_option("--sdk", flag.text,
                  "SageMaker Python SDK of the deploy calls: v3 (ModelBuilder, what pip installs "
                  "now) or v2 (the framework model classes)")
      ->check(CLI::IsMember({"v2", "v3"}))
      ->capture_default_str();
}

int run(int argc, char** argv) {
  Context context;
  context.stdout_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  context.stderr_is_terminal = ::isatty(STDERR_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  context.color = context.stderr_is_terminal && !(no_color && *no_color);
  context.source_date_epoch = source_date_epoch();
  g_context = &context;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  CLI::App app{"smpack: build, check and inspect SageMaker model artifacts (model.tar.gz)",
               "smpack"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "smpack " SMPACK_VERSION);
  app.add_flag("-q,--quiet", context.quiet, "Print only data and errors");
  for (AddCommand add : kCommands) add(app, context);

  // An unknown first word would reach CLI11 as "a subcommand is required";
  // say what was typed and what it is probably meant to be.
  if (argc > 1 && argv[1][0] != '-' && !has_command(app, argv[1])) {
    std::string typed = argv[1];
    std::string suggestion = closest_command(app, typed);
    print_error(context, "unknown command '" + typed + "'" +
                             (suggestion.empty() ? std::string("; see smpack --help")
                                                 : "; did you mean '" + suggestion + "'?"));
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    std::string typed = argc > 1 ? argv[1] : "";
    std::string suggestion = closest_command(app, typed);
    print_error(context,
                suggestion.empty() || app.get_subcommands().size() > 0
                    ? std::string(e.what())
                    : "unknown command '" + typed + "'; did you mean '" + suggestion + "'?");
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    print_error(context, e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(context, std::string("internal error: ") + e.what());
    return kExitInternal;
  }
  if (!context.outcome) return kExitInternal;
  if (!*context.outcome) {
    const Error& error = context.outcome->error();
    const std::string message = render(error);
    print_error(context, message);
    if (json_requested(app)) {
      print_json({{"error", {{"kind", name_of(error.kind)}, {"message", message}}},
                  {"exit_code", exit_code_for(error)}});
    }
    return exit_code_for(error);
  }
  return context.outcome->value();
}

}  // namespace smpack::cli
