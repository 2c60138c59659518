#!/usr/bin/env python3
"""smpack's verdicts on hostile and benign weight files next to three peer scanners:
picklescan, fickling and ModelAudit (promptfoo).

The corpus is built at run time in a temporary directory: the pickle cases of
tests/cli/test_weights_oracles.py (`make_pickle_cases`) and, where tests/cli/bypass_corpus.py
exists, its `make_bypass_cases` (objects with `name`, `path`, `expect` "unsafe"/"safe",
`note`). Each file is also put alone in a directory named after its case and, alone at the
root, into a `model.tar.gz`. Then:

  - smpack: `smpack lint DIR --format json` and `smpack lint model.tar.gz --format json`,
    one process per target; unsafe = an error-level finding whose rule starts with
    `weights-` or `archive-`, or exit 3 (input refused);
  - picklescan and fickling: the test module's `picklescan_verdict` and `fickling_verdict`
    on the bare file; unsafe = what fails each tool's own CLI gate (picklescan: a dangerous
    global, exit 1; fickling `--check-safety`: any severity above LIKELY_SAFE);
  - ModelAudit: one `modelaudit scan --format json` process over every bare file and
    every model.tar.gz; unsafe = a WARNING or CRITICAL issue (its exit 1), error = an
    operational error or an inconclusive scan of that file (its exit 2).

ModelAudit's PostHog telemetry is switched off (PROMPTFOO_DISABLE_TELEMETRY=1, checked by
`TelemetryClient._is_disabled` in modelaudit/telemetry.py; NO_ANALYTICS=1 too), so are
huggingface_hub's (HF_HUB_OFFLINE=1, HF_HUB_DISABLE_TELEMETRY=1), its HOME is the
temporary directory (it writes a promptfoo.yaml with a user id there), and where
`unshare -rn true` works it runs in a new network namespace with only loopback.

Expected verdicts of the pickle cases come from their smpack verdict in the test module:
dangerous -> unsafe, weights_only -> safe, unknown_code -> code (benign, but loading it
imports code outside torch's weights_only allowlist: counted apart, neither a miss nor a
false alarm).

Prints a markdown table, a summary per tool, the versions and the telemetry handling, and
writes them to bench/results/scanner_peers.md:

    python3 -m venv .venv-modelaudit && .venv-modelaudit/bin/pip install modelaudit==0.2.54
    .venv/bin/python bench/scanner_peers.py [--output PATH] [--keep]

`$SMPACK_BIN` picks the smpack binary (default build/tools/smpack/smpack).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cli"))

SMPACK = Path(os.environ.get("SMPACK_BIN", ROOT / "build" / "tools" / "smpack" / "smpack"))
MODELAUDIT_VENV = ROOT / ".venv-modelaudit"
MODELAUDIT = MODELAUDIT_VENV / "bin" / "modelaudit"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "scanner_peers.md"

UNSAFE, SAFE, CODE, ERROR = "unsafe", "safe", "code", "error"
PICKLE_EXPECT = {"dangerous": UNSAFE, "weights_only": SAFE, "unknown_code": CODE}
PICKLESCAN = {"dangerous": UNSAFE, "suspicious": SAFE, "clean": SAFE}
MODELAUDIT_SECURITY = ("critical", "warning")  # worst first
MODELAUDIT_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "NO_ANALYTICS": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}
COLUMNS = {  # column key -> heading
    "smpack_dir": "smpack (dir)",
    "smpack_tar": "smpack (tar.gz)",
    "picklescan": "picklescan",
    "fickling": "fickling",
    "modelaudit_file": "ModelAudit (file)",
    "modelaudit_tar": "ModelAudit (tar.gz)",
}


@dataclass
class Verdict:
    value: str  # unsafe, safe or error
    raw: str = ""  # the tool's own words, short


@dataclass
class Case:
    name: str
    path: Path  # the bare file
    expect: str  # unsafe, safe or code
    note: str
    directory: Path | None = None  # the file alone in a directory named after the case
    archive: Path | None = None  # the file alone in a model.tar.gz
    verdicts: dict[str, Verdict] = field(default_factory=dict)


# ---- the corpus ----------------------------------------------------------------------


def import_corpus_module(name: str):
    """The test module `name`, or None where it does not exist; exits if its
    pytest.importorskip finds a dependency missing."""
    if importlib.util.find_spec(name) is None:
        return None
    try:
        return importlib.import_module(name)
    except pytest.skip.Exception as skipped:
        raise SystemExit(f"{name}: {skipped} (use .venv/bin/python, made by scripts/setup.sh)")


def build_corpus(tmp: Path, oracles) -> list[Case]:
    (tmp / "oracles").mkdir()
    cases = [Case(case.name, path, PICKLE_EXPECT[case.verdict],
                  "; ".join(filter(None, (case.format, case.note))))
             for path, case in oracles.make_pickle_cases(tmp / "oracles")]
    bypass = import_corpus_module("bypass_corpus")
    if bypass is None:
        print("tests/cli/bypass_corpus.py not found: pickle cases only", file=sys.stderr)
    else:
        (tmp / "bypass").mkdir()
        for case in bypass.make_bypass_cases(tmp / "bypass"):
            if case.expect not in (UNSAFE, SAFE):
                raise SystemExit(f"bypass case {case.name}: expect {case.expect!r}")
            cases.append(Case(case.name, Path(case.path), case.expect, case.note))
    return cases


def stage(cases: list[Case], tmp: Path) -> None:
    """Puts each file alone in a directory named after its case and in a model.tar.gz."""
    taken: set[str] = set()
    for case in cases:
        slug = base = re.sub(r"[^A-Za-z0-9._-]+", "_", case.name).strip("._") or "case"
        serial = 1
        while slug in taken:
            serial += 1
            slug = f"{base}-{serial}"
        taken.add(slug)
        case.directory = tmp / "dirs" / slug
        case.directory.mkdir(parents=True)
        shutil.copyfile(case.path, case.directory / case.path.name)
        case.archive = tmp / "archives" / slug / "model.tar.gz"
        case.archive.parent.mkdir(parents=True)
        with tarfile.open(case.archive, "w:gz") as tar:
            tar.add(case.path, arcname=case.path.name)


# ---- the scanners --------------------------------------------------------------------


def last_line(text: str, limit: int = 160) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def scan_smpack(target: Path) -> Verdict:
    done = subprocess.run([str(SMPACK), "lint", str(target), "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    try:
        reports = json.loads(done.stdout)["reports"]
    except (json.JSONDecodeError, KeyError, TypeError):
        reports = None
    rules = sorted({finding["rule"] for report in reports or [] for finding in report["findings"]
                    if finding["severity"] == "error"
                    and finding["rule"].startswith(("weights-", "archive-"))})
    if rules:
        return Verdict(UNSAFE, ", ".join(rules))
    if done.returncode == 3:
        return Verdict(UNSAFE, f"exit 3: {last_line(done.stderr)}")
    if done.returncode in (0, 1) and reports is not None:
        return Verdict(SAFE)
    return Verdict(ERROR, f"exit {done.returncode}: {last_line(done.stderr)}")


def scan_picklescan(oracles, path: Path) -> Verdict:
    raw = oracles.picklescan_verdict(path)  # clean, suspicious, dangerous, error, crash:TYPE
    if raw not in PICKLESCAN:
        return Verdict(ERROR, raw.partition(":")[2] or raw)
    return Verdict(PICKLESCAN[raw], raw)


def scan_fickling(oracles, path: Path) -> Verdict:
    raw = oracles.fickling_verdict(path)  # a severity name, or error:TYPE
    if raw.startswith("error:"):
        return Verdict(ERROR, raw.partition(":")[2])
    return Verdict(SAFE if raw == "LIKELY_SAFE" else UNSAFE, raw)


def network_isolation() -> list[str]:
    """`unshare -rn` where this machine allows an unprivileged network namespace."""
    try:
        works = subprocess.run(["unshare", "-rn", "true"], capture_output=True,
                               timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        works = False
    return ["unshare", "-rn"] if works else []


def modelaudit_command(isolation: list[str], home: Path, *arguments: str):
    env = {**os.environ, **MODELAUDIT_ENV, "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    return [*isolation, str(MODELAUDIT), *arguments], env


def owner(location: str, targets: list[str]) -> str | None:
    """The target a ModelAudit location ("PATH", "PATH (pos 32)", "ARCHIVE:member") is in."""
    matches = [t for t in targets
               if location == t or location.startswith((t + " ", t + ":", t + "/"))]
    return max(matches, key=len, default=None)


def gaps(metadata: dict) -> list[str]:
    """ModelAudit's own marks of an operational error or an inconclusive scan of a file."""
    marks = []
    if metadata.get("operational_error"):
        marks.append(str(metadata.get("operational_error_reason") or "operational error"))
    reasons = metadata.get("scan_outcome_reasons") or metadata.get("scan_outcome_reason") or []
    marks += [reasons] if isinstance(reasons, str) else list(reasons)
    if not marks and (metadata.get("scan_outcome") == "inconclusive"
                      or metadata.get("analysis_incomplete") is True):
        marks.append("inconclusive")
    return marks


