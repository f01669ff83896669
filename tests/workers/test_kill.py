"""A worker SIGKILLed mid-sync: another worker takes the job over and resumes it from the last
committed page; every workspace ends with exactly its account's data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import psycopg
import pytest

from cscor_tools.config import Config
from cscor_tools.sandbox.accounts import SandboxAccounts
from cscor_tools.store import open_store
from cscor_tools.workers import Queue, SyncJob, run_sync_job

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ACCOUNTS = ["acme", "globex", "initech"]


def _worker(queue_url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from cscor_tools.cli import main; main()", "worker",
         "--queue", queue_url,
         "--heartbeat", "0.5", "--log-format", "json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait(what: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.1)


def _rows(url: str) -> int:
    """Rows committed so far (a cursor alone may be a slice that had nothing to read)."""
    with psycopg.connect(url) as conn:
        try:
            return int(conn.execute(
                "SELECT (SELECT count(*) FROM clients) + (SELECT count(*) FROM invoices) "
                "+ (SELECT count(*) FROM payments)").fetchone()[0])
        except psycopg.errors.UndefinedTable:
            return 0


def _source_ids(url: str, entity: str) -> list[str]:
    with open_store(url) as store:
        return sorted(r["source_id"] for batch in store.iter_rows(entity, columns=["source_id"])
                      for r in batch)


def test_a_killed_workers_job_resumes_on_another(
    queue_url: str, new_schema: Callable[[], str]
) -> None:
    queue = Queue(queue_url)
    workspaces = {name: new_schema() for name in ACCOUNTS}
    with SandboxAccounts(ACCOUNTS, scale=0.15, rate_limit={"stripe": 5}, latency_ms=20) as sb:
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        for name in ACCOUNTS:
            env[f"{name.upper()}_KEY"] = sb.credentials(name, "stripe")
            queue.enqueue_sync(SyncJob(workspaces[name], "stripe",
                                       credential_env=f"{name.upper()}_KEY",
                                       base_url=sb.base_url("stripe"), rate_limit=5,
                                       backoff=0))
        first = _worker(queue_url, env)
        second: subprocess.Popen[bytes] | None = None
        try:
            # The first worker alone takes the first job; kill it once a page is committed.
            _wait(lambda: _rows(workspaces["acme"]) > 0, 60, "no page was committed")
            first.send_signal(signal.SIGKILL)
            first.wait()
            second = _worker(queue_url, env)
            _wait(lambda: all(j.status == "succeeded" for j in queue.jobs())
                  and len(queue.jobs()) == 3, 120, f"jobs did not finish: {queue.jobs()}")
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=30)

        killed = next(j for j in queue.jobs() if j.args["workspace"] == workspaces["acme"])
        assert killed.attempts == 2
        assert killed.error is not None and "stopped" in killed.error  # its first attempt
        for name in ACCOUNTS:
            account = sb.account(name)
            assert _source_ids(workspaces[name], "clients") == sorted(
                account.expected_ids("stripe.customers"))
            assert _source_ids(workspaces[name], "invoices") == sorted(
                account.expected_ids("stripe.invoices"))

        with open_store(workspaces["acme"]) as store:
            runs = [r for r in reversed(store.runs(10)) if r.kind == "sync"]
        assert [str(r.status) for r in runs] == ["interrupted", "succeeded"]
        resumed = sum(s["objects"] for s in runs[1].details["streams"])

        # The same account synced whole, without a kill: the resumed run read less.
        sb.account("acme").configure(rate_limit={"stripe": 1000})
        reference = new_schema()
        full = run_sync_job(SyncJob(reference, "stripe", credential_env="ACME_KEY",
                                    base_url=sb.base_url("stripe"), rate_limit=1000),
                            config=Config(), budget=None, env=env)
        assert resumed < sum(s.objects for s in full.streams)
