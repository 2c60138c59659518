"""The CLI and the Python module are two clients of the same library operations: every
operation both expose, run on the same inputs, good and bad, gives the same JSON (the
CLI's --json, Python's return value) and the same errors (kind and message). One Python
process drives both, so stateful operations (stage, add-code, extract, init) run on
identical inputs: the state is restored between the two runs.

Fields documented as varying (docs/cli.md): none of these operations has one when the
paths are the same, so the dicts must be equal outright."""

from __future__ import annotations

import json

from conftest import make_code_dir, make_model_dir, run_python, write_files

DRIVER = r"""
import json, os, shutil, subprocess, sys
import smpack

SMPACK = os.environ["SMPACK_BIN"]
results = []

def cli(*args):
    done = subprocess.run([SMPACK, *args, "--json"], capture_output=True, text=True)
    if done.stdout.strip():
        doc = json.loads(done.stdout)
    else:
        doc = None
    return done.returncode, doc, done.stderr

def py(call):
    try:
        return {"value": call()}
    except smpack.LintError as e:
        return {"lint_error": json.loads(smpack.format_lint([e.report], "json"))}
    except smpack.Error as e:
        return {"error": type(e).__name__, "message": str(e)}

def case(name, cli_args, call, reset=None):
    if reset:
        reset()
    code, doc, stderr = cli(*cli_args)
    if reset:
        reset()
    results.append({"case": name, "exit": code, "cli": doc, "stderr": stderr, "python": py(call)})

def restore(src, dst):
    def reset():
        shutil.rmtree(dst, ignore_errors=True)
        if os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True)
        elif os.path.exists(src):
            shutil.copy(src, dst)
    return reset

def remove(*paths):
    def reset():
        for p in paths:
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
    return reset

case("build", ["build", "model", "-o", "out.tar.gz", "--mtime", "0"],
     lambda: smpack.build("model", "out.tar.gz", mtime=0), remove("out.tar.gz"))
case("build with code", ["build", "weights", "-o", "coded.tar.gz", "--code", "src", "--mtime", "0"],
     lambda: smpack.build("weights", "coded.tar.gz", code_dir="src", mtime=0), remove("coded.tar.gz"))
case("build refused by the lint gate", ["build", "bad-handler", "-o", "bad.tar.gz"],
     lambda: smpack.build("bad-handler", "bad.tar.gz"), remove("bad.tar.gz"))
case("build of a missing directory", ["build", "missing", "-o", "x.tar.gz"],
     lambda: smpack.build("missing", "x.tar.gz"))
case("build without the gate", ["build", "bad-handler", "-o", "bad.tar.gz", "--no-lint", "--mtime", "0"],
     lambda: smpack.build("bad-handler", "bad.tar.gz", lint=False, mtime=0), remove("bad.tar.gz"))
smpack.build("model", "out.tar.gz", mtime=0)
smpack.build("weights", "weights.tar.gz", mtime=0)
subprocess.run(["tar", "czf", "gnu.tar.gz", "-C", "model", "."], check=True)

for target in ("out.tar.gz", "gnu.tar.gz", "model", "garbage.tar.gz", "missing.tar.gz"):
    case("info " + target, ["info", target], lambda t=target: smpack.info(t))
    case("ls " + target, ["ls", target], lambda t=target: smpack.ls(t))
    case("digest " + target, ["digest", target], lambda t=target: smpack.digest(t))
    case("lint " + target, ["lint", target],
         lambda t=target: json.loads(smpack.format_lint([smpack.lint(t)], "json")))
    case("repack-check " + target, ["repack-check", target, "--entry-point", "inference.py"],
         lambda t=target: smpack.repack_check(t, entry_point="inference.py"))
for target in ("out.tar.gz", "gnu.tar.gz", "garbage.tar.gz", "model"):
    case("verify " + target, ["verify", target], lambda t=target: smpack.verify(t))
case("verify with a wrong digest", ["verify", "out.tar.gz", "--sha256", "0" * 64],
     lambda: smpack.verify("out.tar.gz", sha256="0" * 64))
case("digest with an S3 part size", ["digest", "out.tar.gz", "--s3-etag", "5MiB"],
     lambda: smpack.digest("out.tar.gz", s3_part_size=5 << 20))
case("repack-check with a bad version",
     ["repack-check", "out.tar.gz", "--framework-version", "two"],
     lambda: smpack.repack_check("out.tar.gz", framework_version="two"))
case("diff", ["diff", "out.tar.gz", "weights.tar.gz"],
     lambda: smpack.diff("out.tar.gz", "weights.tar.gz"))
case("diff of a directory and its archive", ["diff", "model", "out.tar.gz"],
     lambda: smpack.diff("model", "out.tar.gz"))
case("extract", ["extract", "out.tar.gz", "-C", "unpacked"],
     lambda: smpack.extract("out.tar.gz", "unpacked"), remove("unpacked"))
case("extract of an unsafe archive", ["extract", "traversal.tar", "-C", "unsafe"],
     lambda: smpack.extract("traversal.tar", "unsafe"), remove("unsafe"))
case("add-code to a copy", ["add-code", "weights.tar.gz", "-o", "added.tar.gz", "--code", "src"],
     lambda: smpack.add_code("weights.tar.gz", "added.tar.gz", code_dir="src"), remove("added.tar.gz"))
case("add-code in place", ["add-code", "work.tar.gz", "--in-place", "--code", "src"],
     lambda: smpack.add_code("work.tar.gz", in_place=True, code_dir="src"),
     restore("weights.tar.gz", "work.tar.gz"))
case("add-code refused by the lint gate",
     ["add-code", "weights.tar.gz", "-o", "added.tar.gz", "--code", "bad-src"],
     lambda: smpack.add_code("weights.tar.gz", "added.tar.gz", code_dir="bad-src"),
     remove("added.tar.gz"))
case("stage", ["stage", "staged", "--code", "src"],
     lambda: smpack.stage("staged", code_dir="src"), restore("weights", "staged"))
case("stage over different code", ["stage", "staged", "--code", "bad-src", "--no-lint"],
     lambda: smpack.stage("staged", code_dir="bad-src", lint=False), restore("model", "staged"))
case("init", ["init", "fresh", "--profile", "pytorch"],
     lambda: smpack.init("fresh", profile="pytorch"), remove("fresh"))
os.makedirs("taken", exist_ok=True)
open("taken/inference.py", "w").write("x = 1\n")
case("init over a file", ["init", "taken", "--profile", "pytorch"],
     lambda: smpack.init("taken", profile="pytorch"))
print(json.dumps(results))
"""

