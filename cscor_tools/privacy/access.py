"""Access and portability: one person's rows as a bundle, with a summary they can read.

The bundle is an ordinary export (``cscor_tools.export``: the same writers, manifest and
datapackage, under the ``portability`` policy by default) narrowed to the rows that
``match.find_subject`` finds, tombstones included, with ``SUMMARY.md`` and ``SUMMARY.html``
beside the data: what was found where, by source, with counts and when it was last synced.
Every row carries its lineage (``source``, ``source_id``, ``synced_at``). A person with no
rows gets a bundle of empty files and a summary that says so: an answer, not an error.

The export is in the run log like any other, and the audit log says when, under which policy
(and its fingerprint), how many rows of each entity and where to — never the data.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cscor_tools.export import ExportResult, export_bundle
from cscor_tools.minimize import Policy
from cscor_tools.privacy.match import Matches, find_subject
from cscor_tools.privacy.subject import SUBJECT_KEY, Subject, subject_hasher
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql

_ADDRESS = re.compile(r"[^\s/\\]+@[^\s/\\]+")


@dataclass(frozen=True)
class SourceCount:
    """What one source holds of the person in one entity."""

    entity: str
    source: str
    rows: int
    last_synced: datetime | None


@dataclass(frozen=True)
class SubjectExport:
    """A subject access export: the bundle written and what was found where."""

    subject: str
    export: ExportResult
    found: tuple[SourceCount, ...]

    @property
    def out(self) -> Path:
        return self.export.out

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.found)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.found:
            out[c.entity] = out.get(c.entity, 0) + c.rows
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "out": str(self.out),
            "rows": self.rows,
            "counts": self.counts(),
            "by_source": [
                {"entity": c.entity, "source": c.source, "rows": c.rows,
                 "last_synced": c.last_synced.isoformat() if c.last_synced else None}
                for c in self.found
            ],
            "export": self.export.as_dict(),
        }


def export_subject(
    store: Store,
    subject: Subject,
    out: str | os.PathLike[str],
    *,
    format: str = "jsonl",
    policy: str | os.PathLike[str] | Policy = "portability",
    zip: bool = False,
    overwrite: bool = False,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> SubjectExport:
    """Write every row that concerns ``subject`` to a bundle at ``out`` (module docstring)."""
    at = now or datetime.now(UTC)
    hasher = subject_hasher(store.get_meta(SUBJECT_KEY))
    found = find_subject(store, subject)
    by_source = _by_source(store, found)
    summary = _summary(subject, by_source, at)
    result = export_bundle(
        store,
        out,
        format=format,
        policy=policy,
        include_deleted=True,
        zip=zip,
        overwrite=overwrite,
        env=env,
        ids={name: found.sorted_ids(name) for name in ENTITIES},
        extra_files={"SUMMARY.md": summary.encode(), "SUMMARY.html": _html(summary).encode()},
    )
    subject_hash = hasher.subject(subject)
    with store.transaction():
        sql.log_audit(store, now or datetime.now(UTC), "subject.export", subject_hash, {
            "policy": result.policy,
            "fingerprint": result.fingerprint,
            "format": result.format,
            "destination": redact_destination(str(result.out)),
            "counts": {f.entity: f.rows for f in result.files if f.rows},
            "run_id": result.run_id,
        })
    return SubjectExport(subject_hash, result, tuple(by_source))


def redact_destination(path: str) -> str:
    """A destination as the audit log keeps it: an address in a file name is not kept."""
    return _ADDRESS.sub("[address]", path)


def _by_source(store: Store, found: Matches) -> list[SourceCount]:
    out: list[SourceCount] = []
    for name in ENTITIES:
        ids = found.sorted_ids(name)
        if not ids:
            continue
        tally: dict[str, tuple[int, datetime | None]] = {}
        for source, _, synced in sql.lineage(store, name, ids):
            n, last = tally.get(source, (0, None))
            tally[source] = (n + 1, max(filter(None, (last, synced)), default=None))
        out.extend(SourceCount(name, src, n, last) for src, (n, last) in sorted(tally.items()))
    return out


def _summary(subject: Subject, found: list[SourceCount], at: datetime) -> str:
    lines = [
        "# The data this workspace holds about you",
        "",
        f"Searched for: {', '.join(subject.emails)}"
        + (" (with any +tag)" if subject.plus_addressing else ""),
        f"Made at: {at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
        "",
    ]
    if not found:
        lines.append("Nothing: no row of this workspace concerns these addresses.")
        return "\n".join(lines) + "\n"
    lines += [
        f"{sum(c.rows for c in found)} rows were found. Each file of this bundle holds one kind "
        "of record; every row says where it came from (`source`, `source_id`) and when it "
        "was last synced (`synced_at`).",
        "",
        "| source | records | rows | last synced |",
        "|---|---|---|---|",
    ]
    for c in found:
        when = c.last_synced.strftime("%Y-%m-%d %H:%M:%S UTC") if c.last_synced else "-"
        lines.append(f"| {c.source} | {c.entity} | {c.rows} | {when} |")
    return "\n".join(lines) + "\n"


def _html(markdown: str) -> str:
    """The summary as a small standalone HTML page (its Markdown is only headings, lines and
    one table, so it is converted here rather than by a Markdown library)."""
    body: list[str] = []
    rows: list[list[str]] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip().strip("`")) for c in line.strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                rows.append(cells)
            continue
        if rows:
            body.append(_table(rows))
            rows = []
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line:
            body.append(f"<p>{html.escape(line).replace('`', '')}</p>")
    if rows:
        body.append(_table(rows))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Your data</title></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
