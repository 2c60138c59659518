// Python identifier normalisation: CPython applies NFKC to every non-ASCII identifier, so a
// handler spelled `ｍｏｄｅｌ_fn` or `𝐦odel_fn` binds the attribute `model_fn`.
//
// Coverage: a table of every code point that may appear in an identifier and whose NFKC
// form is ASCII letters, digits or `_` (930 code points, generated from CPython 3.11's
// unicodedata), among them fullwidth forms U+FF01..U+FF5E, the mathematical alphanumerics
// U+1D400..U+1D7FF and the letter-like symbols they borrow (ℎ, ℯ, ℂ, ...), ligatures such
// as U+FB01 "ﬁ", ſ, modifier (superscript/subscript) letters such as ᵃ and ₐ, and Roman
// numerals. Superscript and subscript digits are not identifier characters: CPython refuses
// them, and so does is_refused_ascii_lookalike below.
// Other non-ASCII code points are kept as they are (no canonical composition), which is
// exact for every identifier whose NFKC form is ASCII; other identifiers keep a spelling that
// never equals an ASCII name, which is all the handler checks need.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smpack {

// The NFKC form of a UTF-8 identifier, under the coverage above. Invalid UTF-8 bytes are
// kept as they are. Never fails.
std::string normalize_python_identifier(std::string_view utf8);

// True for the code points whose NFKC form is ASCII but that Python refuses in identifiers
// (superscript and subscript digits, circled letters, unit signs such as U+338F): `x² = 1`
// is a SyntaxError in CPython, not `x2 = 1`.
bool is_refused_ascii_lookalike(std::uint32_t code_point);

}  // namespace smpack
