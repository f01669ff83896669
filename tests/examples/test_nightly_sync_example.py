"""examples/nightly_sync.py, run as cron would, offline: the sandbox stands in for Stripe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import cscor_tools as cs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nightly_sync.py"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[cs.Sandbox]:
    with cs.Sandbox(seed=3, scale=0.05) as sb:
        yield sb
        assert not sb.internal_errors, sb.internal_errors[0]


def run_example(folder: Path, sb: cs.Sandbox) -> subprocess.CompletedProcess[str]:
    # The credential comes from the environment, as in production; the file only names it.
    env = {**os.environ, "NIGHTLY_STRIPE_KEY": sb.credentials("stripe")}
    env.pop("CSCOR_WORKSPACE", None)
    return subprocess.run([sys.executable, str(EXAMPLE), "--workspace", "w.db"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=300)


def test_it_runs_the_nightly_job_against_the_sandbox(tmp_path: Path,
                                                     sandbox: cs.Sandbox) -> None:
    (tmp_path / "cscor.toml").write_text(
        "[connectors.stripe]\n"
        'credential_env = "NIGHTLY_STRIPE_KEY"\n'
        f'base_url = "{sandbox.base_url("stripe")}"\n'
        "rate_limit = 1000\n"
        "\n[jobs.nightly]\n"
        'connectors = ["stripe"]\n'
    )
    first = run_example(tmp_path, sandbox)
    assert first.returncode == 0, first.stderr
    (summary,) = [json.loads(line) for line in first.stdout.splitlines()]
    assert summary["connector"] == "stripe" and summary["status"] == "succeeded"
    assert summary["requests"]["requests"] > 0
    with cs.open_workspace(str(tmp_path / "w.db")) as store:
        assert store.count("clients") == sandbox.expected_counts()["stripe.customers"] > 0

    again = run_example(tmp_path, sandbox)  # the next night: incremental, nothing new
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "succeeded"


def test_a_missing_credential_is_reported_and_sets_the_exit_code(tmp_path: Path,
                                                                 sandbox: cs.Sandbox) -> None:
    (tmp_path / "cscor.toml").write_text(
        '[connectors.stripe]\ncredential_env = "NOT_SET_ANYWHERE"\n'
        '\n[jobs.nightly]\nconnectors = ["stripe"]\n'
    )
    done = run_example(tmp_path, sandbox)
    assert done.returncode == int(cs.ExitCode.CONFIG)
    (summary,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["connector"] == "stripe" and "NOT_SET_ANYWHERE" in summary["error"]
