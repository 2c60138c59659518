"""smpack digest: SHA-256, the content digest and the S3 multipart ETag, against hashlib."""

from __future__ import annotations

import json

from conftest import build_archive, make_model_dir, run_smpack, sha256_hex
from archive_fixtures import EXIT_OK, EXIT_USAGE, built, s3_etag

def test_digest_prints_sha256_and_content_digest(built):
    data = built.archive.read_bytes()
    result = run_smpack("digest", built.archive)
    assert result.returncode == EXIT_OK and result.stderr == ""
    assert result.stdout.splitlines() == [f"sha256          {sha256_hex(data)}",
                                          f"content-digest  {built.digest}"]


def test_digest_s3_etag_single_and_multipart(tmp_path):
    # Float32 weights barely compress, so a 12 MiB model gives an archive of 3 parts of 5 MiB.
    src = make_model_dir(tmp_path, weights_bytes=12 << 20)
    archive = build_archive(src, tmp_path / "big.tar.gz")
    data = archive.read_bytes()
    assert len(data) > 10 << 20
    # The AWS CLI's units (human_readable_to_bytes): powers of 1024 in any case, so "8MB" is
    # its default multipart chunk size of 8 MiB, the ETag S3 shows after `aws s3 cp`.
    for part_text, part in [("5MiB", 5 << 20), ("16MiB", 16 << 20), ("5242880", 5242880),
                            ("8MB", 8 << 20), ("8mb", 8 << 20), ("6MIB", 6 << 20),
                            ("5120KB", 5 << 20)]:
        result = run_smpack("digest", "--json", "--s3-etag", part_text, archive)
        assert result.returncode == EXIT_OK, result.stderr
        doc = json.loads(result.stdout)
        assert doc["s3_etag"] == s3_etag(data, part) and doc["s3_part_size"] == part
    assert s3_etag(data, 5 << 20).endswith("-3")
    for bad in ["1MiB", "6GiB", "8M", "8 MB", "MB", "-8MB", "8.5MB"]:
        result = run_smpack("digest", "--s3-etag", bad, archive)
        assert result.returncode == EXIT_USAGE, bad
        assert result.stdout == ""
