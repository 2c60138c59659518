"""`smpack info` on archives and directories: the handler module with each
handler's line and parameter count, the profile, and the deploy-ready verdict
with the deploy call that avoids the SDK's repack."""

from __future__ import annotations

import json
import subprocess

from conftest import build_archive, make_model_dir, run_smpack, write_files

HANDLERS = (
    "import json\n\n\n"
    "def model_fn(model_dir, context=None):\n    return None\n\n\n"
    "async def predict_fn(data, model):\n    return data\n"
)


def info_json(path):
    result = run_smpack("info", path, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_handlers_from_an_smpack_archive_a_foreign_one_and_a_directory(tmp_path):
    model = make_model_dir(tmp_path, extra={"code/inference.py": HANDLERS, "model.pt": b"x"})
    archive = build_archive(model, tmp_path / "m.tar.gz", "--no-lint")
    foreign = tmp_path / "gnu.tar.gz"
    subprocess.run(["tar", "czf", foreign, "-C", model, "."], check=True)
    for path in (archive, foreign, model):
        doc = info_json(path)
        assert doc["module"] == "code/inference.py"
        assert doc["handlers"]["model_fn"] == {"line": 4, "file": "code/inference.py", "params": 2, "async": False}
        assert doc["handlers"]["predict_fn"]["async"] is True
        assert doc["profile"] == "huggingface"  # config.json names an architecture


def test_ready_archive_prints_the_call_that_avoids_the_repack(tmp_path):
    model = make_model_dir(tmp_path, extra={"code/inference.py": "def model_fn(model_dir):\n    return 1\n"})
    archive = build_archive(model, tmp_path / "m.tar.gz")
    doc = info_json(archive)
    assert doc["deploy_ready_without_repack"] is True
    assert "SAGEMAKER_PROGRAM" in doc["deploy_call"]
    text = run_smpack("info", archive).stdout
    assert "deploy-ready    yes, without a repack" in text
    assert "no entry_point, no source_dir" in text


def test_archive_without_code_is_not_ready(tmp_path):
    archive = build_archive(make_model_dir(tmp_path), tmp_path / "m.tar.gz")
    doc = info_json(archive)
    assert doc["module"] == ""
    assert doc["deploy_ready_without_repack"] is False
    assert "the container's defaults run" in run_smpack("info", archive).stdout


def test_lint_errors_make_it_not_ready(tmp_path):
    model = make_model_dir(tmp_path)
    write_files(model, {"code/inference.py": "def model_fn(a, b, c):\n    pass\n"})
    archive = build_archive(model, tmp_path / "m.tar.gz", "--no-lint")
    doc = info_json(archive)
    assert doc["lint_errors"] >= 1
    assert doc["deploy_ready_without_repack"] is False
