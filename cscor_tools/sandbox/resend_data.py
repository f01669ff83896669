"""The Resend team's state: domains, segments (audiences), contacts, emails and broadcasts.

Shapes follow ``shared/specs/resend/resend.json`` (OpenAPI 3.1, 2026) and, where the spec and
the current documentation disagree, the documentation, as noted at each place: email list items
carry ``scheduled_at`` and ``null`` for absent ``cc``/``bcc``/``reply_to``; timestamps of emails
are ISO 8601 while contacts, segments, domains and broadcasts use Resend's
``2023-10-06 23:47:56.678+00`` form, as each page's examples show.

Received emails (a tenth as many as sent ones) are customers writing back to the team's inbound
address. Topics are few; a contact's subscription is the topic's default unless the contact
chose otherwise. A broadcast's recipients are the members of its segment when it was sent (the
contacts that existed then, deleted ones included, as Resend keeps its sending record), each
with outcomes drawn from the broadcast and contact ids, so every listing agrees with the next.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.sandbox.clock import US, SandboxClock, resend_email_timestamp, resend_timestamp
from cscor_tools.sandbox.collection import Collection
from cscor_tools.sandbox.config import Volumes
from cscor_tools.sandbox.ids import IdFactory, Weighted, derived, stream
from cscor_tools.sandbox.people import PeoplePool, Person
from cscor_tools.sandbox.template import dumps

DAY_US = 86_400 * US
SENDING_DOMAIN = "mail.cscor-sandbox.example"
FROM_BILLING = f"Cscor Sandbox Billing <billing@{SENDING_DOMAIN}>"
FROM_TEAM = f"Cscor Sandbox <hello@{SENDING_DOMAIN}>"

#: what finally happened to an email that went out, by how often it happens
_OUTCOMES = Weighted(
    ("delivered", 52), ("opened", 26), ("clicked", 12), ("bounced", 4), ("complained", 1),
    ("delivery_delayed", 2), ("failed", 1), ("suppressed", 2),
)
#: where ``mutate`` takes an email's last_event next
NEXT_EVENT: dict[str, tuple[str, ...]] = {
    "queued": ("sent",),
    "scheduled": ("sent",),
    "sent": ("delivered", "delivered", "delivered", "bounced", "delivery_delayed"),
    "delivery_delayed": ("delivered", "failed"),
    "delivered": ("opened", "opened", "complained"),
    "opened": ("clicked",),
}


@dataclass(slots=True, eq=False)
class Item:
    """What every record of the team has: its id, its place among those made in the same
    moment, when it was made (microseconds), and whether it still exists (keyword-only, so
    each kind lists its own fields after these three)."""

    id: str
    seq: int
    created: int
    live: bool = field(default=True, kw_only=True)


@dataclass(slots=True, eq=False)
class Listed(Item):
    """A record whose list item is kept as bytes between requests (None: render it again)."""

    cache: bytes | None = field(default=None, kw_only=True)


@dataclass(slots=True, eq=False)
class Domain(Item):
    name: str
    status: str
    region: str


@dataclass(slots=True, eq=False)
class Segment(Item):
    name: str


@dataclass(slots=True, eq=False)
class Contact(Listed):
    email: str
    first_name: str
    last_name: str
    unsubscribed: bool
    segments: set[str] = field(default_factory=set)
    #: topic id → "opt_in" | "opt_out" where the contact chose otherwise than the default
    topics: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Email(Listed):
    sender: str
    to: list[str]
    subject: str
    html: str
    text: str
    last_event: str
    scheduled_at: int | None = None


@dataclass(slots=True, eq=False)
class ReceivedEmail(Listed):
    sender: str
    to: list[str]
    subject: str


@dataclass(slots=True, eq=False)
class Topic(Item):
    name: str
    description: str
    default_subscription: str
    visibility: str = "public"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One row of a broadcast's recipients listing of one outcome."""

    id: str
    contact: Contact
    bounce_type: str | None = None
    count: int | None = None


#: a recipient's outcomes after ``sent``, each with its chance (out of 1000) for one contact
RECIPIENT_CHANCES = (("delivered", 960), ("opened", 420), ("clicked", 110), ("bounced", 25),
                     ("complained", 3), ("unsubscribed", 12), ("suppressed", 15))
RECIPIENT_TYPES = ("sent", *(kind for kind, _ in RECIPIENT_CHANCES))
INBOX = f"support@{SENDING_DOMAIN}"


