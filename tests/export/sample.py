"""A small workspace with every kind of value an export must carry: a fixture for export tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cscor_tools.records import CursorUpdate, Row
from cscor_tools.schema import make_id
from cscor_tools.store import Store

T0 = datetime(2024, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)
SYNCED = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
SECRET_URL = "https://invoice.stripe.com/i/acct_SECRET/live_CAPABILITY_TOKEN"

TRICKY = [
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "+33 6 12 34 56 78",
    "-2+3",
    "@SUM(A1:A2)",
    "\tindented",
    "\rcarriage",
    "'=already quoted",
    "Zoë, \"quoted\"\nsecond line",
    "emoji 🎉 and 中文",
]


def _prov(entity: str, i: int, **extra: Any) -> Row:
    row: Row = {
        "id": make_id(entity, "stripe", f"{entity}_{i}"),
        "source": "stripe",
        "source_id": f"src_{entity}_{i}",
        "source_version": "2024-06-20",
        "created_at": T0 + timedelta(days=i * 40, microseconds=i),
        "updated_at": T0 + timedelta(days=i * 40 + 1),
        "deleted": False,
        "deleted_at": None,
        "deleted_reason": None,
        "synced_at": SYNCED,
    }
    row.update(extra)
    return row


def client_id(i: int) -> str:
    return make_id("clients", "stripe", f"clients_{i}")


def invoice_id(i: int) -> str:
    return make_id("invoices", "stripe", f"invoices_{i}")


def seed(store: Store, *, clients: int = 6, invoices: int = 12) -> None:
    """Rows in every entity: tricky text, nulls, nested values, a tombstone, negative amounts."""
    rows: dict[str, list[Row]] = {name: [] for name in (
        "clients", "contacts", "invoices", "invoice_lines", "payments", "notifications", "comments"
    )}
    for i in range(clients):
        rows["clients"].append(_prov(
            "clients", i,
            name=f"Client {i} {TRICKY[i % len(TRICKY)]}",
            email=f"Person.{i}@Example.com",
            phone=f"+1 (555) 010-{i:04d}",
            company=None if i == 2 else f"Company {i} GmbH",
            address=None if i == 1 else {
                "line1": f"{i} Rue de la Paix", "line2": None, "city": "Paris",
                "postal_code": "75002", "state": None, "country": "FR" if i % 2 else "DE",
            },
            currency="eur",
            balance=-1500 * i,
            notes=f"Call +33 6 12 34 56 7{i} or mail boss{i}@corp.example; see https://x.example/{i}",
            rating=(i % 5) + 1,
            workflow_state=("lead", "active", "on_hold", "archived")[i % 4],
            tags=None if i == 0 else ([] if i == 1 else ["vip", TRICKY[i % len(TRICKY)]]),
            livemode=None if i == 3 else True,
            deleted=i == clients - 1,
            deleted_at=SYNCED if i == clients - 1 else None,
            deleted_reason="event" if i == clients - 1 else None,
        ))
        rows["contacts"].append(_prov(
            "contacts", i, client_id=client_id(i), name=f"Contact {i}", first_name="Ann",
            last_name=f"Lee{i}", email=f"contact{i}@example.org", phone=f"+44 20 7946 09{i:02d}",
            title="CFO", unsubscribed=bool(i % 2), notes=TRICKY[i % len(TRICKY)], tags=["a"],
            livemode=True,
        ))
        rows["comments"].append(_prov(
            "comments", i, client_id=client_id(i), project="Website", author=f"Author {i}",
            body=f"Ping me at author{i}@example.net, card 4111 1111 1111 1111",
        ))
        rows["notifications"].append(_prov(
            "notifications", i, channel="email" if i % 2 else "slack", client_id=client_id(i),
            contact_id=make_id("contacts", "stripe", f"contacts_{i}"), conversation="C123",
            recipient=f"person.{i}@example.com", sender="billing@example.com",
            subject=f"Invoice {i} for {TRICKY[i % len(TRICKY)]}", status="delivered",
            sent_at=T0 + timedelta(hours=i), thread_id=None, reply_count=i, edited_at=None,
        ))
    for i in range(invoices):
        c = i % clients
        rows["invoices"].append(_prov(
            "invoices", i,
            # one invoice points at a client that was never synced: a dangling key
            client_id=client_id(c) if i != invoices - 1 else client_id(999),
            number=f"INV-{i:04d}", status=("draft", "open", "paid", "void")[i % 4],
            currency="eur", subtotal=10000 + i, tax=2000, total=12000 + i, amount_due=12000 + i,
            amount_paid=0 if i % 4 != 2 else 12000 + i, amount_remaining=-5 if i == 3 else 0,
            customer_name=f"Client {c} {TRICKY[c % len(TRICKY)]}",
            customer_email=f"person.{c}@example.com",
            description=f"Services, questions to person.{c}@example.com or +1 555 010 {c:04d}",
            issued_at=T0 + timedelta(days=i), due_at=T0 + timedelta(days=i + 30),
            paid_at=None if i % 4 != 2 else T0 + timedelta(days=i + 3),
            period_start=None, period_end=None, subscription_id=None,
            hosted_invoice_url=f"{SECRET_URL}_{i}", livemode=True,
        ))
        rows["invoice_lines"].append(_prov(
            "invoice_lines", i, invoice_id=invoice_id(i), description=f"Line {TRICKY[i % 9]}",
            quantity=i + 1, unit_amount=-100 if i == 1 else 100, amount=100 * (i + 1),
            currency="eur", period_start=T0, period_end=T0 + timedelta(days=30),
            proration=i == 1, livemode=True,
        ))
        rows["payments"].append(_prov(
            "payments", i, client_id=client_id(c), invoice_id=invoice_id(i), kind="charge",
            status="succeeded" if i % 3 else "failed", amount=12000 + i, amount_refunded=0,
            currency="eur", method_type="card", card_brand="visa", card_last4="4242",
            card_country="FR", receipt_email=f"person.{c}@example.com",
            description="Payment for INV", failure_code=None, paid_at=T0 + timedelta(days=i),
            payment_intent_id=None, livemode=True,
        ))
    rows["integrations"] = [_prov(
        "integrations", i, provider="resend", kind="email_domain", name=f"mail{i}.example.com",
        domain=f"mail{i}.example.com", region="us-east-1", status="verified",
    ) for i in range(2)]
    rows["campaigns"] = [_prov(
        "campaigns", i, name=f"Newsletter {TRICKY[i % len(TRICKY)]}", status="sent",
        segment_id=f"seg_{i}", sent_at=T0 + timedelta(days=i),
    ) for i in range(2)]
    rows["campaign_recipients"] = [_prov(
        "campaign_recipients", i, campaign_id=make_id("campaigns", "stripe", f"campaigns_{i % 2}"),
        email=f"person.{i}@example.com", status=("sent", "bounced")[i % 2],
    ) for i in range(3)]
    rows["channels"] = [_prov(
        "channels", i, provider="slack", kind=("public_channel", "private_channel")[i % 2],
        name=f"project-{TRICKY[i % len(TRICKY)]}", topic="Invoices for <@U123>",
        purpose=None, creator="U123", client_id=client_id(i), member_count=3 + i,
        is_member=True, archived=False,
    ) for i in range(2)]
    for name, batch in rows.items():
        store.upsert(name, batch)
    with store.transaction() as tx:
        tx.set_cursor(CursorUpdate("stripe", "invoices", "", {"created": 1718000000}))


def seed_two_sources(store: Store) -> None:
    """The sample, plus one client of a second source (as a merge leaves it), so that a
    dataset partitioned by source has more than one partition."""
    seed(store)
    other = dict(next(iter(store.iter_rows("clients")))[0])
    other.update(id=make_id("clients", "import", "c-1"), source="import", source_id="c-1")
    store.upsert("clients", [other])
