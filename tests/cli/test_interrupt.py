"""Ctrl-C: every command that reads or writes data polls one cancellation token, stops
with exit 130 and cleans up within 2 s. The process is stopped (SIGSTOP) while it works,
sent SIGINT and continued, so the signal lands mid-work however fast the machine is."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time

import pytest

from conftest import (SYSTEM_PYTHON, build_archive, generate_weights, make_model_dir,
                      python_module_dir, smpack_bin, write_files)

EXIT_INTERRUPTED = 130


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    model = make_model_dir(root, weights_bytes=1 << 20, with_code=True)
    # A second, large weight file after a small one, in a foreign archive (read front to back).
    write_files(model, {"a-small.txt": b"small", "z-large.bin": generate_weights(96 << 20)})
    gnu = root / "gnu.tar.gz"
    subprocess.run(["tar", "-c", "-I", "gzip -1", "-f", gnu, "-C", model, "a-small.txt",
                    "z-large.bin", "config.json"], check=True)
    smpack_archive = build_archive(model, root / "model.tar.gz", "--level", "0")
    return root, model, gnu, smpack_archive


def io_counter(pid, field):
    try:
        with open(f"/proc/{pid}/io") as io:
            return next(int(line.split()[1]) for line in io if line.startswith(field + ":"))
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        return None


def interrupt(args, cwd, field="rchar", threshold=8 << 20):
    """Runs smpack ARGS and, once it has moved `threshold` bytes (/proc/PID/io `field`),
    interrupts it; (exit code, stderr, seconds from SIGINT to exit)."""
    process = subprocess.Popen([smpack_bin(), *map(str, args)], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        moved = io_counter(process.pid, field)
        if moved is not None and moved >= threshold:
            break
        time.sleep(0.0005)
    os.kill(process.pid, signal.SIGSTOP)
    assert process.poll() is None, f"{args[0]} finished before it could be interrupted"
    os.kill(process.pid, signal.SIGINT)
    started = time.monotonic()
    os.kill(process.pid, signal.SIGCONT)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr, time.monotonic() - started


@pytest.mark.parametrize("command", [
    ["lint", "{gnu}"], ["info", "{gnu}"], ["ls", "{gnu}"], ["verify", "{gnu}"],
    ["digest", "{gnu}"], ["cat", "{gnu}", "z-large.bin"], ["diff", "{gnu}", "{smpack}"],
    ["cat", "{smpack}", "z-large.bin"], ["verify", "{smpack}"], ["digest", "{model}"],
], ids=lambda c: "-".join(part.strip("{}") for part in c))
def test_reading_commands_stop_with_130(inputs, tmp_path, command):
    root, model, gnu, smpack_archive = inputs
    args = [a.format(gnu=gnu, smpack=smpack_archive, model=model) for a in command]
    code, stderr, seconds = interrupt(args, tmp_path)
    assert code == EXIT_INTERRUPTED, stderr
    assert "interrupted" in stderr
    assert seconds < 2, f"{command[0]} took {seconds:.2f} s to stop"


def test_extract_keeps_finished_members_and_removes_the_one_it_was_writing(inputs, tmp_path):
    _, _, gnu, _ = inputs
    out = tmp_path / "out"
    code, stderr, seconds = interrupt(["extract", gnu, "-C", out], tmp_path, field="wchar")
    assert code == EXIT_INTERRUPTED, stderr
    assert seconds < 2
    assert (out / "a-small.txt").read_bytes() == b"small"
    assert not (out / "z-large.bin").exists(), "the member being written was left behind"
    assert "the partly written 'z-large.bin' was removed" in stderr
    assert "file(s) extracted before it are kept" in stderr


def test_build_leaves_no_output_behind(inputs, tmp_path):
    _, model, _, _ = inputs
    out = tmp_path / "interrupted.tar.gz"
    code, stderr, _ = interrupt(["build", model, "-o", out, "--level", "9", "--threads", "1"],
                                tmp_path, field="wchar", threshold=1 << 20)
    assert code == EXIT_INTERRUPTED, stderr
    assert os.listdir(tmp_path) == [], os.listdir(tmp_path)


def test_python_calls_raise_keyboard_interrupt_promptly(inputs, tmp_path):
    """The module runs each call on a worker thread and checks for Ctrl-C every 50 ms."""
    _, model, gnu, _ = inputs
    script = textwrap.dedent(f"""
        import sys, time, smpack
        try:
            smpack.{{call}}
        except KeyboardInterrupt:
            print("KeyboardInterrupt", flush=True)
            sys.exit(0)
        print("finished", flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=str(python_module_dir()))
    for call in (f'lint("{gnu}")', f'info("{gnu}")', f'digest("{model}")',
                 f'build("{model}", "{tmp_path}/py.tar.gz", level=9, threads=1, lint=False)'):
        process = subprocess.Popen([SYSTEM_PYTHON, "-c", script.replace("{call}", call)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            moved = io_counter(process.pid, "rchar")
            if moved is not None and moved >= 40 << 20:  # past the interpreter's own start-up
                break
            time.sleep(0.0005)
        assert process.poll() is None, f"{call} finished before it could be interrupted"
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        seconds = time.monotonic() - started
        assert out.strip() == "KeyboardInterrupt", (call, out, err)
        assert seconds < 2, f"{call} took {seconds:.2f} s to stop"
    assert not (tmp_path / "py.tar.gz").exists()