@dataclass(slots=True, eq=False)
class Broadcast(Item):
    name: str
    segment_id: str
    subject: str
    preview_text: str
    html: str
    text: str
    status: str
    scheduled_at: int | None = None
    sent_at: int | None = None


class ResendData:
    """Everything the sandbox's Resend team holds."""

    def __init__(self, seed: int, clock: SandboxClock) -> None:
        self.ids = IdFactory(seed)
        self.clock = clock
        self.domains: Collection[Domain] = Collection()
        self.segments: Collection[Segment] = Collection()
        self.contacts: Collection[Contact] = Collection()
        self.emails: Collection[Email] = Collection()
        self.broadcasts: Collection[Broadcast] = Collection()
        self.received: Collection[ReceivedEmail] = Collection()
        self.topics: Collection[Topic] = Collection()
        self._by_email: dict[str, Contact] = {}
        self._recipients: dict[tuple[str, str], list[Recipient]] = {}

    # -- JSON --------------------------------------------------------------------------------

    @staticmethod
    def contact_item(c: Contact) -> dict[str, Any]:
        return {
            "id": c.id,
            "email": c.email,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "created_at": resend_timestamp(c.created),
            "unsubscribed": c.unsubscribed,
        }

    def contact_list_bytes(self, c: Contact) -> bytes:
        return _listed(c, self.contact_item)

    def contact_json(self, c: Contact) -> dict[str, Any]:
        return {"object": "contact", **self.contact_item(c), "properties": {}}

    @staticmethod
    def email_item(e: Email) -> dict[str, Any]:
        # The list returns references without bodies (docs: "List Sent Emails"); cc, bcc and
        # reply_to are null when unset there, where the spec's schema says arrays.
        return {
            "id": e.id,
            "to": e.to,
            "from": e.sender,
            "created_at": resend_email_timestamp(e.created),
            "subject": e.subject,
            "bcc": None,
            "cc": None,
            "reply_to": None,
            "last_event": e.last_event,
            "scheduled_at": resend_email_timestamp(e.scheduled_at) if e.scheduled_at else None,
        }

    def email_list_bytes(self, e: Email) -> bytes:
        return _listed(e, self.email_item)

    def email_json(self, e: Email) -> dict[str, Any]:
        item = self.email_item(e)
        return {
            "object": "email",
            "id": e.id,
            "message_id": f"<{e.id}@{SENDING_DOMAIN}>",
            **{k: v for k, v in item.items() if k != "id"},
            "html": e.html,
            "text": e.text,
        }

    @staticmethod
    def domain_item(d: Domain) -> dict[str, Any]:
        return {
            "id": d.id,
            "name": d.name,
            "status": d.status,
            "created_at": resend_timestamp(d.created),
            "region": d.region,
            "capabilities": {"sending": "enabled", "receiving": "disabled"},
            "open_tracking": True,
            "click_tracking": d.status == "verified",
        }

    def domain_json(self, d: Domain) -> dict[str, Any]:
        state = "verified" if d.status == "verified" else "pending"
        records = [
            {"record": "SPF", "name": f"send.{d.name}", "type": "MX", "ttl": "Auto",
             "status": state, "value": "feedback-smtp.us-east-1.amazonses.com", "priority": 10},
            {"record": "SPF", "name": f"send.{d.name}", "type": "TXT", "ttl": "Auto",
             "status": state, "value": "v=spf1 include:amazonses.com ~all"},
            {"record": "DKIM", "name": f"resend._domainkey.{d.name}", "type": "TXT",
             "ttl": "Auto", "status": state,
             "value": f"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ{derived(d.id, 'dkim', 24)}"},
        ]
        return {"object": "domain", **self.domain_item(d), "records": records}

    @staticmethod
    def segment_item(s: Segment) -> dict[str, Any]:
        return {"id": s.id, "name": s.name, "created_at": resend_timestamp(s.created)}

    @staticmethod
    def broadcast_item(b: Broadcast) -> dict[str, Any]:
        # drafts have null scheduled_at/sent_at in the docs' examples; the spec types them
        # as plain strings. topic_id is left out of list items: the sandbox has no topics.
        return {
            "id": b.id,
            "name": b.name,
            "audience_id": b.segment_id,
            "segment_id": b.segment_id,
            "status": b.status,
            "created_at": resend_timestamp(b.created),
            "scheduled_at": resend_timestamp(b.scheduled_at) if b.scheduled_at else None,
            "sent_at": resend_timestamp(b.sent_at) if b.sent_at else None,
        }

    def broadcast_json(self, b: Broadcast) -> dict[str, Any]:
        return {
            "object": "broadcast",
            **self.broadcast_item(b),
            "from": FROM_TEAM,
            "subject": b.subject,
            "reply_to": [],
            "preview_text": b.preview_text,
            "text": b.text,
            "html": b.html,
            "topic_id": None,
        }

    @staticmethod
    def received_item(r: ReceivedEmail) -> dict[str, Any]:
        return {
            "id": r.id,
            "to": r.to,
            "from": r.sender,
            "subject": r.subject,
            "message_id": f"<{r.id}@mail.example.com>",
            "bcc": None,
            "cc": None,
            "reply_to": None,
            "created_at": resend_email_timestamp(r.created),
            "attachments": [],
        }

    def received_list_bytes(self, r: ReceivedEmail) -> bytes:
        return _listed(r, self.received_item)

    def received_json(self, r: ReceivedEmail) -> dict[str, Any]:
        return {"object": "email", **self.received_item(r), "html": None,
                "text": f"{r.subject}\n\nSent from my phone", "headers": {}}

    @staticmethod
    def topic_item(t: Topic) -> dict[str, Any]:
        return {"id": t.id, "name": t.name, "description": t.description,
                "default_subscription": t.default_subscription, "visibility": t.visibility,
                "created_at": resend_timestamp(t.created)}

    def topic_json(self, t: Topic) -> dict[str, Any]:
        return {"object": "topic", **self.topic_item(t)}

    def contact_topics(self, c: Contact) -> list[dict[str, Any]]:
        """Every topic with the contact's subscription to it (``GET /contacts/{id}/topics``)."""
        return [{"id": t.id, "name": t.name, "description": t.description,
                 "subscription": c.topics.get(t.id, t.default_subscription)}
                for t in self.topics]

    def contact_segments(self, c: Contact) -> list[dict[str, Any]]:
        return [{"id": s.id, "name": s.name, "created_at": resend_timestamp(max(s.created,
                                                                                 c.created))}
                for s in self.segments if s.id in c.segments]

    def recipients(self, b: Broadcast, kind: str) -> list[Recipient]:
        """A sent broadcast's recipients of one outcome, in a fixed order (cached: the record
        of a sending does not change)."""
        key = (b.id, kind)
        cached = self._recipients.get(key)
        if cached is not None:
            return cached
        rows: list[Recipient] = []
        if b.status == "sent" and b.sent_at is not None:
            members = sorted((c for c in self.contacts.all_records()
                              if b.segment_id in c.segments and c.created <= b.sent_at),
                             key=lambda c: c.seq)
            for c in members:
                outcomes = _outcomes(b.id, c.id)
                if kind != "sent" and kind not in outcomes:
                    continue
                token = base64.urlsafe_b64encode(f"{kind}:{c.seq}".encode()).decode()
                rows.append(Recipient(
                    token.rstrip("="), c,
                    bounce_type=outcomes.get("bounced") if kind == "bounced" else None,
                    count=int(outcomes[kind]) if kind in ("opened", "clicked") else None,
                ))
        self._recipients[key] = rows
        return rows

    @staticmethod
    def recipient_item(r: Recipient) -> dict[str, Any]:
        item: dict[str, Any] = {"id": r.id, "contact_id": r.contact.id, "email": r.contact.email}
        if r.count is not None:
            item["count"] = r.count
        if r.bounce_type is not None:
            item["bounce_type"] = r.bounce_type
        return item

    # -- operations --------------------------------------------------------------------------

    def contact_by_email(self, email: str) -> Contact | None:
        contact = self._by_email.get(email.lower())
        return contact if contact is not None and contact.live else None

    def add_contact(self, person: Person, at: int, rng: random.Random,
                    segments: set[str]) -> Contact:
        contact = Contact(
            id=self.ids.uuid("contact"),
            seq=self.contacts.next_seq(),
            created=at,
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            unsubscribed=rng.random() < 0.08,
            segments=segments,
        )
        self._by_email[person.email.lower()] = contact
        return self.contacts.add(contact)

    def delete_contact(self, contact: Contact) -> None:
        contact.live = False
        contact.cache = None
        self.contacts.changed()

    def send_email(self, to: Person, at: int, rng: random.Random, last_event: str,
                   kind: int | None = None) -> Email:
        subject, html, text, sender = _compose(to, rng, kind)
        email = Email(
            id=self.ids.uuid("email"),
            seq=self.emails.next_seq(),
            created=at,
            sender=sender,
            to=[to.email],
            subject=subject,
            html=html,
            text=text,
            last_event=last_event,
        )
        return self.emails.add(email)

    def receive_email(self, person: Person, at: int, rng: random.Random) -> ReceivedEmail:
        subject = rng.choice(("Re: your invoice", "Question about my account",
                              "Re: Welcome to Cscor Sandbox!", "Cancel my subscription",
                              "Re: Payment failed"))
        return self.received.add(ReceivedEmail(
            id=self.ids.uuid("received"), seq=self.received.next_seq(), created=at,
            sender=f"{person.first_name} {person.last_name} <{person.email}>", to=[INBOX],
            subject=subject,
        ))

    def set_last_event(self, email: Email, event: str) -> str:
        old = email.last_event
        email.last_event = event
        email.cache = None
        return old

    def counts(self) -> dict[str, int]:
        return {
            "resend.domains": len(self.domains),
            "resend.segments": len(self.segments),
            "resend.contacts": len(self.contacts),
            "resend.contacts.deleted": len(self.contacts.all_records()) - len(self.contacts),
            "resend.emails": len(self.emails),
            "resend.broadcasts": len(self.broadcasts),
            "resend.received_emails": len(self.received),
            "resend.topics": len(self.topics),
            "resend.broadcast_recipients": sum(len(self.recipients(b, "sent"))
                                               for b in self.broadcasts),
        }


