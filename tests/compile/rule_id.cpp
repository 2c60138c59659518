// Compiled twice by ctest: with a known rule ID it must compile, with a misspelt one it
// must not (rule() checks the registry at compile time).
#include "lint/rule_registry.h"

#ifndef RULE_ID
#error "define RULE_ID"
#endif

constexpr auto kRule = smpack::lint_internal::rule(RULE_ID);
static_assert(kRule.id() == RULE_ID);
