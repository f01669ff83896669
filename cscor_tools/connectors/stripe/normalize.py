"""Stripe objects as workspace rows: plain functions from one object's JSON to rows.

Each function reads one object in whichever API version's layout it arrives — a list read
under the pinned version, or an event payload kept in the version it was created under — and
sets a column only when the object carries the field it comes from. A row therefore never
blanks a column with a field its version lacks: the store's upsert sets only the columns a row
carries. Both invoice layouts are read: before 2025-03-31.basil (``invoice.subscription``,
``invoice.charge``, ``invoice.payment_intent``, ``line.proration``, ``line.price``) and after it
(``invoice.parent.subscription_details.subscription``, ``invoice.payments``,
``line.parent.*.proration``, ``line.pricing``).

Card details stop at brand, last four digits and issuing country: fingerprints, expiry dates,
wallet and 3-D Secure details never leave the provider's JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from cscor_tools.records import Row
from cscor_tools.schema import from_unix, make_id, provenance

SOURCE = "stripe"

_ABSENT = object()
_ADDRESS_KEYS = ("line1", "line2", "city", "postal_code", "state", "country")


def ref_id(value: Any) -> str | None:
    """The id behind an expandable field: an id, an expanded object or a deleted stub."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None


def is_deleted(obj: dict[str, Any]) -> bool:
    """True for a deleted object: the ``{id, object, deleted: true}`` stub or a snapshot
    that says so."""
    return obj.get("deleted") is True


def row_id(entity: str, source_id: str) -> str:
    return make_id(entity, SOURCE, source_id)


def _get(obj: Any, *path: str) -> Any:
    """The value at a path, or _ABSENT when a key on the way is missing (None stays None).

    Decoded JSON objects are dicts: an exact type test is several times cheaper than an
    isinstance check against Mapping, and this runs for every field of every object."""
    node = obj
    for key in path:
        if type(node) is not dict:
            return _ABSENT
        node = node.get(key, _ABSENT)
        if node is _ABSENT:
            return node
    return node


def _copy(row: Row, obj: dict[str, Any], columns: tuple[str, ...]) -> None:
    """Copy the fields an object carries into same-named columns."""
    for column in columns:
        value = obj.get(column, _ABSENT)
        if value is not _ABSENT:
            row[column] = value


@lru_cache(maxsize=4096)
def _moment(seconds: int) -> datetime:
    # One object per second value: rows of a page then share their timestamps, which the
    # store encodes once per run of equal values.
    return datetime.fromtimestamp(seconds, UTC)


def _put(row: Row, column: str, value: Any) -> None:
    if value is not _ABSENT:
        row[column] = value


def _time(value: Any) -> Any:
    if value is _ABSENT or value is None:
        return value
    if type(value) is int:
        return _moment(value)
    return from_unix(value) if isinstance(value, float) else None


def _ref_column(value: Any, entity: str) -> Any:
    if value is _ABSENT:
        return value
    found = ref_id(value)
    return row_id(entity, found) if found else None


def _address(value: Any) -> Any:
    if value is _ABSENT or not isinstance(value, dict):
        return value if value is _ABSENT else None
    address = {k: value.get(k) for k in _ADDRESS_KEYS}
    return address if any(v is not None for v in address.values()) else None


def _metadata(value: Any) -> Any:
    """Stripe metadata as canonical JSON text; an empty object is no metadata."""
    if value is _ABSENT:
        return value
    if not isinstance(value, dict) or not value:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Context:
    """How an object was read: under which API version, when, and (for an event payload)
    when the object last changed."""

    version: str | None
    synced_at: datetime
    updated_at: datetime | None = None
    #: the object is a complete current snapshot (an event's), so what it no longer names
    #: (a customer's contact person) is gone
    snapshot: bool = False


