"""The workspace schema: every entity, field, type and privacy class, defined once.

Everything else derives from these definitions: the SQL DDL of both stores (``store/ddl.py``),
the Arrow, JSON Schema, Frictionless Table Schema and Markdown renderings
(``schema_render.py``), the validation of imported rows and the defaults of every
minimization policy. Money is integer minor units beside an ISO 4217 currency; times are UTC.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = "1.0.0"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # always UTC, microsecond precision
    STRING_LIST = "string_list"
    STRUCT = "struct"  # a small record of named sub-fields (e.g. a postal address)


class Privacy(StrEnum):
    """How much a field says about a person: drives every minimization policy."""

    IDENTIFIER = "identifier"  # names a person directly: name, email, phone, account ids
    QUASI_IDENTIFIER = "quasi_identifier"  # identifies in combination: address, job title
    FREE_TEXT = "free_text"  # written by people: may hide anything
    FINANCIAL = "financial"  # amounts and balances
    #: points at a record outside the workspace (a subscription, a payment intent, a
    #: conversation, a thread): names no one, but opens the record at the provider
    REFERENCE = "reference"
    #: short values the owner writes to group rows (tags, project names): may name a client
    LABEL = "label"
    SECRET = "secret"  # capabilities (e.g. payment links): stored for the owner, never exported
    NONE = "none"  # says nothing about a person


@dataclass(frozen=True)
class Field:
    """One column of an entity."""

    name: str
    type: FieldType
    privacy: Privacy
    description: str
    nullable: bool = True
    #: a semantic format, checked on import and declared in JSON Schema:
    #: email, currency, country, url
    format: str | None = None
    #: the closed set of values a string field may take
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    #: the entity whose ``id`` this field references
    references: str | None = None
    #: sub-fields of a STRUCT field
    fields: tuple[Field, ...] = ()

    def subfield(self, name: str) -> Field:
        for sub in self.fields:
            if sub.name == name:
                return sub
        raise KeyError(f"{self.name}.{name}")


@dataclass(frozen=True)
class Entity:
    """One table of the workspace: its fields in a fixed order, provenance first."""

    name: str
    description: str
    id_prefix: str
    fields: tuple[Field, ...]
    #: fields a row may be matched on when an imported file carries no source id
    match_keys: tuple[str, ...] = ()
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in self.fields}
        if len(by_name) != len(self.fields):
            raise ValueError(f"duplicate field in entity {self.name}")
        object.__setattr__(self, "_by_name", by_name)

    @property
    def primary_key(self) -> str:
        return "id"

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no field {name!r}") from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def foreign_keys(self) -> Iterator[Field]:
        return (f for f in self.fields if f.references)


def _f(name: str, type_: FieldType, privacy: Privacy, description: str, **kw: Any) -> Field:
    return Field(name, type_, privacy, description, **kw)


S, INT, B, T, L = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.BOOLEAN,
    FieldType.TIMESTAMP,
    FieldType.STRING_LIST,
)
ID, QI, TXT, FIN, SEC, NONE, REF, LBL = (
    Privacy.IDENTIFIER,
    Privacy.QUASI_IDENTIFIER,
    Privacy.FREE_TEXT,
    Privacy.FINANCIAL,
    Privacy.SECRET,
    Privacy.NONE,
    Privacy.REFERENCE,
    Privacy.LABEL,
)

PROVENANCE: tuple[Field, ...] = (
    _f("id", S, NONE, "Stable workspace id, derived from entity, source and source_id.",
       nullable=False),
    _f("source", S, NONE, "Where the row came from: a connector name or `import`.", nullable=False),
    _f("source_id", S, ID, "The row's id at its source (e.g. a Stripe `cus_…` id).",
       nullable=False),
    _f("source_version", S, NONE, "The provider API version the row was read under."),
    _f("created_at", T, NONE, "When the object was created at its source (UTC)."),
    _f("updated_at", T, NONE, "When the object last changed at its source, where known (UTC)."),
    _f("deleted", B, NONE, "True once the source deleted the object: a tombstone.",
       nullable=False),
    _f("deleted_at", T, NONE, "When the deletion was observed or reported (UTC)."),
    _f("deleted_reason", S, NONE, "Why the row is a tombstone (event, reconcile, request…)."),
    _f("synced_at", T, NONE, "When this toolkit last changed the row (UTC); a sync that finds "
       "it unchanged leaves it.", nullable=False),
)

LIVEMODE = _f("livemode", B, NONE, "False for a provider's test-mode object.")


def _address(name: str, description: str) -> Field:
    return _f(
        name,
        FieldType.STRUCT,
        QI,
        description,
        fields=(
            _f("line1", S, QI, "Street address."),
            _f("line2", S, QI, "Apartment, suite, building."),
            _f("city", S, QI, "City or locality."),
            _f("postal_code", S, QI, "Postal or ZIP code."),
            _f("state", S, QI, "State, county or region."),
            _f("country", S, QI, "ISO 3166-1 alpha-2 country code.", format="country"),
        ),
    )


def _entity(name: str, prefix: str, description: str, *fields: Field, **kw: Any) -> Entity:
    return Entity(name, description, prefix, PROVENANCE + tuple(fields), **kw)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        _entity(
            "clients", "cli", "Organisations and people the business works for.",
            _f("name", S, ID, "Display name of the client."),
            _f("email", S, ID, "Primary email address.", format="email"),
            _f("phone", S, ID, "Primary phone number, E.164 where known."),
            _f("company", S, QI, "Company or organisation name."),
            _address("address", "Billing address."),
            _f("currency", S, NONE, "Preferred ISO 4217 currency (lower case).", format="currency"),
            _f("balance", INT, FIN, "Credit balance in minor units of `currency`."),
            _f("notes", S, TXT, "The owner's notes on the client."),
            _f("rating", INT, NONE, "The owner's rating of the client, 1 to 5.", minimum=1,
               maximum=5),
            _f("workflow_state", S, NONE, "Where the client stands in the owner's workflow.",
               enum=("lead", "active", "on_hold", "archived")),
            _f("tags", L, LBL, "Free labels set by the owner."),
            _f("metadata", S, TXT, "The provider's key-value metadata on the client, as a JSON "
               "object (sorted keys): whatever the owner stored there."),
            _f("tax_exempt", S, NONE, "Tax status at the provider.",
               enum=("none", "exempt", "reverse")),
            _f("preferred_locales", L, QI, "Languages the client prefers, most preferred first."),
            _f("invoice_prefix", S, QI, "Prefix of the client's invoice numbers."),
            _f("delinquent", B, NONE, "True when the provider saw the client's latest invoice "
               "fail to be paid."),
            _address("shipping", "Shipping address (the recipient's name and phone are not "
                     "kept: a contact row holds a recipient who differs from the client)."),
            LIVEMODE,
            match_keys=("email",),
        ),
        _entity(
            "contacts", "con", "People: a client's contact persons, mailing-list members.",
            _f("client_id", S, NONE, "The client this person belongs to.", references="clients"),
            _f("name", S, ID, "Full name."),
            _f("first_name", S, ID, "Given name."),
            _f("last_name", S, ID, "Family name."),
            _f("email", S, ID, "Email address.", format="email"),
            _f("phone", S, ID, "Phone number."),
            _f("title", S, QI, "Job title or role."),
            _f("handle", S, ID, "The person's handle at the provider (a Slack username)."),
            _f("timezone", S, QI, "The person's time zone (IANA name), where the provider "
               "gives it."),
            _f("is_bot", B, NONE, "True for a bot or app account rather than a person."),
            _f("guest", B, NONE, "True for a guest account (a Slack single- or multi-channel "
               "guest: often a client's person)."),
            _f("deactivated", B, NONE, "True once the provider deactivated the account (a "
               "Slack member who left)."),
            _f("unsubscribed", B, NONE, "True when the person opted out of emails."),
            _f("segments", L, LBL, "Mailing segments (audiences) the person belongs to."),
            _f("topics", L, LBL, "Subscription topics the person opted into."),
            _f("notes", S, TXT, "The owner's notes on the person."),
            _f("tags", L, LBL, "Free labels set by the owner."),
            LIVEMODE,
            match_keys=("email",),
        ),
        _entity(
            "invoices", "inv", "Invoices issued to clients.",
            _f("client_id", S, NONE, "The invoiced client.", references="clients"),
            _f("number", S, QI, "The invoice number printed on it (a provider's carries the "
               "client's invoice prefix)."),
            _f("status", S, NONE, "Lifecycle state.",
               enum=("draft", "open", "paid", "uncollectible", "void")),
            _f("currency", S, NONE, "ISO 4217 currency (lower case).", format="currency"),
            _f("subtotal", INT, FIN, "Total before tax and discounts, minor units."),
            _f("tax", INT, FIN, "Tax, minor units."),
            _f("total", INT, FIN, "Total after tax and discounts, minor units."),
            _f("amount_due", INT, FIN, "Amount due, minor units."),
            _f("amount_paid", INT, FIN, "Amount paid, minor units."),
            _f("amount_remaining", INT, FIN, "Amount still owed, minor units."),
            _f("customer_name", S, ID, "The client's name as printed on the invoice."),
            _f("customer_email", S, ID, "The client's email as printed on the invoice.",
               format="email"),
            _f("description", S, TXT, "Memo printed on the invoice."),
            _f("issued_at", T, NONE, "When the invoice was finalized or issued."),
            _f("due_at", T, NONE, "Payment due date."),
            _f("paid_at", T, NONE, "When the invoice was paid in full."),
            _f("period_start", T, NONE, "Start of the billed period."),
            _f("period_end", T, NONE, "End of the billed period."),
            _f("subscription_id", S, REF, "The provider subscription that produced it."),
            _f("hosted_invoice_url", S, SEC, "Payment link for the client: a capability URL.",
               format="url"),
            _f("metadata", S, TXT, "The provider's key-value metadata on the invoice, as a JSON "
               "object (sorted keys)."),
            LIVEMODE,
            match_keys=("number",),
        ),
        _entity(
            "invoice_lines", "inl", "Line items of invoices.",
            _f("invoice_id", S, NONE, "The invoice this line belongs to.", references="invoices"),
            _f("description", S, TXT, "What was billed."),
            _f("quantity", INT, NONE, "Quantity billed."),
            _f("unit_amount", INT, FIN, "Price per unit, minor units."),
            _f("amount", INT, FIN, "Line amount, minor units."),
            _f("currency", S, NONE, "ISO 4217 currency (lower case).", format="currency"),
            _f("period_start", T, NONE, "Start of the billed period."),
            _f("period_end", T, NONE, "End of the billed period."),
            _f("proration", B, NONE, "True for a proration adjustment."),
            LIVEMODE,
        ),
        _entity(
            "payments", "pay", "Payments received: charges, payment intents, manual payments.",
            _f("client_id", S, NONE, "The paying client.", references="clients"),
            _f("invoice_id", S, NONE, "The invoice paid, where known.", references="invoices"),
            _f("kind", S, NONE, "What the source calls it.",
               enum=("charge", "payment_intent", "invoice_payment", "manual")),
            _f("status", S, NONE, "Provider status (succeeded, pending, failed…)."),
            _f("amount", INT, FIN, "Amount, minor units."),
            _f("amount_refunded", INT, FIN, "Amount refunded, minor units."),
            _f("currency", S, NONE, "ISO 4217 currency (lower case).", format="currency"),
            _f("method_type", S, NONE, "Payment method type (card, sepa_debit…)."),
            _f("card_brand", S, NONE, "Card brand; never more card detail than brand, last4, "
               "country."),
            _f("card_last4", S, QI, "Last four digits of the card."),
            _f("card_country", S, QI, "Issuing country of the card.", format="country"),
            _f("receipt_email", S, ID, "Where the receipt was sent.", format="email"),
            _f("description", S, TXT, "Description given with the payment."),
            _f("failure_code", S, NONE, "Why the payment failed, as a provider code."),
            _f("paid_at", T, NONE, "When the payment succeeded."),
            _f("payment_intent_id", S, REF, "The provider payment intent, where any."),
            LIVEMODE,
        ),
        _entity(
            "channels", "chn", "Chat conversations the workspace reads: Slack channels, "
            "private channels and, where configured, direct messages.",
            _f("provider", S, NONE, "The connector that reported it (slack…).", nullable=False),
            _f("kind", S, NONE, "What sort of conversation it is.",
               enum=("public_channel", "private_channel", "im", "mpim")),
            _f("name", S, LBL, "Its name (a channel named after a project may name a client)."),
            _f("topic", S, TXT, "Its topic, as people wrote it."),
            _f("purpose", S, TXT, "Its purpose, as people wrote it."),
            _f("creator", S, ID, "The provider's id of the person who created it."),
            _f("dm_user", S, ID, "The other person of a direct message."),
            _f("client_id", S, NONE, "The client it is about, where configured.",
               references="clients"),
            _f("member_count", INT, NONE, "How many members it has."),
            _f("is_member", B, NONE, "True when the connected account is a member (it can "
               "read the history)."),
            _f("archived", B, NONE, "True once archived at the provider."),
        ),
        _entity(
            "notifications", "ntf", "Messages sent about clients: emails, chat messages, alerts.",
            _f("channel", S, NONE, "How it was sent.", nullable=False, enum=("email", "slack")),
            _f("direction", S, NONE, "outbound: sent by the business; inbound: received by it.",
               enum=("outbound", "inbound")),
            _f("client_id", S, NONE, "The client it concerns, where known.",
               references="clients"),
            _f("contact_id", S, NONE, "The person it was sent to (a chat message: its "
               "author), where known.", references="contacts"),
            _f("conversation", S, REF, "Provider conversation id: Slack channel, email thread."),
            _f("recipient", S, ID, "Recipient address or user."),
            _f("sender", S, ID, "Sender address or user."),
            _f("subject", S, TXT, "Email subject or message preview."),
            _f("status", S, NONE, "Last known delivery state (sent, delivered, bounced, edited…)."),
            _f("sent_at", T, NONE, "When it was sent."),
            _f("thread_id", S, REF, "Thread it belongs to, where threaded."),
            _f("reply_count", INT, NONE, "Replies in its thread."),
            _f("edited_at", T, NONE, "When it was last edited."),
            _f("body", S, TXT, "The full text of a chat message."),
            _f("message_ts", S, REF, "The message's id in its conversation at the provider "
               "(Slack's `ts`)."),
            _f("conversation_id", S, NONE, "The conversation it was posted in.",
               references="channels"),
            _f("sender_bot", B, NONE, "True when a bot or an integration posted it."),
            _f("subtype", S, NONE, "The provider's kind of message (Slack's subtype: "
               "bot_message, channel_join…); empty for an ordinary message."),
            _f("latest_reply_at", T, NONE, "When its thread last got a reply."),
            _f("cc", L, ID, "Carbon-copy recipients of an email."),
            _f("bcc", L, ID, "Blind carbon-copy recipients of an email."),
            _f("scheduled_at", T, NONE, "When a scheduled email is (or was) to be sent."),
        ),
        _entity(
            "integrations", "itg",
            "What the workspace's connected accounts say of themselves: a Resend sending "
            "domain, a Slack workspace. Never keys, tokens or DNS record values.",
            _f("provider", S, NONE, "The connector that reported it (resend, slack…).",
               nullable=False),
            _f("kind", S, NONE, "What it is.", nullable=False,
               enum=("email_domain", "slack_workspace")),
            _f("name", S, QI, "Its name at the provider: a domain, a workspace name (a sole "
               "trader's may be their own name)."),
            _f("domain", S, QI, "Web domain or URL host the provider gives it."),
            _f("region", S, NONE, "Where the provider serves it from (us-east-1…)."),
            _f("status", S, NONE, "Its state at the provider (verified, pending, failed…)."),
        ),
        _entity(
            "campaigns", "cmp", "Mass mailings (a Resend broadcast): to whom, and how far along.",
            _f("name", S, LBL, "The campaign's name, as the owner wrote it."),
            _f("status", S, NONE, "Where it stands at the provider (draft, scheduled, sent…)."),
            _f("segment_id", S, REF, "The provider's audience or segment it goes to."),
            _f("topic_id", S, REF, "The provider's subscription topic it is scoped to."),
            _f("scheduled_at", T, NONE, "When it is (or was) scheduled to go out."),
            _f("sent_at", T, NONE, "When it went out."),
        ),
        _entity(
            "campaign_recipients", "crc", "Who got a campaign, and what happened to their copy.",
            _f("campaign_id", S, NONE, "The campaign.", nullable=False, references="campaigns"),
            _f("contact_id", S, NONE, "The person, where the provider knows the contact.",
               references="contacts"),
            _f("email", S, ID, "The address it went to.", format="email"),
            _f("status", S, NONE, "The furthest known outcome (sent, bounced, complained, "
               "unsubscribed, suppressed)."),
            _f("bounce_type", S, NONE, "Why a bounce happened (permanent, transient…)."),
        ),
        _entity(
            "comments", "cmt", "Project comments written by the owner's team or clients.",
            _f("client_id", S, NONE, "The client the project belongs to.", references="clients"),
            _f("project", S, LBL, "Project name or reference."),
            _f("author", S, ID, "Who wrote the comment."),
            _f("body", S, TXT, "The comment text."),
        ),
    )
}


def entity(name: str) -> Entity:
    """The entity called ``name``; a KeyError naming the known entities otherwise."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}") from None


