"""A damaged archive is read as far as it goes, as bsdtar does: `lint` and `info` show what
they could read, then the problem that stopped them (archive-unreadable), exit 3."""

from __future__ import annotations

import io
import json
import tarfile

from conftest import build_archive, generate_weights, make_model_dir, run_smpack
from archive_fixtures import read_index

WRONG_ARITY = "def model_fn(a, b, c):\n    return None\n"


def cut_gnu_archive(path):
    """code/inference.py (a wrong-arity model_fn), then 4 MiB of weights, cut in the middle."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (("code/inference.py", WRONG_ARITY.encode()),
                           ("model.bin", generate_weights(4 << 20))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_lint_reports_the_findings_before_the_damage_and_the_damage(tmp_path):
    archive = cut_gnu_archive(tmp_path / "cut.tar.gz")
    result = run_smpack("lint", archive, "--json")
    assert result.returncode == 3, result.stderr
    findings = json.loads(result.stdout)["reports"][0]["findings"]
    rules = [f["rule"] for f in findings]
    assert "handler-arity" in rules, findings  # read before the cut
    assert rules[-1] == "archive-unreadable", findings
    assert "model.bin" in findings[-1]["message"] or "truncated" in findings[-1]["message"]


def test_info_describes_what_it_read_and_names_the_problem(tmp_path):
    archive = cut_gnu_archive(tmp_path / "cut.tar.gz")
    result = run_smpack("info", archive, "--json")
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    assert doc["read_error"], doc
    assert doc["module"] == "code/inference.py"
    assert doc["deploy_ready"] is False
    text = run_smpack("info", archive)
    assert text.returncode == 3
    assert "handlers        code/inference.py" in text.stdout
    assert "unreadable      " in text.stdout and "error:" in text.stderr


def test_a_damaged_member_of_an_smpack_archive_does_not_hide_the_others(tmp_path):
    model = make_model_dir(tmp_path, weights_bytes=3 << 20,
                           extra={"code/inference.py": WRONG_ARITY})
    archive = build_archive(model, tmp_path / "m.tar.gz", "--no-lint")
    data = bytearray(archive.read_bytes())
    # Flip a byte inside the gzip member that holds model.bin's first bytes, which lint
    # reads to tell what the file is; the index stays intact.
    index, _ = read_index(bytes(data))
    entry = next(e for e in index["entries"] if e["path"] == "model.bin")
    file_offset, file_bytes, _, _ = index["members"][entry["member"]]
    data[file_offset + file_bytes // 2] ^= 0x55
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    result = run_smpack("lint", damaged, "--json")
    assert result.returncode == 3, result.stderr
    rules = [f["rule"] for f in json.loads(result.stdout)["reports"][0]["findings"]]
    # code/ sits after the weights: it is still read through the index.
    assert "handler-arity" in rules and "archive-unreadable" in rules, rules
    info = json.loads(run_smpack("info", damaged, "--json").stdout)
    assert info["files"] >= 4 and info["read_error"], info
