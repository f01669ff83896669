"""Many workspaces, many workers: sync jobs on a durable queue in PostgreSQL.

``cscor enqueue sync CONNECTOR --workspace URL`` (or a scheduled job of cscor.toml) puts a
sync on the queue; ``cscor worker`` processes, on any number of machines, take them. The queue
is procrastinate's (install the ``workers`` extra); this package adds what a sync needs of
it: one sync per (workspace, connector) through the engine's locks, retries with backoff,
parked jobs with their error, recovery of a killed worker's job, and request budgets shared
per provider account (see docs/scaling.md).

    from cscor_tools.workers import Queue, SyncJob

    queue = Queue("postgresql://cscor@db/queue")
    queue.enqueue_sync(SyncJob("postgresql://cscor@db/acme", "stripe",
                               credential_env="ACME_STRIPE_KEY"))
"""

from __future__ import annotations

from cscor_tools.workers.budget import SharedRateLimiter, account_key
from cscor_tools.workers.jobs import SyncJob, SyncJobError, is_retried, run_sync_job
from cscor_tools.workers.queue import QUEUE_ENV, JobInfo, Queue, resolve_queue

__all__ = [
    "QUEUE_ENV",
    "JobInfo",
    "Queue",
    "SharedRateLimiter",
    "SyncJob",
    "SyncJobError",
    "account_key",
    "is_retried",
    "resolve_queue",
    "run_sync_job",
]
