"""End-to-end tests of the foundation commands (build, ls, cat, info, digest,
verify, diff, extract): stdout, stderr and exit code of the real binary on models
and archives generated here. Oracles are Python's hashlib/tarfile/zlib and the
grammar in docs/format.md, never smpack itself."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import shutil
import signal
import stat
import struct
import subprocess
import tarfile
import time
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import (
    TarEntry,
    build_archive,
    hostile_member_cases,
    make_code_dir,
    make_model_dir,
    run_smpack,
    sha256_hex,
    smpack_bin,
    tree_contents,
    write_tar,
)

DEFAULT_MTIME = 315532800  # 1980-01-01T00:00:00Z, docs/format.md
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# Names whose canonical (component-wise) order differs from plain string order:
# "a/b.txt" sorts before "a-b.txt" although '-' < '/'.
ORDER_PROBES = {"a/b.txt": "b\n", "a-b.txt": "dash\n", "a.txt": "dot\n"}


# ----------------------------------------------------------------------------
# Oracles
# ----------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------
# build
# ----------------------------------------------------------------------------


def test_build_prints_its_digests(built):
    data = built.archive.read_bytes()
    lines = built.result.stdout.splitlines()
    assert lines[0].startswith(f"{built.archive}: {len(built.entries)} members, ")
    assert lines[1:] == [f"sha256  {sha256_hex(data)}", f"content {built.digest}"]
    assert built.result.stderr == ""


def test_build_json_describes_the_archive(built, tmp_path):
    out = tmp_path / "j.tar.gz"
    result = run_smpack("build", built.src, "-o", out, "--code", built.code, "--json")
    assert result.returncode == EXIT_OK and result.stderr == ""
    doc = json.loads(result.stdout)
    data = out.read_bytes()
    assert doc["archive_sha256"] == sha256_hex(data)
    assert doc["archive_bytes"] == len(data)
    assert doc["content_digest"] == built.digest
    assert doc["members"] == len(built.entries)
    # Content members only: the index members and the trailer hold no tar bytes.
    assert doc["gzip_members"] == count_gzip_members(data)
    assert doc["tar_bytes"] == len(gzip.decompress(data))


def test_build_manifest_lists_every_member_with_its_sha256(built):
    doc = json.loads(built.manifest.read_text())
    data = built.archive.read_bytes()
    assert doc["format"] == "smpack-manifest"
    assert doc["archive_sha256"] == sha256_hex(data)
    assert doc["archive_bytes"] == len(data)
    assert doc["content_digest"] == built.digest
    want = [dict(e, mode=f"{e['mode']:04o}") for e in built.entries]
    assert doc["entries"] == want


def test_build_writes_canonical_order_and_normalised_headers(built):
    with tarfile.open(built.archive) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [e["path"] for e in built.entries]
    for member, entry in zip(members, built.entries):
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        assert member.mtime == DEFAULT_MTIME
        assert member.mode == entry["mode"], member.name
        assert member.type == (tarfile.DIRTYPE if entry["type"] == "directory" else tarfile.REGTYPE)


def test_build_gzip_members_have_the_fixed_header_and_chunks_never_span_tar_members(built):
    data = built.archive.read_bytes()
    index, index_offset = read_index(data)
    content = [(off, n) for off, n in gzip_members(data) if off < index_offset]
    assert [[off, n] for off, n in content] == [m[:2] for m in index["members"]]
    for off, _ in content:
        assert data[off : off + 10] == bytes.fromhex("1f8b08000000000000ff")
    # Every file's data lies inside the members its index entry names, and no
    # member holds more than one chunk size of tar stream.
    tar_stream = gzip.decompress(data)
    for m in index["members"]:
        assert m[3] <= index["chunk_bytes"]
    for entry in index["entries"]:
        if entry["type"] == "file":
            blob = tar_stream[entry["data"] : entry["data"] + entry["size"]]
            assert sha256_hex(blob) == entry["sha256"]


def test_build_entry_point_and_requirements_go_into_code(built, tmp_path):
    handler = tmp_path / "handler.py"
    handler.write_text("def model_fn(d):\n    return d\n")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("torch==2.3.0\n")
    out = build_archive(built.src, tmp_path / "e.tar.gz", "--entry-point", handler, "--requirements", reqs)
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert tar.extractfile("code/handler.py").read() == handler.read_bytes()
        assert tar.extractfile("code/requirements.txt").read() == reqs.read_bytes()
    assert names[-3:] == ["code", "code/handler.py", "code/requirements.txt"]


def test_build_refuses_symlinks_unless_asked_to_follow(tmp_path):
    src = make_model_dir(tmp_path, weights_bytes=4096)
    (src / "alias.bin").symlink_to("model.bin")
    out = tmp_path / "out.tar.gz"
    refused = run_smpack("build", src, "-o", out)
    assert refused.returncode == EXIT_BAD_INPUT
    assert f"{src}/alias.bin" in refused.stderr and "--follow-symlinks" in refused.stderr
    assert refused.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["model"], "a failed build must leave no file behind"

    followed = run_smpack("build", src, "-o", out, "--follow-symlinks")
    assert followed.returncode == EXIT_OK, followed.stderr
    with tarfile.open(out) as tar:
        alias = tar.getmember("alias.bin")
        assert alias.isreg()
        assert tar.extractfile(alias).read() == (src / "model.bin").read_bytes()


def test_build_usage_errors_exit_2_and_write_nothing(built, tmp_path):
    out = tmp_path / "x.tar.gz"
    cases = [
        (["--level", "10"], "--level"),
        (["--mtime", "yesterday"], "--mtime"),
        (["--chunk-size", "100"], "chunk size"),
    ]
    for extra, mentioned in cases:
        result = run_smpack("build", built.src, "-o", out, *extra)
        assert result.returncode == EXIT_USAGE, (extra, result.stderr)
        assert mentioned in result.stderr and result.stdout == ""
    assert run_smpack("build", built.src).returncode == EXIT_USAGE  # no -o
    missing = run_smpack("build", tmp_path / "no-such-dir", "-o", out)
    assert missing.returncode == EXIT_BAD_INPUT  # a missing input is exit 3 in every command
    assert f"{tmp_path}/no-such-dir" in missing.stderr
    assert not out.exists()


def test_build_into_a_missing_directory_is_an_io_error(built, tmp_path):
    out = tmp_path / "missing" / "x.tar.gz"
    result = run_smpack("build", built.src, "-o", out)
    assert result.returncode == EXIT_BAD_INPUT
    assert str(out) in result.stderr


def test_build_interrupted_exits_130_and_leaves_no_partial_archive(tmp_path):
    src = make_model_dir(tmp_path, weights_bytes=24 << 20)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "model.tar.gz"
    proc = subprocess.Popen([str(smpack_bin()), "build", src, "-o", out, "--level", "9", "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not os.listdir(out_dir) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # wait until the temporary file exists: writing has begun
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, stderr
    assert "interrupted" in stderr and stdout == ""
    assert os.listdir(out_dir) == []


# ----------------------------------------------------------------------------
# ls, cat, info, digest
# ----------------------------------------------------------------------------


def test_ls_lists_members_in_archive_order(built):
    result = run_smpack("ls", built.archive)
    assert result.returncode == EXIT_OK and result.stderr == ""
    assert result.stdout.splitlines() == [e["path"] for e in built.entries]


def test_ls_long_shows_type_mode_size(built):
    result = run_smpack("ls", "-l", built.archive)
    assert result.returncode == EXIT_OK
    rows = [line.split(maxsplit=3) for line in result.stdout.splitlines()]
    assert rows == [[e["type"], f"{e['mode']:04o}", str(e["size"]), e["path"]] for e in built.entries]


def test_ls_json_carries_the_sha256_of_every_file(built):
    result = run_smpack("ls", "--json", built.archive)
    assert result.returncode == EXIT_OK
    doc = json.loads(result.stdout)
    got = [(d["path"], d["type"], d["mode"], d["size"], d.get("sha256", "")) for d in doc]
    want = [(e["path"], e["type"], f"{e['mode']:04o}", e["size"], e["sha256"]) for e in built.entries]
    assert got == want


def test_ls_of_a_directory_lists_what_build_would_store(built):
    result = run_smpack("ls", built.src)
    assert result.returncode == EXIT_OK
    assert result.stdout.splitlines() == [e["path"] for e in expected_entries(built.src, None)]


def test_cat_writes_exact_bytes_of_each_file(built):
    for entry in built.entries:
        if entry["type"] != "file":
            continue
        result = run_smpack("cat", built.archive, entry["path"], binary=True)
        assert result.returncode == EXIT_OK and result.stderr == b""
        assert sha256_hex(result.stdout) == entry["sha256"], entry["path"]


@pytest.mark.parametrize("member", ["no/such/file", "tokenizer"])
def test_cat_of_a_missing_or_non_file_member_exits_3(built, member):
    result = run_smpack("cat", built.archive, member)
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert f"no file member '{member}'" in result.stderr


def test_info_summarises_an_smpack_archive(built):
    data = built.archive.read_bytes()
    files = [e for e in built.entries if e["type"] == "file"]
    doc = json.loads(run_smpack("info", "--json", built.archive).stdout)
    assert doc["writer"] == "smpack" and doc["smpack_index"] is True
    assert doc["container"] == "gzip"
    assert doc["archive_bytes"] == len(data)
    assert doc["tar_bytes"] == len(gzip.decompress(data))
    # Every gzip member of the file, the index's own included, counted as zlib sees them,
    # and the same figure that verify reports from its full pass.
    assert doc["gzip_members"] == count_gzip_members(data)
    assert doc["gzip_members"] > len(read_index(data)[0]["members"])
    verified = json.loads(run_smpack("verify", "--json", built.archive).stdout)
    assert verified["gzip_members"] == doc["gzip_members"]
    assert doc["files"] == len(files)
    assert doc["directories"] == len(built.entries) - len(files)
    assert doc["data_bytes"] == sum(e["size"] for e in files)
    assert doc["has_code"] is True
    assert doc["content_digest"] == built.digest
    assert doc["largest"][0] == {"path": "model.bin", "size": (built.src / "model.bin").stat().st_size,
                                 "sha256": sha256_hex((built.src / "model.bin").read_bytes())}

    text = run_smpack("info", built.archive)
    assert text.returncode == EXIT_OK and text.stderr == ""
    assert "written by      smpack" in text.stdout
    assert f"content digest  {built.digest}" in text.stdout


def test_digest_prints_sha256_and_content_digest(built):
    data = built.archive.read_bytes()
    result = run_smpack("digest", built.archive)
    assert result.returncode == EXIT_OK and result.stderr == ""
    assert result.stdout.splitlines() == [f"sha256          {sha256_hex(data)}",
                                          f"content-digest  {built.digest}"]


def test_digest_s3_etag_single_and_multipart(tmp_path):
    # Float32 weights barely compress, so a 12 MiB model gives an archive of 3 parts of 5 MiB.
    src = make_model_dir(tmp_path, weights_bytes=12 << 20)
    archive = build_archive(src, tmp_path / "big.tar.gz")
    data = archive.read_bytes()
    assert len(data) > 10 << 20
    for part_text, part in [("5MiB", 5 << 20), ("16MiB", 16 << 20), ("5242880", 5242880)]:
        result = run_smpack("digest", "--json", "--s3-etag", part_text, archive)
        assert result.returncode == EXIT_OK, result.stderr
        doc = json.loads(result.stdout)
        assert doc["s3_etag"] == s3_etag(data, part) and doc["s3_part_size"] == part
    assert s3_etag(data, 5 << 20).endswith("-3")
    for bad in ["1MiB", "8mb", "6GiB"]:
        result = run_smpack("digest", "--s3-etag", bad, archive)
        assert result.returncode == EXIT_USAGE, bad
        assert result.stdout == ""


# ----------------------------------------------------------------------------
# verify
# ----------------------------------------------------------------------------


def test_verify_accepts_an_intact_archive(built):
    sha = sha256_hex(built.archive.read_bytes())
    for extra in ([], ["--sha256", sha], ["--manifest", built.manifest]):
        result = run_smpack("verify", built.archive, *extra)
        assert result.returncode == EXIT_OK, (extra, result.stdout, result.stderr)
        assert result.stdout.startswith(f"{built.archive}: OK (")
        assert "smpack index" in result.stdout
        assert result.stderr == ""


def test_verify_wrong_sha256_exits_1_naming_both(built):
    wrong = "0" * 64
    result = run_smpack("verify", built.archive, "--sha256", wrong)
    assert result.returncode == EXIT_FINDINGS
    assert sha256_hex(built.archive.read_bytes()) in result.stdout and wrong in result.stdout
    doc = json.loads(run_smpack("verify", "--json", built.archive, "--sha256", wrong).stdout)
    assert doc["ok"] is False and len(doc["problems"]) == 1


def test_verify_against_another_archives_manifest_exits_1(built):
    other = _other_archive(built, "manifest-mismatch", write={"config.json": "{}\n"}, remove=["a.txt"])
    result = run_smpack("verify", other, "--manifest", built.manifest)
    assert result.returncode == EXIT_FINDINGS
    assert "the manifest says" in result.stdout
    assert "'a.txt': missing from the archive" in result.stdout
    assert "'config.json': content differs from the manifest" in result.stdout


def test_verify_detects_a_tampered_manifest_entry(built, tmp_path):
    doc = json.loads(built.manifest.read_text())
    target = next(e for e in doc["entries"] if e["path"] == "model.bin")
    target["sha256"] = "f" * 64
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))
    result = run_smpack("verify", built.archive, "--manifest", tampered)
    assert result.returncode == EXIT_FINDINGS
    assert result.stdout.splitlines() == [f"{built.archive}: 'model.bin': content differs from the manifest"]


@pytest.mark.parametrize("content", [None, "not json", '{"format": "something-else"}'])
def test_verify_with_an_unreadable_manifest_exits_3(built, tmp_path, content):
    manifest = tmp_path / "m.json"
    if content is not None:
        manifest.write_text(content)
    result = run_smpack("verify", built.archive, "--manifest", manifest)
    assert result.returncode == EXIT_BAD_INPUT
    assert str(manifest) in result.stderr or "manifest" in result.stderr


# ----------------------------------------------------------------------------
# diff
# ----------------------------------------------------------------------------


def test_diff_of_identical_content_is_empty(built, tmp_path):
    # Same content, different level and chunking: different bytes, no differences.
    other = build_archive(built.src, tmp_path / "l6.tar.gz", "--code", built.code, "--level", "6",
                          "--chunk-size", "65536")
    assert other.read_bytes() != built.archive.read_bytes()
    result = run_smpack("diff", built.archive, other)
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_OK, "", "")


def test_diff_reports_added_removed_content_and_mode(built):
    other = _other_archive(built, "changed", write={"config.json": "{}\n", "added.txt": "new\n"},
                           remove=["a-b.txt"], chmod={"a.txt": 0o755})
    result = run_smpack("diff", built.archive, other)
    assert result.returncode == EXIT_FINDINGS and result.stderr == ""
    assert sorted(result.stdout.splitlines()) == sorted(
        ["+ added.txt", "- a-b.txt", "M config.json", "m a.txt 0644 -> 0755"])
    doc = json.loads(run_smpack("diff", "--json", built.archive, other).stdout)
    assert doc == {"added": ["added.txt"], "removed": ["a-b.txt"], "content_changed": ["config.json"],
                   "mode_changed": [{"path": "a.txt", "before": "0644", "after": "0755"}]}
    # A directory compares like the archive build would make of it.
    against_dir = run_smpack("diff", built.archive, built.base / "src-changed")
    assert against_dir.returncode == EXIT_FINDINGS
    assert "+ added.txt" in against_dir.stdout and "- code" in against_dir.stdout


# ----------------------------------------------------------------------------
# extract
# ----------------------------------------------------------------------------


def test_extract_reproduces_the_source_tree(built, tmp_path):
    dest = tmp_path / "dest"
    result = run_smpack("extract", built.archive, "-C", dest)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == ""
    files = sum(1 for e in built.entries if e["type"] == "file")
    assert result.stdout.startswith(f"{files} files, {len(built.entries) - files} directories")
    assert tree_contents(dest) == expected_tree(built.src, built.code)
    for entry in built.entries:
        assert stat.S_IMODE((dest / entry["path"]).stat().st_mode) == entry["mode"], entry["path"]


HOSTILE_NAMES = list(hostile_member_cases(Path("/x")))


def _hostile_setup(tmp_path: Path, case: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret\n")
    entries, refused, phrase, _rule = hostile_member_cases(outside)[case]
    archive = write_tar(tmp_path / "hostile.tar.gz",
                        [TarEntry("ok.txt", b"ok\n"), *entries, TarEntry("z_after.txt", b"after\n")])
    return archive, outside, refused, phrase


def _assert_nothing_escaped(tmp_path: Path, outside: Path):
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_text() == "secret\n"
    assert sorted(os.listdir(tmp_path)) == ["dest", "hostile.tar.gz", "outside"]
    assert not Path("/evil.txt").exists()


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_extract_refuses_unsafe_members(tmp_path, case):
    archive, outside, refused, phrase = _hostile_setup(tmp_path, case)
    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert f"refusing to extract member '{refused}'" in result.stderr and phrase in result.stderr
    assert result.stdout == ""
    _assert_nothing_escaped(tmp_path, outside)
    assert not (dest / "z_after.txt").exists(), "extraction stops at the first unsafe member"


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_extract_skip_unsafe_extracts_the_rest_and_exits_1(tmp_path, case):
    archive, outside, refused, phrase = _hostile_setup(tmp_path, case)
    dest = tmp_path / "dest"
    result = run_smpack("extract", "--skip-unsafe", archive, "-C", dest)
    assert result.returncode == EXIT_FINDINGS, result.stderr
    assert f"skipped member '{refused}'" in result.stderr and phrase in result.stderr
    _assert_nothing_escaped(tmp_path, outside)
    assert (dest / "ok.txt").read_text() == "ok\n"
    assert (dest / "z_after.txt").read_text() == "after\n"
    assert not any(path.is_symlink() for path in dest.rglob("*"))


def test_extract_drops_setuid_setgid_and_sticky_bits(tmp_path):
    archive = write_tar(tmp_path / "modes.tar.gz", [
        TarEntry("suid.sh", b"#!/bin/sh\n", mode=0o4755),
        TarEntry("sgid.sh", b"#!/bin/sh\n", mode=0o2755),
        TarEntry("sticky", type=tarfile.DIRTYPE, mode=0o1777),
    ])
    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == EXIT_OK, result.stderr
    for name in ["suid.sh", "sgid.sh", "sticky"]:
        mode = (dest / name).stat().st_mode
        assert mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX) == 0, (name, oct(mode))
    assert stat.S_IMODE((dest / "suid.sh").stat().st_mode) & 0o111


def test_extract_keeps_symlinks_that_stay_inside(tmp_path):
    archive = write_tar(tmp_path / "links.tar.gz", [
        TarEntry("weights/model.bin", b"w"),
        TarEntry("sub/lnk", type=tarfile.SYMTYPE, linkname="../weights/model.bin"),
    ])
    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == EXIT_OK, result.stderr
    assert os.readlink(dest / "sub" / "lnk") == "../weights/model.bin"
    assert (dest / "sub" / "lnk").read_bytes() == b"w"


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
    assert result.stdout == ""


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
# Command line
# ----------------------------------------------------------------------------


def test_help_lists_every_command():
    result = run_smpack("--help")
    assert result.returncode == EXIT_OK
    for command in ["build", "ls", "cat", "info", "digest", "verify", "diff", "extract"]:
        assert f"\n  {command} " in result.stdout
        sub = run_smpack(command, "--help")
        assert sub.returncode == EXIT_OK
        assert f"Usage: smpack {command} " in sub.stdout


def test_no_subcommand_is_a_usage_error():
    result = run_smpack()
    assert result.returncode == EXIT_USAGE
    assert "subcommand" in result.stderr


def test_unknown_subcommand_suggests_the_closest():
    result = run_smpack("verfy", "x.tar.gz")
    assert result.returncode == EXIT_USAGE
    assert "unknown command 'verfy'; did you mean 'verify'?" in result.stderr


def test_unknown_subcommand_is_a_usage_error():
    result = run_smpack("verfy", "x.tar.gz")
    assert result.returncode == EXIT_USAGE and result.stdout == ""
