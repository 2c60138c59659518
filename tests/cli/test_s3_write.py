"""Writing artifacts into S3: `build -o s3://` streams the archive into a multipart upload,
and `add-code` on an smpack archive in S3 copies the unchanged members server-side and
uploads only the new tail. The server (moto, checking every signature), the proxy and
boto3 are those of the reading tests; boto3, Python's tarfile and GNU tar read what smpack
wrote, and its bytes are those of the same command on a local file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import signal
import subprocess
import tarfile
import time

import crc32c
import pytest

from conftest import build_archive, make_code_dir, make_model_dir, run_smpack, smpack_bin
from s3_proxy import S3Proxy
from s3_server import s3_server  # noqa: F401  (the session's moto server)

MiB = 1 << 20


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("s3write")
    model = make_model_dir(root, weights_bytes=64 * MiB, with_code=True)
    code = make_code_dir(root, "new_code")
    (code / "inference.py").write_text((code / "inference.py").read_text() + "\n# v2\n")
    return {"root": root, "dir": model, "archive": build_archive(model, root / "model.tar.gz"),
            "code": code}


def s3_env(server, proxy=None):
    return server.overrides(**({"AWS_ENDPOINT_URL_S3": proxy.endpoint} if proxy else {}))


def fetch(server, bucket, key) -> bytes:
    """The object's bytes. moto answers a multipart upload made with part checksums with a
    checksum that is not the composite one S3 gives (which boto3 does not check), so
    boto3's own check is left off; the bytes are compared here instead."""
    client = server.client(response_checksum_validation="when_required")
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def uploads_in_progress(server, bucket) -> list:
    return server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def parts_of(proxy):
    """The UploadPart requests (not copies) that succeeded, by part number."""
    parts = [r for r in proxy.requests if r.method == "PUT" and "partNumber=" in r.query
             and "x-amz-copy-source" not in r.headers and r.status == 200]
    number = lambda r: int(r.query.split("partNumber=")[1].split("&")[0])
    return sorted(parts, key=number)


def test_build_into_s3_writes_the_local_archive_with_checked_parts(s3_server, model):
    bucket = s3_server.new_bucket()
    with S3Proxy(s3_server.endpoint) as proxy:
        built = run_smpack("build", model["dir"], "-o", f"s3://{bucket}/out/model.tar.gz",
                           "--json", env=s3_env(s3_server, proxy))
        assert built.returncode == 0, built.stderr
        parts = parts_of(proxy)
    data = fetch(s3_server, bucket, "out/model.tar.gz")
    assert data == model["archive"].read_bytes()  # deterministic: the same bytes as locally
    report = json.loads(built.stdout)
    head = s3_server.client().head_object(Bucket=bucket, Key="out/model.tar.gz")
    assert report["etag"] == head["ETag"].strip('"') and report["etag"].endswith(f"-{len(parts)}")
    assert report["model_data_source"] == {"S3DataSource": {
        "S3Uri": f"s3://{bucket}/out/model.tar.gz", "S3DataType": "S3Object",
        "CompressionType": "Gzip", "ETag": report["etag"]}}
    assert len(parts) >= 2
    # moto does not check part checksums: each is checked here against the bytes S3 holds.
    offset = 0
    for part in parts:
        size = int(part.headers["content-length"])
        piece = data[offset:offset + size]
        assert part.headers["x-amz-checksum-crc32c"] == base64.b64encode(
            crc32c.crc32c(piece).to_bytes(4, "big")).decode()
        # The signed checksum protects the bytes, so the payload itself goes unsigned.
        assert part.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        offset += size
    assert offset == len(data)
    assert uploads_in_progress(s3_server, bucket) == []
    # Other readers agree.
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert tar.extractfile("model.bin").read() == (model["dir"] / "model.bin").read_bytes()
    listing = subprocess.run(["tar", "-tzf", "-"], input=data, capture_output=True, check=True)
    assert b"code/inference.py" in listing.stdout


def test_throttling_and_server_errors_mid_upload_are_retried(s3_server, model):
    bucket = s3_server.new_bucket()
    puts = []

    def second_and_third_part(method, path, query):
        if method == "PUT" and "partNumber=" in query:
            puts.append(query)
            return len(puts) in (2, 3)
        return False

    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("503", times=1, match=second_and_third_part)
        proxy.inject("500", times=1, match=second_and_third_part)
        built = run_smpack("build", model["dir"], "-o", f"s3://{bucket}/model.tar.gz",
                           env=s3_env(s3_server, proxy))
        assert built.returncode == 0, built.stderr
        assert {r.fault for r in proxy.requests if r.fault} == {"500", "503"}
    assert fetch(s3_server, bucket, "model.tar.gz") == model["archive"].read_bytes()


