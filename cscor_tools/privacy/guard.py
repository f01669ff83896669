"""The check every write passes before it reaches the store: erased people stay erased, and
corrected fields stay corrected.

Syncs and imports load one :class:`WriteGuard` per run (the suppression list as sets of keyed
hashes, and the corrections, a query each) and screen each batch of rows through it before
writing. A row that matches an erased person — by its own id, an address it holds, a chat
account it names, or a reference to an erased row — is dropped where erasure deletes that
entity, or anonymized where erasure anonymizes it (``rules.py``); either way it is counted.
A corrected field whose source sends the value it held when corrected keeps the correction;
a new value from the source wins, and the correction is forgotten.

A workspace with no erasure and no correction pays one check per batch and nothing per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.privacy.rules import FOLLOWED, RULES, Treatment
from cscor_tools.privacy.subject import SUBJECT_KEY, SubjectHasher, addresses, base_address
from cscor_tools.records import Row
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql

#: the kinds of hash on the suppression list
EMAIL, EMAIL_BASE, ROW, HANDLE = "email", "email_base", "row", "handle"
#: per entity: the fields that may hold an address, and the foreign keys to erased rows
_ADDRESS_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(c for e, c in sql.NORMALIZED_LOOKUPS if e == name)
    for name, _ in sql.NORMALIZED_LOOKUPS
}
_REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(c for e, c, _ in FOLLOWED if e == name) for name, _, _ in FOLLOWED
}
_HANDLE_FIELDS = {"notifications": ("recipient", "sender")}
#: entities whose rows are always matched by their own id too (see WriteGuard._erased)
_OWN_ID_ENTITIES = frozenset(n for n, r in RULES.items() if r.treatment is Treatment.DELETE)
_MEMO_LIMIT = 1 << 18


def value_hash(hasher: SubjectHasher, value: Any) -> str:
    """The keyed hash of a field's value, however the value is spelled in Python."""
    return hasher.value(json.dumps(value, sort_keys=True, default=str))


