"""Member names are the archive author's bytes. Every command that prints one shows it
through one escaper: no control byte (ESC, BEL, CR, C1 CSI), no invalid UTF-8 and no
lone backslash reaches a terminal from text output, errors or warnings; JSON carries
valid JSON."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from conftest import run_smpack

HOSTILE = [
    "title\x1b]0;owned\x07.txt",          # retitles an xterm, rings the bell
    "clear\x1b[2J\rforged: OK.txt",      # clears the screen, overwrites the line
    "csi\u009b31m.txt",                   # C1 CSI (U+009B) in UTF-8
    "bad-utf8-\udcff\udcfe.txt",         # bytes 0xff 0xfe: not UTF-8
]


def hostile_tar(path, extra=()):
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tar:
        for name in [*HOSTILE, *extra]:
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"data"))
    return path


def assert_terminal_safe(data: bytes, what: str):
    text = data.decode("utf-8")  # raises on invalid UTF-8
    for ch in text:
        code = ord(ch)
        assert ch == "\n" or not (code < 0x20 or code == 0x7f or 0x80 <= code < 0xa0), (what, text)
    for name in ("owned\x07", "\x1b[2J"):
        assert name not in text, (what, text)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return hostile_tar(tmp_path_factory.mktemp("escaping") / "hostile.tar.gz")


@pytest.mark.parametrize("args", [
    ["ls", "{a}"], ["ls", "-l", "{a}"], ["info", "{a}"], ["lint", "{a}"], ["verify", "{a}"],
    ["diff", "{a}", "{b}"], ["cat", "{a}", "no\x1b[2Jsuch"], ["extract", "{a}", "-C", "{out}", "--skip-unsafe"],
], ids=lambda a: "-".join(p for p in a if not p.startswith("{") and "\x1b" not in p))
def test_text_output_and_messages_are_terminal_safe(archive, tmp_path, args):
    other = hostile_tar(tmp_path / "other.tar.gz", extra=["new\x1b[1m.txt"])
    argv = [a.format(a=archive, b=other, out=tmp_path / "out") for a in args]
    result = run_smpack(*argv, binary=True)
    assert result.returncode in (0, 1, 3), result.stderr
    assert_terminal_safe(result.stdout, "stdout")
    assert_terminal_safe(result.stderr, "stderr")


def test_the_escaped_names_are_still_told_apart(archive):
    listing = run_smpack("ls", archive).stdout.splitlines()
    assert "title\\x1b]0;owned\\x07.txt" in listing
    assert "bad-utf8-\\xff\\xfe.txt" in listing
    assert "csi\\xc2\\x9b31m.txt" in listing


def test_json_carries_the_names_as_valid_json(archive):
    """JSON cannot carry bytes that are not UTF-8: each becomes U+FFFD; the rest is exact."""
    for command in (["ls", archive, "--json"], ["info", archive, "--json"], ["lint", archive, "--json"]):
        result = run_smpack(*command, binary=True)
        assert result.returncode == 0, (command, result.stderr)
        json.loads(result.stdout.decode("utf-8"))
    names = [m["path"] for m in json.loads(run_smpack("ls", archive, "--json").stdout)]
    assert "title\x1b]0;owned\x07.txt" in names
    assert "bad-utf8-\ufffd\ufffd.txt" in names


def test_a_backslash_name_refused_as_ambiguous_is_named_safely(tmp_path):
    """A backslash is one file to GNU tar and a folder separator to smpack's names: the
    archive is refused (archive-ambiguous), and the name in the message is escaped."""
    archive = hostile_tar(tmp_path / "backslash.tar.gz", extra=["back\\slash\x1b[2J.txt"])
    for command in (["ls", archive], ["lint", archive]):
        result = run_smpack(*command, binary=True)
        assert result.returncode == 3
        assert_terminal_safe(result.stderr, "stderr")
        assert b"back\\x5cslash\\x1b[2J.txt" in result.stderr and b"archive-ambiguous" in result.stderr


def test_an_unsafe_member_refused_by_extract_is_named_safely(tmp_path):
    archive = hostile_tar(tmp_path / "traversal.tar.gz", extra=["../\x1b[2Jescape.txt"])
    result = run_smpack("extract", archive, "-C", tmp_path / "out", binary=True)
    assert result.returncode == 3
    assert_terminal_safe(result.stderr, "stderr")
    assert b"../\\x1b[2Jescape.txt" in result.stderr
