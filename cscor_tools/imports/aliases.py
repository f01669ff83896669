"""Header aliases: which workspace field a column heading like "E-mail" or "Amount (EUR)" means.

Headings are compared folded (case, accents, punctuation and spacing ignored), so "E-Mail",
"e_mail" and "E mail" are one heading. Every field's own name is an alias of itself, and so is
"<struct> <subfield>" ("address.city"); the tables below add the names spreadsheets and other
CRMs use. A heading that names a money field and a currency ("Amount (EUR)", "Total USD",
"Price €") means that field in major units of that currency.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cscor_tools.imports.codes import CURRENCIES, fold
from cscor_tools.schema import ENTITIES, Entity, FieldType, Privacy


class Target(NamedTuple):
    """Where a column goes: a field, or a sub-field of a STRUCT field."""

    field: str
    sub: str | None = None
    #: the column holds money in major units (12.50) rather than minor units (1250)
    major: bool = False
    #: the currency a heading names, lower case ("amount (eur)" → "eur")
    currency: str | None = None

    @property
    def label(self) -> str:
        return f"{self.field}.{self.sub}" if self.sub else self.field


def _words(*aliases: str) -> tuple[str, ...]:
    return tuple(fold(a) for a in aliases)


_EMAIL = _words("email", "e-mail", "email address", "e-mail address", "mail", "courriel",
                "primary email", "contact email")
_PHONE = _words("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell",
                "phone no", "telefon", "telefonnummer", "téléphone")
_NOTES = _words("notes", "note", "remarks", "memo", "comments", "comment")
_TAGS = _words("tags", "tag", "labels", "label", "categories", "segments", "groups")
_CREATED = _words("created", "created at", "created on", "creation date", "date created",
                  "date added", "added")
_UPDATED = _words("updated", "updated at", "last modified", "modified", "modified at",
                  "last updated", "date modified")
_CLIENT_REF = _words("client", "client id", "customer", "customer id", "account id",
                     "company id")
_INVOICE_REF = _words("invoice", "invoice id", "invoice number", "invoice no")
_CURRENCY = _words("currency", "currency code", "ccy", "währung", "devise")

#: entity → field (or "field.sub") → aliases, beyond the field's own name
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "clients": {
        "source_id": _words("client id", "customer id", "account id", "company id",
                            "external id", "record id"),
        "name": _words("client", "client name", "customer", "customer name", "full name",
                       "display name", "contact name", "contact"),
        "email": _EMAIL + _words("billing email"),
        "phone": _PHONE,
        "company": _words("company name", "organisation", "organization", "organisation name",
                          "organization name", "business name", "account name", "firm",
                          "firma", "société", "unternehmen"),
        "address.line1": _words("address", "street", "street address", "address line 1",
                                "address 1", "address1", "billing address", "straße",
                                "strasse", "rue"),
        "address.line2": _words("address line 2", "address 2", "address2", "suite",
                                "apartment"),
        "address.city": _words("city", "town", "locality", "ort", "stadt", "ville"),
        "address.postal_code": _words("postal code", "postcode", "post code", "zip",
                                      "zip code", "zipcode", "plz", "code postal"),
        "address.state": _words("state", "region", "province", "county", "state province",
                                "bundesland"),
        "address.country": _words("country", "country code", "land", "pays"),
        "currency": _CURRENCY,
        "balance": _words("credit balance", "account balance"),
        "notes": _NOTES + _words("description"),
        "rating": _words("score", "stars", "rank"),
        "workflow_state": _words("workflow", "status", "stage", "lifecycle stage",
                                 "pipeline stage"),
        "tags": _TAGS,
        "created_at": _CREATED,
        "updated_at": _UPDATED,
    },
    "contacts": {
        "source_id": _words("contact id", "person id", "external id", "record id"),
        "client_id": _CLIENT_REF,
        "name": _words("full name", "contact name", "contact", "person", "display name"),
        "first_name": _words("first name", "firstname", "given name", "forename", "vorname",
                             "prénom"),
        "last_name": _words("last name", "lastname", "surname", "family name", "nachname",
                            "nom"),
        "email": _EMAIL,
        "phone": _PHONE,
        "title": _words("job title", "position", "role", "function"),
        "unsubscribed": _words("opted out", "opt out", "email opt out", "do not email"),
        "notes": _NOTES,
        "tags": _TAGS,
        "created_at": _CREATED,
        "updated_at": _UPDATED,
    },
    "invoices": {
        "source_id": _words("invoice id", "external id", "record id"),
        "client_id": _CLIENT_REF,
        "number": _words("invoice number", "invoice no", "invoice", "invoice ref", "no",
                         "reference", "ref"),
        "status": _words("state", "invoice status"),
        "currency": _CURRENCY,
        "subtotal": _words("sub total", "net", "net amount", "amount excl tax"),
        "tax": _words("vat", "tax amount", "vat amount", "sales tax"),
        "total": _words("amount", "total amount", "gross", "invoice total", "amount incl tax"),
        "amount_due": _words("balance due"),
        "amount_paid": _words("paid"),
        "amount_remaining": _words("remaining", "outstanding", "open amount"),
        "customer_name": _words("client name", "bill to", "bill to name"),
        "customer_email": _words("client email", "billing email", "bill to email"),
        "description": _words("memo", "notes"),
        "issued_at": _words("issued", "issue date", "invoice date", "date", "date issued"),
        "due_at": _words("due", "due date", "payment due", "date due"),
        "paid_at": _words("paid on", "paid date", "payment date", "date paid"),
        "period_start": _words("period from", "service from"),
        "period_end": _words("period to", "service to"),
        "subscription_id": _words("subscription"),
        "hosted_invoice_url": _words("invoice url", "payment link"),
        "created_at": _CREATED,
        "updated_at": _UPDATED,
    },
    "invoice_lines": {
        "source_id": _words("line id", "line item id", "item id", "external id"),
        "invoice_id": _INVOICE_REF,
        "description": _words("item", "product", "service", "line description"),
        "quantity": _words("qty", "units", "count"),
        "unit_amount": _words("unit price", "price", "rate"),
        "amount": _words("line total", "total", "line amount"),
        "currency": _CURRENCY,
        "created_at": _CREATED,
    },
    "payments": {
        "source_id": _words("payment id", "transaction id", "charge id", "external id"),
        "client_id": _CLIENT_REF,
        "invoice_id": _INVOICE_REF,
        "kind": _words("type", "payment type"),
        "amount": _words("amount paid", "payment amount", "paid"),
        "amount_refunded": _words("refunded", "refund"),
        "currency": _CURRENCY,
        "method_type": _words("method", "payment method"),
        "card_brand": _words("brand"),
        "card_last4": _words("last4", "last 4", "card last 4"),
        "receipt_email": _words("email", "e-mail"),
        "description": _words("memo", "notes"),
        "paid_at": _words("paid on", "payment date", "date", "date paid"),
        "created_at": _CREATED,
    },
    "comments": {
        "source_id": _words("comment id", "external id"),
        "client_id": _CLIENT_REF,
        "project": _words("project name", "project id"),
        "author": _words("user", "written by", "by", "posted by", "from"),
        "body": _words("comment", "text", "message", "content"),
        "created_at": _CREATED + _words("date", "posted", "posted at"),
        "updated_at": _UPDATED,
    },
}

_SYMBOLS = {"€": "eur", "£": "gbp", "$": None}
_BRACKETED = re.compile(r"^(?P<base>.*?)\s*[(\[]\s*(?P<cur>[A-Za-z]{3}|[€£$])\s*[)\]]\s*$")
_TRAILING = re.compile(r"^(?P<base>.*?\S)\s+(?P<cur>[A-Z]{3}|[€£$])$")
_LEADING = re.compile(r"^(?P<cur>[€£$])\s*(?P<base>.+)$")


def _table(ent: Entity) -> dict[str, Target]:
    """Folded heading → target for one entity: field names first, aliases never override."""
    table: dict[str, Target] = {}
    for f in ent.fields:
        table.setdefault(fold(f.name), Target(f.name))
        for sub in f.fields:
            table.setdefault(fold(f"{f.name}.{sub.name}"), Target(f.name, sub.name))
    for dotted, aliases in _ALIASES.get(ent.name, {}).items():
        name, _, part = dotted.partition(".")
        for alias in aliases:
            table.setdefault(alias, Target(name, part or None))
    # "id" in somebody else's file is their id: our source_id (DESIGN: an id column maps to
    # source_id); our own workspace ids are recognised by the importer separately.
    table[fold("id")] = Target("source_id")
    return table


_TABLES: dict[str, dict[str, Target]] = {name: _table(ent) for name, ent in ENTITIES.items()}


def _is_money(ent: Entity, name: str) -> bool:
    if not ent.has_field(name):
        return False
    f = ent.field(name)
    return f.type == FieldType.INTEGER and f.privacy == Privacy.FINANCIAL


def resolve_header(entity_name: str, heading: str) -> Target | None:
    """The target of a column heading for ``entity_name``, or None for an unknown column."""
    table = _TABLES[entity_name]
    # Currency markers first: folding would drop "€" and read "Price €" as a plain "price".
    for pattern in (_BRACKETED, _TRAILING, _LEADING):
        m = pattern.match(heading.strip())
        if not m:
            continue
        code = m["cur"]
        currency = _SYMBOLS[code] if code in _SYMBOLS else code.lower()
        if code not in _SYMBOLS and currency not in CURRENCIES:
            continue
        base = table.get(fold(m["base"]))
        if base is not None and base.sub is None and _is_money(ENTITIES[entity_name], base.field):
            return Target(base.field, None, major=True, currency=currency)
    return table.get(fold(heading))


def known_aliases(entity_name: str) -> dict[str, str]:
    """Every folded heading recognised for an entity → the field it maps to (for docs)."""
    return {h: t.label for h, t in sorted(_TABLES[entity_name].items())}
