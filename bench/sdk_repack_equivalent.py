#!/usr/bin/env python3
"""What the SageMaker SDK's repack_model does to an archive, without S3: extract with
tarfile, replace code/, re-tar with tarfile w:gz (level 9, one thread).
Usage: sdk_repack_equivalent.py SRC.tar.gz CODE_DIR OUT.tar.gz"""
import os, shutil, sys, tarfile, tempfile, time
src, code, out = sys.argv[1:4]
t = time.time()
with tempfile.TemporaryDirectory() as tmp:
    with tarfile.open(src) as tar:
        tar.extractall(tmp)
    shutil.rmtree(os.path.join(tmp, "code"), ignore_errors=True)
    shutil.copytree(code, os.path.join(tmp, "code"))
    with tarfile.open(out, "w:gz") as tar:   # compresslevel 9, as the SDK's repack
        for name in os.listdir(tmp):
            tar.add(os.path.join(tmp, name), arcname=name)
print(f"sdk-equivalent {time.time()-t:.2f} s")
