"""smpack invoke: the archive's own handlers run by the real toolkit (sagemaker-inference's
Transformer, sagemaker-pytorch-inference's defaults) in .venv-serving's Python, which sees
Debian's torch: smpack init's templates, a failing model_fn, the default handlers,
transform_fn with its context, Batch Transform records, and handlers that hang."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, run_smpack
from template_models import init_args

TORCH_PYTHON = "/usr/bin/python3"
SERVING_PYTHON = SOURCE_DIR / ".venv-serving" / "bin" / "python"
X = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.25, 2.0]]

MODELS = textwrap.dedent(
    """
    import json, sys, torch, torch.nn as nn
    out = sys.argv[1]
    torch.manual_seed(0)
    linear = nn.Linear(4, 2).eval()
    torch.jit.save(torch.jit.script(linear), f"{out}/model.pt")
    torch.save({"linear." + k: v for k, v in linear.state_dict().items()}, f"{out}/model.pth")
    with torch.no_grad():
        json.dump(linear(torch.tensor(%r)).tolist(), open(f"{out}/expected.json", "w"))
    """ % (X,))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("invoke-models")
    subprocess.run([TORCH_PYTHON, "-c", MODELS, str(root)], check=True)
    return root


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """TMPDIR for smpack: invoke's extraction folder must be gone afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


def archive_of(tmp_path, name, files):
    source = tmp_path / name
    for relative, content in files.items():
        path = source / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            content = content.read_bytes()
        path.write_bytes(content if isinstance(content, bytes) else textwrap.dedent(content).encode())
    archive = tmp_path / f"{name}.tar.gz"
    done = run_smpack("build", source, "-o", archive, "--no-lint")
    assert done.returncode == 0, done.stderr
    return archive


def invoke(source, *args, data=json.dumps(X), tmp_path, timeout=120):
    body = tmp_path / "body.json"
    body.write_text(data)
    return run_smpack("invoke", source, "--data", body, "--content-type", "application/json",
                      "--python", SERVING_PYTHON, *args, timeout=timeout)


