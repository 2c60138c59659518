"""`smpack info` on archives and directories: the handler module with each
handler's line and parameter count, the profile, and the deploy-ready verdict
with the deploy call that avoids the SDK's repack."""

from __future__ import annotations

import gzip
import json
import subprocess

from archive_fixtures import EXIT_OK, built, count_gzip_members, read_index
from conftest import (STAND_IN_PICKLE, build_archive, make_model_dir, run_smpack, sha256_hex,
                      write_files)

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
    model = make_model_dir(tmp_path, extra={"code/inference.py": HANDLERS, "model.pt": STAND_IN_PICKLE})
    archive = build_archive(model, tmp_path / "m.tar.gz", "--no-lint")
    foreign = tmp_path / "gnu.tar.gz"
    subprocess.run(["tar", "czf", foreign, "-C", model, "."], check=True)
    for path in (archive, foreign, model):
        doc = info_json(path)
        assert doc["module"] == "code/inference.py"
        assert doc["handlers"]["model_fn"] == {"line": 4, "file": "code/inference.py", "defined": True, "params": 2, "async": False}
        assert doc["handlers"]["predict_fn"]["async"] is True
        assert doc["profile"] == "huggingface"  # config.json names an architecture


def test_ready_archive_prints_the_call_that_avoids_the_repack(tmp_path):
    model = make_model_dir(tmp_path, extra={"code/inference.py": "def model_fn(model_dir):\n    return 1\n"})
    archive = build_archive(model, tmp_path / "m.tar.gz")
    doc = info_json(archive)
    assert doc["deploy_ready"] is True
    assert "SAGEMAKER_PROGRAM" in doc["deploy_call"]
    text = run_smpack("info", archive).stdout
    assert "deploy-ready    yes, without a repack" in text
    assert "SDK v3" in text and "no source_code: nothing to repack" in text
    assert "no entry_point, no source_dir" in run_smpack("info", archive, "--sdk", "v2").stdout


def lint_json(path):
    result = run_smpack("lint", path, "--json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["reports"][0]


def torchscript_model(path):
    """A TorchScript model.pt, which the PyTorch container serves with its default handlers."""
    import torch

    class Net(torch.nn.Module):
        def forward(self, x):
            return x * 2

    torch.jit.save(torch.jit.script(Net()), str(path))


def test_info_and_lint_give_one_verdict(tmp_path):
    """info takes the handler scan and the verdict from the lint run itself, so the two
    can never disagree: not for a code-less TorchScript archive (the container's default
    handlers serve it), a code-less pickle, or a wrong-arity handler."""
    torchscript = tmp_path / "ts"
    torchscript.mkdir()
    torchscript_model(torchscript / "model.pt")
    pickled = make_model_dir(tmp_path, name="pickled")
    arity = make_model_dir(tmp_path, name="arity")
    write_files(arity, {"code/inference.py": "def model_fn(a, b, c):\n    pass\n"})
    expected = {torchscript: True, arity: False}
    for model in (torchscript, pickled, arity):
        archive = build_archive(model, tmp_path / f"{model.name}.tar.gz", "--no-lint")
        for path in (archive, model):
            doc, lint = info_json(path), lint_json(path)
            assert doc["deploy_ready"] == lint["deploy_ready"], (path, doc, lint)
            assert doc["profile"] == lint["profile"], path
            assert doc["lint_errors"] == sum(f["severity"] == "error" for f in lint["findings"])
            if model in expected:
                assert doc["deploy_ready"] is expected[model], (path, lint["findings"])
    assert info_json(tmp_path / "ts.tar.gz")["module"] == ""
    assert "the container's default handlers run" in run_smpack("info", tmp_path / "ts.tar.gz").stdout


def test_info_summarises_an_smpack_archive(built):
    data = built.archive.read_bytes()
    files = [e for e in built.entries if e["type"] == "file"]
    doc = json.loads(run_smpack("info", "--json", built.archive).stdout)
    assert doc["writer"] == "smpack" and doc["smpack_index"] is True
    assert doc["container"] == "gzip"
    assert doc["archive_bytes"] == len(data)
    assert doc["tar_bytes"] == len(gzip.decompress(data))
    # Every gzip member of the file, the index's own included, counted as zlib sees them,
    # and the same figure that verify reports from its full pass.
    assert doc["gzip_members"] == count_gzip_members(data)
    assert doc["gzip_members"] > len(read_index(data)[0]["members"])
    verified = json.loads(run_smpack("verify", "--json", built.archive).stdout)
    assert verified["gzip_members"] == doc["gzip_members"]
    assert doc["files"] == len(files)
    assert doc["directories"] == len(built.entries) - len(files)
    assert doc["data_bytes"] == sum(e["size"] for e in files)
    assert doc["has_code"] is True
    assert doc["content_digest"] == built.digest
    assert doc["largest"][0] == {"path": "model.bin", "size": (built.src / "model.bin").stat().st_size,
                                 "sha256": sha256_hex((built.src / "model.bin").read_bytes())}

    text = run_smpack("info", built.archive)
    assert text.returncode == EXIT_OK and text.stderr == ""
    assert "written by      smpack" in text.stdout
    assert f"content digest  {built.digest}" in text.stdout


def test_a_valid_torchscript_model_has_no_problems_in_info(tmp_path):
    """TorchScript's own code and __torch__ globals are what it is, not defects of the file."""
    model = tmp_path / "ts"
    model.mkdir()
    torchscript_model(model / "model.pt")
    line = next(l for l in run_smpack("info", model).stdout.splitlines() if "model.pt" in l and "tensors" in l)
    assert "code (TorchScript)" in line and "problem" not in line, line
    # A damaged one (cut short: no central directory) still says so.
    data = (model / "model.pt").read_bytes()
    (model / "model.pt").write_bytes(data[: len(data) - 40])
    line = next(l for l in run_smpack("info", model).stdout.splitlines() if "model.pt" in l and "tensors" in l)
    assert "problem(s)" in line, line
