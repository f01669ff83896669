"""The durable job queue: procrastinate on a PostgreSQL database, and what we add beside it.

procrastinate keeps the jobs (``procrastinate_jobs``), hands each to one worker
(``SELECT … FOR UPDATE SKIP LOCKED``), holds a job's ``lock`` (one job per lock in ``doing``:
one sync per workspace and connector) and its ``queueing_lock`` (one waiting job per lock), retries
with our backoff, and records worker heartbeats. We add two small tables in the same schema:
the shared request budgets of provider accounts (``cscor_budgets``, see budget.py) and the
error of every failed attempt (``cscor_job_errors``: procrastinate keeps statuses, not
messages), so a parked job shows why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cscor_tools.config import Config
from cscor_tools.errors import ConfigError, StoreError
from cscor_tools.store import is_postgres_url
from cscor_tools.store.postgres import redact_url
from cscor_tools.workers.budget import BUDGETS_DDL
from cscor_tools.workers.jobs import ExportJob, SyncJob

if TYPE_CHECKING:
    import procrastinate

    from cscor_tools.workers.runner import Retention

log = logging.getLogger("cscor_tools.workers")

QUEUE_ENV = "CSCOR_QUEUE_URL"
INSTALL_HINT = "the job queue needs procrastinate: pip install 'cscor-tools[workers]'"

JOB_ERRORS_DDL = """
CREATE TABLE IF NOT EXISTS cscor_job_errors (
    job_id bigint NOT NULL,
    attempt integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    error text NOT NULL,
    exit_code integer NOT NULL,
    parked boolean NOT NULL,
    PRIMARY KEY (job_id, attempt)
)
"""

_JOBS_SQL = """
SELECT j.id, j.status::text, j.task_name, j.args, j.attempts, j.scheduled_at, e.error, e.at,
       coalesce(e.parked, false)
  FROM procrastinate_jobs j
  LEFT JOIN LATERAL (
      SELECT error, at, parked FROM cscor_job_errors WHERE job_id = j.id
       ORDER BY attempt DESC LIMIT 1) e ON true
 WHERE (%(statuses)s::text[] IS NULL OR j.status::text = ANY(%(statuses)s::text[]))
   AND (%(housekeeping)s OR j.task_name <> 'cscor:cleanup')
 ORDER BY j.id DESC
 LIMIT %(limit)s
