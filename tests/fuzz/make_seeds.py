#!/usr/bin/env python3
"""Writes a seed corpus for every fuzz target into OUT_DIR/<target>.

Weight targets get the files tests/cli/test_weights_oracles.py builds (real torch
state dicts, TorchScript, legacy checkpoints, numpy files, hostile pickles and broken
zips, and every safetensors case); the archive reader gets tar and tar.gz files of
several formats, with hostile names and links; the handler scanner the handler corpus
and the templates; the requirements parser the templates' requirements files.
Run with the project's venv: .venv/bin/python tests/fuzz/make_seeds.py OUT_DIR"""

from __future__ import annotations

import gzip
import io
import shutil
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
import test_weights_oracles as cases  # noqa: E402


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    targets = {name: out / name for name in ("fuzz_pickle", "fuzz_zip_reader", "fuzz_safetensors",
                                             "fuzz_archive_reader", "fuzz_handler_scan",
                                             "fuzz_requirements", "fuzz_weight_stream",
                                             "fuzz_gzip_splice", "fuzz_parallel_inflate")}
    for directory in targets.values():
        directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for path, case in cases.make_pickle_cases(Path(tmp)):
            data = path.read_bytes()
            # fuzz_weight_stream: three bytes choose its windows and piece size.
            (targets["fuzz_weight_stream"] / case.name).write_bytes(bytes([0, 4, 10]) + data)
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
    write_archive_seeds(targets["fuzz_archive_reader"])
    write_splice_seeds(targets["fuzz_gzip_splice"])
    write_parallel_inflate_seeds(targets["fuzz_parallel_inflate"])
    for source in [*(ROOT / "tests/handler_corpus").glob("*.py"), *(ROOT / "templates").rglob("*.py")]:
        shutil.copy(source, targets["fuzz_handler_scan"] / f"{source.parent.name}_{source.name}")
    for source in (ROOT / "templates").rglob("requirements*.txt"):
        shutil.copy(source, targets["fuzz_requirements"] / f"{source.parent.name}_{source.name}")
    (targets["fuzz_requirements"] / "options.txt").write_text(
        "-r other.txt\n-c constraints.txt\n--index-url https://x/simple\n"
        "torch==2.1.0 ; python_version >= '3.8'\nnumpy>=1.24,<2 \\\n  --hash=sha256:00\n"
        "git+https://github.com/a/b@v1#egg=b\n./local/pkg\n${TOKEN}\n")
    for name, directory in targets.items():
        print(f"{name}: {sum(1 for _ in directory.iterdir())} seeds in {directory}")
    return 0


def write_splice_seeds(directory: Path) -> None:
    """Gzip members of every block kind; the last byte of a seed chooses the cut."""
    import gzip
    import random
    import zlib

    text = b"".join(b'{"layer_%d": [%d]},\n' % (i % 97, i * 7 % 101) for i in range(3000))

    def deflated(level: int, data: bytes, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> bytes:
        c = zlib.compressobj(level, zlib.DEFLATED, 31, 8, strategy)
        return c.compress(data) + c.flush()

    noise = random.Random(0).randbytes(70000)
    flushed = zlib.compressobj(6, zlib.DEFLATED, 31)
    many_blocks = b"".join(flushed.compress(text[i:i + 100]) + flushed.flush(zlib.Z_SYNC_FLUSH)
                           for i in range(0, len(text), 100)) + flushed.flush()
    seeds = {"text-level6": deflated(6, text) + b"\x80", "text-level1": deflated(1, text) + b"\x40",
             "stored": gzip.compress(text, 0, mtime=0) + b"\xc0",
             "huffman-only": deflated(6, noise, zlib.Z_HUFFMAN_ONLY) + b"\x7f",
             "fixed": deflated(9, b"abc" * 100, zlib.Z_FIXED) + b"\xff",
             "empty": gzip.compress(b"", mtime=0) + b"\x10", "sync-flushed": many_blocks + b"\x99"}
    for name, data in seeds.items():
        (directory / name).write_bytes(data)


def write_parallel_inflate_seeds(directory: Path) -> None:
    """Gzip files of several 4 KiB chunks: weights, text, two members, many blocks."""
    import gzip
    import random
    import struct
    import zlib

    rng = random.Random(1)
    floats = struct.pack("<12000f", *(rng.gauss(0, 0.02) for _ in range(12000)))
    text = b"".join(b"layer.%d.weight = %d\n" % (rng.randrange(900), rng.randrange(10))
                    for _ in range(4000))
    flushed = zlib.compressobj(6, zlib.DEFLATED, 31)
    many_blocks = b"".join(flushed.compress(floats[i:i + 2000]) + flushed.flush(zlib.Z_FULL_FLUSH)
                           for i in range(0, 24000, 2000)) + flushed.flush()
    seeds = {"floats-level6": gzip.compress(floats, 6, mtime=0),
             "floats-level1": gzip.compress(floats, 1, mtime=0),
             "text-level9": gzip.compress(text, 9, mtime=0),
             "two-members": gzip.compress(floats[:20000], 6, mtime=0) + gzip.compress(text, 6, mtime=0),
             "full-flushed": many_blocks}
    for name, data in seeds.items():
        (directory / name).write_bytes(data)


def tar_bytes(fmt: int, members: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(b"w" * info.size) if info.isfile() else None)
    return buffer.getvalue()


def write_archive_seeds(directory: Path) -> None:
    def member(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.type, info.linkname = size, kind, link
        return info

    members = [member("model.pt", 700), member("code", kind=tarfile.DIRTYPE),
               member("code/inference.py", 40), member("lnk", kind=tarfile.SYMTYPE, link="model.pt"),
               member("../up", 3), member("h", kind=tarfile.LNKTYPE, link="model.pt"),
               member("d/" + "long" * 40 + ".bin", 5)]
    for label, fmt in (("ustar", tarfile.USTAR_FORMAT), ("gnu", tarfile.GNU_FORMAT),
                       ("pax", tarfile.PAX_FORMAT)):
        try:
            data = tar_bytes(fmt, members)
        except ValueError:  # ustar cannot hold the long name
            data = tar_bytes(fmt, members[:-1])
        (directory / f"{label}.tar").write_bytes(data)
        (directory / f"{label}.tar.gz").write_bytes(gzip.compress(data, mtime=0))
    # Two gzip members, as smpack and pigz write them.
    data = tar_bytes(tarfile.PAX_FORMAT, members[:3])
    (directory / "multi.tar.gz").write_bytes(gzip.compress(data[:1024], mtime=0) +
                                             gzip.compress(data[1024:], mtime=0))


if __name__ == "__main__":
    sys.exit(main())
