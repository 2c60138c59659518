#!/usr/bin/env python3
"""`smpack info|lint s3://...` against downloading the object and running the same command
locally, on the same 1 GiB model through the same loopback server (moto, in its
authenticating mode) and a counting proxy, in one run. Records bytes moved both ways,
request counts, client CPU (smpack, or the boto3 download plus smpack) and wall time
(medians of --repeat), with the load average, and projects a 100 GB archive on real S3
from the counts.

moto is slow and is not S3: its wall times are recorded but are not S3's.

    .venv/bin/python bench/bench_s3.py [--size-mib 1024] [--repeat 3]
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
sys.path.insert(0, str(HERE.parent / "tests" / "cli"))
from s3_proxy import S3Proxy  # noqa: E402
from s3_server import S3Server  # noqa: E402

MiB = 1 << 20
# Assumed for the projection (stated beside it in RESULTS.md): time to first byte of one
# S3 request, one connection's throughput, and the AWS CLI's default 10 connections.
LATENCY_S = 0.030
CONNECTION_MB_S = 90.0
DOWNLOAD_CONNECTIONS = 10

DOWNLOAD = """
import sys
sys.path.insert(0, {tests!r})
from s3_server import boto3_client
import boto3.s3.transfer
client = boto3_client("s3", {endpoint!r}, {key!r}, {secret!r})
client.download_file({bucket!r}, {object_key!r}, {target!r},
                     Config=boto3.s3.transfer.TransferConfig(max_concurrency=10))
"""


def make_model(root: Path, size_mib: int) -> Path:
    model = root / "model"
    (model / "code").mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_safetensors(model / "model.safetensors", rng.standard_normal(size_mib << 18, dtype=np.float32))
    (model / "config.json").write_text('{"architectures": ["Tiny"]}\n')
    (model / "code/inference.py").write_text(
        "import torch\n\n\ndef model_fn(model_dir):\n    return torch.nn.Identity()\n")
    (model / "code/requirements.txt").write_text("numpy==1.26.4\n")
    return model


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(proxy: S3Proxy, steps, repeat: int) -> dict:
    walls, cpus, loads = [], [], []
    for _ in range(repeat):
        proxy.reset_counts()
        loads.append(os.getloadavg()[0])
        wall = cpu = 0.0
        for step in steps:
            w, c = step()
            wall, cpu = wall + w, cpu + c
        walls.append(wall)
        cpus.append(cpu)
    return {"wall_s": statistics.median(walls), "client_cpu_s": statistics.median(cpus),
            "bytes_to_client": proxy.bytes_to_client, "bytes_from_client": proxy.bytes_from_client,
            "requests": len(proxy.requests), "load": [min(loads), max(loads)]}


def projection(row: dict, object_bytes: int, target_bytes: float, scales: bool,
               connections: int) -> float:
    """Seconds on real S3 for a `target_bytes` archive: reads through the index do not grow
    with the weights; a download or a stream does, over `connections` parallel streams."""
    factor = target_bytes / object_bytes if scales else 1.0
    requests = row["requests"] * factor / connections
    return requests * LATENCY_S + row["bytes_to_client"] * factor / (
        CONNECTION_MB_S * 1e6 * connections)


def parse_arguments(doc: str, out_name: str) -> argparse.Namespace:
    """The options both S3 benchmarks take."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--smpack", type=Path,
                        default=HERE.parent / "build" / "tools" / "smpack" / "smpack")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "out" / out_name)
    return parser.parse_args()


def main() -> None:
    args = parse_arguments(__doc__, "s3.json")
    smpack = str(args.smpack.resolve())

    root = Path(tempfile.mkdtemp(prefix="smpack-s3-bench-", dir=args.workdir))
    try:
        model = make_model(root, args.size_mib)
        archives = {"smpack archive": root / "smpack.tar.gz", "foreign archive": root / "foreign.tar.gz"}
        subprocess.run([smpack, "build", model, "-o", archives["smpack archive"]], check=True,
                       capture_output=True)
        subprocess.run(["tar", "-I", "igzip -1", "-cf", archives["foreign archive"], "-C", model, "."],
                       check=True)
        with S3Server() as server, S3Proxy(server.endpoint) as proxy:
            bucket = server.new_bucket("bench")
            import boto3.s3.transfer
            config = boto3.s3.transfer.TransferConfig(multipart_chunksize=8 * MiB)
            for label, path in archives.items():
                server.client().upload_file(str(path), bucket, path.name, Config=config)
            env = server.env(AWS_ENDPOINT_URL_S3=proxy.endpoint)
            rows = []
            for label, path in archives.items():
                url = f"s3://{bucket}/{path.name}"
                local = root / ("downloaded-" + path.name)
                script = DOWNLOAD.format(tests=str(HERE.parent / "tests" / "cli"),
                                         endpoint=proxy.endpoint, key=server.access_key,
                                         secret=server.secret_key, bucket=bucket,
                                         object_key=path.name, target=str(local))
                # The download is the same for every command: measured once per archive.
                download = measure(proxy, [lambda: timed([sys.executable, "-c", script], env)],
                                   args.repeat)
                for command in ("info", "lint"):
                    in_place = measure(proxy, [lambda: timed([smpack, command, url], env)],
                                       args.repeat)
                    local_walls, local_cpus = zip(*(timed([smpack, command, str(local)], env)
                                                    for _ in range(args.repeat)))
                    two_step = dict(download, wall_s=download["wall_s"] + statistics.median(local_walls),
                                    client_cpu_s=download["client_cpu_s"] + statistics.median(local_cpus))
                    size = path.stat().st_size
                    row = {"input": label, "command": command, "object_bytes": size,
                           "in_place": in_place, "download_then_local": two_step,
                           "bytes_ratio": in_place["bytes_to_client"] / two_step["bytes_to_client"],
                           "projected_100GB_s": {
                               "in_place": projection(in_place, size, 100e9,
                                                      label == "foreign archive", 1),
                               "download_then_local": projection(two_step, size, 100e9, True,
                                                                 DOWNLOAD_CONNECTIONS)}}
                    rows.append(row)
                    print(f"{label:16} {command:5} in place {in_place['bytes_to_client'] / MiB:9.2f} MiB "
                          f"{in_place['requests']:4} req {in_place['client_cpu_s']:6.2f} s CPU | "
                          f"download+local {two_step['bytes_to_client'] / MiB:9.2f} MiB "
                          f"{two_step['requests']:4} req {two_step['client_cpu_s']:6.2f} s CPU | "
                          f"load {in_place['load'][0]:.1f}-{two_step['load'][1]:.1f}", flush=True)
                local.unlink()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "size_mib": args.size_mib, "repeat": args.repeat,
            "assumed": {"latency_s": LATENCY_S, "connection_MB_s": CONNECTION_MB_S,
                        "download_connections": DOWNLOAD_CONNECTIONS},
            "rows": rows}, indent=2))
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
