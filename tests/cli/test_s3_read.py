"""Reading artifacts in S3: every command that reads takes s3:// URLs and says what it
says for the local file, while moving only the bytes that matter.

The server is moto's, on loopback, checking every signature (s3_server.py); a counting,
fault-injecting proxy sits between smpack and it (s3_proxy.py); boto3 (and `tar czf`
piped into a multipart upload) is the other client. Nothing here contacts any address
but 127.0.0.1: every environment is hermetic, with IMDS disabled unless a loopback fake
is named.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import boto3.s3.transfer
import pytest

from conftest import build_archive, make_code_dir, make_model_dir, run_smpack, tree_contents
from s3_credential_fakes import ContainerCredentialsServer, InstanceMetadataServer
from s3_proxy import S3Proxy, nth
from s3_server import s3_server  # noqa: F401  (the session's moto server)
from sdk_oracles import BINDINGS, PROFILE_FRAMEWORKS, sdk_oracle
from test_terminal import run_on_terminal

MiB = 1 << 20
WEIGHTS = 64 * MiB


@pytest.fixture(scope="module")
def models(tmp_path_factory, s3_server):
    """One bucket with: an smpack archive of a 64 MiB model (put whole, and again as a
    boto3 multipart upload), the same model with other code, a `tar czf` of it piped
    into a multipart upload, and the model directory as an uncompressed prefix."""
    root = tmp_path_factory.mktemp("s3models")
    model = make_model_dir(root, weights_bytes=WEIGHTS, with_code=True)
    archive = build_archive(model, root / "model.tar.gz")
    other_code = make_code_dir(root, "other_code")
    (other_code / "inference.py").write_text(
        (other_code / "inference.py").read_text() + "\n# changed\n")
    recoded = build_archive(model, root / "recoded.tar.gz", "--code", other_code)

    s3 = s3_server.client()
    bucket = s3_server.new_bucket("models")
    s3.upload_file(str(archive), bucket, "smpack/model.tar.gz",
                   Config=boto3.s3.transfer.TransferConfig(multipart_threshold=1 << 40))
    s3.upload_file(str(archive), bucket, "smpack/multipart.tar.gz",
                   Config=boto3.s3.transfer.TransferConfig(multipart_threshold=8 * MiB,
                                                           multipart_chunksize=8 * MiB))
    s3.upload_file(str(recoded), bucket, "smpack/recoded.tar.gz")
    tar = subprocess.Popen(["tar", "czf", "-", "-C", str(model), "."], stdout=subprocess.PIPE)
    s3.upload_fileobj(tar.stdout, bucket, "foreign/model.tar.gz",
                      Config=boto3.s3.transfer.TransferConfig(multipart_threshold=8 * MiB,
                                                              multipart_chunksize=8 * MiB))
    assert tar.wait() == 0
    foreign = root / "foreign.tar.gz"
    s3.download_file(bucket, "foreign/model.tar.gz", str(foreign))
    for path in sorted(p for p in model.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, "layout/" + path.relative_to(model).as_posix())
    return {"bucket": bucket, "model": model, "archive": archive, "recoded": recoded,
            "foreign": foreign, "root": root}


def url(models, key: str) -> str:
    return f"s3://{models['bucket']}/{key}"


def smpack_s3(server, *args, proxy: S3Proxy | None = None, **env):
    """smpack ARGS against the server (through `proxy` when given), hermetic env."""
    endpoint = {"AWS_ENDPOINT_URL_S3": proxy.endpoint} if proxy else {}
    return run_smpack(*args, env=server.overrides(**endpoint, **env))


def without_location(doc: dict) -> dict:
    """info --json minus what names where the artifact is."""
    return {k: v for k, v in doc.items()
            if k not in ("archive", "deploy_call", "model_data_source", "s3_objects")}


# ---- the same answers as for the local file ---------------------------------------------


def test_info_reads_the_index_and_a_few_members_only(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        remote = smpack_s3(s3_server, "info", "--json", url(models, "smpack/model.tar.gz"),
                           proxy=proxy)
        assert remote.returncode == 0, remote.stderr
        moved, requests = proxy.bytes_to_client, len(proxy.requests)
    local = run_smpack("info", "--json", models["archive"])
    assert without_location(json.loads(remote.stdout)) == without_location(json.loads(local.stdout))
    assert json.loads(remote.stdout)["kind"] == "smpack archive"
    size = models["archive"].stat().st_size
    assert size > 50 * MiB
    assert moved < 2 * MiB, f"info moved {moved} bytes of a {size}-byte object"
    assert requests <= 8, [(r.method, r.headers.get("range")) for r in proxy.requests]
    # The deploy call names the object itself, and the ModelDataSource the version read.
    doc = json.loads(remote.stdout)
    assert url(models, "smpack/model.tar.gz") in doc["deploy_call"]
    etag = s3_server.client().head_object(Bucket=models["bucket"],
                                          Key="smpack/model.tar.gz")["ETag"].strip('"')
    assert doc["s3_objects"] == [{"key": "smpack/model.tar.gz", "size": size, "etag": etag}]
    assert doc["model_data_source"] == {"S3DataSource": {
        "S3Uri": url(models, "smpack/model.tar.gz"), "S3DataType": "S3Object",
        "CompressionType": "Gzip", "ETag": etag}}
    assert json.loads(local.stdout)["s3_objects"] == []


@pytest.mark.parametrize("key", ["smpack/model.tar.gz", "smpack/multipart.tar.gz",
                                 "foreign/model.tar.gz"])
def test_ls_and_lint_say_what_they_say_locally(s3_server, models, key):
    local_archive = models["foreign"] if key.startswith("foreign") else models["archive"]
    for command in (["ls", "-l"], ["lint", "--format", "json"]):
        remote = smpack_s3(s3_server, *command, url(models, key))
        local = run_smpack(*command, local_archive)
        assert remote.returncode == local.returncode == 0, remote.stderr
        if command[0] == "ls":
            assert remote.stdout == local.stdout
        else:
            r, l = json.loads(remote.stdout), json.loads(local.stdout)
            # The deploy call names where the archive is: the object, or a placeholder.
            assert url(models, key) in r["reports"][0]["deploy_call"]
            assert "s3://BUCKET/model.tar.gz" in l["reports"][0]["deploy_call"]
            for doc in (r, l):
                for report in doc["reports"]:
                    report.pop("target")
                    report.pop("deploy_call")
            assert r == l


def test_ls_and_lint_of_an_smpack_archive_move_little(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        for command in (["ls", "-l"], ["lint"]):
            proxy.reset_counts()
            result = smpack_s3(s3_server, *command, url(models, "smpack/model.tar.gz"), proxy=proxy)
            assert result.returncode == 0, result.stderr
            assert proxy.bytes_to_client < 2 * MiB, (command, proxy.bytes_to_client)
            # One connection kept open for every request.
            assert proxy.connections == 1, (command, proxy.connections, len(proxy.requests))


def test_cat_and_extract_give_the_files_of_the_local_archive(s3_server, models, tmp_path):
    for key in ("smpack/model.tar.gz", "foreign/model.tar.gz"):
        cat = run_smpack("cat", url(models, key), "code/inference.py",
                         env=s3_server.overrides())
        assert cat.returncode == 0, cat.stderr
        assert cat.stdout == (models["model"] / "code/inference.py").read_text()
        out = tmp_path / key.replace("/", "_")
        extracted = smpack_s3(s3_server, "extract", url(models, key), "-C", out)
        assert extracted.returncode == 0, extracted.stderr
        got = tree_contents(out)
        assert {k: v for k, v in got.items() if v is not None} == {
            k: v for k, v in tree_contents(models["model"]).items() if v is not None}


def test_a_foreign_archive_is_streamed_once_with_no_temporary_file(s3_server, models, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    with S3Proxy(s3_server.endpoint) as proxy:
        result = smpack_s3(s3_server, "verify", url(models, "foreign/model.tar.gz"), proxy=proxy,
                           TMPDIR=str(tmpdir))
        assert result.returncode == 0, result.stderr
        size = models["foreign"].stat().st_size
        assert size < proxy.bytes_to_client < size + 1 * MiB
        # Sequential reads widen the window: a few large GETs, not thousands of small ones.
        assert len(proxy.requests) <= 16, len(proxy.requests)
    assert list(tmpdir.iterdir()) == []


def test_digest_and_verify_agree_with_the_local_file(s3_server, models):
    for command in (["digest", "--json"], ["verify", "--json"]):
        remote = smpack_s3(s3_server, *command, url(models, "smpack/multipart.tar.gz"))
        local = run_smpack(*command, models["archive"])
        assert remote.returncode == local.returncode == 0, remote.stderr
        r, l = json.loads(remote.stdout), json.loads(local.stdout)
        for doc in (r, l):
            doc.pop("archive", None)
            doc.pop("artifact", None)
        assert r == l


def test_diff_of_two_smpack_archives_reads_no_weights(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        result = smpack_s3(s3_server, "diff", url(models, "smpack/model.tar.gz"),
                           url(models, "smpack/recoded.tar.gz"), proxy=proxy)
        assert result.returncode == 1, result.stderr  # they differ
        assert "M code/inference.py" in result.stdout
        assert "model.bin" not in result.stdout
        assert proxy.bytes_to_client < 2 * MiB, proxy.bytes_to_client
    local = run_smpack("diff", models["archive"], models["recoded"])
    assert local.stdout == result.stdout


def test_repack_check_reads_the_object(s3_server, models):
    remote = smpack_s3(s3_server, "repack-check", "--json", url(models, "smpack/model.tar.gz"),
                       "--framework", "pytorch", "--framework-version", "2.1")
    local = run_smpack("repack-check", "--json", models["archive"], "--framework", "pytorch",
                       "--framework-version", "2.1")
    assert remote.returncode == local.returncode, remote.stderr
    r, l = json.loads(remote.stdout), json.loads(local.stdout)
    r.pop("archive"), l.pop("archive")
    assert r == l


def test_bytes_from_s3_are_shown_on_a_terminal(s3_server, models):
    seen = run_on_terminal("cat", url(models, "smpack/model.tar.gz"), "model.bin",
                           env=s3_server.overrides())
    # Bytes received and, once half a second has passed, the rate (moto serves ~30 MB/s here).
    assert b"\rS3 " in seen and b"MiB at " in seen and b"/s" in seen
    piped = smpack_s3(s3_server, "ls", url(models, "smpack/model.tar.gz"))
    assert "S3 " not in piped.stderr and "\r" not in piped.stderr


# ---- one version throughout --------------------------------------------------------------


def test_an_overwrite_while_reading_is_an_error(s3_server, models):
    s3 = s3_server.client()
    bucket = models["bucket"]
    s3.upload_file(str(models["archive"]), bucket, "race/model.tar.gz")
    overwritten = []

    def overwrite_before_second_get(method, path, query):
        gets = [r for r in proxy.requests if r.method == "GET"]
        if method == "GET" and len(gets) == 1 and not overwritten:
            s3.upload_file(str(models["recoded"]), bucket, "race/model.tar.gz")
            overwritten.append(True)
        return False  # no fault: the request goes through, now to a changed object

    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("500", match=overwrite_before_second_get)
        result = smpack_s3(s3_server, "cat", url(models, "race/model.tar.gz"), "model.bin",
                           proxy=proxy)
        assert overwritten
        assert result.returncode == 3
        assert "changed while it was being read" in result.stderr
        assert any(r.status == 412 for r in proxy.requests)
        assert all("if-match" in r.headers for r in proxy.requests[1:])


# ---- uncompressed layouts (S3ModelDataSource) --------------------------------------------


def test_a_prefix_is_linted_like_the_directory(s3_server, models, tmp_path):
    remote = smpack_s3(s3_server, "lint", "--format", "json", url(models, "layout/"))
    local = run_smpack("lint", "--format", "json", "--layout", "prefix", models["model"])
    assert remote.returncode == local.returncode == 0, remote.stderr + remote.stdout
    r, l = json.loads(remote.stdout)["reports"][0], json.loads(local.stdout)["reports"][0]
    assert r["findings"] == l["findings"]
    assert r["profile"] == l["profile"]
    info = smpack_s3(s3_server, "info", "--json", url(models, "layout/"))
    assert info.returncode == 0, info.stderr
    doc = json.loads(info.stdout)
    assert doc["kind"] == "S3 prefix"
    assert doc["model_data_source"] == {"S3DataSource": {
        "S3Uri": url(models, "layout/"), "S3DataType": "S3Prefix", "CompressionType": "None"}}
    # v3's ModelBuilder cannot take a prefix: sagemaker-core's Model.create does, with the
    # ModelDataSource in its own spelling; v2's model classes take the dict as model_data.
    assert '"s3_data_type": "S3Prefix"' in doc["deploy_call"], doc["deploy_call"]
    v2 = json.loads(smpack_s3(s3_server, "info", "--json", "--sdk", "v2", url(models, "layout/")).stdout)
    assert '"S3DataType": "S3Prefix"' in v2["deploy_call"]
    for sdk, call in (("v3", doc["deploy_call"]), ("v2", v2["deploy_call"])):
        answer = sdk_oracle(sdk, [{"snippet": call,
                                     "bindings": BINDINGS[PROFILE_FRAMEWORKS[doc["profile"]]]}], tmp_path)[0]
        assert answer["error"] is None and answer["created"] and not answer["repacked"], answer
    listed = s3_server.client().list_objects_v2(Bucket=models["bucket"], Prefix="layout/")
    assert doc["s3_objects"] == [{"key": o["Key"], "size": o["Size"], "etag": o["ETag"].strip('"')}
                                 for o in listed["Contents"]]


def test_a_broken_prefix_gets_each_prefix_rule(s3_server, models):
    s3 = s3_server.client()
    bucket = models["bucket"]
    for key, body in {"broken/": b"", "broken/model.bin": b"w" * 100,
                      "broken/code/inference.py": b"def model_fn(d):\n    return d\n",
                      "broken/weights": b"x", "broken/weights/part1": b"x",
                      "broken/a/../config.json": b"{}", "broken/" + "n" * 300: b"x"}.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    result = smpack_s3(s3_server, "lint", "--format", "json", url(models, "broken/"))
    assert result.returncode == 1, result.stderr
    findings = {(f["rule"], f["member"]) for f in json.loads(result.stdout)["reports"][0]["findings"]}
    assert ("prefix-folder-object", "") in findings
    assert ("prefix-file-dir-clash", "weights") in findings
    assert ("prefix-bad-key", "a/../config.json") in findings
    assert ("prefix-bad-key", "n" * 300) in findings
    assert not any(rule.startswith("archive-") for rule, _ in findings)


def test_prefix_layout_of_a_local_directory_refuses_symlinks(tmp_path):
    model = make_model_dir(tmp_path, with_code=True)
    (model / "latest.bin").symlink_to("model.bin")
    result = run_smpack("lint", "--format", "json", "--layout", "prefix", model)
    assert result.returncode == 1
    rules = {(f["rule"], f["member"]) for f in json.loads(result.stdout)["reports"][0]["findings"]}
    assert ("prefix-symlink", "latest.bin") in rules
    # Without --layout prefix the same directory is judged as an archive's contents.
    plain = run_smpack("lint", "--format", "json", model)
    assert not any(f["rule"].startswith("prefix-") for f in json.loads(plain.stdout)["reports"][0]["findings"])


def test_a_name_without_its_slash_is_pointed_at_the_prefix(s3_server, models):
    result = smpack_s3(s3_server, "ls", url(models, "layout"))
    assert result.returncode == 3
    assert "add the trailing slash" in result.stderr and url(models, "layout/") in result.stderr
    lint = smpack_s3(s3_server, "lint", "--layout", "prefix", url(models, "layout"))
    assert lint.returncode == 2
    assert "ends in '/'" in lint.stderr


# ---- errors a user can act on ------------------------------------------------------------


def test_missing_bucket_and_key(s3_server, models):
    no_bucket = smpack_s3(s3_server, "info", "s3://no-such-bucket-here/model.tar.gz")
    assert no_bucket.returncode == 3
    assert "bucket 'no-such-bucket-here' does not exist" in no_bucket.stderr
    no_key = smpack_s3(s3_server, "info", url(models, "smpack/nothing.tar.gz"))
    assert no_key.returncode == 3
    assert url(models, "smpack/nothing.tar.gz") + ": no such key" in no_key.stderr


def test_a_wrong_secret_is_refused_and_says_where_the_key_came_from(s3_server, models):
    result = smpack_s3(s3_server, "ls", url(models, "smpack/model.tar.gz"),
                       AWS_SECRET_ACCESS_KEY="not-the-secret")
    assert result.returncode == 3
    assert "SignatureDoesNotMatch" in result.stderr
    assert "credentials from environment variables" in result.stderr


def test_access_denied_names_bucket_and_credential_source(s3_server, models):
    result = smpack_s3(s3_server, "ls", url(models, "smpack/model.tar.gz"),
                       AWS_ACCESS_KEY_ID="AKIAUNKNOWNUNKNOWN00")
    assert result.returncode == 3
    assert "credentials from environment variables" in result.stderr
    assert "InvalidAccessKeyId" in result.stderr


def test_throttling_and_server_errors_are_retried(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("503", times=2)
        proxy.inject("500", times=1)
        result = smpack_s3(s3_server, "info", url(models, "smpack/model.tar.gz"), proxy=proxy)
        assert result.returncode == 0, result.stderr
        assert [r.fault for r in proxy.requests[:4]] == ["503", "503", "500", None]


def test_throttling_that_does_not_end_is_an_error_after_bounded_attempts(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("503", times=100)
        result = smpack_s3(s3_server, "ls", url(models, "smpack/model.tar.gz"), proxy=proxy)
        assert result.returncode == 3
        assert "SlowDown" in result.stderr and "after 5 attempts" in result.stderr
        assert len(proxy.requests) == 5


def test_a_dropped_connection_resumes_the_range(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("drop-mid-body", match=nth(2, "GET"), body_bytes=100_000)
        proxy.inject("drop", match=nth(3, "GET"))
        result = run_smpack("cat", url(models, "smpack/model.tar.gz"), "model.bin", binary=True,
                            env=s3_server.overrides(AWS_ENDPOINT_URL_S3=proxy.endpoint))
        assert result.returncode == 0, result.stderr
        assert result.stdout == (models["model"] / "model.bin").read_bytes()
        assert {"drop-mid-body", "drop"} <= {r.fault for r in proxy.requests}


@pytest.mark.parametrize("fault", ["region-redirect", "region-400"])
def test_a_bucket_in_another_region_is_followed(s3_server, models, fault):
    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject(fault, match=nth(1), region="eu-west-1")
        result = smpack_s3(s3_server, "ls", url(models, "smpack/model.tar.gz"), proxy=proxy)
        assert result.returncode == 0, result.stderr
        assert proxy.requests[0].signing_region == "us-east-1"
        assert all(r.signing_region == "eu-west-1" for r in proxy.requests[1:])


def test_a_region_s3_does_not_name_is_an_error_naming_the_fix(s3_server, models):
    with S3Proxy(s3_server.endpoint) as proxy:
        proxy.inject("region-redirect", times=10, region="")
        result = smpack_s3(s3_server, "ls", url(models, "smpack/model.tar.gz"), proxy=proxy)
        assert result.returncode == 3
        assert "is not in region us-east-1" in result.stderr and "AWS_REGION" in result.stderr


def test_a_malformed_url_is_a_usage_error(s3_server):
    result = smpack_s3(s3_server, "ls", "s3://x/model.tar.gz")
    assert result.returncode == 2
    assert "'x' is not a bucket name" in result.stderr


# ---- credentials, as the AWS CLI finds them ----------------------------------------------


def keyless(server, **extra):
    """The server's environment without the key variables."""
    return server.overrides(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, **extra)


