"""What one Stripe object changes in the workspace: its rows, its deletions, merged per page.

A page can name the same row twice — an invoice and, later in the same page of events, the
same invoice again; a payment intent and a link row that says which invoice it paid. The store
keeps only the last row per id in one write, so :class:`RowSink` merges rows by id in order
(later fields win, earlier fields the later row lacks survive) before they leave the connector.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.records import ChangeSet, Row, Tombstone, merge_rows

#: the object types whose rows this connector writes, and the entities each one feeds
ENTITIES_BY_OBJECT: dict[str, tuple[str, ...]] = {
    "customer": ("clients", "contacts"),
    "invoice": ("invoices", "invoice_lines", "payments"),
    "charge": ("payments",),
    "payment_intent": ("payments",),
    "invoice_payment": ("payments",),
}


class RowSink:
    """Rows and tombstones of one page, merged by id in the order they were added."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Row]] = {}
        self._stones: dict[str, dict[str, Tombstone]] = {}

    def upsert(self, entity: str, row: Row) -> None:
        bucket = self._rows.setdefault(entity, {})
        current = bucket.get(row["id"])
        # merged as the store would write them in turn: a deletion stays a deletion
        bucket[row["id"]] = dict(row) if current is None else merge_rows(current, row)

    def tombstone(self, entity: str, stone: Tombstone) -> None:
        self._stones.setdefault(entity, {}).setdefault(stone.id, stone)

    def changes(self) -> ChangeSet:
        out = ChangeSet()
        for entity, rows in self._rows.items():
            out.add(entity, list(rows.values()))
        for entity, stones in self._stones.items():
            for stone in stones.values():
                out.tombstone(entity, stone)
        return out


def add_object(
    sink: RowSink,
    obj: dict[str, Any],
    *,
    version: str | None,
    synced_at: datetime,
    updated_at: datetime | None = None,
    deleted_at: datetime | None = None,
    reason: str | None = None,
    from_event: bool = False,
) -> bool:
    """Add the rows of one object; returns False for an object type this connector ignores.

    ``deleted_at`` marks the object deleted at that time (a ``*.deleted`` event); an object
    that says ``deleted: true`` itself is deleted as of ``synced_at`` when no time is given.
    ``from_event`` says the object is a complete current snapshot, so the contact person a
    customer no longer names can be tombstoned.
    """
    kind = obj.get("object")
    if kind not in ENTITIES_BY_OBJECT or not isinstance(obj.get("id"), str):
        return False
    if n.is_deleted(obj) or deleted_at is not None:
        _add_deletion(sink, obj, version=version, synced_at=synced_at,
                      when=deleted_at or synced_at, reason=reason or "deleted at source")
        return True
    common = n.Context(version, synced_at, updated_at)
    if kind == "customer":
        sink.upsert("clients", n.client_row(obj, common))
        contact = n.contact_row(obj, common)
        if contact is not None:
            sink.upsert("contacts", contact)
        elif from_event:
            sink.tombstone("contacts", Tombstone(
                n.row_id("contacts", obj["id"]), updated_at or synced_at,
                "the Stripe customer no longer names this contact person"))
    elif kind == "invoice":
        sink.upsert("invoices", n.invoice_row(obj, common))
        for line in n.invoice_lines(obj):
            sink.upsert("invoice_lines", n.line_row(line, obj, common))
        for link in n.invoice_links(obj):
            sink.upsert("payments", link)
    elif kind == "charge":
        sink.upsert("payments", n.charge_row(obj, common))
    elif kind == "payment_intent":
        sink.upsert("payments", n.payment_intent_row(obj, common))
    else:  # invoice_payment: which invoice a payment paid
        for link in n.invoice_payment_links(obj):
            sink.upsert("payments", link)
    return True


def _add_deletion(
    sink: RowSink,
    obj: dict[str, Any],
    *,
    version: str | None,
    synced_at: datetime,
    when: datetime,
    reason: str,
) -> None:
    """A deleted object: its last snapshot kept as a tombstone where the payload has one
    (so an invoice of a customer deleted before we ever saw it still points at a row), a bare
    tombstone where Stripe sent only the ``{id, object, deleted}`` stub."""
    kind = obj["object"]
    dead = {"deleted": True, "deleted_at": when, "deleted_reason": reason}
    stub = set(obj) <= {"id", "object", "deleted"}
    common = n.Context(version, synced_at, when)
    if kind == "customer":
        contact = None if stub else n.contact_row(obj, common)
        if stub:
            sink.tombstone("clients", Tombstone(n.row_id("clients", obj["id"]), when, reason))
        else:
            sink.upsert("clients", {**n.client_row(obj, common), **dead})
        if contact is not None:
            sink.upsert("contacts", {**contact, **dead})
        else:
            sink.tombstone("contacts", Tombstone(n.row_id("contacts", obj["id"]), when, reason))
    elif kind == "invoice":
        if stub:
            sink.tombstone("invoices", Tombstone(n.row_id("invoices", obj["id"]), when, reason))
            return
        sink.upsert("invoices", {**n.invoice_row(obj, common), **dead})
        for line in n.invoice_lines(obj):
            sink.upsert("invoice_lines", {**n.line_row(line, obj, common), **dead})
    elif kind in ("charge", "payment_intent"):
        # Stripe never deletes payments; a stub here is still honoured, never dropped.
        sink.tombstone("payments", Tombstone(n.row_id("payments", obj["id"]), when, reason))
