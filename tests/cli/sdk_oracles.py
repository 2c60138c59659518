"""The SDK oracles (sdk_oracle.py) as the tests call them: one process per batch of
cases, under the venv of the SDK version asked for."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE_DIR

ORACLE = Path(__file__).with_name("sdk_oracle.py")
PYTHONS = {"v2": SOURCE_DIR / ".venv" / "bin" / "python",
           "v3": SOURCE_DIR / ".venv-sdk-v3" / "bin" / "python"}
FRAMEWORKS = ["pytorch", "huggingface", "tensorflow", "mxnet", "sklearn", "xgboost", "model"]
# What each printed call's upper-case placeholders are bound to when it is run.
BINDINGS = {
    "pytorch": {"FRAMEWORK_VERSION": "2.1", "PY_VERSION": "py310"},
    "huggingface": {"TRANSFORMERS_VERSION": "4.26", "PYTORCH_VERSION": "1.13",
                    "PY_VERSION": "py39"},
    "tensorflow": {"FRAMEWORK_VERSION": "2.11"},
    "mxnet": {"FRAMEWORK_VERSION": "1.9", "PY_VERSION": "py38"},
    "sklearn": {"FRAMEWORK_VERSION": "1.2-1", "PY_VERSION": "py3"},
    "xgboost": {"FRAMEWORK_VERSION": "1.7-1"},
    "model": {},
}
# The model class each lint profile's container is deployed with.
PROFILE_FRAMEWORKS = {"pytorch": "pytorch", "huggingface": "huggingface",
                      "tensorflow": "tensorflow", "sklearn": "sklearn", "xgboost": "xgboost",
                      "generic": "model"}


def sdk_oracle(sdk: str, cases: list[dict], tmp_path: Path) -> list[dict]:
    python = PYTHONS[sdk]
    if not python.exists():
        # CI's setup makes every venv: missing there is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            f"{python} is missing: run scripts/setup.sh")
    cases_file = tmp_path / f"cases-{sdk}.json"
    cases_file.write_text(json.dumps(cases))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([str(python), str(ORACLE), str(cases_file)], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["sdk"].startswith(sdk[1] + "."), answer["sdk"]
    assert answer["outside_connects"] == [], answer["outside_connects"]
    return answer["results"]
