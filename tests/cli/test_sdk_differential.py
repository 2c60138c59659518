"""repack-check and the printed deploy calls against the SageMaker SDK's own code, v2 and
v3, run offline by tests/cli/sdk_oracle.py (uploads, repacks, role checks, resource
creation and telemetry patched out; sockets held to loopback). v2 comes from .venv
(sagemaker 2.x), v3 from .venv-sdk-v3 (sagemaker 3.x): they pin conflicting
sagemaker-core versions, so scripts/setup.sh makes one venv for each."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from conftest import build_archive, make_code_dir, make_model_dir, run_smpack, write_files
from sdk_oracles import BINDINGS, FRAMEWORKS, PROFILE_FRAMEWORKS, sdk_oracle as oracle

# Versions each class was built with in v2, with the boundaries of the version rules.
V2_VERSIONS = {"pytorch": ["", "1.1.0", "1.2", "2.1"], "mxnet": ["", "1.3", "1.4", "1.9"]}

@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdk")
    model = make_model_dir(root, weights_bytes=4096)
    return build_archive(model, root / "model.tar.gz", "--code", make_code_dir(root))


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("src")
    write_files(root, {"inference.py": "def model_fn(model_dir):\n    return 1\n",
                       "requirements.txt": "numpy\n"})
    return root


def matrix(sdk: str, source_dir: Path) -> list[dict]:
    """Every framework class x entry_point / source_dir / dependencies / network isolation,
    and for v2 the framework versions at the edges of its version rules."""
    cases = []
    for framework in FRAMEWORKS:
        versions = V2_VERSIONS.get(framework, [""]) if sdk == "v2" else [""]
        for version, entry, source, dependency, isolation in itertools.product(
                versions, [None, "inference.py"], [None, str(source_dir)],
                [None, str(source_dir / "requirements.txt")], [False, True]):
            cases.append({"framework": framework, "framework_version": version,
                          "entry_point": entry, "source_dir": source,
                          "dependencies": [dependency] if dependency else [],
                          "network_isolation": isolation, "bindings": BINDINGS[framework]})
    return cases


def smpack_says(sdk: str, archive: Path, case: dict) -> dict:
    args = ["repack-check", archive, "--json", "--sdk", sdk, "--framework", case["framework"]]
    if case["framework_version"]:
        args += ["--framework-version", case["framework_version"]]
    if case["entry_point"]:
        args += ["--entry-point", case["entry_point"]]
    if case["source_dir"]:
        args += ["--source-dir", case["source_dir"]]
    for dependency in case["dependencies"]:
        args += ["--dependencies", dependency]
    if case["network_isolation"]:
        args.append("--network-isolation")
    result = run_smpack(*args)
    assert result.returncode in (0, 1), (case, result.stderr)
    report = json.loads(result.stdout)
    assert report["repacks"] is (result.returncode == 1)
    assert report["sdk"] == sdk
    return report


@pytest.mark.parametrize("sdk", ["v2", "v3"])
def test_repack_check_agrees_with_the_sdk(sdk, archive, source_dir, tmp_path):
    cases = matrix(sdk, source_dir)
    answers = oracle(sdk, [{"repack": case} for case in cases], tmp_path)
    disagreements = []
    repacked = 0
    for case, answer in zip(cases, answers):
        assert answer["error"] is None, (case, answer["error"], answer.get("traceback"))
        report = smpack_says(sdk, archive, case)
        repacked += answer["repacked"]
        if report["repacks"] != answer["repacked"]:
            disagreements.append((case, report["rule"], answer["repacked"]))
            continue
        if not answer["repacked"]:
            continue
        # What smpack says the repack sets in the container's environment is what the SDK set.
        effects = " ".join(report["effects"])
        environment = answer["environment"]
        claims_program = "sets SAGEMAKER_PROGRAM=inference.py" in effects
        if claims_program != (environment.get("SAGEMAKER_PROGRAM") == "inference.py") or (
                claims_program and environment.get("SAGEMAKER_SUBMIT_DIRECTORY")
                != "/opt/ml/model/code"):
            disagreements.append((case, effects, environment))
    assert not disagreements, disagreements
    # The matrix exercises both answers.
    assert 0 < repacked < len(cases), repacked


def test_v3_drops_an_entry_point_without_a_source_dir_and_says_so(archive, tmp_path):
    """ModelBuilder's passthrough build keeps source_code only with both an entry_script and
    a source_dir; an entry_script alone is dropped with a warning, so nothing sets
    SAGEMAKER_PROGRAM. repack-check says what the container will run instead."""
    case = {"framework": "pytorch", "framework_version": "", "entry_point": "inference.py",
            "source_dir": None, "dependencies": [], "network_isolation": False,
            "bindings": BINDINGS["pytorch"]}
    answer = oracle("v3", [{"repack": case}], tmp_path)[0]
    assert not answer["repacked"] and "SAGEMAKER_PROGRAM" not in answer["environment"], answer
    report = smpack_says("v3", archive, case)
    assert not report["repacks"]
    assert any("SAGEMAKER_PROGRAM is not set" in effect for effect in report["effects"]), report


def test_v3_takes_one_requirements_file(archive, source_dir):
    result = run_smpack("repack-check", archive, "--sdk", "v3", "--entry-point", "inference.py",
                        "--source-dir", source_dir, "--dependencies", source_dir / "a.txt",
                        "--dependencies", source_dir / "b.txt")
    assert result.returncode == 2 and "one requirements file" in result.stderr, result.stderr


def printed_calls(sdk: str, archive: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(framework, where, call) for every deploy call smpack prints for `sdk`."""
    calls = []
    for framework in FRAMEWORKS:
        report = json.loads(run_smpack("repack-check", archive, "--json", "--sdk", sdk,
                                       "--framework", framework, "--entry-point", "inference.py",
                                       "--source-dir", archive.parent,
                                       "--network-isolation").stdout)
        assert report["repacks"], report
        call = report["avoid"][-1].split(":\n", 1)[1]
        calls.append((framework, "repack-check", call))
    info = json.loads(run_smpack("info", archive, "--json", "--sdk", sdk).stdout)
    lint = json.loads(run_smpack("lint", archive, "--json", "--sdk", sdk).stdout)["reports"][0]
    model = make_model_dir(tmp_path / "stage", weights_bytes=1024)
    staged = json.loads(run_smpack("stage", model, "--code", make_code_dir(tmp_path / "stage"),
                                   "--json", "--sdk", sdk).stdout)
    staged_profile = json.loads(run_smpack("lint", model, "--json").stdout)["reports"][0]["profile"]
    calls.append((PROFILE_FRAMEWORKS[info["profile"]], "info", info["deploy_call"]))
    calls.append((PROFILE_FRAMEWORKS[lint["profile"]], "lint", lint["deploy_call"]))
    calls.append((PROFILE_FRAMEWORKS[staged_profile], "stage", staged["deploy_call"]))
    return calls