def last_json_line(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def close_to(got, want):
    """Nested lists of floats, equal to float32 precision."""
    import numpy as np
    return np.allclose(np.array(got), np.array(want), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("template, model", [("pytorch-torchscript", "model.pt"),
                                             ("pytorch-state-dict", "model.pth")])
def test_templates_answer(models, tmp_path, scratch, template, model):
    source = tmp_path / "model"
    (source / "code").mkdir(parents=True)
    (source / model).write_bytes((models / model).read_bytes())
    done = run_smpack("init", *init_args(template), source / "code")
    assert done.returncode == 0, done.stderr
    archive = tmp_path / "model.tar.gz"
    assert run_smpack("build", source, "-o", archive).returncode == 0
    done = invoke(archive, "--accept", "application/json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert close_to(last_json_line(done.stdout), json.loads((models / "expected.json").read_text()))
    assert "handlers:     code/inference.py (profile pytorch)" in done.stdout
    assert "response:     200, application/json" in done.stdout
    assert "model load:" in done.stdout and "warm: median" in done.stdout


def test_default_handlers_without_inference_py(models, tmp_path, scratch):
    archive = archive_of(tmp_path, "bare", {"model.pt": models / "model.pt"})
    done = invoke(archive, "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["handler_module"] == "" and report["profile"] == "pytorch"
    assert report["default_handler"].endswith("DefaultPytorchInferenceHandler")
    assert report["status"] == 200 and report["content_type"] == "application/json"
    assert close_to(json.loads(report["body"]), json.loads((models / "expected.json").read_text()))
    assert report["model_load_ms"] > 0 and len(report["warm_response_ms"]) == 3


def test_failing_model_fn_shows_the_traceback(models, tmp_path, scratch):
    archive = archive_of(tmp_path, "broken", {
        "model.pt": models / "model.pt",
        "code/inference.py": """\
            import os

            def model_fn(model_dir):
                raise FileNotFoundError("no weights at " + os.path.join(model_dir, "weights.bin"))
            """})
    done = invoke(archive, tmp_path=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "model load failed" in done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert 'inference.py", line 4, in model_fn' in done.stderr
    assert "FileNotFoundError: no weights at" in done.stderr


def test_failing_input_fn_is_the_toolkits_500(models, tmp_path, scratch):
    archive = archive_of(tmp_path, "bad-input", {
        "model.pt": models / "model.pt",
        "code/inference.py": """\
            def input_fn(body, content_type):
                raise ValueError("cannot read " + content_type)
            """})
    done = invoke(archive, tmp_path=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "response:     500" in done.stdout
    assert "ValueError: cannot read application/json" in done.stderr
    assert 'in input_fn' in done.stderr


def test_transform_fn_gets_the_context(models, tmp_path, scratch):
    archive = archive_of(tmp_path, "transform", {
        "model.pt": models / "model.pt",
        "code/helpers.py": "SCALE = 10\n",
        "code/inference.py": """\
            import json, os
            import helpers  # code/ is on sys.path

            def model_fn(model_dir):
                return {"dir": model_dir}

            def transform_fn(model, body, content_type, accept, context):
                properties = context.request_processor[0].get_request_properties()
                return json.dumps({
                    "rows": len(json.loads(body)) * helpers.SCALE,
                    "content_type": content_type,
                    "accept": accept,
                    "header": properties.get("Content-Type"),
                    "has_model": os.path.exists(os.path.join(context.system_properties["model_dir"], "model.pt")),
                    "program": os.environ.get("SAGEMAKER_PROGRAM"),
                }), "application/json"
            """})
    done = invoke(archive, "--accept", "application/json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert last_json_line(done.stdout) == {"rows": 20, "content_type": "application/json",
                                           "accept": "application/json", "header": "application/json",
                                           "has_model": True, "program": "inference.py"}


def test_batch_input_with_line_split(models, tmp_path, scratch):
    archive = archive_of(tmp_path, "bare", {"model.pt": models / "model.pt"})
    records = tmp_path / "records.jsonl"
    records.write_text("\n".join(json.dumps([row]) for row in X) + "\n")
    out = tmp_path / "out"
    done = run_smpack("invoke", archive, "--batch-input", records, "--output", out,
                      "--content-type", "application/json", "--accept", "application/json",
                      "--split-type", "Line", "--batch-strategy", "SingleRecord",
                      "--assemble-with", "Line", "--python", SERVING_PYTHON, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 record(s), 2 request(s), 0 failed" in done.stdout
    produced = [json.loads(line) for line in (out / "records.jsonl.out").read_text().splitlines()]
    expected = json.loads((models / "expected.json").read_text())
    assert close_to(produced, [[row] for row in expected])


def test_requirements_are_compared_not_installed(models, tmp_path, scratch):
    archive = archive_of(tmp_path, "reqs", {
        "model.pt": models / "model.pt",
        "code/requirements.txt": "numpy==1.0.0\nnot-a-real-package-for-smpack==1.0\nscipy<1.14\n"})
    done = invoke(archive, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "code/requirements.txt is not installed by smpack invoke" in done.stdout
    assert "missing here: not-a-real-package-for-smpack==1.0 (line 2)" in done.stdout
    assert "other version here: numpy==1.0.0 (line 1, installed 1." in done.stdout
    assert "scipy" not in done.stdout  # satisfied


@pytest.mark.parametrize("where, option", [("predict_fn", "--timeout"), ("model_fn", "--model-load-timeout")])
def test_a_hanging_handler_is_stopped(models, tmp_path, scratch, where, option):
    handlers = {
        "predict_fn": "def predict_fn(data, model):\n    import time\n    time.sleep(600)\n",
        "model_fn": "def model_fn(model_dir):\n    import time\n    time.sleep(600)\n",
    }
    archive = archive_of(tmp_path, "sleepy", {"model.pt": models / "model.pt",
                                              "code/inference.py": handlers[where]})
    done = invoke(archive, option, "1", tmp_path=tmp_path, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "within 1 s" in done.stdout + done.stderr


def test_a_python_without_the_toolkit_exits_3(models, tmp_path, scratch):
    probe = subprocess.run([TORCH_PYTHON, "-c", "import sagemaker_inference"], capture_output=True)
    assert probe.returncode != 0, "Debian's python3 should not have the toolkit"
    archive = archive_of(tmp_path, "bare", {"model.pt": models / "model.pt"})
    body = tmp_path / "body.json"
    body.write_text(json.dumps(X))
    done = run_smpack("invoke", archive, "--data", body, "--content-type", "application/json",
                      "--python", TORCH_PYTHON)
    assert done.returncode == 3, done.stderr
    assert "pip install sagemaker-inference sagemaker-pytorch-inference" in done.stderr


def test_no_aws_credentials_reach_the_handlers(models, tmp_path, scratch, monkeypatch):
    """Neither AWS_* variables nor the caller's ~/.aws: the handlers run offline."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAFROMTHECALLERHOME\naws_secret_access_key = x\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMTHECALLERENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    archive = archive_of(tmp_path, "creds", {
        "model.pt": models / "model.pt",
        "code/inference.py": """\
            import json, boto3

            def model_fn(model_dir):
                return None

            def transform_fn(model, body, content_type, accept):
                credentials = boto3.Session().get_credentials()
                return json.dumps(credentials.access_key if credentials else None)
            """})
    done = invoke(archive, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "null"


def test_a_relative_python_is_the_callers(models, tmp_path, scratch, monkeypatch):
    archive = archive_of(tmp_path, "bare", {"model.pt": models / "model.pt"})
    (tmp_path / "body.json").write_text(json.dumps(X))
    monkeypatch.chdir(SOURCE_DIR)
    done = run_smpack("invoke", archive, "--data", tmp_path / "body.json", "--content-type",
                      "application/json", "--python", ".venv-serving/bin/python", "--warm", "0")
    assert done.returncode == 0, done.stderr


def test_handlers_cannot_touch_the_driver_pipes(models, tmp_path, scratch):
    """A handler that writes a fake answer into fd 3 and closes fd 4 changes nothing."""
    archive = archive_of(tmp_path, "meddling", {
        "model.pt": models / "model.pt",
        "code/inference.py": """\
            import os

            def model_fn(model_dir):
                return None

            calls = []

            def transform_fn(model, body, content_type, accept):
                if not calls:  # once: a second close of fd 4 would raise EBADF
                    os.write(3, b'{"event": "response", "id": 2, "status": 200, "body": "aGk="}\\n')
                    os.write(3, b"garbage without a newline")
                    os.close(4)
                calls.append(1)
                return "real", "text/plain"
            """})
    done = invoke(archive, "--warm", "2", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "real"
    assert "warm: median" in done.stdout and "over 2" in done.stdout


def test_a_python_that_dies_is_seen_at_once(models, tmp_path, scratch):
    """model_fn forks a process that keeps the event pipe open, then the Python exits: smpack
    sees the exit, not the model-load timeout, and stops what it forked."""
    archive = archive_of(tmp_path, "dies", {
        "model.pt": models / "model.pt",
        "code/inference.py": """\
            import os, time

            def model_fn(model_dir):
                if os.fork() == 0:
                    time.sleep(120)
                os._exit(7)
            """})
    import time
    start = time.monotonic()
    done = invoke(archive, "--model-load-timeout", "60", tmp_path=tmp_path)
    assert time.monotonic() - start < 30
    assert done.returncode == 1, done.stdout + done.stderr
    assert "exit 7" in done.stderr


def test_ctrl_c_exits_130_and_removes_the_extraction(models, tmp_path, scratch):
    import signal
    import time
    archive = archive_of(tmp_path, "slow", {
        "model.pt": models / "model.pt",
        "code/inference.py": "def predict_fn(data, model):\n    import time\n    time.sleep(60)\n"})
    (tmp_path / "body.json").write_text(json.dumps(X))
    smpack = os.environ.get("SMPACK_BIN")
    process = subprocess.Popen([smpack, "invoke", str(archive), "--data", str(tmp_path / "body.json"),
                                "--content-type", "application/json", "--python", str(SERVING_PYTHON)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):  # until the model is loaded and the request is in predict_fn
        time.sleep(0.1)
        if list(scratch.glob("smpack-invoke*/model/model.pt")):
            break
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
