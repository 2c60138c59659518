"""The ecosystem around the CLI: `smpack init` and its templates, `cmake --install`
(a consumer project builds against the installed package through find_package and
pkg-config), the man pages and bash completion generated from the CLI definitions,
and the Python module `smpack` driven by the system python3.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, SYSTEM_PYTHON, python_module_dir, run_python, run_smpack, smpack_bin

TEMPLATES_DIR = SOURCE_DIR / "templates"

# Each template, the profile and variant that select it, and the files its model needs
# at the root (so that the whole model directory, not just code/, lints clean).
TEMPLATE_MODELS = {
    "pytorch-torchscript": ("pytorch", "torchscript", {"model.pt": b"weights"}),
    "pytorch-state-dict": ("pytorch", "state-dict", {"model.pth": b"weights"}),
    "huggingface": (
        "huggingface",
        "",
        {"config.json": json.dumps({"architectures": ["BertForSequenceClassification"]})},
    ),
    "tensorflow": ("tensorflow", "", {"1/saved_model.pb": b"graph"}),
    "sklearn": ("sklearn", "", {"model.joblib": b"estimator"}),
    "xgboost": ("xgboost", "", {"xgboost-model": b"booster"}),
}


def init_args(name: str) -> list[str]:
    profile, variant, _ = TEMPLATE_MODELS[name]
    return ["--profile", profile] + (["--variant", variant] if variant else [])


def make_model(root: Path, name: str) -> Path:
    """A model directory for template `name`: its weight files and `smpack init` code."""
    for relative, content in TEMPLATE_MODELS[name][2].items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    done = run_smpack("init", *init_args(name), root / "code")
    assert done.returncode == 0, done.stderr
    return root


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


# ---- install, and a consumer project against the installed package ---------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`cmake --install` of the build tree into a fresh prefix."""
    # Everything installed is built by the default target; building here would relink
    # binaries that the suites running beside this one are executing.
    prefix = tmp_path_factory.mktemp("prefix")
    done = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return prefix


def test_install_lays_out_a_standard_prefix(installed):
    for relative in ("bin/smpack", "lib/libsmpack.a", "include/smpack/lint.h",
                     "include/smpack/templates.h", "lib/cmake/smpack/smpackConfig.cmake",
                     "lib/cmake/smpack/smpackConfigVersion.cmake", "lib/pkgconfig/smpack.pc",
                     "share/man/man1/smpack.1", "share/man/man1/smpack-lint.1",
                     "share/bash-completion/completions/smpack"):
        assert (installed / relative).is_file(), relative
    for name in TEMPLATE_MODELS:
        for file in ("inference.py", "requirements.txt"):
            installed_file = installed / "share/smpack/templates" / name / file
            assert installed_file.read_bytes() == (TEMPLATES_DIR / name / file).read_bytes()
    harness_built = (BUILD_DIR / "tools" / "harness" / "smpack-harness").exists()
    assert (installed / "bin/smpack-harness").exists() == harness_built


