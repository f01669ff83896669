"""Queue commands: `cscor worker`, `cscor enqueue sync|export|job` and `cscor jobs`."""

from __future__ import annotations

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import clip, print_json, print_table
from cscor_tools.config import ExportSpec, base_url_problem, resolve_workspace
from cscor_tools.formats import FORMATS
from cscor_tools.store.postgres import redact_url
from cscor_tools.workers import ExportJob, Queue, SyncJob, resolve_queue
from cscor_tools.workers.runner import Retention

_queue_option = click.option(
    "--queue", "queue_url", metavar="URL",
    help="The job queue: a postgresql:// URL (default: $CSCOR_QUEUE_URL, else the workspace "
         "when it is a PostgreSQL database).",
)


def _queue(ctx: click.Context, flag: str | None) -> Queue:
    a = app(ctx)
    return Queue(resolve_queue(flag, resolve_workspace(a.workspace, a.config)))


def _base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    problem = base_url_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value


@click.command()
@_queue_option
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Jobs this worker runs at once.")
@click.option("--heartbeat", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              metavar="SECONDS",
              help="Seconds between heartbeats; a worker silent for 3 of them is taken for "
                   "dead and its job handed to another.")
@click.option("--burst", is_flag=True,
              help="Stop once the queue has nothing left for this worker.")
@click.option("--name", metavar="NAME", help="This worker's name in logs.")
@click.option("--keep-finished", type=click.FloatRange(min=0), default=168.0,
              show_default=True, metavar="HOURS",
              help="Finished jobs are removed from the queue this long after (checked hourly).")
@click.option("--keep-parked", type=click.FloatRange(min=0), default=720.0, show_default=True,
              metavar="HOURS",
              help="Parked jobs (failed for good) are removed this long after; their error "
                   "stays in the workspace's run log.")
@click.pass_context
def worker(ctx: click.Context, queue_url: str | None, concurrency: int, heartbeat: float,
           burst: bool, name: str | None, keep_finished: float, keep_parked: float) -> None:
    """Run queued jobs until stopped (Ctrl-C or SIGTERM let the running job finish).

    Start as many as you like, on as many machines as reach the queue: each (workspace,
    connector) is synced by one worker at a time, and a worker that dies leaves its job to
    another, which resumes from the last committed page. Exports run too, manifest last, so
    a reader never sees half a bundle. Named jobs of cscor.toml with a `schedule` are queued
    when due; finished jobs are cleaned out of the queue every hour.

    \b
    Example:
      cscor worker --queue postgresql://cscor@db/cscor --concurrency 2
    """
    a = app(ctx)
    queue = _queue(ctx, queue_url)
    click.echo(f"Worker on {queue.location} (Ctrl-C to stop)", err=True)
    queue.run_worker(config=a.config, concurrency=concurrency, wait=not burst,
                     heartbeat=heartbeat, name=name,
                     retention=Retention(keep_finished, keep_parked))


@click.group()
def enqueue() -> None:
    """Put work on the job queue for `cscor worker` to run.

    \b
    Example:
      cscor enqueue sync stripe --workspace postgresql://cscor@db/acme
    """


@enqueue.command("sync")
@click.argument("connector")
@_queue_option
@click.option("--full", is_flag=True, help="Rescan everything instead of reading changes only.")
@click.option("--streams", metavar="A,B", help="Only these streams (comma-separated).")
@click.option("--credential-env", metavar="VAR",
              help="The environment variable that holds the credential on the workers "
                   "(default: the connector's, e.g. STRIPE_API_KEY).")
@click.option("--api-base", "--base-url", "base_url", metavar="URL", callback=_base_url,
              help="Provider base URL, e.g. a sandbox.")
@click.option("--rate-limit", type=click.FloatRange(min=0.001), metavar="RPS",
              help="The provider account's requests per second, shared by every worker.")
@click.option("--account", metavar="NAME",
              help="The provider account whose budget this sync shares (default: one per "
                   "credential).")
@click.option("--attempts", type=click.IntRange(min=1), default=5, show_default=True,
              help="Attempts before the job is parked.")
@click.option("--backoff", type=click.FloatRange(min=0), default=10.0, show_default=True,
              metavar="SECONDS", help="Wait before the first retry (doubling after).")
@click.option("--priority", type=int, default=0, show_default=True,
              help="Higher runs first.")
@click.pass_context
def enqueue_sync(ctx: click.Context, connector: str, queue_url: str | None, full: bool,
                 streams: str | None, credential_env: str | None, base_url: str | None,
                 rate_limit: float | None, account: str | None, attempts: int, backoff: float,
                 priority: int) -> None:
    """Queue a sync of CONNECTOR into the workspace (a PostgreSQL one).

    A sync of the same connector and workspace already waiting is not queued twice.

    \b
    Example:
      cscor enqueue sync stripe --workspace postgresql://cscor@db/acme \\
        --credential-env ACME_STRIPE_KEY --account acme
    """
    a = app(ctx)
    workspace = resolve_workspace(a.workspace, a.config)
    job = SyncJob(
        workspace, connector, full=full,
        streams=tuple(s.strip() for s in (streams or "").split(",") if s.strip()),
        credential_env=credential_env, base_url=base_url, rate_limit=rate_limit,
        account=account, attempts=attempts, backoff=backoff,
    )
    queue = Queue(resolve_queue(queue_url, workspace))
    job_id = queue.enqueue_sync(job, priority=priority)
    where = redact_url(workspace)
    if job_id is None:
        click.echo(f"A sync of {connector} into {where} is already waiting: not queued again.")
    else:
        click.echo(f"Queued job #{job_id}: sync {connector} into {where}")