def _base(entity: str, obj: dict[str, Any], ctx: Context, created: Any = _ABSENT) -> Row:
    """Provenance columns; ``updated_at`` only when known, so a list read (which cannot tell
    when an object last changed) keeps the time an event reported."""
    stamp = obj.get("created") if created is _ABSENT else created
    row = provenance(
        entity,
        SOURCE,
        obj["id"],
        synced_at=ctx.synced_at,
        created_at=_time(stamp) if stamp is not _ABSENT else None,
        updated_at=ctx.updated_at,
        source_version=ctx.version,
    )
    if ctx.updated_at is None:
        del row["updated_at"]
    # A live row leaves the tombstone columns alone (the store never clears them anyway).
    del row["deleted_at"], row["deleted_reason"]
    livemode = obj.get("livemode", _ABSENT)
    if livemode is not _ABSENT:
        row["livemode"] = livemode
    return row


# -- customers ------------------------------------------------------------------------------


def client_row(obj: dict[str, Any], ctx: Context) -> Row:
    """A customer as a client: the organisation or person Stripe bills."""
    row = _base("clients", obj, ctx)
    _put(row, "name", _get(obj, "name"))
    _put(row, "email", _get(obj, "email"))
    _put(row, "phone", _get(obj, "phone"))
    _put(row, "company", _get(obj, "business_name"))
    _put(row, "address", _address(_get(obj, "address")))
    _put(row, "currency", _get(obj, "currency"))
    _put(row, "balance", _get(obj, "balance"))
    # Stripe's description is the account owner's free note on the customer.
    _put(row, "notes", _get(obj, "description"))
    _put(row, "metadata", _metadata(_get(obj, "metadata")))
    _copy(row, obj, ("tax_exempt", "preferred_locales", "invoice_prefix", "delinquent"))
    shipping = _get(obj, "shipping")
    if shipping is not _ABSENT:
        _put(row, "shipping", _address(shipping.get("address") if isinstance(shipping, dict)
                                       else None))
    return row


