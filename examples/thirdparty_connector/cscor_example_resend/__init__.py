"""Resend contacts as workspace contacts: an example of a connector living in its own package."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cscor_tools.connectors import AfterIdPaginator, Connector, RestStream
from cscor_tools.connectors.shapes import ID, Shape, boolean, formatted, text
from cscor_tools.records import Output
from cscor_tools.schema import provenance, utc_now

SOURCE = "example_resend"


def parse_resend_time(value: str) -> datetime:
    """Resend writes `2026-10-06 22:59:55.977+00` (or ISO with a T or a Z): all parse here.
    Raises ValueError for text that is no time or lacks its UTC offset."""
    text = value.replace(" ", "T", 1)
    moment = datetime.fromisoformat(text + ":00" if text.endswith(("+00", "-00")) else text)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


#: what a contact must look like where ``normalize`` reads it: the kit checks every record
#: against it first, so a field of the wrong type fails the page naming the record and field
CONTACT = Shape({
    "id": ID,
    "created_at": formatted(parse_resend_time, "a time", required=True, nullable=False),
    "email": text(), "first_name": text(), "last_name": text(), "unsubscribed": boolean(),
})


class ContactsStream(RestStream):
    """Every contact, listed in full each run; the ones no longer listed become tombstones."""

    name = "contacts"
    entities = ("contacts",)
    path = "/contacts"
    paginator = AfterIdPaginator(param="after", limit=100)
    sweeps = ("contacts",)
    sweep_reason = "no longer listed by Resend"
    shape = CONTACT

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        row = provenance("contacts", SOURCE, raw["id"], synced_at=utc_now(),
                         created_at=parse_resend_time(raw["created_at"]))
        first, last = raw.get("first_name") or None, raw.get("last_name") or None
        name = " ".join(p for p in (first, last) if p) or None
        row.update(email=raw.get("email"), first_name=first, last_name=last, name=name,
                   unsubscribed=raw.get("unsubscribed"))
        yield "contacts", row


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
