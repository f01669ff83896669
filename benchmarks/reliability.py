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

The kill child: ``python -m benchmarks.reliability child CONNECTOR BASE_URL WORKSPACE`` (the
credential comes from the environment, never from an argument).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from benchmarks import target

REPO = Path(__file__).resolve().parents[1]
FAST = 1000.0  # requests per second: the sandbox runs unthrottled here
#: columns that say when we wrote a row, not what it holds
WHEN_WRITTEN = ("synced_at", "seen_at")


# -- what is covered --------------------------------------------------------------------------


def sandboxed_connectors() -> list[str]:
    """Installed connectors the sandbox can stand in for (as the contract suite picks them)."""
    from cscor_tools.connectors import available_connectors, load_connector

    names = []
    for name in available_connectors():
        try:
            cls = load_connector(name)
        except Exception:  # a broken plugin has its own test
            continue
        if cls.sandbox_provider:
            names.append(name)
    return names


def backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get("CSCOR_TEST_POSTGRES_URL") else ["sqlite"]


class Locations:
    """Fresh workspace locations on one backend: SQLite files in a folder, or PostgreSQL
    schemas (dropped by ``close``)."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self._schemas: list[str] = []
        self._base = os.environ.get("CSCOR_TEST_POSTGRES_URL", "")
        if backend == "postgres" and not self._base:
            raise RuntimeError("CSCOR_TEST_POSTGRES_URL is not set")

    def new(self, label: str) -> str:
        if self.backend == "sqlite":
            return str(self.folder / f"{label}-{uuid.uuid4().hex[:8]}.db")
        import psycopg

        schema = f"r_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self._schemas.append(schema)
        sep = "&" if "?" in self._base else "?"
        return f"{self._base}{sep}options={quote(f'-csearch_path={schema}')}"

    def close(self) -> None:
        if not self._schemas:
            return
        import psycopg

        with psycopg.connect(self._base, autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._schemas.clear()


@contextlib.contextmanager
def locations(backend: str) -> Iterator[Locations]:
    with tempfile.TemporaryDirectory(prefix="cscor-reliability-") as tmp:
        locs = Locations(backend, Path(tmp))
        try:
            yield locs
        finally:
            locs.close()


# -- syncing and comparing ----------------------------------------------------------------------


class Wrapped(httpx.BaseTransport):
    """The real transport, with ``hook(request, n)`` deciding each request first: it may
    answer in the server's place (return a response) or raise."""

    def __init__(self, hook: Callable[[httpx.Request, int], httpx.Response | None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.hook = hook
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        answer = self.hook(request, self.count)
        return answer if answer is not None else self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def credential(name: str, sb: Any, key: str | None = None) -> dict[str, str]:
    from cscor_tools.connectors import load_connector

    cls = load_connector(name)
    assert cls.sandbox_provider and cls.credential_env
    return {cls.credential_env: key or sb.credentials(cls.sandbox_provider)}


def base_url(name: str, sb: Any) -> str:
    from cscor_tools.connectors import load_connector

    provider = load_connector(name).sandbox_provider
    assert provider
    return str(sb.base_url(provider))


def sync_into(name: str, sb: Any, location: str, *, transport: httpx.BaseTransport | None = None,
              config: Any = None, key: str | None = None) -> Any:
    """One sync of ``name`` from the sandbox into the workspace at ``location``."""
    from cscor_tools.config import Config
    from cscor_tools.store import open_store
    from cscor_tools.workspace import sync_connector

    with open_store(location) as store:
        return sync_connector(name, store=store, base_url=base_url(name, sb),
                              env=credential(name, sb, key), rate_limit=FAST,
                              transport=transport, config=config or Config())


Snapshot = dict[str, dict[str, dict[str, Any]]]


def snapshot(location: str) -> Snapshot:
    """Every row of every entity by id, without the columns that say when it was written."""
    from cscor_tools.schema import ENTITIES
    from cscor_tools.store import open_store

    out: Snapshot = {}
    with open_store(location) as store:
        for entity in ENTITIES:
            rows = out.setdefault(entity, {})
            for batch in store.iter_rows(entity):
                for row in batch:
                    rows[row["id"]] = {k: v for k, v in row.items() if k not in WHEN_WRITTEN}
    return out


def differences(got: Snapshot, want: Snapshot) -> int:
    """Rows missing, extra or unequal between two snapshots."""
    n = 0
    for entity in set(got) | set(want):
        a, b = got.get(entity, {}), want.get(entity, {})
        n += sum(1 for i in set(a) | set(b) if a.get(i) != b.get(i))
    return n


def rows_in(snap: Snapshot) -> int:
    return sum(len(rows) for rows in snap.values())


def integrity(location: str) -> str:
    """``PRAGMA integrity_check`` of a SQLite workspace ("ok"); "n/a" for PostgreSQL."""
    if location.startswith("postgres"):
        return "n/a"
    import sqlite3

    conn = sqlite3.connect(location)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


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


def _child_main(argv: Sequence[str]) -> int:
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


# -- secrets ----------------------------------------------------------------------------------

#: distinctive values no code path makes up, per provider: the key the sandbox accepts, then
#: one it refuses (the error paths). A hit anywhere is a leak.
SENTINELS = {
    "stripe": ("sk_live_FAKEnotAkeySENTINEL", "rk_live_FAKEnotAkeySENTINEL"),
    "resend": ("re_FAKEnotAkeySENTINEL", "re_FAKErefusedSENTINEL"),
    "slack": ("xoxb-FAKE-notAtoken-SENTINEL", "xoxb-FAKE-refused-SENTINEL"),
}
WEBHOOK_SENTINEL = "https://hooks.example.invalid/services/FAKE/notAwebhook/SENTINEL"


@dataclass
class ScanFigure:
    files: int = 0
    rows: int = 0
    lines: int = 0
    hits: list[str] = field(default_factory=list)

    def scan_text(self, where: str, text: str, secrets: Sequence[str]) -> None:
        self.lines += text.count("\n") + 1
        for secret in secrets:
            if secret in text:
                self.hits.append(f"{where}: {secret[:6]}…")

    def scan_tree(self, root: Path, secrets: Sequence[str]) -> None:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            data = path.read_bytes()
            self.files += 1
            for secret in secrets:
                if secret.encode() in data:
                    self.hits.append(f"{path.name}: {secret[:6]}…")

    def scan_store(self, location: str, secrets: Sequence[str]) -> None:
        """Every row of every table, state and run log included, as text."""
        from cscor_tools.store import open_store

        with open_store(location) as store:
            tables = sorted(store._columns())
            for table in tables:
                for row in store._query(f'SELECT * FROM "{table}"'):
                    self.rows += 1
                    text = repr(row)
                    for secret in secrets:
                        if secret in text:
                            self.hits.append(f"{table} row: {secret[:6]}…")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def all_sentinels() -> list[str]:
    return [s for values in SENTINELS.values() for s in values] + [WEBHOOK_SENTINEL]


def secrets_scan(locs: Locations, work: Path, *, scale: float = 0.2) -> ScanFigure:
    """Sync every connector from a sandbox that accepts only sentinel keys, with a refused
    sentinel key then the accepted one; export; import with rejects; scan logs, messages,
    the store (every table) and every file written, and the repository's cassettes."""
    from cscor_tools.sandbox import Sandbox

    figure = ScanFigure()
    secrets = all_sentinels()
    with Sandbox(seed=14, scale=scale,
                 credentials={p: keys[0] for p, keys in SENTINELS.items()}) as sb:
        _sentinel_runs(sb, locs, work, figure, secrets)
    figure.scan_tree(REPO / "cassettes", secrets)
    return figure


def _sentinel_runs(sb: Any, locs: Locations, work: Path, figure: ScanFigure,
                   secrets: list[str]) -> None:
    from cscor_tools.connectors import load_connector
    from cscor_tools.export import export_bundle
    from cscor_tools.imports import import_file
    from cscor_tools.store import open_store

    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    messages: list[str] = []
    location = locs.new("secrets")
    try:
        for name in sandboxed_connectors():
            provider = load_connector(name).sandbox_provider
            assert provider
            accepted, refused = SENTINELS[provider]
            result = sync_into(name, sb, location, key=refused)
            assert result.status == "failed", result  # the error path, taken
            messages.append(repr(result))
            messages += [s.error or "" for s in result.streams]
            result = sync_into(name, sb, location, key=accepted)
            assert result.status == "succeeded", result
            messages.append(repr(result))
        bundle = work / "bundle"
        export_bundle(location, bundle, policy="portability")
        bad = work / "clients.csv"
        bad.write_text("email,name,rating\nnot-an-address,Ann,9\nbob@example.com,Bob,3\n")
        rejects = work / "clients.rejects.csv"
        with open_store(location) as store:
            imported = import_file(bad, store=store, rejects=rejects, entity="clients")
        messages.append(repr(imported))
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    for record in capture.records:
        figure.scan_text("log", record.getMessage() + repr(record.__dict__), secrets)
    for i, text in enumerate(messages):
        figure.scan_text(f"message {i}", text, secrets)
    figure.scan_store(location, secrets)
    figure.scan_tree(work, secrets)


# -- the benchmark ----------------------------------------------------------------------------


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


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        sys.exit(_child_main(sys.argv[2:]))
    sys.exit("usage: python -m benchmarks reliability [--json] (or: … child NAME URL WORKSPACE)")
