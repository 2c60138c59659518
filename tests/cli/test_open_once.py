"""Every command opens its input once and reads the smpack index at most once: the
choice between a directory, an indexed archive and a streamed archive is made in one
place (smpack::Artifact), which holds the file open for the whole command. Counted
with strace, on an smpack archive and on a GNU tar archive."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import build_archive, make_model_dir, run_smpack_traced

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")

TRAILER_BYTES = 66  # docs/format.md: the trailer member


def traced(tmp_path, *args):
    """(opens of any *.tar.gz, preads of the trailer) during `smpack ARGS`."""
    log = tmp_path / "strace.log"
    run_smpack_traced(log, "openat,open,pread64", *args)
    text = log.read_text()
    opens = len(re.findall(r'open(?:at)?\([^"]*"[^"]*\.tar\.gz"', text))
    return opens, text


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    root = tmp_path_factory.mktemp("open-once")
    model = make_model_dir(root, weights_bytes=4 << 20, with_code=True)
    smpack_archive = build_archive(model, root / "model.tar.gz")
    gnu = root / "gnu.tar.gz"
    subprocess.run(["tar", "czf", gnu, "-C", model, "."], check=True)
    return root, smpack_archive, gnu


COMMANDS = [
    ["ls", "-l", "{a}"],
    ["cat", "{a}", "code/inference.py"],
    ["info", "{a}"],
    ["lint", "{a}"],
    ["verify", "{a}"],
    ["digest", "{a}", "--s3-etag", "8MiB"],
    ["repack-check", "{a}"],
    ["extract", "{a}", "-C", "{out}"],
    ["diff", "{a}", "{model}"],
]


@pytest.mark.parametrize("kind", ["smpack", "gnu"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_each_command_opens_its_input_once(archives, tmp_path, kind, command):
    root, smpack_archive, gnu = archives
    archive = smpack_archive if kind == "smpack" else gnu
    args = [a.format(a=archive, out=tmp_path / "out", model=root / "model") for a in command]
    opens, text = traced(tmp_path, *args)
    assert opens == 1, f"{command[0]} opened {archive.name} {opens} times:\n" + "\n".join(
        line for line in text.splitlines() if ".tar.gz" in line)
    if kind == "smpack":
        size = archive.stat().st_size
        trailer_reads = len(re.findall(rf"pread64\(\d+, .*, {TRAILER_BYTES}, {size - TRAILER_BYTES}\)", text))
        assert trailer_reads == 1, f"{command[0]} read the index trailer {trailer_reads} times"


def test_diff_of_two_archives_opens_each_once(archives, tmp_path):
    _, smpack_archive, gnu = archives
    opens, _ = traced(tmp_path, "diff", smpack_archive, gnu)
    assert opens == 2
