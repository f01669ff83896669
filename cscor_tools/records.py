"""Value objects that travel between connectors, the sync engine and the store.

They live below both so that a connector can describe a change without importing the store,
and the store can apply one without importing any connector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = dict[str, Any]


def merge_rows(earlier: Row, later: Row) -> Row:
    """One row that leaves what upserting ``earlier`` and then ``later`` would (the store's
    upsert rules, ``store.writes.upsert_assignments``): later values win, a column only the
    earlier row carries survives, a deletion sticks and the first deletion time and reason
    are kept. Whoever merges rows of one id before writing them uses this one rule."""
    merged = {**earlier, **later}
    if "deleted" in earlier and "deleted" in later:
        a, b = earlier["deleted"], later["deleted"]
        merged["deleted"] = True if (a or b) else (None if a is None or b is None else False)
    for c in ("deleted_at", "deleted_reason"):
        if earlier.get(c) is not None:
            merged[c] = earlier[c]
    if "synced_at" not in later:
        merged.pop("synced_at", None)  # the later write would have stamped it now
    return merged
#: JSON-serialisable position in a stream; its shape belongs to the stream that wrote it
Cursor = dict[str, Any]


@dataclass(frozen=True)
class Tombstone:
    """Marks a row deleted without touching its other columns."""

    id: str
    deleted_at: datetime
    reason: str


@dataclass(frozen=True)
class Sweep:
    """After a complete listing of a scope: tombstone every row of it the listing did not touch.

    A row was touched when a write carried it at or after ``listed_since``, changed or not
    (the store keeps that time apart from ``synced_at``, which moves only when a row
    changes). The scope is one entity of one source, optionally limited to a ``created_at``
    range [created_from, created_to).
    """

    entity: str
    source: str
    listed_since: datetime
    reason: str
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass
class ChangeSet:
    """Everything one page of a stream changes in the workspace, applied in one transaction."""

    upserts: dict[str, list[Row]] = field(default_factory=dict)
    tombstones: dict[str, list[Tombstone]] = field(default_factory=dict)
    sweeps: list[Sweep] = field(default_factory=list)

    def add(self, entity: str, rows: Row | Iterable[Row]) -> None:
        bucket = self.upserts.setdefault(entity, [])
        if isinstance(rows, Mapping):
            bucket.append(dict(rows))
        else:
            bucket.extend(rows)

    def tombstone(self, entity: str, stone: Tombstone) -> None:
        self.tombstones.setdefault(entity, []).append(stone)

    def merge(self, other: ChangeSet) -> None:
        for entity, rows in other.upserts.items():
            self.add(entity, rows)
        for entity, stones in other.tombstones.items():
            self.tombstones.setdefault(entity, []).extend(stones)
        self.sweeps.extend(other.sweeps)

    def __bool__(self) -> bool:
        return bool(
            any(self.upserts.values()) or any(self.tombstones.values()) or self.sweeps
        )


#: what a connector's normalize function yields: a row of an entity, or a tombstone of one
Output = tuple[str, Row | Tombstone]


class RowSink:
    """The rows and tombstones of one page, merged by id in the order they came.

    A page can name the same row twice (an invoice, and the same invoice again later in a
    page of events; a payment and the link that says which invoice it paid): rows of one id
    merge through :func:`merge_rows`, exactly as writing them in turn would. The first
    tombstone of an id wins, as the store keeps the first deletion time."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Row]] = {}
        self._stones: dict[str, dict[str, Tombstone]] = {}

    def add(self, entity: str, item: Row | Tombstone) -> None:
        if isinstance(item, Tombstone):
            self._stones.setdefault(entity, {}).setdefault(item.id, item)
            return
        bucket = self._rows.setdefault(entity, {})
        current = bucket.get(item["id"])
        bucket[item["id"]] = dict(item) if current is None else merge_rows(current, item)

    def extend(self, outputs: Iterable[Output]) -> None:
        for entity, item in outputs:
            self.add(entity, item)

    def changes(self) -> ChangeSet:
        out = ChangeSet()
        for entity, rows in self._rows.items():
            out.add(entity, list(rows.values()))
        for entity, stones in self._stones.items():
            out.tombstones.setdefault(entity, []).extend(stones.values())
        return out


@dataclass(frozen=True)
class CursorUpdate:
    """Where a stream (slice) stands after a page: written with that page's rows."""

    connector: str
    stream: str
    slice: str
    cursor: Cursor | None  # None removes the slice's cursor


@dataclass
class StreamState:
    """What the store remembers of one stream: its own cursor and any unfinished slices."""

    cursor: Cursor | None = None
    slices: dict[str, Cursor] = field(default_factory=dict)
