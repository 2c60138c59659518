"""Shared helpers for the CLI tests: run the real `smpack` binary, make model
directories with generated weights, and write tar archives (hostile ones included)
at test time.

ctest sets SMPACK_BIN; when it is unset (pytest run by hand) the binary is looked up
in $SMPACK_BUILD_DIR, then in <source>/build.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import pickle
import re
import struct
import subprocess
import tarfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SOURCE_DIR = Path(os.environ.get("SMPACK_SOURCE_DIR", Path(__file__).resolve().parents[2]))

DEFAULT_INFERENCE_PY = (
    "import torch\n\n\n"
    "def model_fn(model_dir):\n"
    "    return torch.jit.load(model_dir + '/model.pt')\n"
)
DEFAULT_REQUIREMENTS = "numpy>=1.24\n"


def smpack_bin() -> Path:
    if "SMPACK_BIN" in os.environ:
        return Path(os.environ["SMPACK_BIN"])
    build_dir = Path(os.environ.get("SMPACK_BUILD_DIR", SOURCE_DIR / "build"))
    return build_dir / "tools" / "smpack" / "smpack"


def run_smpack(
    *args: str | os.PathLike,
    env: dict[str, str] | None = None,
    binary: bool = False,
    timeout: float = 120,
    wrapper: list[str | os.PathLike] = (),
    **kw,
) -> subprocess.CompletedProcess:
    """Runs `smpack ARGS...` and captures stdout, stderr and the exit code.

    `env` entries are added to (not substituted for) the current environment;
    a value of None removes that variable. `binary=True` keeps stdout/stderr as
    bytes (for `cat` of weights). `wrapper` is a command line that runs smpack
    (strace). Other keywords go to subprocess.run.
    """
    full_env = dict(os.environ)
    full_env.pop("SOURCE_DATE_EPOCH", None)  # tests opt in explicitly
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return subprocess.run(
        [*map(str, wrapper), str(smpack_bin()), *map(str, args)],
        capture_output=True,
        text=not binary,
        env=full_env,
        timeout=timeout,
        **kw,
    )


def run_smpack_traced(log: Path, syscalls: str, *args: str | os.PathLike,
                      **kw) -> subprocess.CompletedProcess:
    """`smpack ARGS` under strace -f, which writes the calls in `syscalls` to `log`.
    LeakSanitizer cannot run under ptrace, so a sanitizer build runs without it."""
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    strace = ["strace", "-f", "-qq", "-e", f"trace={syscalls}", "-o", log]
    return run_smpack(*args, env={"ASAN_OPTIONS": asan}, wrapper=strace, **kw)


# The calls to trace for disk_handoffs.
HANDOFF_CALLS = "openat,pwrite64,sync_file_range"


def takes_direct_writes(directory: Path) -> bool:
    """Whether `directory`'s file system takes O_DIRECT writes, which smpack's durable
    outputs use where it does."""
    probe = directory / ".direct-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)
    except OSError:
        return False
    try:
        os.pwrite(fd, mmap.mmap(-1, 4096), 0)  # an anonymous map is page-aligned
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
        probe.unlink()


def disk_handoffs(log: Path, directory: Path) -> int:
    """How many times a traced command (HANDOFF_CALLS) handed an output in `directory` to
    the disk while writing it: writes through a descriptor opened with O_DIRECT where the
    file system takes those, else sync_file_range calls."""
    text = log.read_text()
    if not takes_direct_writes(directory):
        return len(re.findall(r"\bsync_file_range\(", text))
    direct = set(re.findall(r'openat\(.*, ".*", [^)]*O_DIRECT\b[^)]*\) = (\d+)$', text, re.MULTILINE))
    return sum(fd in direct for fd in re.findall(r"\bpwrite64\((\d+), ", text))


# A stand-in for a weight file under a pickle-loader name (model.pt, model.joblib): a
# pickle of an empty dict, which torch's weights_only allowlist accepts. Other content
# under such a name is refused as weights-unknown-format.
STAND_IN_PICKLE = pickle.dumps({}, protocol=2)


def generate_weights(nbytes: int, dtype: str = "float32", seed: int = 0) -> bytes:
    """A safetensors file of about `nbytes`: one tensor of normal-distributed float32,
    or bfloat16 (the top 16 bits of float32 normals), the way real checkpoints look to
    a compressor. A weight file in a fixture is a real format: smpack refuses unknown
    content under a name such as model.bin that a loader would unpickle."""
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        data = rng.standard_normal(nbytes // 4, dtype=np.float32).tobytes()
        name, count = "F32", nbytes // 4
    elif dtype == "bfloat16":
        values = rng.standard_normal(nbytes // 2, dtype=np.float32)
        data = (values.view(np.uint32) >> 16).astype(np.uint16).tobytes()
        name, count = "BF16", nbytes // 2
    else:
        raise ValueError(f"unknown dtype {dtype!r}")
    header = json.dumps({"weight": {"dtype": name, "shape": [count],
                                    "data_offsets": [0, len(data)]}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + data


def write_files(root: Path, files: dict[str, bytes | str]) -> None:
    """Writes `files` (relative path -> content) under root, making parents."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def make_model_dir(
    tmp_path: Path,
    name: str = "model",
    weights_bytes: int = 2 << 20,
    dtype: str = "float32",
    seed: int = 0,
    with_code: bool = False,
    extra: dict[str, bytes | str] | None = None,
) -> Path:
    """A model directory: model.bin (generated weights), config.json and
    tokenizer/vocab.txt; code/inference.py + code/requirements.txt when
    with_code; `extra` adds or overrides files. Returns its path."""
    root = tmp_path / name
    root.mkdir(parents=True)
    files: dict[str, bytes | str] = {
        "model.bin": generate_weights(weights_bytes, dtype, seed),
        "config.json": '{"hidden_size": 64, "architectures": ["TinyModel"]}\n',
        "tokenizer/vocab.txt": "".join(f"token{i}\n" for i in range(100)),
    }
    if with_code:
        files["code/inference.py"] = DEFAULT_INFERENCE_PY
        files["code/requirements.txt"] = DEFAULT_REQUIREMENTS
    files.update(extra or {})
    write_files(root, files)
    return root


