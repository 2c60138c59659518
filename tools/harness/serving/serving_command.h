// smpack-harness serve and smpack-harness batch: their command lines, and the run of
// each through one handler chain (one model, or a pipeline of 2 to 5).
#pragma once

namespace smpack::harness {

// argv[1] is "serve" or "batch". Returns the exit code: 0 done, 1 some batch records
// failed, 2 usage, 3 bad input or I/O, 4 internal.
int run_serving_command(int argc, const char* const* argv);

bool is_serving_command(int argc, const char* const* argv);

}  // namespace smpack::harness
