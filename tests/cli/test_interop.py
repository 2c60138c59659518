"""Interoperability, both ways, and reproducibility.

smpack's archives are read by GNU tar, bsdtar, gzip, pigz, zlib and Python's
tarfile (with the PEP 706 "data" filter); archives written by GNU tar, bsdtar,
Python tarfile (pax and GNU formats) and the SageMaker SDK's own repack_model are
read by smpack ls/cat/info/verify/extract/diff. Content is compared byte for byte
with the source tree; the other tools are the oracles.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import types
import zlib
from pathlib import Path

import numpy as np
import pytest

from archive_fixtures import gzip_members
from conftest import (build_archive, generate_weights, make_code_dir, make_model_dir, run_smpack, tree_contents,
                      write_files)

MTIME = 1700000000  # 2023-11-14T22:13:20Z
LONG_NAME = "nested/" + "deep_directory_name_" * 6 + "/权重_ünïcødé_weights.txt"  # > 100 bytes, non-ASCII
assert len(LONG_NAME.encode()) > 100


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed")
    return path


def _run(*cmd, **kw) -> subprocess.CompletedProcess:
    # A UTF-8 locale, so tar and bsdtar list non-ASCII names as they are, not escaped.
    env = dict(os.environ, LC_ALL="C.UTF-8")
    result = subprocess.run([str(c) for c in cmd], capture_output=True, env=env, **kw)
    assert result.returncode == 0, (cmd, result.stderr)
    return result


def _model(base: Path) -> Path:
    """Weights (float32 and bfloat16), configs, a long non-ASCII path, an empty file
    and an executable, with modes already what smpack normalises to (so digests can
    match)."""
    src = make_model_dir(base, weights_bytes=3 << 20, with_code=True,
                         extra={LONG_NAME: b"long name payload\n" * 10, "empty.txt": b"",
                                "bin/run.sh": "#!/bin/sh\nexit 0\n",
                                "model-bf16.safetensors": generate_weights(2 << 20, "bfloat16", seed=1),
                                "tokenizer/merges.txt": "".join(f"merge a{i} b{i}\n" for i in range(12000))})
    (src / "bin/run.sh").chmod(0o755)
    return src


def _smpack_paths(archive: Path) -> list[str]:
    result = run_smpack("ls", "--json", archive)
    assert result.returncode == 0, result.stderr
    return [entry["path"] for entry in json.loads(result.stdout)]


def _content_digest(archive: Path) -> str:
    result = run_smpack("digest", "--json", archive)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["content_digest"]


def _modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mode & 0o7777 for p in root.rglob("*")}


@pytest.fixture(scope="module")
def smpack_archive(tmp_path_factory):
    base = tmp_path_factory.mktemp("interop")
    src = _model(base)
    archive = build_archive(src, base / "model.tar.gz", "--mtime", str(MTIME))
    return types.SimpleNamespace(base=base, src=src, archive=archive, tree=tree_contents(src))


# ----------------------------------------------------------------------------
# smpack writes, others read
# ----------------------------------------------------------------------------


def _expected_modes(src: Path) -> dict[str, int]:
    return {rel: 0o755 if (src / rel).is_dir() or mode & 0o111 else 0o644 for rel, mode in _modes(src).items()}


def _check_extracted(dest: Path, src: Path, tree: dict):
    assert tree_contents(dest) == tree
    assert _modes(dest) == _expected_modes(src)
    mtimes = {p.relative_to(dest).as_posix(): int(p.stat().st_mtime) for p in dest.rglob("*")}
    assert set(mtimes.values()) == {MTIME}, mtimes


def test_smpack_archive_is_multi_member_gzip(smpack_archive):
    data = smpack_archive.archive.read_bytes()
    decoder = zlib.decompressobj(wbits=31)
    decoder.decompress(data)
    assert decoder.eof and len(decoder.unused_data) > 0, "more gzip members follow the first"
    assert gzip.decompress(data) == _run("gzip", "-dc", smpack_archive.archive).stdout


@pytest.mark.parametrize("tester", [["gzip", "-t"], ["pigz", "-t"]], ids=lambda t: t[0])
def test_gzip_tools_accept_the_archive(smpack_archive, tester):
    _run(_tool(tester[0]), *tester[1:], smpack_archive.archive)


def _gnu_tar_names(archive: Path) -> list[str]:
    """Member names exactly as stored, as GNU tar lists them."""
    listing = _run(_tool("tar"), "tzf", archive, "--quoting-style=literal", text=True).stdout
    return listing.splitlines()


def test_gnu_tar_lists_and_extracts(smpack_archive, tmp_path):
    tar = _tool("tar")
    names = _gnu_tar_names(smpack_archive.archive)
    assert [n.rstrip("/") for n in names] == _smpack_paths(smpack_archive.archive)
    assert all(n.endswith("/") == (smpack_archive.src / n).is_dir() for n in names)
    dest = tmp_path / "dest"
    dest.mkdir()
    _run(tar, "xzf", smpack_archive.archive, "-C", dest)
    _check_extracted(dest, smpack_archive.src, smpack_archive.tree)


def test_ls_json_stored_path_is_the_name_in_the_tar_header(smpack_archive):
    listing = json.loads(run_smpack("ls", "--json", smpack_archive.archive).stdout)
    assert [e["stored_path"] for e in listing] == _gnu_tar_names(smpack_archive.archive)


def test_bsdtar_lists_and_extracts(smpack_archive, tmp_path):
    bsdtar = _tool("bsdtar")
    names = _run(bsdtar, "-tzf", smpack_archive.archive, text=True).stdout.splitlines()
    assert [n.rstrip("/") for n in names] == _smpack_paths(smpack_archive.archive)
    dest = tmp_path / "dest"
    dest.mkdir()
    _run(bsdtar, "-xzf", smpack_archive.archive, "-C", dest)
    _check_extracted(dest, smpack_archive.src, smpack_archive.tree)


def _passes_pep706_data_filter(member: tarfile.TarInfo, dest: Path) -> bool:
    """What tarfile.data_filter accepts unchanged (Python < 3.11.4 lacks the filter):
    regular files and directories, relative names inside dest, no setuid/setgid/
    sticky bits and no group/other write bits."""
    inside = (dest / member.name).resolve().is_relative_to(dest.resolve())
    return ((member.isreg() or member.isdir()) and not member.name.startswith("/") and inside
            and member.mode & 0o7022 == 0)


def test_python_tarfile_extracts_with_the_data_filter(smpack_archive, tmp_path):
    dest = tmp_path / "dest"
    with tarfile.open(smpack_archive.archive) as tar:
        for member in tar.getmembers():
            assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
            assert member.mtime == MTIME
            assert _passes_pep706_data_filter(member, dest), member.name
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:
            tar.extractall(dest)
    _check_extracted(dest, smpack_archive.src, smpack_archive.tree)


def test_gzip_headers_carry_no_name_and_no_time(smpack_archive):
    data = smpack_archive.archive.read_bytes()
    assert data[:10] == bytes.fromhex("1f8b08000000000000ff")


def _members(data: bytes) -> list[tuple[bytes, bytes]]:
    """(raw deflate, content) of each gzip member: the bytes between its 10-byte header
    and its 8-byte trailer, and what they decode to."""
    return [(data[offset + 10:offset + length - 8], gzip.decompress(data[offset:offset + length]))
            for offset, length in gzip_members(data)]


def _is_huffman_only_block(deflate: bytes) -> bool:
    """A final dynamic-Huffman block (BFINAL 1, BTYPE 10) declaring two distance codes:
    the form docs/format.md gives level 1's weight chunks."""
    bits = int.from_bytes(deflate[:2], "little")
    return bits & 0b111 == 0b101 and (bits >> 8) & 0x1f == 1


