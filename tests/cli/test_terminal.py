"""What a person sees: a progress bar and colour on a terminal (a pty here), neither
through a pipe, and no colour with NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess

from conftest import make_model_dir, run_smpack, smpack_bin


def run_on_terminal(*args, env=None) -> bytes:
    """Runs smpack with stderr on a pseudo-terminal; returns what the terminal got."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    for key, value in (env or {}).items():  # None removes a variable, as in run_smpack
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.Popen([str(smpack_bin()), *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=follower, env=full_env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return seen


def test_progress_bar_on_a_terminal_only(tmp_path):
    model = make_model_dir(tmp_path, weights_bytes=8 << 20)
    seen = run_on_terminal("build", model, "-o", tmp_path / "a.tar.gz")
    assert b"\rbuilding [" in seen and b"%" in seen
    piped = run_smpack("build", model, "-o", tmp_path / "b.tar.gz")
    assert piped.returncode == 0
    assert "building [" not in piped.stderr and "\r" not in piped.stderr


def test_errors_are_coloured_on_a_terminal_unless_no_color(tmp_path):
    missing = tmp_path / "missing.tar.gz"
    assert b"\x1b[1;31merror:" in run_on_terminal("ls", missing)
    assert b"\x1b[" not in run_on_terminal("ls", missing, env={"NO_COLOR": "1"})
    piped = run_smpack("ls", missing)
    assert piped.returncode == 3 and "\x1b[" not in piped.stderr and "error:" in piped.stderr


def test_quiet_suppresses_the_progress_bar(tmp_path):
    model = make_model_dir(tmp_path, weights_bytes=8 << 20)
    assert b"building [" not in run_on_terminal("-q", "build", model, "-o", tmp_path / "a.tar.gz")


def test_lint_and_extract_draw_the_progress_bar_on_a_terminal(tmp_path):
    model = make_model_dir(tmp_path, weights_bytes=8 << 20)
    archive = tmp_path / "gnu.tar.gz"
    subprocess.run(["tar", "czf", archive, "-C", model, "."], check=True)
    assert b"\rlinting [" in run_on_terminal("lint", archive)
    assert b"\rextracting [" in run_on_terminal("extract", archive, "-C", tmp_path / "out")
    piped = run_smpack("lint", archive)
    assert "linting [" not in piped.stderr and "\r" not in piped.stderr