@dataclass
class WriteGuard:
    """Screens rows on their way into the store (see the module docstring)."""

    hasher: SubjectHasher | None = None
    emails: frozenset[str] = frozenset()
    bases: frozenset[str] = frozenset()
    rows: frozenset[str] = frozenset()
    handles: frozenset[str] = frozenset()
    #: (entity, row id) -> field -> (hash of the source's value, corrected value)
    corrections: dict[tuple[str, str], dict[str, tuple[str, Any]]] = field(default_factory=dict)
    #: corrections a source has overridden since, to forget after the write
    superseded: list[tuple[str, str, str]] = field(default_factory=list)
    _ref_memo: dict[str, bool] = field(default_factory=dict, repr=False)
    _address_memo: dict[str, bool] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, store: Store) -> WriteGuard:
        """The guard for one run, from the store's suppression list and corrections."""
        lists = sql.suppressed(store)
        fixes = sql.corrections(store)
        if not lists and not fixes:
            return cls()
        corrections: dict[tuple[str, str], dict[str, tuple[str, Any]]] = {}
        for c in fixes:
            corrections.setdefault((c.entity, c.row_id), {})[c.field] = (c.source_hash, c.value)
        key = store.get_meta(SUBJECT_KEY)
        return cls(
            hasher=SubjectHasher(key.encode()) if key else None,
            emails=frozenset(lists.get(EMAIL, ())),
            bases=frozenset(lists.get(EMAIL_BASE, ())),
            rows=frozenset(lists.get(ROW, ())),
            handles=frozenset(lists.get(HANDLE, ())),
            corrections=corrections,
        )

    @property
    def active(self) -> bool:
        return self.hasher is not None and bool(
            self.emails or self.bases or self.rows or self.handles or self.corrections
        )

    @property
    def suppressing(self) -> bool:
        return bool(self.emails or self.bases or self.rows or self.handles)

    def screen(self, entity_name: str, rows: Sequence[Row]) -> tuple[list[Row], int]:
        """The rows to write, and how many were dropped or anonymized for an erased person."""
        if not self.active:
            return list(rows), 0
        rule = RULES.get(entity_name)
        suppressing = self.suppressing and rule is not None
        kept: list[Row] = []
        hits = 0
        corrections = self.corrections
        erased = self._erased
        for row in rows:
            if suppressing and erased(entity_name, row):
                hits += 1
                assert rule is not None
                if rule.treatment is Treatment.DELETE:
                    continue
                row = {**row, **{f: None for f in rule.cleared if f in row}}
            if corrections:
                fixes = corrections.get((entity_name, row.get("id", "")))
                if fixes:
                    row = self._corrected(entity_name, row, fixes)
            kept.append(row)
        return kept, hits

    def erased_id(self, candidates: Sequence[str]) -> str | None:
        """The first of these row ids that erasure removed, if any: a reference to it is the
        erased person's, and the row holding it is screened as theirs."""
        if not self.rows:
            return None
        return next((c for c in candidates if self._listed_row(c)), None)

    def settle(self, store: Store) -> int:
        """Forget the corrections a source overrode (after the rows that did so are written)."""
        if not self.superseded:
            return 0
        with store.transaction():
            dropped = sql.forget_corrections(store, self.superseded)
        for ent, row_id, name in self.superseded:
            fixes = self.corrections.get((ent, row_id), {})
            fixes.pop(name, None)
            if not fixes:
                self.corrections.pop((ent, row_id), None)
        self.superseded.clear()
        return dropped

    # -- per row ------------------------------------------------------------------------

    def _erased(self, entity_name: str, row: Row) -> bool:
        # The hot path of a guarded sync (every row of it). References and addresses are
        # remembered by their raw value (a client's id and address come back on each of its
        # invoices and payments). A row's own id is distinct, so hashing it costs a hash per
        # row: it is done where it decides, for the entities erasure deletes (a client whose
        # address changed at the source is still the erased client), and for a row of an
        # anonymized entity that carries neither a reference nor an address, since erasure
        # found every anonymized row through one of those and the source sends them again.
        rows = self.rows
        carried = False
        if rows:
            memo = self._ref_memo
            for name in _REFERENCE_FIELDS.get(entity_name, ()):
                value = row.get(name)
                if value:
                    carried = True
                    hit = memo.get(value)
                    if hit is None:
                        hit = self._row_hash(value) in rows
                        if len(memo) < _MEMO_LIMIT:
                            memo[value] = hit
                    if hit:
                        return True
        if self.emails or self.bases:
            memo = self._address_memo
            for name in _ADDRESS_FIELDS.get(entity_name, ()):
                value = row.get(name)
                if value:
                    carried = True
                    hit = memo.get(value)
                    if hit is None:
                        hit = self._address_listed(value)
                        if len(memo) < _MEMO_LIMIT:
                            memo[value] = hit
                    if hit:
                        return True
        if self.handles:
            assert self.hasher is not None
            source = row.get("source", "")
            for name in _HANDLE_FIELDS.get(entity_name, ()):
                value = row.get(name)
                if value and self.hasher.handle(source, value) in self.handles:
                    return True
        if rows and (not carried or entity_name in _OWN_ID_ENTITIES):
            own = row.get("id")
            return isinstance(own, str) and self._row_hash(own) in rows
        return False

    def _row_hash(self, row_id: str) -> str:
        assert self.hasher is not None
        return self.hasher.row(row_id)


    def _address_listed(self, value: str) -> bool:
        assert self.hasher is not None
        email = self.hasher.email
        for address in addresses(value):
            if email(address) in self.emails:
                return True
            if self.bases and email(base_address(address)) in self.bases:
                return True
        return False

    def _listed_row(self, row_id: str) -> bool:
        return bool(self.rows) and self._row_hash(row_id) in self.rows

    def _corrected(
        self, entity_name: str, row: Row, fixes: dict[str, tuple[str, Any]]
    ) -> Row:
        assert self.hasher is not None
        out = dict(row)
        for name, (source_hash, value) in fixes.items():
            if name not in row:
                continue
            if value_hash(self.hasher, row[name]) == source_hash:
                out[name] = value
            else:  # the source changed the value again: its new value wins
                self.superseded.append((entity_name, row["id"], name))
        return out
