"""add-code on archives other tools wrote: the compressed bytes before the old code/ (or
the end of the tar stream) are kept, the gzip member holding that point is ended there,
and smpack's members follow (docs/format.md, "Spliced archives"). Every result is read
back by gzip -t, GNU tar, bsdtar and Python tarfile, and compared with a full rewrite."""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

from conftest import (HANDOFF_CALLS, disk_handoffs, generate_weights, run_smpack, run_smpack_traced,
                      tree_contents, write_files)
from archive_fixtures import EXIT_BAD_INPUT, tar_of

NEW_HANDLER = "def model_fn(model_dir):\n    return 'v2'\n"


def new_code(tmp_path: Path, files: dict | None = None) -> Path:
    root = tmp_path / "newcode"
    write_files(root, files or {"inference.py": NEW_HANDLER, "requirements.txt": "numpy\n"})
    return root


def model_files(code_at: str) -> list[tuple[str, bytes]]:
    """Members in tar order; the old code/ at the end, in the middle, or absent."""
    weights = [("model.bin", generate_weights(3 << 20)),
               # Text compresses with long back-references, across deflate blocks.
               ("config.json", b"".join(b'{"layer_%d": [%d, %d]},\n' % (i, i, i * 7) for i in range(40000))),
               ("tokenizer/vocab.txt", b"".join(b"token%d\n" % i for i in range(5000)))]
    old_code = [("code/inference.py", b"def model_fn(d):\n    return 'v1'\n"),
                ("code/requirements.txt", b"torch\n"),
                ("code/util.py", b"X = 1\n")]
    if code_at == "none":
        return weights
    if code_at == "end":
        return weights + old_code
    return weights[:1] + old_code + weights[1:]


