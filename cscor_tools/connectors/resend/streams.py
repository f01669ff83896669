"""Resend's streams: what each endpoint is and what its records become."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from cscor_tools.connectors.base import Page, Slice
from cscor_tools.connectors.pagination import AfterIdPaginator, Params, Walk
from cscor_tools.connectors.resend import normalize as n
from cscor_tools.connectors.resend.newest import NewestFirstStream
from cscor_tools.connectors.rest import LISTED, RestStream
from cscor_tools.records import Cursor, Output, StreamState
from cscor_tools.schema import utc_now

PAGES = AfterIdPaginator(param="after", limit=100)
#: contacts whose topics are written together (each is a request of its own)
TOPICS_CHECKPOINT = 10


def walk_all(stream: RestStream, path: str,
             params: Params | None = None) -> Iterator[list[dict[str, Any]]]:
    """Every page of a list outside the engine's checkpoints (a small side listing: a
    segment's members, a contact's topics), through a walk that refuses to loop."""
    walk = Walk(PAGES, provider=stream.provider, path=path, stream=stream.name)
    while True:
        body = stream.http.get(path, params=[*(params or []), *walk.params()]).data
        records = stream.records_of(body, path)
        more = walk.advance(body, records)
        yield records
        if not more:
            return


class ResendStream(RestStream):
    paginator = PAGES


class SentEmailsStream(NewestFirstStream):
    """Emails the team sent, newest first; a window of recent ones re-read for last_event."""

    name = "emails"
    entities = ("notifications",)
    path = "/emails"
    cursor_field = "created_at"
    window_option = "status_window_days"
    default_window_days = 7.0

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        yield "notifications", n.email_row(raw, direction="outbound", synced_at=utc_now())


class ReceivedEmailsStream(NewestFirstStream):
    """Emails the team's inbound domains received (they do not change once received)."""

    name = "received_emails"
    entities = ("notifications",)
    path = "/emails/receiving"
    cursor_field = "created_at"

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        yield "notifications", n.email_row(raw, direction="inbound", synced_at=utc_now())


class ContactsStream(ResendStream):
    """Every contact with its segments. Contacts have no update time, so only a complete
    listing sees an unsubscribe or a deletion (tombstoned): one runs when the last is more
    than ``contacts_reconcile_hours`` old (24 by default; 0: every run) and on ``--full``.
    Between them a run reads only the contacts newer than the newest it has (their segments
    follow with the next complete listing)."""

    name = "contacts"
    entities = ("contacts",)
    path = "/contacts"
    sweeps = ("contacts",)
    sweep_reason = "no longer listed by Resend: deleted at source"
    shape = n.CONTACT  # checked before normalize, which looks the contact's id up first

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self._members: dict[str, set[str]] | None = None

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        cursor = state.cursor or {}
        hours = float(self.connector.settings.options.get("contacts_reconcile_hours", 24.0))
        listed = cursor.get(LISTED)
        due = listed is None or utc_now() - datetime.fromisoformat(listed) >= timedelta(
            hours=hours)
        if full or due or not cursor.get("newest") or "all" in state.slices:
            return [Slice("all", {LISTED: utc_now().isoformat()})]
        return [Slice("new", {"stop": cursor["newest"], "stop_at": cursor.get("newest_at"),
                              LISTED: listed})]

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        if slice.key == "new":
            self._members = None
            yield from self._new(slice)
            return
        # Segment memberships come from each segment's own listing (one request per hundred
        # members), not one request per contact; read again on resume, they are small.
        members: dict[str, set[str]] = {}
        for segments in walk_all(self, "/segments"):
            for segment in segments:
                label = str(segment.get("name") or segment["id"])
                for page in walk_all(self, "/contacts", [("segment_id", segment["id"])]):
                    for contact in page:
                        members.setdefault(contact["id"], set()).add(label)
        self._members = members
        newest = (cursor or {}).get("newest")
        newest_at = (cursor or {}).get("newest_at")
        for listed in super().read(slice, cursor):
            if newest is None and listed.records and cursor is None:
                newest, newest_at = listed.records[0]["id"], _created(listed.records[0])
            listed.cursor = {**(listed.cursor or {}), "newest": newest, "newest_at": newest_at}
            yield listed

    def _new(self, slice: Slice) -> Iterator[Page]:
        """The contacts above the newest one held, newest first (a run resumed here reads
        them again: they are few). The walk stops at that contact, or at the first one
        created before it (it may have been deleted since)."""
        stop, stop_at = slice.params["stop"], slice.params.get("stop_at")
        newest: tuple[str, str | None] | None = None
        for records in walk_all(self, self.path):
            fresh = []
            for record in records:
                at = _created(record)
                if record["id"] == stop or (stop_at and at and at < stop_at):
                    break
                fresh.append(record)
            if newest is None:
                newest = (fresh[0]["id"], _created(fresh[0])) if fresh else (stop, stop_at)
            ended = len(fresh) < len(records)
            yield Page(fresh, {"newest": newest[0], "newest_at": newest[1],
                               LISTED: slice.params[LISTED]}, last=ended)
            if ended:
                return

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        segments = None if self._members is None else self._members.get(raw["id"], set())
        yield "contacts", n.contact_row(raw, synced_at=utc_now(), segments=segments)


