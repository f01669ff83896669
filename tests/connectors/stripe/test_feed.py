"""The event feed over httpx.MockTransport: replay order, bounds, horizon, version warnings."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from cscor_tools.config import Config
from cscor_tools.connectors.base import Page
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.connectors.stripe import StripeConnector
from cscor_tools.connectors.stripe.events import EventsStream
from cscor_tools.connectors.stripe.feed import (
    HORIZON,
    EventRef,
    horizon_passed,
    version_warnings,
)
from cscor_tools.connectors.stripe.feed import replay as feed_replay
from cscor_tools.errors import PaginationLoopError, ProviderError
from cscor_tools.schema import make_id

T0 = 1_790_000_000


class EventLog:
    """Events newest first, served as Stripe pages them (``ending_before`` pages backwards)."""

    def __init__(self, count: int, gone_before: int = 0) -> None:
        self.events = [
            {"id": f"evt_{i:04d}", "object": "event", "created": T0 + i // 3, "type":
             "customer.updated", "api_version": "2026-10-28.endive",
             "data": {"object": {"id": f"cus_{i % 7}", "object": "customer", "name": f"v{i}",
                                 "created": T0 - 100}}}
            for i in range(count)
        ][::-1]
        self.gone_before = gone_before
        self.requests: list[dict[str, Any]] = []

    def kept(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["created"] >= self.gone_before]

    def handler(self, request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        self.requests.append(q)
        events = self.kept()
        ids = [e["id"] for e in events]
        if request.url.path.startswith("/v1/events/"):
            wanted = request.url.path.rsplit("/", 1)[1]
            if wanted not in ids:
                return httpx.Response(404, json={"error": {"code": "resource_missing",
                                                           "message": "No such event"}})
            return httpx.Response(200, json=events[ids.index(wanted)])
        for key in ("ending_before", "starting_after"):
            if key in q and q[key] not in ids:
                return httpx.Response(404, json={"error": {"code": "resource_missing",
                                                           "message": "No such event"}})
        view = [e for e in events
                if e["created"] >= int(q.get("created[gte]", 0))
                and e["created"] <= int(q.get("created[lte]", 2**40))]
        limit = int(q.get("limit", 10))
        if "ending_before" in q:
            end = [e["id"] for e in view].index(q["ending_before"]) if q["ending_before"] in [
                e["id"] for e in view] else len(view)
            first = max(0, end - limit)
            page, more = view[first:end], first > 0
        else:
            start = 0
            if "starting_after" in q:
                start = [e["id"] for e in view].index(q["starting_after"]) + 1
            page, more = view[start:start + limit], start + limit < len(view)
        return httpx.Response(200, json={"object": "list", "data": page, "has_more": more,
                                         "url": "/v1/events"})

    def stream(self) -> EventsStream:
        settings = connector_settings(StripeConnector, Config(),
                                      env={"STRIPE_API_KEY": "sk_test_feed"},
                                      base_url="https://api.stripe.test",
                                      transport=httpx.MockTransport(self.handler))
        return EventsStream(StripeConnector(settings))


def ref(event: Any) -> EventRef:
    return EventRef.of(event)


def replay(log: EventLog, position: Any, since: int | None, until: Any) -> list[str]:
    seen = []
    for events, _ in feed_replay(log.stream(), position, since, until):
        seen += [e["id"] for e in events]
    return seen


@pytest.mark.parametrize("count,start", [(350, 17), (250, 0), (5, 2), (101, 99)])
def test_replays_everything_after_the_cursor_oldest_first_up_to_the_head(
    count: int, start: int
) -> None:
    log = EventLog(count)
    oldest_first = log.events[::-1]
    head = ref(log.events[0])
    got = replay(log, ref(oldest_first[start]), None, head)
    assert got == [e["id"] for e in oldest_first[start + 1:]]
    assert all("ending_before" in q for q in log.requests)


def test_stops_at_the_head_fixed_at_plan_time() -> None:
    log = EventLog(300)
    oldest_first = log.events[::-1]
    got = replay(log, ref(oldest_first[10]), None, ref(oldest_first[150]))
    assert got == [e["id"] for e in oldest_first[11:151]]


def test_without_an_event_cursor_it_finds_the_oldest_page_since_a_time() -> None:
    log = EventLog(420)
    oldest_first = log.events[::-1]
    since = oldest_first[60]["created"]
    got = replay(log, None, since, ref(oldest_first[400]))
    expected = [e["id"] for e in oldest_first if since <= e["created"]]
    expected = expected[: expected.index(oldest_first[400]["id"]) + 1]
    assert got == expected


def test_nothing_to_do_when_the_cursor_is_the_head() -> None:
    log = EventLog(10)
    assert replay(log, ref(log.events[0]), None, ref(log.events[0])) == []
    assert log.requests == []


def test_a_cursor_event_that_expires_mid_run_fails_clearly_and_skips_nothing() -> None:
    log = EventLog(50)
    log.gone_before = log.events[0]["created"] + 1  # everything has expired
    with pytest.raises(ProviderError, match=r"no longer kept.*next run reconciles"):
        replay(log, ref(log.events[-1]), None, ref(log.events[0]))


def test_horizon_by_the_newest_event_and_by_retrieval() -> None:
    log = EventLog(30)
    stream = log.stream()
    head = ref(log.events[0])
    cursor = ref(log.events[-1])
    assert not horizon_passed(cursor, None, head, stream)  # the cursor event is still kept
    log.gone_before = log.events[-1]["created"] + 1
    assert horizon_passed(cursor, None, head, stream)  # it is gone: events after it may be too
    old = EventRef("evt_x", head.created - HORIZON)
    before = len(log.requests)
    assert horizon_passed(old, None, head, stream)  # decided without a request
    assert len(log.requests) == before
    assert horizon_passed(cursor, None, None, stream)  # no events left at all
    assert not horizon_passed(None, head.created - 10, head, stream)
    assert horizon_passed(None, head.created - HORIZON, head, stream)


def test_event_changes_apply_in_order_later_wins_and_deletion_sticks() -> None:
    customer = {"id": "cus_1", "object": "customer", "name": "a", "created": T0}
    events = [
        {"id": "e1", "object": "event", "type": "customer.updated", "created": T0 + 1,
         "api_version": "2024-06-20",
         "data": {"object": {**customer, "name": "b"}}},
        {"id": "e2", "object": "event", "type": "customer.deleted", "created": T0 + 2,
         "api_version": "2026-10-28.endive", "data": {"object": {**customer, "name": "c"}}},
        {"id": "e3", "object": "event", "type": "customer.updated", "created": T0 + 3,
         "api_version": "2026-10-28.endive", "data": {"object": {**customer, "name": "d"}}},
    ]
    stream = EventLog(0).stream()
    changes = stream.changes(Page(copy.deepcopy(events), None))
    warnings = version_warnings(events, "2026-10-28.endive")
    (row,) = changes.upserts["clients"]
    assert row["id"] == make_id("clients", "stripe", "cus_1")
    assert row["deleted"] is True and "customer.deleted e2" in row["deleted_reason"]
    assert row["name"] == "d"
    assert warnings == ("event payloads under API version 2024-06-20 (pinned "
                        "2026-10-28.endive): read in their own layout",)


def test_an_event_without_its_object_is_an_error_not_a_skip() -> None:
    bad = [{"id": "e1", "object": "event", "type": "customer.updated", "created": T0,
            "data": {}}]
    with pytest.raises(ProviderError, match=r"record 'e1': field 'data\.object' is missing"):
        EventLog(0).stream().changes(Page(bad, None))


def test_a_feed_that_repeats_a_page_fails_the_stream_naming_the_cursor() -> None:
    log = EventLog(250)
    served = log.handler

    def stuck(request: httpx.Request) -> httpx.Response:
        # A broken server: ending_before is ignored, the same page comes back each time.
        q = dict(parse_qsl(request.url.query.decode()))
        if "ending_before" in q:
            q["ending_before"] = log.events[-1]["id"]
            request = httpx.Request("GET", request.url.copy_with(params=q))
        return served(request)

    log.handler = stuck  # type: ignore[method-assign]
    with pytest.raises(PaginationLoopError) as err:
        replay(log, ref(log.events[-1]), None, ref(log.events[0]))
    assert "Stripe on /v1/events: stream events" in str(err.value)
    assert "cursor" in str(err.value)