def scan_modelaudit(targets: list[Path], tmp: Path,
                    isolation: list[str]) -> tuple[dict[str, Verdict], float]:
    """One ModelAudit process over every target; a verdict per target, and the seconds."""
    names = [str(t.resolve()) for t in targets]
    report = tmp / "modelaudit.json"
    command, env = modelaudit_command(isolation, tmp / "home", "scan", "--format", "json",
                                      "--no-cache", "--output", str(report), *names)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    elapsed = time.perf_counter() - start
    try:
        doc = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        crash = Verdict(ERROR, f"exit {done.returncode}: {last_line(done.stderr)}")
        return {name: crash for name in names}, elapsed

    # What its exit code counts: WARNING or CRITICAL issues, and failed checks at those levels.
    findings: dict[str, list[dict]] = {name: [] for name in names}
    records = doc.get("issues", []) + [c for c in doc.get("checks", [])
                                       if c.get("status") == "failed"]
    for record in records:
        target = owner(str(record.get("location") or ""), names)
        if target and str(record.get("severity", "")).lower() in MODELAUDIT_SECURITY:
            findings[target].append(record)
    problems: dict[str, list[str]] = {}  # target (or a member of it) scanned -> its gaps
    for path, metadata in (doc.get("file_metadata") or {}).items():
        if target := owner(path, names):
            problems.setdefault(target, []).extend(gaps(metadata))
    for asset in doc.get("assets", []):
        if target := owner(str(asset.get("path", "")), names):
            problems.setdefault(target, [])

    verdicts = {}
    for name in names:
        if found := findings[name]:
            worst = min((r["severity"].lower() for r in found), key=MODELAUDIT_SECURITY.index)
            codes = sorted({r["rule_code"] for r in found if r.get("rule_code")}) or \
                sorted({r.get("type") or r.get("name") or "?" for r in found})
            more = f" +{len(codes) - 3}" if len(codes) > 3 else ""
            verdicts[name] = Verdict(UNSAFE, f"{worst}: {', '.join(codes[:3])}{more}")
        elif name not in problems:
            verdicts[name] = Verdict(ERROR, "not scanned")
        elif problems[name]:
            verdicts[name] = Verdict(ERROR, ", ".join(sorted(set(problems[name]))))
        else:
            verdicts[name] = Verdict(SAFE)
    return verdicts, elapsed