def _listed(record: Listed, item: Callable[[Any], dict[str, Any]]) -> bytes:
    """A record's list item as bytes, rendered once until the record changes."""
    if record.cache is None:
        record.cache = dumps(item(record))
    return record.cache


def _outcomes(broadcast_id: str, contact_id: str) -> dict[str, str]:
    """What happened to one contact's copy of a broadcast: a stable draw from both ids."""
    digest = hashlib.sha256(f"{broadcast_id}/{contact_id}".encode()).digest()
    out: dict[str, str] = {}
    for i, (kind, chance) in enumerate(RECIPIENT_CHANCES):
        if int.from_bytes(digest[2 * i:2 * i + 2], "big") % 1000 < chance:
            out[kind] = str(1 + digest[20 + i] % 4)
    if "bounced" in out:  # a bounce was not delivered, opened or clicked
        for kind in ("delivered", "opened", "clicked", "complained", "unsubscribed"):
            out.pop(kind, None)
        out["bounced"] = ("permanent", "transient", "undetermined")[digest[30] % 3]
    elif "delivered" not in out:
        for kind in ("opened", "clicked", "complained"):
            out.pop(kind, None)
    if "clicked" in out:
        out.setdefault("opened", "1")
    return out


def _compose(to: Person, rng: random.Random, kind: int | None) -> tuple[str, str, str, str]:
    """A subject and bodies that read like a small business's mail to a customer."""
    first = to.first_name
    number = f"{rng.randrange(16**7):07X}-{rng.randint(1, 40):04d}"
    amount = f"{rng.randint(19, 4800)}.{rng.randrange(100):02d}"
    pick = kind if kind is not None else rng.randrange(5)
    if pick == 0:
        subject, sender = f"Your invoice {number} from Cscor Sandbox", FROM_BILLING
        body = (f"Hi {first}, your invoice {number} for {amount} is ready. Pay it online any "
                "time before the due date.")
    elif pick == 1:
        subject, sender = f"Receipt for your payment of {amount}", FROM_BILLING
        body = f"Hi {first}, thanks for your payment of {amount}. We sent it to {to.email}."
    elif pick == 2:
        subject, sender = f"Welcome to Cscor Sandbox, {first}!", FROM_TEAM
        body = f"Hi {first}, welcome aboard. Reply to this email if you need anything."
    elif pick == 3:
        subject, sender = "Your trial ends in 3 days", FROM_TEAM
        body = f"Hi {first}, your trial ends soon. Your account stays at {to.address.city}."
    else:
        subject, sender = f"Payment failed for invoice {number}", FROM_BILLING
        body = (f"Hi {first}, we could not charge your card for invoice {number} ({amount}). "
                f"Please update it, or call us back at {to.phone}.")
    html = f"<p>{body}</p><p>— The Cscor Sandbox team</p>"
    return subject, html, f"{body}\n\n— The Cscor Sandbox team", sender


