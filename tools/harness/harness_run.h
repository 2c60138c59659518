// One harness run, start to finish: find and read the model member, load it, feed it,
// check and time it, and say all of it in a HarnessReport.
#pragma once

#include "harness_options.h"
#include "harness_report.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack::harness {

// Problems with the model itself (it does not load, throws, gives wrong or non-finite
// output) are failed checks in the report. Errors are for the rest: Error::bad_input
// or io for an unreadable archive or input file, usage for an impossible request
// (e.g. cuda without a GPU), interrupted when `cancel` is set.
Result<HarnessReport> run_harness(const HarnessOptions& options, const CancelToken& cancel);

}  // namespace smpack::harness
