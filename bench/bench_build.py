#!/usr/bin/env python3
"""Side-by-side benchmark of `smpack build` against the tools a user would pick
instead, on generated float32 and bfloat16-like weights, in one run.

    python bench/bench_build.py --size-mib 1024                 # all tools, 1 GiB each
    python bench/bench_build.py --size-mib 4096 --only smpack   # peak RSS, ls/info times
    python bench/bench_build.py --report                        # bench/out/*.json -> RESULTS.md

Needs numpy (the project venv has it), GNU tar, gzip, pigz, igzip (Debian `isal`)
and /usr/bin/time. Inputs and outputs live in a temporary directory under --workdir
and are deleted at the end; raw results go to bench/out/ as JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SMPACK = HERE.parent / "build" / "tools" / "smpack" / "smpack"
MiB = 1 << 20
DTYPES = ("float32", "bfloat16")
# What the SageMaker SDK's repack_model does (sagemaker/utils.py): tarfile "w:gz",
# whose default compresslevel is 9, adding the model directory as arcname "/".
SDK_REPACK = (
    "import sys, tarfile\n"
    "with tarfile.open(sys.argv[2], 'w:gz') as t:\n"
    "    t.add(sys.argv[1], arcname='/')\n"
)


def tool_commands(smpack: Path, baseline: Path | None = None) -> dict[str, callable]:
    """tool name -> function(src_dir, out_file) -> argv."""
    tools = {
        "smpack": lambda src, out: [str(smpack), "build", str(src), "-o", str(out)],
        "smpack --no-archive-sha256": lambda src, out: [str(smpack), "build", str(src), "-o", str(out),
                                                        "--no-archive-sha256"],
        "smpack --no-fsync": lambda src, out: [str(smpack), "build", str(src), "-o", str(out), "--no-fsync"],
        "smpack --no-archive-sha256 --no-fsync": lambda src, out: [
            str(smpack), "build", str(src), "-o", str(out), "--no-archive-sha256", "--no-fsync"],
        "tar czf": lambda src, out: ["tar", "czf", str(out), "-C", str(src), "."],
        "tar -I pigz": lambda src, out: ["tar", "-I", "pigz", "-cf", str(out), "-C", str(src), "."],
        "tar -I 'igzip -1'": lambda src, out: ["tar", "-I", "igzip -1", "-cf", str(out), "-C", str(src), "."],
        "python tarfile w:gz (level 9)": lambda src, out: [sys.executable, "-c", SDK_REPACK, str(src), str(out)],
    }
    if baseline:
        tools["smpack (baseline)"] = lambda src, out: [str(baseline), "build", str(src), "-o", str(out)]
    return tools


def tool_key(name: str) -> str:
    return {"smpack": "smpack", "smpack (baseline)": "smpack-baseline", "smpack --no-archive-sha256": "smpack-no-sha",
            "smpack --no-fsync": "smpack-no-fsync",
            "smpack --no-archive-sha256 --no-fsync": "smpack-no-sha-no-fsync", "tar czf": "tar-gzip", "tar -I pigz": "tar-pigz",
            "tar -I 'igzip -1'": "tar-igzip", "python tarfile w:gz (level 9)": "python-tarfile"}[name]


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------


def generate_weights(path: Path, nbytes: int, dtype: str, seed: int) -> None:
    """Normal-distributed weights streamed to disk 64 MiB at a time: float32, or
    bfloat16-like (float32 normals truncated to their top 16 bits)."""
    import numpy as np

    from weights import safetensors_header

    rng = np.random.default_rng(seed)
    step = 64 * MiB
    with open(path, "wb") as f:
        f.write(safetensors_header("F32" if dtype == "float32" else "BF16",
                                   nbytes // (4 if dtype == "float32" else 2)))
        written = 0
        while written < nbytes:
            n = min(step, nbytes - written)
            if dtype == "float32":
                f.write(rng.standard_normal(n // 4, dtype=np.float32).tobytes())
            else:
                values = rng.standard_normal(n // 2, dtype=np.float32)
                f.write((values.view(np.uint32) >> 16).astype(np.uint16).tobytes())
            written += n


def make_model(root: Path, nbytes: int, dtype: str, seed: int) -> Path:
    root.mkdir(parents=True)
    generate_weights(root / "model.safetensors", nbytes, dtype, seed)
    (root / "config.json").write_text(json.dumps({"torch_dtype": dtype, "hidden_size": 4096}) + "\n")
    return root


def read_through(root: Path) -> None:
    """Reads every input file once, so the measured runs find them in the page cache."""
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(16 * MiB):
                    pass


# ----------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def timed(argv: list[str]) -> dict:
    """Runs argv under /usr/bin/time -v: wall seconds (our clock) and peak RSS."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({result.returncode}): {result.stderr[-2000:]}")
    fields = {}
    for line in result.stderr.splitlines():
        key, _, value = line.strip().rpartition(": ")
        fields[key] = value
    user, system = float(fields["User time (seconds)"]), float(fields["System time (seconds)"])
    return {"wall_s": wall, "cpu_s": user + system, "user_s": user, "sys_s": system, "peak_rss_mib": int(fields["Maximum resident set size (kbytes)"]) / 1024}


