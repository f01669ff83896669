"""Cursor pagination reaches every object exactly once, forwards and backwards, whatever the
page size, filters and ties in ``created``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscor_tools.sandbox import Sandbox
from cscor_tools.sandbox.collection import Collection, CreatedRange, paginate_sequence


@dataclass
class Rec:
    id: str
    created: int
    seq: int
    live: bool = True


def _collection(times: list[int], dead: set[int]) -> Collection[Rec]:
    items: Collection[Rec] = Collection()
    for i, t in enumerate(times):
        items.add(Rec(f"r{i}", t, items.next_seq(), live=i not in dead))
    return items


def _forward(items: Collection[Rec], limit: int, created: CreatedRange | None) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = items.page(limit=limit, after=after, created=created)
        seen += [r.id for r in page.items]
        if not page.has_more:
            return seen
        after = page.items[-1]


def _backward(items: Collection[Rec], limit: int, created: CreatedRange | None,
              start: Rec) -> list[str]:
    seen: list[str] = []
    before = start
    while True:
        page = items.page(limit=limit, before=before, created=created)
        seen += [r.id for r in reversed(page.items)]
        if not page.has_more or not page.items:
            return seen
        before = page.items[0]


@settings(max_examples=150, deadline=None)
@given(
    times=st.lists(st.integers(0, 20), min_size=0, max_size=40),  # few values: many ties
    dead=st.sets(st.integers(0, 39)),
    limit=st.integers(1, 7),
    low=st.none() | st.integers(-1, 21),
    high=st.none() | st.integers(-1, 21),
    strict=st.booleans(),
)
def test_collection_pages_walk_every_record_once(times: list[int], dead: set[int], limit: int,
                                                 low: int | None, high: int | None,
                                                 strict: bool) -> None:
    items = _collection(times, dead)
    created = None
    if low is not None or high is not None:
        created = (CreatedRange(gt=low, lt=high) if strict else CreatedRange(gte=low, lte=high))
    lo, hi = created.bounds() if created else (-(2**63), 2**63)
    expected = [r.id for r in sorted(
        (r for r in items.all_records() if r.live and lo <= r.created <= hi),
        key=lambda r: (-r.created, -r.seq))]
    assert _forward(items, limit, created) == expected
    # backwards from a sentinel older than everything, including a deleted record as cursor
    anchor = Rec("anchor", -5, 0, live=False)
    assert _backward(items, limit, created, anchor) == expected[::-1]


@settings(max_examples=100, deadline=None)
@given(size=st.integers(0, 30), limit=st.integers(1, 9), data=st.data())
def test_sequences_page_in_their_own_order(size: int, limit: int, data: st.DataObject) -> None:
    items = [Rec(f"l{i}", 0, i) for i in range(size)]
    seen: list[str] = []
    after = None
    while True:
        page = paginate_sequence(items, limit=limit, after=after)
        assert page is not None
        seen += [r.id for r in page.items]
        if not page.has_more:
            break
        after = page.items[-1].id
    assert seen == [r.id for r in items]
    if size:
        pivot = data.draw(st.integers(0, size - 1))
        page = paginate_sequence(items, limit=limit, before=items[pivot].id)
        assert page is not None
        assert [r.id for r in page.items] == [r.id for r in items[max(0, pivot - limit):pivot]]
    assert paginate_sequence(items, limit=limit, after="nope") is None


def _walk(http: httpx.Client, path: str, limit: int, direction: str, start: str | None,
          **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = start
    while True:
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query[direction] = cursor
        page = http.get(path, params=query).json()
        ids = [o["id"] for o in page["data"]]
        seen += ids if direction == "starting_after" else ids[::-1]
        if not page["has_more"] or not ids:
            return seen
        cursor = ids[-1] if direction == "starting_after" else ids[0]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 100), resource=st.sampled_from(["customers", "invoices", "events"]),
       window=st.none() | st.tuples(st.integers(0, 100), st.integers(0, 100)))
def test_stripe_lists_walk_both_ways(sandbox: Sandbox, stripe_http: httpx.Client, limit: int,
                                     resource: str, window: tuple[int, int] | None) -> None:
    stripe = sandbox.world.stripe
    lists: dict[str, Collection[Any]] = {"customers": stripe.customers,
                                         "invoices": stripe.invoices, "events": stripe.events}
    records = lists[resource]
    ordered = sorted(records, key=lambda r: (-r.created, -r.seq))
    if resource == "events":
        since = sandbox.world.stripe.events_since()
        ordered = [e for e in ordered if e.created >= since]
    params: dict[str, Any] = {}
    if window and ordered:
        # a created window between two percentiles of the objects' own times
        times = sorted(r.created for r in ordered)
        a, b = sorted(window)
        low = times[min(len(times) - 1, a * len(times) // 100)]
        high = times[min(len(times) - 1, b * len(times) // 100)]
        params = {"created[gte]": low, "created[lt]": high}
        ordered = [r for r in ordered if low <= r.created < high]
    expected = [r.id for r in ordered]
    path = f"/v1/{resource}"
    assert _walk(stripe_http, path, limit, "starting_after", None, **params) == expected
    if expected:
        backward = _walk(stripe_http, path, limit, "ending_before", expected[-1], **params)
        assert backward == expected[:-1][::-1]


def test_equal_created_times_keep_a_stable_order(sandbox: Sandbox,
                                                 stripe_http: httpx.Client) -> None:
    events = [e for e in sandbox.world.stripe.events
              if e.created >= sandbox.world.stripe.events_since()]
    times = [e.created for e in events]
    assert len(times) > len(set(times)), "the test needs events sharing a second"
    pages = [_walk(stripe_http, "/v1/events", 3, "starting_after", None) for _ in range(2)]
    assert pages[0] == pages[1] == [e.id for e in sorted(events,
                                                         key=lambda e: (-e.created, -e.seq))]


def test_event_type_filters(sandbox: Sandbox, stripe_http: httpx.Client) -> None:
    since = sandbox.world.stripe.events_since()
    events = [e for e in sandbox.world.stripe.events if e.created >= since]
    wildcard = _walk(stripe_http, "/v1/events", 50, "starting_after", None, type="invoice.*")
    assert wildcard == [e.id for e in events if e.type.startswith("invoice.")]
    several = _walk(stripe_http, "/v1/events", 50, "starting_after", None,
                    **{"types[]": ["charge.succeeded", "customer.created"]})
    assert several == [e.id for e in events if e.type in ("charge.succeeded",
                                                          "customer.created")]
    exact = _walk(stripe_http, "/v1/events", 50, "starting_after", None,
                  type="invoice.paid")
    assert exact == [e.id for e in events if e.type == "invoice.paid"]


def test_customer_filter_on_invoices(sandbox: Sandbox, stripe_http: httpx.Client) -> None:
    invoice = next(iter(sandbox.world.stripe.invoices))
    mine = _walk(stripe_http, "/v1/invoices", 2, "starting_after", None,
                 customer=invoice.customer)
    assert invoice.id in mine
    assert mine == [i.id for i in sandbox.world.stripe.invoices if i.customer == invoice.customer]
