"""Generates the Stripe account's history: customers, invoices and their payments, and the
last 30 days of events.

Sign-ups grow over the history (more customers recently, as in a growing business); invoices
fall between a customer's sign-up and now and end paid, open, failed, void, uncollectible or
still draft with realistic odds. Everything is replayed in time order through the same
operations ``mutate`` uses, so numbering, payments and events agree with each other.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right

from cscor_tools.sandbox.config import Volumes
from cscor_tools.sandbox.ids import stream
from cscor_tools.sandbox.people import PeoplePool
from cscor_tools.sandbox.stripe_data import DAY, StripeData
from cscor_tools.sandbox.stripe_records import Customer, Invoice


def generate_stripe(data: StripeData, people: PeoplePool, volumes: Volumes, seed: int) -> None:
    rng = stream(seed, "stripe")
    now = data.clock.now
    start = now - volumes.history_days * DAY
    span = now - start
    data.event_horizon = data.events_since()
    try:
        # sqrt of a uniform draw leans towards the end: a business that grows
        times = sorted(start + int(span * math.sqrt(rng.random()))
                       for _ in range(volumes.customers))
        persons = people.take(0, volumes.customers)
        customers = [data.add_customer(p, t, rng) for p, t in zip(persons, times, strict=True)]
        if not customers:
            return
        # Billing follows the customer base: with sign-ups growing quadratically, the number of
        # customers at a moment grows like its square, so invoice times follow a cube law,
        # each billed to someone already signed up by then.
        signed_up = [c.created for c in customers]
        plans: list[tuple[int, int, Customer]] = []  # (time, kind: 0 invoice / 1 payment, who)
        payments = round(volumes.customers * volumes.payments_per_customer)
        for kind, count in ((0, volumes.invoices), (1, payments)):
            for _ in range(count):
                at = min(start + int(span * rng.random() ** (1 / 3)), now - 7200)
                known = max(1, bisect_right(signed_up, at))
                customer = customers[rng.randrange(known)]
                plans.append((max(at, customer.created), kind, customer))
        plans.sort(key=lambda plan: (plan[0], plan[1]))
        for at, kind, customer in plans:
            if kind == 1:
                data.one_off_payment(customer, at, rng, succeed=rng.random() < 0.9)
            else:
                _play_invoice(data, data.add_invoice(customer, at, rng), now, rng)
    finally:
        data.event_horizon = None


def _play_invoice(data: StripeData, inv: Invoice, now: int, rng: random.Random) -> None:
    """Walks one invoice through its life up to now."""
    if now - inv.created < 2 * DAY and rng.random() < 0.5:
        return  # still a draft
    finalized = inv.created + 3600
    data.finalize(inv, finalized)
    first_try = finalized + rng.randint(30, 600)
    if inv.collection_method == "send_invoice":
        first_try = finalized + rng.randint(DAY, 28 * DAY)
    roll = rng.random()
    if roll < 0.03:
        voided = finalized + rng.randint(2, 20) * DAY
        if voided <= now:
            data.void(inv, voided)
        return
    if roll < 0.09:
        # a decline; some are paid on a later retry, some written off
        if first_try > now:
            return
        data.attempt(inv, first_try, rng, succeed=False)
        retry = first_try + rng.randint(1, 5) * DAY
        if roll < 0.06 and retry <= now:
            data.attempt(inv, retry, rng, succeed=True)
        elif roll < 0.08 and first_try + 45 * DAY <= now:
            data.mark_uncollectible(inv, first_try + 45 * DAY)
        return
    if roll < 0.13:
        return  # open, not yet paid
    if first_try <= now:
        data.attempt(inv, first_try, rng, succeed=True)