@functools.lru_cache(maxsize=1 << 14)
def make_id(entity_name: str, source: str, source_id: str) -> str:
    """The stable workspace id of a row: the same inputs give the same id on every machine.

    Hashed rather than concatenated so that a source id holding personal data (an email used
    as the natural key of an imported client) does not show through the id.
    """
    # Cached: a sync derives the same ids again and again (an invoice's client on each of
    # its rows, a line's invoice), and a cache hit costs a tenth of the hash.
    prefix = ENTITIES[entity_name].id_prefix
    digest = hashlib.sha256(f"{entity_name}\x1f{source}\x1f{source_id}".encode()).hexdigest()
    return f"{prefix}_{digest[:20]}"


def make_ids(entity_name: str, sources: Sequence[str | None],
             source_ids: Sequence[str | None]) -> list[str | None]:
    """``make_id`` over columns (None where either part is None): one loop, no calls."""
    prefix = ENTITIES[entity_name].id_prefix + "_"
    sha256 = hashlib.sha256
    out: list[str | None] = []
    append = out.append
    heads: dict[str, bytes] = {}
    for source, source_id in zip(sources, source_ids, strict=True):
        if source is None or source_id is None:
            append(None)
            continue
        head = heads.get(source)
        if head is None:
            head = heads[source] = f"{entity_name}\x1f{source}\x1f".encode()
        append(prefix + sha256(head + source_id.encode()).hexdigest()[:20])
    return out


def utc_now() -> datetime:
    return datetime.now(UTC)


def from_unix(seconds: int | float | None) -> datetime | None:
    """A provider's Unix timestamp as an aware UTC datetime (None stays None)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def provenance(
    entity_name: str,
    source: str,
    source_id: str,
    *,
    synced_at: datetime,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    source_version: str | None = None,
) -> dict[str, Any]:
    """The provenance columns every normalized row starts with."""
    return {
        "id": make_id(entity_name, source, source_id),
        "source": source,
        "source_id": source_id,
        "source_version": source_version,
        "created_at": created_at,
        "updated_at": updated_at,
        "deleted": False,
        "deleted_at": None,
        "deleted_reason": None,
        "synced_at": synced_at,
    }