def test_installed_cli_runs_init_without_the_source_tree(installed, tmp_path):
    env = dict(os.environ, PATH="/usr/bin:/bin")
    done = subprocess.run([installed / "bin/smpack", "init", "--profile", "xgboost", tmp_path / "c"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c" / "inference.py").read_bytes() == (TEMPLATES_DIR / "xgboost" / "inference.py").read_bytes()


CONSUMER_MAIN = r"""
#include <iostream>

#include "smpack/artifact.h"
#include "smpack/digest.h"
#include "smpack/lint.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto artifact = smpack::Artifact::open(argv[1]);
  auto linted = artifact ? smpack::lint_artifact(*artifact, {})
                         : smpack::Result<smpack::LintReport>(artifact.error());
  if (!linted) {
    std::cerr << linted.error().message << "\n";
    return 3;
  }
  const auto& report = *linted;
  std::cout << smpack::sha256_hex("abc") << " " << smpack::name_of(report.profile) << " "
            << report.findings.size() << "\n";
  return 0;
}
"""


def cache_value(name: str) -> str:
    """A variable of the build tree's CMakeCache.txt ("" when absent)."""
    match = re.search(rf"^{name}:\w+=(.*)$", (BUILD_DIR / "CMakeCache.txt").read_text(), re.M)
    return match.group(1) if match else ""


@pytest.fixture()
def consumer_inputs(tmp_path) -> tuple[Path, Path]:
    if cache_value("SMPACK_SANITIZE").upper() in ("ON", "TRUE", "1"):
        pytest.skip("the installed library is sanitizer-instrumented; consumers would need -fsanitize")
    source = tmp_path / "consumer"
    source.mkdir()
    (source / "main.cpp").write_text(CONSUMER_MAIN)
    model = make_model(tmp_path / "model", "sklearn")
    return source, model


def check_consumer_output(binary: Path, model: Path) -> None:
    done = subprocess.run([binary, model], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [hashlib.sha256(b"abc").hexdigest(), "sklearn", "0"]


def test_consumer_project_builds_with_find_package(installed, consumer_inputs, tmp_path):
    source, model = consumer_inputs
    (source / "CMakeLists.txt").write_text(textwrap.dedent("""\
        cmake_minimum_required(VERSION 3.22)
        project(consumer LANGUAGES CXX)
        find_package(smpack 0.1 REQUIRED)
        add_executable(consumer main.cpp)
        target_link_libraries(consumer PRIVATE smpack::smpack)
        """))
    build = tmp_path / "consumer-build"
    for command in (["cmake", "-S", source, "-B", build, f"-DCMAKE_PREFIX_PATH={installed}"],
                    ["cmake", "--build", build]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    check_consumer_output(build / "consumer", model)


def test_consumer_links_with_pkg_config(installed, consumer_inputs, tmp_path):
    source, model = consumer_inputs
    env = dict(os.environ, PKG_CONFIG_PATH=str(installed / "lib/pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "smpack"], capture_output=True,
                           text=True, env=env, check=True).stdout.split()
    binary = tmp_path / "consumer-pc"
    done = subprocess.run(["c++", "-std=c++20", source / "main.cpp", "-o", binary, *flags],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    check_consumer_output(binary, model)


# ---- man pages and completion from the CLI definitions --------------------------------


def visible_commands() -> list[str]:
    help_text = run_smpack("--help").stdout
    section = help_text.split("Subcommands:", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


def help_options(command: str) -> set[str]:
    help_text = run_smpack(command, "--help").stdout
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help_text.split("Options:", 1)[1]))


@pytest.fixture(scope="module")
def generated_docs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    done = run_smpack("generate-docs", "--man-dir", out / "man1", "--bash-completion", out / "smpack.bash")
    assert done.returncode == 0, done.stderr
    return out


def test_a_man_page_per_command_and_no_more(generated_docs):
    pages = sorted(p.name for p in (generated_docs / "man1").iterdir())
    assert pages == sorted(["smpack.1"] + [f"smpack-{c}.1" for c in visible_commands()])
    assert "generate-docs" not in visible_commands()


def test_man_pages_are_valid_roff(generated_docs):
    for page in (generated_docs / "man1").iterdir():
        done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True, text=True)
        assert done.returncode == 0 and done.stderr == "", (page.name, done.stderr)


@pytest.mark.parametrize("command", ["build", "lint", "init", "verify", "extract"])
def test_man_page_options_match_help(generated_docs, command):
    page = (generated_docs / "man1" / f"smpack-{command}.1").read_text()
    rendered = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou"],
                              input=page, capture_output=True, text=True, check=True).stdout
    options_section = rendered.split("OPTIONS", 1)[1].split("EXIT STATUS", 1)[0]
    in_man = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", options_section))
    in_help = help_options(command)
    # The descriptions mention other options; every option must be documented as such.
    assert in_help <= in_man
    headings = set(re.findall(r"^ {7}(--?[A-Za-z][\w-]*)", options_section, re.M))
    assert headings <= in_help


def test_man_page_lists_the_exit_codes(generated_docs):
    page = (generated_docs / "man1" / "smpack.1").read_text()
    section = page.split(".SH EXIT STATUS", 1)[1]
    assert re.findall(r"^\.B (\d+)$", section, re.M) == ["0", "1", "2", "3", "4", "130"]


def complete(script: Path, words: list[str]) -> list[str]:
    """What the generated completion offers for the command line `words` (the last is
    the word being completed), run in a real bash."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = (f"source '{script}'\nCOMP_WORDS=({quoted})\nCOMP_CWORD={len(words) - 1}\n"
               "_smpack\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completion_offers_commands_options_and_values(generated_docs):
    script = generated_docs / "smpack.bash"
    assert set(complete(script, ["smpack", ""])) >= set(visible_commands())
    assert complete(script, ["smpack", "li"]) == ["lint"]
    assert set(complete(script, ["smpack", "lint", "--"])) == {
        o for o in help_options("lint") if o.startswith("--")}
    assert complete(script, ["smpack", "lint", "--format", ""]) == ["text", "json", "sarif"]
    assert complete(script, ["smpack", "lint", "--fail-on", "w"]) == ["warning"]


def test_bash_completion_passes_shellcheck(generated_docs):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed")
    done = subprocess.run(["shellcheck", "-s", "bash", generated_docs / "smpack.bash"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# ---- the Python module, with the system python3 ------------------------------------------


def test_python_module_builds_lints_and_reads_findings(tmp_path):
    make_model(tmp_path / "model", "pytorch-torchscript")
    done = run_python("""
        import hashlib, json, smpack
        result = smpack.build("model", "model.tar.gz", mtime=0)
        data = open("model.tar.gz", "rb").read()
        assert result["archive_sha256"] == hashlib.sha256(data).hexdigest(), result
        assert result["archive_bytes"] == len(data) and result["members"] == 4, result

        clean = smpack.lint("model.tar.gz", profile="pytorch")
        assert clean.findings == [] and clean.deploy_ready and clean.profile == "pytorch"

        with open("model/code/inference.py", "w") as f:
            f.write("def model_fn(model_dir):\\n    return None\\n\\n\\nasync def predict_fn(data, model):\\n    return data\\n")
        report = smpack.lint("model")
        finding = report.findings[0]
        print(json.dumps({
            "types": [type(report).__name__, type(finding).__name__],
            "findings": [[f.rule_id, f.severity, f.member, f.line] for f in report.findings],
            "deploy_ready": report.deploy_ready,
            "at_error": report.has_findings_at("error"),
            "sarif_rule": json.loads(smpack.format_lint([report], "sarif"))["runs"][0]["results"][0]["ruleId"],
        }))
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["types"] == ["LintReport", "Finding"]
    assert out["findings"] == [["handler-async", "error", "code/inference.py", 5]]
    assert out["deploy_ready"] is False and out["at_error"] is True
    assert out["sarif_rule"] == "handler-async"

    cli = json.loads(run_smpack("lint", tmp_path / "model", "--json").stdout)
    assert [[f["rule"], f["severity"], f["member"], f["line"]]
            for f in cli["reports"][0]["findings"]] == out["findings"]


def test_python_build_is_the_cli_build(tmp_path):
    make_model(tmp_path / "model", "sklearn")
    assert run_smpack("build", tmp_path / "model", "-o", tmp_path / "cli.tar.gz",
                      "--mtime", "1700000000").returncode == 0
    done = run_python('import smpack; smpack.build("model", "py.tar.gz", mtime=1700000000)', tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "py.tar.gz").read_bytes() == (tmp_path / "cli.tar.gz").read_bytes()


def test_python_info_and_verify(tmp_path):
    make_model(tmp_path / "model", "sklearn")
    assert run_smpack("build", tmp_path / "model", "-o", tmp_path / "m.tar.gz",
                      "--manifest", tmp_path / "manifest.json").returncode == 0
    done = run_python("""
        import json, smpack
        info = smpack.info("m.tar.gz")
        good = smpack.verify("m.tar.gz", manifest="manifest.json")
        bad = smpack.verify("m.tar.gz", sha256="0" * 64)
        print(json.dumps({"info": info, "good": good, "bad": bad}))
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    cli_info = json.loads(run_smpack("info", tmp_path / "m.tar.gz", "--json").stdout)
    assert out["info"]["writer"] == "smpack" and out["info"]["smpack_index"] is True
    assert out["info"]["members"] == 4
    assert out["info"]["content_digest"] == json.loads(
        (tmp_path / "manifest.json").read_text())["content_digest"]
    assert out["info"]["writer"] == cli_info["writer"]
    assert out["good"]["ok"] is True and out["good"]["problems"] == []
    assert out["bad"]["ok"] is False
    assert out["bad"]["problems"][0].endswith("expected " + "0" * 64)


@pytest.mark.parametrize(
    "call, cli_args, exception",
    [
        ('smpack.build("missing", "x.tar.gz")', ["build", "missing", "-o", "x.tar.gz"], "IoError"),
        ('smpack.info("not-an-archive")', ["info", "not-an-archive"], "BadInputError"),
        ('smpack.lint("model", disable=["handler-arty"])',
         ["lint", "model", "--disable", "handler-arty"], "UsageError"),
    ],
)
def test_python_errors_are_exceptions_with_the_cli_messages(tmp_path, call, cli_args, exception):
    (tmp_path / "not-an-archive").write_bytes(b"\x00" * 600)
    make_model(tmp_path / "model", "sklearn")
    done = run_python(f"""
        import smpack
        try:
            {call}
        except smpack.Error as e:
            print(type(e).__name__)
            print(e)
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    name, message = done.stdout.rstrip("\n").split("\n", 1)
    cli = run_smpack(*cli_args, cwd=tmp_path)
    assert name == exception
    assert cli.stderr == f"smpack: error: {message}\n"


def test_python_init_and_templates(tmp_path):
    done = run_python("""
        import smpack
        names = [t["name"] for t in smpack.templates()]
        written = smpack.init("code", profile="pytorch", variant="state-dict")
        try:
            smpack.init("code", profile="pytorch")
        except smpack.UsageError as e:
            print("refused:", e)
        print(names)
        print(written["files"])
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "refused: code/inference.py: already exists; use force= to replace it"
    assert sorted(eval(lines[1])) == sorted(TEMPLATE_MODELS)
    assert eval(lines[2]) == ["code/inference.py", "code/requirements.txt"]
    assert (tmp_path / "code/inference.py").read_bytes() == (
        TEMPLATES_DIR / "pytorch-state-dict" / "inference.py").read_bytes()


def test_installed_python_module_imports(installed, tmp_path):
    site = list(installed.glob("lib/python3*/site-packages"))
    if not site:
        pytest.skip("the Python module is not built")
    done = run_python("import smpack; print(smpack.__version__, smpack.__file__)", tmp_path, site[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1].startswith(str(site[0]))


def test_example_training_script_stages_a_servable_model(tmp_path):
    torch = pytest.importorskip("torch")
    model_dir = tmp_path / "model"
    done = run_python(
        f"import runpy, sys\n"
        f"sys.argv = ['train_and_stage.py', '--model-dir', {str(model_dir)!r}, '--epochs', '300',"
        f" '--archive', {str(tmp_path / 'model.tar.gz')!r}]\n"
        f"runpy.run_path({str(SOURCE_DIR / 'examples' / 'train_and_stage.py')!r}, run_name='__main__')\n",
        tmp_path)
    if "No module named 'torch'" in done.stderr:
        pytest.skip("torch is not importable by the system python3")
    assert done.returncode == 0, done.stderr
    assert run_smpack("verify", tmp_path / "model.tar.gz").returncode == 0
    listed = run_smpack("ls", tmp_path / "model.tar.gz").stdout.split()
    assert listed == ["model.pt", "code", "code/inference.py", "code/requirements.txt"]
    lint = run_smpack("lint", tmp_path / "model.tar.gz", "--fail-on", "info")
    assert lint.returncode == 0, lint.stdout

    # The staged handlers serve what the script learnt: y = x @ [1.5, -2, 0.5, 3] + 0.25.
    module = load_module(model_dir / "code" / "inference.py", "staged_handlers")
    model = module.model_fn(str(model_dir))
    body, _ = module.output_fn(
        module.predict_fn(module.input_fn("[[1, 0, 0, 0], [0, 0, 0, 1]]", "application/json"), model),
        "application/json")
    assert [row[0] for row in json.loads(body)] == pytest.approx([1.75, 3.25], abs=1e-2)


# ---- CI integration files -------------------------------------------------------------


def smpack_lint_option_names() -> set[str]:
    return help_options("lint")


def test_pre_commit_hook_runs_a_real_lint(tmp_path):
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((SOURCE_DIR / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert {"id", "name", "entry", "language"} <= hook.keys()
    assert hook["language"] == "system" and hook["pass_filenames"] is False
    assert re.search(hook["files"], "model/code/inference.py")
    assert re.search(hook["files"], "model/code/requirements.txt")
    assert not re.search(hook["files"], "model/model.pt")

    # What pre-commit runs: the entry plus the args a user configures.
    program, *entry_args = hook["entry"].split()
    assert program == "smpack"
    model = make_model(tmp_path / "model", "sklearn")
    clean = run_smpack(*entry_args, "--profile", "sklearn", "--fail-on", "warning", model)
    assert clean.returncode == 0, clean.stdout
    (model / "code" / "inference.py").write_text("def predict(data, model):\n    return data\n")
    broken = run_smpack(*entry_args, "--profile", "sklearn", "--fail-on", "warning", model)
    assert broken.returncode == 1


def test_github_workflow_example_is_valid_and_uses_real_options(tmp_path):
    yaml = pytest.importorskip("yaml")
    workflow_path = SOURCE_DIR / "examples" / "github-actions" / "lint-model.yml"
    workflow = yaml.safe_load(workflow_path.read_text())
    steps = workflow["jobs"]["lint"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert "always()" in upload["if"]
    assert workflow["permissions"]["security-events"] == "write"

    lint_lines = [line for step in steps for line in step.get("run", "").splitlines()
                  if "smpack lint" in line]
    assert lint_lines
    used = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", "\n".join(lint_lines)))
    assert used <= smpack_lint_option_names()

    # The lint step, run as written with the workflow's env, on a model with a finding.
    model = make_model(tmp_path / "model", "pytorch-torchscript")
    (model / "code" / "requirements.txt").write_text("torch==2.0.1\n")  # req-framework-reinstall
    lint_step = next(s for s in steps if s.get("id") == "lint")
    github_output = tmp_path / "github_output"
    env = dict(os.environ, **workflow["env"], GITHUB_OUTPUT=str(github_output),
               PATH=f"{smpack_bin().parent}:{os.environ['PATH']}")
    done = subprocess.run(["bash", "-e", "-c", lint_step["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert github_output.read_text() == "status=1\n"
    sarif = json.loads((tmp_path / "smpack.sarif").read_text())
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert results["req-framework-reinstall"]["level"] == "warning"
    # Located at a path in the repository, so code scanning annotates the file.
    location = results["req-framework-reinstall"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "model/code/requirements.txt"


def test_python_stage_puts_code_in_place_and_refuses_to_clobber(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src/inference.py").write_text("def model_fn(model_dir):\n    return 1\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other/inference.py").write_text("def model_fn(model_dir):\n    return 2\n")
    done = run_python("""
        import smpack
        staged = smpack.stage("model", code_dir="src")
        assert (staged["unchanged"], staged["written"], staged["removed"]) == (
            False, ["code/inference.py"], []), staged
        assert "SAGEMAKER_PROGRAM" in staged["deploy_call"], staged
        assert smpack.stage("model", code_dir="src")["unchanged"]
        try:
            smpack.stage("model", code_dir="other")
        except smpack.UsageError as e:
            assert "use force= to replace it" in str(e), e
        else:
            raise AssertionError("a different code/ was replaced without force")
        assert not smpack.stage("model", code_dir="other", force=True)["unchanged"]
        assert smpack.lint("model").deploy_ready
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "model/code/inference.py").read_text().endswith("return 2\n")