def make_code_dir(tmp_path: Path, name: str = "code") -> Path:
    """A code directory (inference.py, requirements.txt) for `build --code`."""
    root = tmp_path / name
    root.mkdir(parents=True)
    write_files(root, {"inference.py": DEFAULT_INFERENCE_PY, "requirements.txt": DEFAULT_REQUIREMENTS})
    return root


def build_archive(src: Path, out: Path, *args: str | os.PathLike, env=None) -> Path:
    """`smpack build SRC -o OUT ARGS...`, asserting that it succeeds."""
    result = run_smpack("build", src, "-o", out, *args, env=env)
    assert result.returncode == 0, result.stderr
    return out


def tree_contents(root: Path) -> dict[str, bytes | None]:
    """Relative path -> bytes for files, None for directories (symlinks not followed)."""
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = None if path.is_dir() and not path.is_symlink() else path.read_bytes()
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class TarEntry:
    """One member for write_tar. `type` is a tarfile type constant."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    mode: int = 0o644
    linkname: str = ""
    mtime: int = 315532800


def write_tar(
    path: Path, entries: list[TarEntry], fmt: int = tarfile.PAX_FORMAT, compression: str = "gz"
) -> Path:
    """Writes entries verbatim (no sanitising, so hostile names stay hostile)
    with Python's tarfile; compression is "gz", "xz", "bz2" or "" (plain tar)."""
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(path, mode, format=fmt) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = entry.type
            info.mode = entry.mode
            info.mtime = entry.mtime
            info.linkname = entry.linkname
            if entry.type == tarfile.REGTYPE:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                tar.addfile(info)
    return path


