"""The project's own files: metadata the build backend accepts without a warning, and a
working tree that `make demo` leaves clean."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_builds_without_deprecation_warnings() -> None:
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecated field is a warning in setuptools >= 77
        dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.get_name() == "cscor-tools"


def test_what_make_demo_writes_is_ignored_by_git() -> None:
    from cscor_tools.cli.demo import demo

    out = next(p for p in demo.params if p.name == "out").default
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    probe = f"{out}/bundle/manifest.json"  # what the demo exports (its .db is ignored anyway)
    checked = subprocess.run(["git", "check-ignore", "-q", "--no-index", probe], cwd=ROOT,
                             check=False)
    assert checked.returncode == 0, f"{out}/ (where `make demo` writes) is not in .gitignore"
