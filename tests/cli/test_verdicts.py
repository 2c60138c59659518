"""Verdicts that must not let a broken deploy through: an artifact with nothing to load, and
a dangerous pickle in a build without code/."""

from __future__ import annotations

import io
import json
import pickle
import tarfile

import pytest

from conftest import SYSTEM_PYTHON, run_smpack, write_files


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


def test_a_hugging_face_layout_without_architectures_needs_a_task(tmp_path):
    """config.json beside model.safetensors and the tokenizer files is the Hugging Face
    layout even when config.json names no architecture; then the container cannot tell
    the pipeline task, so huggingface-no-task fires without --profile."""
    numpy = pytest.importorskip("numpy")
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model = tmp_path / "model"
    write_files(model, {"config.json": '{"hidden_size": 4, "model_type": "bert"}\n',
                        "tokenizer.json": "{}\n", "tokenizer_config.json": "{}\n"})
    safetensors_numpy.save_file({"w": numpy.zeros((2, 2), dtype=numpy.float32)},
                                str(model / "model.safetensors"))
    result = run_smpack("lint", model, "--json")
    report = json.loads(result.stdout)["reports"][0]
    assert report["profile"] == "huggingface", report
    assert "model.safetensors" in report["profile_reason"] or "tokenizer" in report["profile_reason"]
    no_task = [f for f in report["findings"] if f["rule"] == "huggingface-no-task"]
    assert no_task, report["findings"]
    # config.json is there: the fix is its "architectures", not adding the file.
    assert "add the model's config.json" not in no_task[0]["message"], no_task
    assert '"architectures"' in no_task[0]["message"], no_task
    assert report["deploy_ready"] is False
    # With the task in the endpoint's environment, it is deploy-ready.
    tasked = json.loads(run_smpack("lint", model, "--json", "--env", "HF_TASK=fill-mask").stdout)
    assert tasked["reports"][0]["deploy_ready"] is True, tasked


SAVE_FROM_MAIN = """
import sys, torch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)
torch.save(Net(), sys.argv[1])
"""

LOAD_ELSEWHERE = """
import sys, torch
try:
    torch.load(sys.argv[1])
except AttributeError as e:
    print(e)
"""


def test_a_model_pickled_from_main_is_an_error_naming_its_class(tmp_path):
    """torch.save(model) of a class defined in the training script's __main__: torch itself,
    in another process, cannot load it; lint says so as an error, naming the class."""
    import subprocess

    if subprocess.run([SYSTEM_PYTHON, "-c", "import torch"], capture_output=True).returncode != 0:
        pytest.skip("torch is not installed for the system python3")
    model = tmp_path / "model"
    model.mkdir()
    subprocess.run([SYSTEM_PYTHON, "-c", SAVE_FROM_MAIN, model / "model.pth"], check=True,
                   capture_output=True)
    loaded = subprocess.run([SYSTEM_PYTHON, "-c", LOAD_ELSEWHERE, model / "model.pth"],
                            capture_output=True, text=True)
    assert "Can't get attribute 'Net' on <module '__main__'" in loaded.stdout, loaded
    report = json.loads(run_smpack("lint", model, "--json").stdout)["reports"][0]
    [finding] = [f for f in report["findings"] if f["rule"] == "weights-unknown-code"]
    assert finding["severity"] == "error", finding
    assert "'Net'" in finding["message"] and "__main__" in finding["message"], finding
    assert report["deploy_ready"] is False


SAVE_WHOLE_MODEL = """
import sys, torch
sys.path.insert(0, sys.argv[2])
from netdef import Net
torch.save(Net(), sys.argv[1])
"""


def test_a_pickled_class_outside_the_allowlist_is_an_error(tmp_path):
    """torch.save(model) of an importable class: nothing on torch's weights_only allowlist,
    so torch >= 2.6 refuses it by default and weights_only=False runs its import. The
    allowlist is the only pass: an error for lint and for build's gate, not a warning."""
    import subprocess

    if subprocess.run([SYSTEM_PYTHON, "-c", "import torch"], capture_output=True).returncode != 0:
        pytest.skip("torch is not installed for the system python3")
    definitions = tmp_path / "defs"
    definitions.mkdir()
    (definitions / "netdef.py").write_text(
        "import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = torch.nn.Linear(2, 2)\n")
    model = tmp_path / "model"
    model.mkdir()
    subprocess.run([SYSTEM_PYTHON, "-c", SAVE_WHOLE_MODEL, model / "model.pth", definitions],
                   check=True, capture_output=True)
    done = run_smpack("lint", model, "--json")
    report = json.loads(done.stdout)["reports"][0]
    [finding] = [f for f in report["findings"] if f["rule"] == "weights-unknown-code"]
    assert finding["severity"] == "error", finding
    assert "netdef.Net" in finding["message"], finding
    assert done.returncode == 1 and report["deploy_ready"] is False
    built = run_smpack("build", model, "-o", tmp_path / "model.tar.gz")
    assert built.returncode == 1, built.stderr
    assert "weights-unknown-code" in built.stderr
    assert not (tmp_path / "model.tar.gz").exists()
