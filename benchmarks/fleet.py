"""Many workspaces, many workers: 20 workspaces on one PostgreSQL, each synced from its own
sandbox account (10 req/s, 50 ms latency), by 1, 2 and 4 ``cscor worker`` processes.

Each run starts on fresh schemas (a queue, and one per workspace), starts the workers, waits
until all have registered, queues the 20 syncs and times them until the last succeeds. The
same accounts serve every run, so every run must end with the same rows. A last run with 4
workers SIGKILLs one of them mid-job: its job is handed back after 3 missed heartbeats and
resumed by another worker; every workspace is then compared with the 1-worker run's, id by id.

Also measured, for docs/scaling.md: the workers' CPU seconds per 1,000 provider objects, the
database connections in use, the WAL written and the tables' size per workspace.

Needs PostgreSQL: CSCOR_TEST_POSTGRES_URL, or a throwaway server is started (.ci/postgres.sh).
Parameters (``--set``): workspaces=20, rate=10, latency_ms=50, scale=0.25, heartbeat=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks import target

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def _postgres() -> Iterator[str]:
    url = os.environ.get("CSCOR_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    script = ROOT / ".ci" / "postgres.sh"
    out = subprocess.run(["bash", "-c", f"source {script} start && echo $CSCOR_TEST_POSTGRES_URL"
                          " && echo $PGTMP"], check=True, capture_output=True, text=True)
    url, tmp = out.stdout.split()[-2:]
    try:
        yield url
    finally:
        subprocess.run(["bash", str(script), "stop", tmp], check=False)


def _schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Fleet:
    """One run: fresh schemas, n workers, 20 queued syncs."""

    def __init__(self, base: str, sandbox: Any, names: list[str], params: dict[str, float]):
        import psycopg

        self.base = base
        self.sandbox = sandbox
        self.names = names
        self.params = params
        tag = uuid.uuid4().hex[:8]
        self.schemas = {"queue": f"fq_{tag}", **{n: f"fw_{tag}_{n}" for n in names}}
        with psycopg.connect(base, autocommit=True) as conn:
            for schema in self.schemas.values():
                conn.execute(f'CREATE SCHEMA "{schema}"')
        self.queue_url = _schema_url(base, self.schemas["queue"])
        self.workspaces = {n: _schema_url(base, self.schemas[n]) for n in names}
        self.workers: list[subprocess.Popen[bytes]] = []
        self.cpu_at_start = 0.0

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for n in self.names:
            env[f"{n.upper()}_KEY"] = self.sandbox.credentials(n, "stripe")
        return env

    def start_workers(self, count: int) -> None:
        from cscor_tools.workers import Queue

        Queue(self.queue_url).install()
        command = [sys.executable, "-c", "from cscor_tools.cli import main; main()", "worker",
                   "--queue", self.queue_url, "--heartbeat", str(self.params["heartbeat"]),
                   "--log-format", "json"]
        for _ in range(count):
            self.workers.append(subprocess.Popen(command, env=self.env(),
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL))
        self._wait(lambda: self._registered() >= count, 120, "workers did not start")
        # what starting cost (imports, connections) is not the syncs' CPU
        self.cpu_at_start = sum(_cpu_seconds(w.pid) for w in self.workers)

    def _registered(self) -> int:
        import psycopg

        with psycopg.connect(self.queue_url) as conn:
            try:
                return int(conn.execute("SELECT count(*) FROM procrastinate_workers")
                           .fetchone()[0])
            except psycopg.errors.UndefinedTable:
                return 0

    def enqueue(self) -> None:
        from cscor_tools.workers import Queue, SyncJob

        queue = Queue(self.queue_url)
        for n in self.names:
            queue.enqueue_sync(SyncJob(self.workspaces[n], "stripe",
                                       credential_env=f"{n.upper()}_KEY",
                                       base_url=self.sandbox.base_url("stripe"),
                                       rate_limit=self.params["rate"], backoff=1))

    def statuses(self) -> list[str]:
        from cscor_tools.workers import Queue

        return [j.status for j in Queue(self.queue_url).jobs(limit=1000)]

    def wait_done(self, timeout: float, on_tick: Any = None) -> None:
        def done() -> bool:
            if on_tick is not None:
                on_tick()
            s = self.statuses()
            if "failed" in s:
                raise RuntimeError(f"a job failed: {self._errors()}")
            return len(s) == len(self.names) and all(x == "succeeded" for x in s)

        self._wait(done, timeout, "the syncs did not finish")

    def _errors(self) -> list[str]:
        from cscor_tools.workers import Queue

        return [str(j.error) for j in Queue(self.queue_url).jobs(limit=1000) if j.error]

    def stop_workers(self) -> float:
        """SIGTERM the live workers; their CPU seconds (read just before)."""
        cpu = 0.0
        for w in self.workers:
            if w.poll() is None:
                cpu += _cpu_seconds(w.pid)
                w.terminate()
        for w in self.workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        return cpu

    def objects(self) -> int:
        from cscor_tools.store import open_store

        total = 0
        for url in self.workspaces.values():
            with open_store(url) as store:
                for r in store.runs(20, kind="sync"):
                    if r.status == "succeeded":
                        total += sum(int(s["objects"]) for s in r.details.get("streams", []))
        return total

    def ids(self) -> dict[str, dict[str, list[str]]]:
        """Per workspace, per entity: every row's source id (duplicates kept)."""
        from cscor_tools.schema import ENTITIES
        from cscor_tools.store import open_store

        out: dict[str, dict[str, list[str]]] = {}
        for n, url in self.workspaces.items():
            with open_store(url) as store:
                out[n] = {
                    e: sorted(r["source_id"] for batch in store.iter_rows(e, columns=["source_id"])
                              for r in batch)
                    for e in ENTITIES
                }
        return out

    def size_bytes(self) -> int:
        import psycopg

        with psycopg.connect(self.base) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = ANY(%s) "
                "AND c.relkind = 'r'", ([v for k, v in self.schemas.items() if k != "queue"],)
            ).fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.base, autocommit=True) as conn:
            for schema in self.schemas.values():
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    @staticmethod
    def _wait(what: Any, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if time.monotonic() > deadline:
                raise RuntimeError(message)
            time.sleep(0.2)


def _pg(base: str, sql: str) -> Any:
    import psycopg

    with psycopg.connect(base) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


def _timed_run(base: str, sandbox: Any, names: list[str], params: dict[str, float],
               workers: int, kill: bool = False) -> tuple[dict[str, Any], _Fleet]:
    fleet = _Fleet(base, sandbox, names, params)
    fleet.start_workers(workers)
    peak = {"connections": 0}

    def sample() -> None:
        n = int(_pg(base, "SELECT count(*) FROM pg_stat_activity "
                          "WHERE datname = current_database()"))
        peak["connections"] = max(peak["connections"], n)

    wal0 = _pg(base, "SELECT pg_current_wal_lsn()::text")
    started = time.monotonic()
    fleet.enqueue()
    killed = None
    if kill:
        # Mid-job: once a few workspaces have committed pages, the first worker goes.
        def some_pages() -> bool:
            import psycopg

            done = 0
            for url in fleet.workspaces.values():
                with psycopg.connect(url) as conn, suppress(psycopg.errors.UndefinedTable):
                    done += bool(conn.execute(
                        "SELECT count(*) FROM cscor_sync_state").fetchone()[0])
            return done >= workers

        fleet._wait(some_pages, 120, "no page was committed")
        killed = fleet.workers[0]
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    fleet.wait_done(1800, on_tick=sample)
    elapsed = time.monotonic() - started
    wal = int(_pg(base, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{wal0}')"))
    cpu = fleet.stop_workers()
    objects = fleet.objects()
    from cscor_tools.workers import Queue

    jobs = Queue(fleet.queue_url).jobs(limit=1000)
    figures = {
        "workers": workers,
        "seconds": round(elapsed, 2),
        "objects": objects,
        "objects_per_s": round(objects / elapsed, 1),
        "worker_cpu_s": round(cpu - fleet.cpu_at_start, 2),
        "peak_connections": peak["connections"],
        "wal_bytes": wal,
        "attempts": sum(j.attempts for j in jobs),
    }
    if killed is not None:
        figures["killed_pid"] = killed.pid
        figures["jobs_handed_back"] = sum(1 for j in jobs if j.attempts > 1)
    return figures, fleet


def _compare(reference: dict[str, dict[str, list[str]]],
             got: dict[str, dict[str, list[str]]]) -> dict[str, int]:
    lost = duplicated = extra = 0
    for ws, entities in reference.items():
        for entity, ids in entities.items():
            mine = got[ws][entity]
            duplicated += len(mine) - len(set(mine))
            lost += len(set(ids) - set(mine))
            extra += len(set(mine) - set(ids))
    return {"lost": lost, "duplicated": duplicated, "extra": extra}


def run(options: dict[str, str]) -> dict[str, Any]:
    from cscor_tools.sandbox.accounts import SandboxAccounts

    count = int(options.get("workspaces", 20))
    params = {
        "rate": float(options.get("rate", 10)),
        "heartbeat": float(options.get("heartbeat", 1)),
    }
    latency = float(options.get("latency_ms", 50))
    scale = float(options.get("scale", 0.25))
    names = [f"acct{i:02d}" for i in range(count)]
    out: dict[str, Any] = {"workspaces": count, "rate_per_account": params["rate"],
                           "latency_ms": latency, "scale": scale}
    fleets: list[_Fleet] = []
    with _postgres() as base, SandboxAccounts(names, scale=scale, latency_ms=latency,
                                              rate_limit={"stripe": params["rate"]}) as sb:
        expected = sb.account(names[0]).expected_counts()
        out["objects_per_account"] = {k: v for k, v in expected.items()
                                      if k.startswith("stripe.") and not k.endswith("deleted")}
        try:
            runs = {}
            reference = None
            for workers in (1, 2, 4):
                figures, fleet = _timed_run(base, sb, names, params, workers)
                fleets.append(fleet)
                runs[workers] = figures
                if workers == 1:
                    reference = fleet.ids()
                    out["table_bytes_per_workspace"] = fleet.size_bytes() // count
                else:
                    mismatch = _compare(reference or {}, fleet.ids())
                    figures.update(mismatch)
            killed, fleet = _timed_run(base, sb, names, params, 4, kill=True)
            fleets.append(fleet)
            killed.update(_compare(reference or {}, fleet.ids()))
            stats = [sb.account(n).stats() for n in names]
        finally:
            for fleet in fleets:
                fleet.drop()
    one = runs[1]
    out["runs"] = list(runs.values())
    out["killed_run"] = killed
    out["cpu_s_per_1000_objects"] = round(1000 * one["worker_cpu_s"] / one["objects"], 3)
    out["rate_limited_responses"] = sum(
        int(s.get("stripe", {}).get("rate_limited", 0)) for s in stats)
    # every run syncs every account once (the killed run a little more): requests per sync
    requests = sum(int(s.get("stripe", {}).get("requests", 0)) for s in stats)
    per_sync = requests / (4 * count)
    out["requests_per_sync"] = round(per_sync, 1)
    # how much of a sync's time the account's rate alone explains (1: purely rate-bound)
    out["rate_bound_share"] = round((per_sync / params["rate"]) / (one["seconds"] / count), 2)
    speedup2 = runs[2]["objects_per_s"] / one["objects_per_s"]
    speedup4 = runs[4]["objects_per_s"] / one["objects_per_s"]
    out["speedup"] = {"2": round(speedup2, 2), "4": round(speedup4, 2)}
    wrong = killed["lost"] + killed["duplicated"] + killed["extra"]
    out["targets"] = {
        "speedup_4_workers": target(speedup4, 3.5),
        "rows_lost_or_doubled_with_a_kill": target(wrong, 0, at_least=False),
        "kill_was_mid_job": target(killed["jobs_handed_back"], 1),
    }
    return out
