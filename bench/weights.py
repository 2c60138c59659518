"""Weight files for the benchmarks: safetensors, which smpack's lint gate reads and passes
(raw bytes under a loader's name such as model.bin are refused as weights-unknown-format)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np


def safetensors_header(dtype: str, count: int) -> bytes:
    """The length prefix and JSON header of a file holding one 1-D tensor `weight` of
    `count` elements of `dtype` ("F32" or "BF16"), padded to 8 bytes as the format asks."""
    width = {"F32": 4, "BF16": 2}[dtype]
    header = json.dumps({"weight": {"dtype": dtype, "shape": [count],
                                    "data_offsets": [0, count * width]}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header


def write_safetensors(path: Path, values: np.ndarray) -> None:
    """float32 values as F32; uint16 values as the top halves of float32s (BF16)."""
    dtype = {np.dtype(np.float32): "F32", np.dtype(np.uint16): "BF16"}[values.dtype]
    with open(path, "wb") as f:
        f.write(safetensors_header(dtype, values.size))
        values.tofile(f)
