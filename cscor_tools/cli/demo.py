"""`cscor demo`: the whole toolkit offline, against the built-in sandbox."""

from __future__ import annotations

import logging

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import plural, print_json, print_table


@click.command()
@click.option("--out", default="cscor-demo", show_default=True, metavar="DIR",
              help="Folder for the demo workspace and bundle (re-runs replace it).")
@click.option("--seed", default=42, show_default=True, help="Sandbox data seed.")
@click.option("--scale", default=1.0, show_default=True,
              help="Sandbox size (1.0: 200 Stripe customers, 600 invoices, …).")
@click.option("--format", "export_format", default="jsonl", show_default=True,
              type=click.Choice(["jsonl", "json", "csv", "parquet"]), help="Bundle format.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def demo(
    ctx: click.Context, out: str, seed: int, scale: float, export_format: str, as_json: bool
) -> None:
    """Try everything offline, with no API keys: a local sandbox stands in for Stripe,
    Resend and Slack; every connector syncs from it into a fresh workspace, which is then
    exported as a bundle.

    \b
    Example:
      cscor demo
      cscor demo --format parquet --out /tmp/demo
    """
    from cscor_tools.demo import run_demo

    if not app(ctx).verbose:
        # The demo narrates its own steps; per-stream log lines would drown them.
        logging.getLogger("cscor_tools").setLevel(logging.WARNING)

    def step(message: str) -> None:
        if not as_json:
            click.echo(f"• {message}", err=True)

    result = run_demo(out, seed=seed, scale=scale, export_format=export_format, on_step=step)
    if as_json:
        print_json(result.as_dict())
        return
    for sync in result.syncs:
        r = sync.requests
        click.echo(f"{sync.connector}: {sync.status}, {plural(r['requests'], 'request')} in "
                   f"{sync.duration_s:.1f}s")
    for name, why in result.skipped.items():
        click.echo(f"{name}: skipped ({why})")
    print_table(
        "Workspace rows",
        ["entity", "rows", "deleted"],
        [(e, c["rows"], c["deleted"]) for e, c in result.rows.items() if c["rows"]],
    )
    click.echo(f"Workspace: {result.workspace}")
    if result.export is not None:
        ex = result.export
        click.echo(f"Bundle:    {ex.out}  ({plural(ex.rows, 'row')} in "
                   f"{plural(len(ex.files), 'file')}, "
                   f"{ex.bytes:,} bytes, policy {ex.policy})")
    click.echo(f"Done in {result.duration_s:.1f}s. Look around: "
               f"cscor --workspace {result.workspace} status")