def test_a_failed_upload_is_aborted_and_leaves_no_parts(s3_server, model):
    bucket = s3_server.new_bucket()
    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("drop", times=1000,
                     match=lambda method, path, query: method == "PUT" and "partNumber=" in query)
        built = run_smpack("build", model["dir"], "-o", f"s3://{bucket}/model.tar.gz",
                           env=s3_env(s3_server, proxy))
        assert built.returncode == 3
        assert "model.tar.gz" in built.stderr
        assert any(r.method == "DELETE" and "uploadId=" in r.query and r.status == 204
                   for r in proxy.requests)
    assert uploads_in_progress(s3_server, bucket) == []
    assert "Contents" not in s3_server.client().list_objects_v2(Bucket=bucket)


def test_ctrl_c_aborts_the_upload(s3_server, model):
    bucket = s3_server.new_bucket()

    def slow_parts(method, path, query):
        if method == "PUT" and "partNumber=" in query:
            time.sleep(0.5)  # so that the interrupt lands mid-upload
        return False

    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("500", match=slow_parts)
        env = dict(s3_env(s3_server, proxy))
        import os
        full = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
        proc = subprocess.Popen([str(smpack_bin()), "build", str(model["dir"]), "-o",
                                 f"s3://{bucket}/model.tar.gz"], env=full,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while not any("partNumber=" in r.query for r in proxy.requests):
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert any(r.method == "DELETE" and "uploadId=" in r.query for r in proxy.requests)
    assert uploads_in_progress(s3_server, bucket) == []


def test_add_code_in_place_moves_only_the_code(s3_server, model, tmp_path):
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(model["archive"]), bucket, "model.tar.gz")
    expected = tmp_path / "expected.tar.gz"
    local = run_smpack("add-code", model["archive"], "--code", model["code"], "-o", expected)
    assert local.returncode == 0, local.stderr
    with S3Proxy(s3_server.endpoint) as proxy:
        result = run_smpack("add-code", f"s3://{bucket}/model.tar.gz", "--code", model["code"],
                            "--in-place", env=s3_env(s3_server, proxy))
        assert result.returncode == 0, result.stderr
        moved = proxy.bytes_to_client + proxy.bytes_from_client
        copies = [r for r in proxy.requests if "x-amz-copy-source" in r.headers]
    code_bytes = sum(p.stat().st_size for p in model["code"].iterdir())
    assert moved < 2 * MiB + code_bytes, moved
    assert copies and all("x-amz-copy-source-if-match" in r.headers for r in copies)
    assert fetch(s3_server, bucket, "model.tar.gz") == expected.read_bytes()
    assert uploads_in_progress(s3_server, bucket) == []


def test_a_failed_add_code_leaves_the_old_object(s3_server, model):
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(model["archive"]), bucket, "model.tar.gz")
    before = s3_server.client().head_object(Bucket=bucket, Key="model.tar.gz")["ETag"]
    with S3Proxy(s3_server.endpoint) as proxy:
        # Every CompleteMultipartUpload is dropped: the new object never appears.
        proxy.inject("drop", times=1000, match=lambda method, path, query:
                     method == "POST" and "uploadId=" in query)
        result = run_smpack("add-code", f"s3://{bucket}/model.tar.gz", "--code", model["code"],
                            "--in-place", env=s3_env(s3_server, proxy))
        assert result.returncode == 3
    assert s3_server.client().head_object(Bucket=bucket, Key="model.tar.gz")["ETag"] == before
    assert fetch(s3_server, bucket, "model.tar.gz") == model["archive"].read_bytes()
    assert uploads_in_progress(s3_server, bucket) == []


def test_a_small_prefix_is_uploaded_not_copied(s3_server, tmp_path):
    small = make_model_dir(tmp_path, weights_bytes=1 * MiB, with_code=True)
    archive = build_archive(small, tmp_path / "small.tar.gz")
    code = make_code_dir(tmp_path, "code2")
    expected = tmp_path / "expected.tar.gz"
    assert run_smpack("add-code", archive, "--code", code, "-o", expected).returncode == 0
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(archive), bucket, "small.tar.gz")
    with S3Proxy(s3_server.endpoint) as proxy:
        result = run_smpack("add-code", f"s3://{bucket}/small.tar.gz", "--code", code,
                            "--in-place", env=s3_env(s3_server, proxy))
        assert result.returncode == 0, result.stderr
        # S3 refuses a copied part under 5 MiB that is not the last: the prefix is sent.
        assert not any("x-amz-copy-source" in r.headers for r in proxy.requests)
    assert fetch(s3_server, bucket, "small.tar.gz") == expected.read_bytes()


