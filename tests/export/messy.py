"""A workspace holding what providers really send: a fixture for the "every reader" tests.

Real provider data first (a Stripe sync from the sandbox, which leaves other entities empty),
then rows whose every field is drawn from the awkward values a provider may hold: addresses
that are not RFC 5322 (``first..last@example.de``), text in several scripts, empty strings,
nulls in every nullable field, spreadsheet triggers and a field longer than CSV readers'
default limit. The rows are made from the schema, so a field added later is covered too.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from cscor_tools.records import Row
from cscor_tools.sandbox.sandbox import Sandbox
from cscor_tools.schema import ENTITIES, Field, FieldType, make_id
from cscor_tools.store import Store
from cscor_tools.workspace import sync_connector

#: addresses Stripe and other providers accept, valid or not by RFC 5322
EMAILS = [
    "first..last@example.de",
    ".dot-first@example.com",
    '"john doe"@example.org',
    "ünïcødé@exämple.de",
    "no-at-sign",
    "trailing.@example.fr",
    "UPPER@EXAMPLE.COM ",
]
TEXT = [
    "",
    " leading and trailing ",
    "line\nbreak\r\nand CRLF",
    "tab\tinside",
    "=1+2",
    "-3",
    "+33 6 12 34 56 78",
    "@SUM(A1)",
    "'quoted",
    'he said "hi", twice',
    "emoji 🎉 中文 עברית Zoë",
    "e\u0301 combining, \u200b zero width",
    "NULL",
    "NaN",
    "\\N",
    "x" * 200_000,  # past Python csv's default field limit (131072)
]
URLS = ["https://example.com/a b?c=d|e", "not a url", "mailto:ann@example.com"]
T0 = datetime(2023, 3, 1, 8, 0, 0, 654321, tzinfo=UTC)
#: entities that get messy rows; the rest keep what the sync brought (often nothing)
MESSY_ENTITIES = ("clients", "invoices", "invoice_lines", "comments")


def fill(store: Store) -> None:
    """A Stripe sync from the sandbox, then messy rows of MESSY_ENTITIES."""
    with Sandbox(seed=5, scale=0.05) as sb:
        sync_connector("stripe", store=store, base_url=sb.base_url("stripe"),
                       env={"STRIPE_API_KEY": sb.credentials("stripe")})
    counter = itertools.count()
    for name in MESSY_ENTITIES:
        store.upsert(name, [_row(name, i, counter) for i in range(len(TEXT))])


def _row(entity_name: str, i: int, counter: itertools.count[int]) -> Row:
    ent = ENTITIES[entity_name]
    row: Row = {}
    for f in ent.fields:
        row[f.name] = _value(entity_name, f, i, next(counter))
    row.update(
        id=make_id(entity_name, "messy", f"m{i}"),
        source="messy",
        source_id=f"m{i}",
        created_at=T0 + timedelta(days=i),
        updated_at=T0 + timedelta(days=i, hours=1),
        synced_at=T0 + timedelta(days=60),
        deleted=i == 3,
        deleted_at=T0 + timedelta(days=61) if i == 3 else None,
        deleted_reason="event" if i == 3 else None,
    )
    return row


def _value(entity_name: str, f: Field, i: int, n: int) -> Any:
    if f.references is not None:
        # the messy row of the same number where there is one; none otherwise
        return make_id(f.references, "messy", f"m{i}") if f.references in MESSY_ENTITIES else None
    if f.format == "email" and i < len(EMAILS):
        return EMAILS[i]
    if f.nullable and n % 4 == 0:
        return None
    if f.enum:
        return f.enum[n % len(f.enum)]
    if f.type == FieldType.STRING:
        if f.format == "email":
            return EMAILS[n % len(EMAILS)]
        if f.format == "url":
            return URLS[n % len(URLS)]
        if f.name == "currency":
            return "eur"
        return TEXT[(i + n) % len(TEXT)]
    if f.type == FieldType.INTEGER:
        lo = f.minimum if f.minimum is not None else -(2**40)
        hi = f.maximum if f.maximum is not None else 2**40
        return (lo, hi, max(lo, min(hi, 0)), max(lo, min(hi, -1)))[n % 4]
    if f.type == FieldType.NUMBER:
        return (0.5, -1e10, 3.0)[n % 3]
    if f.type == FieldType.BOOLEAN:
        return n % 2 == 0
    if f.type == FieldType.TIMESTAMP:
        return T0 + timedelta(seconds=n)
    if f.type == FieldType.STRING_LIST:
        return ([], ["vip", "=x", "ünï"], [EMAILS[0]])[n % 3]
    if f.type == FieldType.STRUCT:
        return {s.name: _value(entity_name, s, i, n + 1 + k) for k, s in enumerate(f.fields)}
    raise AssertionError(f"no messy value for {entity_name}.{f.name} ({f.type})")
