"""Verdicts that must not let a broken deploy through: an artifact with nothing to load, and
a dangerous pickle in a build without code/."""

from __future__ import annotations

import io
import json
import pickle
import tarfile

import pytest

from conftest import run_smpack, write_files


def tar_gz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("members", [[], [("code", None), ("weights", None)]],
                         ids=["no-member", "directories-only"])
def test_an_artifact_with_nothing_to_load_is_an_error(tmp_path, members):
    archive = tar_gz(tmp_path / "empty.tar.gz", members)
    result = run_smpack("lint", archive, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)["reports"][0]
    assert report["deploy_ready"] is False
    [finding] = [f for f in report["findings"] if f["rule"] == "layout-empty"]
    assert finding["severity"] == "error"
    info = json.loads(run_smpack("info", archive, "--json").stdout)
    assert info["deploy_ready"] is False


def test_build_refuses_an_empty_model_directory(tmp_path):
    (tmp_path / "model").mkdir()
    result = run_smpack("build", tmp_path / "model", "-o", tmp_path / "m.tar.gz")
    assert result.returncode == 1
    assert "layout-empty" in result.stderr
    assert not (tmp_path / "m.tar.gz").exists()


class Exploit:
    def __reduce__(self):
        import os
        return (os.system, ("echo owned",))


def test_build_without_code_still_refuses_a_dangerous_pickle(tmp_path):
    """Weights are checked whether or not code/ is there yet."""
    write_files(tmp_path / "model", {"config.json": "{}\n"})
    (tmp_path / "model" / "model.pkl").write_bytes(pickle.dumps(Exploit()))
    result = run_smpack("build", tmp_path / "model", "-o", tmp_path / "m.tar.gz")
    assert result.returncode == 1, result.stderr
    assert "weights-dangerous-pickle" in result.stderr
    assert not (tmp_path / "m.tar.gz").exists()
    forced = run_smpack("build", tmp_path / "model", "-o", tmp_path / "m.tar.gz", "--no-lint")
    assert forced.returncode == 0, forced.stderr
