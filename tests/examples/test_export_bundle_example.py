"""examples/export_bundle.py, run as a user would: against a small workspace in a temp dir."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import cscor_tools as cs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "export_bundle.py"
CLIENTS = "id,email,name\n1,ada@example.com,Ada\n2,bob@example.com,Bob\n3,cy@example.com,Cy\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace of three clients, made through the public API."""
    (tmp_path / "clients.csv").write_text(CLIENTS)
    cs.init_workspace(str(tmp_path / "w.db"))
    assert cs.import_file(tmp_path / "clients.csv", workspace=str(tmp_path / "w.db")).inserted == 3
    return tmp_path


def run_example(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), "--workspace", "w.db", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_it_writes_a_bundle_and_prints_its_manifest_summary(workspace: Path) -> None:
    done = run_example(workspace, "--out", "bundle", "--policy", "pseudonymized")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    bundle = workspace / "bundle"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert summary["policy"] == manifest["policy"]["name"] == "pseudonymized"
    assert summary["fingerprint"] == manifest["policy"]["fingerprint"]
    assert summary["totals"] == manifest["totals"] and summary["totals"]["rows"] == 3
    clients = summary["files"]["clients"]
    written = (bundle / clients["path"]).read_bytes()
    assert clients["rows"] == 3 and len(written.splitlines()) == 3
    assert clients["sha256"] == hashlib.sha256(written).hexdigest()
    assert b"ada@example.com" not in written  # the policy hashed the identifiers
    assert (bundle / "datapackage.json").is_file()


def test_it_exits_like_the_cli_when_the_bundle_exists(workspace: Path) -> None:
    assert run_example(workspace, "--out", "bundle", "--format", "csv").returncode == 0
    again = run_example(workspace, "--out", "bundle")
    assert again.returncode == int(cs.ExitCode.REJECTED_INPUT)
    assert again.stdout == "" and "--overwrite" in again.stderr
    replaced = run_example(workspace, "--out", "bundle", "--overwrite",
                           "--entities", "clients")
    assert replaced.returncode == 0, replaced.stderr
    assert set(json.loads(replaced.stdout)["files"]) == {"clients"}
