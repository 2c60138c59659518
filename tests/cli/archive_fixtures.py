"""Archives and oracles shared by the command suites: the `built` fixture (a model, its
code and the archive smpack builds of them) and reference implementations of the format
(docs/format.md) in plain Python."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import struct
import tarfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import build_archive, make_code_dir, make_model_dir, run_smpack, sha256_hex, tree_contents

DEFAULT_MTIME = 315532800  # 1980-01-01T00:00:00Z, docs/format.md
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# Names whose canonical (component-wise) order differs from plain string order:
# "a/b.txt" sorts before "a-b.txt" although '-' < '/'.
ORDER_PROBES = {"a/b.txt": "b\n", "a-b.txt": "dash\n", "a.txt": "dot\n"}


# ----------------------------------------------------------------------------
# Oracles
# ----------------------------------------------------------------------------


def tar_of(members: list[tuple[str, bytes]], fmt=tarfile.GNU_FORMAT, root: bool = False) -> bytes:
    """A tar as Python's tarfile writes it (another tool's archive), with "./" first if `root`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        if root:
            info = tarfile.TarInfo("./")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def normalised_mode(path: Path) -> int:
    if path.is_dir() or os.stat(path).st_mode & 0o111:
        return 0o755
    return 0o644


def expected_entries(src: Path, code: Path | None) -> list[dict]:
    """What `build SRC --code CODE` must store, in canonical order (docs/format.md)."""
    entries = []
    roots = [(src, "")] + ([(code, "code/")] if code else [])
    for root, prefix in roots:
        if prefix:
            entries.append({"path": "code", "type": "directory", "mode": 0o755, "size": 0, "sha256": ""})
        for path in root.rglob("*"):
            rel = prefix + path.relative_to(root).as_posix()
            if path.is_dir():
                entries.append({"path": rel, "type": "directory", "mode": 0o755, "size": 0, "sha256": ""})
            else:
                data = path.read_bytes()
                entries.append(
                    {"path": rel, "type": "file", "mode": normalised_mode(path), "size": len(data),
                     "sha256": sha256_hex(data)}
                )

    def canonical(entry):
        parts = entry["path"].encode().split(b"/")
        return (parts[0] == b"code", parts)

    return sorted(entries, key=canonical)


def content_digest(entries: list[dict]) -> str:
    """The content digest as docs/format.md defines it."""
    lines = b""
    for e in sorted(entries, key=lambda e: e["path"].encode()):
        sha = e["sha256"] or "-"
        lines += f"{e['type']} {e['mode']:04o} {e['size']} {sha} {e['path']}\n".encode()
    return hashlib.sha256(lines).hexdigest()


def s3_etag(data: bytes, part: int) -> str:
    if len(data) <= part:
        return hashlib.md5(data).hexdigest()
    digests = b"".join(hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part))
    return f"{hashlib.md5(digests).hexdigest()}-{-(-len(data) // part)}"


def expected_tree(src: Path, code: Path | None) -> dict[str, bytes | None]:
    tree = tree_contents(src)
    if code:
        tree["code"] = None
        tree.update({f"code/{k}": v for k, v in tree_contents(code).items()})
    return tree


def gzip_members(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every gzip member, found by decoding with zlib."""
    members, offset = [], 0
    while offset < len(data):
        decoder = zlib.decompressobj(wbits=31)
        decoder.decompress(data[offset:])
        assert decoder.eof, f"gzip member at {offset} does not end"
        length = len(data) - offset - len(decoder.unused_data)
        members.append((offset, length))
        offset += length
    return members


def count_gzip_members(data: bytes) -> int:
    """The gzip members of a multi-member file, decoded one after another by zlib."""
    count = 0
    while data:
        decoder = zlib.decompressobj(wbits=31)
        decoder.decompress(data)
        assert decoder.eof, "a truncated gzip member"
        data = decoder.unused_data
        count += 1
    return count


def read_index(data: bytes) -> tuple[dict, int]:
    """Parses the smpack index by the grammar of docs/format.md; returns (JSON, first index offset)."""
    trailer = data[-66:]
    assert trailer[:4] == b"\x1f\x8b\x08\x04" and trailer[12:14] == b"SX"
    magic, version, json_crc, index_offset, index_bytes, json_bytes = struct.unpack(
        "<8sIIQQQ", trailer[16:56]
    )
    assert (magic, version) == (b"SMPACKIX", 1)
    assert index_offset + index_bytes == len(data) - 66
    text, pos = b"", index_offset
    while pos < index_offset + index_bytes:
        xlen = struct.unpack("<H", data[pos + 10 : pos + 12])[0]
        assert data[pos + 12 : pos + 14] == b"SI"
        text += data[pos + 16 : pos + 12 + xlen]
        pos += 12 + xlen + 10  # header, extra, "03 00", CRC-32, ISIZE
    assert len(text) == json_bytes and zlib.crc32(text) == json_crc
    return json.loads(text), index_offset


# ----------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A model (weights, configs, an executable, names probing the order) built with --code."""
    base = tmp_path_factory.mktemp("foundation")
    src = make_model_dir(base, extra={"run.sh": "#!/bin/sh\necho hi\n", **ORDER_PROBES})
    (src / "run.sh").chmod(0o700)  # any execute bit -> 0755
    (src / "config.json").chmod(0o600)  # no execute bit -> 0644
    code = make_code_dir(base)
    archive, manifest = base / "model.tar.gz", base / "manifest.json"
    result = run_smpack("build", src, "-o", archive, "--code", code, "--manifest", manifest)
    assert result.returncode == EXIT_OK, result.stderr
    entries = expected_entries(src, code)
    return SimpleNamespace(base=base, src=src, code=code, archive=archive, manifest=manifest,
                           result=result, entries=entries, digest=content_digest(entries))


def _other_archive(built, name: str, **changes) -> Path:
    """A copy of the built model with files changed/added/removed/chmodded, built again."""
    src = built.base / f"src-{name}"
    shutil.copytree(built.src, src)
    for rel, content in changes.get("write", {}).items():
        (src / rel).write_text(content)
    for rel in changes.get("remove", []):
        (src / rel).unlink()
    for rel, mode in changes.get("chmod", {}).items():
        (src / rel).chmod(mode)
    return build_archive(src, built.base / f"{name}.tar.gz", "--code", built.code)
