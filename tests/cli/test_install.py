"""cmake --install: a standard prefix, the installed CLI without the source tree, a
consumer project through find_package and pkg-config, and the installed Python module."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, run_python
from template_models import TEMPLATES_DIR, TEMPLATE_MODELS, make_model, installed


# ---- install, and a consumer project against the installed package ---------------------


def test_install_lays_out_a_standard_prefix(installed):
    for relative in ("bin/smpack", "lib/libsmpack.a", "include/smpack/lint.h",
                     "include/smpack/templates.h", "lib/cmake/smpack/smpackConfig.cmake",
                     "lib/cmake/smpack/smpackConfigVersion.cmake", "lib/pkgconfig/smpack.pc",
                     "share/man/man1/smpack.1", "share/man/man1/smpack-lint.1",
                     "share/bash-completion/completions/smpack"):
        assert (installed / relative).is_file(), relative
    for name in TEMPLATE_MODELS:
        for file in ("inference.py", "requirements.txt"):
            installed_file = installed / "share/smpack/templates" / name / file
            assert installed_file.read_bytes() == (TEMPLATES_DIR / name / file).read_bytes()
    # The driver smpack invoke runs in the user's Python (the binary embeds the same text).
    assert (installed / "share/smpack/invoke_driver.py").read_bytes() == \
        (SOURCE_DIR / "libpack/src/serving/invoke_driver.py").read_bytes()
    harness_built = (BUILD_DIR / "tools" / "harness" / "smpack-harness").exists()
    assert (installed / "bin/smpack-harness").exists() == harness_built


def test_installed_cli_runs_init_without_the_source_tree(installed, tmp_path):
    env = dict(os.environ, PATH="/usr/bin:/bin")
    done = subprocess.run([installed / "bin/smpack", "init", "--profile", "xgboost", tmp_path / "c"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c" / "inference.py").read_bytes() == (TEMPLATES_DIR / "xgboost" / "inference.py").read_bytes()


CONSUMER_MAIN = r"""
#include <iostream>

#include "smpack/artifact.h"
#include "smpack/digest.h"
#include "smpack/lint.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto artifact = smpack::Artifact::open(argv[1]);
  auto linted = artifact ? smpack::lint_artifact(*artifact, {})
                         : smpack::Result<smpack::LintReport>(artifact.error());
  if (!linted) {
    std::cerr << linted.error().message << "\n";
    return 3;
  }
  const auto& report = *linted;
  std::cout << smpack::sha256_hex("abc") << " " << smpack::name_of(report.profile) << " "
            << report.findings.size() << "\n";
  return 0;
}
"""


def cache_value(name: str) -> str:
    """A variable of the build tree's CMakeCache.txt ("" when absent)."""
    match = re.search(rf"^{name}:\w+=(.*)$", (BUILD_DIR / "CMakeCache.txt").read_text(), re.M)
    return match.group(1) if match else ""


@pytest.fixture()
def consumer_inputs(tmp_path) -> tuple[Path, Path]:
    if cache_value("SMPACK_SANITIZE").upper() in ("ON", "TRUE", "1"):
        pytest.skip("the installed library is sanitizer-instrumented; consumers would need -fsanitize")
    source = tmp_path / "consumer"
    source.mkdir()
    (source / "main.cpp").write_text(CONSUMER_MAIN)
    model = make_model(tmp_path / "model", "sklearn")
    return source, model


def check_consumer_output(binary: Path, model: Path) -> None:
    done = subprocess.run([binary, model], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [hashlib.sha256(b"abc").hexdigest(), "sklearn", "0"]


def test_consumer_project_builds_with_find_package(installed, consumer_inputs, tmp_path):
    source, model = consumer_inputs
    (source / "CMakeLists.txt").write_text(textwrap.dedent("""\
        cmake_minimum_required(VERSION 3.22)
        project(consumer LANGUAGES CXX)
        find_package(smpack 0.1 REQUIRED)
        add_executable(consumer main.cpp)
        target_link_libraries(consumer PRIVATE smpack::smpack)
        """))
    build = tmp_path / "consumer-build"
    for command in (["cmake", "-S", source, "-B", build, f"-DCMAKE_PREFIX_PATH={installed}"],
                    ["cmake", "--build", build]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    check_consumer_output(build / "consumer", model)


def test_consumer_links_with_pkg_config(installed, consumer_inputs, tmp_path):
    source, model = consumer_inputs
    env = dict(os.environ, PKG_CONFIG_PATH=str(installed / "lib/pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "smpack"], capture_output=True,
                           text=True, env=env, check=True).stdout.split()
    binary = tmp_path / "consumer-pc"
    done = subprocess.run(["c++", "-std=c++20", source / "main.cpp", "-o", binary, *flags],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    check_consumer_output(binary, model)


def test_installed_python_module_imports(installed, tmp_path):
    site = list(installed.glob("lib/python3*/site-packages"))
    if not site:
        pytest.skip("the Python module is not built")
    done = run_python("import smpack; print(smpack.__version__, smpack.__file__)", tmp_path, site[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1].startswith(str(site[0]))