def run_scanners(cases: list[Case], oracles, tmp: Path,
                 isolation: list[str]) -> dict[str, float]:
    """Fills in every case's verdicts; returns each column's seconds."""
    one_by_one = {
        "smpack_dir": lambda case: scan_smpack(case.directory),
        "smpack_tar": lambda case: scan_smpack(case.archive),
        "picklescan": lambda case: scan_picklescan(oracles, case.path),
        "fickling": lambda case: scan_fickling(oracles, case.path),
    }
    seconds = dict.fromkeys(COLUMNS, 0.0)
    for case in cases:
        for key, scan in one_by_one.items():
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # keep the table alone on stdout
                case.verdicts[key] = scan(case)
            seconds[key] += time.perf_counter() - start
    verdicts, elapsed = scan_modelaudit(
        [path for case in cases for path in (case.path, case.archive)], tmp, isolation)
    for case in cases:
        case.verdicts["modelaudit_file"] = verdicts[str(case.path.resolve())]
        case.verdicts["modelaudit_tar"] = verdicts[str(case.archive.resolve())]
    seconds["modelaudit_file"] = seconds["modelaudit_tar"] = elapsed
    return seconds


# ---- the report ----------------------------------------------------------------------


def versions(oracles, isolation: list[str], tmp: Path) -> dict[str, str]:
    smpack = subprocess.run([str(SMPACK), "--version"], capture_output=True, text=True)
    command, env = modelaudit_command(isolation, tmp / "home", "--version")
    modelaudit = subprocess.run(command, capture_output=True, text=True, env=env)
    return {
        "smpack": last_line(smpack.stdout) or "?",
        "picklescan": importlib.metadata.version("picklescan"),
        "fickling": importlib.metadata.version("fickling"),
        "ModelAudit": last_line(modelaudit.stdout) or last_line(modelaudit.stderr) or "?",
        "corpus written by": f"Python {platform.python_version()}, torch "
                             f"{oracles.torch.__version__}, numpy {oracles.np.__version__}",
    }


