"""The command line itself: help, a missing or unknown subcommand."""

from __future__ import annotations


from conftest import run_smpack
from archive_fixtures import EXIT_OK, EXIT_USAGE

# Command line
# ----------------------------------------------------------------------------


def test_help_lists_every_command():
    result = run_smpack("--help")
    assert result.returncode == EXIT_OK
    for command in ["build", "ls", "cat", "info", "digest", "verify", "diff", "extract"]:
        assert f"\n  {command} " in result.stdout
        sub = run_smpack(command, "--help")
        assert sub.returncode == EXIT_OK
        assert f"Usage: smpack {command} " in sub.stdout


def test_no_subcommand_is_a_usage_error():
    result = run_smpack()
    assert result.returncode == EXIT_USAGE
    assert "subcommand" in result.stderr


def test_unknown_subcommand_suggests_the_closest():
    result = run_smpack("verfy", "x.tar.gz")
    assert result.returncode == EXIT_USAGE
    assert "unknown command 'verfy'; did you mean 'verify'?" in result.stderr


def test_unknown_subcommand_is_a_usage_error():
    result = run_smpack("verfy", "x.tar.gz")
    assert result.returncode == EXIT_USAGE and result.stdout == ""