"""


def procrastinate_module() -> Any:
    """procrastinate, or a configuration error naming the extra to install."""
    try:
        import procrastinate
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return procrastinate


def resolve_queue(flag: str | None, workspace: str | None,
                  env: Mapping[str, str] = os.environ) -> str:
    """Where the queue lives: --queue, then $CSCOR_QUEUE_URL, then the workspace itself when it
    is a PostgreSQL database (one workspace, one queue beside it)."""
    url = flag or env.get(QUEUE_ENV) or (
        workspace if workspace and is_postgres_url(workspace) else None
    )
    if not url:
        raise ConfigError(
            f"no job queue: give --queue postgresql://… or set {QUEUE_ENV} (the queue lives "
            "in a PostgreSQL database that every worker reaches)"
        )
    if not is_postgres_url(url):
        raise ConfigError(f"{redact_url(url)}: the job queue must be a postgresql:// URL")
    return url


@dataclass(frozen=True)
class JobInfo:
    """A job as the queue shows it, with the error of its latest failed attempt."""

    id: int
    status: str  # todo | doing | succeeded | failed | cancelled | aborted
    task: str
    args: dict[str, Any]
    attempts: int
    scheduled_at: datetime | None
    error: str | None
    error_at: datetime | None
    #: failed for good: no attempt is left, or the error needs a person
    parked: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "task": self.task, "args": self.args,
            "attempts": self.attempts,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "error": self.error,
            "error_at": self.error_at.isoformat() if self.error_at else None,
            "parked": self.parked,
        }


@dataclass(frozen=True)
class QueuedNamed:
    """One part of a named job put on the queue: what, the id queued (None: one was waiting
    already), and the id of the job that will do it."""

    title: str
    queued_id: int | None
    waiting_id: int | None


class Queue:
    """The job queue in a PostgreSQL database (its tables in the URL's schema)."""

    def __init__(self, url: str) -> None:
        if not is_postgres_url(url):
            raise ConfigError(f"{redact_url(url)}: the job queue must be a postgresql:// URL")
        self.url = url
        self.location = redact_url(url)

    # -- connections ------------------------------------------------------------------------

    def connect(self) -> Any:
        """A new autocommit connection to the queue's database."""
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: cannot connect: "
                             f"{str(exc).strip().splitlines()[0]}") from exc

    def app(self, *, pool_size: int = 4) -> procrastinate.App:
        """A procrastinate App on this queue, with our tasks registered."""
        pc = procrastinate_module()
        from cscor_tools.workers import tasks

        connector = pc.PsycopgConnector(conninfo=self.url, min_size=1, max_size=pool_size)
        app = pc.App(connector=connector)
        tasks.register(app)
        return app

    # -- schema -----------------------------------------------------------------------------

    def install(self) -> bool:
        """Create the queue's tables if they are missing; True when it created them."""
        pc = procrastinate_module()
        with self.connect() as conn:
            # One installer at a time: workers starting together must not race to CREATE.
            conn.execute("SELECT pg_advisory_lock(hashtext('cscor_tools:queue-install'))")
            try:
                (exists,) = conn.execute(
                    "SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
                if not exists:
                    conn.execute(pc.schema.SchemaManager.get_schema())
                conn.execute(BUDGETS_DDL)
                conn.execute(JOB_ERRORS_DDL)
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('cscor_tools:queue-install'))")
        return not exists

    # -- putting work on it -----------------------------------------------------------------

    def enqueue_sync(self, job: SyncJob, *, priority: int = 0) -> int | None:
        """Queue a sync; its id, or None when the same sync is already waiting."""
        from cscor_tools.workers import tasks

        job_id = self._defer(tasks.SYNC_TASK, job.lock, job.as_kwargs(), priority)
        if job_id is None:
            return None
        log.info("job queued", extra={"event": "job_queued", "job_id": job_id,
                                      "connector": job.connector,
                                      "workspace": redact_url(job.workspace)})
        return job_id

    def enqueue_export(self, job: ExportJob, *, priority: int = 0) -> int | None:
        """Queue an export; its id, or None when an export to the same place is waiting."""
        from cscor_tools.workers import tasks

        job_id = self._defer(tasks.EXPORT_TASK, job.lock, job.as_kwargs(), priority)
        if job_id is not None:
            log.info("job queued", extra={"event": "job_queued", "job_id": job_id,
                                          "out": job.export.out,
                                          "workspace": redact_url(job.workspace)})
        return job_id

    def enqueue_named(self, config: Config, name: str,
                      workspace: str | None = None) -> list[QueuedNamed]:
        """Queue a named job of cscor.toml: a sync of each of its connectors, then its export
        (if it names one), which runs once they all succeeded. A sync already waiting is not
        queued twice: the export waits for that one."""
        spec = config.job(name)
        where = spec.workspace or workspace or config.workspace
        if not where:
            raise ConfigError(f"job {name!r}: no workspace (give --workspace, or workspace = "
                              "… in cscor.toml or the job)")
        syncs = [SyncJob(where, c, full=spec.full, streams=tuple(spec.streams.get(c, ())))
                 for c in spec.connectors]
        export = ExportJob(where, spec.export) if spec.export is not None else None
        queued: list[QueuedNamed] = []
        for job in syncs:
            job_id = self.enqueue_sync(job)
            queued.append(QueuedNamed(job.title, job_id, job_id or self._waiting(job.lock)))
        if export is not None:
            after = tuple(q.waiting_id for q in queued if q.waiting_id is not None)
            export = ExportJob(where, export.export, after=after)
            job_id = self.enqueue_export(export)
            queued.append(QueuedNamed(export.title, job_id, job_id or self._waiting(export.lock)))
        return queued

    def _defer(self, task: str, lock: str, kwargs: dict[str, Any], priority: int) -> int | None:
        pc = procrastinate_module()
        self.install()
        app = self.app(pool_size=1)
        with app.open():
            deferrer = app.configure_task(task, lock=lock, queueing_lock=lock, priority=priority)
            try:
                job_id: int = deferrer.defer(**kwargs)
            except pc.exceptions.AlreadyEnqueued:
                return None
        return job_id

    def _waiting(self, lock: str) -> int | None:
        """The id of the job waiting under ``lock``, if one still is."""
        with self.connect() as conn:
            row = conn.execute("SELECT id FROM procrastinate_jobs WHERE queueing_lock = %s "
                               "AND status = 'todo' ORDER BY id DESC LIMIT 1", (lock,)).fetchone()
        return int(row[0]) if row else None

    # -- looking at it ----------------------------------------------------------------------

    def statuses(self, ids: Sequence[int]) -> dict[int, str]:
        """The status of each of these jobs still in the queue (a job cleaned away is gone)."""
        with self.connect() as conn:
            rows = conn.execute("SELECT id, status::text FROM procrastinate_jobs "
                                "WHERE id = ANY(%s)", (list(ids),)).fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    def failed_attempts(self, job_id: int) -> int:
        """How many attempts of a job failed (a wait for other jobs is not an attempt)."""
        with self.connect() as conn:
            row = conn.execute("SELECT count(*) FROM cscor_job_errors WHERE job_id = %s",
                               (job_id,)).fetchone()
        return int(row[0]) if row else 0

    def jobs(self, *, statuses: Sequence[str] | None = None, limit: int = 50,
             housekeeping: bool = False) -> list[JobInfo]:
        """The newest jobs (of these statuses), each with its latest error; the hourly
        cleanup's own jobs only with ``housekeeping``."""
        import psycopg

        with self.connect() as conn:
            try:
                rows = conn.execute(_JOBS_SQL, {"statuses": list(statuses) if statuses else None,
                                                "limit": limit,
                                                "housekeeping": housekeeping}).fetchall()
            except psycopg.errors.UndefinedTable:
                return []  # nothing was ever queued here
        return [
            JobInfo(id=r[0], status=r[1], task=r[2], args=dict(r[3] or {}), attempts=r[4],
                    scheduled_at=r[5], error=r[6], error_at=r[7],
                    parked=bool(r[8]) and r[1] == "failed")
            for r in rows
        ]

    def note_failure(self, job_id: int, attempt: int, error: str, exit_code: int,
                     parked: bool) -> None:
        """Remember why an attempt failed (and whether the job is parked for good)."""
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO cscor_job_errors (job_id, attempt, error, exit_code, parked) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (job_id, attempt) DO UPDATE SET "
                "error = excluded.error, exit_code = excluded.exit_code, "
                "parked = excluded.parked, at = now()",
                (job_id, attempt, error[:2000], exit_code, parked),
            )

    # -- cleaning it ------------------------------------------------------------------------

    def remove_old_jobs(self, *, keep_hours: float = 168.0,
                        keep_failed_hours: float | None = 720.0) -> int:
        """Delete jobs finished more than ``keep_hours`` ago (parked ones after
        ``keep_failed_hours``; None: never), with their recorded errors; how many went.

        procrastinate's own ``delete_old_jobs`` query does the work; the worker runs this
        every hour (``cscor worker --keep-finished``), so the queue's tables stay the size of
        a few days' work.
        """
        pc = procrastinate_module()
        query = pc.sql.queries["delete_old_jobs"]
        rounds = [(keep_hours, ["succeeded", "cancelled", "aborted"])]
        if keep_failed_hours is not None:
            rounds.append((keep_failed_hours, ["failed"]))
        removed = 0
        with self.connect() as conn:
            for hours, statuses in rounds:
                cur = conn.execute(query, {"nb_hours": str(float(hours)), "queue": None,
                                           "statuses": statuses})
                removed += max(0, cur.rowcount)
            conn.execute("DELETE FROM cscor_job_errors e WHERE NOT EXISTS "
                         "(SELECT 1 FROM procrastinate_jobs j WHERE j.id = e.job_id)")
        if removed:
            log.info("old jobs removed", extra={"event": "jobs_removed", "removed": removed})
        return removed

    # -- running it -------------------------------------------------------------------------

    def run_worker(
        self,
        *,
        config: Config,
        concurrency: int = 1,
        wait: bool = True,
        heartbeat: float = 10.0,
        name: str | None = None,
        retention: Retention | None = None,
    ) -> None:
        """Take jobs until stopped (SIGINT/SIGTERM finish the running job first).

        With ``wait=False`` the worker stops once the queue has nothing for it.
        """
        from cscor_tools.workers.runner import run_worker

        self.install()
        run_worker(self, config=config, concurrency=concurrency, wait=wait,
                   heartbeat=heartbeat, name=name, retention=retention)
