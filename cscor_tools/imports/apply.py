"""Applying rows to the store: foreign keys, insert/update/unchanged, and the upsert itself.

Works a batch at a time, so a million-row file costs a bounded number of queries and bounded
memory: each batch resolves its references and reads the rows it may overwrite with a few
``get_rows`` calls, classifies every row against what is stored (or against an earlier row
of the same import: the last row of a key wins, as sequential writes would), and upserts
only what changes. Rows that change nothing are not written, so a re-import leaves the
workspace exactly as it was. A reference found nowhere costs its row, except in a bundle
whose manifest left that key out (``references.py``).

A dry run writes nothing: it remembers the ids and fingerprints of the rows it would have
written in an Overlay, which costs memory in proportion to the rows imported (about a hundred
bytes a row), so that later batches and entities see them as a real run would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.imports.references import LeftOutReferences
from cscor_tools.privacy.guard import WriteGuard
from cscor_tools.records import Row
from cscor_tools.schema import ENTITIES, make_id
from cscor_tools.store import Store, Transaction

#: (row number, built row, the raw record for the rejects file)
Item = tuple[int, Row, Any]
#: (row number, raw record, field, reason)
Rejection = tuple[int, Any, str | None, str]

_NOT_COMPARED = frozenset({"id", "synced_at"})
_CACHE_LIMIT = 200_000


@dataclass
class BatchOutcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: rows of erased people dropped or anonymized before they were applied
    suppressed: int = 0


class SeenIds:
    """A Bloom filter of the ids this import wrote: fixed memory (8 MiB), no false negatives.

    When an entity's table was empty as the import began, a row can only exist if this import
    wrote it, so only ids the filter may contain (repeats in the file, and about one in ten
    thousand others per million rows) need a lookup: an initial load reads almost nothing back.
    """

    _BITS = 1 << 26
    _MASK = _BITS - 1

    def __init__(self) -> None:
        self._bits = bytearray(self._BITS // 8)

    @staticmethod
    def _hash(row_id: str) -> int:
        try:
            return int(row_id[-20:], 16)  # our ids end in 80 bits of a SHA-256
        except ValueError:
            return int.from_bytes(hashlib.blake2b(row_id.encode(), digest_size=10).digest(),
                                  "big")

    # Both loops run once per row of an initial load: the three probes are written out
    # rather than looped over, which halves their cost.

    def add_all(self, row_ids: Iterable[str]) -> None:
        bits, mask, hash_of = self._bits, self._MASK, self._hash
        for row_id in row_ids:
            h = hash_of(row_id)
            a, b, c = h & mask, (h >> 26) & mask, (h >> 52) & mask
            bits[a >> 3] |= 1 << (a & 7)
            bits[b >> 3] |= 1 << (b & 7)
            bits[c >> 3] |= 1 << (c & 7)

    def maybe_seen(self, row_ids: Iterable[str]) -> list[str]:
        """The ids the filter may hold (all those it holds, and rare false positives)."""
        bits, mask, hash_of = self._bits, self._MASK, self._hash
        out = []
        for row_id in row_ids:
            h = hash_of(row_id)
            a, b, c = h & mask, (h >> 26) & mask, (h >> 52) & mask
            if (bits[a >> 3] >> (a & 7)) & (bits[b >> 3] >> (b & 7)) \
                    & (bits[c >> 3] >> (c & 7)) & 1:
                out.append(row_id)
        return out


class Overlay:
    """What a dry run would have written, by entity: id → fingerprint of the row."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, int]] = {}

    def fingerprint(self, entity_name: str, row_id: str) -> int | None:
        return self._rows.get(entity_name, {}).get(row_id)

    def put(self, entity_name: str, row_id: str, fingerprint: int) -> None:
        self._rows.setdefault(entity_name, {})[row_id] = fingerprint


def fingerprint(row: Row) -> int:
    """A hash of what a row says (not when it was written)."""
    return hash(json.dumps({k: v for k, v in row.items() if k not in _NOT_COMPARED},
                           sort_keys=True, default=str))


def changes(stored: Row, row: Row) -> bool:
    """Whether upserting ``row`` over ``stored`` would change anything.

    Mirrors the store's upsert: only the columns the row carries are set, and tombstones are
    sticky (``deleted`` only turns on; ``deleted_at``/``deleted_reason`` keep a stored value).
    """
    for key, value in row.items():
        if key in _NOT_COMPARED:
            continue
        old = stored.get(key)
        if key == "deleted":
            if bool(old) != (bool(old) or bool(value)):
                return True
        elif key in ("deleted_at", "deleted_reason"):
            if old is None and value is not None:
                return True
        elif value != old:
            return True
    return False


