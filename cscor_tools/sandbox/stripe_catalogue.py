"""What the sandbox's Stripe account sells, at what prices, and how its invoices' lines are
made: a small catalogue, rough exchange rates, and the odds of each kind of line and card."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from cscor_tools.sandbox.ids import Weighted, derived
from cscor_tools.sandbox.stripe_records import Invoice, Line


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    usd_cents: int
    recurring: bool


#: a small catalogue: (name, price in US cents, recurring)
CATALOGUE: tuple[tuple[str, int, bool], ...] = (
    ("Starter plan", 2900, True),
    ("Pro plan", 9900, True),
    ("Team plan (per seat)", 1900, True),
    ("Onboarding package", 150000, False),
    ("Consulting hour", 18000, False),
    ("Design retainer", 240000, False),
    ("Priority support add-on", 4900, False),
    ("Data migration", 85000, False),
    ("Training session", 60000, False),
    ("Custom integration", 320000, False),
    ("Annual licence", 99000, False),
    ("Hosting (monthly)", 7500, False),
)

#: rough rates from US cents to each currency's minor unit (JPY has none)
_FX = {"usd": 1.0, "eur": 0.92, "gbp": 0.79, "aud": 1.52, "jpy": 1.5}

BRANDS = Weighted(("visa", 55), ("mastercard", 30), ("amex", 10), ("discover", 5))
FUNDING = Weighted(("credit", 70), ("debit", 27), ("prepaid", 3))
#: most invoices have a few lines; a few have more than an invoice embeds (ten)
_LINE_COUNTS = Weighted((1, 48), (2, 28), (3, 14), (4, 8), (12, 2))
_QUANTITIES = Weighted((1, 60), (2, 15), (3, 10), (5, 10), (10, 5))

MEMOS = (None, None, None, "Thank you for your business.", "Payment due within 30 days.")

DECLINES = (
    ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ("card_declined", "generic_decline", "Your card was declined."),
    ("card_declined", "do_not_honor", "Your card was declined."),
)


def price_in(currency: str, usd_cents: int) -> int:
    amount = usd_cents * _FX.get(currency, 1.0)
    if currency == "jpy":
        return max(10, round(amount / 10) * 10)
    return max(50, round(amount / 10) * 10)



def make_lines(inv: Invoice, products: list[Product], price_id: Callable[[Product, str], str],
               plan: int | None) -> list[Line]:
    """An invoice's lines, made from its own seed whenever they are first needed: a
    subscriber's plan (seats for the team plan), or one to a dozen one-off items."""
    rng = random.Random(inv.line_seed)
    specs: list[tuple[Product, int]] = []
    if inv.subscription_item and plan is not None:
        seats = rng.randint(1, 20) if plan == 2 else 1
        specs.append((products[plan], seats))
    else:
        count = _LINE_COUNTS.pick(rng)
        if count > 10:
            count += rng.randint(-1, 1)
        one_off = products[3:]
        specs.extend(
            (one_off[rng.randrange(len(one_off))], _QUANTITIES.pick(rng)) for _ in range(count)
        )
    lines = []
    for i, (product, quantity) in enumerate(specs):
        cents = product.usd_cents
        if not product.recurring:  # quoted work varies around the list price
            cents = round(cents * (0.8 + 0.45 * rng.random()))
        lines.append(
            Line(
                id=f"il_{derived(inv.id, f'line:{i}', 24)}",
                invoice=inv.id,
                description=f"{quantity} × {product.name}" if quantity > 1 else product.name,
                currency=inv.currency,
                quantity=quantity,
                unit_amount=price_in(inv.currency, cents),
                period_start=inv.period_start,
                period_end=inv.created,
                price=price_id(product, inv.currency),
                product=product.id,
                subscription=inv.subscription if inv.subscription_item else None,
                subscription_item=inv.subscription_item,
            )
        )
    return lines
