"""Stripe's objects as the sandbox keeps them: compact records, a few computed fields.

What Stripe would send for each is rendered elsewhere (``stripe_render``); a record only keeps
what varies, and caches its rendered bytes in ``cache`` until someone changes it (whoever does
sets ``cache`` to None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.sandbox.ids import derived

Json = dict[str, Any]


@dataclass(frozen=True)
class Account:
    """The Stripe account the sandbox pretends to be."""

    id: str
    name: str
    country: str
    statement_descriptor: str
    api_version: str


@dataclass(frozen=True, slots=True)
class BillTo:
    """Who a document was made out to. Invoices and charges keep the one that was current
    when they were made; updating a customer makes a new one, so old documents keep theirs."""

    name: str | None
    email: str | None
    phone: str | None
    address: dict[str, str | None] | None

    def billing_details(self) -> Json:
        return {
            "address": self.address,
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "tax_id": None,
        }


@dataclass(slots=True, eq=False)
class Customer:
    id: str
    seq: int
    created: int
    name: str | None
    email: str | None
    phone: str | None
    address: dict[str, str | None] | None
    currency: str | None
    description: str | None
    invoice_prefix: str
    preferred_locales: list[str]
    metadata: dict[str, str]
    bill_to: BillTo
    shipping: Json | None = None
    default_payment_method: str | None = None
    next_invoice_sequence: int = 1
    balance: int = 0
    delinquent: bool = False
    tax_exempt: str = "none"
    live: bool = True
    deleted_at: int | None = None
    cache: bytes | None = None


@dataclass(slots=True, eq=False)
class Line:
    id: str
    invoice: str
    description: str
    currency: str
    quantity: int
    unit_amount: int
    period_start: int
    period_end: int
    price: str
    product: str
    subscription: str | None = None
    subscription_item: str | None = None
    cache: str | None = None

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


LineMaker = Callable[["Invoice"], list[Line]]


@dataclass(slots=True, eq=False)
class Invoice:
    """An invoice; its lines are made from ``line_seed`` the first time anyone needs them, so
    generating 60,000 invoices does not mean generating 100,000 line items up front."""

    id: str
    seq: int
    created: int
    customer: str
    currency: str
    collection_method: str
    billing_reason: str
    bill_to: BillTo
    line_seed: int
    maker: LineMaker
    subscription: str | None = None
    subscription_item: str | None = None
    description: str | None = None
    number: str | None = None
    due_date: int | None = None
    finalized_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None
    marked_uncollectible_at: int | None = None
    #: when each payment attempt happened, so a past state shows the attempts made by then
    attempts: list[int] = field(default_factory=list)
    payment_intent: PaymentIntent | None = None
    payments: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    live: bool = True
    cache: bytes | None = None
    made_lines: list[Line] | None = None

    @property
    def lines(self) -> list[Line]:
        if self.made_lines is None:
            self.made_lines = self.maker(self)
        return self.made_lines

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    def attempt_count(self, when: int | None = None) -> int:
        return sum(1 for t in self.attempts if when is None or t <= when)

    @property
    def period_start(self) -> int:
        return self.created - 30 * 86_400 if self.subscription else self.created

    def status_at(self, when: int | None = None) -> str:
        """The status at a moment (or now): every transition is stored, so events can show
        the invoice as it was."""

        def reached(t: int | None) -> bool:
            return t is not None and (when is None or t <= when)

        if not reached(self.finalized_at):
            return "draft"
        if reached(self.paid_at):
            return "paid"
        if reached(self.voided_at):
            return "void"
        if reached(self.marked_uncollectible_at):
            return "uncollectible"
        return "open"


@dataclass(slots=True, eq=False)
class Card:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    country: str
    funding: str
    payment_method: str

    @property
    def fingerprint(self) -> str:
        return derived(self.payment_method, "fingerprint", 16)


@dataclass(slots=True, eq=False)
class PaymentIntent:
    """A payment intent; one that pays an invoice takes its amount from the invoice."""

    id: str
    seq: int
    created: int
    currency: str
    customer: str
    description: str | None
    card: Card
    receipt_email: str | None
    invoice: Invoice | None = None
    fixed_amount: int = 0
    status: str = "requires_payment_method"
    latest_charge: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    failure: tuple[str, str, str] | None = None  # (code, decline_code, message)
    metadata: dict[str, str] = field(default_factory=dict)
    live: bool = True
    cache: bytes | None = None

    @property
    def amount(self) -> int:
        return self.invoice.total if self.invoice is not None else self.fixed_amount


@dataclass(slots=True, eq=False)
class Charge:
    id: str
    seq: int
    created: int
    payment_intent: PaymentIntent
    bill_to: BillTo
    succeeded: bool
    failure: tuple[str, str, str] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    live: bool = True
    cache: bytes | None = None


@dataclass(slots=True, eq=False)
class InvoicePayment:
    id: str
    seq: int
    created: int
    invoice: Invoice
    payment_intent: str
    paid_at: int | None
    status: str = "paid"
    is_default: bool = True
    live: bool = True
    cache: bytes | None = None


@dataclass(slots=True, eq=False)
class Event:
    """An event. Its object is the object as it was at ``created``: kept as bytes, or, for
    objects that can be rendered as of a moment (invoices, charges), made on first read, so the
    30 days of history cost little to generate."""

    id: str
    seq: int
    created: int
    type: str
    object_id: str
    api_version: str
    request_id: str | None
    object_json: bytes | None = None
    snapshot: Callable[[], bytes] | None = None
    previous_attributes: Json | Callable[[], Json] | None = None
    live: bool = True
    cache: bytes | None = None
