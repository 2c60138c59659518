#!/usr/bin/env python3
"""Times the reading commands (ls, info, lint, verify, digest) of two smpack binaries side
by side, on the same smpack archive and the same foreign archive (`tar -I 'igzip -1'`), in
one run: how a change to the reading code moved them. Medians of --repeat runs, wall and
CPU time, and the load average before each run.

    .venv/bin/python bench/bench_read.py --before OLD/smpack --after build/tools/smpack/smpack
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from weights import write_safetensors

HERE = Path(__file__).resolve().parent
COMMANDS = [["ls", "-l"], ["info"], ["lint"], ["verify"], ["digest"]]


def make_inputs(root: Path, size_mib: int, smpack: Path) -> dict[str, Path]:
    model = root / "model"
    (model / "code").mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_safetensors(model / "model.safetensors", rng.standard_normal(size_mib << 18, dtype=np.float32))
    (model / "config.json").write_text('{"architectures": ["Tiny"]}\n')
    (model / "code/inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    smpack_archive = root / "smpack.tar.gz"
    subprocess.run([smpack, "build", model, "-o", smpack_archive], check=True, capture_output=True)
    foreign = root / "foreign.tar.gz"
    subprocess.run(["tar", "-I", "igzip -1", "-cf", foreign, "-C", model, "."], check=True)
    return {"smpack archive": smpack_archive, "foreign archive": foreign}


def run_once(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "read.json")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="smpack-read-", dir=args.workdir))
    try:
        inputs = make_inputs(root, args.size_mib, args.after)
        rows = []
        for label, archive in inputs.items():
            for command in COMMANDS:
                row = {"input": label, "command": " ".join(command)}
                for name, binary in (("before", args.before), ("after", args.after)):
                    walls, cpus, loads = [], [], []
                    for _ in range(args.repeat):
                        loads.append(os.getloadavg()[0])
                        wall, cpu = run_once([str(binary), *command, str(archive)])
                        walls.append(wall)
                        cpus.append(cpu)
                    row[name] = {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
                                 "load": [min(loads), max(loads)]}
                row["after_vs_before"] = row["after"]["wall_s"] / row["before"]["wall_s"]
                rows.append(row)
                print(f"{label:16} {row['command']:8} before {row['before']['wall_s'] * 1000:9.1f} ms"
                      f"  after {row['after']['wall_s'] * 1000:9.1f} ms  ({row['after_vs_before']:.2f}x)"
                      f"  load {row['before']['load'][0]:.1f}-{row['after']['load'][1]:.1f}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"size_mib": args.size_mib, "repeat": args.repeat,
                                        "before": str(args.before), "after": str(args.after),
                                        "rows": rows}, indent=2))
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