def test_the_lint_gate_applies_in_s3(s3_server, model, tmp_path):
    bucket = s3_server.new_bucket()
    s3_server.client().upload_file(str(model["archive"]), bucket, "model.tar.gz")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "inference.py").write_text("def model_fn(model_dir:\n")
    result = run_smpack("add-code", f"s3://{bucket}/model.tar.gz", "--code", broken,
                        "--in-place", env=s3_env(s3_server))
    assert result.returncode == 1
    assert "handler-syntax-error" in result.stderr
    assert fetch(s3_server, bucket, "model.tar.gz") == model["archive"].read_bytes()
    assert uploads_in_progress(s3_server, bucket) == []


def test_add_code_of_a_foreign_archive_in_s3_uploads_only_the_spliced_tail(s3_server, model,
                                                                           tmp_path):
    """The kept prefix of a foreign gzip tar is copied server-side (UploadPartCopy); only
    the re-encoded end of its last block, the code and the index go up."""
    bucket = s3_server.new_bucket()
    foreign = tmp_path / "gnu.tar.gz"
    subprocess.run(["tar", "czf", foreign, "-C", str(model["dir"]), "."], check=True)
    s3_server.client().upload_file(str(foreign), bucket, "gnu.tar.gz")
    expected = tmp_path / "expected.tar.gz"
    local = run_smpack("add-code", foreign, "--code", model["code"], "-o", expected)
    assert local.returncode == 0, local.stderr
    with S3Proxy(s3_server.endpoint) as proxy:
        result = run_smpack("add-code", f"s3://{bucket}/gnu.tar.gz", "--code", model["code"], "-o",
                            f"s3://{bucket}/smpack.tar.gz", env=s3_env(s3_server, proxy))
        assert result.returncode == 0, result.stderr
        uploaded = proxy.bytes_from_client
        copies = [r for r in proxy.requests if "x-amz-copy-source" in r.headers]
    code_bytes = sum(p.stat().st_size for p in model["code"].iterdir())
    assert uploaded < 2 * MiB + code_bytes, uploaded
    assert copies and all("x-amz-copy-source-if-match" in r.headers for r in copies)
    data = fetch(s3_server, bucket, "smpack.tar.gz")
    assert data == expected.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        assert archive.extractfile("code/inference.py").read() == \
            (model["code"] / "inference.py").read_bytes()
        assert archive.extractfile("./model.bin").read() == (model["dir"] / "model.bin").read_bytes()
    assert fetch(s3_server, bucket, "gnu.tar.gz") == foreign.read_bytes()


def test_build_an_uncompressed_layout_into_a_prefix(s3_server, model):
    bucket = s3_server.new_bucket()
    with S3Proxy(s3_server.endpoint) as proxy:
        built = run_smpack("build", model["dir"], "-o", f"s3://{bucket}/models/tiny/",
                           "--layout", "prefix", "--json", env=s3_env(s3_server, proxy))
        assert built.returncode == 0, built.stderr
        puts = [r for r in proxy.requests if r.method == "PUT" and "partNumber=" not in r.query]
    report = json.loads(built.stdout)
    files = {p.relative_to(model["dir"]).as_posix(): p.read_bytes()
             for p in model["dir"].rglob("*") if p.is_file()}
    objects = {o["key"]: o for o in report["objects"]}
    assert set(objects) == {"models/tiny/" + path for path in files}
    for path, data in files.items():
        assert fetch(s3_server, bucket, "models/tiny/" + path) == data
        assert objects["models/tiny/" + path]["sha256"] == hashlib.sha256(data).hexdigest()
    # Each single PUT carried the SHA-256 of its body (the 64 MiB weights went multipart).
    for put in puts:
        if put.path.endswith(".smpack-manifest.json"):
            continue
        key = put.path.split("/", 2)[2]
        assert put.headers["x-amz-checksum-sha256"] == base64.b64encode(
            hashlib.sha256(files[key[len("models/tiny/"):]]).digest()).decode()
    manifest = json.loads(fetch(s3_server, bucket, report["manifest_key"]))
    assert report["manifest_key"] == "models/tiny.smpack-manifest.json"
    assert {e["path"] for e in manifest["entries"]} == set(files)
    assert report["model_data_source"]["S3DataSource"]["S3Uri"] == f"s3://{bucket}/models/tiny/"
    # What was written lints as the directory does, as an S3 prefix.
    lint = run_smpack("lint", f"s3://{bucket}/models/tiny/", env=s3_env(s3_server))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert uploads_in_progress(s3_server, bucket) == []


def test_layout_and_output_must_agree(s3_server, model):
    to_prefix = run_smpack("build", model["dir"], "-o", "s3://some-bucket/models/tiny/",
                           env=s3_env(s3_server))
    assert to_prefix.returncode == 2 and "--layout prefix" in to_prefix.stderr
    to_object = run_smpack("build", model["dir"], "-o", "s3://some-bucket/model.tar.gz",
                           "--layout", "prefix", env=s3_env(s3_server))
    assert to_object.returncode == 2 and "trailing slash" in to_object.stderr
