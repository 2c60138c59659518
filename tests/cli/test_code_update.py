"""smpack stage, add-code and repack-check: the SDK's repack made unnecessary, or
cheap. Archives are read back by GNU tar and Python tarfile(filter="data")."""

from __future__ import annotations

import json
import re
import shutil
import os
import sys
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from conftest import (
    TarEntry,
    build_archive,
    generate_weights,
    make_code_dir,
    make_model_dir,
    run_smpack,
    smpack_bin,
    write_files,
    write_tar,
)

NEW_HANDLER = "def model_fn(model_dir):\n    return 'v2'\n"


def new_code(tmp_path: Path, name: str = "code2", files: dict | None = None) -> Path:
    root = tmp_path / name
    write_files(root, files or {"inference.py": NEW_HANDLER})
    return root


def members(archive: Path) -> list[str]:
    out = subprocess.run(["tar", "tzf", archive], capture_output=True, text=True, check=True).stdout
    return out.split()


def extract_with_python(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        # Debian 12's Python 3.11.2 predates the PEP 706 filter (3.11.4).
        tar.extractall(dest, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))


@pytest.fixture
def smpack_archive(tmp_path):
    model = make_model_dir(tmp_path, weights_bytes=4 << 20)
    return build_archive(model, tmp_path / "model.tar.gz", "--code", make_code_dir(tmp_path))


