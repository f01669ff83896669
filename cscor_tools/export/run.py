"""Exporting a workspace: store → minimize → format writer → bundle, recorded in the run log.

Reads come from one snapshot of the store (the tables and the sync cursors agree with each
other), a batch at a time; each batch is minimized before it reaches a writer, so nothing a
policy withholds is ever on disk, even in a temporary file.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cscor_tools.errors import PolicyError, RejectedInputError
from cscor_tools.export.bundle import Bundle
from cscor_tools.export.describe import (
    ExportedFile,
    FileTotals,
    LeftOutKey,
    datapackage,
    iso,
    manifest,
    resource_schema,
    to_json,
)
from cscor_tools.export.lifecycle import Written, opened, write_recorded
from cscor_tools.export.remote import open_bundle
from cscor_tools.formats import FORMATS, CsvWriter, FormatWriter, writer_class
from cscor_tools.minimize import (
    EntityPlan,
    HashKey,
    Minimizer,
    Policy,
    Pseudonymizer,
    load_policy,
    plan_policy,
    resolve_hash_key,
)
from cscor_tools.minimize.policy import parse_moment
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store
from cscor_tools.store.arrow import (
    DEFAULT_BATCH_ROWS,
    RowSelection,
    count_dangling,
    latest,
    read_batches,
    read_snapshot,
)

#: called after each batch written: (entity, rows written so far for it)
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ExportResult(FileTotals):
    """What an export wrote, where, and under which policy."""

    out: Path
    format: str
    zip: bool
    policy: str
    fingerprint: str
    files: tuple[ExportedFile, ...]
    run_id: int | None
    duration_s: float
    manifest: dict[str, Any] = field(repr=False)
    warnings: tuple[str, ...] = ()
    #: where the bundle went: ``out``, or the URL of a bundle in object storage
    location: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": self.location or str(self.out),
            "format": self.format,
            "zip": self.zip,
            "policy": self.policy,
            "fingerprint": self.fingerprint,
            "rows": self.rows,
            "bytes": self.bytes,
            "files": [f.as_dict() for f in self.files],
            "run_id": self.run_id,
            "duration_s": round(self.duration_s, 3),
            "warnings": list(self.warnings),
        }


def export_bundle(
    store: Store | str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    *,
    format: str = "jsonl",
    policy: str | os.PathLike[str] | Policy = "portability",
    entities: Sequence[str] | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    include_deleted: bool = False,
    zip: bool = False,
    overwrite: bool = False,
    env: Mapping[str, str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    ids: Mapping[str, Sequence[str]] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    generated_at: datetime | None = None,
    protect_formulas: bool = True,
    replace_unfinished: bool = False,
) -> ExportResult:
    """Export a workspace to a bundle at ``out``: one file per entity plus metadata.

    ``store`` is an open Store, or a workspace location (None: ``$CSCOR_WORKSPACE`` or
    ``./workspace.db``). ``policy`` is a built-in name, a ``.toml`` path or a Policy.
    ``since``/``until`` bound ``created_at`` as [since, until) and narrow the policy's own
    range; ``entities`` narrows the policy's. ``out`` must not exist unless ``overwrite``, and
    then it is replaced whole. ``env`` (default ``os.environ``) may hold ``CSCOR_HASH_KEY``.
    ``ids`` exports only the rows with these ids, by entity (an entity not named: none), as
    a privacy request does for one person's rows; ``extra_files`` (name → bytes) are written
    into the bundle beside the data, e.g. a readable summary (the manifest covers the data).
    The bundle is byte-for-byte the same for the same store, policy and options: it is dated
    by its data (``data_as_of``: the latest ``synced_at`` of the rows exported), and carries
    a clock time only when the caller passes one as ``generated_at``.
    ``protect_formulas=False`` writes CSV text cells as they are, without the apostrophe
    that stops a spreadsheet running ``=…`` (the manifest says which was done).
    ``replace_unfinished`` replaces a half-written bundle in object storage (what a killed
    export left) even without ``overwrite``: for a caller that knows no other export writes
    there now (a queued export job, which holds the destination's lock).
    Each export is recorded in the workspace's run log, failed ones included.
    """
    started = time.monotonic()
    if format not in FORMATS:
        raise RejectedInputError(
            f"unknown format {format!r} (known: {', '.join(FORMATS)})", field="format"
        )
    chosen = load_policy(policy)
    names = _entities(chosen, entities)
    window = _window(chosen, since, until)
    plans = plan_policy(chosen, names)
    # checks `out` before any work
    bundle = open_bundle(out, zip=zip, overwrite=overwrite, replace_unfinished=replace_unfinished)
    with opened(store) as workspace:
        job = _Job(
            format=format,
            policy=chosen,
            plans=plans,
            selections={
                n: RowSelection(window[0], window[1], include_deleted, chosen.rows.statuses(n),
                                None if ids is None else tuple(sorted(ids.get(n, ()))))
                for n in names
            },
            window=window,
            include_deleted=include_deleted,
            key=_key(workspace, plans, env if env is not None else os.environ),
            batch_rows=batch_rows,
            progress=progress,
            extra=tuple((extra_files or {}).items()),
            generated_at=generated_at,
            protect_formulas=protect_formulas,
        )
        left_out: list[LeftOutKey] = []

        def write(target: Bundle) -> Written:
            files, info, dropped = _write_bundle(workspace, target, job)
            left_out.extend(dropped)
            return Written(files, info)

        written, run_id = write_recorded(
            workspace,
            bundle,
            policy=chosen,
            started={
                "format": format,
                "out": bundle.location,
                "zip": zip,
                "entities": names,
                "since": iso(window[0]),
                "until": iso(window[1]),
                "include_deleted": include_deleted,
            },
            summary={"format": format, "out": bundle.location},
            write=write,
        )
    files, info = written.files, written.manifest
    return ExportResult(
        out=bundle.out,
        location=bundle.location,
        format=format,
        zip=zip,
        policy=chosen.name,
        fingerprint=chosen.fingerprint(),
        files=tuple(files),
        run_id=run_id,
        duration_s=time.monotonic() - started,
        manifest=info,
        warnings=tuple(
            f"foreign key {k.entity}.{k.field} left out of datapackage.json: {k.reason}"
            for k in left_out
        ),
    )


@dataclass(frozen=True)
class _Job:
    """One export's settled parameters."""

    format: str
    policy: Policy
    plans: dict[str, EntityPlan]
    selections: dict[str, RowSelection]
    window: tuple[datetime | None, datetime | None]
    include_deleted: bool
    key: HashKey | None
    batch_rows: int
    progress: Progress | None
    #: files written beside the data: (name, bytes)
    extra: tuple[tuple[str, bytes], ...] = ()
    #: the clock time manifest.json states, when the caller asked for one
    generated_at: datetime | None = None
    #: CSV only: text cells a spreadsheet would run get an apostrophe (formats/csv.py)
    protect_formulas: bool = True


def _write_bundle(
    store: Store, bundle: Bundle, job: _Job
) -> tuple[list[ExportedFile], dict[str, Any], list[LeftOutKey]]:
    """Every data file, then datapackage.json, all from one snapshot; returns them with the
    manifest that ``write_recorded`` writes last."""
    writer_cls = writer_class(job.format)
    # one pseudonymizer for the whole export: a client's pseudonyms, made for clients, are
    # remembered for its invoices
    pseudonymizer = Pseudonymizer(job.key) if job.key is not None else None
    files: list[ExportedFile] = []
    schemas: dict[str, dict[str, Any]] = {}
    left_out: list[LeftOutKey] = []
    with read_snapshot(store):
        cursors = store.cursors()
        synced = [latest(store, n, "synced_at", s) for n, s in job.selections.items()]
        for name, plan in job.plans.items():
            files.append(_write_entity(store, bundle, writer_cls, plan, pseudonymizer, job))
            keys, dropped = _foreign_keys(store, plan, job.plans, job.selections)
            left_out.extend(dropped)
            schemas[name] = resource_schema(plan, keys)
    for extra_name, data in job.extra:
        bundle.write_file(extra_name, data)
    package = to_json(
        datapackage(
            files,
            schemas,
            resource_format=writer_cls.resource_format,
            dialect=CsvWriter.dialect if writer_cls is CsvWriter else None,
            policy=job.policy,
        )
    )
    bundle.write_file("datapackage.json", package)
    info = manifest(
        generated_at=job.generated_at,
        formulas_protected=job.protect_formulas if writer_cls is CsvWriter else None,
        data_as_of=max((t for t in synced if t is not None), default=None),
        format_name=job.format,
        policy=job.policy,
        plans=job.plans,
        key=job.key,
        selection={
            "entities": list(job.plans),
            "time_range": {
                "field": "created_at",
                "since": iso(job.window[0]),
                "until": iso(job.window[1]),
            },
            "include_deleted": job.include_deleted,
            "status": {n: list(s.statuses) for n, s in job.selections.items() if s.statuses},
        },
        files=files,
        datapackage_file=(len(package), hashlib.sha256(package).hexdigest()),
        cursors=cursors,
        left_out=left_out,
    )
    return files, info, left_out


def _write_entity(
    store: Store,
    bundle: Bundle,
    writer_cls: type[FormatWriter],
    plan: EntityPlan,
    pseudonymizer: Pseudonymizer | None,
    job: _Job,
) -> ExportedFile:
    name = plan.entity.name
    minimizer = Minimizer(plan, pseudonymizer)
    path = f"{name}.{writer_cls.extension}"
    written = 0
    with bundle.open_file(path, compressed=writer_cls.compressed) as sink:
        writer = (CsvWriter(sink, minimizer.schema, protect_formulas=job.protect_formulas)
                  if writer_cls is CsvWriter else writer_cls(sink, minimizer.schema))
        for batch in read_batches(
            store,
            name,
            columns=plan.source_columns,
            selection=job.selections[name],
            batch_rows=job.batch_rows,
        ):
            writer.write(minimizer.apply(batch))
            written += batch.num_rows
            if job.progress is not None:
                job.progress(name, written)
        result = writer.close()
    return ExportedFile(path, name, result.rows, result.bytes, result.sha256, writer_cls.media_type)


def _foreign_keys(
    store: Store,
    plan: EntityPlan,
    plans: dict[str, EntityPlan],
    selections: dict[str, RowSelection],
) -> tuple[list[str], list[LeftOutKey]]:
    """The foreign keys of a file that hold in the bundle, and those left out with why."""
    declared: list[str] = []
    left_out: list[LeftOutKey] = []
    name = plan.entity.name
    for fp in plan.output:
        target = fp.field.references
        if target is None:
            continue
        if target not in plans:
            left_out.append(LeftOutKey(name, fp.field.name, target, f"{target} is not exported"))
            continue
        dangling = count_dangling(
            store, name, fp.field.name, selections[name], selections[target]
        )
        if dangling:
            left_out.append(
                LeftOutKey(
                    name,
                    fp.field.name,
                    target,
                    f"{dangling} row(s) point to {target} rows not in this export "
                    "(filtered out, deleted, or never synced)",
                )
            )
            continue
        declared.append(fp.field.name)
    return declared, left_out


def _entities(policy: Policy, requested: Sequence[str] | None) -> list[str]:
    allowed = list(policy.rows.entities) if policy.rows.entities is not None else list(ENTITIES)
    if requested is None:
        return [n for n in ENTITIES if n in allowed]
    unknown = [n for n in requested if n not in ENTITIES]
    if unknown:
        raise RejectedInputError(
            f"unknown entity {unknown[0]!r} (known: {', '.join(ENTITIES)})", field="entities"
        )
    refused = [n for n in requested if n not in allowed]
    if refused:
        raise PolicyError(
            f"the {policy.name!r} policy does not let {refused[0]} out "
            f"(it exports {', '.join(allowed)})"
        )
    return [n for n in ENTITIES if n in requested]


def _window(
    policy: Policy, since: datetime | date | str | None, until: datetime | date | str | None
) -> tuple[datetime | None, datetime | None]:
    """The created_at range: the narrower of the policy's and the caller's."""
    try:
        lo = parse_moment(since) if since is not None else None
        hi = parse_moment(until) if until is not None else None
    except ValueError as exc:
        raise RejectedInputError(str(exc), field="since/until") from None
    if policy.rows.since is not None:
        lo = max(lo, policy.rows.since) if lo else policy.rows.since
    if policy.rows.until is not None:
        hi = min(hi, policy.rows.until) if hi else policy.rows.until
    if lo is not None and hi is not None and lo >= hi:
        raise RejectedInputError(
            f"the time range is empty (since {iso(lo)} is not before until {iso(hi)})",
            field="since/until",
        )
    return lo, hi


def _key(store: Store, plans: dict[str, EntityPlan], env: Mapping[str, str]) -> HashKey | None:
    if not any(p.needs_key for p in plans.values()):
        return None
    return resolve_hash_key(store.get_meta("hash_key"), env)
