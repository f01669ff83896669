"""Resend contacts as workspace contacts: an example of a connector living in its own package."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cscor_tools import ChangeSet, Connector, Page, Slice, Stream
from cscor_tools.records import Cursor, Row, StreamState, Sweep
from cscor_tools.schema import provenance, utc_now

SOURCE = "example_resend"


def parse_resend_time(value: str | None) -> datetime | None:
    """Resend writes `2026-10-06 22:59:55.977+00` (or ISO with a T): both parse here."""
    if not value:
        return None
    text = value.replace(" ", "T", 1)
    if text.endswith(("+00", "-00")):
        text += ":00"
    return datetime.fromisoformat(text)


class ContactsStream(Stream):
    """Every contact, listed in full each run; the ones no longer listed become tombstones."""

    name = "contacts"
    entity = "contacts"
    page_size = 100

    def plan(self, state: StreamState, *, full: bool) -> list[Slice]:
        # One slice per listing. Its start time travels in the cursor, so a listing resumed
        # after a crash still sweeps against the time it really began.
        return [Slice("listing", {"listed_since": utc_now().isoformat()})]

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        position = dict(cursor or {"after": None, "listed_since": slice.params["listed_since"]})
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if position["after"]:
                params["after"] = position["after"]
            body = self.http.get("contacts", params=params).data
            contacts = body["data"]
            if contacts:
                position["after"] = contacts[-1]["id"]
            last = not body.get("has_more")
            extra = None
            if last:
                extra = ChangeSet(sweeps=[Sweep(
                    "contacts", SOURCE, datetime.fromisoformat(position["listed_since"]),
                    "no longer listed by Resend",
                )])
            yield Page(contacts, dict(position), last=last, extra=extra)
            if last:
                return

    def normalize(self, raw: dict[str, Any]) -> Row:
        row = provenance("contacts", SOURCE, raw["id"], synced_at=utc_now(),
                         created_at=parse_resend_time(raw.get("created_at")))
        first, last = raw.get("first_name") or None, raw.get("last_name") or None
        row.update(
            email=raw.get("email"),
            first_name=first,
            last_name=last,
            name=" ".join(p for p in (first, last) if p) or None,
            unsubscribed=raw.get("unsubscribed"),
        )
        return row

    def finish(self, state: StreamState, slice_cursors: Any) -> Cursor:
        return {"last_listing": utc_now().isoformat()}


class ResendContactsConnector(Connector):
    name = "example_resend"
    title = "Resend contacts (example plugin)"
    credential_env = "RESEND_API_KEY"
    base_url_env = "RESEND_API_BASE"
    default_base_url = "https://api.resend.com"
    default_rate_limit = 2.0  # Resend's documented default: 2 requests per second per team
    default_burst = 2
    default_concurrency = 1
    sandbox_provider = "resend"
    stream_classes = (ContactsStream,)
