"""smpack docs: the man pages and bash completion generated from the CLI definitions,
checked against --help, roff and shellcheck."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import help_options, visible_commands, run_smpack
from template_models import installed


# ---- man pages and completion from the CLI definitions --------------------------------


@pytest.fixture(scope="module")
def generated_docs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    done = run_smpack("generate-docs", "--man-dir", out / "man1", "--bash-completion", out / "smpack.bash")
    assert done.returncode == 0, done.stderr
    return out


def test_a_man_page_per_command_and_no_more(generated_docs):
    pages = sorted(p.name for p in (generated_docs / "man1").iterdir())
    assert pages == sorted(["smpack.1"] + [f"smpack-{c}.1" for c in visible_commands()])
    assert "generate-docs" not in visible_commands()


def test_man_pages_are_valid_roff(generated_docs):
    for page in (generated_docs / "man1").iterdir():
        done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True, text=True)
        assert done.returncode == 0 and done.stderr == "", (page.name, done.stderr)


@pytest.mark.parametrize("command", ["build", "lint", "init", "verify", "extract"])
def test_man_page_options_match_help(generated_docs, command):
    page = (generated_docs / "man1" / f"smpack-{command}.1").read_text()
    rendered = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou"],
                              input=page, capture_output=True, text=True, check=True).stdout
    options_section = rendered.split("OPTIONS", 1)[1].split("EXIT STATUS", 1)[0]
    in_man = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", options_section))
    in_help = help_options(command)
    # The descriptions mention other options; every option must be documented as such.
    assert in_help <= in_man
    headings = set(re.findall(r"^ {7}(--?[A-Za-z][\w-]*)", options_section, re.M))
    assert headings <= in_help


def test_man_page_lists_the_exit_codes(generated_docs):
    page = (generated_docs / "man1" / "smpack.1").read_text()
    section = page.split(".SH EXIT STATUS", 1)[1]
    assert re.findall(r"^\.B (\d+)$", section, re.M) == ["0", "1", "2", "3", "4", "130"]


def complete(script: Path, words: list[str]) -> list[str]:
    """What the generated completion offers for the command line `words` (the last is
    the word being completed), run in a real bash."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = (f"source '{script}'\nCOMP_WORDS=({quoted})\nCOMP_CWORD={len(words) - 1}\n"
               "_smpack\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completion_offers_commands_options_and_values(generated_docs):
    script = generated_docs / "smpack.bash"
    assert set(complete(script, ["smpack", ""])) >= set(visible_commands())
    assert complete(script, ["smpack", "li"]) == ["lint"]
    assert set(complete(script, ["smpack", "lint", "--"])) == {
        o for o in help_options("lint") if o.startswith("--")}
    assert complete(script, ["smpack", "lint", "--format", ""]) == ["text", "json", "sarif"]
    assert complete(script, ["smpack", "lint", "--fail-on", "w"]) == ["warning"]


def test_bash_completion_passes_shellcheck(generated_docs):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed")
    done = subprocess.run(["shellcheck", "-s", "bash", generated_docs / "smpack.bash"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
