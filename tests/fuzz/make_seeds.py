#!/usr/bin/env python3
"""Writes seed corpora for the weight-file fuzz targets into OUT_DIR:
OUT_DIR/fuzz_pickle, OUT_DIR/fuzz_zip_reader and OUT_DIR/fuzz_safetensors.

The seeds are the files tests/cli/test_weights_oracles.py builds (real torch state
dicts, TorchScript, legacy checkpoints, numpy files, hostile pickles and broken zips,
and every safetensors case), so the fuzzers start from what the tests know.
Run with the project's venv: .venv/bin/python tests/fuzz/make_seeds.py OUT_DIR"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
import test_weights_oracles as cases  # noqa: E402


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    targets = {name: out / name for name in ("fuzz_pickle", "fuzz_zip_reader", "fuzz_safetensors")}
    for directory in targets.values():
        directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for path, case in cases.make_pickle_cases(Path(tmp)):
            data = path.read_bytes()
            if data.startswith(b"PK"):
                (targets["fuzz_zip_reader"] / case.name).write_bytes(data)
                try:
                    with zipfile.ZipFile(path) as archive:
                        for index, name in enumerate(archive.namelist()):
                            if name.endswith(".pkl"):
                                member = f"{case.name}.{index}.pkl"
                                (targets["fuzz_pickle"] / member).write_bytes(archive.read(name))
                except zipfile.BadZipFile:
                    pass  # the broken-zip cases: seeds for the zip reader only
            else:
                (targets["fuzz_pickle"] / case.name).write_bytes(data)
    for name, (data, _) in cases.SAFETENSORS_CASES.items():
        (targets["fuzz_safetensors"] / name).write_bytes(data)
    for name, directory in targets.items():
        print(f"{name}: {sum(1 for _ in directory.iterdir())} seeds in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
