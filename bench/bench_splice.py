#!/usr/bin/env python3
"""add-code on a foreign archive (`tar czf`, the shape of a SageMaker training output)
against the SDK's repack (bench/sdk_repack_equivalent.py) and the decompressors a user
has (`gzip -dc`, `pigz -dc`, `igzip -dc`, each to /dev/null), in one run, on the same
generated float32 weights. Also an archive whose old code/ sits in the middle (the cost
is what follows it) and `--in-place`, whose written bytes and kept prefix are checked.
Records median wall and CPU seconds (user and system apart), bytes written and the load
average; raw results in bench/out/splice.json, `--report` prints the table for RESULTS.md.

    .venv/bin/python bench/bench_splice.py [--size-mib 1024] [--repeat 5] [--sdk-repeat 1]
        [--baseline OLD_SMPACK]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from weights import write_safetensors

HERE = Path(__file__).resolve().parent
MiB = 1 << 20


def timed(argv: list[str], stdout=subprocess.DEVNULL) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "user_s": after.ru_utime - before.ru_utime,
            "sys_s": after.ru_stime - before.ru_stime, "load": load,
            "stdout": done.stdout if stdout == subprocess.PIPE else None}


def record(out: Path, result: dict, render) -> None:
    """Writes the raw result as JSON and prints its markdown table."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(render(result))


def medians(runs: list[dict]) -> dict:
    row = {key: statistics.median(r[key] for r in runs) for key in ("wall_s", "user_s", "sys_s")}
    row["runs"] = len(runs)
    row["load"] = [min(r["load"] for r in runs), max(r["load"] for r in runs)]
    return row