def test_weight_chunks_take_the_huffman_only_form_and_text_does_not(smpack_archive):
    # So that the readers above are shown the weights in that form, and text in ISA-L's.
    members = _members(smpack_archive.archive.read_bytes())
    weights = [d for d, content in members if len(content) == 1 << 20]
    assert len(weights) >= 4, [len(c) for _, c in members]
    assert all(_is_huffman_only_block(d) for d in weights)
    # merges.txt is over 64 KiB: the probe, not the size alone, sends it to ISA-L.
    text = [(d, content) for d, content in members if b"merge a11999 b11999" in content]
    assert len(text) == 1 and len(text[0][1]) >= 64 << 10
    assert not _is_huffman_only_block(text[0][0])


# ----------------------------------------------------------------------------
# Others write, smpack reads
# ----------------------------------------------------------------------------


def _top_level(src: Path) -> list[str]:
    return sorted(os.listdir(src))


def _python_tar(out: Path, src: Path, fmt: int):
    with tarfile.open(out, "w:gz", format=fmt) as tar:
        for name in _top_level(src):
            tar.add(src / name, arcname=name)


# writer name -> (function(out, src), path prefix of the members)
FOREIGN_WRITERS = {
    "gnu-tar": (lambda out, src: _run(_tool("tar"), "czf", out, "-C", src, *_top_level(src)), ""),
    "gnu-tar-dot-prefix": (lambda out, src: _run(_tool("tar"), "czf", out, "-C", src, "."), ""),
    "gnu-tar-wrapping-folder": (
        lambda out, src: _run(_tool("tar"), "czf", out, "-C", src.parent, src.name), "model/"),
    "bsdtar": (lambda out, src: _run(_tool("bsdtar"), "-czf", out, "-C", src, "."), ""),
    "python-pax": (lambda out, src: _python_tar(out, src, tarfile.PAX_FORMAT), ""),
    "python-gnu": (lambda out, src: _python_tar(out, src, tarfile.GNU_FORMAT), ""),
}


