#include "python/constant_condition.h"

#include <string>
#include <vector>

namespace smpack::handler_scan_internal {
namespace {

constexpr int kOldestMinor = 8;   // Python 3.8, the oldest in a supported container
constexpr int kNewestMinor = 99;  // every 3.x after it

// Compares a (major, minor, 0) version with `tuple` as Python compares tuples.
int compare(const std::vector<long>& version, const std::vector<long>& tuple) {
  for (std::size_t i = 0; i < version.size() && i < tuple.size(); ++i) {
    if (version[i] != tuple[i]) return version[i] < tuple[i] ? -1 : 1;
  }
  return version.size() < tuple.size() ? -1 : (version.size() > tuple.size() ? 1 : 0);
}

std::optional<bool> apply(std::string_view op, int order) {
  if (op == "<") return order < 0;
  if (op == "<=") return order <= 0;
  if (op == ">") return order > 0;
  if (op == ">=") return order >= 0;
  if (op == "==") return order == 0;
  if (op == "!=") return order != 0;
  return std::nullopt;
}

bool is_integer(const TokenView& view, std::size_t i) {
  if (!view.is_kind(i, TokenKind::number)) return false;
  const std::string& text = view.at(i).text;
  return !text.empty() && text.size() < 6 &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// sys.version_info OP (a, b, ...) / OP number after [0] or .major; nullopt otherwise.
std::optional<bool> version_comparison(const TokenView& view, TokenRange range) {
  std::size_t i = range.begin;
  if (!(view.is_name(i, "sys") && view.is_op(i + 1, ".") && view.is_name(i + 2, "version_info")))
    return std::nullopt;
  i += 3;
  bool major_only = false;
  if (view.is_op(i, "[") && view.is_kind(i + 1, TokenKind::number) && view.at(i + 1).text == "0" &&
      view.is_op(i + 2, "]")) {
    major_only = true;
    i += 3;
  } else if (view.is_op(i, ".") && view.is_name(i + 1, "major")) {
    major_only = true;
    i += 2;
  }
  if (i >= range.end || !view.is_kind(i, TokenKind::op)) return std::nullopt;
  const std::string op = view.at(i).text;
  ++i;
  std::vector<long> tuple;
  if (major_only) {
    if (!is_integer(view, i) || i + 1 != range.end) return std::nullopt;
    tuple.push_back(std::stol(view.at(i).text));
  } else {
    if (!view.is_op(i, "(") || view.matching_bracket(i, range.end) != range.end - 1)
      return std::nullopt;
    for (std::size_t j = i + 1; j < range.end - 1; ++j) {
      if (view.is_op(j, ",")) continue;
      if (!is_integer(view, j)) return std::nullopt;
      tuple.push_back(std::stol(view.at(j).text));
    }
    if (tuple.empty()) return std::nullopt;
  }
  std::optional<bool> answer;
  for (int minor = kOldestMinor; minor <= kNewestMinor; ++minor) {
    const std::vector<long> version =
        major_only ? std::vector<long>{3} : std::vector<long>{3, minor, 0};
    const auto result = apply(op, compare(version, tuple));
    if (!result || (answer && *answer != *result)) return std::nullopt;
    answer = result;
  }
  return answer;
}

}  // namespace

std::optional<bool> constant_condition(const TokenView& view, TokenRange condition) {
  if (condition.begin >= condition.end) return std::nullopt;
  const TokenRange inner = view.strip_enclosing(condition, "(", ")");
  if (inner.begin != condition.begin || inner.end != condition.end)
    return constant_condition(view, inner);
  if (view.is_name(condition.begin, "not")) {
    auto value = constant_condition(view, {condition.begin + 1, condition.end});
    if (value) return !*value;
    return std::nullopt;
  }
  if (condition.size() == 1) {
    if (view.is_name(condition.begin, "True")) return true;
    if (view.is_name(condition.begin, "False")) return false;
    if (view.is_name(condition.begin, "TYPE_CHECKING")) return false;
  }
  if (condition.size() == 3 && view.is_name(condition.begin, "typing") &&
      view.is_op(condition.begin + 1, ".") && view.is_name(condition.begin + 2, "TYPE_CHECKING"))
    return false;
  return version_comparison(view, condition);
}

}  // namespace smpack::handler_scan_internal