@enqueue.command("export")
@_queue_option
@click.option("--out", "-o", required=True, metavar="PATH|URL",
              help="Where the bundle goes: object storage (s3://bucket/prefix/, gs://, az://) "
                   "or an absolute path on the workers.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="jsonl",
              show_default=True, help="File format.")
@click.option("--policy", "-p", default="portability", show_default=True,
              metavar="NAME|FILE.toml",
              help="Minimization policy: a built-in name, or a TOML file on the workers.")
@click.option("--entities", metavar="A,B", help="Only these entities (comma-separated).")
@click.option("--since", metavar="DATE", help="Only rows created at or after DATE (UTC).")
@click.option("--until", metavar="DATE", help="Only rows created before DATE (UTC).")
@click.option("--include-deleted", is_flag=True, help="Also export tombstones.")
@click.option("--zip", "as_zip", is_flag=True, help="One .zip object instead of a prefix.")
@click.option("--partition-by", metavar="KEYS",
              help="Hive-partitioned Parquet by source,month instead of a bundle.")
@click.option("--overwrite", is_flag=True, help="Replace the bundle already there.")
@click.option("--attempts", type=click.IntRange(min=1), default=5, show_default=True,
              help="Attempts before the job is parked.")
@click.option("--backoff", type=click.FloatRange(min=0), default=10.0, show_default=True,
              metavar="SECONDS", help="Wait before the first retry (doubling after).")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.pass_context
def enqueue_export(ctx: click.Context, queue_url: str | None, out: str, fmt: str, policy: str,
                   entities: str | None, since: str | None, until: str | None,
                   include_deleted: bool, as_zip: bool, partition_by: str | None,
                   overwrite: bool, attempts: int, backoff: float, priority: int) -> None:
    """Queue an export of the workspace (a PostgreSQL one), as `cscor export` writes it.

    An export to the same place already waiting is not queued twice.

    \b
    Example:
      cscor enqueue export --workspace postgresql://cscor@db/acme \\
        --out s3://exports/acme/ --format parquet --partition-by source,month --overwrite
    """
    a = app(ctx)
    workspace = resolve_workspace(a.workspace, a.config)
    spec = ExportSpec(out, format="parquet" if partition_by and fmt == "jsonl" else fmt,
                      policy=policy, entities=_split(entities), since=since, until=until,
                      include_deleted=include_deleted, zip=as_zip,
                      partition_by=_split(partition_by), overwrite=overwrite)
    job = ExportJob(workspace, spec, attempts=attempts, backoff=backoff)
    queue = Queue(resolve_queue(queue_url, workspace))
    job_id = queue.enqueue_export(job, priority=priority)
    if job_id is None:
        click.echo(f"An export to {out} is already waiting: not queued again.")
    else:
        click.echo(f"Queued job #{job_id}: {job.title}")


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@enqueue.command("job")
@click.argument("name")
@_queue_option
@click.pass_context
def enqueue_job(ctx: click.Context, name: str, queue_url: str | None) -> None:
    """Queue a named job of cscor.toml now: a sync of each of its connectors, then its export
    (written once every sync succeeded).

    \b
    Example (cscor.toml):
      [jobs.nightly]
      connectors = ["stripe"]
      schedule = "0 2 * * *"     # cscor worker queues it every night at 02:00
      [jobs.nightly.export]
      out = "s3://exports/acme/"
      overwrite = true
    then, to run it now:
      cscor enqueue job nightly
    """
    a = app(ctx)
    spec = a.config.job(name)
    workspace = spec.workspace or resolve_workspace(a.workspace, a.config)
    queue = Queue(resolve_queue(queue_url, workspace))
    for part in queue.enqueue_named(a.config, name, workspace):
        state = (f"queued job #{part.queued_id}" if part.queued_id is not None
                 else "already waiting")
        click.echo(f"{name}: {part.title}: {state}")


@click.command()
@_queue_option
@click.option("--status", "statuses", metavar="S,T",
              help="Only jobs of these statuses: todo, doing, succeeded, failed, cancelled.")
@click.option("--parked", is_flag=True, help="Only parked jobs (failed for good).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def jobs(ctx: click.Context, queue_url: str | None, statuses: str | None, parked: bool,
         limit: int, as_json: bool) -> None:
    """List the newest jobs of the queue, with the error of each failed one.

    \b
    Example:
      cscor jobs --parked
    """
    wanted = [s.strip() for s in statuses.split(",") if s.strip()] if statuses else None
    if parked:
        wanted = ["failed"]
    found = _queue(ctx, queue_url).jobs(statuses=wanted, limit=limit)
    if parked:
        found = [j for j in found if j.parked]
    if as_json:
        print_json([j.as_dict() for j in found])
        return
    if not found:
        click.echo("No jobs.")
        return
    print_table(
        None,
        ["id", "status", "what", "attempts", "error"],
        [
            (
                j.id,
                "parked" if j.parked else j.status,
                _what(j.task, j.args),
                j.attempts + (1 if j.status == "doing" else 0),
                clip(j.error or "", 100) if j.status != "succeeded" else "",
            )
            for j in found
        ],
    )


def _what(task: str, args: dict[str, object]) -> str:
    if task.endswith("sync"):
        return f"sync {args.get('connector')} into {redact_url(str(args.get('workspace')))}"
    if task.endswith("export"):
        export = args.get("export")
        out = export.get("out") if isinstance(export, dict) else None
        return f"export {redact_url(str(args.get('workspace')))} to {out}"
    if task.endswith("scheduled"):
        return f"job {args.get('job')}"
    return task
