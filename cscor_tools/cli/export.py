"""The `cscor export` command: parse options, call ``export_bundle``, show what was written."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import plural, print_json, print_table
from cscor_tools.errors import RejectedInputError
from cscor_tools.export import ExportResult, export_bundle
from cscor_tools.export.dataset import PARTITION_KEYS, export_dataset
from cscor_tools.export.place import check_destination
from cscor_tools.export.remote import is_remote
from cscor_tools.export.run import Progress
from cscor_tools.formats import FORMATS
from cscor_tools.minimize import load_policy, plan_policy
from cscor_tools.minimize.policy import parse_moment
from cscor_tools.policies import BUILTIN
from cscor_tools.schema import ENTITIES
from cscor_tools.workspace import open_workspace


class _Moment(click.ParamType):
    """A date (2024-01-31) or ISO date-time; without a zone it is UTC."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Entities(click.ParamType):
    """Comma-separated entity names of the workspace schema."""

    name = "A,B"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        names = [e.strip() for e in str(value).split(",") if e.strip()]
        unknown = [n for n in names if n not in ENTITIES]
        if unknown or not names:
            what = f"unknown entity {unknown[0]!r}" if unknown else "no entity named"
            self.fail(f"{what} (entities: {', '.join(ENTITIES)})", param, ctx)
        return names


def _list_policies(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for name in BUILTIN:
        policy = load_policy(name)
        click.echo(f"{name}\n  {policy.description}\n")
    ctx.exit(0)


def _show_policy(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if not value or ctx.resilient_parsing:
        return
    if value in BUILTIN:
        click.echo(BUILTIN[value], nl=False)
        ctx.exit(0)
    policy = load_policy(value)
    plans = plan_policy(policy)  # checks every rule against the schema
    print_json(
        {
            "name": policy.name,
            "fingerprint": policy.fingerprint(),
            "fields": {name: plan.actions() for name, plan in plans.items()},
        }
    )
    ctx.exit(0)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="jsonl",
    show_default=True,
    help="File format: JSON Lines, a JSON array, CSV or Parquet.",
)
@click.option(
    "--out",
    "-o",
    required=True,
    metavar="PATH|URL",
    help="Where the bundle goes: a new folder, or a .zip file with --zip (implied by a name "
    "ending in .zip), or object storage: s3://bucket/prefix/ (gs://, az://, any fsspec URL; "
    "credentials from the store's usual environment).",
)
@click.option(
    "--partition-by",
    metavar="KEYS",
    help=f"Write hive-partitioned Parquet, one dataset per entity, by {','.join(PARTITION_KEYS)}"
    " (month of created_at), for DuckDB, Polars, Spark or Trino.",
)
@click.option(
    "--policy",
    "-p",
    default="portability",
    show_default=True,
    metavar="NAME|FILE.toml",
    help=f"Minimization policy: {', '.join(BUILTIN)}, or a TOML file.",
)
@click.option("--entities", type=_Entities(), help="Only these entities (comma-separated).")
@click.option("--since", type=_Moment(), help="Only rows created at or after DATE (UTC).")
@click.option("--until", type=_Moment(), help="Only rows created before DATE (UTC).")
@click.option("--include-deleted", is_flag=True, help="Also export tombstones (deleted = true).")
@click.option("--zip", "as_zip", is_flag=True, help="Write one .zip file instead of a folder.")
@click.option(
    "--overwrite",
    "--force",
    is_flag=True,
    help="Replace an existing bundle at --out (atomically: old or new, never a mix).",
)
@click.option(
    "--no-protect-formulas",
    "protect_formulas",
    flag_value=False,
    default=True,
    help="CSV: write text cells as they are. By default a cell starting with =, +, -, @, "
    "tab or carriage return gets an apostrophe in front, so a spreadsheet shows it rather "
    "than running it; drop that for readers that are not spreadsheets (DuckDB, Polars keep "
    "the apostrophe in '+33 …).",
)
@click.option(
    "--timestamp",
    is_flag=True,
    help="Also write the time of the export into manifest.json (generated_at). Without it "
    "the bundle is dated by its data alone, and two exports of the same data are identical "
    "byte for byte.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--list-policies",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_list_policies,
    help="List the built-in policies and exit.",
)
@click.option(
    "--show-policy",
    metavar="NAME|FILE",
    is_eager=True,
    expose_value=False,
    callback=_show_policy,
    help="Print a built-in policy's TOML, or check a policy file and print its field "
    "actions; then exit.",
)
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str,
    out: str,
    partition_by: str | None,
    policy: str,
    entities: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    include_deleted: bool,
    as_zip: bool,
    overwrite: bool,
    protect_formulas: bool,
    timestamp: bool,
    as_json: bool,
) -> None:
    """Export the workspace as a bundle: one file per entity, manifest.json, datapackage.json.

    Reads the workspace store only, never the providers. The policy decides what leaves:
    `portability` (everything, no secrets), `pseudonymized` (joinable, identifying nothing),
    `accounting` (what a bookkeeper needs). The bundle appears complete or not at all.

    \b
    Examples:
      cscor export --out export/
      cscor export --format parquet --policy pseudonymized --out analytics.zip --zip
      cscor export --format csv --policy accounting --since 2024-01-01 --until 2025-01-01 \\
          --out books-2024/
      cscor export --show-policy pseudonymized > mine.toml   # then edit, and:
      cscor export --policy mine.toml --entities clients,invoices --out shared/
      cscor export --format parquet --partition-by source,month --out lake/
    """
    a = app(ctx)
    if partition_by is not None:
        _export_dataset(a.workspace, a.config, out, fmt, partition_by, policy, entities, since,
                        until, include_deleted, overwrite, as_json)
        return
    remote = is_remote(out)
    zipped = as_zip or (not remote and Path(out).suffix.lower() == ".zip")
    # What the command line got wrong is a usage error (exit 2), found before any work.
    if since is not None and until is not None and since >= until:
        raise click.BadParameter(
            "the range is empty: --since must be before --until", param_hint="--since/--until"
        )
    try:
        if not remote:
            check_destination(Path(out).absolute(), zip=zipped, overwrite=overwrite)
    except RejectedInputError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    with open_workspace(a.workspace, a.config) as store, _progress(not as_json) as progress:
        result = export_bundle(
            store,
            out,
            format=fmt,
            policy=policy,
            entities=entities,
            since=since,
            until=until,
            include_deleted=include_deleted,
            zip=zipped,
            overwrite=overwrite,
            progress=progress,
            generated_at=datetime.now(UTC) if timestamp else None,
            protect_formulas=protect_formulas,
        )
    if as_json:
        print_json(result.as_dict())
    else:
        _summary(result)
    for warning in result.warnings:
        click.secho(f"note: {warning}", fg="yellow", err=True)


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A live line on a terminal: which entity is being written, and rows so far."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status("exporting…") as status:

        def update(entity: str, rows: int) -> None:
            status.update(f"exporting {entity}: {plural(rows, 'row')}")

        yield update


