#!/usr/bin/env python3
"""Changing code in S3 and building into S3, through the same loopback server (moto,
authenticating) and counting proxy as bench_s3.py, on the same 1 GiB model in one run:

  a) the SDK's deploy path: download, repack (bench/sdk_repack_equivalent.py: tarfile
     extract, new code/, tarfile w:gz at level 9), upload, all with boto3;
  b) `smpack add-code s3://... --in-place`;
  c) `smpack build -o s3://...` against `smpack build` then a boto3 upload.

Records bytes moved both ways, requests, client CPU and wall time (medians of --repeat;
a) runs once, it is slow), with the load average. moto is not S3: its wall times are not
S3's. The projection for 100 GB on real S3 is in RESULTS.md, from these counts.

    .venv/bin/python bench/bench_s3_write.py [--size-mib 1024] [--repeat 3]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_s3 import HERE, MiB, make_model, measure, parse_arguments, timed

sys.path.insert(0, str(HERE.parent / "tests" / "cli"))
from s3_proxy import S3Proxy  # noqa: E402
from s3_server import S3Server  # noqa: E402

BOTO3 = """
import sys
sys.path.insert(0, {tests!r})
from s3_server import boto3_client
import boto3.s3.transfer
client = boto3_client("s3", {endpoint!r}, {key!r}, {secret!r})
config = boto3.s3.transfer.TransferConfig(max_concurrency=10)
getattr(client, {method!r})({first!r}, {second!r}, {third!r}, Config=config)
"""


def main() -> None:
    args = parse_arguments(__doc__, "s3_write.json")
    smpack = str(args.smpack.resolve())

    root = Path(tempfile.mkdtemp(prefix="smpack-s3-write-", dir=args.workdir))
    try:
        model = make_model(root, args.size_mib)
        code = root / "new_code"
        shutil.copytree(model / "code", code)
        (code / "inference.py").write_text((code / "inference.py").read_text() + "# v2\n")
        archive = root / "model.tar.gz"
        timed([smpack, "build", str(model), "-o", str(archive)], {})
        with S3Server() as server, S3Proxy(server.endpoint) as proxy:
            bucket = server.new_bucket("bench")
            env = server.env(AWS_ENDPOINT_URL_S3=proxy.endpoint)

            def boto3(method, first, second, third):
                script = BOTO3.format(tests=str(HERE.parent / "tests" / "cli"),
                                      endpoint=proxy.endpoint, key=server.access_key,
                                      secret=server.secret_key, method=method, first=first,
                                      second=second, third=third)
                return timed([sys.executable, "-c", script], env)

            def put_original():
                server.client().upload_file(str(archive), bucket, "model.tar.gz")

            rows = {}
            put_original()
            downloaded, repacked = root / "downloaded.tar.gz", root / "repacked.tar.gz"
            rows["a) SDK path: download, repack at level 9, upload"] = measure(proxy, [
                lambda: boto3("download_file", bucket, "model.tar.gz", str(downloaded)),
                lambda: timed([sys.executable, str(HERE / "sdk_repack_equivalent.py"),
                               str(downloaded), str(code), str(repacked)], env),
                lambda: boto3("upload_file", str(repacked), bucket, "model.tar.gz")], 1)
            downloaded.unlink()
            repacked.unlink()

            add_code = []
            for _ in range(args.repeat):
                put_original()  # each run changes the original, not the last result
                add_code.append(measure(proxy, [lambda: timed(
                    [smpack, "add-code", f"s3://{bucket}/model.tar.gz", "--code", str(code),
                     "--in-place"], env)], 1))
            rows["b) smpack add-code s3:// --in-place"] = {
                **add_code[0], "wall_s": statistics.median(r["wall_s"] for r in add_code),
                "client_cpu_s": statistics.median(r["client_cpu_s"] for r in add_code)}

            rows["c) smpack build -o s3://"] = measure(proxy, [lambda: timed(
                [smpack, "build", str(model), "-o", f"s3://{bucket}/built.tar.gz"], env)],
                args.repeat)
            local = root / "local.tar.gz"
            rows["c) smpack build to a local file (for CPU)"] = measure(proxy, [lambda: timed(
                [smpack, "build", str(model), "-o", str(local)], env)], args.repeat)
            rows["c) smpack build, then a boto3 upload"] = measure(proxy, [
                lambda: timed([smpack, "build", str(model), "-o", str(local)], env),
                lambda: boto3("upload_file", str(local), bucket, "two-step.tar.gz")], args.repeat)
            for name, row in rows.items():
                print(f"{name:52} up {row['bytes_from_client'] / MiB:9.2f} MiB  down "
                      f"{row['bytes_to_client'] / MiB:9.2f} MiB  {row['requests']:4} req  "
                      f"{row['client_cpu_s']:7.2f} s CPU  {row['wall_s']:7.2f} s wall  "
                      f"load {row['load'][0]:.1f}-{row['load'][1]:.1f}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"size_mib": args.size_mib, "repeat": args.repeat,
                                        "archive_bytes": archive.stat().st_size, "rows": rows},
                                       indent=2))
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
