"""Two live worker processes syncing two workspaces of one provider account share the
account's rate (the sandbox, enforcing that rate, refuses none of their requests); workspaces
of two accounts are not held to one rate."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from cscor_tools.sandbox.accounts import SandboxAccounts
from cscor_tools.store import open_store
from cscor_tools.workers import Queue, SyncJob
from tests.workers.test_exports import stop, wait_for, worker

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RATE = 20.0  # each account's limit, requests per second, enforced by the sandbox
BURST = 10  # the Stripe connector's burst, granted at once by the shared budget


def _sync_all(queue_url: str, jobs: list[SyncJob], env: dict[str, str]) -> None:
    """Queue the syncs, run them on two worker processes, wait for all to succeed."""
    queue = Queue(queue_url)
    queue.install()
    procs = [worker(queue_url, env=env), worker(queue_url, env=env)]
    try:
        # both at work before anything is queued, so that each takes one sync
        wait_for(lambda: _workers(queue_url) == 2, 60, lambda: "the workers did not start")
        for job in jobs:
            assert queue.enqueue_sync(job) is not None
        wait_for(lambda: [j.status for j in queue.jobs()] == ["succeeded"] * len(jobs), 120,
                 lambda: f"{queue.jobs()}")
    finally:
        stop(*procs)


def _workers(queue_url: str) -> int:
    with psycopg.connect(queue_url) as conn:
        return int(conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0])


def _window(url: str) -> tuple[float, float]:
    with open_store(url) as store:
        (run,) = [r for r in store.runs(5) if r.kind == "sync"]
    assert run.status == "succeeded" and run.ended_at is not None
    return run.started_at.timestamp(), run.ended_at.timestamp()


def _rate(requests: int, windows: list[tuple[float, float]]) -> float:
    """Requests per second over the runs' span; the runs overlapped (each worker took one)."""
    assert max(w[0] for w in windows) < min(w[1] for w in windows), "the syncs did not overlap"
    start, end = min(w[0] for w in windows), max(w[1] for w in windows)
    return requests / (end - start)


def test_two_worker_processes_share_one_accounts_rate_and_not_another_s(
    queue_url: str, new_schema: Callable[[], str]
) -> None:
    with SandboxAccounts(["acme", "globex"], scale=0.25, rate_limit={"stripe": RATE}) as sb:
        env = {"ACME_KEY": sb.credentials("acme", "stripe"),
               "GLOBEX_KEY": sb.credentials("globex", "stripe")}

        def job(workspace: str, key: str) -> SyncJob:
            return SyncJob(workspace, "stripe", credential_env=key, rate_limit=RATE,
                           base_url=sb.base_url("stripe"), backoff=0)

        # Two workspaces of acme, at once: together within acme's rate, none refused.
        first, second = new_schema(), new_schema()
        _sync_all(queue_url, [job(first, "ACME_KEY"), job(second, "ACME_KEY")], env)
        acme = sb.account("acme").stats()["stripe"]
        assert acme["rate_limited"] == 0 and "429" not in acme["statuses"]
        # beyond the burst the shared budget grants at once (the connector's, 10), within
        # the rate; the sandbox allows a burst of RATE, so these never came near a refusal
        shared = _rate(acme["requests"] - BURST, [_window(first), _window(second)])
        assert shared <= RATE * 1.05

        # One workspace of acme and one of globex, at once: each at its own account's rate.
        sb.account("acme").configure()  # nothing changes but the counters' start
        other_queue = new_schema()
        third, fourth = new_schema(), new_schema()
        before = sb.account("acme").stats()["stripe"]["requests"]
        _sync_all(other_queue, [job(third, "ACME_KEY"), job(fourth, "GLOBEX_KEY")], env)
        acme_requests = sb.account("acme").stats()["stripe"]["requests"] - before
        globex = sb.account("globex").stats()["stripe"]
        assert globex["rate_limited"] == 0
        apart = _rate(acme_requests + globex["requests"], [_window(third), _window(fourth)])
        assert apart > RATE * 1.4, f"two accounts went at {apart:.1f} req/s together"