@pytest.fixture(scope="module")
def foreign(smpack_archive):
    """writer name -> (archive path, member prefix), all of the same source tree."""
    out = {}
    for name, (write, prefix) in FOREIGN_WRITERS.items():
        path = smpack_archive.base / f"{name}.tar.gz"
        write(path, smpack_archive.src)
        out[name] = (path, prefix)
    return out


@pytest.mark.parametrize("writer", list(FOREIGN_WRITERS))
def test_smpack_reads_foreign_archives(smpack_archive, foreign, writer, tmp_path):
    archive, prefix = foreign[writer]
    tree = smpack_archive.tree
    with tarfile.open(archive) as tar:  # the oracle's view of the member names
        want = sorted(n.removeprefix("./") for n in tar.getnames() if n not in (".", ""))
    assert sorted(p for p in _smpack_paths(archive) if p) == want
    listing = json.loads(run_smpack("ls", "--json", archive).stdout)
    assert [e["stored_path"] for e in listing] == _gnu_tar_names(archive)

    for rel, content in tree.items():
        if content is None:
            continue
        result = run_smpack("cat", archive, prefix + rel, binary=True)
        assert result.returncode == 0, (rel, result.stderr)
        assert result.stdout == content, rel

    verify = run_smpack("verify", archive)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    info = json.loads(run_smpack("info", "--json", archive).stdout)
    assert info["smpack_index"] is False
    assert info["files"] == sum(1 for v in tree.values() if v is not None)
    assert info["has_code"] == (prefix == "")  # a wrapping folder hides code/ from the server

    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == 0, result.stderr
    assert tree_contents(dest / prefix) == tree

    if not prefix:  # same files, same modes: same content digest as smpack's own archive
        assert _content_digest(archive) == _content_digest(smpack_archive.archive)
        diff = run_smpack("diff", archive, smpack_archive.archive)
        assert (diff.returncode, diff.stdout) == (0, "")


