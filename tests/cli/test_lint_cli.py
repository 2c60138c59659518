"""End-to-end tests of `smpack lint`: real binary, fixtures built at test time with Python
tarfile and GNU tar, oracles from the SageMaker inference toolkit, pip and packaging."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import STAND_IN_PICKLE

SMPACK = os.environ.get("SMPACK_BIN", "smpack")
SOURCE_DIR = Path(os.environ.get("SMPACK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SARIF_SCHEMA = SOURCE_DIR / ".." / "shared" / "data" / "sarif-schema-2.1.0.json"

GOOD_HANDLERS = (
    "import json, torch\n"
    "def model_fn(model_dir):\n    return torch.jit.load(model_dir + '/model.pt')\n"
    "def predict_fn(data, model, context=None):\n    return model(data)\n"
    "def input_fn(body, content_type):\n    return torch.tensor(json.loads(body))\n"
)


def smpack(*args, cwd=None):
    return subprocess.run([SMPACK, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def lint_available():
    return smpack("lint", "--list-rules").returncode == 0


pytestmark = pytest.mark.skipif(
    not lint_available(), reason="this smpack build has no lint subcommand registered"
)


def make_dir(root: Path, files: dict) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def make_tar(path: Path, files: dict, mode="w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def findings(result):
    """The (rule, member, line) triples of a --format json run."""
    doc = json.loads(result.stdout)
    return [(f["rule"], f["member"], f["line"]) for r in doc["reports"] for f in r["findings"]]


def rules_of(result):
    return {rule for rule, _, _ in findings(result)}


def test_clean_directory_passes(tmp_path):
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": GOOD_HANDLERS,
                                      "code/requirements.txt": "numpy==1.26.4\n"})
    result = smpack("lint", model)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "profile pytorch" in result.stdout
    assert "deploy-ready" in result.stdout


def test_wrapped_archive_made_by_gnu_tar(tmp_path):
    make_dir(tmp_path / "model", {"model.pt": STAND_IN_PICKLE, "code/inference.py": GOOD_HANDLERS})
    archive = tmp_path / "model.tar.gz"
    subprocess.run(["tar", "-czf", archive, "-C", tmp_path, "model"], check=True)
    result = smpack("lint", archive)
    assert result.returncode == 1
    line = next(l for l in result.stdout.splitlines() if l.endswith("[layout-wrapped]"))
    assert line.startswith(f"{archive}: error: every member is under 'model/'")
    assert "tar -C model -czf model.tar.gz ." in line


def test_plain_tar_named_tar_gz(tmp_path):
    archive = make_tar(tmp_path / "model.tar.gz", {"model.pt": STAND_IN_PICKLE}, mode="w")
    result = smpack("lint", archive, "--format", "json")
    assert result.returncode == 1
    assert ("layout-not-gzip", "", 0) in findings(result)


def test_unsafe_member_exits_3(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("model.pt"), io.BytesIO(b""))
        link = tarfile.TarInfo("weights")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../etc/passwd"
        tar.addfile(link)
    result = smpack("lint", archive)
    # The tree loader may refuse the archive outright; either way it is exit 3.
    assert result.returncode == 3, result.stdout + result.stderr


def test_layout_family(tmp_path):
    model = make_dir(tmp_path / "m", {
        "model.pt": STAND_IN_PICKLE, "inference.py": GOOD_HANDLERS, "requirements.txt": "numpy\n",
        "code/lib/dep/requirements.txt": "x\n", "code/extra.pth": "x",
        "code/__pycache__/a.cpython-311.pyc": "x", ".DS_Store": "x"})
    result = smpack("lint", model, "--format", "json", "--fail-on", "info")
    assert result.returncode == 1
    got = findings(result)
    assert ("layout-handler-outside-code", "inference.py", 0) in got
    assert ("layout-requirements-not-installed", "requirements.txt", 0) in got
    assert ("layout-requirements-not-installed", "code/lib/dep/requirements.txt", 0) in got
    assert ("layout-weights-in-code", "code/extra.pth", 0) in got
    assert ("layout-junk", "code/__pycache__", 0) in got
    assert ("layout-junk", ".DS_Store", 0) in got


def toolkit_error(source: str, handler: str, argc: int):
    """The TypeError text the real toolkit raises when it calls `handler` with argc args."""
    from sagemaker_inference.transformer import Transformer

    namespace = {}
    exec(compile(source, "inference.py", "exec"), namespace)
    transformer = Transformer()
    transformer._context = object()
    try:
        transformer._run_handler_function(namespace[handler], *range(argc))
    except TypeError as error:
        return str(error)
    return None


@pytest.mark.parametrize("source,handler,argc", [
    ("def model_fn():\n    pass\n", "model_fn", 1),
    ("def predict_fn(data, model, context, extra):\n    pass\n", "predict_fn", 2),
    ("def transform_fn(model, data):\n    pass\n", "transform_fn", 4),
    ("def output_fn(prediction, accept, **kwargs):\n    pass\n", "output_fn", 2),
    ("def input_fn(data, *, content_type):\n    pass\n", "input_fn", 2),
])
def test_handler_errors_match_the_toolkit(tmp_path, source, handler, argc):
    expected = toolkit_error(source, handler, argc)
    assert expected is not None
    if handler != "model_fn":
        source += "def model_fn(model_dir):\n    pass\n"
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": source})
    result = smpack("lint", model)
    assert result.returncode == 1
    lines = [l for l in result.stdout.splitlines() if "code/inference.py:" in l]
    assert any(expected in l for l in lines), (expected, result.stdout)


def test_handler_family(tmp_path):
    source = (
        "async def model_fn(model_dir):\n    pass\n"
        "def transform_fn(model, data, content_type, accept):\n    pass\n"
        "def input_fn(data, content_type):\n    pass\n"
        "def predict(data, model):\n    pass\n"
        "class Handler:\n    def output_fn(self, prediction, accept):\n        pass\n"
    )
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": source})
    result = smpack("lint", model, "--format", "json")
    got = findings(result)
    assert ("handler-async", "code/inference.py", 1) in got
    assert ("handler-transform-with-io", "code/inference.py", 3) in got
    assert ("handler-near-miss", "code/inference.py", 7) in got
    assert ("handler-nested-only", "code/inference.py", 10) in got


def test_transform_with_io_message_is_the_toolkits(tmp_path):
    from sagemaker_inference.transformer import Transformer
    import inspect
    text = inspect.getsource(Transformer._validate_user_module_and_set_functions)
    expected = "Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, and/or output_fn implementation"
    assert expected.replace(" ", "") in text.replace('"', "").replace("\n", "").replace(" ", "")
    source = "def transform_fn(m, d, c, a):\n    pass\ndef predict_fn(d, m):\n    pass\n"
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": source})
    assert expected in smpack("lint", model).stdout


def test_container_family(tmp_path):
    pt = make_dir(tmp_path / "pt", {"a.pt": "x", "b.pth": "x", "code/inference.py": "import torch\n"})
    assert "pytorch-default-model" in rules_of(smpack("lint", pt, "--format", "json"))
    hf = make_dir(tmp_path / "hf", {"config.json": '{"model_type": "bert"}', "model.safetensors": "x"})
    assert "huggingface-no-task" in rules_of(smpack("lint", hf, "--profile", "huggingface", "--format", "json"))
    ok = smpack("lint", hf, "--profile", "huggingface", "--env", "HF_TASK=fill-mask", "--format", "json")
    assert "huggingface-no-task" not in rules_of(ok)
    tf = make_dir(tmp_path / "tf", {"export/saved_model.pb": "x",
                                    "code/inference.py": "def input_handler(data, context):\n    pass\n"})
    tf_rules = rules_of(smpack("lint", tf, "--profile", "tensorflow", "--format", "json"))
    assert {"tensorflow-no-saved-model", "tensorflow-handlers"} <= tf_rules
    sk = make_dir(tmp_path / "sk", {"model.joblib": "x",
                                    "code/inference.py": "def transform_fn(m, d, c, a):\n    pass\n"})
    sk_rules = rules_of(smpack("lint", sk, "--profile", "sklearn", "--format", "json"))
    assert {"handler-no-model-fn", "sklearn-transform-fn-ignored"} <= sk_rules


def pip_refuses(tmp_path, line):
    from pip._internal.network.session import PipSession
    from pip._internal.req.constructors import install_req_from_parsed_requirement
    from pip._internal.req.req_file import parse_requirements
    path = tmp_path / "oracle.txt"
    path.write_text(line + "\n")
    try:
        for parsed in parse_requirements(str(path), session=PipSession()):
            install_req_from_parsed_requirement(parsed)
    except Exception:
        return True
    return False


# Lines on which pip 23's legacy specifiers and packaging 24 agree.
@pytest.mark.parametrize("line", [
    "numpy==1.26.4", "pandas=2.0", "a[b c]", "x @ https://h/x.whl ; os_name=='posix'",
    "a; python_version >= '3.8' and (os_name == 'posix' or extra == 'x')", "a; python_version >= 3.8",
    "a; os_name notin 'x'", "--frobnicate", "--no x", "-r", "--pre=1", "a==1 --hash=md5:00",
    "a==1 --hash=sha256:00", "-e git+https://h/r.git", "-e git+https://h/r.git#egg=r",
    "https://h/pkg.whl", "https://h/p-1.0-py3-none-any.whl", "a -r 'unterminated", "numpy~=1",
    "a==1 --install-option=--x", "a==1 --global-option=--x", "a==1 --config-settings=k=v",
])
def test_requirements_lines_agree_with_pip(tmp_path, line):
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/requirements.txt": line + "\n"})
    result = smpack("lint", model, "--format", "json")
    ours = "req-invalid-line" in rules_of(result)
    assert ours == pip_refuses(tmp_path, line), (line, result.stdout)


def test_the_oracle_is_the_pinned_pip():
    import pip
    assert pip.__version__ == "23.2.1"  # scripts/requirements-test.txt; docs/rules.md


def pip_refuses_file(model: Path) -> str:
    """What pip 23.2 says when it reads code/requirements.txt (following -r) and makes an
    install requirement of every line, run from the model's root; "" when it accepts it."""
    script = f"""
import os, sys
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements
os.chdir({str(model)!r})
try:
    for parsed in parse_requirements("code/requirements.txt", session=PipSession()):
        install_req_from_parsed_requirement(parsed)
except BaseException as error:
    print(type(error).__name__, error)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "LC_ALL": "C.UTF-8"}, timeout=120)
    return done.stdout.strip()


@pytest.mark.parametrize("files, rule", [
    ({"code/requirements.txt": b"numpy==1.26.4\n# caf\xe9\n"}, "req-bad-encoding"),
    ({"code/requirements.txt": b"# -*- coding: latin-1 -*-\nnumpy==1.26.4  # caf\xe9\n"}, None),
    ({"code/requirements.txt": "# coding: ascii\nnumpy==1.26.4  # café\n".encode()},
     "req-bad-encoding"),
    ({"code/requirements.txt": "-r requirements.txt\nnumpy==1.26.4\n"}, "req-include-cycle"),
    ({"code/requirements.txt": "-r a.txt\n", "code/a.txt": "-r b.txt\n",
      "code/b.txt": "-r a.txt\n"}, "req-include-cycle"),
    ({"code/requirements.txt": "./code/localpkg\n", "code/localpkg/mod.py": "x = 1\n"},
     "req-local-dir-not-installable"),
    ({"code/requirements.txt": "./code/localpkg\n", "code/localpkg/mod.py": "x = 1\n",
      "code/localpkg/pyproject.toml": "[project]\nname = 'localpkg'\n"}, None),
    ({"code/requirements.txt": "numpy==1.26.4 --install-option=--x\n"}, "req-invalid-line"),
    ({"code/requirements.txt": "numpy==1.26.4\n-r a.txt\n", "code/a.txt": "scipy==1.11.4\n"},
     None),
])
def test_requirements_files_pip_refuses(tmp_path, files, rule):
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": GOOD_HANDLERS,
                                      **files})
    refusal = pip_refuses_file(model)
    errors = {r for r, _, _ in findings(smpack("lint", model, "--format", "json"))
              if r in {"req-bad-encoding", "req-include-cycle", "req-local-dir-not-installable",
                       "req-invalid-line", "req-hash-missing"}}
    assert bool(refusal) == (rule is not None), refusal
    assert errors == ({rule} if rule else set()), (errors, refusal)


def make_wheel(directory: Path, name: str, version: str = "1.0") -> Path:
    """A minimal pure-Python wheel, enough for pip to resolve and hash it."""
    import zipfile
    path = directory / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}.py", "")
        wheel.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{dist}/RECORD", "")
    return path


@pytest.mark.parametrize("lines, files, rule", [
    (["alpha==1.0 --hash=sha256:{alpha}", "beta==1.0"], {}, "req-hash-missing"),
    (["alpha==1.0 --hash=sha256:{alpha}", "beta>=1.0 --hash=sha256:{beta}"], {},
     "req-hash-missing"),  # == pins
    (["alpha==1.0,!=0.9 --hash=sha256:{alpha}"], {}, "req-hash-missing"),  # exactly one
    (["alpha==1.* --hash=sha256:{alpha}"], {}, None),  # pip checks the operator only
    (["--require-hashes", "alpha==1.0"], {}, "req-hash-missing"),
    (["-c c.txt", "beta==1.0"], {"c.txt": "alpha==1.0 --hash=sha256:{alpha}\n"},
     "req-hash-missing"),  # a hash in a constraints file turns the mode on too
    (["--require-hashes", "alpha @ file://{wheels}/alpha-1.0-py3-none-any.whl#sha256={alpha}"],
     {}, None),  # the URL's fragment is a hash
    (["--require-hashes", "./pkg --hash=sha256:{alpha}"],
     {"pkg/pyproject.toml": "[project]\nname = 'pkg'\nversion = '1'\n"}, "req-hash-missing"),
    (["alpha==1.0 --hash=sha256:{alpha}", "beta==1.0 --hash=sha256:{beta}"], {}, None),
    (["alpha==1.0", "beta>=1.0"], {}, None),
    (["alpha==1.0 --global-option=--quiet", "beta==1.0"], {}, "req-deprecated-option"),
])
def test_pip_install_agrees(tmp_path, lines, files, rule):
    """pip install --dry-run of local wheels (run from code/, as smpack reads relative
    paths) fails exactly when smpack reports the rule, as an error."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    digests = {n: hashlib.sha256(make_wheel(wheels, n).read_bytes()).hexdigest()
               for n in ("alpha", "beta")}
    fill = lambda text: text.format(wheels=wheels, **digests)
    model = make_dir(tmp_path / "m", {
        "model.pt": STAND_IN_PICKLE, "code/inference.py": GOOD_HANDLERS,
        "code/requirements.txt": "".join(fill(line) + "\n" for line in lines),
        **{f"code/{name}": fill(text) for name, text in files.items()}})
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links",
         str(wheels), "--disable-pip-version-check", "-r", "requirements.txt"],
        capture_output=True, text=True, timeout=120, cwd=model / "code")
    assert (installed.returncode != 0) == (rule is not None), installed.stdout + installed.stderr
    errors = {r for r, _, _ in findings(smpack("lint", model, "--format", "json"))
              if r in {"req-hash-missing", "req-deprecated-option", "req-invalid-line"}}
    assert errors == ({rule} if rule else set()), errors