def telemetry_switch() -> str:
    """Where the installed ModelAudit reads PROMPTFOO_DISABLE_TELEMETRY to turn PostHog off."""
    for source in sorted(MODELAUDIT_VENV.glob("lib/python*/site-packages/modelaudit/telemetry.py")):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            if "_env_truthy" in line and "PROMPTFOO_DISABLE_TELEMETRY" in line:
                return f"`{source.relative_to(source.parents[1])}:{number}`"
    return "(not found in the installed modelaudit/telemetry.py: check it by hand)"


def cell(verdict: Verdict, expect: str) -> str:
    text = f"{verdict.value} ({verdict.raw})" if verdict.raw else verdict.value
    text = text.replace("|", "\\|")
    wrong = verdict.value == ERROR or (expect != CODE and verdict.value != expect)
    return f"**{text}**" if wrong else text


def summary(key: str, cases: list[Case], seconds: float) -> str:
    def count(expect: str, value: str) -> int:
        return sum(c.expect == expect and c.verdicts[key].value == value for c in cases)

    total = {e: sum(c.expect == e for c in cases) for e in (UNSAFE, SAFE, CODE)}
    errors = sum(c.verdicts[key].value == ERROR for c in cases)
    return (f"- **{COLUMNS[key]}**: missed {count(UNSAFE, SAFE)} of {total[UNSAFE]} unsafe, "
            f"false alarms on {count(SAFE, UNSAFE)} of {total[SAFE]} safe, "
            f"flagged {count(CODE, UNSAFE)} of {total[CODE]} code-bearing, "
            f"{errors} errors; {seconds:.2f} s")


def report(cases: list[Case], seconds: dict[str, float], tool_versions: dict[str, str],
           isolation: list[str]) -> str:
    lines = ["| case | expected | " + " | ".join(COLUMNS.values()) + " | note |",
             "|---" * (len(COLUMNS) + 3) + "|"]
    for case in cases:
        row = [f"`{case.name}`", case.expect,
               *(cell(case.verdicts[key], case.expect) for key in COLUMNS),
               case.note.replace("|", "\\|")]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Bold: a verdict other than the expected one, or an error. `code`: benign, but "
              "loading it imports code outside torch's `weights_only` allowlist. Unsafe is what "
              "each tool's own gate refuses: smpack an error-level `weights-*` or `archive-*` "
              "finding or exit 3; picklescan a dangerous global (its CLI exits 0 on "
              "*suspicious*); fickling a severity above LIKELY_SAFE; ModelAudit a WARNING or "
              "CRITICAL finding (exit 1; error: an inconclusive scan, exit 2). In brackets: the "
              "tool's own words.", ""]
    lines += [summary(key, cases, seconds[key]) for key in COLUMNS]
    lines += ["", "ModelAudit's time is one process over every file and archive (both columns); "
              "smpack, picklescan and fickling are summed over the cases (smpack: one process "
              "per target).", "", "Versions:", ""]
    lines += [f"- {tool}: {version}" for tool, version in tool_versions.items()]
    env = " ".join(f"{k}={v}" for k, v in MODELAUDIT_ENV.items())
    where = ("in `unshare -rn` (a new network namespace with only loopback)" if isolation
             else "without network isolation (`unshare -rn` is not allowed here)")
    lines += ["", f"Telemetry: ModelAudit ran {where}, with {env} and HOME in the temporary "
              f"directory. PostHog is turned off by PROMPTFOO_DISABLE_TELEMETRY at "
              f"{telemetry_switch()}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"markdown file to write (default {DEFAULT_OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--keep", action="store_true", help="keep the corpus directory")
    args = parser.parse_args()
    for binary, hint in ((SMPACK, "build smpack or set SMPACK_BIN"),
                         (MODELAUDIT, "see bench/README.md for .venv-modelaudit")):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary}: not found ({hint})")
    oracles = import_corpus_module("test_weights_oracles")
    isolation = network_isolation()
    tmp = Path(tempfile.mkdtemp(prefix="scanner-peers-"))
    try:
        (tmp / "home").mkdir()
        cases = build_corpus(tmp, oracles)
        stage(cases, tmp)
        seconds = run_scanners(cases, oracles, tmp, isolation)
        text = report(cases, seconds, versions(oracles, isolation, tmp), isolation)
    finally:
        if args.keep:
            print(f"corpus kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(text, end="")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
