"""smpack-harness end to end, on the CPU: TorchScript models, inputs and expected outputs
written at test time by Python's torch (Debian python3-torch, under /usr/bin/python3),
packed with `smpack build`, then loaded, run, checked and timed by the harness."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from s3_server import s3_server  # noqa: F401  (the session's moto server)

BUILD_DIR = Path(os.environ.get("SMPACK_BUILD_DIR", "build"))
HARNESS = BUILD_DIR / "tools" / "harness" / "smpack-harness"
SMPACK = os.environ.get("SMPACK_BIN", str(BUILD_DIR / "tools" / "smpack" / "smpack"))
TORCH_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    not HARNESS.exists(),
    reason=f"smpack-harness not built at {HARNESS} (LibTorch not found, or SMPACK_WITH_TORCH=OFF)",
)

# Writes the fixtures into the directory given as argv[1]; runs under the system Python,
# which has torch.
FIXTURE_SCRIPT = textwrap.dedent(
    """
    import sys, torch, torch.nn as nn
    out = sys.argv[1]
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.fc = nn.Linear(8 * 6 * 6, 5)
        def forward(self, x):
            return torch.softmax(self.fc(torch.relu(self.conv(x)).flatten(1)), dim=1), x.mean()

    class Broken(nn.Module):
        def forward(self, x):
            return torch.log(x - 100.0)

    net = Net().eval()
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        probabilities, mean = net(x)
    torch.jit.save(torch.jit.script(net), f"{out}/model.pt")
    torch.jit.save(torch.jit.script(Broken()), f"{out}/broken.pt")
    torch.save((x,), f"{out}/inputs.pt")
    torch.save([probabilities, mean], f"{out}/expected.pt")
    torch.save([probabilities + 1e-3, mean], f"{out}/perturbed.pt")
    torch.save(net.state_dict(), f"{out}/weights.pth")
    # A view: 2 x 192 elements into its storage, dimensions permuted (strides 192, 1, 24, 3).
    view = torch.randn(5, 8, 8, 3)[2:].permute(0, 3, 1, 2)
    with torch.no_grad():
        torch.save(list(net(view)), f"{out}/view_expected.pt")
    torch.save((view,), f"{out}/view_inputs.pt")
    import os, pickle
    class Exploit:
        def __reduce__(self):
            return (os.system, ("true",))
    torch.save({"w": torch.zeros(2), "hook": Exploit()}, f"{out}/exploit.pth")
    with open(f"{out}/bare.pkl", "wb") as f:
        pickle.dump({"w": [1.0, 2.0]}, f, protocol=2)
    """
)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("harness")
    script = root / "make_fixtures.py"  # a file: torch.jit.script reads the class sources
    script.write_text(FIXTURE_SCRIPT)
    subprocess.run([TORCH_PYTHON, str(script), str(root)], check=True)
    return root


def pack(tmp_path, name, files):
    """An smpack archive holding `files` ({member name: fixture path or bytes}), written past
    the lint gate: some fixtures are broken on purpose, for the harness to judge."""
    source = tmp_path / f"{name}-src"
    source.mkdir()
    for member, content in files.items():
        data = content if isinstance(content, bytes) else Path(content).read_bytes()
        (source / member).write_bytes(data)
    archive = tmp_path / f"{name}.tar.gz"
    subprocess.run([SMPACK, "build", str(source), "-o", str(archive), "--no-lint"], check=True,
                   capture_output=True)
    return archive


def harness(*args, env=None):
    return subprocess.run([str(HARNESS), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)


def harness_json(tmp_path, *args):
    report_path = tmp_path / "report.json"
    result = harness(*args, "--json", report_path)
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return result, report


def checks_by_name(report):
    return {check["name"]: check for check in report["checks"]}


def test_matching_output_passes(fixtures, tmp_path):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu", "--input-file",
                                  fixtures / "inputs.pt", "--expect-file", fixtures / "expected.pt",
                                  "--iters", 5, "--warmup", 1)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["model_member"] == "model.pt"
    assert report["model_kind"] == "torchscript"
    checks = checks_by_name(report)
    assert checks["expected outputs"]["passed"]
    assert checks["cpu vs cpu float64 reference"]["passed"]
    assert checks["repeat run"]["passed"]
    assert [output["shape"] for output in report["outputs"]] == [[3, 5], []]
    assert 0 < report["cold_load_ms"] <= report["first_result_ms"]
    assert report["latency"]["runs"] == 5 and report["batch"] == 3
    assert "result: ok" in result.stdout


def test_saved_views_are_read_with_their_offset_and_strides(fixtures, tmp_path):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu", "--input-file",
                                  fixtures / "view_inputs.pt", "--expect-file",
                                  fixtures / "view_expected.pt", "--iters", 0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert checks_by_name(report)["expected outputs"]["passed"]


def test_perturbed_expectation_fails(fixtures, tmp_path):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu", "--input-file",
                                  fixtures / "inputs.pt", "--expect-file", fixtures / "perturbed.pt")
    assert result.returncode == 1, result.stdout + result.stderr
    expected = checks_by_name(report)["expected outputs"]
    assert not expected["passed"]
    assert "outside rtol" in expected["detail"]
    assert expected["max_abs_error"] == pytest.approx(1e-3, rel=1e-2)


def test_loose_tolerance_accepts_the_perturbation(fixtures, tmp_path):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result = harness(archive, "--device", "cpu", "--input-file", fixtures / "inputs.pt",
                     "--expect-file", fixtures / "perturbed.pt", "--atol", "2e-3", "--iters", 0)
    assert result.returncode == 0, result.stdout + result.stderr


def test_corrupt_model_member_fails_cleanly(fixtures, tmp_path):
    model = bytearray((fixtures / "model.pt").read_bytes())
    model[len(model) // 3:len(model) // 3 + 4096] = b"\xff" * 4096
    for name, data in {"garbled": bytes(model), "truncated": bytes(model[: len(model) // 2]),
                       "not-a-zip": b"not a model at all\n"}.items():
        archive = pack(tmp_path, name, {"model.pt": data})
        result = harness(archive, "--device", "cpu", "--input", "1x3x8x8:float32")
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert "load" in result.stdout and "FAILED" in result.stdout, name
        assert "internal" not in result.stderr, name


def test_state_dict_reports_its_inventory(fixtures, tmp_path):
    archive = pack(tmp_path, "weights", {"weights.pth": fixtures / "weights.pth"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu")
    assert result.returncode == 1, result.stdout + result.stderr
    assert report["model_member"] == "weights.pth"
    assert report["model_kind"] == "state_dict"
    inventory = subprocess.run(
        [TORCH_PYTHON, "-c",
         "import sys, json, torch; sd = torch.load(sys.argv[1]); print(json.dumps("
         "[[k, list(v.shape), str(v.dtype).replace('torch.', ''), v.numel() * v.element_size()]"
         " for k, v in sd.items()]))", fixtures / "weights.pth"],
        check=True, capture_output=True, text=True).stdout
    assert [[t["name"], t["shape"], t["dtype"], t["bytes"]] for t in report["saved_tensors"]] == \
        json.loads(inventory)
    checks = checks_by_name(report)
    assert checks["tensors finite"]["passed"]
    assert not checks["runnable without Python"]["passed"]
    assert "torch.jit.save" in checks["runnable without Python"]["detail"]


@pytest.mark.parametrize("member, content, why", [
    ("model.pth", "bare.pkl", "a bare pickle"),
    ("model.pt", b"import torch\nprint('hello')\n", "not a zip file"),
])
def test_what_is_not_torch_is_not_called_torchscript(fixtures, tmp_path, member, content, why):
    data = (fixtures / content).read_bytes() if isinstance(content, str) else content
    archive = pack(tmp_path, "notorch", {member: data})
    result, report = harness_json(tmp_path, archive, "--device", "cpu")
    assert result.returncode == 1, result.stdout + result.stderr
    assert report["model_kind"] == "unrecognised", report
    assert "torchscript" not in result.stdout.splitlines()[0], result.stdout
    assert why in checks_by_name(report)["load"]["detail"], report["checks"]


def test_dangerous_globals_are_called_dangerous(fixtures, tmp_path):
    """torch.load(weights_only=False) of this file runs os.system (posix.system on Linux);
    the harness names that as dangerous, not as a class the model needs."""
    archive = pack(tmp_path, "exploit", {"model.pth": fixtures / "exploit.pth"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu")
    assert result.returncode == 1, result.stdout + result.stderr
    assert report["dangerous_globals"] == ["posix.system"], report
    assert "posix.system" not in report["python_classes"], report
    assert "dangerous" in result.stdout and "classes needed to unpickle: posix" not in result.stdout
    assert report["model_kind"] == "pickled_object"


def test_float16_on_the_cpu_says_to_use_bfloat16(fixtures, tmp_path):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu", "--input",
                                  "2x3x8x8:float32", "--iters", 0, "--dtype", "float16")
    half = checks_by_name(report)["float16 vs cpu float64 reference"]
    if half["passed"]:
        pytest.skip("this LibTorch runs the model in float16 on the CPU")
    assert result.returncode == 1
    assert "not supported on the CPU" in half["detail"] and "bfloat16" in half["detail"], half
    bf16 = harness_json(tmp_path, archive, "--device", "cpu", "--input", "2x3x8x8:float32",
                        "--iters", 0, "--dtype", "bfloat16")[1]
    assert checks_by_name(bf16)["bfloat16 vs cpu float64 reference"]["passed"], bf16["checks"]


def test_nan_output_fails(fixtures, tmp_path):
    archive = pack(tmp_path, "broken", {"model.pt": fixtures / "broken.pt"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu", "--input", "4x4:float32")
    assert result.returncode == 1
    finite = checks_by_name(report)["outputs finite"]
    assert not finite["passed"] and "16 NaN" in finite["detail"]


def test_default_model_follows_the_container_and_model_overrides(fixtures, tmp_path):
    archive = pack(tmp_path, "two", {"a.pt": fixtures / "model.pt", "b.pt": fixtures / "broken.pt"})
    result = harness(archive, "--device", "cpu", "--input", "1x3x8x8:float32")
    assert result.returncode == 1
    assert "--model" in result.stdout and "a.pt, b.pt" in result.stdout
    result = harness(archive, "--device", "cpu", "--model", "a.pt", "--input", "1x3x8x8:float32",
                     "--iters", 0)
    assert result.returncode == 0, result.stdout + result.stderr


def test_directory_random_inputs_and_batch_sweep(fixtures, tmp_path):
    directory = tmp_path / "model-dir"
    directory.mkdir()
    (directory / "model.pt").write_bytes((fixtures / "model.pt").read_bytes())
    result, report = harness_json(tmp_path, directory, "--device", "cpu", "--input",
                                  "2x3x8x8:float32", "--seed", 7, "--iters", 3, "--warmup", 0,
                                  "--batch-sweep", "1,4,8")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [point["batch"] for point in report["batch_sweep"]] == [1, 4, 8]
    assert all(point["fits"] for point in report["batch_sweep"])
    assert report["largest_batch"] == 8
    assert report["inputs"][0]["shape"] == [2, 3, 8, 8]


def test_batch_sweep_reuses_the_base_batch(fixtures, tmp_path):
    """The base batch (2, from --input) is timed once: its sweep point is the same
    measurement as the report's latency, and the table shows it once."""
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result, report = harness_json(tmp_path, archive, "--device", "cpu", "--input",
                                  "2x3x8x8:float32", "--iters", 5, "--warmup", 0,
                                  "--batch-sweep", "1,2,4")
    assert result.returncode == 0, result.stdout + result.stderr
    points = {point["batch"]: point for point in report["batch_sweep"]}
    assert sorted(points) == [1, 2, 4]
    assert points[2]["latency"] == report["latency"], (points[2], report["latency"])
    rows = [line.split()[0] for line in result.stdout.split("latency (", 1)[1].splitlines()[2:]
            if line.strip() and line.split()[0].isdigit()]
    assert rows == ["1", "2", "4"], result.stdout


