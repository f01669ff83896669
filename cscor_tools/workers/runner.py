"""A worker process: procrastinate's worker, the schedules of cscor.toml, the hourly cleanup
of finished jobs, and the recovery of jobs whose worker died.

procrastinate's workers beat a heartbeat into the queue; a job left ``doing`` by a worker that
stopped beating (SIGKILL, a lost machine, out of memory) is found by the engine's own
``get_stalled_jobs`` and handed back with ``retry_job``. Every worker looks for such jobs
once a heartbeat, but only one at a time (an advisory lock), so a job is never handed back
twice. The next attempt resumes the sync from its last committed page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cscor_tools.config import Config
from cscor_tools.errors import ConfigError, CscorError, ExitCode
from cscor_tools.workers.jobs import ExportJob, SyncJob
from cscor_tools.workers.queue import procrastinate_module
from cscor_tools.workers.tasks import (
    CLEANUP_TASK,
    EXPORT_TASK,
    SCHEDULED_TASK,
    SYNC_TASK,
    record_failure,
)

if TYPE_CHECKING:
    import procrastinate

    from cscor_tools.workers.queue import Queue

log = logging.getLogger("cscor_tools.workers")

#: a worker that missed this many heartbeats in a row is taken for dead
MISSED_BEATS = 3
_RECOVER_LOCK = "cscor_tools:recover-stalled"
#: when finished jobs are cleaned away: every hour (at minute 7, away from the top of the hour)
CLEANUP_SCHEDULE = "7 * * * *"


@dataclass(frozen=True)
class Retention:
    """How long finished jobs stay in the queue: succeeded (or cancelled) ones, and parked
    ones (None: until removed by hand), in hours."""

    finished_hours: float = 168.0
    failed_hours: float | None = 720.0


class WorkerLostError(CscorError):
    """The worker running a job stopped beating: killed, frozen or cut off."""

    exit_code = ExitCode.INTERNAL


def register_schedules(app: procrastinate.App, config: Config) -> list[str]:
    """Put the named jobs of cscor.toml that have a ``schedule`` on the engine's periodic
    deferrer; returns their names. Every worker registers them; the queue defers each due
    time once, however many workers there are."""
    import croniter

    task = app.tasks[SCHEDULED_TASK]
    names = []
    for name, job in sorted(config.jobs.items()):
        if job.schedule is None:
            continue
        if not croniter.croniter.is_valid(job.schedule):
            raise ConfigError(f"jobs.{name}.schedule: {job.schedule!r} is not a valid cron "
                              "expression")
        app.periodic_registry.register_task(
            task=task, cron=job.schedule, periodic_id=name,
            configure_kwargs={"task_kwargs": {"job": name}, "queueing_lock": f"job:{name}"},
        )
        names.append(name)
    return names


def register_cleanup(app: procrastinate.App) -> None:
    """Every worker registers the hourly cleanup; the queue defers each hour's once."""
    app.periodic_registry.register_task(
        task=app.tasks[CLEANUP_TASK], cron=CLEANUP_SCHEDULE, periodic_id="cleanup",
        configure_kwargs={"task_kwargs": {}, "queueing_lock": CLEANUP_TASK},
    )


def run_worker(queue: Queue, *, config: Config, concurrency: int, wait: bool,
               heartbeat: float, name: str | None, retention: Retention | None = None) -> None:
    """Run a worker until it is stopped (or, with ``wait=False``, has nothing left to do)."""
    app = queue.app(pool_size=concurrency + 3)
    scheduled = register_schedules(app, config)
    if scheduled:
        log.info("schedules", extra={"event": "schedules", "jobs": scheduled})
    register_cleanup(app)
    asyncio.run(_serve(queue, app, config=config, concurrency=concurrency, wait=wait,
                       heartbeat=heartbeat, name=name, retention=retention or Retention()))


async def _serve(queue: Queue, app: procrastinate.App, *, config: Config, concurrency: int,
                 wait: bool, heartbeat: float, name: str | None,
                 retention: Retention = Retention()) -> None:
    async with app.open_async():
        recovery = asyncio.create_task(_recover_forever(queue, app, heartbeat))
        try:
            await app.run_worker_async(
                concurrency=concurrency,
                wait=wait,
                name=name or "cscor-worker",
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=heartbeat * MISSED_BEATS,
                fetch_job_polling_interval=min(5.0, heartbeat),
                additional_context={"queue": queue, "config": config,
                                    "retention": retention},
            )
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery


async def _recover_forever(queue: Queue, app: procrastinate.App, heartbeat: float) -> None:
    while True:
        await asyncio.sleep(heartbeat)
        try:
            await recover_stalled(queue, app, stalled_after=heartbeat * MISSED_BEATS)
        except Exception as exc:  # the queue may be briefly away: try again next beat
            log.warning("stalled-job recovery failed: %s", exc)


async def recover_stalled(queue: Queue, app: procrastinate.App, *,
                          stalled_after: float) -> list[int]:
    """Hand back the jobs of workers silent for ``stalled_after`` seconds; their ids.

    A sync whose attempts are spent is parked instead (a job that kills its worker every
    time must not do so forever).
    """
    import psycopg

    pc = procrastinate_module()
    recovered: list[int] = []
    async with await psycopg.AsyncConnection.connect(queue.url, autocommit=True) as conn:
        row = await (await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))",
                                        (_RECOVER_LOCK,))).fetchone()
        if not row or not row[0]:
            return recovered  # another worker is at it
        try:
            for job in await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=stalled_after
            ):
                assert job.id is not None
                parked = False
                spec: SyncJob | ExportJob | None = None
                if job.task_name == SYNC_TASK:
                    spec = SyncJob.from_kwargs(job.task_kwargs)
                    attempt = job.attempts + 1
                elif job.task_name == EXPORT_TASK:
                    spec = ExportJob.from_kwargs(job.task_kwargs)
                    attempt = await asyncio.to_thread(queue.failed_attempts, job.id) + 1
                if spec is not None:
                    parked = attempt >= spec.attempts
                    lost = WorkerLostError(
                        f"the worker running it stopped (no heartbeat for {stalled_after:g} s)")
                    await asyncio.to_thread(record_failure, queue, job.id, attempt, spec, lost,
                                            parked=parked)
                if parked:
                    await app.job_manager.finish_job(job, status=pc.jobs.Status.FAILED,
                                                     delete_job=False)
                else:
                    await app.job_manager.retry_job(job)
                recovered.append(job.id)
                log.warning("stalled job handed back", extra={
                    "event": "job_recovered", "job_id": job.id, "parked": parked})
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (_RECOVER_LOCK,))
    return recovered