def bench_build(tools: dict, names: list[str], src: Path, out_dir: Path, repeat: int, warm_src: Path) -> dict:
    """Each repetition runs every tool once, in turn, so that the machine's drift over
    the run falls on all of them alike."""
    outs = {name: out_dir / f"{tool_key(name)}.tar.gz" for name in names}
    for name in names:
        timed(tools[name](warm_src, outs[name]))  # unmeasured: loads the binary and its libraries
    runs = {name: [] for name in names}
    for _ in range(repeat):
        for name in names:
            outs[name].unlink(missing_ok=True)
            os.sync()
            load_before = load_average()
            run = timed(tools[name](src, outs[name]))
            run["load_average_before"] = load_before
            runs[name].append(run)
            print(f"    {name:40s} {run['wall_s']:8.2f} s  user {run['user_s']:6.2f} s  sys {run['sys_s']:6.2f} s"
                  f"  rss {run['peak_rss_mib']:7.1f} MiB  load {load_before:.1f}", flush=True)
    results = {}
    for name in names:
        shown = tools[name](Path("SRC"), Path("OUT"))
        shown[0] = "python" if shown[0] == sys.executable else shown[0]
        results[name] = {
            "command": shlex.join(shown),
            "runs": runs[name],
            "median_s": statistics.median(r["wall_s"] for r in runs[name]),
            "median_cpu_s": statistics.median(r["cpu_s"] for r in runs[name]),
            "median_user_s": statistics.median(r["user_s"] for r in runs[name]),
            "median_sys_s": statistics.median(r["sys_s"] for r in runs[name]),
            "output_bytes": outs[name].stat().st_size,
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs[name]),
        }
    return results


