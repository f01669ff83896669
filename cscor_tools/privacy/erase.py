"""Erasure: one person's rows deleted or anonymized in one transaction, and kept erased.

Each entity is treated as ``rules.py`` says (deleted, or anonymized where the books need the
row). The same transaction writes a line to the deletion log (the keyed hash of the person's
first address, the key's id, rows per entity, when, by which command: no personal data), puts
keyed hashes of every address found and of every erased row's id on the suppression list (so
later syncs and imports drop or anonymize what would bring the person back), forgets the
corrections of those rows, and writes an audit entry. A dry run counts and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cscor_tools.privacy.guard import EMAIL, EMAIL_BASE, HANDLE, ROW
from cscor_tools.privacy.match import Matches, find_subject
from cscor_tools.privacy.rules import RULES, Treatment
from cscor_tools.privacy.subject import SUBJECT_KEY, Subject, subject_hasher
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did (or, for a dry run, would do), by entity; no personal data."""

    subject: str
    dry_run: bool
    deleted: dict[str, int]
    anonymized: dict[str, int]
    suppressed: int
    deletion_id: int | None
    at: datetime
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> int:
        return sum(self.deleted.values()) + sum(self.anonymized.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "anonymized": self.anonymized,
            "rows": self.rows,
            "suppressed": self.suppressed,
            "deletion_id": self.deletion_id,
            "at": self.at.isoformat(),
            "notes": list(self.notes),
        }


def erase_subject(
    store: Store,
    subject: Subject,
    *,
    dry_run: bool = False,
    command: str = "cscor subject erase",
    now: datetime | None = None,
) -> ErasureResult:
    """Erase every row of ``subject`` (see the module docstring); returns the counts."""
    at = now or datetime.now(UTC)
    hasher = subject_hasher(store.get_meta(SUBJECT_KEY))
    with store.transaction():
        found = find_subject(store, subject)
        deleted: dict[str, int] = {}
        anonymized: dict[str, int] = {}
        for name in RULES:
            ids = found.sorted_ids(name)
            if ids:
                target = deleted if RULES[name].treatment is Treatment.DELETE else anonymized
                target[name] = len(ids)
        entries = _suppression_entries(found, subject, hasher)
        subject_hash = hasher.subject(subject)
        if dry_run:
            return ErasureResult(subject_hash, True, deleted, anonymized, len(entries), None, at)
        for name, rule in RULES.items():
            ids = found.sorted_ids(name)
            if not ids:
                continue
            if rule.treatment is Treatment.DELETE:
                sql.delete_rows(store, name, ids)
            else:
                sql.clear_fields(store, name, ids, rule.cleared, at)
            sql.forget_corrections(store, [(name, i, None) for i in ids])
        counts = {"deleted": deleted, "anonymized": anonymized}
        deletion_id = sql.log_deletion(store, at, command, subject_hash, hasher.key_id(), counts)
        sql.suppress(store, entries, at, deletion_id)
        sql.log_audit(store, at, "subject.erase", subject_hash,
                      {"command": command, "deletion_id": deletion_id, **counts,
                       "suppressed": len(entries),
                       "plus_addressing": subject.plus_addressing})
    return ErasureResult(subject_hash, False, deleted, anonymized, len(entries), deletion_id, at)


def _suppression_entries(found: Matches, subject: Subject, hasher: Any) -> list[tuple[str, str]]:
    """(hash, kind): the given and found addresses, erased rows' ids, chat accounts."""
    entries: dict[str, str] = {}
    for address in sorted({*subject.emails, *found.addresses}):
        entries[hasher.email(address)] = EMAIL
    if subject.plus_addressing:
        for address in subject.emails:
            entries[hasher.email(address)] = EMAIL_BASE
    for name in RULES:
        for row_id in found.sorted_ids(name):
            entries[hasher.row(row_id)] = ROW
    for source, source_id in sorted(found.handles):
        entries[hasher.handle(source, source_id)] = HANDLE
    return sorted(entries.items())
