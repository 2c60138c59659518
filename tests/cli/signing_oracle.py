"""OpenSSF model signing's own CLI (PyPI model-signing, in .venv-signing), run in one
process for a batch of calls, since each start of it costs about a second.

    .venv-signing/bin/python signing_oracle.py OPS.json

OPS is a list of {"keygen": "P-256"|"P-384"|"P-521", "private": PATH, "public": PATH}
(keys written with `cryptography`, as model_signing reads them) or {"cli": [ARGS...]}
(`model_signing ARGS...`). Prints a JSON list: {"code", "output"} per operation.
"""

import contextlib
import io
import json
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from model_signing._cli import main

CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}


def keygen(curve: str, private: str, public: str) -> None:
    key = ec.generate_private_key(CURVES[curve]())
    pathlib.Path(private).write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    pathlib.Path(public).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def run_cli(args: list[str]) -> dict:
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            main(args, standalone_mode=False)
        except SystemExit as exit_:
            code = exit_.code or 0
        except Exception as error:  # click's own usage errors
            print(error)
            code = 2
    return {"code": code, "output": out.getvalue()}


def main_() -> None:
    results = []
    for op in json.loads(pathlib.Path(sys.argv[1]).read_text()):
        if "keygen" in op:
            keygen(op["keygen"], op["private"], op["public"])
            results.append({"code": 0, "output": ""})
        else:
            results.append(run_cli(op["cli"]))
    print(json.dumps(results))


if __name__ == "__main__":
    main_()
