"""Disguised pickles and public scanner bypasses, against the loaders themselves.

Every case of bypass_corpus.py is loaded by its real loader (Debian's python3 with
python3-torch 1.13: torch.load with weights_only=False, pickle.load, numpy.load with
allow_pickle) in a subprocess, and its payload touches a marker: the test first proves
that the loader runs it, then that `smpack lint` refuses the file with an error-level
`weights-*` rule naming it, in a model directory and in a tar.gz read as a stream.
Cases whose loader does not run the payload as written (it fails on the bits a scanner
trips over, or needs a custom unwrap) are refused all the same.

Also here: an unrecognised file under a pickle-loader name, and the bounds on work, which
a small hostile file must not break: judged in under 2 s of CPU and 256 MiB of RSS,
measured from the child's rusage (the plain build only, not under the sanitizers)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest

from bypass_corpus import make_bypass_cases, run_loaders, torch_zip_with
from conftest import run_smpack, smpack_bin

pytest.importorskip("torch")

EXIT_FINDINGS, EXIT_BAD_INPUT = 1, 3
UNDER_SANITIZERS = bool(os.environ.get("ASAN_OPTIONS"))


def error_findings(target: Path) -> tuple[int, list[dict]]:
    result = run_smpack("lint", target, "--format", "json")
    assert result.stdout, result.stderr
    [report] = json.loads(result.stdout)["reports"]
    return result.returncode, [f for f in report["findings"] if f["severity"] == "error"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bypasses")
    cases = make_bypass_cases(root / "files")
    run_loaders(cases, cwd=root)
    return root, cases


def test_the_loaders_run_every_payload_that_the_corpus_says_they_run(corpus):
    _root, cases = corpus
    not_run = [c.name for c in cases if c.runs and not c.marker.exists()]
    assert not not_run, f"the loader did not run these payloads, so they prove nothing: {not_run}"


def test_each_case_is_refused_in_a_model_directory_naming_the_file(corpus):
    root, cases = corpus
    missed = []
    for case in cases:
        model = root / "dirs" / case.name
        model.mkdir(parents=True)
        (model / case.name).write_bytes(case.path.read_bytes())
        code, errors = error_findings(model)
        named = [f for f in errors if f["rule"].startswith("weights-") and f["member"] == case.name]
        if code != EXIT_FINDINGS or not named:
            missed.append(f"{case.name} ({case.note}): exit {code}, errors {errors}")
    assert not missed, "\n".join(missed)


def test_each_case_is_refused_in_a_streamed_archive(corpus):
    root, cases = corpus
    archive = root / "all.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for case in cases:
            tar.add(case.path, arcname=f"weights/{case.name}")
    code, errors = error_findings(archive)
    assert code == EXIT_FINDINGS
    flagged = {f["member"] for f in errors if f["rule"].startswith("weights-")}
    assert flagged >= {f"weights/{c.name}" for c in cases}, flagged


def test_unrecognised_content_under_a_pickle_loader_name_is_an_error(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    raw = struct.pack("<4f", 1, 2, 3, 4)
    (model / "model.bin").write_bytes(raw)
    (model / "weights.raw").write_bytes(raw)  # no loader unpickles this name
    code, errors = error_findings(model)
    assert code == EXIT_FINDINGS
    assert [(f["rule"], f["member"]) for f in errors] == [("weights-unknown-format", "model.bin")]
    assert "torch.load" in errors[0]["message"]


def test_text_that_starts_with_pickle_opcodes_is_not_a_weight_file(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "vocab.txt").write_text("cat\ndog\nmouse\n")
    (model / "README").write_text("Import this model with torch.\n")
    code, errors = error_findings(model)
    assert (code, errors) == (0, [])


# ---- bounded work ----------------------------------------------------------------------


def binunicode(text: str) -> bytes:
    return b"X" + struct.pack("<I", len(text)) + text.encode()


def nested_tensors(depth: int) -> bytes:
    """{'k': {'k': ... } , 'w': tensor} to `depth`, a tensor at every level: a tensor's
    name is its path, so a path copied at every depth costs depth squared."""
    pickle = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nq\x000"
    pickle += (b"(" + binunicode("storage") + b"ctorch\nFloatStorage\n" + binunicode("0") +
               binunicode("cpu") + b"K\x02tQq\x010")
    tensor = b"h\x00(h\x01K\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR"
    pickle += b"}" + (binunicode("k") + b"}") * depth + (binunicode("w") + tensor + b"ss") * depth
    return pickle + b"."


def shared_stream_zip(records: int, inflated: int) -> bytes:
    """A zip whose `records` .pkl entries all point at one deflate stream that inflates
    to `inflated` bytes of a pickle's long string."""
    import zlib

    pickle_head = b"\x80\x02X" + struct.pack("<I", inflated - 8)
    body = pickle_head + b"a" * (inflated - len(pickle_head) - 1) + b"."
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(body) + compressor.flush()
    crc = zlib.crc32(body)
    name = b"evil/data.pkl"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated),
                        len(body), len(name), 0) + name
    central = b""
    for i in range(records):
        entry_name = f"evil/r{i}.pkl".encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                               len(deflated), len(body), len(entry_name), 0, 0, 0, 0, 0,
                               0) + entry_name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, records, records, len(central),
                      len(local) + len(deflated), 0)
    return local + deflated + central + end