@pytest.mark.parametrize("writer,expected", [("gnu-tar", "GNU tar"), ("python-pax", "Python tarfile")])
def test_info_names_the_writer(foreign, writer, expected):
    info = json.loads(run_smpack("info", "--json", foreign[writer][0]).stdout)
    assert info["writer"] == expected


def test_python_pax_and_gnu_long_names_are_read_exactly(tmp_path):
    """Long and non-ASCII member and link names through pax records and GNU ././@LongLink."""
    link_target = "target_" + "t" * 120
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        archive = tmp_path / f"long-{fmt}.tar.gz"
        with tarfile.open(archive, "w:gz", format=fmt) as tar:
            info = tarfile.TarInfo(LONG_NAME)
            payload = b"payload " * 40
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
            link = tarfile.TarInfo("link_" + "l" * 120)
            link.type, link.linkname = tarfile.SYMTYPE, link_target
            tar.addfile(link)
        listing = json.loads(run_smpack("ls", "--json", archive).stdout)
        assert [e["path"] for e in listing] == [LONG_NAME, "link_" + "l" * 120]
        long_listing = run_smpack("ls", "-l", archive).stdout
        assert f"-> {link_target}" in long_listing
        assert run_smpack("cat", archive, LONG_NAME, binary=True).stdout == payload
        assert run_smpack("verify", archive).returncode == 0


