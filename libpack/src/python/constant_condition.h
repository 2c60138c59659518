// The value of a module-level `if` condition that is the same on every Python the
// containers run (3.8 and later): True, False, TYPE_CHECKING (False at run time),
// `not` of one of these, and comparisons of sys.version_info (or its [0] or .major)
// with a tuple or a number. Anything else is decided at run time: nullopt.
#pragma once

#include <optional>

#include "python/python_statements.h"

namespace smpack::handler_scan_internal {

std::optional<bool> constant_condition(const TokenView& view, TokenRange condition);

}  // namespace smpack::handler_scan_internal
