// Python's repr of a float (float_repr_style 'short'), which json.dumps writes and
// str(numpy.float64) matches: the shortest digits that read back to the same double,
// positional for exponents -4 to 15 ("0.0001", "1234.5", "3.0"), scientific outside
// them with a signed exponent of at least two digits ("1e-05", "1.5e+16").
#pragma once

#include <string>

namespace smpack::harness {

// NaN and infinities as Python's repr spells them: "nan", "inf", "-inf".
std::string python_float_repr(double value);

}  // namespace smpack::harness
