"""`smpack sign` and `verify --signature` against OpenSSF model signing itself (PyPI
model-signing 1.1.1, its own venv, run through signing_oracle.py): each accepts what
the other signs, for archives (after `smpack extract`, or before `smpack build`),
directories and S3, and both reject the same tampering, naming the file.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, run_python, run_smpack, write_files
from s3_server import s3_server  # noqa: F401  (the session's moto server)

ORACLE_PYTHON = SOURCE_DIR / ".venv-signing" / "bin" / "python"
ORACLE = Path(__file__).with_name("signing_oracle.py")

# Nested folders, an empty file, non-ASCII names, and names whose order differs
# between bytewise and component-wise comparison (a/b < a-b < a.txt).
FILES = {
    "model.bin": b"\x00\x01weights" * 4096,
    "config.json": '{"dtype": "float32"}',
    "empty.txt": b"",
    "a/b": "in a folder",
    "a-b": "a dash",
    "a.txt": "a dot",
    "deep/er/still/w.bin": b"\xff" * 1000,
    "données/modèle.bin": "non-ASCII",
    "code/inference.py": "def model_fn(model_dir):\n    return None\n",
}


def oracle(tmp_path: Path, *ops: dict) -> list[dict]:
    """model_signing's CLI for each op, in one process."""
    ops_file = tmp_path / "oracle-ops.json"
    ops_file.write_text(json.dumps(list(ops)))
    done = subprocess.run([str(ORACLE_PYTHON), str(ORACLE), str(ops_file)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def ms_sign(model: Path, signature: Path, key: Path) -> dict:
    return {"cli": ["sign", "key", str(model), "--signature", str(signature),
                    "--private_key", str(key)]}


def ms_verify(model: Path, signature: Path, public: Path) -> dict:
    return {"cli": ["verify", "key", str(model), "--signature", str(signature),
                    "--public_key", str(public)]}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    made = {}
    ops = []
    for curve in ("P-256", "P-384", "other"):
        made[curve] = (root / f"{curve}.pem", root / f"{curve}.pub.pem")
        ops.append({"keygen": "P-256" if curve == "other" else curve,
                    "private": str(made[curve][0]), "public": str(made[curve][1])})
    oracle(root, *ops)
    return made


@pytest.fixture
def model(tmp_path):
    root = tmp_path / "model"
    write_files(root, FILES)
    return root


def test_smpack_signs_an_archive_that_model_signing_verifies_extracted(tmp_path, model, keys):
    archive = tmp_path / "model.tar.gz"
    assert run_smpack("build", model, "-o", archive, "--no-lint").returncode == 0
    signatures = {}
    for curve in ("P-256", "P-384"):
        signatures[curve] = tmp_path / f"{curve}.sig"
        signed = run_smpack("sign", archive, "--key", keys[curve][0], "-o", signatures[curve])
        assert signed.returncode == 0, signed.stderr
    default = run_smpack("sign", archive, "--key", keys["P-256"][0], "--json")
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout)["signature"] == f"{archive}.sig"
    assert Path(f"{archive}.sig").is_file()
    extracted = tmp_path / "extracted"
    assert run_smpack("extract", archive, "-C", extracted).returncode == 0
    results = oracle(tmp_path, *(ms_verify(extracted, signatures[c], keys[c][1])
                                 for c in ("P-256", "P-384")),
                     ms_verify(extracted, Path(f"{archive}.sig"), keys["P-256"][1]),
                     ms_verify(extracted, signatures["P-256"], keys["other"][1]))
    assert [r["code"] for r in results] == [0, 0, 0, 1], results
    assert "Key mismatch" in results[3]["output"]
    bundle = json.loads(signatures["P-256"].read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    assert statement["subject"][0]["name"] == "model"
    names = [r["name"] for r in statement["predicate"]["resources"]]
    assert names.index("a/b") < names.index("a-b") < names.index("a.txt")
    assert "empty.txt" in names and "données/modèle.bin" in names


def test_model_signing_signs_a_directory_that_smpack_verifies_packed(tmp_path, model, keys):
    signature = tmp_path / "model.sig"
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # ignored by default
    results = oracle(tmp_path, ms_sign(model, signature, keys["P-256"][0]))
    assert results[0]["code"] == 0, results
    archive = tmp_path / "model.tar.gz"
    shutil.rmtree(model / ".git")
    assert run_smpack("build", model, "-o", archive, "--no-lint").returncode == 0
    good = run_smpack("verify", archive, "--signature", signature, "--public-key", keys["P-256"][1])
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"{len(FILES)} files match" in good.stdout

    def verify_changed(change, *expected):
        tampered = tmp_path / "tampered"
        shutil.rmtree(tampered, ignore_errors=True)
        shutil.copytree(model, tampered)
        change(tampered)
        out = tmp_path / "tampered.tar.gz"
        assert run_smpack("build", tampered, "-o", out, "--no-lint").returncode == 0
        checked = run_smpack("verify", out, "--signature", signature, "--public-key",
                             keys["P-256"][1], "--json")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        doc = json.loads(checked.stdout)
        assert doc["signature_valid"] and not doc["ok"]
        assert (doc["changed"], doc["extra"], doc["missing"]) == expected

    def flip_one_byte(root):
        data = bytearray((root / "model.bin").read_bytes())
        data[1000] ^= 1
        (root / "model.bin").write_bytes(bytes(data))

    verify_changed(flip_one_byte, ["model.bin"], [], [])
    verify_changed(lambda root: (root / "a" / "new.bin").write_bytes(b"new"), [], ["a/new.bin"], [])
    verify_changed(lambda root: (root / "données" / "modèle.bin").unlink(), [], [],
                   ["données/modèle.bin"])


def test_a_foreign_archive_is_checked_in_one_stream(tmp_path, model, keys):
    signature = tmp_path / "model.sig"
    assert oracle(tmp_path, ms_sign(model, signature, keys["P-384"][0]))[0]["code"] == 0
    archive = tmp_path / "gnu.tar.gz"
    subprocess.run(["tar", "-czf", archive, "-C", model, "."], check=True)
    checked = run_smpack("verify", archive, "--signature", signature, "--public-key",
                         keys["P-384"][1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(FILES)} files match" in checked.stdout


def test_both_ways_for_a_directory_with_the_signature_inside(tmp_path, model, keys):
    # smpack signs, model_signing verifies; the signature inside is left out by both.
    inside = model / "model.sig"
    signed = run_smpack("sign", model, "--key", keys["P-256"][0], "-o", inside)
    assert signed.returncode == 0, signed.stderr
    # model_signing signs, smpack verifies.
    theirs = tmp_path / "theirs.sig"
    results = oracle(tmp_path, ms_verify(model, inside, keys["P-256"][1]),
                     ms_sign(model, theirs, keys["P-256"][0]))
    assert [r["code"] for r in results] == [0, 0], results
    assert "model.sig" in json.loads(base64.b64decode(
        json.loads(inside.read_text())["dsseEnvelope"]["payload"]))[
        "predicate"]["serialization"]["ignore_paths"]
    # theirs was written after model.sig existed, so it signed model.sig as a file.
    checked = run_smpack("verify", model, "--signature", theirs, "--public-key", keys["P-256"][1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    mine = run_smpack("verify", model, "--signature", inside, "--public-key", keys["P-256"][1])
    assert mine.returncode == 0, mine.stdout + mine.stderr
    (model / "a" / "b").write_text("changed")
    both = oracle(tmp_path, ms_verify(model, inside, keys["P-256"][1]))
    mine = run_smpack("verify", model, "--signature", inside, "--public-key", keys["P-256"][1])
    assert both[0]["code"] == 1 and "Hash mismatch for" in both[0]["output"]
    assert "a/b" in both[0]["output"]
    assert mine.returncode == 1 and "'a/b': content differs" in mine.stdout


def tamper(bundle_path: Path, out: Path, change) -> Path:
    bundle = json.loads(bundle_path.read_text())
    change(bundle)
    out.write_text(json.dumps(bundle))
    return out


def test_a_tampered_bundle_is_rejected_by_both(tmp_path, model, keys):
    signature = tmp_path / "model.sig"
    assert run_smpack("sign", model, "--key", keys["P-256"][0], "-o", signature).returncode == 0

    def other_payload(bundle):
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        statement["predicate"]["resources"] = statement["predicate"]["resources"][1:]
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()

    def other_signature(bundle):
        raw = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
        raw[-3] ^= 0x40
        bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()

    def other_hint(bundle):
        bundle["verificationMaterial"]["publicKey"]["hint"] = "0" * 64

    cases = {name: tamper(signature, tmp_path / f"{name}.sig", change)
             for name, change in [("payload", other_payload), ("signature", other_signature),
                                  ("hint", other_hint)]}
    theirs = oracle(tmp_path, *(ms_verify(model, path, keys["P-256"][1])
                                for path in cases.values()))
    assert [r["code"] for r in theirs] == [1, 1, 1], theirs
    for name, path in cases.items():
        checked = run_smpack("verify", model, "--signature", path, "--public-key",
                             keys["P-256"][1], "--json")
        assert checked.returncode == 1, (name, checked.stdout, checked.stderr)
        doc = json.loads(checked.stdout)
        assert not doc["signature_valid"] and doc["files_checked"] == 0
    wrong_key = run_smpack("verify", model, "--signature", signature, "--public-key",
                           keys["other"][1])
    assert wrong_key.returncode == 1 and "not the one that signed" in wrong_key.stdout


@pytest.mark.parametrize("content, message", [
    ("not json", "not a signature bundle"),
    ('{"mediaType": "application/vnd.dev.sigstore.bundle.v0.2+json"}', "bundle media type"),
    ('{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": '
     '{"certificate": {}}}', "certificate-based"),
    ('{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": '
     '{"publicKey": {}}, "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", '
     '"payload": "%%%", "signatures": [{"sig": "AA=="}]}}', "not base64"),
])
def test_a_malformed_bundle_is_exit_3_naming_what_is_wrong(tmp_path, model, keys, content,
                                                           message):
    bad = tmp_path / "bad.sig"
    bad.write_text(content)
    checked = run_smpack("verify", model, "--signature", bad, "--public-key", keys["P-256"][1])
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert message in checked.stderr and "bad.sig" not in checked.stdout


def test_what_model_signing_refuses_smpack_refuses(tmp_path, model, keys):
    (model / "link").symlink_to("a.txt")
    refused = run_smpack("sign", model, "--key", keys["P-256"][0], "-o", tmp_path / "s.sig")
    assert refused.returncode == 3 and "'link' is a symlink" in refused.stderr
    theirs = oracle(tmp_path, ms_sign(model, tmp_path / "t.sig", keys["P-256"][0]))
    assert theirs[0]["code"] == 1 and "symlink" in theirs[0]["output"]
    wrong = run_smpack("sign", model, "--key", keys["P-256"][1], "-o", tmp_path / "s.sig")
    assert wrong.returncode == 3 and "not a PEM private key" in wrong.stderr


def test_sign_and_verify_in_s3(s3_server, tmp_path, model, keys):
    archive = tmp_path / "model.tar.gz"
    assert run_smpack("build", model, "-o", archive, "--no-lint").returncode == 0
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(archive), bucket, "m/model.tar.gz")
    env = s3_server.overrides()
    url = f"s3://{bucket}/m/model.tar.gz"
    signed = run_smpack("sign", url, "--key", keys["P-256"][0], env=env)
    assert signed.returncode == 0, signed.stderr
    sig = s3_server.client().get_object(Bucket=bucket, Key="m/model.tar.gz.sig")["Body"].read()
    (tmp_path / "from-s3.sig").write_bytes(sig)
    extracted = tmp_path / "x"
    assert run_smpack("extract", archive, "-C", extracted).returncode == 0
    assert oracle(tmp_path, ms_verify(extracted, tmp_path / "from-s3.sig",
                                      keys["P-256"][1]))[0]["code"] == 0
    checked = run_smpack("verify", url, "--signature", url + ".sig", "--public-key",
                         keys["P-256"][1], env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# ---- signing as part of build, stage and add-code; info; Python ----------------------


def test_build_sign_signs_from_the_digests_it_computed(tmp_path, model, keys):
    archive = tmp_path / "model.tar.gz"
    built = run_smpack("build", model, "-o", archive, "--no-lint", "--sign", keys["P-256"][0],
                       "--json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["signature"] == f"{archive}.sig"
    extracted = tmp_path / "x"
    assert run_smpack("extract", archive, "-C", extracted).returncode == 0
    assert oracle(tmp_path, ms_verify(extracted, Path(f"{archive}.sig"),
                                      keys["P-256"][1]))[0]["code"] == 0
    # The same statement as signing the archive afterwards (ECDSA differs, the payload not).
    again = tmp_path / "again.sig"
    assert run_smpack("sign", archive, "--key", keys["P-256"][0], "-o", again).returncode == 0
    payload = lambda p: json.loads(p.read_text())["dsseEnvelope"]["payload"]
    assert payload(Path(f"{archive}.sig")) == payload(again)
    bad_key = run_smpack("build", model, "-o", tmp_path / "b.tar.gz", "--sign", tmp_path / "nope")
    assert bad_key.returncode == 2 and not (tmp_path / "b.tar.gz").exists()


def test_stage_sign_writes_the_signature_beside_the_directory(tmp_path, model, keys):
    code = tmp_path / "new_code"
    write_files(code, {"inference.py": "def model_fn(model_dir):\n    return 1\n"})
    staged = run_smpack("stage", model, "--code", code, "--force", "--no-lint", "--sign",
                        keys["P-256"][0])
    assert staged.returncode == 0, staged.stderr
    signature = Path(f"{model}.sig")
    assert signature.is_file() and not (model / "model.sig").exists()
    assert oracle(tmp_path, ms_verify(model, signature, keys["P-256"][1]))[0]["code"] == 0


def test_add_code_says_the_old_signature_is_stale_and_re_signs(tmp_path, model, keys):
    archive = tmp_path / "model.tar.gz"
    assert run_smpack("build", model, "-o", archive, "--no-lint", "--sign",
                      keys["P-256"][0]).returncode == 0
    code = tmp_path / "new_code"
    write_files(code, {"inference.py": "def model_fn(model_dir):\n    return 2\n"})
    stale = run_smpack("add-code", archive, "--code", code, "--in-place", "--no-lint")
    assert stale.returncode == 0, stale.stderr
    assert f"{archive}.sig signs the archive as it was" in stale.stderr
    info = json.loads(run_smpack("info", archive, "--json").stdout)["signature"]
    assert info["path"] == f"{archive}.sig" and info["changed"] == 1 and info["extra"] == 0
    checked = run_smpack("verify", archive, "--signature", f"{archive}.sig", "--public-key",
                         keys["P-256"][1])
    assert checked.returncode == 1 and "'code/inference.py': content differs" in checked.stdout
    resigned = run_smpack("add-code", archive, "--code", code, "--in-place", "--no-lint",
                          "--sign", keys["P-256"][0])
    assert resigned.returncode == 0, resigned.stderr
    assert "signs the archive as it was" not in resigned.stderr
    checked = run_smpack("verify", archive, "--signature", f"{archive}.sig", "--public-key",
                         keys["P-256"][1])
    assert checked.returncode == 0, checked.stdout
    info = run_smpack("info", archive)
    assert "the digests of every file match" in info.stdout


def test_python_sign_and_verify(tmp_path, model, keys):
    archive = tmp_path / "model.tar.gz"
    assert run_smpack("build", model, "-o", archive, "--no-lint").returncode == 0
    done = run_python(f"""
        import json, smpack
        signed = smpack.sign({str(archive)!r}, key={str(keys["P-256"][0])!r})
        good = smpack.verify({str(archive)!r}, signature=signed["signature"],
                             public_key={str(keys["P-256"][1])!r})
        wrong = smpack.verify({str(archive)!r}, signature=signed["signature"],
                              public_key={str(keys["other"][1])!r})
        print(json.dumps([signed["signature"], good["ok"], good["files_checked"], wrong["ok"]]))
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [f"{archive}.sig", True, len(FILES), False]


# ---- archives whose extraction is not what a naive reading of them says ----------------


def hostile_tar(path: Path, members: list[tuple[str, bytes, str | None]]) -> Path:
    """A gzip tar of (name, data, kind) members, kind None (a file), "dir", "symlink:T"
    or "hardlink:T", in that order."""
    import io
    import tarfile
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind and kind.startswith("symlink:"):
                info.type, info.linkname = tarfile.SYMTYPE, kind.split(":", 1)[1]
            elif kind and kind.startswith("hardlink:"):
                info.type, info.linkname = tarfile.LNKTYPE, kind.split(":", 1)[1]
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


GOOD = [("model.bin", b"good", None), ("config.json", b"{}", None)]


@pytest.mark.parametrize("name, members, words", [
    # A symlink under an ignored path redirects a later member onto a signed file.
    ("symlink-under-git", GOOD + [(".github", b"", "symlink:."), (".github/model.bin", b"evil", None)],
     "'.github' is a symlink"),
    ("hardlink-under-git", GOOD + [(".git/x", b"", "hardlink:model.bin"), (".git/x", b"evil", None)],
     "'.git/x' is a hardlink"),
    # A later member of a signed path: extractors leave the last one.
    ("directory-replaces-file", GOOD + [("config.json", b"", "dir")], "names a path that an earlier member already has"),
    ("second-copy", GOOD + [("model.bin", b"evil", None)], "'model.bin' names a path that an earlier"),
    ("under-a-file", GOOD + [("model.bin/x", b"", None)], "lies under 'model.bin', which is a file"),
])
def test_an_archive_whose_extraction_is_ambiguous_is_refused(tmp_path, keys, name, members, words):
    signed_dir = tmp_path / "z"
    write_files(signed_dir, {n: d for n, d, _ in GOOD})
    signature = tmp_path / "z.sig"
    assert run_smpack("sign", signed_dir, "--key", keys["P-256"][0], "-o", signature).returncode == 0
    archive = hostile_tar(tmp_path / f"{name}.tar.gz", members)
    checked = run_smpack("verify", archive, "--signature", signature, "--public-key",
                         keys["P-256"][1])
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert words in checked.stderr
    signed = run_smpack("sign", archive, "--key", keys["P-256"][0], "-o", tmp_path / "x.sig")
    assert signed.returncode == 3 and words in signed.stderr


def smpack_index_only(path: Path, index: dict) -> Path:
    """A file holding only an smpack index (docs/format.md): index members and trailer."""
    import struct
    import zlib
    text = json.dumps(index).encode()
    header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff"
    tail = b"\x03\x00" + b"\x00" * 8
    members = b"".join(header + struct.pack("<H", 4 + len(text[i:i + 65531])) + b"SI" +
                       struct.pack("<H", len(text[i:i + 65531])) + text[i:i + 65531] + tail
                       for i in range(0, len(text), 65531))
    trailer = struct.pack("<8sIIQQQ", b"SMPACKIX", 1, zlib.crc32(text), 0, len(members), len(text))
    path.write_bytes(members + header + struct.pack("<H", 44) + b"SX" + struct.pack("<H", 40) +
                     trailer + tail)
    return path


def test_an_index_that_lists_no_member_is_bad_input(tmp_path, keys, model):
    archive = smpack_index_only(tmp_path / "empty-index.tar.gz", {
        "format": "smpack-index", "version": 1, "level": 1, "chunk_bytes": 1048576,
        "mtime": 315532800, "code_member": 0, "members": [], "entries": []})
    signature = tmp_path / "m.sig"
    assert run_smpack("sign", model, "--key", keys["P-256"][0], "-o", signature).returncode == 0
    for args in (["sign", archive, "--key", keys["P-256"][0], "-o", tmp_path / "e.sig"],
                 ["verify", archive, "--signature", signature, "--public-key", keys["P-256"][1]],
                 ["info", archive]):
        done = run_smpack(*args)
        assert done.returncode == 3, (args, done.returncode, done.stderr)
        assert "lists no gzip member" in done.stderr


def test_ignore_paths_add_to_git_and_are_read_as_pathlib_reads_them(tmp_path, keys):
    model = tmp_path / "b"
    write_files(model, {"w.bin": "w", "data/x": "x", ".git/HEAD": "ref", ".gitattributes": "*"})
    signature = tmp_path / "b.sig"
    signed = run_smpack("sign", model, "--key", keys["P-256"][0], "-o", signature,
                        "--ignore-path", "./data")
    assert signed.returncode == 0, signed.stderr
    statement = json.loads(base64.b64decode(json.loads(signature.read_text())["dsseEnvelope"]["payload"]))
    assert "data" in statement["predicate"]["serialization"]["ignore_paths"]
    assert [r["name"] for r in statement["predicate"]["resources"]] == ["w.bin"]
    all_files = tmp_path / "all.sig"
    assert run_smpack("sign", model, "--key", keys["P-256"][0], "-o", all_files,
                      "--no-ignore-git-paths").returncode == 0
    # An archive that keeps .git verifies as the directory does.
    archive = tmp_path / "b.tar.gz"
    assert run_smpack("build", model, "-o", archive, "--no-lint").returncode == 0
    results = oracle(tmp_path, ms_verify(model, signature, keys["P-256"][1]))
    assert results[0]["code"] == 0, results
    checked = run_smpack("verify", archive, "--signature", signature, "--public-key",
                         keys["P-256"][1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    bad = run_smpack("sign", model, "--key", keys["P-256"][0], "-o", tmp_path / "c.sig",
                     "--ignore-path", "../elsewhere")
    assert bad.returncode == 2 and "ignore path '../elsewhere'" in bad.stderr


def compressed_public_pem(public: Path, out: Path) -> Path:
    """The same P-256 public key with its point compressed (as `openssl ec -conv_form
    compressed` writes it): SubjectPublicKeyInfo DER built by hand."""
    import subprocess as sp
    point = sp.run([str(ORACLE_PYTHON), "-c", (
        "import sys; from cryptography.hazmat.primitives import serialization as s;"
        "k = s.load_pem_public_key(open(sys.argv[1], 'rb').read());"
        "sys.stdout.buffer.write(k.public_bytes(s.Encoding.X962, s.PublicFormat.CompressedPoint))"),
        str(public)], capture_output=True, check=True).stdout
    der = bytes.fromhex("3039301306072a8648ce3d020106082a8648ce3d030107032200") + point
    body = base64.b64encode(der).decode()
    out.write_text("-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n")
    return out


def test_the_key_hint_does_not_depend_on_how_the_key_file_writes_its_point(tmp_path, model, keys):
    compressed = compressed_public_pem(keys["P-256"][1], tmp_path / "compressed.pem")
    theirs = tmp_path / "theirs.sig"
    assert oracle(tmp_path, ms_sign(model, theirs, keys["P-256"][0]))[0]["code"] == 0
    checked = run_smpack("verify", model, "--signature", theirs, "--public-key", compressed)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert oracle(tmp_path, ms_verify(model, theirs, compressed))[0]["code"] == 0


def test_p521_both_ways_and_a_symlink_in_an_archive(tmp_path, model, keys):
    p521 = (tmp_path / "p521.pem", tmp_path / "p521.pub.pem")
    mine, theirs = tmp_path / "mine.sig", tmp_path / "theirs.sig"
    oracle(tmp_path, {"keygen": "P-521", "private": str(p521[0]), "public": str(p521[1])})
    assert run_smpack("sign", model, "--key", p521[0], "-o", mine).returncode == 0
    results = oracle(tmp_path, ms_verify(model, mine, p521[1]), ms_sign(model, theirs, p521[0]))
    assert [r["code"] for r in results] == [0, 0], results
    checked = run_smpack("verify", model, "--signature", theirs, "--public-key", p521[1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    linked = hostile_tar(tmp_path / "linked.tar.gz", GOOD + [("link", b"", "symlink:model.bin")])
    refused = run_smpack("sign", linked, "--key", p521[0], "-o", tmp_path / "l.sig")
    assert refused.returncode == 3 and "'link' is a symlink" in refused.stderr
