"""Workspace commands: init, connectors, status, schema."""

from __future__ import annotations

import json
import os

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import clip, plural, print_json, print_table
from cscor_tools.connectors import available_connectors, load_connector
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.errors import CscorError
from cscor_tools.store import RunRecord
from cscor_tools.workspace import init_workspace, workspace_status


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the workspace store, or bring an existing one up to date.

    \b
    Example:
      cscor init
      cscor --workspace postgresql://user@127.0.0.1/cscor init
    """
    a = app(ctx)
    info = init_workspace(a.workspace, a.config)
    steps = ", ".join(info.migrations_applied) or "none (already up to date)"
    click.echo(f"Workspace: {info.location} ({info.dialect})")
    click.echo(f"Migrations applied: {steps}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def connectors(ctx: click.Context, as_json: bool) -> None:
    """List installed connectors, their streams and whether their credential is set.

    \b
    Example:
      cscor connectors
    """
    a = app(ctx)
    rows = []
    for name, origin in available_connectors().items():
        entry: dict[str, object] = {"name": name, "from": origin}
        try:
            cls = load_connector(name)
        except CscorError as exc:
            entry["error"] = str(exc)
            rows.append(entry)
            continue
        # The settings a sync would run with (flags beat env beat cscor.toml): the same
        # function resolves them, so what this lists is what `cscor sync` would use.
        settings = connector_settings(cls, a.config, env=os.environ)
        env_name = settings.credential_env
        entry.update(
            title=cls.title,
            streams=[s.name for s in cls.stream_classes],
            credential_env=env_name,
            credential_set=settings.credential is not None if env_name else None,
            base_url=settings.base_url,
        )
        rows.append(entry)
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("No connectors installed.")
        return
    print_table(
        None,
        ["connector", "streams", "credential", "base URL"],
        [
            (
                r["name"],
                ", ".join(r.get("streams", [])) or r.get("error", ""),  # type: ignore[arg-type]
                _credential_note(r),
                r.get("base_url", ""),
            )
            for r in rows
        ],
    )


def _credential_note(entry: dict[str, object]) -> str:
    env_name = entry.get("credential_env")
    if not env_name:
        return "none needed"
    return f"{env_name} ({'set' if entry.get('credential_set') else 'not set'})"


@click.command()
@click.option("--runs", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, runs: int, as_json: bool) -> None:
    """Show row counts, sync cursors and recent runs of the workspace.

    \b
    Example:
      cscor status --runs 5
    """
    a = app(ctx)
    report = workspace_status(a.workspace, a.config, runs=runs)
    if as_json:
        print_json(report.as_dict())
        return
    click.echo(f"Workspace: {report.location}")
    print_table(
        "Rows",
        ["entity", "rows", "deleted"],
        [(e, c["rows"], c["deleted"]) for e, c in report.rows.items()],
    )
    print_table(
        "Cursors",
        ["connector", "stream", "slice", "cursor"],
        [
            (c, s, sl or "(stream)", json.dumps(cur, sort_keys=True))
            for c, s, sl, cur in report.cursors
        ],
    )
    print_table(
        "Recent runs",
        ["id", "kind", "name", "status", "started", "ended", "what", "error"],
        [
            (
                r.id,
                r.kind,
                r.name,
                r.status,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.ended_at.strftime("%H:%M:%S") if r.ended_at else "",
                _what(r),
                clip(r.error or "", 120),
            )
            for r in report.runs
        ],
    )
    imported = [(r.id, r.name, _sha256(r)) for r in report.runs if r.kind == "import"]
    if imported:  # in full, on a line of their own: to compare with `sha256sum FILE`
        print_table("Imported files", ["run", "file", "sha256"], imported)


def _sha256(run: RunRecord) -> str:
    d = run.details
    return str(d.get("sha256") or d.get("manifest_sha256") or "")


def _what(run: RunRecord) -> str:
    """What a run worked on, in a few words: an import's file and its sha256 (the run log's
    record of exactly which file it was), an export's bundle, a sync's rows."""
    d = run.details
    if run.kind == "import":
        digest = _sha256(run)
        what = "bundle, manifest sha256" if d.get("manifest_sha256") else "sha256"
        return f"{what} {digest[:12]}…" if digest else ""
    if run.kind == "export":
        return f"{d.get('format', '')} to {d['out']}" if d.get("out") else ""
    rows = run.counts.get("rows")
    if isinstance(rows, dict) and rows:
        return plural(sum(v for v in rows.values() if isinstance(v, int)), "row") + " written"
    return ""


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json-schema", "table-schema", "sql", "arrow"]),
    default="markdown",
    show_default=True,
)
@click.option(
    "--dialect",
    type=click.Choice(["sqlite", "postgresql"]),
    default="sqlite",
    show_default=True,
    help="SQL dialect for --format sql.",
)
def schema(fmt: str, dialect: str) -> None:
    """Print the workspace schema: every entity, field, type and privacy class.

    \b
    Example:
      cscor schema --format json-schema > workspace.schema.json
      cscor schema --format sql --dialect postgresql
    """
    from cscor_tools import schema_render
    from cscor_tools.schema import ENTITIES

    if fmt == "markdown":
        click.echo(schema_render.markdown())
    elif fmt == "json-schema":
        print_json(schema_render.json_schemas())
    elif fmt == "table-schema":
        print_json(schema_render.table_schemas())
    elif fmt == "arrow":
        for ent in ENTITIES.values():
            click.echo(f"# {ent.name}\n{schema_render.arrow_schema(ent)}\n")
    else:
        from cscor_tools.store.ddl import render_sql

        click.echo(render_sql(dialect), nl=False)  # type: ignore[arg-type]
