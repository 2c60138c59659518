// NumPy's .npy and .npz files (numpy/lib/format.py).
//   .npy: "\x93NUMPY", major, minor, header length (2 bytes for 1.0, 4 for 2.0/3.0),
//         then a Python dict literal {'descr': '<f4', 'fortran_order': False,
//         'shape': (2, 3), } padded with spaces and '\n', then the array data.
//         Arrays of dtype object ('|O') store a pickle instead of data: np.load with
//         allow_pickle=True runs it, so it is analysed like any pickle.
//   .npz: a zip of <name>.npy members.
#pragma once

#include <cstddef>
#include <span>

#include "smpack/byte_source.h"
#include "smpack/npy_header.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"
#include "smpack/weight_scan.h"
#include "smpack/zip_reader.h"

namespace smpack {

// A zip whose entries all end in ".npy".
bool is_npz(const ZipDirectory& directory);

// Adds the array (named `array_name`) to `report`, or its pickle's analysis for object
// arrays. Does not set report.format. Error only when the source fails.
Result<void> inspect_npy(const ByteSource& source, std::string_view array_name,
                         const WeightScanLimits& limits, WeightFileReport& report);

// Inspects each member of an .npz; `directory` must come from `source`.
Result<void> inspect_npz(const ByteSource& source, const ZipDirectory& directory,
                         const WeightScanLimits& limits, WeightFileReport& report);

}  // namespace smpack
