"""What several suites share: each template's model files (so that a whole model directory,
not just code/, lints clean), and `cmake --install` of the build tree into a fresh
prefix."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, STAND_IN_PICKLE, run_smpack


TEMPLATES_DIR = SOURCE_DIR / "templates"

# Each template, the profile and variant that select it, and the files its model needs
# at the root (so that the whole model directory, not just code/, lints clean).
TEMPLATE_MODELS = {
    "pytorch-torchscript": ("pytorch", "torchscript", {"model.pt": STAND_IN_PICKLE}),
    "pytorch-state-dict": ("pytorch", "state-dict", {"model.pth": STAND_IN_PICKLE}),
    "huggingface": (
        "huggingface",
        "",
        {"config.json": json.dumps({"architectures": ["BertForSequenceClassification"]})},
    ),
    "tensorflow": ("tensorflow", "", {"1/saved_model.pb": b"graph"}),
    "sklearn": ("sklearn", "", {"model.joblib": STAND_IN_PICKLE}),
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