def plain_tar(files: list[tuple[str, bytes]], prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(prefix + name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_with(tool: str, data: bytes) -> bytes:
    if tool in ("gzip-6", "gzip-9", "gzip-1", "pigz"):
        cmd = ["pigz", "-c"] if tool == "pigz" else ["gzip", "-c", "-" + tool[-1]]
        return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout
    if tool == "tarfile":  # gzip.GzipFile as tarfile's w:gz uses it: FNAME and MTIME set
        buf = io.BytesIO()
        with gzip.GzipFile("model.tar", "wb", 9, buf, mtime=1700000000) as out:
            out.write(data)
        return buf.getvalue()
    if tool == "stored":  # stored deflate blocks only
        return gzip.compress(data, compresslevel=0)
    if tool == "two-members":  # concatenated gzip files, cut inside the weights
        cut = len(data) // 3
        return gzip.compress(data[:cut], 6) + gzip.compress(data[cut:], 6)
    raise ValueError(tool)


WRITERS = ["gzip-6", "gzip-9", "gzip-1", "pigz", "tarfile", "stored", "two-members"]


def listing(tool: str, archive: Path) -> list[str]:
    if tool == "tarfile":
        with tarfile.open(archive) as tar:
            return [m.name.removeprefix("./") for m in tar if m.name not in (".", "./")]
    cmd = ["tar", "tzf"] if tool == "gnu" else ["bsdtar", "tf"]
    out = subprocess.run([*cmd, str(archive)], capture_output=True, text=True, check=True).stdout
    return [n.removeprefix("./").rstrip("/") for n in out.split() if n not in ("./", ".")]


def extracted(archive: Path, dest: Path) -> dict:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return tree_contents(dest)


def add_code(archive: Path, code: Path | None, *destination, entry_point: Path | None = None) -> dict:
    given = ["--code", code] if code else ["--entry-point", entry_point]
    result = run_smpack("add-code", archive, *given, *destination, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def full_rewrite(tmp_path: Path, tar_bytes: bytes, code: Path) -> tuple[dict, Path]:
    """The reference: the same tar, uncompressed, which add-code rewrites member by member."""
    plain = tmp_path / "reference.tar"
    plain.write_bytes(tar_bytes)
    out = tmp_path / "reference.tar.gz"
    report = add_code(plain, code, "-o", out, "--no-lint")  # lint judges the input's container
    assert report["method"] == "rewrote the archive in one streaming pass"
    return report, out


@pytest.mark.parametrize("code_at", ["none", "end", "middle"])
@pytest.mark.parametrize("writer", WRITERS)
def test_spliced_archive_reads_as_a_full_rewrite_does(tmp_path, writer, code_at):
    files = model_files(code_at)
    tar_bytes = plain_tar(files, prefix="./" if writer == "gzip-6" else "")
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with(writer, tar_bytes))
    code = new_code(tmp_path)
    out = tmp_path / "out.tar.gz"
    report = add_code(foreign, code, "-o", out)
    assert report["method"].startswith("kept the other writer's compressed bytes")
    original, spliced = foreign.read_bytes(), out.read_bytes()
    assert spliced[: report["kept_bytes"]] == original[: report["kept_bytes"]]
    weights_end = sum(len(d) for _, d in files[:1]) if code_at == "middle" else len(tar_bytes)
    # Kept: everything up to the block before the cut (the cut member's last block is
    # re-encoded, so allow a little under what precedes the cut).
    assert report["kept_bytes"] > 0.6 * len(zlib.compress(tar_bytes[:weights_end], 1)) or writer == "stored"
    if code_at == "middle":  # what follows the old code/ is compressed again, and said so
        assert report["rewritten_tar_bytes"] >= len(files[-1][1]) + len(files[-2][1])
    reference_report, reference = full_rewrite(tmp_path, tar_bytes, code)
    assert report["removed"] == reference_report["removed"]
    assert report["content_digest"] == reference_report["content_digest"]
    assert subprocess.run(["gzip", "-t", str(out)]).returncode == 0
    expected = listing("gnu", reference)
    for tool in ("gnu", "bsdtar", "tarfile"):
        assert sorted(listing(tool, out)) == sorted(expected), tool
    assert extracted(out, tmp_path / "a") == extracted(reference, tmp_path / "b")
    verify = run_smpack("verify", out)
    assert verify.returncode == 0, verify.stderr
    info = json.loads(run_smpack("info", out, "--json").stdout)
    assert info["writer"].startswith("smpack, spliced") and info["foreign_prefix_bytes"] > 0
    assert run_smpack("cat", out, "code/inference.py").stdout == NEW_HANDLER
    # The next change rewrites only smpack's tail.
    again = add_code(out, new_code(tmp_path / "again", {"inference.py": "X = 3\n"}), "--in-place")
    assert again["method"].startswith("rewrote only the tail")
    assert again["kept_bytes"] >= info["foreign_prefix_bytes"]
    assert run_smpack("verify", out).returncode == 0


def test_in_place_keeps_every_byte_before_the_splice_point(tmp_path):
    tar_bytes = plain_tar(model_files("end"))
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-6", tar_bytes))
    before = foreign.read_bytes()
    code = new_code(tmp_path)
    report = add_code(foreign, code, "--in-place")
    after = foreign.read_bytes()
    assert after[: report["kept_bytes"]] == before[: report["kept_bytes"]]
    assert report["bytes_written"] == len(after) - report["kept_bytes"]
    assert report["bytes_written"] < (1 << 20)
    assert not Path(str(foreign) + ".smpack-tail").exists()
    copied = tmp_path / "copied.tar.gz"
    (tmp_path / "again.tar.gz").write_bytes(before)
    add_code(tmp_path / "again.tar.gz", code, "-o", copied)
    assert copied.read_bytes() == after  # in place and to another file give the same bytes
    assert run_smpack("verify", foreign).returncode == 0


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_the_kept_bytes_are_handed_to_the_disk_as_they_are_copied(tmp_path):
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-1", plain_tar([("model.bin", generate_weights(20 << 20))])))
    log = tmp_path / "flush.log"
    out = tmp_path / "out.tar.gz"
    result = run_smpack_traced(log, HANDOFF_CALLS, "add-code", foreign, "--code",
                               new_code(tmp_path), "-o", out, "--no-lint", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kept_bytes"] > (16 << 20)
    assert disk_handoffs(log, tmp_path) >= 2  # the kept bytes fill two 8 MiB writes


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_the_kept_bytes_are_copied_while_the_scan_reads_on(tmp_path):
    """Into another local file, what the scan has passed is copied at once, not after the
    scan: an archive found damaged at its very end has had some of its prefix copied by
    then. The unfinished output is removed with the error."""
    foreign = tmp_path / "model.tar.gz"
    damaged = bytearray(gzip_with("gzip-1", plain_tar([("model.bin", generate_weights(64 << 20))])))
    damaged[-8] ^= 0xFF  # the member's CRC-32, checked only once everything is inflated
    foreign.write_bytes(damaged)
    log = tmp_path / "copies.log"
    result = run_smpack_traced(log, "openat,pwrite64,write", "add-code", foreign, "--code",
                               new_code(tmp_path), "-o", tmp_path / "out.tar.gz", "--no-lint")
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert f"{foreign}: corrupt gzip data" in result.stderr, result.stderr
    copied = traced_bytes(log, r".*/\.out\.tar\.gz\.tmp\.\w+", "pwrite64|write")
    assert copied > 0, log.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copies.log", "model.tar.gz", "newcode"]


def traced_bytes(log: Path, path: str, calls: str) -> int:
    """The bytes the traced command moved with `calls` (a regex alternation of syscall
    names) through any descriptor it opened on a name matching the regex `path`, on every
    thread: strace -f splits a call that another thread interrupts into an
    "<unfinished ...>" line with the fd and a "<... resumed>" line with the result."""
    opened = re.compile(rf'open(?:at)?\(.*"{path}", .*\) = (\d+)$')
    call = re.compile(rf"^(\d+) +(?:{calls})\((\d+), ")
    resumed = re.compile(rf"^(\d+) +<\.\.\. (?:{calls}) resumed>")
    result = re.compile(r"\) = (\d+)$")
    fds, pending, total = set(), {}, 0
    for line in log.read_text().splitlines():
        if m := opened.search(line):
            fds.add(m.group(1))
            continue
        fd = None
        if m := call.match(line):
            pid, fd = m.group(1), m.group(2)
            if line.endswith("<unfinished ...>"):
                pending[pid] = fd
                continue
        elif m := resumed.match(line):
            fd = pending.pop(m.group(1), None)
        if fd in fds and (got := result.search(line)):
            total += int(got.group(1))
    assert fds, f"nothing matching {path} was opened"
    return total


def archive_bytes_read(log: Path, archive: Path) -> int:
    return traced_bytes(log, re.escape(str(archive)), "pread64|read")


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("destination", ["-o", "--in-place"])
def test_the_lint_gate_and_the_splice_scan_read_the_archive_once(tmp_path, destination):
    """The gate's visit is the splice's scan: a foreign archive is inflated once. Only the
    stretch near the cut is read again, to find the nearest block boundary and end the
    member there."""
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-6", plain_tar(
        model_files("none") + [("shard-2.bin", generate_weights(32 << 20, seed=2))])))
    size = foreign.stat().st_size
    log = tmp_path / "reads.log"
    where = [tmp_path / "o.tar.gz"] if destination == "-o" else []
    result = run_smpack_traced(log, "openat,open,read,pread64", "add-code", foreign, "--code",
                               new_code(tmp_path), destination, *where, "--json")
    assert result.returncode == 0, result.stderr
    kept = json.loads(result.stdout)["kept_bytes"]
    assert kept > size // 2
    read = archive_bytes_read(log, foreign)
    # -o also reads the kept bytes to copy them (from the page cache: the scan has just
    # read them).
    inflated = read - (kept if destination == "-o" else 0)
    # Again: at most the 8 MiB chunk of the parallel inflate that holds the cut.
    assert size <= inflated < size + (10 << 20), (read, size, kept)


