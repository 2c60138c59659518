"""smpack init and its templates: every template offered, written byte for byte, parsing,
documented, lint-clean at every severity, refusing to overwrite; the templates' handlers
run for real where the framework is installed."""

from __future__ import annotations

import ast
import json
import subprocess

import pytest

from conftest import SYSTEM_PYTHON, run_smpack
from template_models import TEMPLATES_DIR, TEMPLATE_MODELS, init_args, make_model, load_module, installed


# ---- templates and smpack init ----------------------------------------------------------


def test_every_template_folder_is_offered_by_init():
    listed = json.loads(run_smpack("init", "--list", "--json").stdout)["templates"]
    assert sorted(t["name"] for t in listed) == sorted(p.name for p in TEMPLATES_DIR.iterdir())
    assert sorted(t["name"] for t in listed) == sorted(TEMPLATE_MODELS)
    for entry in listed:
        assert entry["files"] == ["inference.py", "requirements.txt"]


@pytest.mark.parametrize("name", sorted(TEMPLATE_MODELS))
def test_init_writes_the_template_byte_for_byte(tmp_path, name):
    done = run_smpack("init", *init_args(name), tmp_path / "code")
    assert done.returncode == 0, done.stderr
    for file in ("inference.py", "requirements.txt"):
        assert (tmp_path / "code" / file).read_bytes() == (TEMPLATES_DIR / name / file).read_bytes()
    assert done.stdout.split() == [str(tmp_path / "code" / f) for f in ("inference.py", "requirements.txt")]


@pytest.mark.parametrize("name", sorted(TEMPLATE_MODELS))
def test_template_parses_with_the_system_python(name):
    source = TEMPLATES_DIR / name / "inference.py"
    check = (
        "import sys\n"
        "path = sys.argv[1]\n"
        "compile(open(path, encoding='utf-8').read(), path, 'exec', dont_inherit=True)\n"
    )
    done = subprocess.run([SYSTEM_PYTHON, "-c", check, source], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", sorted(TEMPLATE_MODELS))
def test_template_documents_what_each_handler_receives_and_returns(name):
    tree = ast.parse((TEMPLATES_DIR / name / "inference.py").read_text())
    handlers = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert handlers
    for handler in handlers:
        doc = ast.get_docstring(handler) or ""
        assert "Receives:" in doc and "Returns:" in doc, handler.name


@pytest.mark.parametrize("name", sorted(TEMPLATE_MODELS))
def test_init_then_lint_is_clean_at_every_severity(tmp_path, name):
    model = make_model(tmp_path / "model", name)
    profile = TEMPLATE_MODELS[name][0]
    for profile_args in (["--profile", profile], []):  # given, and detected from the contents
        done = run_smpack("lint", model, *profile_args, "--fail-on", "info", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)["reports"][0]
        assert report["findings"] == []
        assert report["profile"] == profile


def test_init_refuses_to_overwrite_without_force(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text("# mine\n")
    done = run_smpack("init", "--profile", "sklearn", code)
    assert done.returncode == 2
    assert f"{code / 'inference.py'}: already exists; use --force to replace it" in done.stderr
    assert (code / "inference.py").read_text() == "# mine\n"
    assert not (code / "requirements.txt").exists()

    done = run_smpack("init", "--profile", "sklearn", "--force", code)
    assert done.returncode == 0, done.stderr
    assert (code / "inference.py").read_bytes() == (TEMPLATES_DIR / "sklearn" / "inference.py").read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "pytorch", "--variant", "eager"],
         "no 'eager' template for profile 'pytorch' (one of torchscript, state-dict)"),
        (["--profile", "generic"], "no template for profile 'generic'"),
        (["--profile", "onnx"], "--profile: unknown profile 'onnx'"),
        ([], "--profile is required"),
    ],
)
def test_init_usage_errors(tmp_path, args, message):
    done = run_smpack("init", *args, tmp_path / "code")
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "code").exists()


# ---- the templates' handlers, run for real where the framework is installed ------------


class FakeTfContext:
    def __init__(self, content_type):
        self.request_content_type = content_type
        self.accept_header = "application/json"


class FakeTfResponse:
    def __init__(self, status_code, content):
        self.status_code = status_code
        self.content = content


def test_tensorflow_handlers_translate_requests_and_responses(tmp_path):
    import io

    module = load_module(TEMPLATES_DIR / "tensorflow" / "inference.py", "tfs_handlers")
    csv = module.input_handler(io.BytesIO(b"1,2.5\n3,4\n"), FakeTfContext("text/csv"))
    assert json.loads(csv) == {"instances": [[1.0, 2.5], [3.0, 4.0]]}
    body = b'{"instances": [[1.0]]}'
    assert module.input_handler(io.BytesIO(body), FakeTfContext("application/json")) == body.decode()
    with pytest.raises(ValueError, match="unsupported content type 'image/png'"):
        module.input_handler(io.BytesIO(b""), FakeTfContext("image/png"))

    answer = b'{"predictions": [[0.5]]}'
    assert module.output_handler(FakeTfResponse(200, answer), FakeTfContext("")) == (
        answer, "application/json")
    with pytest.raises(ValueError, match="model not found"):
        module.output_handler(FakeTfResponse(404, b"model not found"), FakeTfContext(""))


@pytest.mark.parametrize("name", ["pytorch-torchscript", "pytorch-state-dict"])
def test_pytorch_handlers_serve_a_real_model(tmp_path, name):
    torch = pytest.importorskip("torch")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    assert run_smpack("init", *init_args(name), model_dir / "code").returncode == 0
    module = load_module(model_dir / "code" / "inference.py", name.replace("-", "_"))

    torch.manual_seed(0)
    if name == "pytorch-torchscript":
        net = torch.nn.Linear(4, 3)
        torch.jit.save(torch.jit.script(net), str(model_dir / "model.pt"))
    else:
        net = module.Net()
        torch.save(net.state_dict(), model_dir / "model.pth")

    model = module.model_fn(str(model_dir))
    rows = [[0.1, -0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0]]
    data = module.input_fn(json.dumps(rows), "application/json")
    body, content_type = module.output_fn(module.predict_fn(data, model), "application/json")
    expected = net(torch.tensor(rows)).tolist()
    assert content_type == "application/json"
    served = json.loads(body)
    assert len(served) == len(expected)
    for served_row, expected_row in zip(served, expected):
        assert served_row == pytest.approx(expected_row, abs=1e-6)
    with pytest.raises(ValueError, match="unsupported content type 'text/csv'"):
        module.input_fn("1,2", "text/csv")
