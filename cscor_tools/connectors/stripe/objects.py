"""What each Stripe object kind becomes in the workspace, declared once, and its deletion.

One table (:data:`KINDS`) says, per object kind, which rows its payload yields and which of
those rows die with it; :func:`object_rows` reads any object — from a list page or an event,
live or deleted — through that table. No per-kind branching elsewhere. Each kind names the
:class:`~cscor_tools.connectors.shapes.Shape` its rows are read from, checked before they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cscor_tools.connectors.shapes import Shape
from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.connectors.stripe import shapes
from cscor_tools.records import Output, Tombstone

GONE_CONTACT = "the Stripe customer no longer names this contact person"


def _customer(obj: dict[str, Any], ctx: n.Context) -> Iterator[Output]:
    yield "clients", n.client_row(obj, ctx)
    contact = n.contact_row(obj, ctx)
    if contact is not None:
        yield "contacts", contact
    elif ctx.snapshot:
        # A complete current snapshot names no contact: one it named before is gone.
        yield "contacts", Tombstone(n.row_id("contacts", obj["id"]),
                                    ctx.updated_at or ctx.synced_at, GONE_CONTACT)


def _invoice(obj: dict[str, Any], ctx: n.Context) -> Iterator[Output]:
    yield "invoices", n.invoice_row(obj, ctx)
    for line in n.invoice_lines(obj):
        yield "invoice_lines", n.line_row(line, obj, ctx)
    for link in n.invoice_links(obj):
        yield "payments", link


def _charge(obj: dict[str, Any], ctx: n.Context) -> Iterator[Output]:
    yield "payments", n.charge_row(obj, ctx)


def _payment_intent(obj: dict[str, Any], ctx: n.Context) -> Iterator[Output]:
    yield "payments", n.payment_intent_row(obj, ctx)


def _invoice_payment(obj: dict[str, Any], ctx: n.Context) -> Iterator[Output]:
    for link in n.invoice_payment_links(obj):
        yield "payments", link


@dataclass(frozen=True)
class Kind:
    """One Stripe object kind."""

    rows: Callable[[dict[str, Any], n.Context], Iterator[Output]]
    #: what the object must look like where ``rows`` reads it
    shape: Shape
    #: entities whose row is keyed by the object's own id: a deletion stub tombstones them
    keyed: tuple[str, ...] = ()
    #: entities whose rows die with the object: a deleted snapshot marks them deleted (a
    #: deleted invoice's lines die with it; the payments it links to do not)
    dies: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    "customer": Kind(_customer, shapes.CUSTOMER, keyed=("clients", "contacts"),
                     dies=("clients", "contacts")),
    "invoice": Kind(_invoice, shapes.INVOICE, keyed=("invoices",),
                    dies=("invoices", "invoice_lines")),
    # Stripe never deletes payments; a deletion reported anyway is honoured, never dropped.
    "charge": Kind(_charge, shapes.CHARGE, keyed=("payments",)),
    "payment_intent": Kind(_payment_intent, shapes.PAYMENT_INTENT, keyed=("payments",)),
    # says which invoice a payment paid
    "invoice_payment": Kind(_invoice_payment, shapes.INVOICE_PAYMENT),
}


def object_rows(
    obj: dict[str, Any],
    ctx: n.Context,
    *,
    deleted_at: datetime | None = None,
    reason: str = "deleted at source",
) -> Iterator[Output]:
    """The rows (and tombstones) one object gives; nothing for a kind we do not read.

    ``deleted_at`` marks the object deleted at that time (a ``*.deleted`` event); an object
    that says ``deleted: true`` itself is deleted as of ``ctx.synced_at``. A deleted object
    keeps its last snapshot as a tombstone row where the payload has one (so an invoice of a
    customer deleted before we ever saw it still points at a row), and is a bare tombstone
    where Stripe sent only the ``{id, object, deleted}`` stub.
    """
    name = obj.get("object")
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        return
    stub = set(obj) <= {"id", "object", "deleted"}
    (shapes.STUB if stub else kind.shape).check(obj)
    if not (n.is_deleted(obj) or deleted_at is not None):
        yield from kind.rows(obj, ctx)
        return
    when = deleted_at or ctx.synced_at
    dead = {"deleted": True, "deleted_at": when, "deleted_reason": reason}
    marked: set[str] = set()
    if not stub:  # a snapshot
        for entity, item in kind.rows(obj, replace(ctx, updated_at=when, snapshot=False)):
            if entity in kind.dies and isinstance(item, dict):
                marked.add(entity)
                yield entity, {**item, **dead}
    for entity in kind.keyed:
        if entity not in marked:
            yield entity, Tombstone(n.row_id(entity, obj["id"]), when, reason)
