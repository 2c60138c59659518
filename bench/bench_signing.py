#!/usr/bin/env python3
"""Signing and verifying a 1 GiB model, smpack against OpenSSF model signing
(`model_signing`, in .venv-signing), side by side in one run, each timed as a whole
process (medians of --repeat, page cache warm):

  - verify: `smpack verify ARCHIVE --signature` on the smpack archive against
    `model_signing verify key` on the extracted directory; and `smpack extract`, which
    model_signing would need first;
  - sign: `smpack sign ARCHIVE`, `model_signing sign key DIR`;
  - `smpack build --sign` against `smpack build` (the signature costs no extra pass).

Records medians, ratios, CPU and the load average in bench/out/signing.json.

    .venv/bin/python bench/bench_signing.py [--size-mib 1024] [--repeat 3]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench_s3 import HERE, make_model, parse_arguments, timed

MODEL_SIGNING = HERE.parent / ".venv-signing" / "bin" / "model_signing"
KEYGEN = """
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
open(sys.argv[1], "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
open(sys.argv[2], "wb").write(key.public_key().public_bytes(serialization.Encoding.PEM,
    serialization.PublicFormat.SubjectPublicKeyInfo))
"""


def median_of(argv: list[str], repeat: int, before=None) -> dict:
    walls, cpus, loads = [], [], []
    for _ in range(repeat):
        if before:
            before()
        loads.append(os.getloadavg()[0])
        wall, cpu = timed(argv, dict(os.environ))
        walls.append(wall)
        cpus.append(cpu)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
            "walls": walls, "load": [min(loads), max(loads)]}


def main() -> None:
    args = parse_arguments(__doc__, "signing.json")
    smpack = str(args.smpack.resolve())
    root = Path(tempfile.mkdtemp(prefix="smpack-signing-", dir=args.workdir))
    try:
        model = make_model(root, args.size_mib)
        key, public = root / "key.pem", root / "key.pub.pem"
        subprocess.run([str(MODEL_SIGNING.parent / "python"), "-c", KEYGEN, key, public],
                       check=True)
        archive = root / "model.tar.gz"
        rows = {}
        rows["smpack build"] = median_of([smpack, "build", str(model), "-o", str(archive),
                                          "--no-lint"], args.repeat)
        rows["smpack build --sign"] = median_of([smpack, "build", str(model), "-o", str(archive),
                                                 "--no-lint", "--sign", str(key)], args.repeat)
        extracted = root / "extracted"
        rows["smpack extract (model_signing's input)"] = median_of(
            [smpack, "extract", str(archive), "-C", str(extracted)], args.repeat,
            before=lambda: shutil.rmtree(extracted, ignore_errors=True))
        theirs = root / "theirs.sig"
        rows["model_signing sign key DIR"] = median_of(
            [str(MODEL_SIGNING), "sign", "key", str(extracted), "--signature", str(theirs),
             "--private_key", str(key)], args.repeat)
        mine = root / "mine.sig"
        rows["smpack sign ARCHIVE"] = median_of(
            [smpack, "sign", str(archive), "--key", str(key), "-o", str(mine)], args.repeat)
        rows["model_signing verify key DIR"] = median_of(
            [str(MODEL_SIGNING), "verify", "key", str(extracted), "--signature", str(mine),
             "--public_key", str(public)], args.repeat)
        rows["smpack verify ARCHIVE --signature"] = median_of(
            [smpack, "verify", str(archive), "--signature", str(theirs), "--public-key",
             str(public)], args.repeat)
        rows["smpack verify DIR --signature"] = median_of(
            [smpack, "verify", str(extracted), "--signature", str(theirs), "--public-key",
             str(public)], args.repeat)
        reference = rows["model_signing verify key DIR"]["wall_s"]
        for name, row in rows.items():
            print(f"{name:42} {row['wall_s']:7.2f} s wall  {row['cpu_s']:7.2f} s CPU  "
                  f"x{row['wall_s'] / reference:5.2f} of model_signing verify  "
                  f"load {row['load'][0]:.1f}-{row['load'][1]:.1f}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"size_mib": args.size_mib, "repeat": args.repeat,
                                        "archive_bytes": archive.stat().st_size,
                                        "cpus": os.cpu_count(), "rows": rows}, indent=2))
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