def test_credentials_from_a_profile_in_the_shared_files(s3_server, models, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n"
                           f"[ml]\naws_access_key_id = {s3_server.access_key}\n"
                           f"aws_secret_access_key = {s3_server.secret_key}\n")
    config = tmp_path / "config"
    config.write_text("[profile ml]\nregion = us-east-1\n")
    env = keyless(s3_server, AWS_PROFILE="ml", AWS_SHARED_CREDENTIALS_FILE=str(credentials),
                  AWS_CONFIG_FILE=str(config), AWS_REGION=None)
    result = run_smpack("ls", url(models, "smpack/model.tar.gz"), env=env)
    assert result.returncode == 0, result.stderr
    # The default profile's wrong key is refused, and the message names that profile's file.
    refused = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                         env={**env, "AWS_PROFILE": None})
    assert refused.returncode == 3
    assert f"profile 'default' in {credentials}" in refused.stderr


def test_keys_in_the_config_file_profile(s3_server, models, tmp_path):
    config = tmp_path / "config"
    config.write_text(f"[profile cfg]\naws_access_key_id = {s3_server.access_key}\n"
                      f"aws_secret_access_key = {s3_server.secret_key}\n")
    result = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                        env=keyless(s3_server, AWS_PROFILE="cfg", AWS_CONFIG_FILE=str(config)))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("setting", ["role_arn = arn:aws:iam::123456789012:role/x\n"
                                     "source_profile = default",
                                     "sso_start_url = https://example.awsapps.com/start",
                                     "credential_process = /bin/false"])
