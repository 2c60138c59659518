"""The Python module `smpack`, driven by the system python3: build, lint, info, verify,
errors, init, stage, and the example training script."""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import SOURCE_DIR, build_archive, make_model_dir, run_python, run_smpack
from s3_server import s3_server  # noqa: F401  (the session's moto server)
from template_models import TEMPLATES_DIR, TEMPLATE_MODELS, make_model, load_module


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
            f.write("def model_fn(model_dir):\\n    return None\\n\\n\\nasync def predict_fn(data, model):\\n    return data\\n"
                    "\\n\\ndef input_fn(body, content_type):\\n    return body\\n")
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


def test_python_module_reads_s3_as_the_cli_does(tmp_path, s3_server):
    model = make_model_dir(tmp_path, with_code=True)
    archive = build_archive(model, tmp_path / "model.tar.gz")
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(archive), bucket, "m/model.tar.gz")
    for path in (p for p in model.rglob("*") if p.is_file()):
        s3_server.client().upload_file(str(path), bucket, "layout/" + path.relative_to(model).as_posix())
    env = s3_server.overrides()
    done = run_python(f"""
        import json, smpack
        print(json.dumps({{"info": smpack.info("s3://{bucket}/m/model.tar.gz"),
                          "ls": smpack.ls("s3://{bucket}/m/model.tar.gz"),
                          "prefix": smpack.lint("s3://{bucket}/layout/").deploy_ready}}))
    """, tmp_path, env_changes=env)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    cli = run_smpack("info", "--json", f"s3://{bucket}/m/model.tar.gz", env=env)
    assert got["info"] == json.loads(cli.stdout)
    assert [m["path"] for m in got["ls"]] == run_smpack(
        "ls", archive).stdout.split()
    assert got["prefix"] is True
    # A wrong secret is the library's error, raised with its message.
    refused = run_python(f"""
        import smpack
        try:
            smpack.info("s3://{bucket}/m/model.tar.gz")
        except Exception as e:
            print(type(e).__name__, e)
    """, tmp_path, env_changes={**env, "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert "SignatureDoesNotMatch" in refused.stdout, refused.stdout + refused.stderr


def test_python_module_builds_into_s3_and_changes_code_there(tmp_path, s3_server):
    model = make_model_dir(tmp_path, with_code=True)
    local = build_archive(model, tmp_path / "local.tar.gz")
    bucket = s3_server.new_bucket()
    done = run_python(f"""
        import json, smpack
        built = smpack.build("model", "s3://{bucket}/model.tar.gz")
        added = smpack.add_code("s3://{bucket}/model.tar.gz", code_dir="model/code", in_place=True)
        print(json.dumps({{"built": built, "added": added}}))
    """, tmp_path, env_changes=s3_server.overrides())
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["built"]["archive_sha256"] == hashlib.sha256(local.read_bytes()).hexdigest()
    assert got["built"]["etag"] and got["added"]["etag"]
    head = s3_server.client().head_object(Bucket=bucket, Key="model.tar.gz")
    assert head["ETag"].strip('"') == got["added"]["etag"]
