// Levenshtein distance, for "did you mean" suggestions (commands, rule IDs, handler names).
#pragma once

#include <cstddef>
#include <string_view>

namespace smpack {

// Insertions, deletions and substitutions that turn `a` into `b` (bytes, not characters).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace smpack
