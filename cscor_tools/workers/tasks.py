"""The jobs a worker runs, as procrastinate tasks: a sync, an export, a scheduled job of
cscor.toml, and the periodic cleanup of finished jobs.

An export that follows syncs (a named job's) waits for them: while one is still to run it
is tried again a few seconds later (a wait is not a failed attempt); once one has failed for
good the export is parked without being written, since it would hold stale data.

A sync or export attempt that fails is retried by procrastinate at the time our retry strategy gives
(the job's backoff, doubling) until its attempts run out or its error needs a person; then it
is *parked*: left ``failed`` in the queue with its error in ``cscor_job_errors``, and a line
in the workspace's run log, so ``cscor status`` and ``cscor audit`` show it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from cscor_tools.config import Config, resolve_workspace
from cscor_tools.errors import CscorError, ExitCode
from cscor_tools.runs import RunStatus
from cscor_tools.store import open_store
from cscor_tools.store.postgres import redact_url
from cscor_tools.workers.jobs import ExportJob, SyncJob, is_retried, run_export_job, run_sync_job
from cscor_tools.workers.queue import procrastinate_module

if TYPE_CHECKING:
    import procrastinate

    from cscor_tools.workers.queue import Queue

log = logging.getLogger("cscor_tools.workers")

SYNC_TASK = "cscor:sync"
EXPORT_TASK = "cscor:export"
SCHEDULED_TASK = "cscor:scheduled"
CLEANUP_TASK = "cscor:cleanup"
#: seconds between two looks of an export at the syncs it waits for
WAIT_POLL = 5.0

QueuedJob = SyncJob | ExportJob


class SyncsPendingError(CscorError):
    """An export's syncs have not all run yet: it is looked at again shortly."""

    exit_code = ExitCode.LOCKED


class AttemptFailedError(CscorError):
    """A failed export attempt, with what the queue should do next (``retry_in`` seconds,
    or None: parked)."""

    def __init__(self, message: str, exit_code: int, retry_in: float | None) -> None:
        super().__init__(message)
        self.exit_code = ExitCode(exit_code)
        self.retry_in = retry_in


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

    class ExportRetry(pc.BaseRetryStrategy):  # type: ignore[name-defined]
        """Look again soon while the syncs run; retry a failed attempt as the task decided."""

        def get_retry_decision(self, *, exception: BaseException,
                               job: procrastinate.jobs.Job) -> Any:
            if isinstance(exception, SyncsPendingError):
                return pc.RetryDecision(retry_in={"seconds": WAIT_POLL})
            retry_in = getattr(exception, "retry_in", None)
            if retry_in is None:
                return None
            return pc.RetryDecision(retry_in={"seconds": retry_in})

    app.task(name=SYNC_TASK, pass_context=True, retry=SyncRetry())(sync_task)
    app.task(name=EXPORT_TASK, pass_context=True, retry=ExportRetry())(export_task)
    app.task(name=SCHEDULED_TASK, pass_context=True)(scheduled_task)
    app.task(name=CLEANUP_TASK, pass_context=True)(cleanup_task)


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


def export_task(context: procrastinate.JobContext, **kwargs: Any) -> dict[str, Any]:
    """Run one queued export, once the syncs it follows have succeeded."""
    queue: Queue = context.additional_context["queue"]
    job = ExportJob.from_kwargs(kwargs)
    assert context.job.id is not None
    job_id = context.job.id
    statuses = queue.statuses(job.after) if job.after else {}
    pending = [i for i, s in statuses.items() if s in ("todo", "doing")]
    if pending:
        raise SyncsPendingError(f"waiting for sync job(s) {_ids(pending)}")
    attempt = queue.failed_attempts(job_id) + 1
    try:
        failed = [i for i, s in statuses.items() if s != "succeeded"]
        if failed:
            raise ExportSkippedError(f"not written: sync job(s) {_ids(failed)} did not succeed")
        return run_export_job(job)
    except BaseException as exc:
        retried = is_retried(exc) and attempt < job.attempts
        record_failure(queue, job_id, attempt, job, exc, parked=not retried)
        raise AttemptFailedError(describe(exc), exit_code_of(exc),
                                 job.backoff_after(attempt) if retried else None) from exc


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


class ExportSkippedError(CscorError):
    """The syncs an export follows failed: writing it would publish stale data."""

    exit_code = ExitCode.CONFIG


async def cleanup_task(context: procrastinate.JobContext, timestamp: int) -> None:
    """Remove finished jobs older than the worker's retention (and their recorded errors)."""
    queue: Queue = context.additional_context["queue"]
    keep = context.additional_context["retention"]
    await asyncio.to_thread(queue.remove_old_jobs, keep_hours=keep.finished_hours,
                            keep_failed_hours=keep.failed_hours)


def record_failure(queue: Queue, job_id: int, attempt: int, job: QueuedJob,
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
                   "attempt": attempt, "job": _what(job),
                   "workspace": redact_url(job.workspace), "error": error})


def _what(job: QueuedJob) -> str:
    return f"sync {job.connector}" if isinstance(job, SyncJob) else f"export to {job.export.out}"


def park_in_workspace(job: QueuedJob, job_id: int, attempts: int, error: str) -> None:
    """A run-log line in the workspace: the job failed for good, after so many attempts."""
    what = ({"connector": job.connector} if isinstance(job, SyncJob)
            else {"out": job.export.out})
    try:
        with open_store(job.workspace, create=False) as store:
            run_id = store.start_run("job", _what(job),
                                     {"job_id": job_id, "attempts": attempts, "parked": True})
            store.finish_run(run_id, RunStatus.FAILED,
                             error=f"parked after {attempts} attempt(s): {error}",
                             details={"job_id": job_id, "attempts": attempts, "parked": True,
                                      **what})
    except CscorError as exc:  # no workspace there (yet): the queue still says it
        log.warning("could not note a parked job in its workspace: %s", exc)


async def scheduled_task(context: procrastinate.JobContext, timestamp: int,
                         job: str) -> list[int]:
    """A named job of cscor.toml, due now: queue a sync of each of its connectors, then its
    export (which waits for them)."""
    config: Config = context.additional_context["config"]
    queue: Queue = context.additional_context["queue"]
    queued = await asyncio.to_thread(queue.enqueue_named, config, job,
                                     resolve_workspace(None, config))
    return [q.queued_id for q in queued if q.queued_id is not None]
