"""Sync commands: `cscor sync CONNECTOR|all` and `cscor run JOB`."""

from __future__ import annotations

from typing import Any

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import plural, print_json, print_table, progress_observer
from cscor_tools.config import base_url_problem
from cscor_tools.errors import ExitCode
from cscor_tools.export.configured import check_spec, run_export
from cscor_tools.sync import SyncResult
from cscor_tools.workspace import SyncOutcome, open_workspace, sync_connector, sync_many


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    problem = base_url_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value


#: Exit codes from the most to the least severe. Several connectors that all failed exit
#: with the most severe of their codes: what to fix first (a bug, the workspace, the
#: configuration, a credential, a refused request) before what may pass by itself (an
#: outage, a lock). Documented in README.md.
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.INTERNAL,
    ExitCode.USAGE,
    ExitCode.STORE,
    ExitCode.CONFIG,
    ExitCode.POLICY,
    ExitCode.REJECTED_INPUT,
    ExitCode.PROVIDER_AUTH,
    ExitCode.PROVIDER_REQUEST,
    ExitCode.PROVIDER_UNAVAILABLE,
    ExitCode.LOCKED,
    ExitCode.PARTIAL,
    ExitCode.RECONCILED,
    ExitCode.OK,
)
#: codes of a connector that synced something
_SYNCED = (ExitCode.OK, ExitCode.RECONCILED, ExitCode.PARTIAL)


def combined_exit_code(codes: list[int]) -> ExitCode:
    """The exit code of a run of several connectors, from each connector's code.

    One connector: its own code. Some failed while others synced (if only in part): partial
    (11), never a success that hides a failure. Otherwise the most severe code by
    :data:`SEVERITY`: of failures when all failed; else partial, reconciled (12), then 0.
    """
    exits = [ExitCode(c) for c in codes]
    if not exits:
        return ExitCode.OK
    if len(exits) == 1:
        return exits[0]
    synced = [c for c in exits if c in _SYNCED]
    if synced and len(synced) < len(exits):
        return ExitCode.PARTIAL
    rank = {code: i for i, code in enumerate(SEVERITY)}
    return min(exits, key=rank.__getitem__)


