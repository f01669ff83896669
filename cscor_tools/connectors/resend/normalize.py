"""Resend records as workspace rows: plain functions of the provider's JSON.

Addresses are kept as Resend gives them (``Name <address>`` included); the ``recipient`` of
an email is its ``to`` list joined by ", ", which the privacy matcher reads as a list.
A notification names no client or contact: see the package docstring for why.

Each row function first checks the record against the shape of its kind (below, after
Resend's OpenAPI description): a field of the wrong type, a required one missing or null, or
a time that is no time fails the page with an error naming the record and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cscor_tools.connectors.shapes import (
    ID,
    Field,
    Shape,
    array,
    boolean,
    formatted,
    obj,
    text,
)
from cscor_tools.records import Row
from cscor_tools.schema import make_id, provenance

SOURCE = "resend"


def read_time(value: str) -> datetime:
    """Resend writes ``2023-10-06 23:47:56.678+00`` (contacts, broadcasts, domains) and ISO
    8601 with a ``T`` or a ``Z`` (emails): all parse here. Raises ValueError for text that is
    no time, or a time without its UTC offset."""
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 3 and text[-3] in "+-" and text[-2:].isdigit():
        text += ":00"  # "+00" → "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


def parse_time(value: Any) -> datetime | None:
    """A Resend time, or None for none (None, "") — and for one that does not parse.

    Reading orders records by their times before a page is normalized; there a bad time is
    only unknown, and the page's shape check then fails it with the record and field named.
    Rows are made from checked records only, so a row never gets a None for a bad time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return read_time(value)
    except ValueError:
        return None


# -- what each kind of record must look like where a row function reads it ----------------

TIME = formatted(read_time, "a time")
_ADDRESSES = Field((list, str), items=text(nullable=False))  # a list, or one address

EMAIL = Shape({
    "id": ID,
    "created_at": formatted(read_time, "a time", required=True, nullable=False),
    "to": _ADDRESSES, "cc": _ADDRESSES, "bcc": _ADDRESSES,
    "from": text(), "subject": text(), "last_event": text(), "scheduled_at": TIME,
})
CONTACT = Shape({
    "id": ID,
    "created_at": formatted(read_time, "a time", required=True, nullable=False),
    "email": text(), "first_name": text(), "last_name": text(), "unsubscribed": boolean(),
})
TOPIC = obj(Shape({"id": text(), "name": text(), "subscription": text()}), nullable=False)
BROADCAST = Shape({
    "id": ID,
    "created_at": formatted(read_time, "a time", required=True, nullable=False),
    "name": text(), "status": text(), "segment_id": text(), "audience_id": text(),
    "topic_id": text(), "scheduled_at": TIME, "sent_at": TIME,
})
RECIPIENT = Shape({"contact_id": text(), "email": text(), "bounce_type": text()})
DOMAIN = Shape({
    "id": ID,
    "created_at": formatted(read_time, "a time", required=True, nullable=False),
    "name": text(), "region": text(), "status": text(),
})


def _list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value if v]


def _joined(value: Any) -> str | None:
    items = _list(value)
    return ", ".join(items) if items else None


def email_row(raw: Mapping[str, Any], *, direction: str, synced_at: datetime) -> Row:
    """A sent (``outbound``) or received (``inbound``) email as a notification."""
    EMAIL.check(raw)
    created = parse_time(raw.get("created_at"))
    row = provenance("notifications", SOURCE, raw["id"], synced_at=synced_at,
                     created_at=created)
    outbound = direction == "outbound"
    row.update(
        channel="email",
        direction=direction,
        recipient=_joined(raw.get("to")),
        sender=raw.get("from") or None,
        subject=raw.get("subject") or None,
        # a received email has arrived: its only state
        status=raw.get("last_event") if outbound else "received",
        sent_at=created,
        cc=_list(raw.get("cc")),
        bcc=_list(raw.get("bcc")),
    )
    if outbound:
        row["scheduled_at"] = parse_time(raw.get("scheduled_at"))
    return row