def test_profiles_smpack_cannot_use_say_how_to_export(s3_server, models, tmp_path, setting):
    config = tmp_path / "config"
    config.write_text(f"[profile team]\n{setting}\n")
    result = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                        env=keyless(s3_server, AWS_PROFILE="team", AWS_CONFIG_FILE=str(config)))
    assert result.returncode == 2
    assert "profile 'team'" in result.stderr
    assert "aws configure export-credentials --profile team" in result.stderr


def test_a_named_profile_that_does_not_exist(s3_server, models):
    result = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                        env=keyless(s3_server, AWS_PROFILE="missing"))
    assert result.returncode == 2
    assert "AWS profile 'missing'" in result.stderr


def test_no_credentials_anywhere_says_what_was_tried(s3_server, models):
    result = run_smpack("ls", url(models, "smpack/model.tar.gz"), env=keyless(s3_server),
                        timeout=30)
    assert result.returncode == 3
    assert "no AWS credentials" in result.stderr
    assert "AWS_EC2_METADATA_DISABLED" in result.stderr


def test_session_credentials_from_the_environment(s3_server, models):
    creds = s3_server.assume_role()
    result = run_smpack("ls", url(models, "smpack/model.tar.gz"), env=s3_server.overrides(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"]))
    assert result.returncode == 0, result.stderr
    # The token is what makes them valid: without it moto refuses the temporary key.
    without = run_smpack("ls", url(models, "smpack/model.tar.gz"), env=s3_server.overrides(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"]))
    assert without.returncode == 3


def test_container_credentials(s3_server, models):
    creds = s3_server.assume_role()
    with ContainerCredentialsServer(creds["AccessKeyId"], creds["SecretAccessKey"],
                                    creds["SessionToken"], auth_token="task-token") as fake:
        result = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                            env=keyless(s3_server, **fake.env()))
        assert result.returncode == 0, result.stderr
        assert len(fake.requests) == 1
        assert fake.requests[0].headers.get("authorization") == "task-token"


def test_instance_role_through_imdsv2(s3_server, models):
    creds = s3_server.assume_role()
    with InstanceMetadataServer(creds["AccessKeyId"], creds["SecretAccessKey"],
                                creds["SessionToken"]) as fake:
        result = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                            env=keyless(s3_server, **fake.env()))
        assert result.returncode == 0, result.stderr
        assert [r.method for r in fake.requests][0] == "PUT"  # the IMDSv2 session token first
        # AWS_EC2_METADATA_DISABLED keeps smpack from asking at all.
        before = len(fake.requests)
        disabled = run_smpack("ls", url(models, "smpack/model.tar.gz"),
                              env=keyless(s3_server, **{**fake.env(),
                                                          "AWS_EC2_METADATA_DISABLED": "true"}))
        assert disabled.returncode == 3
        assert len(fake.requests) == before


def test_a_local_command_never_looks_for_credentials(tmp_path):
    """No s3:// URL, no credential lookup: a fake IMDS that nobody may call."""
    model = make_model_dir(tmp_path, with_code=True)
    with InstanceMetadataServer("a", "b", "c") as fake:
        result = run_smpack("lint", model, env={"AWS_EC2_METADATA_DISABLED": None, **fake.env()})
        assert result.returncode == 0, result.stderr
        assert fake.requests == []