@pytest.mark.parametrize("sdk", ["v2", "v3"])
def test_printed_deploy_calls_run_under_their_sdk_without_a_repack(sdk, archive, tmp_path):
    """Each call that info, lint, stage and repack-check print runs under the SDK version it
    names (its placeholders bound), creates the model, and repacks nothing."""
    calls = printed_calls(sdk, archive, tmp_path)
    imports = {"v2": "from sagemaker.", "v3": "from sagemaker.serve.model_builder import"}
    for framework, where, call in calls:
        assert imports[sdk] in call, (where, call)
        if sdk == "v3":
            assert "sagemaker.pytorch" not in call and "sagemaker.model " not in call, call
    answers = oracle(sdk, [{"snippet": call, "bindings": BINDINGS[framework]}
                           for framework, _, call in calls], tmp_path)
    for (framework, where, call), answer in zip(calls, answers):
        assert answer["error"] is None, (where, framework, call, answer["error"],
                                         answer.get("traceback"))
        assert answer["created"] and not answer["repacked"], (where, framework, answer)


def test_the_default_is_v3(archive):
    default = json.loads(run_smpack("info", archive, "--json").stdout)["deploy_call"]
    v3 = json.loads(run_smpack("info", archive, "--json", "--sdk", "v3").stdout)["deploy_call"]
    assert default == v3 and "ModelBuilder" in default
    result = run_smpack("lint", archive, "--sdk", "v4")
    assert result.returncode == 2 and "v4" in result.stderr


@pytest.mark.parametrize("sdk, version", [("v2", "1.2-1"), ("v3", "1.2-1"), ("v3", "2024.1")])
def test_image_versions_with_a_build_suffix_are_accepted(archive, sdk, version):
    """SKLearnModel and XGBoostModel versions carry the image build ("1.2-1"); v3 passes the
    version to image_uris only, so it is not compared, but what is no version is refused."""
    result = run_smpack("repack-check", archive, "--json", "--sdk", sdk, "--framework", "sklearn",
                        "--framework-version", version, "--entry-point", "inference.py")
    assert result.returncode in (0, 1), result.stderr
    assert run_smpack("repack-check", archive, "--sdk", sdk, "--framework-version",
                      "2.x").returncode == 2
