// Parameter lists of `def` and `lambda`, counted the way inspect.signature counts them.
#pragma once

#include <string>
#include <vector>

#include "python/python_statements.h"
#include "smpack/handler_scan.h"

namespace smpack {

enum class ParameterListSyntax { def, lambda };

struct ParsedParameters {
  std::vector<Parameter> parameters;
  // Empty when the list is valid; otherwise CPython-like wording of what is wrong.
  std::string error;
  bool python2 = false;  // the error is a Python 2 form (tuple parameters)
  int error_line = 0;
  int error_column = 0;
};

// Parses the parameters in `range` (inside the def's parentheses, or between `lambda` and
// its ':'): annotations, defaults (which may hold lambdas, strings, brackets), `/`, `*`,
// *args and **kwargs. Never fails as a call: problems are in `error`.
ParsedParameters parse_parameters(const TokenView& view, TokenRange range,
                                  ParameterListSyntax syntax);

}  // namespace smpack
