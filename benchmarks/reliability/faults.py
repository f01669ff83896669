"""Fault scenarios: a soak of every fault the sandbox offers, and a provider outage longer
than the retry budget."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.reliability.workspaces import (
    Locations,
    Wrapped,
    differences,
    rows_in,
    snapshot,
    sync_into,
)

# -- fault soak --------------------------------------------------------------------------------


@dataclass
class SoakFigure:
    connector: str
    backend: str
    syncs: int = 0
    requests: int = 0
    faults: int = 0
    faults_by_kind: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    rows_compared: int = 0
    differences: int = 0
    failed_syncs: int = 0


def fault_soak(sb: Any, name: str, locs: Locations, *, rounds: int, fault_rate: float = 0.1,
               slow_body_ms: float = 200.0) -> SoakFigure:
    """``rounds`` full syncs into fresh workspaces with every fault kind at ``fault_rate``,
    each compared with a fault-free sync."""
    from cscor_tools.connectors import load_connector

    provider = load_connector(name).sandbox_provider
    figure = SoakFigure(name, locs.backend)
    sb.configure(fault_rate=0.0)
    reference = locs.new("reference")
    assert sync_into(name, sb, reference).status == "succeeded"
    want = snapshot(reference)
    sb.configure(fault_rate=fault_rate, faults="all", slow_body_ms=slow_body_ms)
    sb.reset_stats()
    try:
        for i in range(rounds):
            location = locs.new(f"soak{i}")
            result = sync_into(name, sb, location)
            figure.syncs += 1
            figure.requests += int(result.requests["requests"])
            figure.retries += int(result.requests["retries"])
            if result.status != "succeeded":
                figure.failed_syncs += 1
            got = snapshot(location)
            figure.rows_compared += max(rows_in(got), rows_in(want))
            figure.differences += differences(got, want)
    finally:
        stats = sb.stats()[provider]
        sb.configure(fault_rate=0.0)
    figure.faults_by_kind = dict(sorted(stats["faults"].items()))
    figure.faults = sum(figure.faults_by_kind.values())
    return figure


# -- provider outage --------------------------------------------------------------------------


class Outage:
    """A transport hook: once ``begun()`` says so, every request is answered 503 (retry at
    once: the budget, not the clock, runs out)."""

    def __init__(self, begun: Callable[[int], bool]) -> None:
        self.begun = begun
        self.since: int | None = None
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request, n: int) -> httpx.Response | None:
        with self.lock:
            if self.since is None and self.begun(n):
                self.since = n
            down = self.since is not None
        if down:
            return httpx.Response(503, headers={"retry-after": "0"},
                                  json={"error": {"message": "down for maintenance"}})
        return None


def committed_rows(location: str) -> Callable[[], int]:
    """A probe counting the rows committed in a workspace, on a connection of its own."""
    from cscor_tools.schema import ENTITIES
    from cscor_tools.store import open_store

    store = open_store(location)

    def count() -> int:
        return sum(store.count(e) for e in ENTITIES)

    count.close = store.close  # type: ignore[attr-defined]
    return count


@dataclass
class OutageFigure:
    connector: str
    backend: str
    full_requests: int = 0
    outage_after: int = 0
    status: str = ""
    exit_code: int = 0
    errors: list[str] = field(default_factory=list)
    rows_kept: int = 0
    resumed_status: str = ""
    resume_requests: int = 0
    differences: int = -1


def outage(sb: Any, name: str, locs: Locations, *, attempts: int = 3) -> OutageFigure:
    """A provider that stops answering half-way through, for longer than ``attempts``."""
    from cscor_tools.config import Config, ConnectorConfig
    from cscor_tools.store import open_store

    figure = OutageFigure(name, locs.backend)
    reference = locs.new("reference")
    full = sync_into(name, sb, reference)
    want = snapshot(reference)
    figure.full_requests = int(full.requests["requests"])
    config = Config(connectors={name: ConnectorConfig(max_attempts=attempts)})
    location = locs.new("outage")
    probe = committed_rows(location)
    # The provider goes down once pages are committed (after planning, whatever it costs),
    # and at the clean run's last request at the latest: a sync whose requests had all left
    # before its first commit was seen would otherwise finish untouched.
    half, last = figure.full_requests // 2, figure.full_requests
    hook = Outage(lambda n: n > half if last < 8 else (n >= last or probe() > 0))
    try:
        failed = sync_into(name, sb, location, transport=Wrapped(hook), config=config)
    finally:
        probe.close()  # type: ignore[attr-defined]
    figure.outage_after = (hook.since or 1) - 1
    figure.status = str(failed.status)
    figure.exit_code = int(failed.exit_code)
    figure.errors = [f"{s.stream}: {s.error}" for s in failed.streams if s.error]
    with open_store(location) as store:
        figure.rows_kept = sum(store.count(e) for e in want)
    resumed = sync_into(name, sb, location)
    figure.resumed_status = str(resumed.status)
    figure.resume_requests = int(resumed.requests["requests"])
    figure.differences = differences(snapshot(location), want)
    return figure
