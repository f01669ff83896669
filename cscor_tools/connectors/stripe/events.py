"""The ``events`` stream: replays Stripe's change feed, or reconciles once it has lost track.

Each run the stream asks for the newest consumed event (the *head*) and does one of three
things, decided in ``plan`` (an :class:`EventsRun`) and kept in every page's cursor so an
interrupted run resumes the same way:

``head``
    First run, or nothing to replay: remember the head. The list streams' reads in the same
    run start after this moment, so they already hold everything the skipped events said.
``feed``
    Replay the events after the cursor up to the head, oldest first (see ``feed``).
``reconcile``
    The cursor is past Stripe's 30-day horizon (see ``feed.horizon_passed``): events that
    changed or deleted objects may be gone, and a change in that gap can touch an object of
    any age. So the stream lists, in parallel ``created`` windows, every customer, invoice,
    charge and payment intent created before the head — every object the gap could have
    touched — upserting what exists; each completed window sweeps its range, tombstoning the
    rows Stripe no longer lists; then it remembers the head. Object kinds that their own list
    stream is rescanning in full this run (its slices, handed to ``plan`` as ``planned``, say
    so) are left to that stream, whose windows sweep too. Every page of a reconcile says
    ``reconciled``: the run ends with status ``reconciled`` and exit code 12, since deletion
    times found this way are only "before this run".

The store is never wiped and nothing restarts from zero: rows, tombstones and high-water
marks stay; the reconcile costs one listing, the only way to learn what Stripe deleted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.connectors.base import Page, Slice
from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.connectors.stripe.feed import (
    PATH,
    EventRef,
    complete_invoice_lines,
    event_rows,
    horizon_passed,
    newest_event,
    replay,
    version_warnings,
)
from cscor_tools.connectors.stripe.slicing import Plan
from cscor_tools.connectors.stripe.streams import (
    ChargesStream,
    CustomersStream,
    InvoicesStream,
    ListStream,
    PaymentIntentsStream,
    StripeStream,
    window_slices,
)
from cscor_tools.records import Cursor, Output, StreamState

#: what a reconcile lists, in this order, and the stream that lists each kind
RECONCILED: dict[str, type[ListStream]] = {
    "customer": CustomersStream,
    "invoice": InvoicesStream,
    "charge": ChargesStream,
    "payment_intent": PaymentIntentsStream,
}


@dataclass(frozen=True)
class EventsRun:
    """What this run of the events stream does (see the module docstring)."""

    kind: str  # head | feed | reconcile
    head: EventRef | None
    since: int | None
    #: feed: the event the replay starts after
    after: EventRef | None = None
    #: reconcile: the windows to list, per object kind
    plans: Mapping[str, Plan] = field(default_factory=dict)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "head": _ref(self.head), "since": self.since,
                "after": _ref(self.after), "reason": self.reason,
                "plans": {k: p.to_dict() for k, p in self.plans.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventsRun:
        return cls(str(data["kind"]), EventRef.from_dict(data.get("head")), data.get("since"),
                   EventRef.from_dict(data.get("after")),
                   {k: Plan.from_dict(p) for k, p in (data.get("plans") or {}).items()},
                   data.get("reason"))


class EventsStream(StripeStream):
    """Changes and deletions of every other stream's objects."""

    name = "events"
    entities = ("clients", "contacts", "invoices", "invoice_lines", "payments")
    cursor_field = "created"
    path = PATH
    # It plans after the list streams: it reconciles only the kinds they do not rescan.
    plans_after_others = True

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self.lists = {obj: cls(connector) for obj, cls in RECONCILED.items()}
        self.run = EventsRun("head", None, None)

    # -- planning -----------------------------------------------------------------------------

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        saved = next((c["run"] for c in state.slices.values()
                      if isinstance(c, Mapping) and isinstance(c.get("run"), Mapping)), None)
        self.run = (EventsRun.from_dict(saved) if saved is not None
                    else self.decide(state.cursor or {}, full, planned or {}))
        if self.run.kind == "feed":
            return [Slice("feed")]
        slices = [Slice("head")]
        for obj, plan in self.run.plans.items():
            slices += window_slices(plan, prefix=f"{obj}:")
        return slices

    def decide(self, cursor: Mapping[str, Any], full: bool,
               planned: Mapping[str, Sequence[Slice]]) -> EventsRun:
        plans = [s.params["plan"] for slices in planned.values() for s in slices
                 if "plan" in s.params]
        head = newest_event(self)
        # With no event, the newest object any list stream saw is a lower bound of "now".
        since = head.created if head else max((int(p["hw"]) for p in plans), default=None)
        run = EventsRun("head", head, since)
        position = EventRef.from_dict(cursor.get("event"))
        if position is None and cursor.get("since") is None:
            return run  # never ran: nothing to replay from
        if not horizon_passed(position, cursor.get("since"), head, self):
            return EventsRun("feed", head, cursor.get("since"), after=position)
        rescanned = {obj for obj, cls in RECONCILED.items()
                     if any(s.params.get("plan", {}).get("mode") == "full"
                            for s in planned.get(cls.name, ()))}
        scope = [obj for obj in RECONCILED if obj not in rescanned]
        if full and not scope:
            return run  # every kind is being rescanned in full, and swept, by its own stream
        windows = {obj: plan for obj in scope
                   if (plan := self.lists[obj].make_plan("reconcile", None)) is not None}
        reason = (f"the events cursor ({position.id if position else 'a time'}, created "
                  f"{position.created if position else cursor.get('since')}) is past "
                  "Stripe's 30-day events horizon")
        return EventsRun("reconcile", head, since, plans=windows, reason=reason)

    # -- reading ------------------------------------------------------------------------------

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        run = self.run
        if slice.key == "head":
            notes: tuple[str, ...] = (f"reconciled: {run.reason}",) if run.reason else ()
            yield Page([], {"run": run.to_dict()}, last=True, warnings=notes,
                       reconciled=run.kind == "reconcile")
        elif slice.key == "feed":
            position = EventRef.from_dict((cursor or {}).get("event")) or run.after
            pinned = self.connector.api_version
            for events, reached in replay(self, position, run.since, run.head):
                warnings = complete_invoice_lines(self, events)
                yield Page(events, {"run": run.to_dict(), "event": _ref(reached)},
                           warnings=(*version_warnings(events, pinned), *warnings))
        else:
            for page in self.lists[slice.key.split(":", 1)[0]].read(slice, cursor):
                assert page.cursor is not None
                page.cursor["run"] = run.to_dict()
                yield page

    def record_rows(self, raw: dict[str, Any], context: n.Context) -> Iterator[Output]:
        """An event's rows as of the event; a reconcile's listed object as listed."""
        if raw.get("object") == "event":
            return event_rows(raw, provider=self.provider)
        return super().record_rows(raw, context)

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        run = self.run
        if run.kind == "feed":
            position = EventRef.from_dict((slice_cursors.get("feed") or {}).get("event"))
            position = position or run.after
            since = position.created if position else run.since
        else:
            position, since = run.head, run.since
        cursor: Cursor = {"event": _ref(position), "since": since,
                          "api_version": self.connector.api_version}
        if run.kind == "reconcile":
            cursor["reconciled_objects"] = sorted(run.plans)
        return cursor


def _ref(ref: EventRef | None) -> dict[str, Any] | None:
    return None if ref is None else ref.to_dict()
