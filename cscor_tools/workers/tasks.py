"""The jobs a worker runs, as procrastinate tasks: a sync, and a scheduled job of cscor.toml.

A sync attempt that fails is retried by procrastinate at the time our retry strategy gives
(the job's backoff, doubling) until its attempts run out or its error needs a person; then it
is *parked*: left ``failed`` in the queue with its error in ``cscor_job_errors``, and a line
in the workspace's run log, so ``cscor status`` and ``cscor audit`` show it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from cscor_tools.config import Config, resolve_workspace
from cscor_tools.errors import CscorError, ExitCode
from cscor_tools.runs import RunStatus
from cscor_tools.store import open_store
from cscor_tools.store.postgres import redact_url
from cscor_tools.workers.jobs import SyncJob, is_retried, run_sync_job
from cscor_tools.workers.queue import procrastinate_module

if TYPE_CHECKING:
    import procrastinate

    from cscor_tools.workers.queue import Queue

log = logging.getLogger("cscor_tools.workers")

SYNC_TASK = "cscor:sync"
SCHEDULED_TASK = "cscor:scheduled"


def describe(exc: BaseException) -> str:
    if isinstance(exc, CscorError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def exit_code_of(exc: BaseException) -> int:
    return int(exc.exit_code) if isinstance(exc, CscorError) else int(ExitCode.INTERNAL)


def will_retry(job: SyncJob, attempts_done: int, exc: BaseException) -> bool:
    """Whether a failed attempt (``attempts_done`` of them, this one included) gets another."""
    return is_retried(exc) and attempts_done < job.attempts


def register(app: procrastinate.App) -> None:
    """Our tasks on ``app`` (new Task objects each time: an App owns the tasks it holds)."""
    pc = procrastinate_module()

    class SyncRetry(pc.BaseRetryStrategy):  # type: ignore[name-defined]
        """Retry what may pass (outages, locks, a lost worker) after the job's backoff."""

        def get_retry_decision(self, *, exception: BaseException,
                               job: procrastinate.jobs.Job) -> Any:
            spec = SyncJob.from_kwargs(job.task_kwargs)
            done = job.attempts + 1
            if not will_retry(spec, done, exception):
                return None
            return pc.RetryDecision(retry_in={"seconds": spec.backoff_after(done)})

    app.task(name=SYNC_TASK, pass_context=True, retry=SyncRetry())(sync_task)
    app.task(name=SCHEDULED_TASK, pass_context=True)(scheduled_task)


def sync_task(context: procrastinate.JobContext, **kwargs: Any) -> dict[str, Any]:
    """Run one queued sync (on a thread of the worker: the sync engine blocks)."""
    queue: Queue = context.additional_context["queue"]
    config: Config = context.additional_context["config"]
    job = SyncJob.from_kwargs(kwargs)
    attempt = context.job.attempts + 1
    assert context.job.id is not None
    try:
        result = run_sync_job(job, config=config, budget=queue.connect)
    except BaseException as exc:
        parked = not will_retry(job, attempt, exc)
        record_failure(queue, context.job.id, attempt, job, exc, parked=parked)
        raise
    return {"run_id": result.run_id, "status": str(result.status), "rows": result.rows(),
            "requests": int(result.requests.get("requests", 0))}


def record_failure(queue: Queue, job_id: int, attempt: int, job: SyncJob,
                   exc: BaseException, *, parked: bool) -> None:
    """Keep an attempt's error in the queue; a parked job also gets a line in the workspace's
    run log. Neither may hide the original error: their own failures are only logged."""
    error = describe(exc)
    try:
        queue.note_failure(job_id, attempt, error, exit_code_of(exc), parked)
    except Exception as note_exc:  # pragma: no cover - the queue went away too
        log.warning("could not record a job's error: %s", describe(note_exc))
    if parked:
        park_in_workspace(job, job_id, attempt, error)
    log.log(logging.ERROR if parked else logging.WARNING,
            "job parked" if parked else "job attempt failed",
            extra={"event": "job_parked" if parked else "job_failed", "job_id": job_id,
                   "attempt": attempt, "connector": job.connector,
                   "workspace": redact_url(job.workspace), "error": error})


def park_in_workspace(job: SyncJob, job_id: int, attempts: int, error: str) -> None:
    """A run-log line in the workspace: the job failed for good, after so many attempts."""
    try:
        with open_store(job.workspace, create=False) as store:
            run_id = store.start_run("job", f"sync {job.connector}",
                                     {"job_id": job_id, "attempts": attempts, "parked": True})
            store.finish_run(run_id, RunStatus.FAILED,
                             error=f"parked after {attempts} attempt(s): {error}",
                             details={"job_id": job_id, "attempts": attempts, "parked": True,
                                      "connector": job.connector})
    except CscorError as exc:  # no workspace there (yet): the queue still says it
        log.warning("could not note a parked job in its workspace: %s", exc)


async def scheduled_task(context: procrastinate.JobContext, timestamp: int,
                         job: str) -> list[int]:
    """A named job of cscor.toml, due now: queue a sync of each of its connectors."""
    config: Config = context.additional_context["config"]
    spec = config.job(job)
    workspace = spec.workspace or resolve_workspace(None, config)
    pc = procrastinate_module()
    queued = []
    for name in spec.connectors:
        sync_job = SyncJob(workspace, name, full=spec.full,
                           streams=tuple(spec.streams.get(name, ())))
        deferrer = context.app.configure_task(SYNC_TASK, lock=sync_job.lock,
                                              queueing_lock=sync_job.lock)
        try:
            queued.append(await deferrer.defer_async(**sync_job.as_kwargs()))
        except pc.exceptions.AlreadyEnqueued:
            log.info("scheduled sync already waiting", extra={
                "event": "job_skipped", "job": job, "connector": name,
                "workspace": redact_url(workspace)})
    return queued
