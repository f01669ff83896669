"""The `cscor import` command: parse options, call imports.import_file, render the result."""

from __future__ import annotations

from typing import Any

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import plural, print_json, print_table
from cscor_tools.imports import ImportProgress, ImportResult, import_file
from cscor_tools.schema import ENTITIES


class _ProgressBar:
    """A rich progress bar on stderr, by bytes read, while the import runs."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._progress.start()

    def __call__(self, event: ImportProgress) -> None:
        task = self._tasks.get(event.file)
        if task is None:
            task = self._tasks[event.file] = self._progress.add_task(
                event.entity, total=event.total_bytes, rows=0
            )
        self._progress.update(task, completed=event.bytes_read, rows=event.rows)

    def close(self) -> None:
        self._progress.stop()


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=True, readable=True))
@click.option("--entity", type=click.Choice(list(ENTITIES)),
              help="What the file holds (default: from the mapping or the file name).")
@click.option("--map", "mapping", type=click.Path(exists=True, dir_okay=False),
              metavar="MAPPING.toml", help="Column mapping file (see `cscor import --help`).")
@click.option("--dry-run", is_flag=True,
              help="Report inserts, updates, unchanged and rejected rows; write nothing.")
@click.option("--rejects", type=click.Path(dir_okay=True), metavar="PATH",
              help="Where rejected rows go (default: NAME.rejects.EXT beside the input; "
                   "a folder for a bundle).")
@click.option("--on-error", type=click.Choice(["skip", "stop"]), default="skip",
              show_default=True,
              help="skip: import the valid rows; stop: import nothing if any row is rejected.")
@click.option("--source", metavar="NAME",
              help="Source name of the imported rows (default: import).")
@click.option("--encoding", metavar="CODEC",
              help="Text encoding of a CSV/JSON file, when detection gets it wrong.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def import_(
    ctx: click.Context,
    path: str,
    entity: str | None,
    mapping: str | None,
    dry_run: bool,
    rejects: str | None,
    on_error: str,
    source: str | None,
    encoding: str | None,
    as_json: bool,
) -> None:
    """Import clients, contacts, invoices… from CSV, JSON, JSON Lines, Parquet or a bundle.

    Rows are matched on their id column, or on the email (clients, contacts) or number
    (invoices) when the file has none; importing the same file again changes nothing.
    Rejected rows go to a rejects file with a _reason column, and the command exits with
    code 7 so scripts notice. A bundle exported with `cscor export` (portability policy)
    is verified against its manifest checksums before anything is written.

    \b
    Mapping file (TOML), every key optional:
      entity = "invoices"        source = "oldcrm"      key = ["number"]
      timezone = "Europe/Paris"  date_formats = ["%d/%m/%Y"]
      money = "major"            decimal = ","          list_separator = ";"
      [columns]    "Kunde" = "client_id"   "Straße" = "address.line1"
      [constants]  currency = "eur"
      [fields.due_at]  formats = ["%d.%m.%Y"]

    \b
    Examples:
      cscor import customers.csv
      cscor import invoices.xlsx.csv --entity invoices --map invoices.toml --dry-run
      cscor import export-2026-01-01.zip
    """
    a = app(ctx)
    bar = _ProgressBar() if not as_json and _stderr_is_terminal() else None
    try:
        result = import_file(
            path,
            workspace=a.workspace,
            config=a.config,
            entity=entity,
            mapping=mapping,
            source=source,
            dry_run=dry_run,
            rejects=rejects,
            on_error=on_error,
            encoding=encoding,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        print_json(result.as_dict())
    else:
        render(result)
    ctx.exit(int(result.exit_code))


def _stderr_is_terminal() -> bool:
    import sys

    return sys.stderr.isatty()


def render(result: ImportResult) -> None:
    """The summary table, then what the user should look at: unknown columns, rejects."""
    mode = "dry run: nothing was written" if result.dry_run else (
        f"run #{result.run_id}" if result.run_id is not None else ""
    )
    click.echo(f"Imported {result.path} ({result.format}, source {result.source!r}) in "
               f"{result.duration_s:.1f}s — {mode}")
    print_table(
        None,
        ["entity", "file", "rows", "inserted", "updated", "unchanged", "rejected"],
        [
            (f.entity, _short(f.file), f.rows, f.inserted, f.updated, f.unchanged, f.rejected)
            for f in result.files
        ],
    )
    for f in result.files:
        name = _short(f.file)
        if f.unknown_columns:
            click.secho(f"{name}: unknown columns, not imported: "
                        + ", ".join(repr(c) for c in f.unknown_columns), fg="yellow", err=True)
        for note in f.notes:
            click.secho(f"{name}: {note}", fg="yellow", err=True)
        for message in f.messages:
            click.secho(f"{name}, {message}", fg="red", err=True)
        if f.rejected > len(f.messages):
            more = plural(f.rejected - len(f.messages), "more rejected row")
            click.secho(f"{name}: … {more}",
                        fg="red", err=True)
        if f.rejects_path:
            click.secho(f"{name}: rejected rows written to {f.rejects_path}", fg="red",
                        err=True)


def _short(path: str) -> str:
    return path if len(path) <= 60 else "…" + path[-59:]
