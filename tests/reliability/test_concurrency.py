"""Concurrency on one workspace, on both stores: a second sync of the same connector refuses
(exit code 9) while the first completes; two different connectors at once both complete
(neither waits for the other's lock: on SQLite their writes take turns under the busy
timeout, on PostgreSQL they run side by side)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from click.testing import CliRunner

from benchmarks.reliability import (
    REPO,
    Locations,
    credential,
    snapshot,
    sync_into,
)
from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import open_store
from tests.reliability.conftest import show

CLI = [sys.executable, "-c", "from cscor_tools.cli import main; main()"]


def test_a_second_sync_of_the_same_connector_refuses_while_the_first_completes(
    sandbox: Sandbox, locs: Locations,
) -> None:
    reference = locs.new("reference")
    sync_into("stripe", sandbox, reference)
    location = locs.new("shared")
    sandbox.configure(latency_ms=20)  # the first sync takes a while
    outcome: dict[str, object] = {}
    first = threading.Thread(target=lambda: outcome.update(
        result=sync_into("stripe", sandbox, location)))
    try:
        first.start()
        with open_store(location) as store:
            deadline = time.monotonic() + 30
            while not any(r.status == "running" for r in store.runs(1)):
                assert time.monotonic() < deadline, "the first sync never started"
                time.sleep(0.02)
        second = CliRunner().invoke(
            cli, ["--workspace", location, "sync", "stripe", "--api-base",
                  sandbox.base_url("stripe")], env=credential("stripe", sandbox))
        first.join(120)
    finally:
        sandbox.configure(latency_ms=0)
    show({"second_exit": second.exit_code, "output": second.output.strip()[-200:]})
    assert second.exit_code == ExitCode.LOCKED, second.output
    assert "a sync of 'stripe' is already running" in second.output, second.output
    assert "Traceback" not in second.output
    assert outcome["result"].status == "succeeded"  # type: ignore[attr-defined]
    assert snapshot(location) == snapshot(reference)
    with open_store(location) as store:
        assert [r.status for r in store.runs(5)] == ["succeeded"]  # the refusal wrote nothing


def test_two_different_connectors_at_once_on_one_workspace_both_complete(
    sandbox: Sandbox, locs: Locations,
) -> None:
    names = ["stripe", "resend"]
    want: dict[str, dict[str, object]] = {}
    for name in names:
        for entity, rows in snapshot(_synced(sandbox, locs, name)).items():
            want.setdefault(entity, {}).update(rows)
    location = locs.new("shared")
    with open_store(location):
        pass  # created and migrated once, as `cscor init` would
    sandbox.configure(latency_ms=40)  # long enough that the two overlap
    try:
        procs = [subprocess.Popen(
            [*CLI, "--workspace", location, "sync", name, "--api-base",
             sandbox.base_url(name), "--rate-limit", "1000"], cwd=REPO, text=True,
            env={**os.environ, **credential(name, sandbox)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in names]
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        sandbox.configure(latency_ms=0)
    with open_store(location) as store:
        runs = sorted(store.runs(5), key=lambda r: r.started_at)
    overlap = runs[1].started_at < (runs[0].ended_at or runs[1].started_at)
    show({"exit_codes": [p.returncode for p in procs], "overlapped": overlap})
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    assert overlap  # they really ran at once
    assert snapshot(location) == want


def _synced(sandbox: Sandbox, locs: Locations, name: str) -> str:
    location = locs.new(name)
    assert sync_into(name, sandbox, location).status == "succeeded"
    return location
