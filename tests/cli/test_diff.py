"""smpack diff: identical content, and added, removed, changed and re-moded members."""

from __future__ import annotations

import json

from conftest import build_archive, run_smpack
from archive_fixtures import EXIT_FINDINGS, EXIT_OK, _other_archive, built

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
