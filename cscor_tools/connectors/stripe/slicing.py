"""How a Stripe list is cut into ``created`` windows that can be read at the same time.

Stripe lists are newest first, with no count and no ascending order. A plan therefore starts
from two facts bought with a few requests: the newest ``created`` (the first item of a
``limit=100`` page, whose spread also gives the recent density), and a lower bound under the
oldest ``created``, found by rounds of parallel ``limit=1`` probes that each narrow the bracket
eightfold (``created[lt]=t`` answers "is anything older than t, and what is the newest such
thing"). The range in between is split evenly into windows ``[gte, lt)`` that cover it exactly
once; the first window is open below, so that it also owns anything older than the bound.

The upper bound is fixed when the plan is made (one past the newest ``created`` seen): objects
created while the scan runs fall above every window and belong to the next incremental run,
which starts at the plan's high-water mark. A plan is JSON and rides in every slice cursor, so
an interrupted run rebuilds exactly the windows it had.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

#: no Stripe object is older than Stripe; an earlier one only costs an extra probe round
STRIPE_EPOCH = 1_262_304_000  # 2010-01-01T00:00:00Z
#: probes per round of the lower-bound search, read at once
FANOUT = 8
#: stop narrowing when the unknown stretch is at most this fraction of the range: at worst
#: the oldest window is that much emptier than the others, which costs less than a round
RESOLUTION = 16
#: a window should hold about this many pages: enough that a worker is not mostly planning
PAGES_PER_SLICE = 4
PAGE_SIZE = 100

T = TypeVar("T")
R = TypeVar("R")
Mapper = Callable[[Callable[[T], R], Sequence[T]], list[R]]


@dataclass(frozen=True)
class Window:
    """Objects with ``gte <= created < lt``; ``gte`` None is open below."""

    gte: int | None
    lt: int

    @property
    def key(self) -> str:
        return f"{'min' if self.gte is None else self.gte}-{self.lt}"

    def contains(self, created: int) -> bool:
        return (self.gte is None or created >= self.gte) and created < self.lt


@dataclass(frozen=True)
class Plan:
    """A stream's windows for one run, and the high-water mark it leaves behind.

    ``mode`` is ``full`` (everything), ``new`` (created since the last high-water mark) or
    ``reconcile`` (everything again, because the change feed lost track).
    """

    mode: str
    bounds: tuple[int, ...]
    open_below: bool
    high_water: int

    def windows(self) -> list[Window]:
        """Newest first: the recent end of an account is usually the densest, and reading
        the largest windows first shortens the tail where one worker runs alone."""
        out = []
        for i in range(len(self.bounds) - 1):
            gte = None if (i == 0 and self.open_below) else self.bounds[i]
            out.append(Window(gte, self.bounds[i + 1]))
        return out[::-1]

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "bounds": list(self.bounds), "open": self.open_below,
                "hw": self.high_water}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(str(data["mode"]), tuple(int(b) for b in data["bounds"]), bool(data["open"]),
                   int(data["hw"]))


def split(start: int, end: int, count: int) -> tuple[int, ...]:
    """Boundaries ``start = b0 < b1 < … < bn = end`` of ``count`` near-equal integer windows
    (fewer when the range has fewer seconds than ``count``)."""
    if end <= start:
        raise ValueError("empty range")
    count = max(1, min(count, end - start))
    bounds = [start + (end - start) * i // count for i in range(count + 1)]
    return tuple(dict.fromkeys(bounds))


def slice_count(
    *,
    sample: int,
    sample_span: int,
    range_span: int,
    has_more: bool,
    max_slices: int,
) -> int:
    """How many windows to cut ``range_span`` seconds into, from the newest page's density.

    ``sample`` objects spread over ``sample_span`` seconds is the recent rate; assuming it
    over the whole range overestimates a growing account's past, which costs at most a few
    empty pages, never parallelism.
    """
    if not has_more or sample <= 0:
        return 1
    rate = sample / max(1, sample_span)
    pages = rate * max(1, range_span) / PAGE_SIZE
    return max(1, min(max_slices, math.ceil(pages / PAGES_PER_SLICE), range_span))


def probe_points(low: int, high: int, count: int) -> list[int]:
    """``count`` distinct points strictly inside (low, high), evenly spread."""
    points = {low + (high - low) * i // (count + 1) for i in range(1, count + 1)}
    return sorted(p for p in points if low < p < high)


def find_floor(
    older_than: Callable[[int], int | None],
    top: int,
    *,
    mapper: Mapper[int, int | None] | None = None,
    fanout: int = FANOUT,
    resolution: int = RESOLUTION,
) -> int:
    """A time at or below the oldest ``created``, close to it (within 1/``resolution`` of the
    range), given ``older_than(t)``: the newest ``created`` below ``t``, or None.

    Something must exist below ``top``. Each round asks ``fanout - 1`` questions at once
    (through ``mapper``, e.g. a thread pool), so the search costs a few round trips.
    """
    run: Mapper[int, int | None] = mapper or _serial_map
    low, high = 0, top  # invariant: nothing below low; something below high
    if high > STRIPE_EPOCH:  # first ask whether anything predates Stripe at all
        points = [STRIPE_EPOCH, *probe_points(STRIPE_EPOCH, high, fanout - 2)]
    else:
        points = probe_points(low, high, fanout - 1)
    while points:
        for point, newest in zip(points, run(older_than, points), strict=True):
            if newest is None:
                low = max(low, point)
            else:
                high = min(high, newest + 1)
        if high - low <= max(1, (top - low) // resolution):
            break
        points = probe_points(low, high, fanout - 1)
    return low


def _serial_map(func: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return [func(x) for x in items]
