"""A workspace as syncs leave it: every entity filled, tombstones, and references left dangling.

Ids derive the way a connector derives them (``make_id(entity, "stripe", source_id)`` with
Stripe-style source ids), so a bundle of this store passes the import's identity check. What
makes it realistic for a round trip is what a sync really leaves behind:

* tombstoned clients, a contact and an invoice, still referenced by live rows (a contact of a
  deleted client, a payment of a voided and deleted invoice…);
* references to rows that were never synced (an invoice of a customer outside the synced
  range, a line of an invoice never fetched, a payment whose invoice is unknown);
* null references, nested addresses, lists, unicode, multi-line and formula-like text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cscor_tools.records import Row
from cscor_tools.schema import make_id
from cscor_tools.store import Store

SOURCE = "stripe"
T0 = datetime(2024, 3, 1, 8, 15, 30, 250000, tzinfo=UTC)
SYNCED = datetime(2024, 7, 2, 6, 0, 0, tzinfo=UTC)
TEXTS = [
    "plain",
    "=SUM(A1:A9)",
    "+49 30 1234567",
    "@mention",
    "Zoë \"quoted\", comma\nsecond line",
    "emoji 🎉 中文",
    "-minus first",
]
#: source ids of rows that other rows reference but no sync ever wrote
NEVER_SYNCED = {"clients": "cus_never_synced", "invoices": "in_never_synced",
                "contacts": "con_never_synced", "campaigns": "bc_never_synced",
                "channels": "C_never_synced"}
#: the source ids the seed tombstones, by entity
TOMBSTONED = {"clients": {"cus_0003", "cus_0006"}, "contacts": {"con_0004"},
              "invoices": {"in_0007"}}

_PREFIX = {"clients": "cus", "contacts": "con", "invoices": "in", "invoice_lines": "il",
           "payments": "ch", "notifications": "msg", "integrations": "itg",
           "comments": "cmt", "campaigns": "bc", "campaign_recipients": "bcr",
           "channels": "C"}


def source_id(entity: str, i: int) -> str:
    return f"{_PREFIX[entity]}_{i:04d}"


def ref(entity: str, i: int | None) -> str | None:
    """The workspace id of row ``i`` of ``entity`` (None: no reference; -1: never synced)."""
    if i is None:
        return None
    sid = NEVER_SYNCED[entity] if i < 0 else source_id(entity, i)
    return make_id(entity, SOURCE, sid)


def _row(entity: str, i: int, **values: Any) -> Row:
    sid = source_id(entity, i)
    dead = sid in TOMBSTONED.get(entity, set())
    row: Row = {
        "id": make_id(entity, SOURCE, sid),
        "source": SOURCE,
        "source_id": sid,
        "source_version": "2024-06-20",
        "created_at": T0 + timedelta(days=3 * i, seconds=i, microseconds=7 * i),
        "updated_at": None if i % 5 == 0 else T0 + timedelta(days=3 * i + 2),
        "deleted": dead,
        "deleted_at": SYNCED - timedelta(days=1) if dead else None,
        "deleted_reason": ("event" if i % 2 else "reconcile") if dead else None,
        "synced_at": SYNCED,
    }
    row.update(values)
    return row


def rows(clients: int = 8) -> dict[str, list[Row]]:
    """The seed's rows by entity, in dependency order."""
    text = TEXTS.__getitem__
    out: dict[str, list[Row]] = {}
    out["clients"] = [
        _row("clients", i, name=f"Client {i} {text(i % 7)}", email=f"Billing.{i}@Example.com",
             phone=None if i == 2 else f"+33 1 23 45 67 {i:02d}",
             company=f"Société {i} SARL" if i % 3 else None,
             address=None if i == 1 else {"line1": f"{i} rue Oberkampf", "line2": None,
                                          "city": "Paris", "postal_code": "75011",
                                          "state": None, "country": "FR" if i % 2 else "BE"},
             currency="eur", balance=-250 * i, notes=f"Notes {text((i + 3) % 7)}",
             rating=None if i == 4 else i % 5 + 1,
             workflow_state=("lead", "active", "on_hold", "archived")[i % 4],
             tags=None if i == 0 else ([] if i == 5 else ["vip", text(i % 7)]),
             livemode=i != 7)
        for i in range(clients)
    ]
    # contacts: of live, tombstoned (3, 6) and never-synced clients, and of none
    contact_clients = [0, 1, 3, 3, 6, 2, -1, None, 5, 7]
    out["contacts"] = [
        _row("contacts", i, client_id=ref("clients", c), name=f"Contact {i}",
             first_name="Anne-Sophie" if i % 2 else None, last_name=f"Müller {i}",
             email=f"contact.{i}@example.org", phone=f"+44 20 7946 0{i:03d}",
             title=text(i % 7), unsubscribed=i % 3 == 0, notes=None, tags=["newsletter"],
             livemode=True)
        for i, c in enumerate(contact_clients)
    ]
    invoice_clients = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, -1, 3, 2, 6]
    out["invoices"] = [
        _row("invoices", i, client_id=ref("clients", c), number=f"F-2024-{i:04d}",
             status=("draft", "open", "paid", "uncollectible", "void")[i % 5], currency="eur",
             subtotal=10_000 + 13 * i, tax=2_000, total=12_000 + 13 * i,
             amount_due=12_000 + 13 * i, amount_paid=12_000 + 13 * i if i % 5 == 2 else 0,
             amount_remaining=-40 if i == 9 else 0, customer_name=f"Client {c}",
             customer_email=None if c is None or c < 0 else f"billing.{c}@example.com",
             description=f"Prestations {text(i % 7)}", issued_at=T0 + timedelta(days=i),
             due_at=T0 + timedelta(days=i + 30),
             paid_at=T0 + timedelta(days=i + 2) if i % 5 == 2 else None,
             period_start=T0 if i % 2 else None, period_end=T0 + timedelta(days=31) if i % 2
             else None, subscription_id=f"sub_{i % 3}" if i % 2 else None,
             hosted_invoice_url=f"https://invoice.stripe.com/i/acct_1/live_{i}",
             livemode=True)
        for i, c in enumerate(invoice_clients)
    ]
    # lines: of live invoices, of the tombstoned invoice (7) and of a never-synced one
    line_invoices = [0, 0, 1, 2, 3, 4, 5, 7, 7, -1, 8, 9, 10, 11, 12, 13]
    out["invoice_lines"] = [
        _row("invoice_lines", i, invoice_id=ref("invoices", v), description=f"Ligne {text(i % 7)}",
             quantity=i % 4 + 1, unit_amount=-500 if i == 3 else 2_500, amount=2_500 * (i % 4 + 1),
             currency="eur", period_start=T0, period_end=T0 + timedelta(days=30),
             proration=i == 3, livemode=True)
        for i, v in enumerate(line_invoices)
    ]
    payment_refs = [(0, 0), (1, 1), (2, 2), (3, 3), (6, 7), (-1, 10), (0, None), (None, -1),
                    (4, 4), (5, 5), (7, 13)]
    out["payments"] = [
        _row("payments", i, client_id=ref("clients", c), invoice_id=ref("invoices", v),
             kind=("charge", "payment_intent", "invoice_payment", "manual")[i % 4],
             status="failed" if i == 2 else "succeeded", amount=12_000 + i,
             amount_refunded=600 if i == 4 else 0, currency="eur", method_type="card",
             card_brand="visa", card_last4=f"{4242 + i}", card_country="FR",
             receipt_email=f"billing.{i}@example.com", description=f"Paiement {text(i % 7)}",
             failure_code="card_declined" if i == 2 else None,
             paid_at=None if i == 2 else T0 + timedelta(days=i, hours=3),
             payment_intent_id=f"pi_{i:04d}" if i % 4 == 1 else None, livemode=True)
        for i, (c, v) in enumerate(payment_refs)
    ]
    out["channels"] = [
        _row("channels", i, provider="slack",
             kind=("public_channel", "private_channel", "im")[i % 3],
             name=None if i % 3 == 2 else f"projet-{i}", topic=f"Sujet {text(i % 7)}",
             purpose=None, creator="U024BE7LH", dm_user="U024BE7LH" if i % 3 == 2 else None,
             client_id=ref("clients", (0, None, -1)[i % 3]), member_count=i + 2,
             is_member=i != 1, archived=i == 1)
        for i in range(3)
    ]
    notify_refs = [(0, 0), (1, 1), (3, 2), (6, 4), (None, None), (-1, -1), (2, 5), (5, None)]
    out["notifications"] = [
        _row("notifications", i, channel="slack" if i % 3 == 0 else "email",
             client_id=ref("clients", c), contact_id=ref("contacts", k),
             conversation="C024BE91L" if i % 3 == 0 else None,
             conversation_id=ref("channels", (0, -1)[i % 2]) if i % 3 == 0 else None,
             recipient=f"contact.{i}@example.org", sender="billing@example.com",
             subject=f"Relance {text(i % 7)}", status=("sent", "delivered", "bounced")[i % 3],
             sent_at=T0 + timedelta(hours=5 * i), thread_id=f"t{i % 2}" if i % 3 == 0 else None,
             reply_count=i % 3, edited_at=T0 + timedelta(hours=5 * i + 1) if i == 3 else None)
        for i, (c, k) in enumerate(notify_refs)
    ]
    out["integrations"] = [
        _row("integrations", i, provider=("resend", "slack")[i % 2],
             kind=("email_domain", "slack_workspace")[i % 2],
             name=(f"mail{i}.example.org", f"Atelier {text(i % 7)}")[i % 2],
             domain=(None, f"atelier-{i}")[i % 2], region=("eu-west-1", None)[i % 2],
             status=("verified", "pending", "failed")[i % 3])
        for i in range(3)
    ]
    out["campaigns"] = [
        _row("campaigns", i, name=f"Lettre {text(i % 7)}", status=("sent", "draft")[i % 2],
             segment_id=f"seg_{i % 2}", topic_id=None if i else "top_0",
             scheduled_at=None, sent_at=None if i % 2 else T0 + timedelta(days=i))
        for i in range(3)
    ]
    out["campaign_recipients"] = [
        _row("campaign_recipients", i, campaign_id=ref("campaigns", c),
             contact_id=ref("contacts", k), email=f"contact.{i}@example.org",
             status=("sent", "bounced", "complained")[i % 3],
             bounce_type="permanent" if i % 3 == 1 else None)
        for i, (c, k) in enumerate([(0, 0), (0, 1), (2, 2), (2, None), (-1, -1)])
    ]
    comment_clients = [0, 1, 3, 6, -1, None, 2, 5, 0]
    out["comments"] = [
        _row("comments", i, client_id=ref("clients", c), project=f"Site web {i % 2}",
             author=f"Author {i}", body=f"Commentaire {text(i % 7)}")
        for i, c in enumerate(comment_clients)
    ]
    return out


def seed(store: Store) -> dict[str, list[Row]]:
    """Write the rows into ``store`` (one upsert per entity, as a sync would) and return them."""
    data = rows()
    for name, batch in data.items():
        store.upsert(name, batch)
    return data
