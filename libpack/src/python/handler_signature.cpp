// Parameter lists of `def` and `lambda`.
#include "python/handler_signature.h"

#include <set>

namespace smpack {

ParsedParameters parse_parameters(const TokenView& view, TokenRange range,
                                  ParameterListSyntax syntax) {
  ParsedParameters parsed;
  const auto fail = [&](std::size_t at, std::string message, bool python2 = false) {
    parsed.error = std::move(message);
    parsed.python2 = python2;
    parsed.error_line = view.at(at).line;
    parsed.error_column = view.at(at).column;
    return parsed;
  };
  if (range.empty()) return parsed;
  bool keyword_only = false;  // after `*` or `*args`
  bool seen_slash = false;
  bool seen_default = false;
  std::set<std::string> names;
  const std::vector<TokenRange> items = view.split_top_level(range, ",");
  for (std::size_t index = 0; index < items.size(); ++index) {
    const TokenRange item = items[index];
    if (item.empty()) return fail(range.begin, "invalid syntax: empty parameter");
    std::size_t pos = item.begin;
    if (view.is_op(pos, "/")) {
      if (item.size() != 1 || seen_slash || keyword_only || parsed.parameters.empty()) {
        return fail(pos, "invalid syntax: misplaced '/'");
      }
      seen_slash = true;
      for (Parameter& parameter : parsed.parameters) {
        parameter.kind = Parameter::Kind::positional_only;
      }
      continue;
    }
    Parameter parameter;
    if (view.is_op(pos, "**")) {
      parameter.kind = Parameter::Kind::var_keyword;
      ++pos;
    } else if (view.is_op(pos, "*")) {
      if (keyword_only) return fail(pos, "* argument may appear only once");
      keyword_only = true;
      ++pos;
      if (item.size() == 1) {
        if (index + 1 == items.size()) return fail(pos - 1, "named arguments must follow bare *");
        continue;  // the bare `*` marker: not a parameter
      }
      parameter.kind = Parameter::Kind::var_positional;
    } else {
      parameter.kind =
          keyword_only ? Parameter::Kind::keyword_only : Parameter::Kind::positional_or_keyword;
    }
    if (view.is_op(pos, "(")) {
      return fail(pos, "sublist parameters are not supported in Python 3", /*python2=*/true);
    }
    if (!view.is_kind(pos, TokenKind::name) || pos >= item.end) {
      return fail(std::min(pos, item.end - 1), "invalid syntax in parameter list");
    }
    parameter.name = view.at(pos).text;
    if (!names.insert(parameter.name).second) {
      return fail(pos, "duplicate argument '" + parameter.name + "' in function definition");
    }
    ++pos;
    if (pos < item.end && view.is_op(pos, ":")) {
      if (syntax == ParameterListSyntax::lambda) return fail(pos, "invalid syntax in lambda");
      const std::size_t equals = view.find_first_top_level({pos, item.end}, "=");
      pos = equals;
    }
    if (pos < item.end) {
      if (!view.is_op(pos, "=") || pos + 1 >= item.end) {
        return fail(pos, "invalid syntax in parameter list");
      }
      if (parameter.kind == Parameter::Kind::var_positional ||
          parameter.kind == Parameter::Kind::var_keyword) {
        return fail(pos, "var-positional or var-keyword argument cannot have default value");
      }
      parameter.has_default = true;
    }
    const bool positional = parameter.kind == Parameter::Kind::positional_or_keyword;
    if (positional && parameter.has_default) seen_default = true;
    if (positional && !parameter.has_default && seen_default) {
      return fail(item.begin, "non-default argument follows default argument");
    }
    const bool var_keyword = parameter.kind == Parameter::Kind::var_keyword;
    parsed.parameters.push_back(std::move(parameter));
    if (var_keyword && index + 1 != items.size()) {
      return fail(items[index + 1].begin, "arguments cannot follow var-keyword argument");
    }
  }
  return parsed;
}

}  // namespace smpack