@click.command()
@click.argument("connector")
@click.option("--full", is_flag=True, help="Rescan everything instead of reading changes only.")
@click.option("--streams", metavar="A,B", help="Only these streams (comma-separated).")
@click.option(
    "--api-base",
    "--base-url",
    "base_url",
    metavar="URL",
    callback=_base_url,
    help="Provider base URL, e.g. a sandbox (env: STRIPE_API_BASE, RESEND_API_BASE…).",
)
@click.option("--rate-limit", type=float, metavar="RPS", help="Requests per second to allow.")
@click.option("--concurrency", type=int, metavar="N", help="Slices read at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
def sync(
    ctx: click.Context,
    connector: str,
    full: bool,
    streams: str | None,
    base_url: str | None,
    rate_limit: float | None,
    concurrency: int | None,
    as_json: bool,
) -> None:
    """Sync a connector (or `all` installed ones) into the workspace.

    Incremental by default: each stream continues from where the last run stopped, and a run
    that was interrupted resumes its unfinished slices.

    \b
    Example:
      STRIPE_API_KEY=rk_live_... cscor sync stripe
      cscor sync stripe --full --streams customers,invoices
      cscor sync all --log-format json
    """
    a = app(ctx)
    kwargs: dict[str, Any] = dict(
        workspace=a.workspace,
        config=a.config,
        full=full,
        streams=_split(streams),
        base_url=base_url,
        rate_limit=rate_limit,
        concurrency=concurrency,
    )
    if connector == "all":
        outcomes = sync_many(None, **kwargs)
    else:
        observer = progress_observer(not as_json and a.log_format == "text")
        try:
            result = sync_connector(connector, observer=observer, **kwargs)
        finally:
            close = getattr(observer, "close", None)
            if close:
                close()
        outcomes = [SyncOutcome(connector, result=result)]
    ctx.exit(_report(outcomes, as_json))


@click.command()
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Print the run summaries as JSON.")
@click.pass_context
def run(ctx: click.Context, job: str, as_json: bool) -> None:
    """Run a named job from cscor.toml: its syncs, then its export if it names one.

    The export is written only when every sync succeeded. With --json and an export, the
    output is {"syncs": [...], "export": {...}}.

    \b
    Example (cscor.toml):
      [jobs.nightly]
      connectors = ["stripe"]
      [jobs.nightly.export]
      out = "s3://bucket/acme/"     # or a folder, or a .zip with zip = true
      format = "parquet"
      policy = "pseudonymized"
      overwrite = true
    then:
      cscor run nightly
    """
    a = app(ctx)
    spec = a.config.job(job)
    outcomes = []
    for name in spec.connectors:
        outcomes.extend(
            sync_many(
                [name],
                workspace=a.workspace,
                config=a.config,
                full=spec.full,
                streams=list(spec.streams.get(name, ())) or None,
            )
        )
    if spec.export is None:
        ctx.exit(_report(outcomes, as_json))
    check_spec(spec.export)
    code = _report(outcomes, as_json, emit_json=False)
    exported = None
    if code in (ExitCode.OK, ExitCode.RECONCILED):
        with open_workspace(a.workspace, a.config) as store:
            exported = run_export(store, spec.export)
        if not as_json:
            click.echo(f"{job}: exported {plural(exported.rows, 'row')} under policy "
                       f"{exported.policy!r} to {exported.as_dict()['out']} "
                       f"(run #{exported.run_id})")
    elif not as_json:
        click.secho(f"{job}: export skipped: not every sync succeeded", fg="yellow", err=True)
    if as_json:
        print_json({"syncs": _outcomes_json(outcomes),
                    "export": exported.as_dict() if exported is not None else None})
    ctx.exit(code)


def _outcomes_json(outcomes: list[SyncOutcome]) -> list[dict[str, Any]]:
    return [o.result.as_dict() if o.result else {"connector": o.connector, "error": str(o.error)}
            for o in outcomes]


def _report(outcomes: list[SyncOutcome], as_json: bool, *, emit_json: bool = True) -> int:
    """Print what happened; returns the exit code (see :func:`combined_exit_code`)."""
    codes = []
    if as_json and emit_json:
        print_json(_outcomes_json(outcomes))
    for o in outcomes:
        if o.error is not None:
            if not as_json:
                click.secho(f"Error: {o.error}", fg="red", err=True)
            codes.append(int(o.error.exit_code))
            continue
        assert o.result is not None
        if not as_json:
            _print_summary(o.result)
        codes.append(int(o.result.exit_code))
    return int(combined_exit_code(codes))


def _print_summary(result: SyncResult) -> None:
    r = result.requests
    click.echo(
        f"{result.connector}: {result.status} in {result.duration_s:.1f}s — "
        f"{plural(r['requests'], 'request')}, {plural(r['retries'], 'retry', 'retries')}, "
        f"{int(r['rate_limited'])} rate-limited (run #{result.run_id})"
    )
    print_table(
        None,
        ["stream", "status", "pages", "rows", "note"],
        [
            (
                s.stream,
                s.status,
                s.pages,
                ", ".join(f"{k} {v}" for k, v in sorted(s.rows.items())) or "-",
                s.error or "; ".join(s.warnings),
            )
            for s in result.streams
        ],
    )
    if result.reconciled:  # said even when another stream failed: the run is partial then
        click.secho(
            "NOTE: the provider's change feed no longer reached back to the last sync, so a "
            "reconcile scan was run: deletions were found by comparing lists, and their exact "
            "times are unknown.",
            fg="yellow",
            err=True,
        )
    for s in result.streams:
        for w in s.warnings:
            click.secho(f"warning: {s.stream}: {w}", fg="yellow", err=True)
