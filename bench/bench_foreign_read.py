#!/usr/bin/env python3
"""Reading a foreign single-stream gzip archive (`tar czf`): `smpack verify`, `info`,
`lint` and `digest` against the decompressors a user has (`gzip -dc`, `pigz -dc`,
`igzip -dc`, and rapidgzip's parallel decoder on 1 and on all cores), in one run on the
same archive. smpack's reader inflates a local archive in chunks on every core; each
smpack row also runs pinned to one core (`taskset -c 0`), the single-core figure, and,
with --baseline, under an earlier binary, the runs of each command taking turns. Records median wall and CPU
seconds (user and system apart) and the load average; raw results in
bench/out/foreign_read.json, `--report` prints the table for RESULTS.md.

    .venv/bin/python bench/bench_foreign_read.py [--size-mib 1024] [--repeat 5] \
        [--baseline OLD_SMPACK] [--rapidgzip .venv-bench/bin/rapidgzip]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_splice import medians, record, timed
from weights import write_safetensors

HERE = Path(__file__).resolve().parent
MiB = 1 << 20
COMMANDS = ("verify", "info", "lint", "digest")


def make_archive(root: Path, size_mib: int) -> Path:
    model = root / "model"
    model.mkdir()
    write_safetensors(model / "model.safetensors",
                      np.random.default_rng(0).standard_normal(size_mib << 18, dtype=np.float32))
    (model / "config.json").write_text('{"architectures": ["Tiny"]}\n')
    archive = root / "foreign.tar.gz"
    subprocess.run(["tar", "czf", archive, "-C", model, "."], check=True)
    shutil.rmtree(model)
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smpack", type=Path,
                        default=HERE.parent / "build" / "tools" / "smpack" / "smpack")
    parser.add_argument("--baseline", type=Path, help="an earlier smpack binary, run beside it")
    parser.add_argument("--rapidgzip", type=Path,
                        default=HERE.parent / ".venv-bench" / "bin" / "rapidgzip")
    parser.add_argument("--archive", type=Path, help="a foreign .tar.gz to read instead")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "foreign_read.json")
    parser.add_argument("--report", action="store_true", help="print the last run as markdown")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(args.out.read_text())))
        return 0
    root = Path(tempfile.mkdtemp(prefix="smpack-read-bench-", dir=args.workdir))
    try:
        archive = args.archive or make_archive(root, args.size_mib)
        rows: dict[str, dict] = {}

        def runs(variants: dict[str, list[str]]) -> None:
            """Each command (label: argv) --repeat times, taking turns, so that a change in
            the machine over the run falls on all alike."""
            results: dict[str, list[dict]] = {label: [] for label in variants}
            for _ in range(args.repeat):
                for label, argv in variants.items():
                    results[label].append(timed(argv))
            rows.update({label: medians(done) for label, done in results.items()})

        decoders = [["gzip", "-dc"], ["pigz", "-dc"], ["igzip", "-dc"]]
        if args.rapidgzip.exists():
            decoders += [[str(args.rapidgzip), "-P", "1", "-dc"],
                         [str(args.rapidgzip), "-P", str(os.cpu_count()), "-dc"]]
        for tool in decoders:
            runs({" ".join([Path(tool[0]).name, *tool[1:]]) + " > /dev/null": [*tool, str(archive)]})
        binaries = {"smpack": args.smpack.resolve()}
        if args.baseline:
            binaries["baseline"] = args.baseline.resolve()
        def smpack_argv(binary: Path, command: str) -> list[str]:
            argv = [str(binary), command, str(archive)]
            # lint exits 1 for its findings (this archive has no code/), which is its answer.
            return ["sh", "-c", '"$@"; test $? -le 1', "sh", *argv] if command == "lint" else argv

        for command in COMMANDS:
            variants = {f"{name} {command}": smpack_argv(binary, command)
                        for name, binary in binaries.items()}
            variants[f"smpack {command}, one core"] = [
                "taskset", "-c", "0", *smpack_argv(binaries["smpack"], command)]
            runs(variants)
        result = {"archive_bytes": archive.stat().st_size, "cpus": os.cpu_count(),
                  "recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "baseline": str(args.baseline) if args.baseline else None, "rows": rows}
        record(args.out, result, report)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def report(result: dict) -> str:
    rows = result["rows"]
    igzip = rows["igzip -dc > /dev/null"]["wall_s"]
    lines = [f"A `tar czf` archive of {result['archive_bytes'] / MiB:.0f} MiB, {result['cpus']} cores, "
             f"recorded {result['recorded']}; medians of the runs shown.", "",
             "| command | runs | wall s | user s | sys s | ÷ igzip -dc | one core ÷ this | baseline ÷ this | load |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, row in rows.items():
        one_core = baseline = ""
        if label.startswith("smpack ") and not label.endswith("one core"):
            command = label.split()[1]
            one_core = f"{rows[f'smpack {command}, one core']['wall_s'] / row['wall_s']:.2f}"
            if f"baseline {command}" in rows:
                baseline = f"{rows[f'baseline {command}']['wall_s'] / row['wall_s']:.2f}"
        lines.append(f"| {label} | {row['runs']} | {row['wall_s']:.2f} | {row['user_s']:.2f} | "
                     f"{row['sys_s']:.2f} | {row['wall_s'] / igzip:.2f} | {one_core} | {baseline} | "
                     f"{row['load'][0]:.1f}–{row['load'][1]:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
