// Keras models: the v3 archive (.keras, a zip of metadata.json, config.json and
// model.weights.h5), whose config.json may hold Lambda layers, that is marshalled Python
// bytecode which keras.models.load_model runs with safe_mode=False (and refuses with the
// default safe_mode=True); and HDF5 (.h5), which smpack does not parse.
#pragma once

#include <span>

#include "smpack/byte_source.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"
#include "smpack/weight_scan.h"
#include "smpack/zip_reader.h"

namespace smpack {

// A zip whose root holds config.json beside metadata.json or model.weights.h5.
bool is_keras_zip(const ZipDirectory& directory);

// Reads config.json (up to 16 MiB, JSON nested at most 128 deep) and reports each
// Lambda layer; checks the CRCs like the other zip inspectors.
Result<void> inspect_keras_zip(const ByteSource& source, const ZipDirectory& directory,
                               const WeightScanLimits& limits, WeightFileReport& report);

// The HDF5 signature at the start of the file.
bool looks_like_hdf5(std::span<const std::byte> head);

}  // namespace smpack
