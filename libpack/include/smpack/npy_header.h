// The header of NumPy's .npy format (numpy/lib/format.py), read for the weight analysis
// and for request bodies of the serving harness:
//   "\x93NUMPY", major, minor, header length (2 bytes for 1.0, 4 for 2.0/3.0), then a
//   Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   padded with spaces and '\n', then the array data.
// Arrays of dtype object store a pickle instead of data: np.load(allow_pickle=True)
// runs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smpack/result.h"

namespace smpack {

inline constexpr std::size_t kNpyPreambleBytes = 12;  // enough for every version's length

struct NpyHeader {
  int major_version = 0;
  std::string descr;  // the dtype as written ('<f4'); empty for a structured dtype
  bool structured = false;
  bool object = false;           // an object dtype however spelled, or a structured one holding one
  std::string dtype_name;        // "float32", "object", "structured", or descr when unknown
  std::uint64_t item_bytes = 0;  // 0: unknown (structured, or a type not sized here)
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
  std::uint64_t data_offset = 0;  // preamble plus header: where the data starts
};

bool looks_like_npy(std::span<const std::byte> head);

// Where the data starts, from the first kNpyPreambleBytes (or fewer, if the file is that
// short). Error::bad_input naming what is wrong when it is not an .npy preamble.
Result<std::uint64_t> npy_data_offset(std::span<const std::byte> preamble);

// Parses the preamble and header held in `bytes` (at least npy_data_offset of them).
// Error::bad_input naming what is malformed.
Result<NpyHeader> parse_npy_header(std::span<const std::byte> bytes);

// The product of the shape, or nullopt when it overflows 64 bits.
std::optional<std::uint64_t> npy_element_count(const NpyHeader& header);

}  // namespace smpack