def test_random_inputs_are_repeatable(fixtures, tmp_path):
    """Same seed, same inputs: the softmax output's checks see the same error figures."""
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    reports = []
    for seed in (3, 3, 4):
        _, report = harness_json(tmp_path, archive, "--device", "cpu", "--input",
                                 "2x3x8x8:float32", "--seed", seed, "--iters", 0)
        reports.append(checks_by_name(report)["cpu vs cpu float64 reference"]["max_abs_error"])
    assert reports[0] == reports[1]
    assert reports[0] != reports[2]


@pytest.mark.parametrize("args, code", [
    (["--input", "3xfoo:float32"], 2),
    (["--input", "1x3:complex7"], 2),
    (["--device", "tpu"], 2),
    (["--dtype", "int8"], 2),
])
def test_usage_errors(fixtures, tmp_path, args, code):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    result = harness(archive, *args)
    assert result.returncode == code, result.stderr
    assert "error" in result.stderr.lower()


def test_unreadable_archive_is_exit_3(tmp_path):
    bogus = tmp_path / "model.tar.gz"
    bogus.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 64)
    result = harness(bogus, "--device", "cpu", "--model", "model.pt")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.returncode == 3 and harness(tmp_path / "absent.tar.gz").returncode == 3


def test_a_model_in_s3_is_loaded_in_place(fixtures, tmp_path, s3_server):
    archive = pack(tmp_path, "good", {"model.pt": fixtures / "model.pt"})
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(archive), bucket, "model.tar.gz")
    result = harness(f"s3://{bucket}/model.tar.gz", "--device", "cpu", "--input-file",
                     fixtures / "inputs.pt", "--expect-file", fixtures / "expected.pt",
                     "--iters", 2, "--warmup", 1, env=s3_server.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: ok" in result.stdout