def median_ms(argv: list[str], times: int) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def tar_bytes(archive: Path) -> int:
    """Uncompressed size of a gzip file, counted by decoding it (ISIZE wraps at 4 GiB)."""
    proc = subprocess.Popen(["gzip", "-dc", str(archive)], stdout=subprocess.PIPE)
    total = 0
    while chunk := proc.stdout.read(16 * MiB):
        total += len(chunk)
    proc.wait()
    return total


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    return {"cpu": model, "cores": os.cpu_count(), "ram_gib": round(mem_kib / (1 << 20), 1),
            "kernel": platform.release(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds")}


def versions(smpack: Path) -> dict:
    def first_line(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True)
            return (out.stdout or out.stderr).splitlines()[0]
        except (OSError, IndexError):
            return "unknown"

    return {"smpack": first_line([str(smpack), "--version"]), "tar": first_line(["tar", "--version"]),
            "gzip": first_line(["gzip", "--version"]), "pigz": first_line(["pigz", "--version"]),
            "igzip": first_line(["igzip", "--version"]), "python": sys.version.split()[0],
            "commit": first_line(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"])}


def run(args) -> Path:
    tools = tool_commands(args.smpack, args.baseline)
    names = [n for n in tools if not args.only or tool_key(n) in args.only]
    doc = {"size_mib": args.size_mib, "repeat": args.repeat, "tools": names, "machine": machine(),
           "versions": versions(args.smpack), "argv": sys.argv, "datasets": {}}
    work = Path(tempfile.mkdtemp(prefix="smpack-bench-", dir=args.workdir))
    try:
        warm_src = make_model(work / "warm", 8 * MiB, "float32", seed=99)
        for seed, dtype in enumerate(args.dtypes):
            print(f"{dtype}: generating {args.size_mib} MiB", flush=True)
            src = make_model(work / dtype, args.size_mib * MiB, dtype, seed)
            read_through(src)
            out_dir = work / f"out-{dtype}"
            out_dir.mkdir()
            data_bytes = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
            entry = {"input_bytes": data_bytes, "results": bench_build(tools, names, src, out_dir,
                                                                        args.repeat, warm_src)}
            smpack_out = out_dir / "smpack.tar.gz"
            if smpack_out.exists() and args.read_bench:
                entry["smpack_ls_ms"] = median_ms([str(args.smpack), "ls", str(smpack_out)], 10)
                entry["smpack_info_ms"] = median_ms([str(args.smpack), "info", str(smpack_out)], 10)
                print(f"    smpack ls {entry['smpack_ls_ms']:.1f} ms, info {entry['smpack_info_ms']:.1f} ms")
            gzip_out = out_dir / "tar-gzip.tar.gz"
            if gzip_out.exists() and args.read_bench:
                uncompressed = tar_bytes(gzip_out)
                seconds = [timed([str(args.smpack), "verify", str(gzip_out)])["wall_s"] for _ in range(3)]
                entry["verify_foreign"] = {"archive": "tar czf output", "tar_bytes": uncompressed,
                                           "median_s": statistics.median(seconds),
                                           "mb_per_s": uncompressed / 1e6 / statistics.median(seconds)}
                print(f"    smpack verify (tar czf archive) {entry['verify_foreign']['mb_per_s']:.0f} MB/s")
            doc["datasets"][dtype] = entry
            shutil.rmtree(src)
            shutil.rmtree(out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = f"-only-{'-'.join(args.only)}" if args.only else ""
    path = args.out / f"bench-{args.size_mib}MiB{suffix}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {path}")
    return path


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------

# (baseline, dtype) -> minimum speed-up of smpack over it, from the issue.
SPEED_TARGETS = {("tar czf", "float32"): 15, ("python tarfile w:gz (level 9)", "float32"): 12,
                 ("tar czf", "bfloat16"): 30, ("python tarfile w:gz (level 9)", "bfloat16"): 25,
                 ("tar -I 'igzip -1'", "float32"): 1.5, ("tar -I 'igzip -1'", "bfloat16"): 1.5}


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def report(out_dir: Path, results_md: Path) -> None:
    docs = [json.loads(p.read_text()) for p in sorted(out_dir.glob("bench-*.json"))]
    full = max((d for d in docs if len(d["tools"]) > 1), key=lambda d: d["size_mib"], default=None)
    big = max((d for d in docs if d["tools"] == ["smpack"]), key=lambda d: d["size_mib"], default=None)
    if full is None:
        sys.exit("no full run in bench/out (run without --only first)")
    m = full["machine"]
    loads = [r["load_average_before"] for ds in full["datasets"].values()
             for res in ds["results"].values() for r in res["runs"]]
    lines = [
        "# smpack build benchmark: results",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
        f"run {m['date']}.",
        f"Versions: {full['versions']['smpack']}; {full['versions']['tar']}; {full['versions']['gzip']}; "
        f"{full['versions']['pigz']}; igzip {full['versions']['igzip']}; Python {full['versions']['python']}"
        + (f"; repository at {full['versions']['commit']}." if "commit" in full["versions"] else "."),
        "",
        f"Input: one model directory per dtype holding `model.safetensors` ({full['size_mib']} MiB of "
        "normal-distributed weights; bfloat16 = float32 normals truncated to their top 16 bits) "
        f"and a small `config.json`. Times are the median of {full['repeat']} runs, wall clock.",
        "",
        "Cache: the inputs are read once before the measured runs, so all of them read from the "
        "page cache; each tool also runs once unmeasured (on a small 8 MiB model) to load its "
        "binary and libraries. The page cache is not dropped.",
        "",
        f"Load: the 1-minute load average just before each measured run was {min(loads):.1f} to "
        f"{max(loads):.1f} on {m['cores']} cores"
        + (": other builds and tests were running on this machine at the same time, so absolute "
           "times are pessimistic for every tool, and ratios are noisy." if max(loads) > 1.5 else "."),
        "",
    ]
    for dtype, ds in full["datasets"].items():
        mib = ds["input_bytes"] / MiB
        smp = ds["results"].get("smpack")
        lines += [f"## {dtype}, {mib:.0f} MiB", "",
                  "| tool | median time | MB/s | CPU time | output | output vs input | smpack faster by | "
                  "smpack output / this output |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, res in ds["results"].items():
            speed = ds["input_bytes"] / 1e6 / res["median_s"]
            ratio = f"{res['median_s'] / smp['median_s']:.1f}x" if smp and name != "smpack" else ""
            size_ratio = f"{smp['output_bytes'] / res['output_bytes']:.3f}" if smp and name != "smpack" else ""
            cpu = f"{res['median_cpu_s']:.2f} s" if "median_cpu_s" in res else "n/a"
            lines.append(f"| `{name}` | {res['median_s']:.2f} s | {speed:.0f} | {cpu} | "
                         f"{res['output_bytes'] / MiB:.1f} MiB | {res['output_bytes'] / ds['input_bytes']:.3f} | "
                         f"{ratio} | {size_ratio} |")
        if smp:
            lines += ["", f"smpack peak RSS: {smp['peak_rss_mib']:.0f} MiB."]
        if "verify_foreign" in ds:
            v = ds["verify_foreign"]
            lines += [f"`smpack verify` of the `tar czf` archive: {v['median_s']:.2f} s for "
                      f"{v['tar_bytes'] / MiB:.0f} MiB of tar = **{v['mb_per_s']:.0f} MB/s** uncompressed "
                      "(median of 3)."]
        lines.append("")

    lines += ["## Targets", "", "| target | figures | |", "|---|---|---|"]
    for (baseline, dtype), want in SPEED_TARGETS.items():
        ds = full["datasets"].get(dtype)
        if not ds or baseline not in ds["results"] or "smpack" not in ds["results"]:
            continue
        got = ds["results"][baseline]["median_s"] / ds["results"]["smpack"]["median_s"]
        lines.append(f"| ≥{want}× faster than `{baseline}` on {dtype} | {got:.1f}× | {met(got >= want)} |")
    for dtype, ds in full["datasets"].items():
        if "tar czf" in ds["results"] and "smpack" in ds["results"]:
            ours, theirs = ds["results"]["smpack"]["output_bytes"], ds["results"]["tar czf"]["output_bytes"]
            lines.append(f"| output no larger than gzip -6's on {dtype} | {ours:,} vs {theirs:,} bytes | "
                         f"{met(ours <= theirs)} |")
    if big:
        ds = next(iter(big["datasets"].values()))
        for key, label in (("smpack_ls_ms", "ls"), ("smpack_info_ms", "info")):
            if key in ds:
                lines.append(f"| `smpack {label}` of a {big['size_mib']} MiB smpack archive < 50 ms | "
                             f"{ds[key]:.1f} ms (median of 10) | {met(ds[key] < 50)} |")
    for dtype, ds in full["datasets"].items():
        if "verify_foreign" in ds:
            v = ds["verify_foreign"]["mb_per_s"]
            lines.append(f"| `verify` of a foreign ({dtype}, `tar czf`) archive ≥ 250 MB/s | {v:.0f} MB/s | "
                         f"{met(v >= 250)} |")
    if big:
        ds = next(iter(big["datasets"].values()))
        smp = ds["results"]["smpack"]
        lines += ["", f"Peak RSS of `smpack build` on a {big['size_mib']} MiB input: "
                  f"**{smp['peak_rss_mib']:.0f} MiB** ({smp['median_s']:.1f} s, run {big['machine']['date']}); "
                  f"on {full['size_mib']} MiB: "
                  + ", ".join(f"{d} {full['datasets'][d]['results']['smpack']['peak_rss_mib']:.0f} MiB"
                              for d in full["datasets"] if "smpack" in full["datasets"][d]["results"]) + "."]

    lines += ["", "## Commands", "", "```"]
    for d in (full, big):
        if d:
            lines.append("python " + " ".join(shlex.quote(a) for a in d["argv"]))
    lines.append("python bench/bench_build.py --report")
    lines += ["```", "", "Each tool, as run on `SRC` (a model directory) writing `OUT`:", "", "```"]
    sample = next(iter(full["datasets"].values()))["results"]
    lines += [res["command"] for res in sample.values()]
    lines += ["```", "", "Raw numbers: `bench/out/*.json` (not committed).", ""]
    results_md.write_text("\n".join(lines))
    print(f"wrote {results_md}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smpack", type=Path, default=Path(os.environ.get("SMPACK_BIN", DEFAULT_SMPACK)))
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another smpack binary (an earlier commit's) to run beside, taking turns")
    parser.add_argument("--size-mib", type=int, default=1024, help="weights per dtype (default 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per tool; the median is reported")
    parser.add_argument("--only", type=lambda s: s.split(","), default=None,
                        help="comma-separated: smpack,smpack-baseline,tar-gzip,tar-pigz,tar-igzip,python-tarfile")
    parser.add_argument("--dtypes", type=lambda s: s.split(","), default=list(DTYPES))
    parser.add_argument("--no-read-bench", dest="read_bench", action="store_false",
                        help="skip timing smpack ls/info/verify on the outputs")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--report", action="store_true", help="write RESULTS.md from --out's JSON files")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    if args.report:
        report(args.out, args.results)
        return
    if not args.smpack.is_file():
        sys.exit(f"smpack not found at {args.smpack} (use --smpack or SMPACK_BIN)")
    run(args)


if __name__ == "__main__":
    main()