# PEP 508 as packaging 24 (what pip >= 24.1 vendors) reads it; pip splits "; marker" first.
@pytest.mark.parametrize("line", [
    "numpy[]>=1.0,", "nu_mpy_", "numpy-", "numpy>=1.0.*", "numpy==1.0.*", "numpy==1.0+abc.def",
    "numpy>=1.0+abc", "numpy~=1.0", "numpy>=1.0foo", "numpy>=", "numpy<>1", "numpy===any-thing",
    "numpy (>=1.0)", "numpy(>=1.0", "numpy>=1.0RC1.post2.dev3", "numpy[a,]", "x @ https://h/x.whl",
    "x@", "numpy==${VER}",
])
def test_pep508_agrees_with_packaging(tmp_path, line):
    from packaging.requirements import InvalidRequirement, Requirement
    try:
        Requirement(line)
        packaging_refuses = False
    except InvalidRequirement:
        packaging_refuses = True
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/requirements.txt": line + "\n"})
    ours = "req-invalid-line" in rules_of(smpack("lint", model, "--format", "json"))
    assert ours == packaging_refuses, line


def test_requirements_family(tmp_path):
    model = make_dir(tmp_path / "m", {
        "model.pt": STAND_IN_PICKLE,
        "code/inference.py": GOOD_HANDLERS,
        "code/requirements.txt": (
            "numpy==1.26.4\n-r base.txt\n-c missing.txt\nnumpy<1.26\n"
            "requests==2.31.0\nRequests==2.31.0\n./wheels/dep-1.0-py3-none-any.whl\n"
            "torch==2.0.1\n--index-url https://${TOKEN}@host/simple\ntorch --pre\n"),
        "code/base.txt": "scipy\n",
    })
    result = smpack("lint", model, "--format", "json", "--fail-on", "info")
    got = findings(result)
    assert ("req-include-missing", "code/requirements.txt", 3) in got
    assert ("req-conflict", "code/requirements.txt", 4) in got
    assert ("req-duplicate", "code/requirements.txt", 6) in got
    assert ("req-local-path-missing", "code/requirements.txt", 7) in got
    assert ("req-framework-reinstall", "code/requirements.txt", 8) in got
    assert ("req-env-var", "code/requirements.txt", 9) in got
    assert ("req-ignored-option", "code/requirements.txt", 10) in got
    assert ("req-unpinned", "code/base.txt", 1) in got
    assert any(rule == "req-needs-network" for rule, _, _ in got)


