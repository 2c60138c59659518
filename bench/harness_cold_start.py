#!/usr/bin/env python3
"""Cold load + first result of a TorchScript model packed in a model.tar.gz:
smpack-harness (reads model.pt through the smpack index into memory, torch::jit::load)
against the path the PyTorch serving container takes (Python: tarfile extraction to a
model directory, torch.jit.load, first forward).

Both clocks start at opening the archive and stop when the first output is on the host;
`import torch` is outside the Python clock (a serving process has it loaded already).
Run with the system Python, which has torch:
    /usr/bin/python3 bench/harness_cold_start.py --build-dir build [--runs 3]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON_PATH = r"""
import sys, tarfile, tempfile, time, torch
archive, shape = sys.argv[1], [int(d) for d in sys.argv[2].split("x")]
torch.set_grad_enabled(False)
x = torch.randn(*shape)
with tempfile.TemporaryDirectory() as model_dir:
    start = time.perf_counter()
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir)
    model = torch.jit.load(f"{model_dir}/model.pt", map_location="cpu").eval()
    loaded = time.perf_counter()
    y = model(x)
    done = time.perf_counter()
print(f"{(loaded - start) * 1000:.3f} {(done - start) * 1000:.3f}")
"""

MAKE_MODEL = r"""
import sys, torch, torch.nn as nn
width, depth, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)
layers = []
for _ in range(depth):
    layers += [nn.Linear(width, width), nn.GELU()]
torch.jit.save(torch.jit.script(nn.Sequential(*layers).eval()), out)
"""


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    build = Path(args.build_dir)
    harness = build / "tools" / "harness" / "smpack-harness"
    smpack = build / "tools" / "smpack" / "smpack"
    shape = f"{args.batch}x{args.width}"
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        (work / "model").mkdir()
        subprocess.run([sys.executable, "-c", MAKE_MODEL, str(args.width), str(args.depth),
                        str(work / "model" / "model.pt")], check=True)
        archive = work / "model.tar.gz"
        subprocess.run([str(smpack), "build", str(work / "model"), "-o", str(archive)],
                       check=True, capture_output=True)
        model_bytes = (work / "model" / "model.pt").stat().st_size
        archive_bytes = archive.stat().st_size

        harness_runs, python_runs = [], []
        for _ in range(args.runs):
            subprocess.run(["sync"], check=True)
            report = work / "report.json"
            subprocess.run([str(harness), str(archive), "--device", "cpu", "--input",
                            f"{shape}:float32", "--iters", "0", "--json", str(report)],
                           check=True, capture_output=True)
            figures = json.loads(report.read_text())
            harness_runs.append((figures["cold_load_ms"], figures["first_result_ms"]))
            out = subprocess.run([sys.executable, "-c", PYTHON_PATH, str(archive), shape],
                                 check=True, capture_output=True, text=True).stdout.split()
            python_runs.append((float(out[0]), float(out[1])))

    harness_first = statistics.median(run[1] for run in harness_runs)
    python_first = statistics.median(run[1] for run in python_runs)
    result = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "model_bytes": model_bytes,
        "archive_bytes": archive_bytes,
        "input": shape,
        "harness_ms": [{"cold_load": a, "first_result": b} for a, b in harness_runs],
        "python_ms": [{"cold_load": a, "first_result": b} for a, b in python_runs],
        "median_first_result_ms": {"harness": harness_first, "python": python_first},
        "speedup": python_first / harness_first,
    }
    print(f"machine: {result['cpu']}, {result['cores']} cores; model.pt {model_bytes / 2**20:.1f} MiB; "
          f"input {shape}; {args.runs} runs")
    print(f"{'path':<44} {'cold load ms':>13} {'first result ms':>16}")
    for name, runs in (("smpack-harness (index, in memory)", harness_runs),
                       ("python: tarfile extract + torch.jit.load", python_runs)):
        print(f"{name:<44} {statistics.median(r[0] for r in runs):>13.1f} "
              f"{statistics.median(r[1] for r in runs):>16.1f}")
    print(f"speedup (first result, medians): {result['speedup']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
