"""Stripe's ``/v1/events`` as a change feed: replayed oldest first, within its 30-day horizon.

Event types consumed (Stripe allows 20 in one ``types[]`` filter): the updates and deletions
of customers, invoices, charges and payment intents, and ``invoice_payment.paid``, which says
which invoice a payment paid. Creations are not consumed: new objects are listed by
``created`` (see ``streams``), which costs a page per hundred objects instead of per event.

Replay order matters: an event carries its object as it was then, so events are applied
oldest first and the last one wins. Stripe lists newest first, so the feed walks forward with
``ending_before`` = the newest event applied (each page is the hundred events just after it,
reversed into time order); that event is the cursor, committed with each page. The walk stops
at the newest event that existed when the run was planned, so an event never overtakes a list
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cscor_tools.connectors.pagination import AfterIdPaginator, BeforeIdPaginator, Walk
from cscor_tools.connectors.shapes import FieldError
from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.connectors.stripe.client import created_params
from cscor_tools.connectors.stripe.objects import object_rows
from cscor_tools.connectors.stripe.shapes import EVENT
from cscor_tools.connectors.stripe.streams import PAGE_SIZE, fetch_remaining_lines
from cscor_tools.errors import NotFoundError, ProviderError
from cscor_tools.records import Output
from cscor_tools.schema import from_unix, utc_now

if TYPE_CHECKING:
    from cscor_tools.connectors.stripe.streams import StripeStream

PATH = "/v1/events"
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


@dataclass(frozen=True)
class EventRef:
    """An event by id and creation second: a position in the feed."""

    id: str
    created: int

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> EventRef:
        return cls(str(event["id"]), int(event["created"]))

    @classmethod
    def from_dict(cls, data: Any) -> EventRef | None:
        return cls.of(data) if isinstance(data, Mapping) else None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created}


def type_params() -> list[tuple[str, str | int]]:
    return [("types[]", t) for t in EVENT_TYPES]


def event_rows(event: dict[str, Any], *, provider: str) -> Iterator[Output]:
    """The rows one event's object gives, as of the event (a plain function of the event).

    The event is checked against its shape, and its object against its kind's: a field
    that breaks either is named from the event (``data.object.created``)."""
    EVENT.check(event)
    obj = event["data"]["object"]
    when = from_unix(event["created"])
    deleted = event["type"].endswith(".deleted")
    context = n.Context(event.get("api_version"), utc_now(), when, snapshot=True)
    try:
        if deleted:
            yield from object_rows(obj, context, deleted_at=when or context.synced_at,
                                   reason=f"deleted at source ({event['type']} {event['id']})")
        else:
            yield from object_rows(obj, context)
    except FieldError as exc:
        raise exc.within("data.object") from None


def version_warnings(events: list[dict[str, Any]], pinned: str) -> tuple[str, ...]:
    versions = sorted({str(e.get("api_version")) for e in events
                       if e.get("api_version") != pinned})
    return tuple(f"event payloads under API version {v} (pinned {pinned}): read in their own "
                 "layout" for v in versions)


def newest_event(stream: StripeStream) -> EventRef | None:
    """The newest consumed event, if any."""
    found, _ = stream.get_list(PATH, [("limit", 1), *type_params()])
    return EventRef.of(found[0]) if found else None


def horizon_passed(position: EventRef | None, since: int | None, head: EventRef | None,
                   stream: StripeStream) -> bool:
    """Whether events after the cursor may already be gone (see the module docstring)."""
    if position is not None:
        if head is None:  # the cursor's own event would still be listed if it were kept
            return True
        if head.created - position.created >= HORIZON - MARGIN:
            return True
        if head.id == position.id:
            return False
        try:
            stream.http.get(f"{PATH}/{position.id}")
        except NotFoundError as exc:
            if exc.code != "resource_missing":  # no such endpoint: not an expired event
                raise
            return True
        return False
    if since is None:
        return True
    # No event to check: judge by the newest event, a lower bound of Stripe's "now".
    return head is not None and head.created - since >= HORIZON - MARGIN


def replay(stream: StripeStream, position: EventRef | None, since: int | None,
           until: EventRef | None) -> Iterator[tuple[list[dict[str, Any]], EventRef | None]]:
    """(events in time order, new position) per page, after ``position`` up to ``until``;
    nothing when nothing is new."""
    if until is None or (position is not None and position.id == until.id):
        return
    if position is None:
        first = oldest_page(stream, since or 0, until)
        found = EventRef.of(first[-1]) if first else None
        yield first, found
        if found is None or found.id == until.id:
            return
        position = found
    walk = Walk(BeforeIdPaginator(limit=PAGE_SIZE), provider=stream.provider, path=PATH,
                stream=stream.name, token=position.id)
    bounds = [*created_params(lte=until.created), *type_params()]
    while True:
        try:
            records, body = stream.get_list(PATH, [*walk.params(), *bounds])
        except NotFoundError as exc:
            raise ProviderError(
                stream.provider, f"event {walk.token} is no longer kept (the 30-day events "
                "horizon passed during this run); nothing was skipped: the next run "
                "reconciles", path=PATH, status=exc.status) from exc
        more = walk.advance(body, records)
        events, reached = _up_to(list(reversed(records)), until.id)
        if events:
            position = EventRef.of(events[-1])
        yield events, position
        if reached or not more:
            return


def oldest_page(stream: StripeStream, since: int, until: EventRef) -> list[dict[str, Any]]:
    """With no event to start after, the oldest page of events since ``since``, in time
    order, found by paging back from the newest (it is read twice: to find, then to apply).
    Events listed before ``until`` came after the plan, and are the next run's."""
    walk = Walk(AfterIdPaginator(limit=PAGE_SIZE), provider=stream.provider, path=PATH,
                stream=stream.name)
    bounds = [*created_params(gte=since, lte=until.created), *type_params()]
    newest_first: list[dict[str, Any]] = []
    reached = False
    more = True
    while more:
        records, body = stream.get_list(PATH, [*walk.params(), *bounds])
        more = walk.advance(body, records)
        data = records
        if not reached:
            ids = [e["id"] for e in data]
            reached = until.id in ids
            data = data[ids.index(until.id):] if reached else []
        if data:
            newest_first = data
    return list(reversed(newest_first))


def _up_to(events: list[dict[str, Any]], last_id: str) -> tuple[list[dict[str, Any]], bool]:
    for i, event in enumerate(events):
        if event["id"] == last_id:
            return events[: i + 1], True
    return events, False


def complete_invoice_lines(stream: StripeStream, events: list[dict[str, Any]]) -> list[str]:
    """Fetch the lines an event's invoice does not embed; returns warnings for deleted
    invoices whose remaining lines Stripe no longer serves."""
    warnings = []
    for event in events:
        obj = (event.get("data") or {}).get("object")
        if not isinstance(obj, dict) or obj.get("object") != "invoice":
            continue
        if not n.lines_incomplete(obj):
            continue
        try:
            fetch_remaining_lines(stream, obj)
        except NotFoundError as exc:
            gone = exc.code == "resource_missing"  # not a missing endpoint
            if not gone or not (n.is_deleted(obj) or str(event.get("type")).endswith(".deleted")):
                raise
            warnings.append(f"invoice {obj['id']} was deleted: only the lines its deletion "
                            "event embeds were marked deleted")
    return warnings