class ContactTopicsStream(NewestFirstStream):
    """Each contact's topic subscriptions: one request per contact (Resend lists them per
    contact only), so read for contacts new since the last run; ``--full`` reads every
    contact's again. Skipped when the team has no topics.

    A page of contacts costs a hundred requests, so its subscriptions are checkpointed every
    :data:`TOPICS_CHECKPOINT` contacts, each part with a cursor that resumes the listing
    after its last contact: a run stopped part-way (an outage, a kill) asks again for at
    most that many contacts' topics, not for the page's."""

    name = "contact_topics"
    entities = ("contacts",)
    path = "/contacts"

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        topics, _ = self.get_list("/topics", [("limit", 1)])
        return super().plan(state, full=full) if topics else []

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        for page in super().read(slice, cursor):
            contacts = page.records
            for start in range(0, max(1, len(contacts)), TOPICS_CHECKPOINT):
                part = contacts[start:start + TOPICS_CHECKPOINT]
                subscriptions = [
                    {"id": c["id"], "topics": [t for batch in walk_all(
                        self, f"/contacts/{c['id']}/topics") for t in batch]}
                    for c in part]
                if start + TOPICS_CHECKPOINT >= len(contacts):  # the page's own end
                    yield replace(page, records=subscriptions)
                    continue
                at = {**(page.cursor or {}), "token": part[-1]["id"]}
                if "passed" in at:  # a head without a window keeps no contact past its stop
                    at["passed"] = False
                yield Page(subscriptions, at)

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        yield "contacts", n.contact_topics_row(raw["id"], raw["topics"], synced_at=utc_now())


class BroadcastsStream(ResendStream):
    """Broadcasts as campaigns, listed in full (a deleted draft is tombstoned)."""

    name = "broadcasts"
    entities = ("campaigns",)
    path = "/broadcasts"
    sweeps = ("campaigns",)
    sweep_reason = "no longer listed by Resend: deleted at source"

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        yield "campaigns", n.campaign_row(raw, synced_at=utc_now())


class BroadcastRecipientsStream(ResendStream):
    """Who got each sent broadcast and what became of it: one slice per broadcast, read
    once, and again while it is within ``recipient_window_days`` of the newest one (late
    bounces, complaints and unsubscribes). Each recipient's status is the furthest outcome
    listed for it (``recipient_outcomes``, read least to most telling)."""

    name = "broadcast_recipients"
    entities = ("campaign_recipients",)
    path = "/broadcasts"
    default_outcomes: ClassVar[tuple[str, ...]] = ("sent", "suppressed", "bounced",
                                                   "unsubscribed", "complained")

    @property
    def outcomes(self) -> tuple[str, ...]:
        wanted = self.connector.settings.options.get("recipient_outcomes")
        if not wanted:
            return self.default_outcomes
        return tuple(o for o in n.RECIPIENT_OUTCOMES if o in set(wanted))

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        done: dict[str, str] = dict((state.cursor or {}).get("read") or {})
        sent = [(b["id"], n.parse_time(b.get("sent_at"))) for page in walk_all(self, self.path)
                for b in page if b.get("status") == "sent"]
        days = float(self.connector.settings.options.get("recipient_window_days", 7.0))
        newest = max((at for _, at in sent if at), default=None)
        recent = newest - timedelta(days=days) if newest else None
        slices = []
        for broadcast_id, at in sent:
            again = at is None or (recent is not None and at >= recent)
            first = full or broadcast_id not in done
            if first or again or f"b:{broadcast_id}" in state.slices:
                slices.append(Slice(f"b:{broadcast_id}", {"broadcast": broadcast_id,
                                                          "sent_at": _iso(at),
                                                          "again": not first}))
        return slices

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        done: dict[str, Any] = dict((state.cursor or {}).get("read") or {})
        for key, cursor in slice_cursors.items():
            done[key[2:]] = (cursor or {}).get("sent_at")
        return {"read": done}

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        broadcast = slice.params["broadcast"]
        path = f"/broadcasts/{broadcast}/recipients"
        outcomes = self.outcomes
        saved = cursor or {}
        if slice.params.get("again") and outcomes[0] == "sent" and not saved:
            # who a sent broadcast went to never changes: a re-read asks for the outcomes only
            outcomes = outcomes[1:]
        first = outcomes.index(saved["outcome"]) if saved.get("outcome") in outcomes else 0
        for i, outcome in enumerate(outcomes[first:], start=first):
            token = saved.get("token") if i == first else None
            walk = Walk(self.paginator, provider=self.provider, path=path, stream=self.name,
                        token=token)
            while True:
                response = self.fetch(path, [("type", outcome), *walk.params()], walk)
                records = self.records_of(response.data, path)
                more = walk.advance(response.data, records)
                for record in records:
                    record["_broadcast"], record["_outcome"] = broadcast, outcome
                last = not more and i == len(outcomes) - 1
                at: Cursor = {"outcome": outcome if more else _next(outcomes, i),
                              "token": walk.token if more else None,
                              "sent_at": slice.params.get("sent_at")}
                yield Page(records, at, last=last)
                if not more:
                    break

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        yield "campaign_recipients", n.recipient_row(raw["_broadcast"], raw,
                                                     raw["_outcome"], synced_at=utc_now())


class DomainsStream(ResendStream):
    """Sending and receiving domains as integrations: name, region, status; never their DNS
    records (the list does not carry them, and the connector never asks for them)."""

    name = "domains"
    entities = ("integrations",)
    path = "/domains"
    sweeps = ("integrations",)
    sweep_reason = "no longer listed by Resend: deleted at source"

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        yield "integrations", n.domain_row(raw, synced_at=utc_now())


def _created(record: Mapping[str, Any]) -> str | None:
    at = n.parse_time(record.get("created_at"))
    return at.isoformat() if at else None


def _next(outcomes: tuple[str, ...], i: int) -> str | None:
    return outcomes[i + 1] if i + 1 < len(outcomes) else None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
