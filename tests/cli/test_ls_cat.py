"""smpack ls and cat on smpack archives and directories: order, long listing, JSON, exact
bytes, missing members."""

from __future__ import annotations

import json

import pytest

from conftest import run_smpack, sha256_hex
from archive_fixtures import EXIT_BAD_INPUT, EXIT_OK, built, expected_entries

# ----------------------------------------------------------------------------
# ls, cat, info, digest
# ----------------------------------------------------------------------------


def test_ls_lists_members_in_archive_order(built):
    result = run_smpack("ls", built.archive)
    assert result.returncode == EXIT_OK and result.stderr == ""
    assert result.stdout.splitlines() == [e["path"] for e in built.entries]


def test_ls_long_shows_type_mode_size(built):
    result = run_smpack("ls", "-l", built.archive)
    assert result.returncode == EXIT_OK
    rows = [line.split(maxsplit=3) for line in result.stdout.splitlines()]
    assert rows == [[e["type"], f"{e['mode']:04o}", str(e["size"]), e["path"]] for e in built.entries]


def test_ls_json_carries_the_sha256_of_every_file(built):
    result = run_smpack("ls", "--json", built.archive)
    assert result.returncode == EXIT_OK
    doc = json.loads(result.stdout)
    got = [(d["path"], d["type"], d["mode"], d["size"], d.get("sha256", "")) for d in doc]
    want = [(e["path"], e["type"], f"{e['mode']:04o}", e["size"], e["sha256"]) for e in built.entries]
    assert got == want


def test_ls_of_a_directory_lists_what_build_would_store(built):
    result = run_smpack("ls", built.src)
    assert result.returncode == EXIT_OK
    assert result.stdout.splitlines() == [e["path"] for e in expected_entries(built.src, None)]


def test_cat_writes_exact_bytes_of_each_file(built):
    for entry in built.entries:
        if entry["type"] != "file":
            continue
        result = run_smpack("cat", built.archive, entry["path"], binary=True)
        assert result.returncode == EXIT_OK and result.stderr == b""
        assert sha256_hex(result.stdout) == entry["sha256"], entry["path"]


@pytest.mark.parametrize("member", ["no/such/file", "tokenizer"])
def test_cat_of_a_missing_or_non_file_member_exits_3(built, member):
    result = run_smpack("cat", built.archive, member)
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert f"no file member '{member}'" in result.stderr