def test_in_place_rewrites_only_the_tail(tmp_path, smpack_archive):
    before = smpack_archive.read_bytes()
    result = run_smpack("add-code", smpack_archive, "--code", new_code(tmp_path), "--in-place", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["method"].startswith("rewrote only the tail")
    assert report["bytes_written"] < 64 << 10  # the code and the index, not 4 MiB of weights
    assert report["replaced"] == ["code/inference.py"]
    assert report["removed"] == ["code/requirements.txt"]
    after = smpack_archive.read_bytes()
    prefix = len(after) - report["bytes_written"]
    assert after[:prefix] == before[:prefix]  # the weights' gzip members are untouched
    assert members(smpack_archive)[-2:] == ["code/", "code/inference.py"]
    extract_with_python(smpack_archive, tmp_path / "out")
    assert (tmp_path / "out/code/inference.py").read_text() == NEW_HANDLER
    assert not (tmp_path / "out/code/requirements.txt").exists()
    assert run_smpack("verify", smpack_archive).returncode == 0


def test_replacing_twice_and_copying_give_the_same_bytes(tmp_path, smpack_archive):
    original = tmp_path / "original.tar.gz"
    original.write_bytes(smpack_archive.read_bytes())
    code = new_code(tmp_path)
    other = new_code(tmp_path, "code3", {"inference.py": "def model_fn(d):\n    return 3\n", "util.py": "X = 1\n"})
    assert run_smpack("add-code", smpack_archive, "--code", other, "--in-place").returncode == 0
    assert run_smpack("add-code", smpack_archive, "--code", code, "--in-place").returncode == 0
    copied = tmp_path / "copied.tar.gz"
    result = run_smpack("add-code", original, "--code", code, "-o", copied)
    assert result.returncode == 0, result.stderr
    assert copied.read_bytes() == smpack_archive.read_bytes()
    names = members(copied)
    assert len(names) == len(set(names))
    assert "code/util.py" not in names


@pytest.mark.parametrize("compressor", ["xz", "zstd", "bzip2"])
def test_foreign_archive_not_in_gzip_is_rewritten_in_one_pass(tmp_path, compressor):
    """A gzip tar is spliced (test_splice.py); any other container is recompressed."""
    model = make_model_dir(tmp_path, with_code=True)
    foreign = tmp_path / "model.tar.x"
    subprocess.run(["tar", "-c", f"--{compressor}", "-f", foreign, "-C", model, "."], check=True)
    out = tmp_path / "out.tar.gz"
    result = run_smpack("add-code", foreign, "--code", new_code(tmp_path), "-o", out, "--json",
                        "--no-lint")  # lint judges the input's container, which is not gzip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["method"] == "rewrote the archive in one streaming pass"
    assert report["kept_bytes"] == 0 and report["rewritten_tar_bytes"] > (2 << 20)
    assert report["removed"] == ["code/requirements.txt"]
    names = members(out)
    assert names[-2:] == ["code/", "code/inference.py"]
    assert len(names) == len(set(names))
    extract_with_python(out, tmp_path / "x")
    assert (tmp_path / "x/model.bin").read_bytes() == (model / "model.bin").read_bytes()
    info = json.loads(run_smpack("info", out, "--json").stdout)
    assert info["writer"] == "smpack"  # so the next change is a tail rewrite


def test_foreign_archive_without_code_gets_one(tmp_path):
    foreign = write_tar(tmp_path / "py.tar.gz", [TarEntry("model.bin", generate_weights(1 << 16))])
    result = run_smpack("add-code", foreign, "--code", new_code(tmp_path), "--in-place")
    assert result.returncode == 0, result.stderr
    assert members(foreign) == ["model.bin", "code/", "code/inference.py"]


@pytest.mark.parametrize("writer", ["tar", "smpack"])
def test_code_added_to_a_wrapped_archive_is_refused_with_the_fix(tmp_path, writer):
    """`tar czf model.tar.gz optml/` then add-code: code/ would land beside optml/, and the
    merged archive no longer looks wrapped, so the archive is judged as it was."""
    parent = tmp_path / "out"
    model = make_model_dir(parent, name="optml", weights_bytes=1 << 16)
    archive = tmp_path / "wrapped.tar.gz"
    if writer == "tar":
        subprocess.run(["tar", "czf", archive, "-C", parent, "optml"], check=True)
    else:
        build_archive(parent, archive)
    before = archive.read_bytes()
    for destination in (["--in-place"], ["-o", tmp_path / "o.tar.gz"]):
        result = run_smpack("add-code", archive, "--code", new_code(tmp_path), *destination)
        assert result.returncode == 1, result.stderr
        assert "layout-wrapped" in result.stderr and "'optml/'" in result.stderr
        assert "tar -C optml -czf model.tar.gz ." in result.stderr
        assert archive.read_bytes() == before
        assert not (tmp_path / "o.tar.gz").exists()
    # Code next to a model folder is fine where the folder is not everything: build of a
    # directory that has one (model_fn may load model_dir/optml) is not refused.
    built = run_smpack("build", parent, "-o", tmp_path / "b.tar.gz", "--code", new_code(tmp_path))
    assert built.returncode == 0, built.stderr


def test_foreign_archive_with_duplicates_or_links_is_refused_and_kept(tmp_path):
    dup = write_tar(tmp_path / "dup.tar.gz", [TarEntry("a.txt", b"1"), TarEntry("a.txt", b"2")])
    before = dup.read_bytes()
    result = run_smpack("add-code", dup, "--code", new_code(tmp_path), "--in-place")
    assert result.returncode == 3
    assert "'a.txt'" in result.stderr and "twice" in result.stderr
    assert dup.read_bytes() == before
    link = write_tar(tmp_path / "link.tar.gz", [TarEntry("l", type=tarfile.SYMTYPE, linkname="/etc/passwd")])
    result = run_smpack("add-code", link, "--code", new_code(tmp_path), "-o", tmp_path / "o.tar.gz")
    assert result.returncode == 3 and "'l'" in result.stderr
    assert not (tmp_path / "o.tar.gz").exists()


@pytest.mark.parametrize("writer", ["smpack", "tar"])  # a tail rewrite, a splice
def test_interrupted_in_place_rewrite_leaves_the_original(tmp_path, smpack_archive, writer):
    archive = smpack_archive
    if writer == "tar":
        archive = tmp_path / "gnu.tar.gz"
        model = make_model_dir(tmp_path, "foreign", weights_bytes=4 << 20, with_code=True)
        subprocess.run(["tar", "czf", archive, "-C", model, "."], check=True)
    before = archive.read_bytes()
    # A large code file at zlib level 9 on one thread: the rewrite takes seconds.
    big = new_code(tmp_path, "big", {"inference.py": NEW_HANDLER, "blob.bin": generate_weights(48 << 20)})
    proc = subprocess.Popen(
        [str(smpack_bin()), "add-code", str(archive), "--code", str(big), "--in-place",
         "--level", "9", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert proc.poll() is None, "the rewrite finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert archive.read_bytes() == before
    assert not Path(str(archive) + ".smpack-tail").exists()
    assert run_smpack("verify", archive).returncode == 0


def test_add_code_needs_exactly_one_destination(tmp_path, smpack_archive):
    result = run_smpack("add-code", smpack_archive, "--code", new_code(tmp_path))
    assert result.returncode == 2 and "-o OUT" in result.stderr


def test_stage_puts_code_in_place_and_prints_the_deploy_call(tmp_path):
    model = make_model_dir(tmp_path)
    result = run_smpack("stage", model, "--code", make_code_dir(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (model / "code/inference.py").is_file()
    assert 'env_vars={"SAGEMAKER_PROGRAM": "inference.py"}' in result.stdout
    assert "ModelBuilder(" in result.stdout and "no source_code" in result.stdout
    v2 = run_smpack("stage", model, "--code", make_code_dir(tmp_path, "same2"), "--sdk", "v2")
    assert 'env={"SAGEMAKER_PROGRAM": "inference.py"}' in v2.stdout and "no entry_point" in v2.stdout
    again = run_smpack("stage", model, "--code", make_code_dir(tmp_path, "same"))
    assert again.returncode == 0 and "already holds this code" in again.stdout


def test_stage_refuses_different_code_unless_forced(tmp_path):
    model = make_model_dir(tmp_path, with_code=True)
    code = new_code(tmp_path)
    refused = run_smpack("stage", model, "--code", code)
    assert refused.returncode == 2
    assert "--force" in refused.stderr and "code/requirements.txt" in refused.stderr
    assert (model / "code/requirements.txt").exists()
    forced = run_smpack("stage", model, "--code", code, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "removed code/requirements.txt" in forced.stdout
    assert not (model / "code/requirements.txt").exists()


def test_stage_refuses_code_that_fails_lint(tmp_path):
    model = make_model_dir(tmp_path)
    bad = new_code(tmp_path, "bad", {"inference.py": "def model_fn(a, b, c):\n    pass\n"})
    result = run_smpack("stage", model, "--code", bad)
    assert result.returncode == 1
    assert "code/inference.py" in result.stderr and "nothing was written" in result.stderr
    assert not (model / "code").exists()


@pytest.mark.parametrize(
    "args, repacks",
    [
        (["--framework", "pytorch", "--entry-point", "inference.py"], True),
        (["--framework", "pytorch", "--framework-version", "1.2", "--entry-point", "inference.py"], True),
        (["--framework", "pytorch", "--framework-version", "1.1.0", "--entry-point", "inference.py"], False),
        (["--framework", "pytorch"], False),
        (["--framework", "huggingface", "--entry-point", "inference.py"], True),
        (["--framework", "tensorflow", "--entry-point", "inference.py"], True),
        (["--framework", "mxnet", "--framework-version", "1.4", "--entry-point", "inference.py"], True),
        (["--framework", "mxnet", "--framework-version", "1.3", "--entry-point", "inference.py"], False),
        (["--framework", "sklearn", "--entry-point", "inference.py"], False),
        (["--framework", "sklearn", "--entry-point", "inference.py", "--network-isolation"], True),
        (["--framework", "xgboost", "--entry-point", "inference.py", "--network-isolation"], True),
        (["--framework", "model", "--entry-point", "inference.py"], False),
        (["--framework", "model", "--entry-point", "inference.py", "--source-dir", "src"], True),
    ],
)
def test_repack_check_table(smpack_archive, args, repacks):
    result = run_smpack("repack-check", smpack_archive, "--sdk", "v2", *args, "--json")
    assert result.returncode == (1 if repacks else 0), result.stderr
    report = json.loads(result.stdout)
    assert report["repacks"] is repacks
    assert report["rule"]


def test_repack_check_names_lost_files_and_uninstalled_requirements(tmp_path, smpack_archive):
    source_dir = new_code(tmp_path, "src")  # has inference.py only
    deps = tmp_path / "deps"
    write_files(deps, {"requirements.txt": "torch\n"})
    result = run_smpack("repack-check", smpack_archive, "--entry-point", "inference.py",
                        "--source-dir", source_dir, "--dependencies", deps)
    assert result.returncode == 1
    assert "deletes code/requirements.txt" in result.stdout
    assert "is never installed" in result.stdout
    assert "smpack add-code" in result.stdout


def test_repack_check_rejects_bad_versions(smpack_archive):
    result = run_smpack("repack-check", smpack_archive, "--framework-version", "2.x", "--entry-point", "i.py")
    assert result.returncode == 2 and "2.x" in result.stderr


def test_build_refuses_code_that_fails_lint_unless_told(tmp_path):
    model = make_model_dir(tmp_path)
    bad = new_code(tmp_path, "bad", {"inference.py": "def model_fn(a, b, c):\n    pass\n"})
    out = tmp_path / "m.tar.gz"
    refused = run_smpack("build", model, "--code", bad, "-o", out)
    assert refused.returncode == 1
    assert "code/inference.py" in refused.stderr and "nothing was written" in refused.stderr
    assert not out.exists()
    assert run_smpack("build", model, "--code", bad, "-o", out, "--no-lint").returncode == 0
    # Weights alone are not linted: the code comes later.
    assert run_smpack("build", model, "-o", tmp_path / "weights.tar.gz").returncode == 0


SDK_CONTAINER_ENV = r"""
import json, sys
from unittest import mock
import sagemaker.utils
from sagemaker.tensorflow.model import TensorFlowModel
from sagemaker.pytorch.model import PyTorchModel

session = mock.MagicMock()  # no AWS call: the session's answers are mocks
session.default_bucket.return_value = "bucket"
session.boto_region_name = "us-east-1"
session.sagemaker_config = {}
session.default_bucket_prefix = None
out = {}
with mock.patch.object(sagemaker.utils, "repack_model"), \
     mock.patch("sagemaker.fw_utils.tar_and_upload_dir"):
    for name, cls, kwargs in (("tensorflow", TensorFlowModel, {"framework_version": "2.11"}),
                              ("pytorch", PyTorchModel, {"framework_version": "2.1", "py_version": "py310"})):
        model = cls(model_data="s3://bucket/model.tar.gz", role="arn:aws:iam::111111111111:role/r",
                    entry_point="inference.py", image_uri="image", sagemaker_session=session, **kwargs)
        out[name] = model.prepare_container_def(instance_type="ml.m5.large")["Environment"]
print(json.dumps(out))
"""


def test_what_repack_check_says_about_the_environment_is_what_the_sdk_sets(tmp_path):
    """The SDK's own prepare_container_def (uploads and repacks patched out) is the oracle:
    TensorFlowModel sets neither SAGEMAKER_PROGRAM nor SAGEMAKER_SUBMIT_DIRECTORY."""
    pytest.importorskip("sagemaker")
    done = subprocess.run([sys.executable, "-c", SDK_CONTAINER_ENV], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, AWS_EC2_METADATA_DISABLED="true",
                                                SAGEMAKER_SUPPRESS_V2_WARNING="1",
                                                AWS_DEFAULT_REGION="us-east-1"))
    assert done.returncode == 0, done.stderr
    env = json.loads(done.stdout.strip().splitlines()[-1])
    archive = build_archive(make_model_dir(tmp_path, weights_bytes=4096), tmp_path / "m.tar.gz")
    for framework in ("tensorflow", "pytorch"):
        result = run_smpack("repack-check", archive, "--sdk", "v2", "--framework", framework,
                            "--entry-point", "inference.py", "--json")
        effects = " ".join(json.loads(result.stdout)["effects"])
        claims_program = "sets SAGEMAKER_PROGRAM=" in effects
        assert claims_program == ("SAGEMAKER_PROGRAM" in env[framework]), (framework, env, effects)
    avoid = json.loads(run_smpack("repack-check", archive, "--sdk", "v2", "--framework", "tensorflow",
                                  "--entry-point", "inference.py", "--json").stdout)["avoid"]
    assert not any('"SAGEMAKER_PROGRAM"' in a for a in avoid), avoid


def test_repack_check_uses_the_model_classs_default_version(tmp_path):
    """PyTorchModel defaults to framework_version 1.3 and MXNetModel to 1.4 (SDK v2), not to
    the newest version; the rule says which version it judged."""
    sdk = pytest.importorskip("sagemaker.pytorch.model")
    import inspect

    assert inspect.signature(sdk.PyTorchModel.__init__).parameters["framework_version"].default == "1.3"
    archive = build_archive(make_model_dir(tmp_path, weights_bytes=4096), tmp_path / "m.tar.gz")
    doc = json.loads(run_smpack("repack-check", archive, "--sdk", "v2", "--entry-point",
                                "inference.py", "--json").stdout)
    assert "framework_version 1.3 (the class's default)" in doc["rule"], doc
    assert "newest" not in run_smpack("repack-check", "--help").stdout


# ---- an entry point alone goes over code/, as the SDK's entry_point-only repack does ----


def sdk_code_dir_after(model: Path, entry_point: Path, tmp_path: Path) -> dict[str, bytes]:
    """code/ as the SDK's own `_create_or_update_code_dir` leaves it (sagemaker v2, no
    source_dir: the script is copied into the code/ there), on a copy of `model`."""
    copy = tmp_path / "sdk-model"
    shutil.copytree(model, copy)
    done = subprocess.run([sys.executable, "-c", (
        "import sys, sagemaker.utils as u;"
        "u._create_or_update_code_dir(sys.argv[1], sys.argv[2], None, [], None, sys.argv[3])"),
        str(copy), str(entry_point), str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return {p.relative_to(copy / "code").as_posix(): p.read_bytes()
            for p in sorted((copy / "code").rglob("*")) if p.is_file()}


def test_an_entry_point_alone_keeps_code_as_the_sdk_does(tmp_path):
    model = tmp_path / "m"
    (model / "code" / "lib").mkdir(parents=True)
    (model / "model.pt").write_bytes(b"weights")
    (model / "code" / "inference.py").write_text("def model_fn(model_dir):\n    return 1\n")
    (model / "code" / "helper.py").write_text("X = 1\n")
    (model / "code" / "lib" / "util.py").write_text("Y = 2\n")
    (model / "code" / "__pycache__").mkdir()  # kept too: the SDK keeps what is there
    (model / "code" / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")
    for name in ("serve.py", "inference.py"):  # a new script, and one that replaces a file
        entry = tmp_path / "entry" / name
        entry.parent.mkdir(exist_ok=True)
        entry.write_text("def model_fn(model_dir):\n    return 2\n")
        expected = sdk_code_dir_after(model, entry, tmp_path / f"sdk-{name}")
        archive = tmp_path / f"{name}.tar.gz"
        assert run_smpack("build", model, "-o", archive, "--no-lint",
                          "--no-default-excludes").returncode == 0
        out = tmp_path / f"{name}.out.tar.gz"
        added = run_smpack("add-code", archive, "--entry-point", entry, "-o", out, "--no-lint")
        assert added.returncode == 0, added.stderr
        in_place = run_smpack("add-code", archive, "--entry-point", entry, "--in-place",
                              "--no-lint")
        assert in_place.returncode == 0, in_place.stderr
        for result in (out, archive):
            with tarfile.open(result) as tar:
                got = {m.name[len("code/"):]: tar.extractfile(m).read() for m in tar.getmembers()
                       if m.isfile() and m.name.startswith("code/")}
            assert got == expected, (name, sorted(got), sorted(expected))
        staged_model = tmp_path / f"staged-{name}"
        shutil.copytree(model, staged_model)
        staged = run_smpack("stage", staged_model, "--entry-point", entry, "--no-lint",
                            *(["--force"] if name == "inference.py" else []), "--json")
        assert staged.returncode == 0, staged.stderr
        on_disk = {p.relative_to(staged_model / "code").as_posix(): p.read_bytes()
                   for p in sorted((staged_model / "code").rglob("*")) if p.is_file()}
        assert on_disk == expected
        assert json.loads(staged.stdout)["written"] == [f"code/{name}"]
    # Changing a file that is there needs --force; adding one does not.
    refused = run_smpack("stage", model, "--entry-point", tmp_path / "entry" / "inference.py",
                         "--no-lint")
    assert refused.returncode == 2 and "code/inference.py would change" in refused.stderr


def test_repack_check_sizes_the_extraction_of_a_small_archive(smpack_archive):
    result = run_smpack("repack-check", smpack_archive, "--sdk", "v2", "--entry-point", "inference.py")
    assert result.returncode == 1
    peak = re.search(r"about ([0-9.]+ [KMG]?i?B) at peak", result.stdout)
    assert peak and peak.group(1) not in ("0 MiB", "0.0 MiB"), result.stdout