def contact_row(raw: Mapping[str, Any], *, synced_at: datetime,
                segments: Iterable[str] | None = None) -> Row:
    """A contact; ``segments`` (names) when the listing read them, absent otherwise so the
    stored list stays as it was."""
    CONTACT.check(raw)
    row = provenance("contacts", SOURCE, raw["id"], synced_at=synced_at,
                     created_at=parse_time(raw.get("created_at")))
    first, last = raw.get("first_name") or None, raw.get("last_name") or None
    row.update(
        email=raw.get("email") or None,
        first_name=first,
        last_name=last,
        name=" ".join(p for p in (first, last) if p) or None,
        unsubscribed=raw.get("unsubscribed"),
    )
    if segments is not None:
        row["segments"] = sorted(segments)
    return row


def contact_topics_row(contact_id: str, topics: Iterable[Mapping[str, Any]], *,
                       synced_at: datetime) -> Row:
    """Only a contact's topic subscriptions (the names it opted into): a partial row that
    leaves every other column of the contact as the contacts stream wrote it."""
    array(TOPIC).check(topics, "topics")
    return {
        "id": make_id("contacts", SOURCE, contact_id),
        "source": SOURCE,
        "source_id": contact_id,
        "deleted": False,
        "synced_at": synced_at,
        "topics": sorted(str(t.get("name") or t.get("id")) for t in topics
                         if t.get("subscription") == "opt_in"),
    }


def campaign_row(raw: Mapping[str, Any], *, synced_at: datetime) -> Row:
    BROADCAST.check(raw)
    row = provenance("campaigns", SOURCE, raw["id"], synced_at=synced_at,
                     created_at=parse_time(raw.get("created_at")))
    row.update(
        name=raw.get("name") or None,
        status=raw.get("status") or None,
        segment_id=raw.get("segment_id") or raw.get("audience_id") or None,
        topic_id=raw.get("topic_id") or None,
        scheduled_at=parse_time(raw.get("scheduled_at")),
        sent_at=parse_time(raw.get("sent_at")),
    )
    return row


#: a recipient's outcomes, least to most telling: the furthest one is its status
RECIPIENT_OUTCOMES = ("sent", "delivered", "opened", "clicked", "suppressed", "bounced",
                      "unsubscribed", "complained")


def recipient_key(broadcast_id: str, raw: Mapping[str, Any]) -> str:
    """A recipient's source id: the broadcast and the contact (or, without one, the address).
    Resend's own row ids are page cursors, not identities."""
    who = raw.get("contact_id") or str(raw.get("email") or "").strip().lower()
    return f"{broadcast_id}/{who}"


def recipient_row(broadcast_id: str, raw: Mapping[str, Any], outcome: str, *,
                  synced_at: datetime) -> Row:
    """One recipient of a broadcast as seen in the listing of ``outcome``."""
    RECIPIENT.check(raw)
    key = recipient_key(broadcast_id, raw)
    row = {
        "id": make_id("campaign_recipients", SOURCE, key),
        "source": SOURCE,
        "source_id": key,
        "deleted": False,
        "synced_at": synced_at,
        "campaign_id": make_id("campaigns", SOURCE, broadcast_id),
        "contact_id": (make_id("contacts", SOURCE, raw["contact_id"])
                       if raw.get("contact_id") else None),
        "email": raw.get("email") or None,
        "status": outcome,
    }
    if raw.get("bounce_type"):
        row["bounce_type"] = raw["bounce_type"]
    return row


def domain_row(raw: Mapping[str, Any], *, synced_at: datetime) -> Row:
    """A sending domain: name, region, status. Never its DNS records (they carry DKIM keys)."""
    DOMAIN.check(raw)
    row = provenance("integrations", SOURCE, raw["id"], synced_at=synced_at,
                     created_at=parse_time(raw.get("created_at")))
    row.update(provider=SOURCE, kind="email_domain", name=raw.get("name") or None,
               domain=raw.get("name") or None, region=raw.get("region") or None,
               status=raw.get("status") or None)
    return row
