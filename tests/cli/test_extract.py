"""smpack extract: the source tree back, unsafe members refused or skipped, mode bits
dropped, inner symlinks kept."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path

import pytest

from conftest import TarEntry, hostile_member_cases, run_smpack, tree_contents, write_tar
from archive_fixtures import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, built, expected_tree

# ----------------------------------------------------------------------------
# extract
# ----------------------------------------------------------------------------


def test_extract_reproduces_the_source_tree(built, tmp_path):
    dest = tmp_path / "dest"
    result = run_smpack("extract", built.archive, "-C", dest)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == ""
    files = sum(1 for e in built.entries if e["type"] == "file")
    assert result.stdout.startswith(f"{files} files, {len(built.entries) - files} directories")
    assert tree_contents(dest) == expected_tree(built.src, built.code)
    for entry in built.entries:
        assert stat.S_IMODE((dest / entry["path"]).stat().st_mode) == entry["mode"], entry["path"]


HOSTILE_NAMES = list(hostile_member_cases(Path("/x")))


def _hostile_setup(tmp_path: Path, case: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret\n")
    entries, refused, phrase, _rule = hostile_member_cases(outside)[case]
    archive = write_tar(tmp_path / "hostile.tar.gz",
                        [TarEntry("ok.txt", b"ok\n"), *entries, TarEntry("z_after.txt", b"after\n")])
    return archive, outside, refused, phrase


def _assert_nothing_escaped(tmp_path: Path, outside: Path):
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_text() == "secret\n"
    assert sorted(os.listdir(tmp_path)) == ["dest", "hostile.tar.gz", "outside"]
    assert not Path("/evil.txt").exists()


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_extract_refuses_unsafe_members(tmp_path, case):
    archive, outside, refused, phrase = _hostile_setup(tmp_path, case)
    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert f"refusing to extract member '{refused}'" in result.stderr and phrase in result.stderr
    assert result.stdout == ""
    _assert_nothing_escaped(tmp_path, outside)
    assert not (dest / "z_after.txt").exists(), "extraction stops at the first unsafe member"


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_extract_skip_unsafe_extracts_the_rest_and_exits_1(tmp_path, case):
    archive, outside, refused, phrase = _hostile_setup(tmp_path, case)
    dest = tmp_path / "dest"
    result = run_smpack("extract", "--skip-unsafe", archive, "-C", dest)
    assert result.returncode == EXIT_FINDINGS, result.stderr
    assert f"skipped member '{refused}'" in result.stderr and phrase in result.stderr
    _assert_nothing_escaped(tmp_path, outside)
    assert (dest / "ok.txt").read_text() == "ok\n"
    assert (dest / "z_after.txt").read_text() == "after\n"
    assert not (dest / refused).exists() and not (dest / refused).is_symlink()
    for path in dest.rglob("*"):  # every link left behind resolves inside the destination
        if path.is_symlink():
            assert Path(os.path.realpath(path)).is_relative_to(dest.resolve()), path


def test_extract_drops_setuid_setgid_and_sticky_bits(tmp_path):
    archive = write_tar(tmp_path / "modes.tar.gz", [
        TarEntry("suid.sh", b"#!/bin/sh\n", mode=0o4755),
        TarEntry("sgid.sh", b"#!/bin/sh\n", mode=0o2755),
        TarEntry("sticky", type=tarfile.DIRTYPE, mode=0o1777),
    ])
    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == EXIT_OK, result.stderr
    for name in ["suid.sh", "sgid.sh", "sticky"]:
        mode = (dest / name).stat().st_mode
        assert mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX) == 0, (name, oct(mode))
    assert stat.S_IMODE((dest / "suid.sh").stat().st_mode) & 0o111


def test_extract_keeps_symlinks_that_stay_inside(tmp_path):
    archive = write_tar(tmp_path / "links.tar.gz", [
        TarEntry("weights/model.bin", b"w"),
        TarEntry("sub/lnk", type=tarfile.SYMTYPE, linkname="../weights/model.bin"),
    ])
    dest = tmp_path / "dest"
    result = run_smpack("extract", archive, "-C", dest)
    assert result.returncode == EXIT_OK, result.stderr
    assert os.readlink(dest / "sub" / "lnk") == "../weights/model.bin"
    assert (dest / "sub" / "lnk").read_bytes() == b"w"


def test_extract_refuses_to_replace_what_was_there_unless_overwrite(built, tmp_path):
    dest = tmp_path / "dest"
    (dest / "code").mkdir(parents=True)
    (dest / "code" / "inference.py").write_text("mine\n")
    (dest / "keep.txt").write_text("untouched\n")
    refused = run_smpack("extract", built.archive, "-C", dest)
    assert refused.returncode == EXIT_BAD_INPUT, refused.stderr
    assert "code/inference.py" in refused.stderr and "--overwrite" in refused.stderr
    assert (dest / "code" / "inference.py").read_text() == "mine\n"
    replaced = run_smpack("extract", built.archive, "-C", dest, "--overwrite")
    assert replaced.returncode == EXIT_OK, replaced.stderr
    assert (dest / "code" / "inference.py").read_bytes() == (built.code / "inference.py").read_bytes()
    assert (dest / "keep.txt").read_text() == "untouched\n"


def test_extract_keeps_the_last_copy_of_a_member_stored_twice(tmp_path):
    archive = tmp_path / "twice.tar"
    write_tar(archive, [TarEntry("a.txt", b"first"), TarEntry("a.txt", b"second")])
    result = run_smpack("extract", archive, "-C", tmp_path / "out")
    assert result.returncode == EXIT_OK, result.stderr
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"second"
