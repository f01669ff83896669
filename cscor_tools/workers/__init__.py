"""Many workspaces, many workers: sync and export jobs on a durable queue in PostgreSQL.

``cscor enqueue sync CONNECTOR --workspace URL``, ``cscor enqueue export --out s3://…`` or a
(scheduled) named job of cscor.toml puts work on the queue; ``cscor worker`` processes, on
any number of machines, take them. The queue is procrastinate's (install the ``workers``
extra); this package adds what syncs and exports need of it: one sync per (workspace,
connector) and one export per destination through the engine's locks, retries with backoff,
parked jobs with their error, recovery of a killed worker's job, an export that waits for
the syncs of its named job, the cleanup of finished jobs, and request budgets shared per
provider account (see docs/scaling.md).

    from cscor_tools.workers import Queue, SyncJob

    queue = Queue("postgresql://cscor@db/queue")
    queue.enqueue_sync(SyncJob("postgresql://cscor@db/acme", "stripe",
                               credential_env="ACME_STRIPE_KEY"))
"""

from __future__ import annotations

from cscor_tools.workers.budget import SharedRateLimiter, account_key
from cscor_tools.workers.jobs import (
    ExportJob,
    SyncJob,
    SyncJobError,
    is_retried,
    run_export_job,
    run_sync_job,
)
from cscor_tools.workers.queue import QUEUE_ENV, JobInfo, Queue, resolve_queue
from cscor_tools.workers.runner import Retention

__all__ = [
    "QUEUE_ENV",
    "ExportJob",
    "JobInfo",
    "Queue",
    "Retention",
    "SharedRateLimiter",
    "SyncJob",
    "SyncJobError",
    "account_key",
    "is_retried",
    "resolve_queue",
    "run_export_job",
    "run_sync_job",
]
