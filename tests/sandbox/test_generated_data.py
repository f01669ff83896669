"""The generated data is realistic and shared across providers: the same person is a Stripe
customer, a Resend contact and, as a guest, a Slack user; values look like real ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cscor_tools.sandbox import DEFAULT_ANCHOR, Sandbox
from cscor_tools.sandbox.people import PeoplePool

EMAIL = re.compile(r"^[a-z0-9.]+@[a-z0-9.-]+\.[a-z]{2,}$")


def test_people_overlap_across_providers(sandbox: Sandbox) -> None:
    world = sandbox.world
    customers = {c.email for c in world.stripe.customers}
    contacts = {c.email for c in world.resend.contacts}
    shared = customers & contacts
    assert len(shared) >= 0.5 * min(len(customers), len(contacts))
    assert contacts - customers, "some contacts never bought anything"
    guests = [u for u in world.slack.users if u.is_restricted]
    assert guests and all(u.person and u.person.email in customers for u in guests)
    mail_to = {to for e in world.resend.emails for to in e.to}
    assert mail_to & customers
    names = {c.name for c in world.stripe.customers}
    texts = " ".join(m.text for ch in world.slack.channels for m in ch.by_ts.values())
    assert any(name and name in texts for name in names), "Slack mentions no customer"


def test_values_look_real(sandbox: Sandbox) -> None:
    world = sandbox.world
    for customer in world.stripe.customers:
        assert customer.email and EMAIL.match(customer.email), customer.email
        assert customer.name and len(customer.name) > 2
        assert customer.currency in ("usd", "eur", "gbp", "aud", "jpy")
        if customer.address:
            assert len(customer.address["country"] or "") == 2
    for invoice in world.stripe.invoices:
        assert invoice.total > 0
        if invoice.currency == "jpy":  # zero-decimal: whole yen, rounded to tens
            assert all(line.unit_amount % 10 == 0 for line in invoice.lines)
    anchor = int(DEFAULT_ANCHOR.timestamp())
    assert all(anchor - 731 * 86_400 <= c.created <= anchor for c in world.stripe.customers)
    assert {e.last_event for e in world.resend.emails} >= {"delivered", "opened"}


def test_people_are_deterministic_and_varied() -> None:
    one, two = PeoplePool(1), PeoplePool(1)
    assert one.take(0, 300) == two.take(0, 300)
    people = one.take(0, 300)
    assert len({p.email for p in people}) == 300
    assert len({p.locale.country for p in people}) >= 5
    assert any(not p.name.isascii() for p in people), "no accented or Japanese names"
    assert PeoplePool(2).take(0, 50) != people[:50]


def test_the_clock_starts_at_the_anchor() -> None:
    anchor = datetime(2025, 5, 17, 12, 0, tzinfo=UTC)
    with Sandbox(seed=1, scale=0.02, anchor=anchor) as sb:
        assert sb.info()["now"] == anchor.isoformat()
        newest = max(c.created for c in sb.world.stripe.customers)
        assert newest <= anchor.timestamp()
        later = sb.advance(hours=5)
        assert later == datetime(2025, 5, 17, 17, 0, tzinfo=UTC)