def make_inputs(root: Path, size_mib: int) -> dict[str, Path]:
    model = root / "model"
    model.mkdir()
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(size_mib << 18, dtype=np.float32)
    write_safetensors(model / "model.safetensors", weights)
    (model / "config.json").write_text('{"architectures": ["Tiny"]}\n')
    code = root / "code"
    code.mkdir()
    (code / "inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    (code / "requirements.txt").write_text("numpy==1.26.4\n")
    foreign = root / "foreign.tar.gz"
    subprocess.run(["tar", "czf", foreign, "-C", model, "."], check=True)
    # Two shards with the old code/ between them: the second shard is what a splice
    # compresses again.
    halves = root / "halves"
    halves.mkdir()
    write_safetensors(halves / "model-00001.safetensors", weights[: weights.size // 2])
    write_safetensors(halves / "model-00002.safetensors", weights[weights.size // 2:])
    del weights
    shutil.copytree(code, halves / "code")
    middle = root / "middle.tar.gz"
    subprocess.run(["tar", "czf", middle, "-C", halves, "model-00001.safetensors", "code",
                    "model-00002.safetensors"], check=True)
    shutil.rmtree(halves)
    return {"model": model, "code": code, "foreign": foreign, "middle": middle}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smpack", type=Path,
                        default=HERE.parent / "build" / "tools" / "smpack" / "smpack")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sdk-repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "splice.json")
    parser.add_argument("--baseline", type=Path,
                        help="an earlier smpack binary, each of its runs taking turns with smpack's")
    parser.add_argument("--report", action="store_true", help="print the last run as markdown")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(args.out.read_text())))
        return 0
    smpack = str(args.smpack.resolve())
    root = Path(tempfile.mkdtemp(prefix="smpack-splice-bench-", dir=args.workdir))
    try:
        inputs = make_inputs(root, args.size_mib)
        foreign, middle, code = inputs["foreign"], inputs["middle"], inputs["code"]
        out = root / "out.tar.gz"
        rows: dict[str, dict] = {}

        def runs(variants: dict[str, tuple[list[str], object]], repeat: int,
                 json_out=False) -> None:
            """Each variant (label: argv, what to do before each run) `repeat` times, taking
            turns, so that a change in the machine over the run falls on all alike."""
            results: dict[str, list[dict]] = {label: [] for label in variants}
            for _ in range(repeat):
                for label, (argv, before) in variants.items():
                    if before:
                        before()
                    # Each run writes a new file: freeing the blocks of the one it would
                    # replace (~0.08 s for 1 GiB on ext4, in the rename) is not its work.
                    out.unlink(missing_ok=True)
                    # The writeback of one run's output is not left to slow the next one.
                    os.sync()
                    results[label].append(
                        timed(argv, subprocess.PIPE if json_out else subprocess.DEVNULL))
            for label, done in results.items():
                rows[label] = medians(done)
                if json_out:
                    report_json = json.loads(done[-1]["stdout"])
                    rows[label].update({k: report_json[k] for k in
                                        ("bytes_written", "kept_bytes", "rewritten_tar_bytes",
                                         "archive_bytes")})

        # smpack runs last in each turn: the in-place result checked below is its own.
        binaries = {"baseline smpack": str(args.baseline.resolve())} if args.baseline else {}
        binaries["smpack"] = smpack

        def smpack_runs(command: str, argv: list[str], before=None, json_out=True) -> None:
            """`smpack ARGV` (and the baseline's), labelled "<binary> <command>"."""
            runs({f"{name} {command}": ([binary, *argv], before)
                  for name, binary in binaries.items()}, args.repeat, json_out)

        for tool in (["gzip", "-dc"], ["pigz", "-dc"], ["igzip", "-dc"]):
            runs({f"{' '.join(tool)} foreign.tar.gz > /dev/null": ([*tool, str(foreign)], None)},
                 args.repeat)
        runs({"SDK repack equivalent (tarfile, level 9)":
              ([sys.executable, str(HERE / "sdk_repack_equivalent.py"), str(foreign), str(code),
                str(out)], None)}, args.sdk_repeat)
        smpack_runs("add-code -o (lint gate on)",
                    ["add-code", str(foreign), "--code", str(code), "-o", str(out), "--json"])
        smpack_runs("add-code -o --no-lint",
                    ["add-code", str(foreign), "--code", str(code), "-o", str(out), "--json",
                     "--no-lint"])
        smpack_runs("add-code -o, old code/ between two halves",
                    ["add-code", str(middle), "--code", str(code), "-o", str(out), "--json"])
        work = root / "in-place.tar.gz"
        smpack_runs("add-code --in-place",
                    ["add-code", str(work), "--code", str(code), "--in-place", "--json"],
                    before=lambda: shutil.copyfile(foreign, work))
        in_place = rows["smpack add-code --in-place"]
        kept = in_place["kept_bytes"]
        with open(foreign, "rb") as a, open(work, "rb") as b:
            in_place["prefix_identical"] = a.read(kept) == b.read(kept)
        smpack_runs("verify foreign.tar.gz", ["verify", str(foreign)], json_out=False)
        runs({"smpack verify of the spliced result": ([smpack, "verify", str(work)], None)},
             args.repeat)
        result = {"size_mib": args.size_mib, "archive_bytes": foreign.stat().st_size,
                  "baseline": str(args.baseline) if args.baseline else None,
                  "cpus": os.cpu_count(), "recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "rows": rows}
        record(args.out, result, report)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def report(result: dict) -> str:
    rows = result["rows"]
    sdk = rows["SDK repack equivalent (tarfile, level 9)"]["wall_s"]
    gzip_dc = rows["gzip -dc foreign.tar.gz > /dev/null"]["wall_s"]
    lines = [f"{result['size_mib']} MiB float32 in `tar czf` ({result['archive_bytes'] / MiB:.0f} MiB), "
             f"{result['cpus']} cores, recorded {result['recorded']}; medians of the runs shown.", "",
             "| command | runs | wall s | user s | sys s | × SDK | ÷ gzip -dc | written | kept | re-encoded tar | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, row in rows.items():
        def mib(key):
            return f"{row[key] / MiB:.2f} MiB" if key in row else ""
        lines.append(f"| {label} | {row['runs']} | {row['wall_s']:.2f} | {row['user_s']:.2f} | "
                     f"{row['sys_s']:.2f} | {sdk / row['wall_s']:.1f} | {row['wall_s'] / gzip_dc:.2f} | "
                     f"{mib('bytes_written')} | {mib('kept_bytes')} | {mib('rewritten_tar_bytes')} | "
                     f"{row['load'][0]:.1f}–{row['load'][1]:.1f} |")
    in_place = rows["smpack add-code --in-place"]
    lines += ["", f"`--in-place` kept the first {in_place['kept_bytes']} bytes identical: "
              f"{in_place['prefix_identical']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
