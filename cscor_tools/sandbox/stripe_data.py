"""The Stripe account's live state, and the operations that change it and emit its events.

Generation and ``mutate`` go through the same operations (add a customer, finalize, pay, void,
delete…), so the events a sync sees after a mutation are the events the history already has,
shaped the same way. Each event carries the object as it was at that moment and, for
``*.updated``, the ``previous_attributes`` computed by diffing the object before and after.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import partial
from typing import Any

from cscor_tools.sandbox.clock import SandboxClock
from cscor_tools.sandbox.collection import Collection
from cscor_tools.sandbox.ids import IdFactory
from cscor_tools.sandbox.people import Person
from cscor_tools.sandbox.stripe_catalogue import (
    BRANDS,
    CATALOGUE,
    DECLINES,
    FUNDING,
    MEMOS,
    Product,
    make_lines,
    price_in,
)
from cscor_tools.sandbox.stripe_records import (
    Account,
    BillTo,
    Card,
    Charge,
    Customer,
    Event,
    Invoice,
    InvoicePayment,
    Json,
    Line,
    PaymentIntent,
)
from cscor_tools.sandbox.stripe_render import (
    charge_bytes,
    customer_bytes,
    diff,
    event_bytes,
    invoice_bytes,
    invoice_payment_bytes,
    invoice_values,
    payment_intent_bytes,
)
from cscor_tools.sandbox.stripe_shapes import INVOICE

DAY = 86_400
#: Stripe keeps events for 30 days
EVENT_RETENTION = 30 * DAY


class StripeData:
    """Customers, invoices, payments and events of one sandbox Stripe account."""

    def __init__(self, seed: int, clock: SandboxClock, api_version: str) -> None:
        self.seed = seed
        self.ids = IdFactory(seed)
        self.clock = clock
        self.account = Account(
            id=self.ids.stripe("acct", "account", 16),
            name="Cscor Sandbox Ltd",
            country="US",
            statement_descriptor="CSCOR SANDBOX",
            api_version=api_version,
        )
        self.customers: Collection[Customer] = Collection()
        self.invoices: Collection[Invoice] = Collection()
        self.payment_intents: Collection[PaymentIntent] = Collection()
        self.charges: Collection[Charge] = Collection()
        self.invoice_payments: Collection[InvoicePayment] = Collection()
        self.events: Collection[Event] = Collection()
        self.cards: dict[str, Card] = {}
        self.subscriptions: dict[str, tuple[str, str, int]] = {}  # customer → (sub, si, plan)
        self.products = [
            Product(self.ids.stripe("prod", "product"), name, cents, recurring)
            for name, cents, recurring in CATALOGUE
        ]
        #: while generating history, events before this moment are not kept (Stripe drops them)
        self.event_horizon: int | None = None
        self._billed: dict[str, int] = {}  # invoices made per customer
        self._prices: dict[tuple[str, str], str] = {}

    def price_id(self, product: Product, currency: str) -> str:
        key = (product.id, currency)
        if key not in self._prices:
            self._prices[key] = self.ids.stripe("price", "price", 24)
        return self._prices[key]

    # -- JSON --------------------------------------------------------------------------------

    def render(self, record: Any) -> bytes:
        if isinstance(record, Customer):
            return customer_bytes(record)
        if isinstance(record, Invoice):
            return invoice_bytes(record, self.account)
        if isinstance(record, Charge):
            return charge_bytes(record, self.account)
        if isinstance(record, PaymentIntent):
            return payment_intent_bytes(record)
        if isinstance(record, InvoicePayment):
            return invoice_payment_bytes(record)
        if isinstance(record, Event):
            return event_bytes(record)
        raise TypeError(type(record).__name__)

    def json_bytes(self, record: Any) -> bytes:
        """A record's JSON, serialized once and kept until the record changes."""
        cached: bytes | None = record.cache
        if cached is None:
            cached = self.render(record)
            record.cache = cached
        return cached

    # -- events ------------------------------------------------------------------------------

    def keeps(self, at: int) -> bool:
        """Whether an event at this moment is kept: rendering snapshots for events that are
        dropped at once would cost most of the generation time."""
        return self.event_horizon is None or at >= self.event_horizon

    def events_since(self) -> int:
        """The oldest moment whose events are still kept."""
        return self.clock.now - EVENT_RETENTION + 1

    def emit(
        self,
        type_: str,
        obj: bytes | Callable[[], bytes],
        obj_id: str,
        at: int,
        previous: Json | Callable[[], Json] | None = None,
        request: bool = False,
    ) -> Event:
        """Record an event; ``obj`` is the object's bytes or, for objects that can be rendered
        as of a moment, a function that renders them when the event is first read."""
        event = Event(
            id=self.ids.stripe("evt", "event", 24),
            seq=self.events.next_seq(),
            created=at,
            type=type_,
            object_id=obj_id,
            api_version=self.account.api_version,
            request_id=self.ids.stripe("req", "request") if request else None,
            object_json=obj if isinstance(obj, bytes) else None,
            snapshot=None if isinstance(obj, bytes) else obj,
            previous_attributes=previous,
        )
        self.events.add(event)
        return event

    # -- customers ---------------------------------------------------------------------------

    def add_customer(self, person: Person, at: int, rng: random.Random) -> Customer:
        business = rng.random() < 0.3
        address = person.address.as_stripe() if rng.random() < 0.85 else None
        card = self._new_card(person.address.country, rng)
        name = person.company if business else person.name
        phone = person.phone if rng.random() < 0.8 else None
        customer = Customer(
            id=self.ids.stripe("cus", "customer"),
            seq=self.customers.next_seq(),
            created=at,
            name=name,
            email=person.email,
            phone=phone,
            address=address,
            currency=person.locale.currency,
            description=f"Contact: {person.name}" if business else None,
            invoice_prefix=self.ids.hex("invoice_prefix", 8).upper(),
            preferred_locales=[person.locale.language] if rng.random() < 0.5 else [],
            metadata={"crm_id": f"crm-{person.index + 1:06d}"} if rng.random() < 0.3 else {},
            bill_to=BillTo(name, person.email, phone, address),
            default_payment_method=card.payment_method,
        )
        if address and rng.random() < 0.2:
            customer.shipping = {"address": address, "name": person.name, "phone": person.phone}
        self.cards[customer.id] = card
        if rng.random() < 0.4:
            self.subscriptions[customer.id] = (
                self.ids.stripe("sub", "subscription", 24),
                self.ids.stripe("si", "subscription_item"),
                rng.randrange(3),
            )
        self.customers.add(customer)
        if self.keeps(at):
            self.emit("customer.created", customer_bytes(customer), customer.id, at,
                      request=True)
        return customer

    def update_customer(self, customer: Customer, at: int, **changes: Any) -> Json:
        """Change fields of a live customer; returns ``previous_attributes``."""
        before = customer_bytes(customer)
        for key, value in changes.items():
            setattr(customer, key, value)
        customer.bill_to = BillTo(customer.name, customer.email, customer.phone,
                                  customer.address)
        customer.cache = None
        self.customers.changed()
        after = customer_bytes(customer)
        previous: Json = diff(json.loads(before), json.loads(after))
        self.emit("customer.updated", after, customer.id, at, previous=previous, request=True)
        return previous

    def delete_customer(self, customer: Customer, at: int) -> None:
        snapshot = customer_bytes(customer)
        customer.live = False
        customer.deleted_at = at
        customer.cache = None
        self.customers.changed()
        self.emit("customer.deleted", snapshot, customer.id, at, request=True)

    def _new_card(self, country: str, rng: random.Random) -> Card:
        brand = BRANDS.pick(rng)
        if brand == "discover" and country == "JP":
            brand = "jcb"
        return Card(
            brand=brand,
            last4=f"{rng.randrange(10000):04d}",
            exp_month=rng.randint(1, 12),
            exp_year=rng.randint(2027, 2032),
            country=country,
            funding=FUNDING.pick(rng),
            payment_method=self.ids.stripe("pm", "payment_method", 24),
        )

    # -- invoices ----------------------------------------------------------------------------

    def add_invoice(self, customer: Customer, at: int, rng: random.Random) -> Invoice:
        """A draft invoice; a subscriber's invoice bills their plan."""
        billed = self._billed.get(customer.id, 0)
        self._billed[customer.id] = billed + 1
        sub = self.subscriptions.get(customer.id)
        if sub is not None:
            reason = "subscription_cycle" if billed else "subscription_create"
            collection = "charge_automatically"
            description = None
        else:
            reason = "manual"
            collection = "send_invoice" if rng.random() < 0.5 else "charge_automatically"
            description = MEMOS[rng.randrange(len(MEMOS))]
        invoice = Invoice(
            id=self.ids.stripe("in", "invoice", 24),
            seq=self.invoices.next_seq(),
            created=at,
            customer=customer.id,
            currency=customer.currency or "usd",
            collection_method=collection,
            billing_reason=reason,
            bill_to=customer.bill_to,
            line_seed=rng.getrandbits(64),
            maker=self._make_lines,
            subscription=sub[0] if sub else None,
            subscription_item=sub[1] if sub else None,
            description=description,
            due_date=at + 30 * DAY if collection == "send_invoice" else None,
        )
        self.invoices.add(invoice)
        if self.keeps(at):
            self.emit("invoice.created", self._invoice_at(invoice, at), invoice.id, at)
        return invoice

    def _make_lines(self, inv: Invoice) -> list[Line]:
        plan = self.subscriptions.get(inv.customer)
        return make_lines(inv, self.products, self.price_id, plan[2] if plan else None)

    def _changed_invoice(self, inv: Invoice, at: int, *types: str) -> None:
        inv.cache = None
        if not self.keeps(at):
            return
        snapshot = self._invoice_at(inv, at)
        for type_ in types:
            self.emit(type_, snapshot, inv.id, at)

        def previous() -> Json:
            # every change is a transition at ``at``: the invoice a second earlier is "before"
            return INVOICE.previous(invoice_values(inv, self.account, at - 1),
                                    invoice_values(inv, self.account, at))

        self.emit("invoice.updated", snapshot, inv.id, at, previous=previous)

    def _invoice_at(self, inv: Invoice, at: int) -> Callable[[], bytes]:
        """The invoice as of a moment, rendered once, when an event first needs it."""
        made: list[bytes] = []

        def render() -> bytes:
            if not made:
                made.append(invoice_bytes(inv, self.account, at))
            return made[0]

        return render

    def finalize(self, inv: Invoice, at: int) -> None:
        customer = self.customers.get(inv.customer)
        if customer is not None:
            inv.number = f"{customer.invoice_prefix}-{customer.next_invoice_sequence:04d}"
            customer.next_invoice_sequence += 1
            customer.cache = None
        inv.finalized_at = at
        self._changed_invoice(inv, at, "invoice.finalized")

    def attempt(self, inv: Invoice, at: int, rng: random.Random, succeed: bool) -> Charge:
        """Charge the invoice's customer once; success pays the invoice."""
        pi = inv.payment_intent
        if pi is None:
            pi = self._new_payment_intent(inv.customer, inv.currency, at,
                                          f"Invoice {inv.number}", invoice=inv)
            inv.payment_intent = pi
        charge = self._charge(pi, at, rng, succeed)
        inv.attempts.append(at)
        if succeed:
            payment = InvoicePayment(
                id=self.ids.stripe("inpay", "invoice_payment", 24),
                seq=self.invoice_payments.next_seq(),
                created=at,
                invoice=inv,
                payment_intent=pi.id,
                paid_at=at,
            )
            self.invoice_payments.add(payment)
            inv.payments.append(payment.id)
            inv.paid_at = at
            if self.keeps(at):
                self.emit("invoice_payment.paid", partial(invoice_payment_bytes, payment),
                          payment.id, at)
            self._changed_invoice(inv, at, "invoice.paid", "invoice.payment_succeeded")
        else:
            self._changed_invoice(inv, at, "invoice.payment_failed")
        return charge

    def void(self, inv: Invoice, at: int) -> None:
        inv.voided_at = at
        self._changed_invoice(inv, at, "invoice.voided")

    def mark_uncollectible(self, inv: Invoice, at: int) -> None:
        inv.marked_uncollectible_at = at
        self._changed_invoice(inv, at, "invoice.marked_uncollectible")

    def delete_draft(self, inv: Invoice, at: int) -> None:
        snapshot = invoice_bytes(inv, self.account, at)
        inv.live = False
        inv.cache = None
        self.invoices.changed()
        self.emit("invoice.deleted", snapshot, inv.id, at)

    # -- payments ----------------------------------------------------------------------------

    def _new_payment_intent(self, customer_id: str, currency: str, at: int,
                            description: str | None, invoice: Invoice | None = None,
                            amount: int = 0) -> PaymentIntent:
        customer = self.customers.get(customer_id)
        pi = PaymentIntent(
            id=self.ids.stripe("pi", "payment_intent", 24),
            seq=self.payment_intents.next_seq(),
            created=at,
            currency=currency,
            customer=customer_id,
            description=description,
            card=self.cards[customer_id],
            receipt_email=customer.email if customer else None,
            invoice=invoice,
            fixed_amount=amount,
        )
        self.payment_intents.add(pi)
        if self.keeps(at):
            self.emit("payment_intent.created", payment_intent_bytes(pi), pi.id, at)
        return pi

    def _charge(self, pi: PaymentIntent, at: int, rng: random.Random, succeed: bool) -> Charge:
        customer = self.customers.get(pi.customer)
        failure = None if succeed else DECLINES[rng.randrange(len(DECLINES))]
        charge = Charge(
            id=self.ids.stripe("ch", "charge", 24),
            seq=self.charges.next_seq(),
            created=at,
            payment_intent=pi,
            bill_to=customer.bill_to if customer else BillTo(None, None, None, None),
            succeeded=succeed,
            failure=failure,
        )
        self.charges.add(charge)
        pi.latest_charge = charge.id
        pi.status = "succeeded" if succeed else "requires_payment_method"
        pi.failure = failure
        pi.cache = None
        if self.keeps(at):
            kind = "succeeded" if succeed else "failed"
            # a charge never changes once made, so its event can render it later
            self.emit(f"charge.{kind}", partial(charge_bytes, charge, self.account), charge.id,
                      at)
            pi_kind = "succeeded" if succeed else "payment_failed"
            self.emit(f"payment_intent.{pi_kind}", payment_intent_bytes(pi), pi.id, at)
        return charge

    def one_off_payment(self, customer: Customer, at: int, rng: random.Random,
                        succeed: bool) -> PaymentIntent:
        """A payment outside any invoice (a checkout, a top-up)."""
        one_off = self.products[3:]
        product = one_off[rng.randrange(len(one_off))]
        currency = customer.currency or "usd"
        pi = self._new_payment_intent(customer.id, currency, at, product.name,
                                      amount=price_in(currency, product.usd_cents))
        if rng.random() < 0.05:
            pi.status = "canceled"
            pi.canceled_at = at + 60
            pi.cancellation_reason = "abandoned"
            pi.cache = None
            if self.keeps(at + 60):
                self.emit("payment_intent.canceled", payment_intent_bytes(pi), pi.id, at + 60)
        else:
            self._charge(pi, at + 2, rng, succeed)
        return pi

    # -- truth for tests ---------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        since = self.events_since()
        invoices = list(self.invoices)
        deleted = sum(1 for c in self.customers.all_records() if not c.live)
        return {
            "stripe.customers": len(self.customers),
            "stripe.customers.deleted": deleted,
            "stripe.invoices": len(invoices),
            "stripe.invoices.deleted": len(self.invoices.all_records()) - len(invoices),
            "stripe.line_items": sum(len(i.lines) for i in invoices),
            "stripe.charges": len(self.charges),
            "stripe.payment_intents": len(self.payment_intents),
            "stripe.invoice_payments": len(self.invoice_payments),
            "stripe.events": sum(1 for e in self.events if e.created >= since),
        }
