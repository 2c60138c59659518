"""Every reading command on every kind of wrong or damaged file: missing, zip, garbage,
empty, truncated, trailing bytes, xz/bzip2/zstd, and a flipped bit anywhere in an smpack
archive. A clear error and exit 3, never a crash."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import build_archive, make_model_dir, run_smpack
from archive_fixtures import (EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, built, gzip_members, read_index,
                              tar_of)

# ----------------------------------------------------------------------------
# Unreadable input: every reading command, every kind of wrong file
# ----------------------------------------------------------------------------

# command -> argv that makes it read ARCHIVE (`dest`: an extraction directory;
# `good`: an intact archive for the other side of a diff).
READERS = {
    "ls": lambda archive, dest, good: ["ls", archive],
    "info": lambda archive, dest, good: ["info", archive],
    "verify": lambda archive, dest, good: ["verify", archive],
    "digest": lambda archive, dest, good: ["digest", archive],
    "cat": lambda archive, dest, good: ["cat", archive, "config.json"],
    "extract": lambda archive, dest, good: ["extract", archive, "-C", dest],
    "diff": lambda archive, dest, good: ["diff", archive, good],
}


@pytest.fixture(scope="module")
def small_tar(tmp_path_factory) -> bytes:
    base = tmp_path_factory.mktemp("small")
    src = make_model_dir(base, weights_bytes=64 << 10)
    return gzip.decompress(build_archive(src, base / "small.tar.gz").read_bytes())


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("model.bin", b"x" * 100)
    return buffer.getvalue()


def _wrong_files(tar_bytes: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (file content, a phrase the error must contain)."""
    gzipped = gzip.compress(tar_bytes)
    return {
        "zip": (_zip_bytes(), "zip archive"),
        "garbage": (b"this is not an archive at all\n" * 50, "unrecognised data"),
        "empty": (b"", "empty"),
        "gzip-of-text": (gzip.compress(b"hello world\n" * 100), "Unrecognized archive format"),
        "zstd-magic-only": (b"\x28\xb5\x2f\xfd" + bytes(64), "zstd"),
        "truncated-gzip": (gzipped[: len(gzipped) // 2], "truncated"),
        "gzip-trailing-garbage": (gzipped + b"GARBAGE!", "trailing data"),
    }


WRONG_KINDS = list(_wrong_files(b""))


@pytest.mark.parametrize("command", READERS)
def test_a_missing_archive_exits_3_naming_the_path(tmp_path, command, built):
    missing = tmp_path / "no-such.tar.gz"
    result = run_smpack(*READERS[command](missing, tmp_path / "dest", built.archive))
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert f"{missing}: cannot open: No such file or directory" in result.stderr
    assert result.stderr.count(str(missing)) == 1, result.stderr  # named once, not "x: x: ..."
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["build", "{m}", "-o", "{o}"], ["stage", "{m}", "--code", "{c}"],
                                     ["lint", "{m}"], ["info", "{m}"], ["digest", "{m}"]],
                         ids=lambda c: c[0])
def test_a_missing_model_directory_exits_3_naming_it_once(tmp_path, command):
    missing = tmp_path / "nodir"
    (tmp_path / "code").mkdir()
    args = [a.format(m=missing, o=tmp_path / "o.tar.gz", c=tmp_path / "code") for a in command]
    result = run_smpack(*args)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert result.stderr.count(str(missing)) == 1, result.stderr


@pytest.mark.parametrize("kind", WRONG_KINDS)
@pytest.mark.parametrize("command", READERS)
def test_a_wrong_file_named_tar_gz_exits_3_saying_what_it_is(tmp_path, small_tar, built, kind, command):
    content, phrase = _wrong_files(small_tar)[kind]
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(content)
    result = run_smpack(*READERS[command](archive, tmp_path / "dest", built.archive))
    assert result.returncode == EXIT_BAD_INPUT, (result.stdout, result.stderr)
    assert str(archive) in result.stderr and phrase in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def test_a_plain_uncompressed_tar_is_read(tmp_path, small_tar):
    archive = tmp_path / "plain.tar.gz"
    archive.write_bytes(small_tar)
    with tarfile.open(fileobj=io.BytesIO(small_tar)) as tar:
        names = tar.getnames()
    ls = run_smpack("ls", archive)
    assert ls.returncode == EXIT_OK and [n.rstrip("/") for n in ls.stdout.splitlines()] == names
    info = json.loads(run_smpack("info", "--json", archive).stdout)
    assert info["container"] == "tar"
    assert run_smpack("verify", archive).returncode == EXIT_OK


@pytest.mark.parametrize("codec", ["xz", "bzip2", "zstd"])
def test_an_xz_bzip2_or_zstd_tar_named_tar_gz_exits_3(tmp_path, small_tar, codec):
    archive = tmp_path / "model.tar.gz"
    if codec == "xz":
        archive.write_bytes(lzma.compress(small_tar))
    elif codec == "bzip2":
        archive.write_bytes(bz2.compress(small_tar))
    else:
        if not shutil.which("zstd"):
            pytest.skip("no zstd command")
        archive.write_bytes(subprocess.run(["zstd", "-q", "-c"], input=small_tar, capture_output=True,
                                           check=True).stdout)
    result = run_smpack("verify", archive)
    assert result.returncode == EXIT_BAD_INPUT
    assert codec in result.stderr