def generate_resend(data: ResendData, people: PeoplePool, volumes: Volumes, seed: int) -> None:
    rng = stream(seed, "resend")
    now = data.clock.now_us
    start = now - volumes.history_days * DAY_US
    for i, (name, status) in enumerate(
        ((SENDING_DOMAIN, "verified"), ("cscor-sandbox.example", "verified"),
         ("news.cscor-sandbox.example", "pending"))
    ):
        data.domains.add(Domain(data.ids.uuid("domain"), data.domains.next_seq(),
                                start + i * 3 * DAY_US, name, status, "us-east-1"))
    segment_ids = []
    for i, name in enumerate(("Customers", "Newsletter", "Product updates")):
        segment = Segment(data.ids.uuid("segment"), data.segments.next_seq(),
                          start + (i + 1) * 5 * DAY_US, name)
        data.segments.add(segment)
        segment_ids.append(segment.id)
    customers, newsletter, updates = segment_ids
    topics = []
    for i, (name, description, default) in enumerate((
        ("Product updates", "New features and changes, about once a month", "opt_in"),
        ("Offers", "Discounts and partner offers", "opt_out"),
    )):
        topic = Topic(data.ids.uuid("topic"), data.topics.next_seq(),
                      start + (i + 2) * 4 * DAY_US, name, description, default)
        data.topics.add(topic)
        topics.append(topic)

    # Most contacts are Stripe customers (the same person, the same email); the rest are
    # newsletter subscribers who never bought anything.
    shared = min(volumes.customers, round(volumes.contacts * 0.6))
    chosen = sorted(rng.sample(range(volumes.customers), shared)) if shared else []
    outsiders = range(volumes.customers, volumes.customers + volumes.contacts - shared)
    persons = [people.get(i) for i in chosen] + [people.get(i) for i in outsiders]
    times = sorted(rng.randint(start, now - 60 * US) for _ in persons)
    for person, at in zip(persons, times, strict=True):
        member = {customers} if person.index < volumes.customers else set()
        if rng.random() < 0.5:
            member.add(newsletter)
        if rng.random() < 0.3:
            member.add(updates)
        contact = data.add_contact(person, at, rng, member)
        for topic in topics:
            if rng.random() < 0.15:  # a few chose otherwise than the default
                flipped = "opt_out" if topic.default_subscription == "opt_in" else "opt_in"
                contact.topics[topic.id] = flipped

    recipients = persons or [people.get(0)]
    # mail is recent-heavy: the last six months, denser towards now
    span = min(180 * DAY_US, now - start)
    sent_times = sorted(now - int(span * rng.random() ** 2) for _ in range(volumes.emails))
    for at in sent_times:
        age = now - at
        if age < 60 * US:
            event = "queued"
        elif age < 3600 * US:
            event = "sent"
        else:
            event = _OUTCOMES.pick(rng)
        data.send_email(recipients[rng.randrange(len(recipients))], at, rng, event)

    # customers write back: a tenth as many emails as were sent, over the same months
    received_times = sorted(now - int(span * rng.random() ** 2) - 60 * US
                            for _ in range(volumes.emails // 10))
    for at in received_times:
        data.receive_email(recipients[rng.randrange(len(recipients))], at, rng)

    for i in range(volumes.broadcasts):
        at = start + int((now - start) * (i + rng.random()) / max(1, volumes.broadcasts))
        late = i >= volumes.broadcasts - 2
        status = ("draft" if i == volumes.broadcasts - 1 else "scheduled") if late else "sent"
        month = resend_timestamp(at)[:7]
        data.broadcasts.add(
            Broadcast(
                id=data.ids.uuid("broadcast"),
                seq=data.broadcasts.next_seq(),
                created=at,
                name=f"{month} newsletter",
                segment_id=newsletter if i % 3 else updates,
                subject=f"What's new at Cscor Sandbox ({month})",
                preview_text="Product news, tips and a few numbers from last month",
                html="<h1>Hello {{{FIRST_NAME|there}}}!</h1><p>Here is what changed.</p>",
                text="Hello {{{FIRST_NAME|there}}}! Here is what changed.",
                status=status,
                scheduled_at=now + 2 * DAY_US if status == "scheduled" else None,
                sent_at=at + 3600 * US if status == "sent" else None,
            )
        )
