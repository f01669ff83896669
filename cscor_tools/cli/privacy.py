"""The privacy commands: `cscor subject export|erase|correct`, `cscor retention apply`,
`cscor audit` and `cscor keys show|rotate`. Each parses options, calls one library function
of ``cscor_tools.privacy`` and renders its result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from cscor_tools.cli.app import app
from cscor_tools.cli.output import clip, plural, print_json, print_table
from cscor_tools.errors import RejectedInputError
from cscor_tools.export.place import check_destination
from cscor_tools.formats import FORMATS
from cscor_tools.policies import BUILTIN
from cscor_tools.privacy.access import export_subject
from cscor_tools.privacy.audit import audit_log
from cscor_tools.privacy.correct import DEFAULT_ENTITIES, correct_subject
from cscor_tools.privacy.erase import erase_subject
from cscor_tools.privacy.keys import key_info, rotate_hash_key
from cscor_tools.privacy.retention import DEFAULTS_TOML, apply_retention
from cscor_tools.privacy.subject import Subject
from cscor_tools.schema import ENTITIES
from cscor_tools.workspace import open_workspace


def _subject_options(f: Any) -> Any:
    f = click.option("--plus-addressing", is_flag=True,
                     help="Also match ADDRESS with any +tag (ann+news@x for ann@x).")(f)
    return click.option("--email", "emails", multiple=True, required=True, metavar="ADDRESS",
                        help="The person's address (case and spaces ignored); repeat for "
                        "several addresses of one person.")(f)


def _subject(emails: tuple[str, ...], plus: bool) -> Subject:
    try:
        return Subject.of(emails, plus_addressing=plus)
    except RejectedInputError as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from None


@click.group()
def subject() -> None:
    """Answer one person's privacy request: access, erasure, correction.

    \b
    Examples:
      cscor subject export --email a@example.com --out a-export/
      cscor subject erase --email a@example.com --dry-run
      cscor subject correct --email b@example.com --set name="B. Example"
    """


@subject.command("export")
@_subject_options
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Where the bundle goes: a new folder, or a .zip file.")
@click.option("--format", "-f", "fmt", type=click.Choice(list(FORMATS)), default="jsonl",
              show_default=True, help="File format of the data files.")
@click.option("--policy", "-p", default="portability", show_default=True,
              metavar="NAME|FILE.toml", help=f"Minimization policy: {', '.join(BUILTIN)}, "
              "or a TOML file.")
@click.option("--zip", "as_zip", is_flag=True, help="Write one .zip file instead of a folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def subject_export(ctx: click.Context, emails: tuple[str, ...], plus_addressing: bool,
                   out: Path, fmt: str, policy: str, as_zip: bool, as_json: bool) -> None:
    """Export every row that concerns one person, with a readable summary.

    Client and contact rows matched by address, their invoices, lines and payments, the
    messages sent to or by them, their comments: from every source, each row with its
    source, source id and when it was synced. SUMMARY.md and SUMMARY.html say what was
    found where. A person with no rows gets an empty bundle saying so.

    \b
    Examples:
      cscor subject export --email a@example.com --out a-export/
      cscor subject export --email a@example.com --email a@work.example --format csv \\
          --out a-export.zip
    """
    who = _subject(emails, plus_addressing)
    zipped = as_zip or out.suffix.lower() == ".zip"
    try:
        check_destination(out.absolute(), zip=zipped, overwrite=False)
    except RejectedInputError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        result = export_subject(store, who, out, format=fmt, policy=policy, zip=zipped)
    if as_json:
        print_json(result.as_dict())
        return
    click.echo(f"Found {plural(result.rows, 'row')}; wrote {result.out} "
               f"(policy {result.export.policy!r}, run #{result.export.run_id})")
    print_table(None, ["entity", "source", "rows", "last synced"],
                [(c.entity, c.source, c.rows,
                  c.last_synced.strftime("%Y-%m-%d %H:%M:%S") if c.last_synced else "-")
                 for c in result.found])


@subject.command("erase")
@_subject_options
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def subject_erase(ctx: click.Context, emails: tuple[str, ...], plus_addressing: bool,
                  dry_run: bool, yes: bool, as_json: bool) -> None:
    """Erase one person: delete or anonymize their rows, and keep them erased.

    Clients, contacts, messages and comments are deleted; invoices, their lines and
    payments are kept for tax with everything naming the person cleared. One transaction.
    The deletion log and the suppression list keep keyed hashes only (no address, name or
    phone); later syncs and imports drop or anonymize rows that bring the person back and
    count them.

    \b
    Examples:
      cscor subject erase --email a@example.com --dry-run
      cscor subject erase --email a@example.com
    """
    who = _subject(emails, plus_addressing)
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        if not dry_run and not yes and sys.stdin.isatty():
            preview = erase_subject(store, who, dry_run=True)
            click.confirm(f"Erase {plural(preview.rows, 'row')}? This cannot be undone",
                          abort=True)
        result = erase_subject(store, who, dry_run=dry_run)
    if as_json:
        print_json(result.as_dict())
        return
    verb = "Would erase" if dry_run else "Erased"
    click.echo(f"{verb} {plural(result.rows, 'row')} of subject {result.subject}"
               + ("" if dry_run else f" (deletion log #{result.deletion_id})"))
    rows = [(name, n, "deleted") for name, n in result.deleted.items()]
    rows += [(name, n, "anonymized") for name, n in result.anonymized.items()]
    if rows:
        print_table(None, ["entity", "rows", "how"], rows)


def _assignment(ctx: click.Context, param: click.Parameter,
                values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in values:
        name, eq, value = text.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(f"{text!r}: write FIELD=VALUE", ctx, param)
        out[name.strip()] = value if value != "" else None
    return out


@subject.command("correct")
@_subject_options
@click.option("--set", "changes", multiple=True, required=True, metavar="FIELD=VALUE",
              callback=_assignment, help="A corrected value (empty clears it); repeatable.")
@click.option("--entity", "entities", multiple=True, type=click.Choice(list(ENTITIES)),
              help=f"Entities to correct (default: {', '.join(DEFAULT_ENTITIES)}).")
@click.option("--dry-run", is_flag=True, help="Count the rows; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def subject_correct(ctx: click.Context, emails: tuple[str, ...], plus_addressing: bool,
                    changes: dict[str, Any], entities: tuple[str, ...], dry_run: bool,
                    as_json: bool) -> None:
    """Correct one person's fields, and keep the correction.

    The next sync or import keeps the corrected value while the source still holds the
    value it had when corrected; once the source changes it, the source's new value wins.
    Text fields are corrected here; for others, import a corrected file (cscor import).

    \b
    Examples:
      cscor subject correct --email b@example.com --set name="B. Example"
      cscor subject correct --email b@example.com --set phone=+15550100 --dry-run
    """
    who = _subject(emails, plus_addressing)
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        result = correct_subject(store, who, changes, entities=entities or DEFAULT_ENTITIES,
                                 dry_run=dry_run)
    if as_json:
        print_json(result.as_dict())
        return
    verb = "Would correct" if dry_run else "Corrected"
    rows = sum(result.rows.values())
    click.echo(f"{verb} {', '.join(result.fields)} on {plural(rows, 'row')}"
               + (f" ({', '.join(f'{n} {e}' for e, n in result.rows.items())})" if rows else ""))


@click.group()
def retention() -> None:
    """Delete or anonymize rows past their retention period.

    \b
    Examples:
      cscor retention apply --dry-run
      cscor retention apply --show-defaults > retention.toml
      cscor retention apply --policy retention.toml
    """


def _show_defaults(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(DEFAULTS_TOML, nl=False)
        ctx.exit(0)


@retention.command("apply")
@click.option("--policy", "policy", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.toml", help="Retention policy (default: the built-in periods).")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--show-defaults", is_flag=True, is_eager=True, expose_value=False,
              callback=_show_defaults, help="Print the default policy's TOML and exit.")
@click.pass_context
def retention_apply(ctx: click.Context, policy: Path | None, dry_run: bool,
                    as_json: bool) -> None:
    """Apply a retention policy: rows older than their period go, exact to the second.

    Defaults: messages 2 years after sending; invoices, lines and payments anonymized after
    10 years; rows their source deleted removed 90 days later. The deletion log and the
    audit log are kept.

    \b
    Examples:
      cscor retention apply --dry-run
      cscor retention apply --show-defaults > retention.toml
      cscor retention apply --policy retention.toml --json
    """
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        result = apply_retention(store, policy, dry_run=dry_run)
    if as_json:
        print_json(result.as_dict())
        return
    verb = "Would remove or anonymize" if dry_run else "Removed or anonymized"
    click.echo(f"{verb} {plural(result.rows, 'row')} (policy {result.policy})")
    print_table(None, ["entity", "deleted", "anonymized", "tombstones", "older than"],
                [(name, e.get("deleted", "-"), e.get("anonymized", "-"),
                  e.get("tombstones_deleted", "-"), e.get("cutoff", e.get("tombstone_cutoff")))
                 for name, e in result.entities.items()])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the last N entries.")
@click.pass_context
def audit(ctx: click.Context, as_json: bool, limit: int | None) -> None:
    """The audit log: syncs, imports, exports, erasures, corrections, retention, key rotations.

    Each entry says when, what, with which outcome and counts, and for exports the policy,
    its fingerprint and the destination. Never the data: people are named by keyed hashes.

    \b
    Examples:
      cscor audit
      cscor audit --json --limit 50
    """
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        records = audit_log(store, limit=limit)
    if as_json:
        for r in records:
            click.echo(_json_line(r.as_dict()))
        return
    print_table("Audit log", ["when", "action", "name", "status", "subject", "details"],
                [(r.at.strftime("%Y-%m-%d %H:%M:%S"), r.action, r.name, r.status,
                  (r.subject or "")[:12], clip(_brief(r.details), 60)) for r in records])


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def _brief(details: dict[str, Any]) -> str:
    keys = ("policy", "destination", "file", "deleted", "anonymized", "rows", "fields",
            "counts", "new_key_id")
    return "; ".join(f"{k}={details[k]}" for k in keys if details.get(k))


@click.group()
def keys() -> None:
    """The pseudonymization key: where it comes from, its id, its rotation.

    \b
    Examples:
      cscor keys show
      cscor keys rotate --dry-run
    """


@keys.command("show")
@click.pass_context
def keys_show(ctx: click.Context) -> None:
    """Where the key exports pseudonymize with comes from, and its id (never the key).

    \b
    Examples:
      cscor keys show
    """
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        info = key_info(store)
    click.echo(f"pseudonym key: {info['origin']}, id {info['key_id']}")


@keys.command("rotate")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.pass_context
def keys_rotate(ctx: click.Context, dry_run: bool) -> None:
    """Replace the workspace's pseudonymization key by a new random one.

    Exports made afterwards carry new pseudonyms and key id: they no longer join bundles made
    under the old key, which is not kept. The audit log records both key ids.

    \b
    Examples:
      cscor keys rotate --dry-run
      cscor keys rotate
    """
    a = app(ctx)
    with open_workspace(a.workspace, a.config) as store:
        rotation = rotate_hash_key(store, dry_run=dry_run)
    verb = "Would replace" if dry_run else "Replaced"
    click.echo(f"{verb} key {rotation.old_key_id} by {rotation.new_key_id}")
    if rotation.overridden_by_env:
        click.secho("note: CSCOR_HASH_KEY is set and exports use it: change it too",
                    fg="yellow", err=True)


__all__ = ["audit", "keys", "retention", "subject"]
