"""The ``events`` stream: replays Stripe's change feed, or reconciles once it has lost track.

Each run the stream asks for the newest consumed event (the *head*) and does one of three
things, decided in ``plan`` and kept in every slice cursor so an interrupted run resumes the
same way:

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
    stream is rescanning in full this run are left to that stream (its windows sweep too).
    Every page of a reconcile says ``reconciled``: the run ends with status ``reconciled``
    and exit code 12, since deletion times found this way are only "before this run".

The store is never wiped and nothing restarts from zero: rows, tombstones and high-water
marks stay; the reconcile costs one listing, the only way to learn what Stripe deleted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cscor_tools.connectors.base import Page, Slice, Stream
from cscor_tools.connectors.stripe.feed import (
    EventFeed,
    complete_invoice_lines,
    event_changes,
    horizon_passed,
    newest_event,
    ref,
)
from cscor_tools.connectors.stripe.listing import RESOURCES, Lister, StripePage
from cscor_tools.connectors.stripe.slicing import Plan, Window
from cscor_tools.connectors.stripe.streams import (
    FAILED,
    failed_plan,
    page_changes,
    saved_plan,
    window_slice,
)
from cscor_tools.errors import ProviderError
from cscor_tools.records import ChangeSet, Cursor, Row, StreamState

if TYPE_CHECKING:
    from cscor_tools.connectors.stripe.connector import StripeConnector

#: what a reconcile lists, in this order
RECONCILED_OBJECTS = ("customer", "invoice", "charge", "payment_intent")


class EventsStream(Stream):
    """Changes and deletions of every other stream's objects."""

    name = "events"
    entities = ("clients", "contacts", "invoices", "invoice_lines", "payments")
    cursor_field = "created"
    # It plans after the list streams: it reconciles only the kinds they do not rescan.
    plans_after_others = True
    connector: StripeConnector

    def __init__(self, connector: StripeConnector) -> None:
        super().__init__(connector)
        self.feed = EventFeed(connector.http)
        self.listers = {
            obj: Lister(connector.http, RESOURCES[obj], api_version=connector.api_version,
                        concurrency=connector.settings.concurrency)
            for obj in RECONCILED_OBJECTS
        }
        self.run: dict[str, Any] = {}

    # -- planning -----------------------------------------------------------------------------

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        saved = saved_plan(state, key="run")
        if saved is not None:
            self.run = saved
        else:
            try:
                self.run = self._decide(state.cursor or {}, full)
            except ProviderError as exc:
                return failed_plan(self, exc)
        if self.run["kind"] == "reconcile":
            self.connector.note_reconcile(sorted(self.run["plans"]), self.run["reason"])
        return self._slices()

    def _decide(self, cursor: Mapping[str, Any], full: bool) -> dict[str, Any]:
        head = ref(newest_event(self.http).newest)
        since = head["created"] if head else self.connector.newest_created()
        run: dict[str, Any] = {"kind": "head", "head": head, "since": since}
        if not cursor.get("event") and cursor.get("since") is None:
            return run  # never ran: nothing to replay from
        if not horizon_passed(cursor, head, self.http):
            return {"kind": "feed", "after": cursor.get("event"), "since": cursor.get("since"),
                    "head": head, "until": head}
        scope = [o for o in RECONCILED_OBJECTS if self.connector.scan_mode(o) != "full"]
        plans = {}
        for obj in scope:
            plan = self.listers[obj].plan("reconcile", None)
            if plan is not None:
                plans[obj] = plan.to_dict()
        last = cursor.get("event") or {}
        reason = (
            f"the events cursor ({last.get('id') or 'a time'}, created "
            f"{last.get('created') or cursor.get('since')}) is past Stripe's 30-day events "
            "horizon"
        )
        if full and not scope:
            return run  # every kind is being rescanned in full, and swept, by its own stream
        return {**run, "kind": "reconcile", "plans": plans, "reason": reason}

    def _slices(self) -> list[Slice]:
        kind = self.run["kind"]
        if kind == "feed":
            return [Slice("feed")]
        slices = [Slice("head")]
        for obj, plan in (self.run.get("plans") or {}).items():
            slices += [window_slice(w, f"{obj}:") for w in Plan.from_dict(plan).windows()]
        return slices

    # -- reading ------------------------------------------------------------------------------

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        if slice.key == FAILED:
            raise slice.params["error"]
        run = self.run
        if slice.key == "head":
            yield StripePage([], {"run": run}, last=True,
                             reconciled=run["kind"] == "reconcile")
        elif slice.key == "feed":
            yield from self._replay(cursor)
        else:
            obj = slice.key.split(":", 1)[0]
            plan = Plan.from_dict(run["plans"][obj])
            window = Window(slice.params["gte"], slice.params["lt"])
            for page in self.listers[obj].read(window, cursor, plan):
                self.connector.count_listed(f"reconcile:{obj}", len(page.records))
                page.cursor = {**(page.cursor or {}), "run": run}
                yield page

    def _replay(self, cursor: Cursor | None) -> Iterator[Page]:
        run = self.run
        position = (cursor or {}).get("event") or run.get("after")
        for events, new_position in self.feed.pages(position, run.get("since"), run["until"]):
            warnings = complete_invoice_lines(self.http, events)
            self.connector.count_listed("events", len(events))
            yield StripePage(events, {"run": run, "event": new_position}, feed=True,
                             warnings=tuple(warnings))

    # -- writing ------------------------------------------------------------------------------

    def normalize(self, raw: dict[str, Any]) -> Row:
        """The main row an event's object becomes (``changes`` writes all of them)."""
        changes, _ = event_changes(StripePage([raw], None), self.connector.api_version)
        for rows in changes.upserts.values():
            if rows:
                return rows[0]
        raise ValueError(f"event {raw.get('id')} gives no row")

    def changes(self, page: Page) -> ChangeSet:
        if isinstance(page, StripePage) and page.feed:
            changes, warnings = event_changes(page, self.connector.api_version)
            page.warnings = tuple(dict.fromkeys((*page.warnings, *warnings)))
            return changes
        return page_changes(page, self.connector.api_version)

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        run = self.run
        if run["kind"] == "feed":
            feed = slice_cursors.get("feed") or {}
            position = feed.get("event") or run.get("after")
            since = position["created"] if position else run.get("since")
        else:
            position, since = run.get("head"), run.get("since")
        cursor: Cursor = {"event": position, "since": since,
                          "api_version": self.connector.api_version}
        if run["kind"] == "reconcile":
            cursor["reconciled_objects"] = sorted(run.get("plans") or {})
        return cursor
