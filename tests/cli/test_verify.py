"""smpack verify: intact archives, wrong digests, manifests from elsewhere, tampered and
unreadable manifests."""

from __future__ import annotations

import json

import pytest

from conftest import run_smpack, sha256_hex
from archive_fixtures import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, _other_archive, built

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