def measured_lint(target: Path, tmp_path: Path) -> tuple[int, list[dict], float, int]:
    """Lints `target` and returns the exit code, the error findings, and the CPU seconds
    and peak RSS in bytes of smpack alone: GNU time reads them from wait4's rusage (a
    child forked from this Python would count the pytest process's pages in its RSS)."""
    usage_file = tmp_path / "rusage"
    result = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(usage_file),
                             str(smpack_bin()), "lint", str(target), "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    user, system, max_rss_kib = usage_file.read_text().split()[-3:]
    [report] = json.loads(result.stdout)["reports"]
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    return result.returncode, errors, float(user) + float(system), int(max_rss_kib) * 1024


@pytest.mark.parametrize("case", ["nested_tensors", "nested_tensors_16mib", "shared_stream"])
def test_a_small_hostile_file_is_judged_in_bounded_time_and_memory(tmp_path, case):
    model = tmp_path / "model"
    model.mkdir()
    if case == "nested_tensors":
        # 1.9 MB; a path copied at every depth took 2.8 s of CPU and 2 GiB here.
        data = torch_zip_with(nested_tensors(32000), tmp_path, "nested")
        member, rules = "model.pt", set()
    elif case == "nested_tensors_16mib":
        # Judging it whole would hold over 160 MiB of simulated objects: not judged.
        data = torch_zip_with(nested_tensors(270000), tmp_path, "nested")
        member, rules = "model.pt", {"weights-not-judged"}
    else:
        data = shared_stream_zip(8, 1000 << 20)
        member, rules = "model.pt", {"weights-not-judged", "weights-zip-anomaly"}
    assert len(data) < 16 << 20
    (model / member).write_bytes(data)
    code, errors, cpu, rss = measured_lint(model, tmp_path)
    assert {f["rule"] for f in errors} >= rules, errors
    if case == "shared_stream":
        assert code == EXIT_FINDINGS
        judged = [f for f in errors if f["rule"] == "weights-not-judged"]
        assert judged and "not inflated" in judged[0]["message"], errors
    if not UNDER_SANITIZERS:
        assert cpu < 2.0, f"{case}: {cpu:.2f} s of CPU"
        assert rss < 256 << 20, f"{case}: {rss >> 20} MiB"


def test_a_cap_that_stops_a_pickle_is_an_error_not_a_pass(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    # Five million opcodes before the call: past the analyser's opcode cap.
    many = b"\x80\x02" + b"N0" * 2_500_000 + b"cos\nsystem\n(S'true'\ntR."
    (model / "model.pkl").write_bytes(many)
    code, errors, _cpu, _rss = measured_lint(model, tmp_path)
    assert code == EXIT_FINDINGS
    errors = [f for f in errors if f["rule"].startswith("weights-")]
    assert [f["rule"] for f in errors] == ["weights-not-judged"], errors
    assert "opcodes" in errors[0]["message"] and errors[0]["member"] == "model.pkl"
