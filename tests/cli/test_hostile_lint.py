"""`smpack lint` and `smpack info` on hostile input, end to end.

Every case is built at test time: archives with unsafe members and broken gzip/tar
streams (Python's tarfile and hand-edited bytes), and weight files written by Python's
torch and numpy or by hand (the pickle cases of test_weights_oracles). Each case asserts
the exit code, the finding's rule ID and that its message names the member; the weight
cases run in a model directory, in an archive written by Python's tarfile (streamed) and
in one written by smpack build (read through its index)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import (
    TarEntry,
    build_archive,
    hostile_member_cases,
    run_smpack,
    write_tar,
)

torch = pytest.importorskip("torch")
oracles = pytest.importorskip("test_weights_oracles")

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 3


def lint_json(target: Path, *args: str):
    result = run_smpack("lint", target, "--format", "json", *args)
    assert result.stdout, result.stderr
    reports = json.loads(result.stdout)["reports"]
    assert len(reports) == 1
    return result, reports[0]["findings"]


def with_rule(findings, rule: str) -> list[dict]:
    return [f for f in findings if f["rule"] == rule]


# ---- unsafe members and unreadable archives -----------------------------------------


@pytest.mark.parametrize("case", list(hostile_member_cases(Path("/x"))))
def test_each_unsafe_member_is_its_own_finding_and_exit_3(tmp_path, case):
    entries, refused, _phrase, rule = hostile_member_cases(tmp_path / "outside")[case]
    archive = write_tar(tmp_path / "hostile.tar.gz", [TarEntry("model.pt", b"x"), *entries])
    result, findings = lint_json(archive)
    assert result.returncode == EXIT_BAD_INPUT, result.stdout + result.stderr
    found = with_rule(findings, rule)
    assert found, findings
    assert any(refused in f["message"] for f in found), found
    assert f"[{rule}]" in result.stderr


def test_a_member_written_through_an_earlier_symlink(tmp_path):
    archive = write_tar(tmp_path / "through.tar.gz", [
        TarEntry("model.pt", b"x"), TarEntry("d", type=tarfile.DIRTYPE, mode=0o755),
        TarEntry("a", type=tarfile.SYMTYPE, linkname="d"), TarEntry("a/evil.txt", b"x")])
    result, findings = lint_json(archive)
    assert result.returncode == EXIT_BAD_INPUT
    [found] = with_rule(findings, "archive-write-through-link")
    assert found["member"] == "a/evil.txt" and "'a'" in found["message"]


def test_setuid_and_duplicates_are_warnings(tmp_path):
    archive = write_tar(tmp_path / "modes.tar.gz", [
        TarEntry("model.pt", b"x"), TarEntry("run.sh", b"#!/bin/sh\n", mode=0o4755),
        TarEntry("config.json", b"{}"), TarEntry("config.json", b'{"evil": 1}')])
    result, findings = lint_json(archive, "--fail-on", "warning")
    assert result.returncode == EXIT_FINDINGS, result.stderr
    [setuid] = with_rule(findings, "archive-setuid")
    assert setuid["member"] == "run.sh" and "4755" in setuid["message"]
    [duplicate] = with_rule(findings, "archive-duplicate-member")
    assert duplicate["member"] == "config.json"


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _tar_bytes(entries: list[TarEntry]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.size = len(entry.data)
            tar.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def _zip_of(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.tar", data)
    return buffer.getvalue()


def _header(name: str, size: int, kind: bytes, data: bytes = b"") -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


def long_name_conflict(gnu: str, pax: str) -> bytes:
    """One member named by a GNU long-name record and by a pax path record."""
    long_name = gnu.encode() + b"\0"
    record = f"path={pax}\n".encode()
    record = str(len(record) + 3).encode() + b" " + record
    return (_header("././@LongLink", len(long_name), b"L", long_name)
            + _header("PaxHeader", len(record), b"x", record)
            + _header("ustar-name.txt", 3, b"0", b"abc") + bytes(1024))


def _unreadable_cases() -> dict[str, tuple[bytes, str, str]]:
    """name -> (archive bytes, a phrase the message must contain, the rule)."""
    tar = _tar_bytes([TarEntry("model.pt", b"w" * 5000), TarEntry("code/inference.py", b"x = 1\n")])
    good = _gzip(tar)
    bad_crc = bytearray(good)
    bad_crc[-8] ^= 0xFF
    # The header says 5000 bytes; the stream ends after 1000 of them.
    short = _gzip(tar[:512 + 1000])
    # 80 MiB of zeros: past the 64 MiB floor at a ratio far above the 250:1 cap.
    bomb = _gzip(_tar_bytes([TarEntry("zeros.bin", bytes(80 << 20))]))
    return {
        "truncated-gzip": (good[: len(good) // 2], "truncated", "archive-unreadable"),
        "bad-crc": (bytes(bad_crc), "CRC", "archive-unreadable"),
        "trailing-garbage": (good + b"garbage after the last member", "after", "archive-unreadable"),
        "header-promises-more-data": (short, "model.pt", "archive-unreadable"),
        "gzip-bomb": (bomb, "ratio", "archive-unreadable"),
        "zip-named-tar-gz": (_zip_of(tar), "zip", "archive-unreadable"),
        "pax-gnu-long-name-conflict": (_gzip(long_name_conflict("gnu-name.txt", "pax-name.txt")),
                                       "gnu-name.txt", "archive-ambiguous"),
    }


@pytest.mark.parametrize("case", list(_unreadable_cases()))
def test_an_unreadable_archive_is_an_archive_unreadable_finding_and_exit_3(tmp_path, case):
    data, phrase, rule = _unreadable_cases()[case]
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(data)
    result, findings = lint_json(archive)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    [found] = with_rule(findings, rule)
    assert phrase.lower() in found["message"].lower(), found["message"]
    assert phrase.lower() in result.stderr.lower()
    sarif = run_smpack("lint", archive, "--format", "sarif")
    assert sarif.returncode == EXIT_BAD_INPUT
    # What was read before the damage is linted too; the damage is reported last.
    assert json.loads(sarif.stdout)["runs"][0]["results"][-1]["ruleId"] == rule


def test_the_long_name_conflict_is_real_and_agreeing_names_are_fine(tmp_path):
    conflict = tmp_path / "conflict.tar.gz"
    conflict.write_bytes(_gzip(long_name_conflict("gnu-name.txt", "pax-name.txt")))
    # Why it is refused: the readers users have disagree on the member's name.
    with tarfile.open(conflict) as tar:
        assert tar.getnames() == ["gnu-name.txt"]
    if shutil.which("tar"):
        listed = subprocess.run(["tar", "tzf", conflict], capture_output=True, text=True).stdout
        assert listed.split() == ["pax-name.txt"]
    assert run_smpack("ls", conflict).returncode == EXIT_BAD_INPUT
    agreeing = tmp_path / "agreeing.tar.gz"
    agreeing.write_bytes(_gzip(long_name_conflict("same-name.txt", "same-name.txt")))
    listed = run_smpack("ls", agreeing)
    assert listed.returncode == EXIT_OK and listed.stdout.split() == ["same-name.txt"]


def test_a_non_utf8_name_is_read_exactly_printed_escaped_and_a_warning(tmp_path):
    archive = tmp_path / "latin1.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        info = tarfile.TarInfo("caf\xe9.bin")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    listed = run_smpack("ls", archive)
    assert listed.returncode == EXIT_OK and listed.stdout.split() == ["caf\\xe9.bin"]
    raw_name = b"caf\xe9.bin".decode("utf-8", "surrogateescape")  # passed to argv as bytes
    assert run_smpack("cat", archive, raw_name, binary=True).stdout == b"abc"
    result, findings = lint_json(archive, "--fail-on", "warning")
    assert result.returncode == EXIT_FINDINGS
    [found] = with_rule(findings, "archive-name-encoding")
    assert "caf" in found["member"] and "UTF-8" in found["message"]


@pytest.mark.parametrize("compress", [lzma.compress, bz2.compress])
def test_a_readable_tar_in_another_compression_is_a_layout_finding(tmp_path, compress):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(compress(_tar_bytes([TarEntry("model.pt", b"x")])))
    result, findings = lint_json(archive)
    assert result.returncode == EXIT_FINDINGS, result.stderr
    assert [f["rule"] for f in findings if f["rule"].startswith(("layout-", "archive-"))] == [
        "layout-not-gzip"]


# ---- weight files, by content ---------------------------------------------------------

# What lint must say of each pickle case of test_weights_oracles, by its verdict and problem.
def expected_rules(case) -> set[str]:
    rules = set()  # TorchScript is code by design: info lists it, lint does not flag it
    if case.verdict == "dangerous":
        rules.add("weights-dangerous-pickle")
    elif case.verdict == "unknown_code" and case.format != "torchscript_zip":
        rules.add("weights-unknown-code")
    rules |= {
        "zip_name_mismatch": {"weights-zip-anomaly"},
        "zip_duplicate_name": {"weights-zip-anomaly"},
        # The CRC was changed in the central directory only: the local header disagrees.
        "zip_crc_mismatch": {"weights-corrupt", "weights-zip-anomaly"},
    }.get(case.problem, set())
    return rules


def _containers(tmp_path: Path, files: list[Path]) -> dict[str, Path]:
    model = tmp_path / "model"
    (model / "weights").mkdir(parents=True)
    for path in files:
        shutil.copy(path, model / "weights" / path.name)
    streamed = tmp_path / "tarfile.tar.gz"
    with tarfile.open(streamed, "w:gz", compresslevel=1) as tar:
        tar.add(model, arcname=".")
    indexed = build_archive(model, tmp_path / "smpack.tar.gz", "--no-lint")
    return {"directory": model, "tarfile": streamed, "smpack": indexed}


@pytest.fixture(scope="module")
def pickle_containers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pickles")
    cases = oracles.make_pickle_cases(tmp)
    return cases, _containers(tmp, [path for path, _ in cases])


@pytest.mark.parametrize("container", ["directory", "tarfile", "smpack"])
def test_every_pickle_case_gets_its_rule_naming_the_member(pickle_containers, container):
    cases, containers = pickle_containers
    result, findings = lint_json(containers[container], "--profile", "generic")
    weight_rules = {f["rule"] for f in findings if f["rule"].startswith("weights-")}
    assert result.returncode == EXIT_FINDINGS, result.stderr  # dangerous pickles are errors
    for path, case in cases:
        member = f"weights/{path.name}"
        got = {f["rule"] for f in findings
               if f["member"] == member and f["rule"].startswith("weights-")}
        assert got == expected_rules(case), (member, got, case)
        for f in findings:
            if f["member"] == member:
                assert path.name in f["message"], f
    assert "weights-dangerous-pickle" in weight_rules


@pytest.mark.parametrize("container", ["directory", "tarfile", "smpack"])
def test_a_clean_state_dict_has_no_weight_findings(tmp_path, container):
    torch.save({"w": torch.ones(4, 4), "b": torch.zeros(4)}, tmp_path / "model.pth")
    target = _containers(tmp_path, [tmp_path / "model.pth"])[container]
    result, findings = lint_json(target, "--profile", "generic", "--fail-on", "info")
    assert [f for f in findings if f["rule"].startswith("weights-")] == []


@pytest.mark.parametrize("container", ["directory", "tarfile", "smpack"])
def test_info_lists_weight_files_with_format_tensors_and_bytes(tmp_path, container):
    state = {"layer.weight": torch.ones(8, 16), "layer.bias": torch.zeros(8, dtype=torch.float16)}
    torch.save(state, tmp_path / "state.pt")
    torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), tmp_path / "scripted.pt")
    (tmp_path / "notes.pt").write_bytes(b"not a weight file at all")
    target = _containers(tmp_path, [tmp_path / "state.pt", tmp_path / "scripted.pt",
                                    tmp_path / "notes.pt"])[container]
    result = run_smpack("info", target, "--format", "json")
    assert result.returncode == EXIT_OK, result.stderr
    weights = {w["member"]: w for w in json.loads(result.stdout)["weights"]}
    # A name torch.load would unpickle is listed whatever it holds (weights-unknown-format).
    assert set(weights) == {"weights/state.pt", "weights/scripted.pt", "weights/notes.pt"}, weights
    assert weights["weights/notes.pt"]["format"] == "unknown"
    state_info = weights["weights/state.pt"]
    assert state_info["format"] == "pytorch_zip" and state_info["verdict"] == "weights_only"
    assert state_info["tensors"] == 2
    assert state_info["tensor_bytes"] == sum(t.numel() * t.element_size() for t in state.values())
    assert weights["weights/scripted.pt"]["format"] == "torchscript_zip"
    text = run_smpack("info", target)
    assert "weight files    3" in text.stdout and "weights/state.pt" in text.stdout


def test_default_pytorch_loader_needs_torchscript_by_content(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    torch.save({"w": torch.ones(2)}, model / "model.pth")
    result, findings = lint_json(model, "--profile", "pytorch")
    [found] = with_rule(findings, "pytorch-default-not-torchscript")
    assert found["member"] == "model.pth" and "torch.jit.load" in found["message"]
    # Said in words, not with the JSON token of the format.
    assert "a PyTorch zip checkpoint (torch.save)" in found["message"]
    assert "pytorch_zip" not in found["message"]
    assert result.returncode == EXIT_FINDINGS
    (model / "model.pth").unlink()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), model / "model.pth")
    result, findings = lint_json(model, "--profile", "pytorch")
    assert with_rule(findings, "pytorch-default-not-torchscript") == []


def test_build_refuses_a_dangerous_pickle_unless_told_not_to_lint(tmp_path):
    model = tmp_path / "model"
    (model / "code").mkdir(parents=True)
    (model / "code" / "inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    # os.system('true') on load, in a file whose name says nothing.
    (model / "extra.bin").write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")
    archive = tmp_path / "model.tar.gz"
    refused = run_smpack("build", model, "-o", archive)
    assert refused.returncode == EXIT_FINDINGS, refused.stderr
    assert "weights-dangerous-pickle" in refused.stderr and "extra.bin" in refused.stderr
    assert not archive.exists()
    assert run_smpack("build", model, "-o", archive, "--no-lint").returncode == EXIT_OK
    assert archive.exists()


def test_a_large_checkpoint_in_a_streamed_archive_is_partly_scanned(tmp_path):
    # 100 MiB of tensors: the middle of the zip is outside the 64 MiB + 16 MiB windows.
    # Random values: zeros would trip the compression-ratio cap first.
    torch.manual_seed(0)
    torch.save({f"t{i}": torch.rand(5 << 20) for i in range(5)}, tmp_path / "big.pt")
    containers = _containers(tmp_path, [tmp_path / "big.pt"])
    _, streamed = lint_json(containers["tarfile"], "--profile", "generic")
    assert with_rule(streamed, "weights-partly-scanned"), streamed
    _, indexed = lint_json(containers["smpack"], "--profile", "generic")
    assert with_rule(indexed, "weights-partly-scanned") == [], "the index gives random access"
