"""The window planner: windows cover the range exactly once; the floor search is close."""

from __future__ import annotations

import bisect
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.connectors.stripe.slicing import (
    STRIPE_EPOCH,
    Plan,
    Window,
    find_floor,
    slice_count,
    split,
)


@given(start=st.integers(0, 2_000_000_000), span=st.integers(1, 10**9),
       count=st.integers(1, 200))
def test_split_covers_the_range_exactly_once(start: int, span: int, count: int) -> None:
    bounds = split(start, start + span, count)
    assert bounds[0] == start and bounds[-1] == start + span
    assert all(a < b for a, b in itertools.pairwise(bounds))
    assert len(bounds) - 1 == min(count, span)
    widths = [b - a for a, b in itertools.pairwise(bounds)]
    assert max(widths) - min(widths) <= 1  # even


@given(
    bounds=st.lists(st.integers(0, 10**6), min_size=2, max_size=40, unique=True).map(sorted),
    open_below=st.booleans(),
    created=st.lists(st.integers(-10, 10**6 + 10), max_size=200),
)
def test_every_created_time_falls_in_at_most_one_window(
    bounds: list[int], open_below: bool, created: list[int]
) -> None:
    plan = Plan("full", tuple(bounds), open_below, high_water=bounds[-1] - 1)
    windows = plan.windows()
    assert [w.lt for w in windows] == sorted((w.lt for w in windows), reverse=True)
    for t in created:
        owners = [w for w in windows if w.contains(t)]
        inside = (open_below or t >= bounds[0]) and t < bounds[-1]
        assert len(owners) == (1 if inside else 0)
    assert Plan.from_dict(plan.to_dict()) == plan
    assert len({w.key for w in windows}) == len(windows)


def test_window_keys_name_their_bounds() -> None:
    assert Window(None, 10).key == "min-10" and Window(5, 10).key == "5-10"


@given(
    created=st.lists(st.integers(STRIPE_EPOCH - 10**8, 1_800_000_000), min_size=1,
                     max_size=300),
    fanout=st.integers(3, 10),
)
@settings(max_examples=200, deadline=None)
def test_find_floor_is_at_or_below_the_oldest_and_close_to_it(
    created: list[int], fanout: int
) -> None:
    times = sorted(created)
    top = times[-1] + 1
    calls: list[int] = []

    def older_than(t: int) -> int | None:
        calls.append(t)
        i = bisect.bisect_left(times, t)
        return times[i - 1] if i else None

    floor = find_floor(older_than, top, fanout=fanout, resolution=64)
    assert floor <= times[0]
    assert times[0] - floor <= max(1, (top - floor) // 64) + 1
    assert len(calls) <= 40 * fanout  # a few rounds, never a scan


def test_find_floor_asks_each_round_at_once() -> None:
    rounds: list[list[int]] = []

    def mapper(func, items):  # type: ignore[no-untyped-def]
        rounds.append(list(items))
        return [func(x) for x in items]

    find_floor(lambda t: 1_700_000_000 if t > 1_700_000_000 else None, 1_790_000_000,
               mapper=mapper)
    assert 1 <= len(rounds) <= 6
    assert all(len(r) <= 7 for r in rounds)


def test_slice_count_follows_density() -> None:
    # a single page: one window
    assert slice_count(sample=40, sample_span=100, range_span=10**6, has_more=False,
                       max_slices=32) == 1
    # 100 objects a day over two years: ~73,000 objects, 730 pages, capped at 32 windows
    assert slice_count(sample=100, sample_span=86_400, range_span=730 * 86_400,
                       has_more=True, max_slices=32) == 32
    # ten pages' worth: a few windows of about four pages
    assert slice_count(sample=100, sample_span=1000, range_span=10_000, has_more=True,
                       max_slices=32) == 3
