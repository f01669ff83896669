"""Crash resume: syncs in child processes SIGKILLed at random moments, each resumed and
compared with an uninterrupted sync. The child is ``python -m benchmarks.reliability child
CONNECTOR BASE_URL WORKSPACE`` (the credential comes from the environment, never from an
argument)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.reliability.workspaces import (
    FAST,
    REPO,
    Locations,
    base_url,
    credential,
    differences,
    integrity,
    rows_in,
    snapshot,
    sync_into,
)

# -- crash resume -----------------------------------------------------------------------------


@dataclass
class CrashFigure:
    connector: str
    backend: str
    kills: int = 0
    survived: int = 0
    #: kills that came before the run began or after it ended (not counted; tried again)
    finished_first: int = 0
    #: rows committed when the kill came, as a share of the full sync's rows
    committed_shares: list[float] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _child_command(name: str, sb: Any, location: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.reliability", "child", name, base_url(name, sb),
            location]


def _spawn(name: str, sb: Any, location: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **credential(name, sb), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(_child_command(name, sb, location), cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_started(proc: subprocess.Popen[bytes]) -> float:
    """Block until the child says it is syncing; returns when it said so."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(b"syncing"):
        proc.wait(30)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"the sync child did not start: {line!r} {err[-2000:]}")
    return time.perf_counter()


def crash_resume(sb: Any, name: str, locs: Locations, *, kills: int,
                 seed: int = 0) -> CrashFigure:
    """``kills`` syncs SIGKILLed at random moments, each resumed and compared."""
    from cscor_tools.store import open_store

    rng = random.Random(seed)
    figure = CrashFigure(name, locs.backend)
    reference = locs.new("reference")
    proc = _spawn(name, sb, reference)  # the uninterrupted run, timed in a child as well
    started = _wait_started(proc)
    assert proc.stdout is not None
    proc.stdout.readline()  # the sync's status: it is over
    window = time.perf_counter() - started
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"the reference sync failed: {err.decode(errors='replace')[-2000:]}")
    want = snapshot(reference)
    total = max(1, rows_in(want))
    attempts = 0
    while figure.kills < kills and attempts < kills * 5:
        attempts += 1
        location = locs.new(f"kill{figure.kills}")
        proc = _spawn(name, sb, location)
        started = _wait_started(proc)
        time.sleep(max(0.0, started + rng.uniform(0.0, window) - time.perf_counter()))
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        with open_store(location) as store:
            runs = store.runs(1)
            committed = sum(store.count(e) for e in want)
        if not runs or runs[0].status != "running":
            # the kill came before the run began, or after it ended: not a kill mid-sync
            figure.finished_first += 1
            if runs:
                window *= 0.8
            continue
        figure.kills += 1
        figure.integrity.append(integrity(location))
        figure.committed_shares.append(round(committed / total, 3))
        result = sync_into(name, sb, location)
        got = snapshot(location)
        diff = differences(got, want)
        if result.status == "succeeded" and diff == 0 and figure.integrity[-1] in ("ok", "n/a"):
            figure.survived += 1
        else:
            figure.failures.append(f"kill {figure.kills}: {result.status}, {diff} differences, "
                                   f"integrity {figure.integrity[-1]}")
    return figure


def child_main(argv: Sequence[str]) -> int:
    """The sync a crash test kills: say when it starts, then sync."""
    name, url, location = argv
    from cscor_tools.connectors import load_connector
    from cscor_tools.store import open_store
    from cscor_tools.workspace import sync_connector

    cls = load_connector(name)
    with open_store(location) as store:
        print("syncing", flush=True)
        result = sync_connector(name, store=store, base_url=url, rate_limit=FAST,
                                env={str(cls.credential_env):
                                     os.environ[str(cls.credential_env)]})
    print(result.status, flush=True)
    return 0 if result.status == "succeeded" else 1
