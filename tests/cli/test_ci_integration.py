"""The CI integration files: the pre-commit hook runs a real lint, the GitHub workflow
example is valid and uses real options."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import help_options, SOURCE_DIR, run_smpack, smpack_bin
from template_models import make_model


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