PY_ERROR_OF_EXIT = {2: "UsageError", 3: ("BadInputError", "IoError")}


def unsafe_tar(path):
    import io
    import tarfile

    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))


def test_cli_and_python_give_the_same_reports_and_errors(tmp_path):
    make_model_dir(tmp_path, name="model", weights_bytes=1 << 20, with_code=True)
    make_model_dir(tmp_path, name="weights", weights_bytes=1 << 20)
    make_model_dir(tmp_path, name="bad-handler", weights_bytes=1 << 16,
                   extra={"code/inference.py": "def model_fn(a, b, c):\n    pass\n"})
    make_code_dir(tmp_path, "src")
    write_files(tmp_path / "bad-src", {"inference.py": "def predict_fn(x):\n    return x\n"})
    (tmp_path / "garbage.tar.gz").write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    unsafe_tar(tmp_path / "traversal.tar")

    done = run_python(DRIVER, tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 48
    kinds = set()
    for r in results:
        name, python = r["case"], r["python"]
        if "value" in python:
            # 1: findings or differences; 3: lint's report of an unreadable or unsafe input.
            assert r["exit"] in (0, 1, 3), (name, r["stderr"])
            assert python["value"] == r["cli"], name
            kinds.add("value")
        elif "lint_error" in python:
            # The gate refused: the CLI printed the same findings on stderr and exit 1.
            assert r["exit"] == 1, (name, r["stderr"])
            findings = python["lint_error"]["reports"][0]["findings"]
            assert findings and all(f["message"] in r["stderr"] for f in findings), name
            kinds.add("lint_error")
        else:
            # An error: the same kind (exit code) and message; JSON on stdout carries both.
            expected = PY_ERROR_OF_EXIT[r["exit"]]
            assert python["error"] in (expected if isinstance(expected, tuple) else (expected,)), r
            cli_error = r["cli"]["error"]
            assert r["cli"]["exit_code"] == r["exit"], name
            # Hints are spelled per client (--force, force=); the rest is the library's text.
            assert cli_error["message"].split("; use ")[0] == python["message"].split("; use ")[0], name
            kinds.add(python["error"])
    assert kinds >= {"value", "lint_error", "UsageError", "BadInputError", "IoError"}, kinds