def hostile_member_cases(outside: Path) -> dict[str, tuple[list[TarEntry], str, str, str]]:
    """name -> (entries, the member refused, a phrase the message must contain, the lint
    rule that reports it). `outside` is a directory beside the extraction target."""
    link, hard = tarfile.SYMTYPE, tarfile.LNKTYPE
    escape = "archive-link-escape"
    return {
        "dotdot": ([TarEntry("../evil.txt", b"x")], "../evil.txt", "'..'", "archive-path-traversal"),
        "nested-dotdot": ([TarEntry("sub/../../evil.txt", b"x")], "sub/../../evil.txt", "'..'",
                          "archive-path-traversal"),
        "absolute": ([TarEntry(f"{outside}/evil.txt", b"x")], f"{outside}/evil.txt", "absolute",
                     "archive-absolute-path"),
        "symlink-absolute": ([TarEntry("lnk", type=link, linkname=str(outside))], "lnk", "outside", escape),
        "symlink-relative": ([TarEntry("sub/lnk", type=link, linkname="../../outside")], "sub/lnk",
                             "outside", escape),
        # A string-prefix check would take "../dest-evil" for a path inside "dest".
        "symlink-prefix-sibling": ([TarEntry("lnk", type=link, linkname="../dest-evil")], "lnk",
                                   "outside", escape),
        "write-through-absolute-symlink": (
            [TarEntry("a", type=link, linkname=str(outside)), TarEntry("a/evil.txt", b"x")], "a",
            "outside", escape),
        "write-through-dotdot-symlink": (
            [TarEntry("a", type=link, linkname=".."), TarEntry("a/evil.txt", b"x")], "a", "outside",
            escape),
        "hardlink-absolute": ([TarEntry("h", type=hard, linkname=f"{outside}/secret")], "h", "outside",
                              escape),
        "hardlink-relative": ([TarEntry("h", type=hard, linkname="../outside/secret")], "h", "outside",
                              escape),
        # By name `e` stays inside (s/s/s/../../.. is the root); on disk s/s/s is the root
        # itself, so the three '..' climb above it.
        "symlink-through-symlink": (
            [TarEntry("s", type=link, linkname="."),
             TarEntry("e", type=link, linkname="s/s/s/../../../outside/secret")], "e",
            "walks through the symlink 's'", escape),
        # A symlink replaces the folder `d`; a hard link through it reaches the file beside
        # the target that its name says is inside.
        "hardlink-through-replacing-symlink": (
            [TarEntry("d", type=tarfile.DIRTYPE, mode=0o755), TarEntry("d", type=link, linkname="."),
             TarEntry("h", type=hard, linkname="d/../outside/secret")], "h",
            "walks through the symlink 'd'", escape),
        # `e` is judged before `s` is a link: the symlink made later where e's target walks
        # is what moves it outside.
        "symlink-made-where-a-target-walked": (
            [TarEntry("e", type=link, linkname="s/s/../../outside/secret"),
             TarEntry("s", type=link, linkname=".")], "s", "walks", escape),
        # GNU tar makes a hard link to a symlink a second symlink.
        "hardlink-to-a-symlink": (
            [TarEntry("s", type=link, linkname="ok.txt"), TarEntry("h", type=hard, linkname="s")],
            "h", "hard link to the symlink", escape),
        "char-device": ([TarEntry("null", type=tarfile.CHRTYPE)], "null", "never extracted",
                        "archive-special-file"),
        "block-device": ([TarEntry("sda", type=tarfile.BLKTYPE)], "sda", "never extracted",
                         "archive-special-file"),
        "fifo": ([TarEntry("pipe", type=tarfile.FIFOTYPE)], "pipe", "never extracted",
                 "archive-special-file"),
    }


@pytest.fixture(scope="session", autouse=True)
def _smpack_binary_exists():
    if not smpack_bin().is_file():
        pytest.exit(f"smpack binary not found at {smpack_bin()} (set SMPACK_BIN)", returncode=2)


# ---- the Python module ------------------------------------------------------------------

BUILD_DIR = Path(os.environ.get("SMPACK_BUILD_DIR", SOURCE_DIR / "build"))
# The module is built against Debian's Python (python3-dev), with Debian's torch beside it.
SYSTEM_PYTHON = "/usr/bin/python3"


def python_module_dir() -> Path:
    directory = BUILD_DIR / "python"
    if not list(directory.glob("smpack*.so")):
        pytest.skip("the Python module is not built (SMPACK_PYTHON=OFF or no pybind11)")
    return directory


def run_python(script: str, cwd: Path, module_dir: Path | None = None,
               interpreter: str = SYSTEM_PYTHON,
               env_changes: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """Runs `script` with the built module importable; `env_changes` as run_smpack's env."""
    env = dict(os.environ, PYTHONPATH=str(module_dir or python_module_dir()))
    env.pop("SOURCE_DATE_EPOCH", None)
    for key, value in (env_changes or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([interpreter, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


# ---- the CLI's own description of itself ------------------------------------------------

def visible_commands() -> list[str]:
    help_text = run_smpack("--help").stdout
    section = help_text.split("Subcommands:", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


def help_options(command: str) -> set[str]:
    help_text = run_smpack(command, "--help").stdout
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help_text.split("Options:", 1)[1]))


@pytest.fixture(scope="session", autouse=True)
def _nothing_reaches_aws():
    """Every smpack (and Python module) run in the suite inherits an environment that can
    reach no AWS address: the host's AWS_* variables are dropped, the instance metadata
    service is never asked, the shared files point nowhere, and the default S3 endpoint
    is a closed loopback port. S3 tests name their loopback server explicitly."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.upper().startswith("AWS_")]:
        del os.environ[key]
    os.environ.update({
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    })
    yield
    os.environ.clear()
    os.environ.update(saved)
