// Names and messages that come from untrusted archives, made safe to print: every
// client (CLI text, lint text, error messages, Python reprs) shows them through this
// one rule, so a hostile member name cannot move the cursor, retitle a terminal, ring
// its bell or forge an output line. JSON and SARIF carry the exact names instead,
// escaped by the JSON encoder's own rules.
#pragma once

#include <string>
#include <string_view>

namespace smpack {

// Control characters (C0, DEL, C1), backslashes and bytes that are not valid UTF-8
// become \xNN, byte by byte; other valid UTF-8 is kept as it is.
std::string escape_for_terminal(std::string_view text);

}  // namespace smpack
