// Python identifier normalisation: CPython applies NFKC to every non-ASCII identifier, so a
// handler spelled `ｍｏｄｅｌ_fn` or `𝐦odel_fn` binds the attribute `model_fn`.
//
// Coverage (a table, not full Unicode NFKC): the compatibility characters that decompose
// to ASCII letters, digits or `_`:
//   - fullwidth forms U+FF01..U+FF5E;
//   - mathematical alphanumeric symbols U+1D400..U+1D6A3 (Latin) and U+1D7CE..U+1D7FF
//     (digits), and the letter-like symbols they borrow (U+2102 ℂ, U+210E ℎ, U+212F ℯ, ...);
//   - Latin ligatures U+FB00..U+FB06 (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) and ſ (U+017F);
//   - superscript and subscript digits and letters (U+00B2, U+00B3, U+00B9, U+2070..U+209C,
//     U+1D2C..U+1D6A, U+02B0..U+02E3, ª º) and Roman numerals U+2160..U+217F.
// Other non-ASCII code points are kept as they are (no canonical composition), which is
// exact for every identifier whose NFKC form is ASCII and for ASCII identifiers.
#pragma once

#include <string>
#include <string_view>

namespace smpack {

// The NFKC form of a UTF-8 identifier, under the coverage above. Invalid UTF-8 bytes are
// kept as they are. Never fails.
std::string normalize_python_identifier(std::string_view utf8);

}  // namespace smpack
