#pragma once

namespace smpack::cli {

// Parses the command line, runs one subcommand and returns the process exit code.
int run(int argc, char** argv);

}  // namespace smpack::cli