class Applier:
    """Applies batches of one entity's rows inside an open transaction (or none: dry run)."""

    def __init__(
        self,
        store: Store,
        entity_name: str,
        *,
        tx: Transaction | None,
        overlay: Overlay | None,
        verbatim: bool,
        left_out: LeftOutReferences | None = None,
        guard: WriteGuard | None = None,
    ) -> None:
        self.store = store
        self.guard = guard
        self.entity = entity_name
        self.tx = tx
        self.overlay = overlay
        self.verbatim = verbatim
        self.left_out = left_out
        #: field → references kept unresolved because the bundle left their key out
        self.kept_unresolved: dict[str, int] = {}
        self._exists: dict[tuple[str, str], bool] = {}
        # An empty table holds only what this import writes: remember that instead of asking.
        self._fresh = store.count(entity_name) == 0
        self._seen = SeenIds() if self._fresh and overlay is None else None

    @property
    def fresh(self) -> bool:
        """Whether the entity's table was empty when the import began."""
        return self._fresh

    # -- foreign keys ---------------------------------------------------------------------

    def candidates(self, ref: str, value: str, source: str) -> list[str]:
        """Workspace ids a reference may mean, most specific first."""
        if self.verbatim:
            return [value]
        prefix = ENTITIES[ref].id_prefix + "_"
        out = []
        if value.startswith(prefix) and len(value) == len(prefix) + 20:
            out.append(value)  # already a workspace id
        out.append(make_id(ref, source, value))  # a source id of the same import source
        if "@" in value and value.lower() != value:
            out.append(make_id(ref, source, value.lower()))  # an email-keyed row
        return out

    def existing(self, ref: str, ids: set[str]) -> set[str]:
        found = set()
        ask = []
        for rid in ids:
            known = self._exists.get((ref, rid))
            if known is None and self.overlay is not None \
                    and self.overlay.fingerprint(ref, rid) is not None:
                known = True
            if known is None:
                ask.append(rid)
            elif known:
                found.add(rid)
        if ask:
            stored = self.store.get_rows(ref, ask)
            if len(self._exists) > _CACHE_LIMIT:
                self._exists.clear()
            for rid in ask:
                hit = rid in stored
                self._exists[(ref, rid)] = hit
                if hit:
                    found.add(rid)
        return found

    def _resolve(self, items: list[Item], references: dict[str, str],
                 out: BatchOutcome) -> list[Item]:
        if not references:
            return items
        wanted: dict[str, set[str]] = {}
        for _, row, _ in items:
            for fname, ref in references.items():
                value = row.get(fname)
                if value is not None:
                    wanted.setdefault(ref, set()).update(
                        self.candidates(ref, value, row["source"])
                    )
        found = {ref: self.existing(ref, ids) for ref, ids in wanted.items()}
        kept: list[Item] = []
        left_out = self.left_out
        for item in items:
            n, row, raw = item
            unresolved: list[str] = []
            for fname, ref in references.items():
                value = row.get(fname)
                if value is None:
                    continue
                hit = next((c for c in self.candidates(ref, value, row["source"])
                            if c in found[ref]), None)
                if hit is None and self.guard is not None:  # a row erased: the guard decides
                    hit = self.guard.erased_id(self.candidates(ref, value, row["source"]))
                if hit is not None:
                    row[fname] = hit
                elif left_out is not None and left_out.keeps(self.entity, fname, ref, value):
                    unresolved.append(fname)  # as the source held it: see references.py
                else:
                    singular = ref[:-1] if ref.endswith("s") else ref
                    out.rejected.append(
                        (n, raw, fname, f"no {singular} with this reference in the file or "
                                        "the workspace")
                    )
                    break
            else:
                kept.append(item)
                for fname in unresolved:
                    self.kept_unresolved[fname] = self.kept_unresolved.get(fname, 0) + 1
        return kept

    # -- classify and write ---------------------------------------------------------------

    def apply(self, items: Sequence[Item], references: dict[str, str]) -> BatchOutcome:
        out = BatchOutcome()
        valid = self._resolve(list(items), references, out)
        if self.guard is not None and self.guard.active:
            valid = self._screen(valid, out)
        if not valid:
            return out
        ids = list(dict.fromkeys(row["id"] for _, row, _ in valid))
        if self._fresh:
            seen = self._seen
            ids = seen.maybe_seen(ids) if seen is not None else []
        stored = self.store.get_rows(self.entity, ids) if ids else {}
        state: dict[str, Row] = {}
        writes: dict[str, Row] = {}
        overlay = self.overlay
        for _, row, _ in valid:
            rid = row["id"]
            before = state.get(rid)
            if before is None and overlay is not None:
                earlier = overlay.fingerprint(self.entity, rid)
                if earlier is not None:
                    if earlier == fingerprint(row):
                        out.unchanged += 1
                        continue
                    out.updated += 1
                    state[rid] = row
                    overlay.put(self.entity, rid, fingerprint(row))
                    continue
            if before is None:
                before = stored.get(rid)
            if before is None:
                out.inserted += 1
                state[rid] = row
            elif changes(before, row):
                out.updated += 1
                state[rid] = {**before, **row}
            else:
                out.unchanged += 1
                continue
            writes[rid] = row
        if overlay is not None:
            for rid, row in writes.items():
                overlay.put(self.entity, rid, fingerprint(row))
        elif writes and self.tx is not None:
            self.tx.upsert(self.entity, list(writes.values()))
            if self._seen is not None:
                self._seen.add_all(writes)
            if self.guard is not None:
                self.guard.settle(self.store)
        return out

    def _screen(self, items: list[Item], out: BatchOutcome) -> list[Item]:
        """Privacy: rows of erased people dropped or anonymized, corrections kept."""
        assert self.guard is not None
        kept: list[Item] = []
        for n, row, raw in items:
            rows, suppressed = self.guard.screen(self.entity, [row])
            out.suppressed += suppressed
            if rows:
                kept.append((n, rows[0], raw))
        return kept