# ----------------------------------------------------------------------------
# Corruption: a flipped bit anywhere in an smpack archive is caught, never crashes
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flip_target(tmp_path_factory):
    """A small smpack archive with several gzip members per file (4 KiB chunks)."""
    base = tmp_path_factory.mktemp("flip")
    src = make_model_dir(base, weights_bytes=24 << 10, with_code=True)
    archive = build_archive(src, base / "flip.tar.gz", "--chunk-size", "4096")
    return base, archive.read_bytes()


def _flip_positions(data: bytes, seed: int = 7) -> list[int]:
    """Header and trailer bytes of every gzip member before the trailer, plus a few inside each."""
    rng = random.Random(seed)
    positions = set()
    for offset, length in gzip_members(data)[:-1]:
        positions.update(range(offset, offset + min(length, 12)))
        positions.update(range(offset + length - 8, offset + length))
        positions.update(rng.randrange(offset, offset + length) for _ in range(3))
    return sorted(positions)


def _run_flipped(base: Path, data: bytes, positions, command=("verify",)):
    outcomes = {}
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 0x01
        path = base / "flipped.tar.gz"
        path.write_bytes(flipped)
        args = [*command, path] if command[0] != "extract" else ["extract", path, "-C", base / f"x{pos}"]
        result = run_smpack(*args)
        assert "internal error" not in result.stderr, (pos, result.stderr)
        outcomes[pos] = result.returncode
    return outcomes


def test_verify_catches_a_flipped_bit_in_any_member(flip_target):
    base, data = flip_target
    outcomes = _run_flipped(base, data, _flip_positions(data))
    assert len(outcomes) > 150
    missed = {pos: rc for pos, rc in outcomes.items() if rc not in (EXIT_FINDINGS, EXIT_BAD_INPUT)}
    assert missed == {}


@pytest.mark.parametrize("command", [("ls", "-l"), ("info",), ("extract",)], ids=lambda c: c[0])
def test_reading_a_corrupt_archive_never_crashes(flip_target, command):
    base, data = flip_target
    positions = _flip_positions(data, seed=11)[::4]
    outcomes = _run_flipped(base, data, positions, command)
    assert set(outcomes.values()) <= {EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT}


def test_verify_catches_a_flipped_bit_in_the_trailer(flip_target):
    base, data = flip_target
    outcomes = _run_flipped(base, data, range(len(data) - 66, len(data)))
    assert {pos: rc for pos, rc in outcomes.items() if rc == EXIT_OK} == {}


# ----------------------------------------------------------------------------


def test_streamed_and_indexed_reads_number_a_damaged_gzip_member_alike(tmp_path):
    """Both readers count gzip members from 0, as the smpack index does."""
    src = make_model_dir(tmp_path, weights_bytes=64 << 10)
    archive = build_archive(src, tmp_path / "m.tar.gz", "--chunk-size", "4096")
    data = bytearray(archive.read_bytes())
    index, _ = read_index(bytes(data))
    entry = next(e for e in index["entries"] if e["path"] == "model.bin")
    damaged_member = entry["member"] + 3
    file_offset, file_bytes, _, _ = index["members"][damaged_member]
    data[file_offset + file_bytes - 6] ^= 0x01  # its CRC-32
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    streamed = run_smpack("verify", damaged)
    indexed = run_smpack("cat", damaged, "model.bin", binary=True)
    assert streamed.returncode == EXIT_BAD_INPUT and indexed.returncode == EXIT_BAD_INPUT
    assert f"gzip member {damaged_member}" in streamed.stderr, streamed.stderr
    assert f"gzip member {damaged_member}".encode() in indexed.stderr, indexed.stderr


def test_damage_that_inflates_into_a_broken_tar_header_is_corrupt_gzip_data(tmp_path):
    """Level 0 keeps the tar bytes as they are: a flipped byte in a member header breaks
    the header long before the gzip CRC is reached, and the CRC is still what is wrong."""
    weights = random.Random(3).randbytes(256 << 10)
    tar = tar_of([("model.bin", weights), ("config.json", b'{"model_type": "test"}\n')])
    stored = bytearray(gzip.compress(tar, compresslevel=0, mtime=0))
    stored[stored.index(b"config.json") + 2] ^= 0x01
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(stored))
    for command in ("verify", "ls", "digest"):
        result = run_smpack(command, damaged)
        assert result.returncode == EXIT_BAD_INPUT, (command, result.stderr)
        assert f"{damaged}: corrupt gzip data" in result.stderr, (command, result.stderr)


def test_a_broken_tar_header_in_an_intact_gzip_stream_is_reported_as_tar_damage(tmp_path):
    tar = bytearray(tar_of([("model.bin", bytes(4096)), ("config.json", b"{}\n")]))
    tar[tar.index(b"config.json") + 2] ^= 0x01
    archive = tmp_path / "broken-tar.tar.gz"
    archive.write_bytes(gzip.compress(bytes(tar), mtime=0))
    result = run_smpack("verify", archive)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert "after member 'model.bin'" in result.stderr, result.stderr
    assert "corrupt gzip data" not in result.stderr, result.stderr


def test_bytes_inflated_after_the_tar_end_are_held_to_the_ratio_cap(tmp_path):
    """A small tar followed by 300 MiB of zeros in about 300 KiB: the tail is inflated only
    until the expansion cap, not to its end."""
    tar = tar_of([("config.json", b"{}\n")])
    archive = tmp_path / "tail-bomb.tar.gz"
    with open(archive, "wb") as raw, gzip.GzipFile(
        fileobj=raw, mode="wb", compresslevel=9, mtime=0
    ) as out:
        out.write(tar)
        for _ in range(300):
            out.write(bytes(1 << 20))
    result = run_smpack("verify", archive)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert "compression ratio cap" in result.stderr, result.stderr
