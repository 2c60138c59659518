"""smpack build, end to end: digests, manifest, canonical order and headers, gzip members,
code options, symlinks, usage errors, interrupts. Oracles: hashlib, tarfile, zlib and
docs/format.md."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from conftest import (HANDOFF_CALLS, SOURCE_DIR, disk_handoffs, build_archive, make_code_dir, make_model_dir, run_smpack, run_smpack_traced, sha256_hex,
                      smpack_bin, write_files)
from archive_fixtures import DEFAULT_MTIME, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, built, content_digest, count_gzip_members, gzip_members, read_index

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


def test_build_code_replaces_the_model_directorys_own_code(tmp_path):
    """--code replaces code/, as its help says and the SDK's source_dir does; the model
    directory itself is left as it was."""
    src = make_model_dir(tmp_path, weights_bytes=4096, with_code=True)
    write_files(src, {"code/old_helper.py": "x = 1\n"})
    code = make_code_dir(tmp_path, "new-code")
    write_files(code, {"inference.py": "def model_fn(model_dir):\n    return 'new'\n"})
    out = tmp_path / "out.tar.gz"
    result = run_smpack("build", src, "-o", out, "--code", code)
    assert result.returncode == EXIT_OK, result.stderr
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert "code/old_helper.py" not in names
        assert tar.extractfile("code/inference.py").read().endswith(b"return 'new'\n")
    assert (src / "code/old_helper.py").exists()


def test_building_into_the_model_directory_leaves_the_archive_out(tmp_path):
    """`cd model && smpack build . -o model.tar.gz`, twice: the second archive does not hold
    the first, as GNU tar leaves its own output out; both are the same bytes."""
    src = make_model_dir(tmp_path, weights_bytes=4096, with_code=True)
    first = run_smpack("build", ".", "-o", "model.tar.gz", cwd=src)
    assert first.returncode == EXIT_OK, first.stderr
    data = (src / "model.tar.gz").read_bytes()
    second = run_smpack("build", ".", "-o", "model.tar.gz", cwd=src)
    assert second.returncode == EXIT_OK, second.stderr
    with tarfile.open(src / "model.tar.gz") as tar:
        assert "model.tar.gz" not in tar.getnames()
    assert (src / "model.tar.gz").read_bytes() == data


# ---- what build leaves out: the default excludes and --exclude, as GNU tar --exclude ----


def test_excludes_leave_out_what_gnu_tar_exclude_leaves_out(tmp_path):
    model = tmp_path / "m"
    for name, data in {"w.bin": b"w", "notes.tmp": b"t", "sub/keep.json": b"{}",
                       "sub/.ipynb_checkpoints/a.json": b"{}", ".git/HEAD": b"ref",
                       ".DS_Store": b"", "code/inference.py": b"def model_fn(d):\n    return 1\n",
                       "code/__pycache__/inference.cpython-311.pyc": b"\0", "cache/x.tmp": b"x",
                       "data/big/part.bin": b"p", "a/deep/x.bin": b"x",
                       "logs/run.log": b"l"}.items():
        (model / name).parent.mkdir(parents=True, exist_ok=True)
        (model / name).write_bytes(data)
    patterns = ["*.tmp", "data/big", "deep/x.bin", "./logs"]  # unanchored, as tar
    built = tmp_path / "m.tar.gz"
    args = [a for p in patterns for a in ("--exclude", p)]
    assert run_smpack("build", model, "-o", built, "--no-lint", *args).returncode == 0
    defaults = [".git", "__pycache__", ".ipynb_checkpoints", ".DS_Store"]
    gnu = subprocess.run(["tar", "-C", model, "-cf", "-", *(f"--exclude={p}" for p in
                                                          patterns + defaults), "."],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(gnu)) as tar:
        expected = {m.name.removeprefix("./").rstrip("/") for m in tar.getmembers()} - {"."}
    with tarfile.open(built) as tar:
        assert {m.name.rstrip("/") for m in tar.getmembers()} == expected
    # info says what the defaults leave out; --no-default-excludes keeps it all.
    info = json.loads(run_smpack("info", model, "--json").stdout)["left_out_by_build"]
    assert info == [{"path": ".DS_Store", "files": 1}, {"path": ".git", "files": 1},
                    {"path": "sub/.ipynb_checkpoints", "files": 1},
                    {"path": "code/__pycache__", "files": 1}]
    everything = tmp_path / "all.tar.gz"
    assert run_smpack("build", model, "-o", everything, "--no-lint",
                      "--no-default-excludes").returncode == 0
    with tarfile.open(everything) as tar:
        names = {m.name for m in tar.getmembers()}
    assert {".git/HEAD", "code/__pycache__/inference.cpython-311.pyc"} <= names


# ----------------------------------------------------------------------------
# --no-archive-sha256 and --no-fsync
# ----------------------------------------------------------------------------


def test_build_without_the_archive_sha256_writes_the_same_bytes_and_still_checks_members(built, tmp_path):
    out, manifest = tmp_path / "fast.tar.gz", tmp_path / "fast.json"
    result = run_smpack("build", built.src, "-o", out, "--code", built.code, "--no-archive-sha256",
                        "--manifest", manifest, "--json")
    assert result.returncode == EXIT_OK, result.stderr
    assert out.read_bytes() == built.archive.read_bytes()
    doc = json.loads(result.stdout)
    assert doc["archive_sha256"] is None
    assert doc["content_digest"] == built.digest
    written = json.loads(manifest.read_text())
    assert written["archive_sha256"] is None
    assert [e["sha256"] for e in written["entries"]] == [e["sha256"] for e in built.entries]
    text = run_smpack("build", built.src, "-o", tmp_path / "t.tar.gz", "--code", built.code,
                      "--no-archive-sha256")
    assert "sha256  (not computed: --no-archive-sha256)" in text.stdout.splitlines()
    # The manifest without the archive's SHA-256 is still a manifest verify checks.
    assert run_smpack("verify", out, "--manifest", manifest).returncode == EXIT_OK
    other = tmp_path / "other"
    shutil.copytree(built.src, other)
    (other / "config.json").write_text('{"changed": true}\n')
    changed = build_archive(other, tmp_path / "changed.tar.gz", "--code", built.code)
    refused = run_smpack("verify", changed, "--manifest", manifest)
    assert refused.returncode != EXIT_OK
    assert "config.json" in refused.stdout + refused.stderr


def flushes_of_build(tmp_path, *flags) -> tuple[int, int]:
    """(fsync and fdatasync calls, hand-offs to the disk while writing) of a build of
    ~24 MiB."""
    log = tmp_path / "flush.log"
    src = make_model_dir(tmp_path, name=f"src{len(flags)}", weights_bytes=24 << 20)
    run_smpack_traced(log, f"fsync,fdatasync,{HANDOFF_CALLS}", "build", src, "-o",
                      tmp_path / f"out{len(flags)}.tar.gz", *flags, check=True)
    fsyncs = len(re.findall(r"\bf(?:data)?sync\(", log.read_text()))
    return fsyncs, disk_handoffs(log, tmp_path)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_build_no_fsync_skips_the_flushes_and_still_renames_into_place(tmp_path):
    fsyncs, handoffs = flushes_of_build(tmp_path)
    assert fsyncs >= 2  # the file, then its directory
    assert handoffs >= 2  # handed to the disk 8 MiB at a time as it is written
    assert flushes_of_build(tmp_path, "--no-fsync") == (0, 0)
    out = tmp_path / "out1.tar.gz"
    assert run_smpack("verify", out).returncode == EXIT_OK
    assert not list(tmp_path.glob(".out1.tar.gz.tmp.*"))


def test_the_bundled_example_builds_behind_the_lint_gate_and_its_handler_loads_it(tmp_path):
    # What scripts/demo.sh packages: examples/model and the weights make_weights.py writes.
    model = tmp_path / "model"
    shutil.copytree(SOURCE_DIR / "examples" / "model", model)
    subprocess.run([sys.executable, SOURCE_DIR / "examples" / "make_weights.py", model / "weights.npy",
                    "--mib", "1"], check=True)
    archive = build_archive(model, tmp_path / "model.tar.gz")  # the lint gate is on
    lint = run_smpack("lint", archive)
    assert lint.returncode == EXIT_OK and "deploy-ready" in lint.stdout, lint.stdout + lint.stderr

    extracted = tmp_path / "extracted"
    assert run_smpack("extract", archive, "-C", extracted).returncode == EXIT_OK
    spec = importlib.util.spec_from_file_location("example_inference", extracted / "code" / "inference.py")
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    weights = handler.model_fn(str(extracted))
    assert weights.shape == (256,) and weights.dtype.str == "<f4" and 0 < abs(weights).max() < 1