def test_sdk_repack_output_is_read(smpack_archive, tmp_path):
    """The SDK's real repack_model on a local model: a root member named '/', then
    the model with code/ replaced, written by tarfile at level 9."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    sagemaker_utils = pytest.importorskip("sagemaker.utils")
    src_no_code = tmp_path / "model"
    shutil.copytree(smpack_archive.src, src_no_code, ignore=shutil.ignore_patterns("code"))
    model = build_archive(src_no_code, tmp_path / "model.tar.gz")
    code = make_code_dir(tmp_path, "new_code")
    write_files(code, {"inference.py": "def model_fn(model_dir):\n    return 'repacked'\n"})
    repacked = tmp_path / "repacked.tar.gz"
    session = types.SimpleNamespace(settings=None)  # only .settings is read for file:// URIs
    sagemaker_utils.repack_model("inference.py", str(code), None, f"file://{model}",
                                 f"file://{repacked}", session)

    with tarfile.open(repacked) as tar:
        first = tar.getmembers()[0]
    assert first.isdir() and first.name in ("", "/")  # tarfile strips the stored "/"

    info = json.loads(run_smpack("info", "--json", repacked).stdout)
    assert info["writer"] == "SageMaker SDK repack" and info["has_code"] is True
    assert run_smpack("cat", repacked, "code/inference.py").stdout == (code / "inference.py").read_text()
    assert run_smpack("verify", repacked).returncode == 0
    dest = tmp_path / "dest"
    assert run_smpack("extract", repacked, "-C", dest).returncode == 0
    want = tree_contents(src_no_code)
    want["code"] = None
    want.update({f"code/{k}": v for k, v in tree_contents(code).items()})
    assert tree_contents(dest) == want

    # What smpack builds directly with the same code has the same content as the repack.
    direct = build_archive(src_no_code, tmp_path / "direct.tar.gz", "--code", code)
    diff = run_smpack("diff", repacked, direct)
    assert (diff.returncode, diff.stdout) == (0, "")
    assert _content_digest(repacked) == _content_digest(direct)


# ----------------------------------------------------------------------------
# Reproducibility
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def repro(tmp_path_factory):
    base = tmp_path_factory.mktemp("repro")
    src = _model(base)
    reference = build_archive(src, base / "ref.tar.gz", "--chunk-size", "65536", "--threads", "1")
    return types.SimpleNamespace(base=base, src=src, reference=reference.read_bytes())


@pytest.mark.parametrize("threads", ["2", "4", "0"])
def test_bytes_do_not_depend_on_threads(repro, tmp_path, threads):
    out = build_archive(repro.src, tmp_path / "t.tar.gz", "--chunk-size", "65536", "--threads", threads)
    assert out.read_bytes() == repro.reference


def test_bytes_do_not_depend_on_source_mtimes(repro, tmp_path):
    touched = tmp_path / "touched"
    shutil.copytree(repro.src, touched)
    for i, path in enumerate(sorted(touched.rglob("*"))):
        os.utime(path, (1_000_000_000 + i * 7919, 1_200_000_000 + i * 104729))
    out = build_archive(touched, tmp_path / "t.tar.gz", "--chunk-size", "65536")
    assert out.read_bytes() == repro.reference


def test_bytes_do_not_depend_on_source_path_or_creation_order(repro, tmp_path):
    # Another absolute path, files created in reverse order (a different readdir order).
    elsewhere = tmp_path / "some" / "other" / "place"
    files = {p.relative_to(repro.src).as_posix(): p.read_bytes()
             for p in sorted(repro.src.rglob("*"), reverse=True) if p.is_file()}
    write_files(elsewhere, files)
    (elsewhere / "bin/run.sh").chmod(0o755)
    out = build_archive(elsewhere, tmp_path / "t.tar.gz", "--chunk-size", "65536")
    assert out.read_bytes() == repro.reference


def _tar_headers(tar_stream: bytes) -> list[int]:
    """Offsets of every 512-byte header block (pax and GNU extension headers included)."""
    offsets, pos = [], 0
    while pos + 512 <= len(tar_stream) and tar_stream[pos : pos + 512] != bytes(512):
        offsets.append(pos)
        size = int(tar_stream[pos + 124 : pos + 136].rstrip(b"\0 ") or b"0", 8)
        pos += 512 + (size + 511) // 512 * 512
    return offsets


def test_source_date_epoch_sets_every_mtime(repro, tmp_path):
    out = build_archive(repro.src, tmp_path / "s.tar.gz", env={"SOURCE_DATE_EPOCH": str(MTIME)})
    with tarfile.open(out) as tar:
        assert {m.mtime for m in tar.getmembers()} == {MTIME}
    # --mtime wins over the environment; both spellings of a time give the same bytes.
    by_flag = build_archive(repro.src, tmp_path / "f.tar.gz", "--mtime", "2023-11-14T22:13:20Z",
                            env={"SOURCE_DATE_EPOCH": "5"})
    assert by_flag.read_bytes() == out.read_bytes()
    with tarfile.open(build_archive(repro.src, tmp_path / "d.tar.gz")) as tar:
        assert {m.mtime for m in tar.getmembers()} == {315532800}


def test_malformed_source_date_epoch_is_an_error(repro, tmp_path):
    result = run_smpack("build", repro.src, "-o", tmp_path / "x.tar.gz", env={"SOURCE_DATE_EPOCH": "tomorrow"})
    assert result.returncode == 2 and "SOURCE_DATE_EPOCH" in result.stderr


def test_mtime_changes_only_the_mtime_fields(repro, tmp_path):
    a = gzip.decompress(build_archive(repro.src, tmp_path / "a.tar.gz", "--mtime", "0").read_bytes())
    b = gzip.decompress(build_archive(repro.src, tmp_path / "b.tar.gz", "--mtime", str(MTIME)).read_bytes())
    assert len(a) == len(b)
    headers = _tar_headers(a)
    assert headers == _tar_headers(b) and len(headers) > 10
    allowed = set()
    for h in headers:
        allowed.update(range(h + 136, h + 156))  # mtime[12] and chksum[8]
    changed = set(np.flatnonzero(np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8)).tolist())
    assert changed and changed <= allowed
    assert all(a[h + 136 : h + 148] != b[h + 136 : h + 148] for h in headers)
