"""Foreign gzip archives big enough to be inflated on several threads at once (chunks of
8 MiB): what gzip, pigz and igzip write reads to the same bytes as the directory it came
from, including text whose back-references cross every chunk seam and a stretch that
expands past a chunk's cap; damage anywhere is still reported as corrupt gzip data."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tarfile

import pytest

from archive_fixtures import EXIT_BAD_INPUT, EXIT_OK
from conftest import generate_weights, run_smpack, run_smpack_traced, sha256_hex, write_files

COMPRESSORS = {"gzip": "gzip -6", "pigz": "pigz -6", "igzip": "igzip -1"}


def repetitive_text(nbytes: int) -> bytes:
    rng = random.Random(5)
    lines = [f"layer.{rng.randrange(4000)}.weight = {rng.random():.3f}\n" for _ in range(nbytes // 24)]
    return "".join(lines).encode()[:nbytes]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel") / "model"
    write_files(root, {
        "config.json": b'{"model_type": "test"}\n',
        "tokenizer.json": repetitive_text(6 << 20),
        "model-00001.bin": generate_weights(28 << 20, seed=1),
        "zeros.bin": bytes(72 << 20),  # a few KiB compressed: past the 8x cap of a chunk
        "model-00002.bin": generate_weights(12 << 20, dtype="bfloat16", seed=2),
    })
    return root


@pytest.fixture(scope="module", params=sorted(COMPRESSORS))
def archive(request, model, tmp_path_factory):
    program = COMPRESSORS[request.param].split()[0]
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    out = tmp_path_factory.mktemp(request.param) / "model.tar.gz"
    subprocess.run(["tar", "-c", "-I", COMPRESSORS[request.param], "-f", out, "-C", model, "."],
                   check=True)
    assert out.stat().st_size > 3 * (8 << 20), "too small to be split into chunks"
    return out


def test_a_foreign_archive_reads_to_the_bytes_it_was_made_from(model, archive):
    verify = run_smpack("verify", archive)
    assert verify.returncode == EXIT_OK, verify.stderr
    archive_digest = json.loads(run_smpack("digest", "--json", archive).stdout)
    directory_digest = json.loads(run_smpack("digest", "--json", model).stdout)
    assert archive_digest["content_digest"] == directory_digest["content_digest"]
    assert archive_digest["sha256"] == sha256_hex(archive.read_bytes())
    for name in ("tokenizer.json", "model-00002.bin"):
        cat = run_smpack("cat", archive, name, binary=True)
        assert cat.returncode == EXIT_OK and cat.stdout == (model / name).read_bytes(), name


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core inflates on one thread")
def test_the_archive_is_read_by_several_threads(archive, tmp_path):
    """The reader's own thread and one decoding thread would be two; the chunks' are more."""
    log = tmp_path / "strace.log"
    result = run_smpack_traced(log, "pread64", "verify", archive)
    assert result.returncode == EXIT_OK, result.stderr
    readers = {line.split()[0] for line in log.read_text().splitlines() if "pread64(" in line}
    assert len(readers) >= 3, readers


def test_damage_in_the_middle_is_corrupt_gzip_data(archive, tmp_path):
    data = bytearray(archive.read_bytes())
    for where in (len(data) // 3, len(data) - 4096):
        damaged = tmp_path / f"damaged-{where}.tar.gz"
        copy = bytearray(data)
        copy[where] ^= 0x40
        damaged.write_bytes(copy)
        assert subprocess.run(["gzip", "-t", damaged], capture_output=True).returncode != 0
        result = run_smpack("verify", damaged)
        assert result.returncode == EXIT_BAD_INPUT, (where, result.stdout, result.stderr)
        assert f"{damaged}: corrupt gzip data" in result.stderr, result.stderr


def test_add_code_splices_after_a_parallel_scan(model, archive, tmp_path):
    code = tmp_path / "code"
    write_files(code, {"inference.py": "def model_fn(model_dir):\n    return None\n"})
    out = tmp_path / "with-code.tar.gz"
    result = run_smpack("add-code", archive, "--code", code, "-o", out, "--no-lint", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    report = json.loads(result.stdout)
    # Everything up to the last block before the tar's end is kept, byte for byte.
    assert report["kept_bytes"] > archive.stat().st_size - (8 << 20), report
    assert out.read_bytes()[:report["kept_bytes"]] == archive.read_bytes()[:report["kept_bytes"]]
    assert subprocess.run(["gzip", "-t", out]).returncode == 0
    with tarfile.open(out) as tar:
        files = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
        assert sorted(files) == sorted([*(p.name for p in model.iterdir()), "code/inference.py"])
        for name in ("tokenizer.json", "model-00002.bin"):
            assert tar.extractfile(files[name]).read() == (model / name).read_bytes(), name
