"""Differential test of smpack's handler scan against CPython and the SageMaker toolkit.

For every module of tests/handler_corpus/ (plus newline/BOM variants made here), laid
out as code/inference.py beside the corpus helper modules:
  1. CPython imports it (non-stdlib packages stubbed) and reports, for each handler name,
     whether the attribute is callable, len(inspect.signature(...).parameters) and
     inspect.iscoroutinefunction;
  2. the real sagemaker_inference Transformer runs its handler lookup
     (_validate_user_module_and_set_functions) and we record which handlers it takes from
     the module and whether it raises;
  3. smpack_scan_handlers prints smpack's ModuleScan as JSON.
smpack must agree with both, except on bindings it marks conditional (the last binding in
source order is its documented guess) or unknown.
"""

import functools
import importlib.abc
import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
import types
import unicodedata
from pathlib import Path

import pytest

HANDLER_NAMES = ["model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn",
                 "pre_model_fn", "model_warmup_fn"]
TF_SERVING_NAMES = ["handler", "input_handler", "output_handler"]
ALL_NAMES = HANDLER_NAMES + TF_SERVING_NAMES

SOURCE_DIR = Path(os.environ.get("SMPACK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
CORPUS = SOURCE_DIR / "tests" / "handler_corpus"
SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "AttributeError"}


def scan_tool():
    build_dir = os.environ.get("SMPACK_BUILD_DIR")
    if not build_dir:
        pytest.skip("SMPACK_BUILD_DIR is not set (run through ctest)")
    tool = Path(build_dir) / "tests" / "tools" / "smpack_scan_handlers"
    if not tool.exists():
        pytest.fail(f"{tool} is not built")
    return tool


def is_helper(path):
    return path.name.startswith("helper")


def corpus_cases():
    cases = {p.stem: p.read_bytes() for p in sorted(CORPUS.glob("*.py")) if not is_helper(p)}
    # Newline and BOM variants are made here so that no fixture is stored with odd bytes.
    basic = cases["basic_all_handlers"].replace(b"\r\n", b"\n")
    cases["variant_crlf_newlines"] = basic.replace(b"\n", b"\r\n")
    cases["variant_cr_newlines"] = basic.replace(b"\n", b"\r")
    cases["variant_utf8_bom"] = b"\xef\xbb\xbf" + basic
    cases["variant_bom_crlf"] = b"\xef\xbb\xbf" + basic.replace(b"\n", b"\r\n")
    cases["variant_crlf_continuations"] = cases["backslash_continuation"].replace(b"\n", b"\r\n")
    return cases


def lay_out(tmp_path, source):
    root = tmp_path / "model"
    code = root / "code"
    code.mkdir(parents=True)
    for helper in CORPUS.iterdir():
        if is_helper(helper) and helper.is_dir():
            shutil.copytree(helper, code / helper.name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif is_helper(helper):
            shutil.copy(helper, code / helper.name)
    (code / "inference.py").write_bytes(source)
    return root


# ---------------------------------------------------------------- CPython + toolkit oracle

class _Stub:
    """Stands for anything of a stubbed third-party package."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and (inspect.isfunction(args[0])
                                              or inspect.isclass(args[0])):
            wrapped = args[0]

            @functools.wraps(wrapped)
            def wrapper(*a, **k):
                return wrapped(*a, **k)
            return wrapper
        return _Stub()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub()

    def __mro_entries__(self, bases):
        return (object,)

    def __iter__(self):
        return iter(())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub()


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Empty stub modules for every non-stdlib top-level package not in the archive."""

    def __init__(self, search_dirs):
        self.search_dirs = search_dirs

    def find_spec(self, fullname, path, target=None):
        top = fullname.split(".")[0]
        if top in sys.stdlib_module_names or top in sys.modules and "." not in fullname:
            return None
        for folder in self.search_dirs:
            if (folder / f"{top}.py").exists() or (folder / top).is_dir():
                return None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        return _StubModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def run_oracle(root):
    """Runs in a fresh interpreter: prints what CPython and the toolkit see."""
    from sagemaker_inference import default_inference_handler, environment, transformer

    root = Path(root)
    code = root / "code"
    sys.modules.pop("code", None)  # the stdlib `code` module would hide code/ as a package
    sys.path[:0] = [str(code), str(root)]
    sys.meta_path.insert(0, _StubFinder([code, root]))
    os.environ["SAGEMAKER_PROGRAM"] = "inference.py"

    result = {"import_error": None, "handlers": {}, "toolkit": {}, "toolkit_error": None}
    service = transformer.Transformer(
        default_inference_handler=default_inference_handler.DefaultInferenceHandler())
    service._environment = environment.Environment()
    try:
        service._validate_user_module_and_set_functions()
    except Exception as error:  # noqa: BLE001 - any import failure is an observation
        result["toolkit_error"] = type(error).__name__
    module = sys.modules.get("inference")
    if module is None:
        result["import_error"] = result["toolkit_error"]
    else:
        missing = object()
        for name in ALL_NAMES:
            value = getattr(module, name, missing)
            if value is missing:
                continue
            entry = {"callable": callable(value), "params": None,
                     "coroutine": inspect.iscoroutinefunction(value)}
            if callable(value):
                try:
                    entry["params"] = len(inspect.signature(value).parameters)
                except (TypeError, ValueError):
                    pass
            result["handlers"][name] = entry
        if result["toolkit_error"] is None:
            # What the toolkit sets without a user function (transformer.py).
            defaults = service._default_inference_handler
            default_for = {
                "model_fn": defaults.default_model_fn,
                "input_fn": defaults.default_input_fn,
                "predict_fn": defaults.default_predict_fn,
                "output_fn": defaults.default_output_fn,
                "transform_fn": service._default_transform_fn,
                "pre_model_fn": getattr(defaults, "default_pre_model_fn", None),
                "model_warmup_fn": getattr(defaults, "default_model_warmup_fn", None),
            }
            for name in HANDLER_NAMES:
                value = getattr(module, name, missing)
                used = getattr(service, "_" + name)
                result["toolkit"][name] = value is not missing and used is value \
                    and used != default_for[name]
    print(json.dumps(result))


def cpython_view(root):
    out = subprocess.run([sys.executable, __file__, "--oracle", str(root)],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def smpack_view(root):
    out = subprocess.run([str(scan_tool()), str(root), "code/inference.py"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# ---------------------------------------------------------------- comparison

def toolkit_state(binding):
    """What getattr(module, name) gives the toolkit, from smpack's binding."""
    if binding is None or binding["kind"] == "deleted":
        return "absent"
    if binding["kind"] == "none_value":
        return "none"
    if binding["callable"] is True:
        return "callable"
    return "unknown"


def expected_toolkit(scan):
    """Which handlers the toolkit takes from the module, and whether it raises; None where
    smpack cannot know."""
    states = {name: toolkit_state(scan["bindings"].get(name)) for name in HANDLER_NAMES}
    if any(scan["bindings"].get(n, {}).get("conditional") for n in HANDLER_NAMES):
        return None, None
    truthy = {n: {"absent": False, "none": False, "callable": True}.get(s)
              for n, s in states.items()}
    picks = {}
    for name, state in states.items():
        if state == "unknown":
            picks[name] = None
        elif name == "model_fn":
            picks[name] = state != "absent"
        elif name in ("pre_model_fn", "model_warmup_fn"):
            picks[name] = state == "callable"
        else:
            picks[name] = truthy[name]
    others = [truthy[n] for n in ("input_fn", "predict_fn", "output_fn")]
    if truthy["transform_fn"] is None or (truthy["transform_fn"] and None in others):
        error = None
    else:
        error = "ValueError" if truthy["transform_fn"] and any(others) else "none"
    return picks, error


def compare(case, cpython, scan):
    """Disagreements as (case, name, what, cpython, smpack, tolerated) rows."""
    rows = []
    kinds = {p["kind"] for p in scan["problems"]}

    def row(name, what, theirs, ours, tolerated=False):
        rows.append((case, name, what, theirs, ours, tolerated))

    if cpython["import_error"]:
        wanted = ({"syntax_error", "python2_syntax"} if cpython["import_error"] in SYNTAX_ERRORS
                  else {"unresolved_import"} if cpython["import_error"] in IMPORT_ERRORS else set())
        if not kinds & wanted:
            row("-", "import fails", cpython["import_error"], sorted(kinds) or "no problem")
        return rows
    if kinds - {"limit_exceeded"}:
        row("-", "import fails", "imports fine", [p["message"] for p in scan["problems"]])

    for name in ALL_NAMES:
        binding = scan["bindings"].get(name)
        theirs = cpython["handlers"].get(name)
        tolerated = bool(binding and binding["conditional"])
        ours_callable = (False if binding is None or binding["kind"] == "deleted"
                         else binding["callable"])
        their_callable = bool(theirs and theirs["callable"])
        if ours_callable is None:
            continue
        if ours_callable != their_callable:
            row(name, "callable", their_callable, ours_callable, tolerated)
            continue
        if not ours_callable:
            continue
        if binding["signature_known"] and binding["params"] is not None \
                and binding["params"] != theirs["params"]:
            row(name, "params", theirs["params"], binding["params"], tolerated)
        if not binding["decorators"] and binding["is_async"] != theirs["coroutine"]:
            row(name, "async", theirs["coroutine"], binding["is_async"], tolerated)
    for nested in scan["nested"]:
        if nested["name"] in cpython["handlers"]:
            row(nested["name"], "nested but a module attribute", "attribute", nested["container"])

    picks, error = expected_toolkit(scan)
    if picks is not None:
        actual_error = cpython["toolkit_error"] or "none"
        if error is not None and error != actual_error:
            row("-", "toolkit error", actual_error, error)
        if actual_error == "none":
            for name, pick in picks.items():
                if pick is not None and pick != cpython["toolkit"][name]:
                    row(name, "toolkit uses it", cpython["toolkit"][name], pick)
    return rows


def format_table(rows):
    lines = [f"{'case':34} {'name':16} {'what':26} {'CPython/toolkit':18} smpack"]
    for case, name, what, theirs, ours, tolerated in rows:
        mark = " (conditional: tolerated)" if tolerated else ""
        lines.append(f"{case:34} {name:16} {what:26} {str(theirs):18} {ours}{mark}")
    return "\n".join(lines)


# ---------------------------------------------------------------- tests

def test_corpus_is_large_enough():
    assert len([c for c in corpus_cases() if not c.startswith("variant_")]) >= 60


def test_smpack_agrees_with_cpython_and_the_toolkit(tmp_path):
    pytest.importorskip("sagemaker_inference",
                        reason="the SageMaker inference toolkit is not installed")
    all_rows = []
    for case, source in corpus_cases().items():
        root = lay_out(tmp_path / case, source)
        all_rows += compare(case, cpython_view(root), smpack_view(root))
    failures = [r for r in all_rows if not r[5]]
    assert not failures, "smpack disagrees:\n" + format_table(all_rows)


def test_conditional_bindings_are_marked(tmp_path):
    # The documented guess (last binding in source order) differs from CPython here; the
    # binding must say it is conditional.
    root = lay_out(tmp_path, (CORPUS / "conditional_import_fallback.py").read_bytes())
    binding = smpack_view(root)["bindings"]["model_fn"]
    assert binding["conditional"] and "last binding" in binding["note"]


def test_identifier_normalisation_matches_unicodedata():
    identifier_chars = [chr(cp) for cp in range(0x80, 0x30000)
                        if 0xD800 > cp or cp > 0xDFFF
                        if ("a" + chr(cp)).isidentifier()]
    out = subprocess.run([str(scan_tool()), "--nfkc"], input="\n".join(identifier_chars) + "\n",
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ours = out.stdout.split("\n")
    wrong = []
    for char, normalised in zip(identifier_chars, ours):
        expected = unicodedata.normalize("NFKC", char)
        if not (expected.isascii() and (expected.isidentifier() or expected.isdigit())):
            expected = char  # outside the table's coverage: kept as is
        if normalised != expected:
            wrong.append(f"U+{ord(char):04X}: {normalised!r} != {expected!r}")
    assert len(ours) >= len(identifier_chars)
    assert not wrong, "\n".join(wrong[:40])


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--oracle":
    run_oracle(sys.argv[2])
