"""Finished jobs leave the queue after the worker's retention: procrastinate's delete query,
run by the hourly cleanup task every worker registers."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from cscor_tools.config import Config
from cscor_tools.workers import Queue, Retention, SyncJob
from cscor_tools.workers.runner import CLEANUP_SCHEDULE, register_cleanup
from cscor_tools.workers.tasks import CLEANUP_TASK

pytestmark = pytest.mark.postgres


def _errors(queue_url: str) -> int:
    with psycopg.connect(queue_url) as conn:
        return int(conn.execute("SELECT count(*) FROM cscor_job_errors").fetchone()[0])


def _park_and_succeed(queue: Queue, new_schema: Callable[[], str]) -> None:
    """One job parked (no credential on the worker), one that succeeds (the cleanup itself)."""
    queue.enqueue_sync(SyncJob(new_schema(), "stripe", credential_env="NOBODY_SET_THIS_KEY"))
    app = queue.app(pool_size=1)
    with app.open():
        app.configure_task(CLEANUP_TASK).defer(timestamp=0)


def test_old_jobs_are_removed_after_their_retention(
    queue_url: str, new_schema: Callable[[], str]
) -> None:
    queue = Queue(queue_url)
    queue.install()
    _park_and_succeed(queue, new_schema)
    # the worker's own cleanup ran with a retention of a week: nothing is that old (a worker
    # starting soon after the hour's cleanup time defers one more: the clock decides)
    queue.run_worker(config=Config(), wait=False, heartbeat=1)
    assert [j.status for j in queue.jobs()] == ["failed"]  # the cleanup's own are not shown
    statuses = sorted(j.status for j in queue.jobs(housekeeping=True))
    succeeded = statuses.count("succeeded")
    assert statuses == ["failed"] + ["succeeded"] * succeeded and succeeded >= 1
    assert _errors(queue_url) == 1

    assert queue.remove_old_jobs(keep_hours=1, keep_failed_hours=1) == 0
    assert queue.remove_old_jobs(keep_hours=0, keep_failed_hours=None) == succeeded
    (parked,) = queue.jobs(housekeeping=True)
    assert parked.parked and parked.error is not None  # kept, with its error
    assert queue.remove_old_jobs(keep_hours=0, keep_failed_hours=0) == 1
    assert queue.jobs(housekeeping=True) == [] and _errors(queue_url) == 0


def test_the_worker_runs_the_cleanup_with_its_retention(
    queue_url: str, new_schema: Callable[[], str]
) -> None:
    queue = Queue(queue_url)
    queue.install()
    queue.enqueue_sync(SyncJob(new_schema(), "stripe", credential_env="NOBODY_SET_THIS_KEY"))
    queue.run_worker(config=Config(), wait=False, heartbeat=1)
    assert [j.status for j in queue.jobs()] == ["failed"]
    app = queue.app(pool_size=1)
    with app.open():
        app.configure_task(CLEANUP_TASK).defer(timestamp=0)
    queue.run_worker(config=Config(), wait=False, heartbeat=1,
                     retention=Retention(finished_hours=0, failed_hours=0))
    # the parked job went; only cleanup jobs are left (the one running was not finished)
    assert queue.jobs() == []
    left = queue.jobs(housekeeping=True)
    assert left and {j.task for j in left} == {CLEANUP_TASK}


def test_every_worker_registers_the_hourly_cleanup() -> None:
    app = Queue("postgresql://localhost/q").app()
    register_cleanup(app)
    (task,) = [t for t in app.periodic_registry.periodic_tasks.values()
               if t.task.name == CLEANUP_TASK]
    assert task.cron == CLEANUP_SCHEDULE
