"""Reliability: faults, crashes, outages and leaks, over every connector the sandbox stands in
for (from the connector registry, as the contract suite) and both stores.

Scenarios, each returning its figure (CI runs the same functions at reduced sizes through
``tests/reliability``; this module runs them at full size):

- **fault soak**: the sandbox answers ``fault_rate`` of requests with every fault it offers
  (429, 500, 502, 503, resets, truncated and slow bodies); each synced workspace is compared,
  row by row, with a fault-free sync of the same data.
- **crash resume**: a sync in a child process is SIGKILLed at a random moment of its run
  (mid-page, mid-commit: wherever the clock says), then resumed in another process; the
  workspace must equal the fault-free one (and, on SQLite, pass ``PRAGMA integrity_check``).
- **outage**: from the middle of a sync the provider answers only 503, longer than the
  retry budget: the run fails cleanly, what was committed stays, the next run continues.
- **secrets**: syncs with distinctive sentinel credentials (refused: the error paths) and
  with the sandbox's keys (accepted), then an export and an import with rejects; every log
  line, message, run-log row, state row, exported and rejects file is scanned for them.

PostgreSQL is covered when ``CSCOR_TEST_POSTGRES_URL`` is set (each workspace in a schema of
its own, dropped afterwards). ``--set scale=0.2 --set rounds=1 --set kills=3`` for a quick run.

This module is the runner; the scenarios live beside it: ``workspaces`` (the connectors
covered, fresh workspaces, syncs through a wrapped transport, snapshots), ``faults`` (soak and
outage), ``crash`` (SIGKILL and resume; its child is ``python -m benchmarks.reliability child
CONNECTOR BASE_URL WORKSPACE``, the credential from the environment, never an argument) and
``leaks`` (sentinel credentials).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks import target
from benchmarks.reliability.crash import CrashFigure, crash_resume
from benchmarks.reliability.faults import (
    Outage,
    OutageFigure,
    SoakFigure,
    committed_rows,
    fault_soak,
    outage,
)
from benchmarks.reliability.leaks import (
    SENTINELS,
    WEBHOOK_SENTINEL,
    ScanFigure,
    all_sentinels,
    secrets_scan,
)
from benchmarks.reliability.workspaces import (
    FAST,
    REPO,
    Locations,
    Snapshot,
    Wrapped,
    backends,
    base_url,
    credential,
    differences,
    integrity,
    locations,
    rows_in,
    sandboxed_connectors,
    snapshot,
    sync_into,
)

__all__ = [
    "FAST", "REPO", "SENTINELS", "WEBHOOK_SENTINEL", "CrashFigure", "Locations", "Outage",
    "OutageFigure", "ScanFigure", "Snapshot", "SoakFigure", "Wrapped", "all_sentinels",
    "backends", "base_url", "committed_rows", "crash_resume", "credential", "differences",
    "fault_soak", "integrity", "locations", "outage", "rows_in", "run", "sandboxed_connectors",
    "secrets_scan", "snapshot", "sync_into",
]


def run(options: dict[str, str]) -> dict[str, Any]:
    from cscor_tools.sandbox import Sandbox

    scale = float(options.get("scale", 1.0))
    rounds = int(options.get("rounds", 5))
    kills = int(options.get("kills", 20))
    fault_rate = float(options.get("fault_rate", 0.1))
    slow_ms = float(options.get("slow_body_ms", 1000))
    out: dict[str, Any] = {"scale": scale, "fault_rate": fault_rate, "rounds": rounds,
                           "kills_per_store": kills, "connectors": sandboxed_connectors(),
                           "backends": backends()}
    soak: list[dict[str, Any]] = []
    crash: list[dict[str, Any]] = []
    outages: list[dict[str, Any]] = []
    with Sandbox(seed=14, scale=scale, process=True) as sb:
        for backend in backends():
            with locations(backend) as locs:
                for name in out["connectors"]:
                    soak.append(vars(fault_soak(sb, name, locs, rounds=rounds,
                                                fault_rate=fault_rate, slow_body_ms=slow_ms)))
                    outages.append(vars(outage(sb, name, locs)))
                    fig = crash_resume(sb, name, locs, kills=kills, seed=len(crash))
                    shares = sorted(fig.committed_shares)
                    crash.append({**vars(fig), "committed_shares": {
                        "min": shares[0] if shares else None,
                        "median": shares[len(shares) // 2] if shares else None,
                        "max": shares[-1] if shares else None}})
    scan = ScanFigure()
    for backend in backends():
        with locations(backend) as locs, tempfile.TemporaryDirectory() as tmp:
            one = secrets_scan(locs, Path(tmp), scale=scale)
        scan.files += one.files
        scan.rows += one.rows
        scan.lines += one.lines
        scan.hits += one.hits
    out["fault_soak"] = soak
    out["crash_resume"] = crash
    out["outage"] = outages
    out["secrets"] = {"files": scan.files, "rows": scan.rows, "lines": scan.lines,
                      "hits": len(scan.hits), "where": scan.hits[:10]}
    survived = {b: sum(c["survived"] for c in crash if c["backend"] == b) for b in backends()}
    killed = {b: sum(c["kills"] for c in crash if c["backend"] == b) for b in backends()}
    out["kills_survived"] = {b: f"{survived[b]}/{killed[b]}" for b in backends()}
    out["targets"] = {
        "fault_soak_differences": target(sum(s["differences"] for s in soak), 0,
                                         at_least=False),
        "fault_soak_failed_syncs": target(sum(s["failed_syncs"] for s in soak), 0,
                                          at_least=False),
        "crash_differences": target(sum(c["kills"] - c["survived"] for c in crash), 0,
                                    at_least=False),
        **{f"kills_survived_{b}": target(min(survived[b] / max(1, killed[b]),
                                             killed[b] / max(1, kills * len(out["connectors"]))),
                                         1.0) for b in backends()},
        "outage_resumed_exact": target(sum(o["differences"] for o in outages), 0,
                                       at_least=False),
        "secret_hits": target(len(scan.hits), 0, at_least=False),
    }
    return out
