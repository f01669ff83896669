"""Records of one kind kept in list order, with the cursor pagination Stripe and Resend share.

Lists are newest first; objects created in the same second are ordered by when the sandbox made
them (a sequence number), so ties never reorder between two requests. A page is found by
bisection over sort keys, not by scanning, so page 200 of 20,000 customers costs what page 1
costs. Deleted records stay reachable by id (retrieve returns a stub, and a cursor naming one
still positions the next page) but leave the list.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

Key = tuple[int, int]
_BIG = 2**63


class Record(Protocol):
    id: str
    created: int
    seq: int
    live: bool


class HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Record)
T = TypeVar("T", bound=HasId)


def sort_key(record: Record) -> Key:
    # ascending keys give newest first, and among equals the later-made first
    return (-record.created, -record.seq)


@dataclass(frozen=True)
class CreatedRange:
    """``created[gt|gte|lt|lte]`` as an inclusive range of integer times."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

    def bounds(self) -> tuple[int, int]:
        low = -_BIG
        high = _BIG
        if self.gte is not None:
            low = max(low, self.gte)
        if self.gt is not None:
            low = max(low, self.gt + 1)
        if self.lte is not None:
            high = min(high, self.lte)
        if self.lt is not None:
            high = min(high, self.lt - 1)
        return low, high


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool


class _View(Generic[R]):
    """One ordered list and its parallel sort keys."""

    __slots__ = ("items", "keys")

    def __init__(self, items: list[R]) -> None:
        items.sort(key=sort_key)
        self.items = items
        self.keys = [sort_key(r) for r in items]


class Collection(Generic[R]):
    """Every record of one kind, by id, with cached orderings for listing."""

    def __init__(self) -> None:
        self._by_id: dict[str, R] = {}
        self._seq = 0
        self._live_view: _View[R] | None = None
        self._indexes: dict[str, dict[Hashable, _View[R]]] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, record: R) -> R:
        self._by_id[record.id] = record
        if self._live_view is not None:
            self.changed()
        return record

    def get(self, record_id: str) -> R | None:
        """Any record ever made, deleted ones included."""
        return self._by_id.get(record_id)

    def changed(self) -> None:
        """Call after a record is deleted or an indexed attribute changes."""
        self._live_view = None
        if self._indexes:
            self._indexes.clear()

    def __iter__(self) -> Iterator[R]:
        return iter(self._view().items)

    def __len__(self) -> int:
        return len(self._view().items)

    def all_records(self) -> list[R]:
        return list(self._by_id.values())

    def _view(self, index: str | None = None, value: Hashable = None) -> _View[R]:
        if self._live_view is None:
            self._live_view = _View([r for r in self._by_id.values() if r.live])
        if index is None:
            return self._live_view
        by_value = self._indexes.get(index)
        if by_value is None:
            groups: dict[Hashable, list[R]] = {}
            for record in self._live_view.items:
                groups.setdefault(getattr(record, index), []).append(record)
            by_value = {k: _View(v) for k, v in groups.items()}
            self._indexes[index] = by_value
        return by_value.get(value) or _View([])

    def page(
        self,
        *,
        limit: int,
        after: Record | None = None,
        before: Record | None = None,
        created: CreatedRange | None = None,
        index: tuple[str, Hashable] | None = None,
        where: Callable[[R], bool] | None = None,
    ) -> Page[R]:
        """One page, newest first.

        ``after`` pages towards older records; ``before`` towards newer ones and, as at Stripe,
        ``has_more`` then says whether newer records remain. ``index`` narrows to records whose
        attribute equals a value (e.g. invoices of one customer) through a cached grouping;
        ``where`` filters what is left by scanning.
        """
        view = self._view(*index) if index else self._view()
        keys = view.keys
        start, end = 0, len(keys)
        if created is not None:
            low, high = created.bounds()
            start = bisect_left(keys, (-high, -_BIG))
            end = bisect_right(keys, (-low, _BIG))
        if after is not None:
            start = max(start, bisect_right(keys, sort_key(after)))
        if before is not None:
            end = min(end, bisect_left(keys, sort_key(before)))
        if start >= end:
            return Page([], False)
        items = view.items
        backwards = before is not None and after is None
        if where is None:
            if backwards:
                first = max(start, end - limit)
                return Page(items[first:end], first > start)
            last = min(end, start + limit)
            return Page(items[start:last], last < end)
        found: list[R] = []
        positions = range(end - 1, start - 1, -1) if backwards else range(start, end)
        for i in positions:
            if where(items[i]):
                if len(found) == limit:
                    return Page(found[::-1] if backwards else found, True)
                found.append(items[i])
        return Page(found[::-1] if backwards else found, False)


def paginate_sequence(
    items: list[T], *, limit: int, after: str | None = None, before: str | None = None
) -> Page[T] | None:
    """Cursor pagination over a list kept in its own order (e.g. an invoice's lines).

    Returns None when a cursor names no item of the list.
    """
    positions = {r.id: i for i, r in enumerate(items)}
    start, end = 0, len(items)
    if after is not None:
        if after not in positions:
            return None
        start = positions[after] + 1
    if before is not None:
        if before not in positions:
            return None
        end = positions[before]
    if start >= end:
        return Page([], False)
    if before is not None and after is None:
        first = max(start, end - limit)
        return Page(items[first:end], first > start)
    last = min(end, start + limit)
    return Page(items[start:last], last < end)
