// PyTorch checkpoints, as torch.load and torch.jit.load read them.
//
// Zip layout (torch.save >= 1.6, torch.jit.save): every record sits under one
// directory named by the first entry ("archive/"): data.pkl (the pickled object;
// tensors are persistent ids ('storage', <Type>Storage, key, location, numel)),
// data/<key> (numel x element size raw bytes each), version, optionally byteorder.
// TorchScript adds constants.pkl and code/ (Python source that torch.jit.load
// compiles and runs): it is code, never "weights".
// Legacy (torch.save before 1.6): five pickles in a row (magic number
// 0x1950a86a20f9469cfc6c, protocol version, sys_info, the object, the sorted storage
// keys), then per key an 8-byte little-endian numel and the raw data. Older still:
// a tar with sys_info, pickle, storages and tensors members.
#pragma once

#include <cstddef>
#include <span>

#include "smpack/byte_source.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"
#include "smpack/weight_scan.h"
#include "smpack/zip_reader.h"

namespace smpack {

// A zip whose entries include <dir>/data.pkl, <dir>/constants.pkl or <dir>/code/.
bool is_torch_zip(const ZipDirectory& directory);

// Fills `report` (format, verdict, globals, tensors, problems) for a zip that
// is_torch_zip accepted; `directory` must come from the same source. Error only when
// the source fails.
Result<void> inspect_torch_zip(const ByteSource& source, const ZipDirectory& directory,
                               const WeightScanLimits& limits, WeightFileReport& report);

// The legacy magic-number stream or the legacy tar, from a file's first bytes.
bool looks_like_torch_legacy(std::span<const std::byte> head);

// Fills `report` for a legacy checkpoint. Error only when the source fails.
Result<void> inspect_torch_legacy(const ByteSource& source, const WeightScanLimits& limits,
                                  WeightFileReport& report);

}  // namespace smpack