def _summary(result: ExportResult) -> None:
    kind = "zip" if result.zip else "folder"
    click.echo(
        f"Exported {plural(result.rows, 'row')} in "
        f"{plural(len(result.files), f'{result.format} file')} "
        f"({_size(result.bytes)}) under policy {result.policy!r} to {kind} "
        f"{result.location or result.out} "
        f"(run #{result.run_id})"
    )
    print_table(
        None,
        ["entity", "file", "rows", "bytes", "sha256"],
        [(f.entity, f.path, f"{f.rows:,}", _size(f.bytes), f.sha256[:16]) for f in result.files],
    )
    click.echo(f"Policy fingerprint: {result.fingerprint}; details in manifest.json")


def _export_dataset(workspace: str | None, config: Any, out: str, fmt: str, partition_by: str,
                    policy: str, entities: list[str] | None, since: datetime | None,
                    until: datetime | None, include_deleted: bool, overwrite: bool,
                    as_json: bool) -> None:
    if fmt not in ("jsonl", "parquet"):  # jsonl: the default, not a choice made
        raise click.BadParameter("a partitioned export is Parquet: use --format parquet",
                                 param_hint="--format")
    keys = [k.strip() for k in partition_by.split(",") if k.strip()]
    with open_workspace(workspace, config) as store:
        result = export_dataset(store, out, partition_by=keys, policy=policy, entities=entities,
                                since=since, until=until, include_deleted=include_deleted,
                                overwrite=overwrite)
    if as_json:
        print_json(result.as_dict())
        return
    click.echo(f"Exported {plural(result.rows, 'row')} in "
               f"{plural(len(result.files), 'Parquet file')} ({_size(result.bytes)}), "
               f"partitioned by {','.join(result.partition_by)}, under policy "
               f"{result.policy!r} to {result.out} (run #{result.run_id})")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


__all__ = ["export"]