def customer_person(obj: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    """The person a customer names apart from itself, as (name, email, phone), or None.

    A customer is a client; it has a contact person when Stripe names a person other than
    the customer: ``individual_name`` (the person behind a customer, current API versions),
    or else a shipping recipient whose name differs from the customer's name (a company
    shipping to a named person). A customer that *is* a person has no separate contact.
    Only the individual is known to own the customer's email and phone; a shipping
    recipient gets the shipping phone and no email.
    """
    name = obj.get("name")
    individual = obj.get("individual_name")
    if (
        isinstance(individual, str)
        and individual.strip()
        and (individual.strip() != (name or "").strip() or obj.get("business_name"))
    ):
        return individual.strip(), obj.get("email"), obj.get("phone")
    shipping = obj.get("shipping")
    if isinstance(shipping, dict):
        recipient = shipping.get("name")
        if isinstance(recipient, str) and recipient.strip() and recipient.strip() != (
            name or ""
        ).strip():
            return recipient.strip(), None, shipping.get("phone")
    return None


def contact_row(obj: dict[str, Any], ctx: Context) -> Row | None:
    """The customer's contact person (see :func:`customer_person`), keyed by the customer id."""
    person = customer_person(obj)
    if person is None:
        return None
    name, email, phone = person
    row = _base("contacts", obj, ctx)
    row.update(client_id=row_id("clients", obj["id"]), name=name, email=email, phone=phone)
    return row


# -- invoices -------------------------------------------------------------------------------


def _invoice_tax(obj: dict[str, Any]) -> Any:
    taxes = obj.get("total_taxes")
    if isinstance(taxes, list):
        return sum(int(t.get("amount") or 0) for t in taxes if isinstance(t, dict))
    if isinstance(obj.get("tax"), int):  # before 2025-03-31.basil
        return obj["tax"]
    amounts = obj.get("total_tax_amounts")
    if isinstance(amounts, list):
        return sum(int(t.get("amount") or 0) for t in amounts if isinstance(t, dict))
    total, excluding = obj.get("total"), obj.get("total_excluding_tax")
    if isinstance(total, int) and isinstance(excluding, int):
        return total - excluding
    return _ABSENT


def invoice_subscription(obj: dict[str, Any]) -> Any:
    """The subscription id in either layout; _ABSENT when the payload has neither field."""
    parent = _get(obj, "parent")
    if parent is not _ABSENT:
        return ref_id(_get(parent, "subscription_details", "subscription"))
    legacy = _get(obj, "subscription")
    return legacy if legacy is _ABSENT else ref_id(legacy)


_INVOICE_FIELDS = ("number", "status", "currency", "subtotal", "total", "amount_due",
                   "amount_paid", "amount_remaining", "customer_name", "customer_email",
                   "description", "hosted_invoice_url")


def invoice_row(obj: dict[str, Any], ctx: Context) -> Row:
    row = _base("invoices", obj, ctx)
    _put(row, "client_id", _ref_column(_get(obj, "customer"), "clients"))
    _copy(row, obj, _INVOICE_FIELDS)
    _put(row, "tax", _invoice_tax(obj))
    finalized = _get(obj, "status_transitions", "finalized_at")
    _put(row, "issued_at", _time(finalized))
    _put(row, "due_at", _time(_get(obj, "due_date")))
    _put(row, "paid_at", _time(_get(obj, "status_transitions", "paid_at")))
    _put(row, "period_start", _time(_get(obj, "period_start")))
    _put(row, "period_end", _time(_get(obj, "period_end")))
    _put(row, "subscription_id", invoice_subscription(obj))
    _put(row, "metadata", _metadata(_get(obj, "metadata")))
    return row


def _unit_amount(line: dict[str, Any]) -> Any:
    decimal = _get(line, "pricing", "unit_amount_decimal")
    if decimal is _ABSENT:  # before basil the price rode on the line
        decimal = _get(line, "price", "unit_amount_decimal")
        if decimal is _ABSENT:
            legacy = _get(line, "price", "unit_amount")
            return legacy if legacy is _ABSENT or legacy is None else int(legacy)
    if decimal is None:
        return None
    try:
        value = Decimal(str(decimal))
    except InvalidOperation:
        return None
    # The schema keeps whole minor units; a sub-unit price has no honest integer form.
    return int(value) if value == value.to_integral_value() else None


def _proration(line: dict[str, Any]) -> Any:
    parent = _get(line, "parent")
    if isinstance(parent, dict):
        kind = parent.get("type")
        details = parent.get(kind) if isinstance(kind, str) else None
        if isinstance(details, dict) and "proration" in details:
            return bool(details["proration"])
    return _get(line, "proration")


def line_row(line: dict[str, Any], invoice: dict[str, Any], ctx: Context) -> Row:
    """An invoice line. Lines have no ``created`` of their own: they take their invoice's,
    which is what scopes them in a reconcile sweep."""
    row = _base("invoice_lines", line, ctx, created=invoice.get("created"))
    row["invoice_id"] = row_id("invoices", invoice["id"])
    _copy(row, line, ("description", "amount", "currency"))
    quantity = _get(line, "quantity")
    _put(row, "quantity", quantity if quantity is _ABSENT or quantity is None else int(quantity))
    _put(row, "unit_amount", _unit_amount(line))
    _put(row, "period_start", _time(_get(line, "period", "start")))
    _put(row, "period_end", _time(_get(line, "period", "end")))
    _put(row, "proration", _proration(line))
    return row


def invoice_lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """The line objects an invoice payload carries (embedded, plus any fetched into it)."""
    lines = invoice.get("lines")
    data = lines.get("data") if isinstance(lines, dict) else None
    return [x for x in data or () if isinstance(x, dict) and isinstance(x.get("id"), str)]


def lines_incomplete(invoice: dict[str, Any]) -> bool:
    """True when the invoice embeds only the first lines and more wait behind its lines URL."""
    lines = invoice.get("lines")
    return isinstance(lines, dict) and lines.get("has_more") is True


def payment_link(
    kind: str, source_id: str, invoice_id: str, customer: Any = None
) -> Row:
    """A partial payments row that only says which invoice a payment paid.

    Since 2025-03-31.basil a charge or payment intent no longer names its invoice; the
    invoice's ``payments`` (invoice payments) name the payment instead. The link row sets
    the invoice (and client) of the payment row whichever of the two is written first.
    """
    row: Row = {
        "id": row_id("payments", source_id),
        "source": SOURCE,
        "source_id": source_id,
        "deleted": False,
        "kind": kind,
        "invoice_id": row_id("invoices", invoice_id),
    }
    if kind == "payment_intent":
        row["payment_intent_id"] = source_id
    customer_id = ref_id(customer)
    if customer_id:
        row["client_id"] = row_id("clients", customer_id)
    return row


def invoice_payment_links(
    invoice_payment: dict[str, Any], customer: Any = None
) -> Iterator[Row]:
    """Link rows from one invoice payment (an ``invoice_payment`` object)."""
    invoice_id = ref_id(invoice_payment.get("invoice"))
    payment = invoice_payment.get("payment")
    if not invoice_id or not isinstance(payment, dict):
        return
    kind = payment.get("type")
    if kind in ("payment_intent", "charge"):
        target = ref_id(payment.get(kind))
        if target:
            yield payment_link(kind, target, invoice_id, customer)


def invoice_links(invoice: dict[str, Any]) -> Iterator[Row]:
    """Every payment an invoice payload names, in either layout."""
    customer = invoice.get("customer")
    payments = invoice.get("payments")
    if isinstance(payments, dict):
        for item in payments.get("data") or ():
            if isinstance(item, dict):
                yield from invoice_payment_links({**item, "invoice": invoice["id"]}, customer)
    for kind in ("charge", "payment_intent"):  # before basil
        target = ref_id(invoice.get(kind))
        if target:
            yield payment_link(kind, target, invoice["id"], customer)


# -- payments -------------------------------------------------------------------------------


def charge_row(obj: dict[str, Any], ctx: Context) -> Row:
    row = _base("payments", obj, ctx)
    row["kind"] = "charge"
    _put(row, "client_id", _ref_column(_get(obj, "customer"), "clients"))
    _put(row, "invoice_id", _ref_column(_get(obj, "invoice"), "invoices"))  # before basil
    _copy(row, obj, ("status", "amount", "amount_refunded", "currency", "receipt_email",
                     "description", "failure_code"))
    found = _get(obj, "payment_method_details")
    if found is not _ABSENT:
        details: dict[str, Any] = found if isinstance(found, dict) else {}
        row["method_type"] = details.get("type")
        card: dict[str, Any] = details.get("card") or {}
        # brand, last4 and country, and nothing else of the card
        row["card_brand"] = card.get("brand")
        row["card_last4"] = card.get("last4")
        row["card_country"] = card.get("country")
    status = _get(obj, "status")
    if status is not _ABSENT:
        row["paid_at"] = from_unix(obj.get("created")) if status == "succeeded" else None
    pi = _get(obj, "payment_intent")
    if pi is not _ABSENT:
        row["payment_intent_id"] = ref_id(pi)
    return row


def payment_intent_row(obj: dict[str, Any], ctx: Context) -> Row:
    row = _base("payments", obj, ctx)
    row["kind"] = "payment_intent"
    row["payment_intent_id"] = obj["id"]
    _put(row, "client_id", _ref_column(_get(obj, "customer"), "clients"))
    _put(row, "invoice_id", _ref_column(_get(obj, "invoice"), "invoices"))  # before basil
    _copy(row, obj, ("status", "amount", "currency", "receipt_email", "description"))
    error = _get(obj, "last_payment_error")
    if error is not _ABSENT:
        row["failure_code"] = error.get("code") if isinstance(error, dict) else None
    return row
