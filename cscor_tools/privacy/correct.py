"""Correction: a person's fields set right in the workspace, and kept right.

The person's client and contact rows (or the entities named) take the new values in one
transaction. Each corrected field is remembered with a keyed hash of the value its source
held at the time, so the write guard (``guard.py``) keeps the correction when a sync or an
import brings that same value again, and lets the source win once it sends a new one. The
audit log says which fields of how many rows were corrected, never the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cscor_tools.errors import RejectedInputError
from cscor_tools.privacy.guard import value_hash
from cscor_tools.privacy.match import find_subject
from cscor_tools.privacy.subject import SUBJECT_KEY, Subject, subject_hasher
from cscor_tools.schema import ENTITIES, PROVENANCE, FieldType, Privacy
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql

DEFAULT_ENTITIES = ("clients", "contacts")
_NOT_CORRECTABLE = {f.name for f in PROVENANCE}
_SCALARS = {FieldType.STRING: str, FieldType.INTEGER: int, FieldType.BOOLEAN: bool}


@dataclass(frozen=True)
class CorrectionResult:
    subject: str
    dry_run: bool
    #: rows corrected per entity
    rows: dict[str, int]
    fields: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "dry_run": self.dry_run, "rows": self.rows,
                "fields": list(self.fields)}


def correct_subject(
    store: Store,
    subject: Subject,
    changes: Mapping[str, Any],
    *,
    entities: Sequence[str] = DEFAULT_ENTITIES,
    dry_run: bool = False,
    now: datetime | None = None,
) -> CorrectionResult:
    """Set ``changes`` (field → value; None clears) on the person's rows of ``entities``.

    A field an entity does not have is skipped for that entity; one no entity has, a
    provenance column, a secret, or a value of the wrong type is RejectedInputError.
    """
    at = now or datetime.now(UTC)
    if not changes:
        raise RejectedInputError("name at least one field to correct (--set FIELD=VALUE)")
    for name in entities:
        if name not in ENTITIES:
            raise RejectedInputError(f"unknown entity {name!r}", field="entity")
    changes = {fname: _check(fname, value, entities) for fname, value in changes.items()}
    hasher = subject_hasher(store.get_meta(SUBJECT_KEY))
    corrected: dict[str, int] = {}
    with store.transaction() as tx:
        found = find_subject(store, subject)
        known = {(c.entity, c.row_id, c.field): c for c in sql.corrections(store)}
        for name in entities:
            ent = ENTITIES[name]
            fields = {k: v for k, v in changes.items() if ent.has_field(k)}
            rows = store.get_rows(name, found.sorted_ids(name))
            if not fields or not rows:
                continue
            corrected[name] = len(rows)
            if dry_run:
                continue
            for row_id, row in sorted(rows.items()):
                for fname, value in fields.items():
                    earlier = known.get((name, row_id, fname))
                    source = earlier.source_hash if earlier else value_hash(hasher, row[fname])
                    sql.save_correction(
                        store, sql.Correction(name, row_id, fname, value, source, at)
                    )
                tx.upsert(name, [{**row, **fields, "synced_at": at}])
        if not dry_run:
            sql.log_audit(store, at, "subject.correct", hasher.subject(subject),
                          {"rows": corrected, "fields": sorted(changes)})
    return CorrectionResult(hasher.subject(subject), dry_run, corrected, tuple(sorted(changes)))


def _check(fname: str, value: Any, entities: Sequence[str]) -> Any:
    """The value to write (text from a command line read as the field's type), or an error."""
    owners = [ENTITIES[n].field(fname) for n in entities if ENTITIES[n].has_field(fname)]
    if not owners:
        raise RejectedInputError(
            f"no field {fname!r} in {', '.join(entities)}", field=fname
        )
    for f in owners:
        if f.name in _NOT_CORRECTABLE or f.privacy is Privacy.SECRET:
            raise RejectedInputError(f"{fname} cannot be corrected", field=fname)
        kind = _SCALARS.get(f.type)
        if kind is None:
            raise RejectedInputError(
                f"{fname} is a {f.type.value}: correct it by importing a file "
                "(cscor import), which validates every kind of field", field=fname
            )
        if isinstance(value, str) and kind is not str:
            value = _parse(value, kind)
        if value is not None and (not isinstance(value, kind)
                                  or (kind is int and isinstance(value, bool))):
            raise RejectedInputError(f"{fname} takes a {f.type.value}", field=fname)
    return value


def _parse(text: str, kind: type) -> Any:
    folded = text.strip().lower()
    if kind is bool:
        return {"true": True, "false": False}.get(folded, text)
    try:
        return int(folded)
    except ValueError:
        return text
