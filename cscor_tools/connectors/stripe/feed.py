"""Stripe's ``/v1/events`` as a change feed: replayed oldest first, within its 30-day horizon.

Event types consumed (Stripe allows 20 in one ``types[]`` filter): the updates and deletions
of customers, invoices, charges and payment intents, and ``invoice_payment.paid``, which says
which invoice a payment paid. Creations are not consumed: new objects are listed by
``created`` (see ``streams``), which costs a page per hundred objects instead of per event.

Replay order matters: an event carries its object as it was then, so events are applied
oldest first and the last one wins. Stripe lists newest first, so the feed walks forward with
``ending_before`` = the newest event applied (each page is the hundred events just after it,
reversed into time order); that id is the cursor, committed with each page. The walk stops at
the newest event that existed when the run was planned, so an event never overtakes a list
read made later in the same run; newer events are the next run's.

Payloads keep the API version their event was created under: rows record it as their
``source_version``, the normalizer reads both invoice layouts, and a page warns when a version
other than the pinned one appears. An invoice payload that embeds only its first lines has the
rest fetched by id — the one case where a payload is not enough.

The horizon. Stripe keeps events 30 days. The decision rests on Stripe's own data, not on a
``Date`` header (a stand-in server's may not run on its data's clock): the feed is past the
horizon when the newest event is more than 30 days (less a margin) after the cursor, or when
the cursor's event can no longer be retrieved. Then the events stream reconciles (``events``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cscor_tools.connectors.http import HttpClient
from cscor_tools.connectors.stripe.changes import RowSink, add_object
from cscor_tools.connectors.stripe.client import ListPage, created_params, list_page, retrieve
from cscor_tools.connectors.stripe.listing import StripePage, fetch_remaining_lines
from cscor_tools.connectors.stripe.normalize import is_deleted, lines_incomplete
from cscor_tools.errors import NotFoundError, ProviderError
from cscor_tools.records import ChangeSet, Cursor
from cscor_tools.schema import from_unix, utc_now

if TYPE_CHECKING:
    from datetime import datetime

EVENT_TYPES: tuple[str, ...] = (
    "customer.updated", "customer.deleted",
    "invoice.updated", "invoice.deleted", "invoice.finalized", "invoice.paid",
    "invoice.payment_failed", "invoice.voided", "invoice.marked_uncollectible",
    "invoice_payment.paid",
    "charge.succeeded", "charge.failed", "charge.captured", "charge.refunded",
    "charge.updated", "charge.expired",
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
    "payment_intent.processing",
)
HORIZON = 30 * 86_400
#: treat a cursor this close to the horizon as past it: the walk must not race expiry
MARGIN = 3_600
PAGE_SIZE = 100

EventRef = dict[str, Any]  # {"id": "evt_…", "created": 1700000000}


def ref(event: Mapping[str, Any] | None) -> EventRef | None:
    return None if event is None else {"id": event["id"], "created": int(event["created"])}


def type_params() -> list[tuple[str, str | int]]:
    return [("types[]", t) for t in EVENT_TYPES]


def newest_event(http: HttpClient) -> ListPage:
    """The newest consumed event (at most one), with the response headers."""
    return list_page(http, "/v1/events", [("limit", 1), *type_params()])


def horizon_passed(cursor: Mapping[str, Any], head: EventRef | None, http: HttpClient) -> bool:
    """Whether events after the cursor may already be gone (see the module docstring)."""
    position = cursor.get("event")
    if isinstance(position, Mapping):
        if head is None:  # the cursor's own event would still be listed if it were kept
            return True
        if head["created"] - int(position["created"]) >= HORIZON - MARGIN:
            return True
        if head["id"] == position["id"]:
            return False
        try:
            retrieve(http, f"/v1/events/{position['id']}")
        except NotFoundError as exc:
            if exc.code != "resource_missing":  # no such endpoint: not an expired event
                raise
            return True
        return False
    since = cursor.get("since")
    if since is None:
        return True
    # No event to check: judge by the newest event, a lower bound of Stripe's "now".
    return head is not None and head["created"] - int(since) >= HORIZON - MARGIN


def event_changes(page: StripePage | Any, pinned: str) -> tuple[ChangeSet, tuple[str, ...]]:
    """The rows a page of events (in time order) changes, and warnings about versions."""
    sink = RowSink()
    synced_at = utc_now()
    versions: set[str] = set()
    for event in page.records:
        obj = (event.get("data") or {}).get("object")
        if not isinstance(obj, dict):
            raise ProviderError("Stripe", f"event {event.get('id')} carries no object",
                                path="/v1/events")
        version = event.get("api_version")
        if version != pinned:
            versions.add(str(version))
        when: datetime | None = from_unix(event.get("created"))
        deleted = str(event.get("type", "")).endswith(".deleted")
        add_object(
            sink, obj, version=version, synced_at=synced_at, updated_at=when,
            deleted_at=when if deleted else None,
            reason=f"deleted at source ({event.get('type')} {event.get('id')})" if deleted
            else None,
            from_event=True,
        )
    warnings = tuple(
        f"event payloads under API version {v} (pinned {pinned}): read in their own layout"
        for v in sorted(versions)
    )
    return sink.changes(), warnings


class EventFeed:
    """Walks the consumed events after a position, oldest first, up to a fixed newest one."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def pages(self, position: EventRef | None, since: int | None,
              until: EventRef | None) -> Iterator[tuple[list[dict[str, Any]], EventRef | None]]:
        """(events in time order, new position) per page; nothing when nothing is new."""
        if until is None or (position is not None and position["id"] == until["id"]):
            return
        if position is None:
            first, found = self._oldest_page(since or 0, until)
            yield first, found
            if found is None or found["id"] == until["id"]:
                return
            position = found
        while True:
            params = [("limit", PAGE_SIZE), ("ending_before", position["id"]),
                      *created_params(lte=until["created"]), *type_params()]
            try:
                page = list_page(self.http, "/v1/events", params)
            except NotFoundError as exc:
                raise ProviderError(
                    "Stripe", f"event {position['id']} is no longer kept (the 30-day events "
                    "horizon passed during this run); nothing was skipped: the next run "
                    "reconciles", path="/v1/events", status=exc.status) from exc
            events, reached = _up_to(list(reversed(page.data)), until["id"])
            if events:
                position = {"id": events[-1]["id"], "created": int(events[-1]["created"])}
            yield events, position
            if reached or not page.has_more or not events:
                return

    def _oldest_page(self, since: int, until: EventRef) -> tuple[list[dict[str, Any]],
                                                                 EventRef | None]:
        """With no event to start after, find the oldest page of events since ``since`` by
        paging back from the newest; it is read twice, once to find and once to apply."""
        base = [("limit", PAGE_SIZE), *created_params(gte=since, lte=until["created"]),
                *type_params()]
        after: str | None = None
        newest_first: list[dict[str, Any]] = []
        skipping = True
        while True:
            params = base + ([("starting_after", after)] if after else [])
            page = list_page(self.http, "/v1/events", params)
            data = page.data
            if skipping:  # events listed before the plan's newest one came after the plan
                ids = [e["id"] for e in data]
                if until["id"] in ids:
                    data = data[ids.index(until["id"]):]
                    skipping = False
                else:
                    data = []
            if data:
                newest_first = data
            if not page.has_more or not page.data:
                break
            after = page.data[-1]["id"]
        events = list(reversed(newest_first))
        return events, ref(events[-1]) if events else None


def _up_to(events: list[dict[str, Any]], last_id: str) -> tuple[list[dict[str, Any]], bool]:
    for i, event in enumerate(events):
        if event["id"] == last_id:
            return events[: i + 1], True
    return events, False


def complete_invoice_lines(http: HttpClient, events: list[dict[str, Any]]) -> list[str]:
    """Fetch the lines an event's invoice does not embed; returns warnings for deleted
    invoices whose remaining lines Stripe no longer serves."""
    warnings = []
    for event in events:
        obj = (event.get("data") or {}).get("object")
        if not isinstance(obj, dict) or obj.get("object") != "invoice":
            continue
        if not lines_incomplete(obj):
            continue
        try:
            fetch_remaining_lines(http, obj)
        except NotFoundError as exc:
            gone = exc.code == "resource_missing"  # not a missing endpoint
            if not gone or not (is_deleted(obj) or str(event.get("type")).endswith(".deleted")):
                raise
            warnings.append(f"invoice {obj['id']} was deleted: only the lines its deletion "
                            "event embeds were marked deleted")
    return warnings


def feed_cursor(position: EventRef | None, since: int | None, until: EventRef | None,
                **extra: Any) -> Cursor:
    return {"event": position, "since": since, "until": until, **extra}
