"""One person in a workspace, seen by Stripe, Resend and Slack, and people who look like them.

The rows are written straight into the store as each connector writes them (provenance from
``schema.provenance``, ids from ``make_id``): for sources whose connector is not installed, this
is what their sync would hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cscor_tools.records import Row
from cscor_tools.schema import make_id, provenance
from cscor_tools.store import Store

ANN = "ann.lee@example.com"
#: addresses of other people that a careless match would take for Ann's
LOOKALIKES = ("joann.lee@example.com", "ann.lee@example.com.au", "ann.lee@example.co",
              "anne.lee@example.com", "ann.lee+news@example.com")
#: what must never appear in the privacy logs
ANN_NAME, ANN_PHONE = "Ann Lee", "+15550100123"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _row(entity: str, source: str, source_id: str, at: datetime, **fields: Any) -> Row:
    row = provenance(entity, source, source_id, synced_at=at, created_at=at)
    row.update(fields)
    return row


def person(store: Store, email: str, n: int, *, name: str, phone: str | None = None,
           shown: str | None = None) -> dict[str, list[str]]:
    """One person's rows at Stripe, Resend and Slack; returns their ids by entity.

    ``shown`` is the address as the sources spell it (case, spaces).
    """
    at = T0 + timedelta(days=n)
    spelled = shown or email
    cus, sid = f"cus_{n:04d}", f"U{n:04d}"
    client = make_id("clients", "stripe", cus)
    contact_stripe = make_id("contacts", "stripe", cus)
    contact_resend = make_id("contacts", "resend", f"rc_{n}")
    contact_slack = make_id("contacts", "slack", sid)
    invoice = make_id("invoices", "stripe", f"in_{n}")
    rows: dict[str, list[Row]] = {
        "clients": [_row("clients", "stripe", cus, at, name=name, email=spelled, phone=phone,
                         company=f"{name} Ltd", tags=["vip"], notes=f"call {name}")],
        "contacts": [
            _row("contacts", "stripe", cus, at, client_id=client, name=name, email=spelled,
                 phone=phone),
            _row("contacts", "resend", f"rc_{n}", at, name=name, email=email.upper()),
            _row("contacts", "slack", sid, at, name=name, email=email),
        ],
        "invoices": [_row("invoices", "stripe", f"in_{n}", at, client_id=client,
                          number=f"INV-{n:04d}", status="paid", currency="eur", total=1200 + n,
                          customer_name=name, customer_email=spelled,
                          description=f"Work for {name}", subscription_id=f"sub_{n}")],
        "invoice_lines": [_row("invoice_lines", "stripe", f"il_{n}", at, invoice_id=invoice,
                               description=f"Consulting for {name}", amount=1200 + n,
                               currency="eur", quantity=1)],
        "payments": [_row("payments", "stripe", f"ch_{n}", at, client_id=client,
                          invoice_id=invoice, kind="charge", status="succeeded",
                          amount=1200 + n, currency="eur", receipt_email=spelled,
                          card_last4="4242", payment_intent_id=f"pi_{n}")],
        "notifications": [
            _row("notifications", "resend", f"em_{n}", at, channel="email",
                 direction="outbound", recipient=f"{name} <{email}>",
                 sender="billing@shop.example", subject=f"Your invoice, {name}",
                 contact_id=contact_resend),
            _row("notifications", "slack", f"C1:{n}.0001", at, channel="slack",
                 direction="inbound", sender=sid, recipient="C1", subject="hello"),
        ],
        "comments": [_row("comments", "import", f"cm_{n}", at, client_id=client,
                          project=f"{name} kitchen", author=email, body="Looks good")],
    }
    with store.transaction() as tx:
        for entity, batch in rows.items():
            tx.upsert(entity, batch)
    ids = {entity: sorted(r["id"] for r in batch) for entity, batch in rows.items()}
    ids["contacts"] = sorted([contact_stripe, contact_resend, contact_slack])
    return ids


def seed_people(store: Store) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    """Ann (spelled with capitals and spaces at Stripe), and each lookalike."""
    ann = person(store, ANN, 1, name=ANN_NAME, phone=ANN_PHONE, shown=" Ann.Lee@Example.com ")
    others = [person(store, email, 10 + i, name=f"Other {i}", phone=f"+1555020{i:04d}")
              for i, email in enumerate(LOOKALIKES)]
    return ann, others