def with_link_first(tar_bytes: bytes) -> bytes:
    """`tar_bytes` with a symlink member before its first member."""
    link = tarfile.TarInfo("aaa_link")
    link.type, link.linkname = tarfile.SYMTYPE, "model.bin"
    header = link.tobuf(format=tarfile.GNU_FORMAT)
    return header + tar_bytes


def test_without_the_gate_a_refused_member_ends_the_pass(tmp_path):
    """--no-lint: the first member an smpack archive cannot hold is the answer; damage
    further on is not read to."""
    data = bytearray(gzip_with("gzip-6", with_link_first(plain_tar(model_files("end")))))
    data[len(data) // 2] ^= 0xFF
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(bytes(data))
    result = run_smpack("add-code", foreign, "--code", new_code(tmp_path), "-o",
                        tmp_path / "o.tar.gz", "--no-lint")
    assert result.returncode == 3, result.stderr
    assert "'aaa_link'" in result.stderr and "symlink" in result.stderr, result.stderr
    # Nothing is left of the output, its temporary file included.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tar.gz", "newcode"]


@pytest.mark.parametrize("destination", ["-o", "--in-place"])
def test_the_gates_refusal_comes_before_the_scans(tmp_path, destination):
    """The scan would refuse the symlink (exit 3), but the gate's verdict on the broken
    handler, read in the same pass, is what the user sees (exit 1)."""
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-6", with_link_first(plain_tar(model_files("none")))))
    before = foreign.read_bytes()
    broken = new_code(tmp_path, {"inference.py": "def model_fn(model_dir:\n"})
    where = [tmp_path / "o.tar.gz"] if destination == "-o" else []
    result = run_smpack("add-code", foreign, "--code", broken, destination, *where)
    assert result.returncode == 1, result.stderr
    assert "handler-syntax-error" in result.stderr
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tar.gz", "newcode"]


def test_the_gates_verdict_comes_before_an_output_that_cannot_be_opened(tmp_path):
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-6", plain_tar(model_files("none"))))
    broken = new_code(tmp_path, {"inference.py": "def model_fn(model_dir:\n"})
    result = run_smpack("add-code", foreign, "--code", broken, "-o",
                        tmp_path / "missing" / "o.tar.gz")
    assert result.returncode == 1, result.stderr
    assert "handler-syntax-error" in result.stderr


def test_an_entry_point_alone_is_gated_and_keeps_the_archives_code(tmp_path):
    tar_bytes = plain_tar(model_files("end"))
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-6", tar_bytes))
    broken = tmp_path / "broken.py"
    broken.write_text("def model_fn(model_dir:\n")
    refused = run_smpack("add-code", foreign, "--entry-point", broken, "-o", tmp_path / "r.tar.gz")
    assert refused.returncode == 1 and "handler-syntax-error" in refused.stderr, refused.stderr
    assert not (tmp_path / "r.tar.gz").exists()
    entry = tmp_path / "serve.py"
    entry.write_text(NEW_HANDLER)
    out = tmp_path / "o.tar.gz"
    report = add_code(foreign, None, "-o", out, entry_point=entry)
    assert report["method"].startswith("kept the other writer's compressed bytes")
    contents = extracted(out, tmp_path / "x")
    assert contents["code/serve.py"] == NEW_HANDLER.encode()
    assert contents["code/util.py"] == b"X = 1\n"  # the archive's own code/ is kept


def test_damaged_foreign_archive_is_refused_and_kept(tmp_path):
    data = bytearray(gzip_with("gzip-6", plain_tar(model_files("end"))))
    data[-6] ^= 0xFF  # the trailer's CRC-32
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(bytes(data))
    result = run_smpack("add-code", foreign, "--code", new_code(tmp_path), "--in-place", "--no-lint")
    assert result.returncode == 3, result.stderr
    assert "model.tar.gz" in result.stderr and "CRC-32" in result.stderr
    assert foreign.read_bytes() == bytes(data)
    assert not Path(str(foreign) + ".smpack-tail").exists()


def test_text_output_says_what_was_kept_and_compressed_again(tmp_path):
    tar_bytes = plain_tar(model_files("middle"))
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(gzip_with("gzip-6", tar_bytes))
    result = run_smpack("add-code", foreign, "--code", new_code(tmp_path), "-o", tmp_path / "o.tar.gz")
    assert result.returncode == 0, result.stderr
    kept = re.search(r"kept the first ([\d.]+) MiB as they were; compressed again: ([\d.]+) (KiB|MiB) of tar",
                     result.stdout)
    assert kept, result.stdout
    assert 2.0 < float(kept.group(1)) < 3.0  # model.bin, 3 MiB of float32 before the old code/
    assert "- code/util.py" in result.stdout


def header_offset(tar_bytes: bytes, name: str) -> int:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return next(m.offset for m in tar if m.name == name)


SMALL = [("serving.properties", b"engine=Python\n"), ("code/inference.py", b"X = 1\n")]
LONG = "weights/" + "w" * 120 + ".bin"


def odd_shape(shape: str) -> bytes:
    if shape == "tiny-single-member":  # less than one 32 KiB window before the cut
        return gzip.compress(tar_of(SMALL), mtime=0)
    if shape == "tiny-without-code":
        return gzip.compress(tar_of(SMALL[:1]), mtime=0)
    if shape == "cut-just-after-a-member-start":
        tar = tar_of([("a.bin", generate_weights(1 << 16)), ("b.txt", b"b" * 3000), *SMALL[1:]])
        at = header_offset(tar, "b.txt")
        return gzip.compress(tar[:at], mtime=0) + gzip.compress(tar[at:], mtime=0)
    if shape == "cut-at-a-member-start":
        tar = tar_of([("a.bin", generate_weights(1 << 16)), *SMALL[1:]])
        at = header_offset(tar, "code/inference.py")
        return gzip.compress(tar[:at], mtime=0) + gzip.compress(tar[at:], mtime=0)
    if shape == "empty-members-first":
        tar = tar_of(SMALL)
        return gzip.compress(b"", mtime=0) * 3 + gzip.compress(tar[:100], mtime=0) + gzip.compress(tar[100:], mtime=0)
    if shape == "code-first":  # nothing of the archive is kept
        return gzip.compress(tar_of([SMALL[1], ("a.bin", generate_weights(1 << 16)), SMALL[0]]),
                             mtime=0)
    if shape == "root-member-and-pax-names":
        return gzip.compress(tar_of([(LONG, generate_weights(1 << 17)), ("./config.json", b"{}"),
                                     ("./code/inference.py", b"X = 1\n")],
                                    fmt=tarfile.PAX_FORMAT, root=True), mtime=0)
    raise ValueError(shape)


@pytest.mark.parametrize("shape", ["tiny-single-member", "tiny-without-code",
                                   "cut-just-after-a-member-start", "cut-at-a-member-start",
                                   "empty-members-first", "root-member-and-pax-names",
                                   "code-first"])
def test_small_and_odd_shapes_keep_every_member(tmp_path, shape):
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(odd_shape(shape))
    with tarfile.open(foreign) as tar:
        before = {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar
                  if m.isfile() and not m.name.removeprefix("./").startswith("code/")}
    code = new_code(tmp_path)
    for destination in (["-o", tmp_path / "out.tar.gz"], ["--in-place"]):
        source = foreign if destination[0] == "-o" else tmp_path / "in-place.tar.gz"
        if destination[0] == "--in-place":
            source.write_bytes(foreign.read_bytes())
        result = run_smpack("add-code", source, "--code", code, *destination, "--json", "--no-lint")
        assert result.returncode == 0, result.stderr
        out = destination[1] if destination[0] == "-o" else source
        assert subprocess.run(["gzip", "-t", str(out)]).returncode == 0
        with tarfile.open(out) as tar:
            after = {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar if m.isfile()}
        assert {k: v for k, v in after.items() if not k.startswith("code/")} == before
        assert after["code/inference.py"] == NEW_HANDLER.encode()
        verify = run_smpack("verify", out)
        assert verify.returncode == 0, verify.stderr
        listed = run_smpack("ls", out).stdout.split()  # the kept root member "./" is listed
        assert {p for p in listed if not p.startswith("code") and p != "./"} == set(before)


def test_an_interrupted_run_left_a_backup_that_is_never_overwritten(tmp_path):
    foreign = tmp_path / "model.tar.gz"
    foreign.write_bytes(odd_shape("tiny-single-member"))
    backup = Path(str(foreign) + ".smpack-tail")
    backup.write_bytes(b"the only copy of an old tail")
    result = run_smpack("add-code", foreign, "--code", new_code(tmp_path), "--in-place", "--no-lint")
    assert result.returncode == 3, result.stderr
    assert ".smpack-tail exists" in result.stderr
    assert backup.read_bytes() == b"the only copy of an old tail"