def test_fail_on_and_disable(tmp_path):
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": GOOD_HANDLERS,
                                      "code/requirements.txt": "scipy\n"})
    assert smpack("lint", model).returncode == 0
    assert smpack("lint", model, "--fail-on", "info").returncode == 1
    disabled = smpack("lint", model, "--fail-on", "info", "--disable", "req-unpinned",
                      "--disable", "req-needs-network")
    assert disabled.returncode == 0, disabled.stdout


def test_usage_errors(tmp_path):
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE})
    typo = smpack("lint", model, "--disable", "req-unpined")
    assert typo.returncode == 2
    assert "did you mean 'req-unpinned'" in typo.stderr
    assert smpack("lint", model, "--profile", "jax").returncode == 2
    assert smpack("lint", model, "--env", "NOEQUALS").returncode == 2
    assert smpack("lint", model, "--fail-on", "fatal").returncode == 2


def test_missing_input_exits_3(tmp_path):
    assert smpack("lint", tmp_path / "nope.tar.gz").returncode == 3
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    assert smpack("lint", garbage).returncode == 3


def test_sarif_is_valid_and_complete(tmp_path):
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA}")
    import jsonschema
    model = make_dir(tmp_path / "m", {"a.pt": "x", "b.pt": "x",
                                      "code/inference.py": "def predict_fn(x):\n    pass\n"})
    archive = make_tar(tmp_path / "model.tar.gz", {"model/model.pt": "x"})
    result = smpack("lint", model, archive, "--format", "sarif")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    run = doc["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    listed = json.loads(smpack("lint", "--list-rules", "--format", "json").stdout)["rules"]
    assert rule_ids == [rule["id"] for rule in listed]
    results = run["results"]
    arity = next(r for r in results if r["ruleId"] == "handler-arity")
    assert rule_ids[arity["ruleIndex"]] == "handler-arity"
    location = arity["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("m/code/inference.py")
    assert location["region"]["startLine"] == 1
    wrapped = next(r for r in results if r["ruleId"] == "layout-wrapped")
    assert wrapped["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("model.tar.gz")


def test_every_rule_has_a_doc_entry():
    listed = json.loads(smpack("lint", "--list-rules", "--format", "json").stdout)["rules"]
    docs = (SOURCE_DIR / "docs" / "rules.md").read_text()
    headings = set(re.findall(r"^## (\S+)$", docs, flags=re.M))
    ids = {rule["id"] for rule in listed}
    assert ids - headings == set(), "rules without a docs/rules.md entry"
    assert headings - ids == set(), "docs/rules.md entries for rules that do not exist"
    for rule in ids:
        section = docs.split(f"## {rule}\n", 1)[1].split("\n## ", 1)[0]
        for part in ("Bad", "Good", "Why:", "Source:"):
            assert part in section, f"{rule}: no {part}"


# Handler signatures the toolkit calls wrongly, each run through the real Transformer's
# _run_handler_function (sagemaker-inference), which passes as many arguments as
# inspect.signature counts, the context being the last of one more.
SIGNATURE_CASES = {
    "decorator-without-wraps": (
        "def deco(f):\n    def wrapper(*args, **kwargs):\n        return f(*args, **kwargs)\n"
        "    return wrapper\n\n\n@deco\ndef model_fn(model_dir):\n    return 1\n",
        "model_fn", ["/opt/ml/model"], 8, "handler-signature-unknown"),
    "partial": (
        "import functools\n\n\ndef _decode(data, name):\n    return data\n\n\n"
        "def model_fn(model_dir):\n    return 1\n\n\n"
        "input_fn = functools.partial(_decode, name='x')\n",
        "input_fn", ["{}", "application/json"], 12, "handler-signature-unknown"),
    "option-gets-the-context": (
        "def model_fn(model_dir, file_name=None):\n    return file_name\n",
        "model_fn", ["/opt/ml/model"], 1, "handler-context-in-parameter"),
}


@pytest.mark.parametrize("case", sorted(SIGNATURE_CASES))
def test_handler_signatures_the_toolkit_calls_wrongly(tmp_path, case):
    source, handler, args, line, rule = SIGNATURE_CASES[case]
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": source})
    script = f"""
import importlib.util, json
from sagemaker_inference.transformer import Transformer
spec = importlib.util.spec_from_file_location("inference", {str(model / "code/inference.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
transformer = Transformer()
transformer._context = "CONTEXT"
try:
    result = transformer._run_handler_function(getattr(module, {handler!r}), *{args!r})
    print(json.dumps(["returned", repr(result)]))
except TypeError as error:
    print(json.dumps(["TypeError", str(error)]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    outcome, detail = json.loads(done.stdout.splitlines()[-1])
    # What goes wrong: a TypeError, or the context where the default should be.
    assert outcome == "TypeError" or detail == "'CONTEXT'", (outcome, detail)
    got = findings(smpack("lint", model, "--format", "json"))
    assert (rule, "code/inference.py", line) in got, got


def test_an_unsure_binding_is_said_to_be_unsure_never_judged_wrongly(tmp_path):
    corpus = SOURCE_DIR / "tests" / "handler_corpus"
    # Constant conditions: the branches that run on every Python 3.8+ are the ones judged.
    constant = make_dir(tmp_path / "c", {
        "model.pt": STAND_IN_PICKLE, "code/inference.py": (corpus / "constant_conditions.py").read_text()})
    assert not [f for f in findings(smpack("lint", constant, "--format", "json"))
                if f[0].startswith("handler-")]
    # A condition decided at run time: both candidates are reported, as a warning.
    runtime = make_dir(tmp_path / "r", {"model.pt": STAND_IN_PICKLE, "code/inference.py": (
        "import os\n\n"
        "if os.environ.get('FAST'):\n    def input_fn(data, content_type):\n        return data\n"
        "else:\n    def input_fn(data):\n        return data\n\n\n"
        "def model_fn(model_dir):\n    return None\n\n\n"
        "def output_fn(prediction, accept):\n    return prediction\n\n\n"
        "del output_fn\n")})
    got = findings(smpack("lint", runtime, "--format", "json"))
    assert ("handler-depends-on-condition", "code/inference.py", 7) in got, got
    assert not [f for f in got if f[0] == "handler-arity"]
    handlers = json.loads(smpack("info", runtime, "--json").stdout)["handlers"]
    assert handlers["input_fn"]["alternatives"] == [{"line": 4, "params": 2}]
    assert handlers["output_fn"]["defined"] is False and handlers["model_fn"]["defined"] is True
    # try/except ImportError: the try body's import is what runs when it succeeds.
    fallback = make_dir(tmp_path / "f", {
        "model.pt": STAND_IN_PICKLE, "code/inference.py": (corpus / "try_import_fallback_def.py").read_text(),
        "code/helper_basic.py": (corpus / "helper_basic.py").read_text()})
    got = findings(smpack("lint", fallback, "--format", "json"))
    assert not [f for f in got if f[0] == "handler-arity"], got
    note = json.loads(smpack("info", fallback, "--json").stdout)["handlers"]["predict_fn"]["note"]
    assert "the except clause binds it at line 5" in note


def test_a_module_getattr_makes_handlers_dynamic(tmp_path):
    source = ("def model_fn(model_dir):\n    return 1\n\n\n"
              "def __getattr__(name):\n    if name == 'input_fn':\n"
              "        return lambda data: data\n    raise AttributeError(name)\n")
    model = make_dir(tmp_path / "m", {"model.pt": STAND_IN_PICKLE, "code/inference.py": source})
    # CPython: the module's __getattr__ answers the toolkit's getattr for input_fn.
    script = (f"import importlib.util\nspec = importlib.util.spec_from_file_location('m', "
              f"{str(model / 'code/inference.py')!r})\nm = importlib.util.module_from_spec(spec)\n"
              "spec.loader.exec_module(m)\nprint(getattr(m, 'input_fn', None) is not None)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr
    assert ("handler-module-getattr", "code/inference.py", 5) in findings(
        smpack("lint", model, "--format", "json"))
