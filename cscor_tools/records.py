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
    upsert rules, ``store.base.upsert_assignments``): later values win, a column only the
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

    A row was touched when its ``synced_at`` is at or after ``listed_since``. The scope is one
    entity of one source, optionally limited to a ``created_at`` range [created_from, created_to).
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

    def row_counts(self) -> dict[str, int]:
        counts = {e: len(r) for e, r in self.upserts.items() if r}
        for e, stones in self.tombstones.items():
            if stones:
                counts[f"{e}.deleted"] = counts.get(f"{e}.deleted", 0) + len(stones)
        return counts

    def __bool__(self) -> bool:
        return bool(
            any(self.upserts.values()) or any(self.tombstones.values()) or self.sweeps
        )


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
