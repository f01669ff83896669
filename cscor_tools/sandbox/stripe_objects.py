"""Stripe's objects: the sandbox's compact records, and the JSON Stripe would send for them.

Key sets and value types follow the 2026 example objects in ``shared/specs/stripe/fixtures3.json``
(customer, invoice, line_item, charge, payment_intent, invoice_payment, event), with these
documented differences, each because the current API reference says otherwise:

- ``invoice.subscription`` is gone (API 2025-03-31.basil moved it to
  ``invoice.parent.subscription_details.subscription``; the fixture still carries the old key and
  the ``stripe`` package's ``Invoice`` class no longer declares it).
- ``invoice.payments`` and ``charge.refunds`` are *includable*: sent only when expanded
  (``expand[]=payments``; charges stopped embedding refunds in 2022-11-15).
- ``line_item.pricing.price_details`` and ``invoice_payment.payment.payment_intent`` are sent
  when their ``type`` says so; the fixture leaves them out.

Objects print with ``id`` and ``object`` first and the other keys in alphabetical order, as the
API does. A record caches its JSON bytes; whoever changes a record clears ``cache``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cscor_tools.sandbox.ids import derived, derived_digits
from cscor_tools.sandbox.template import Raw, Slot, Template

Json = dict[str, Any]


def dumps(obj: Any) -> bytes:
    """Compact, deterministic JSON (key order is the dict's, which we control)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


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


# -- shapes -----------------------------------------------------------------------------


def _s(*names: str) -> dict[str, Slot]:
    return {n: Slot(n) for n in names}


CUSTOMER = Template(
    {
        "object": "customer",
        **_s("id", "address", "balance", "created", "currency", "delinquent", "description",
             "email", "invoice_prefix", "metadata", "name", "next_invoice_sequence", "phone",
             "preferred_locales", "shipping", "tax_exempt"),
        "default_source": None,
        "discount": None,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": Slot("default_payment_method"),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "test_clock": None,
    }
)

_LINE_COMMON: dict[str, Any] = {
    "object": "line_item",
    **_s("id", "amount", "currency", "description", "invoice", "quantity", "quantity_decimal",
         "subscription", "subtotal"),
    "discount_amounts": [],
    "discountable": True,
    "discounts": [],
    "livemode": False,
    "metadata": {},
    "period": _s("end", "start"),
    "pretax_credit_amounts": [],
    "pricing": {
        "price_details": _s("price", "product"),
        "type": "price_details",
        "unit_amount_decimal": Slot("unit_amount_decimal"),
    },
    "taxes": [],
}
_NO_PRORATION = {"credited_items": None}
LINE_ITEM = Template(
    {
        **_LINE_COMMON,
        "parent": {
            "invoice_item_details": {
                "invoice_item": Slot("invoice_item"),
                "proration": False,
                "proration_details": _NO_PRORATION,
                "subscription": None,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
    }
)
LINE_SUBSCRIPTION = Template(
    {
        **_LINE_COMMON,
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": _NO_PRORATION,
                "subscription": Slot("subscription"),
                "subscription_item": Slot("subscription_item"),
            },
            "type": "subscription_item_details",
        },
    }
)

INVOICE = Template(
    {
        "object": "invoice",
        **_s("id", "account_country", "account_name", "amount_due", "amount_paid",
             "amount_remaining", "attempt_count", "attempted", "auto_advance",
             "automatically_finalizes_at", "billing_reason", "collection_method", "created",
             "currency", "customer", "customer_address", "customer_email", "customer_name",
             "customer_phone", "description", "due_date", "effective_at", "ending_balance",
             "hosted_invoice_url", "invoice_pdf", "lines", "metadata", "number", "parent",
             "period_end", "period_start", "status", "subtotal", "subtotal_excluding_tax",
             "total", "total_excluding_tax", "webhooks_delivered_at"),
        "account_tax_ids": None,
        "amount_overpaid": 0,
        "amount_shipping": 0,
        "application": None,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "custom_fields": None,
        "customer_account": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "discounts": [],
        "footer": None,
        "from_invoice": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": False,
        "next_payment_attempt": None,
        "on_behalf_of": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {
            "amount_tax_display": None,
            "pdf": {"page_size": "auto"},
            "template": None,
            "template_version": None,
        },
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status_transitions": _s("finalized_at", "marked_uncollectible_at", "paid_at",
                                 "voided_at"),
        "test_clock": None,
        "total_discount_amounts": [],
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
    }
)

CHARGE = Template(
    {
        "object": "charge",
        **_s("id", "amount", "amount_captured", "balance_transaction", "billing_details",
             "calculated_statement_descriptor", "captured", "created", "currency", "customer",
             "description", "failure_code", "failure_message", "metadata", "paid",
             "payment_intent", "payment_method", "receipt_email", "receipt_url", "status"),
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "fraud_details": {},
        "livemode": False,
        "on_behalf_of": None,
        "outcome": {
            **_s("advice_code", "network_status", "reason", "seller_message", "type"),
            "network_advice_code": None,
            "network_decline_code": None,
        },
        "payment_method_details": {
            "card": {
                **_s("amount_authorized", "authorization_code", "brand", "country",
                     "exp_month", "exp_year", "fingerprint", "funding", "last4",
                     "network_transaction_id"),
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": "pass",
                    "cvc_check": "pass",
                },
                "extended_authorization": {"status": "disabled"},
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": Slot("brand"),
                "network_token": {"used": False},
                "overcapture": {
                    "maximum_amount_capturable": Slot("amount"),
                    "status": "unavailable",
                },
                "regulated_status": "unregulated",
                "three_d_secure": None,
                "transaction_link_id": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_number": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
    }
)

PAYMENT_INTENT = Template(
    {
        "object": "payment_intent",
        **_s("id", "amount", "amount_received", "canceled_at", "cancellation_reason",
             "client_secret", "created", "currency", "customer", "description",
             "last_payment_error", "latest_charge", "metadata", "payment_method",
             "receipt_email", "status"),
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "customer_account": None,
        "excluded_payment_method_types": None,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
    }
)

INVOICE_PAYMENT = Template(
    {
        "object": "invoice_payment",
        **_s("id", "amount_paid", "amount_requested", "created", "currency", "invoice",
             "is_default", "status"),
        "livemode": False,
        "payment": {"payment_intent": Slot("payment_intent"), "type": "payment_intent"},
        "status_transitions": {"canceled_at": None, "paid_at": Slot("paid_at")},
    }
)


# -- rendering ------------------------------------------------------------------------------


def customer_bytes(c: Customer) -> bytes:
    return CUSTOMER.render({name: getattr(c, name) for name in CUSTOMER.slots})


def deleted_json(obj_id: str, kind: str) -> Json:
    return {"id": obj_id, "object": kind, "deleted": True}


def line_text(line: Line) -> str:
    """A line's JSON text, kept on the line: lines never change once their invoice exists."""
    if line.cache is None:
        line.cache = _render_line(line)
    return line.cache


def _render_line(line: Line) -> str:
    template = LINE_SUBSCRIPTION if line.subscription_item else LINE_ITEM
    amount = line.amount
    return template.render_text(
        {
            "id": line.id,
            "amount": amount,
            "currency": line.currency,
            "description": line.description,
            "invoice": line.invoice,
            "quantity": line.quantity,
            "quantity_decimal": str(line.quantity),
            "subscription": line.subscription,
            "subtotal": amount,
            "end": line.period_end,
            "start": line.period_start,
            "price": line.price,
            "product": line.product,
            "unit_amount_decimal": str(line.unit_amount),
            "invoice_item": None if line.subscription_item else f"ii_{derived(line.id, 'ii', 24)}",
            "subscription_item": line.subscription_item,
        }
    )


#: how many lines an invoice embeds; the rest are behind ``/v1/invoices/{id}/lines``
EMBEDDED_LINES = 10


def invoice_bytes(inv: Invoice, account: Account, at: int | None = None) -> bytes:
    """The invoice as it is now, or (``at``) as it was at a moment, for an event."""
    return INVOICE.render(invoice_values(inv, account, at))


def invoice_values(inv: Invoice, account: Account, at: int | None = None) -> dict[str, Any]:
    """The values of the invoice template's slots."""
    status = inv.status_at(at)
    total = inv.total
    finalized = status != "draft"

    def when(t: int | None) -> int | None:
        return t if t is not None and (at is None or t <= at) else None

    shown = inv.lines[:EMBEDDED_LINES]
    token = derived(inv.id, "hosted", 40)
    lines = (
        '{"object":"list","data":['
        + ",".join(line_text(line) for line in shown)
        + '],"has_more":'
        + ("true" if len(inv.lines) > len(shown) else "false")
        + f',"url":"/v1/invoices/{inv.id}/lines"}}'
    )
    parent: Json | None = None
    if inv.subscription:
        parent = {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": inv.subscription},
            "type": "subscription_details",
        }
    paid = total if status == "paid" else 0
    attempts = inv.attempt_count(at) if finalized else 0
    return {
        "id": inv.id,
        "account_country": account.country,
        "account_name": account.name,
        "amount_due": total,
        "amount_paid": paid,
        "amount_remaining": 0 if status in ("paid", "void") else total - paid,
        "attempt_count": attempts,
        "attempted": attempts > 0,
        "auto_advance": status in ("draft", "open"),
        # drafts with auto_advance finalize about an hour after creation
        "automatically_finalizes_at": None if finalized else inv.created + 3600,
        "billing_reason": inv.billing_reason,
        "collection_method": inv.collection_method,
        "created": inv.created,
        "currency": inv.currency,
        "customer": inv.customer,
        "customer_address": inv.bill_to.address,
        "customer_email": inv.bill_to.email,
        "customer_name": inv.bill_to.name,
        "customer_phone": inv.bill_to.phone,
        "description": inv.description,
        "due_date": inv.due_date,
        "effective_at": when(inv.finalized_at),
        "ending_balance": 0 if finalized else None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{account.id}/test_{token}?s=ap"
        if finalized else None,
        "invoice_pdf": f"https://pay.stripe.com/invoice/{account.id}/test_{token}/pdf?s=ap"
        if finalized else None,
        "lines": Raw(lines),
        "metadata": inv.metadata,
        "number": inv.number if finalized else None,
        "parent": parent,
        "period_end": inv.created,
        "period_start": inv.period_start,
        "status": status,
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "total": total,
        "total_excluding_tax": total,
        "webhooks_delivered_at": inv.created,
        "finalized_at": when(inv.finalized_at),
        "marked_uncollectible_at": when(inv.marked_uncollectible_at),
        "paid_at": when(inv.paid_at),
        "voided_at": when(inv.voided_at),
    }


def charge_bytes(ch: Charge, account: Account) -> bytes:
    code, decline, message = ch.failure or (None, None, None)
    ok = ch.succeeded
    pi = ch.payment_intent
    card = pi.card
    amount = pi.amount
    return CHARGE.render(
        {
            "id": ch.id,
            "amount": amount,
            "amount_captured": amount if ok else 0,
            "balance_transaction": f"txn_{derived(ch.id, 'txn', 24)}" if ok else None,
            "billing_details": ch.bill_to.billing_details(),
            "calculated_statement_descriptor": account.statement_descriptor,
            "captured": ok,
            "created": ch.created,
            "currency": pi.currency,
            "customer": pi.customer,
            "description": pi.description,
            "failure_code": code,
            "failure_message": message,
            "metadata": ch.metadata,
            "paid": ok,
            "payment_intent": pi.id,
            "payment_method": card.payment_method,
            "receipt_email": ch.bill_to.email,
            "receipt_url": "https://pay.stripe.com/receipts/payment/"
            + derived(ch.id, "receipt", 64) if ok else None,
            "status": "succeeded" if ok else "failed",
            "advice_code": None if ok else "try_again_later",
            "network_status": "approved_by_network" if ok else "declined_by_network",
            "reason": decline,
            "seller_message": "Payment complete." if ok
            else "The bank did not return any further details with this decline.",
            "type": "authorized" if ok else "issuer_declined",
            "amount_authorized": amount if ok else None,
            "authorization_code": derived_digits(ch.id, "auth", 6) if ok else None,
            "brand": card.brand,
            "country": card.country,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "fingerprint": card.fingerprint,
            "funding": card.funding,
            "last4": card.last4,
            "network_transaction_id": derived_digits(ch.id, "network", 15) if ok else None,
        }
    )


def payment_intent_bytes(pi: PaymentIntent) -> bytes:
    error: Json | None = None
    if pi.failure:
        code, decline, message = pi.failure
        error = {
            "charge": pi.latest_charge,
            "code": code,
            "decline_code": decline,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "payment_method": {"id": pi.card.payment_method, "object": "payment_method"},
            "type": "card_error",
        }
    return PAYMENT_INTENT.render(
        {
            "id": pi.id,
            "amount": pi.amount,
            "amount_received": pi.amount if pi.status == "succeeded" else 0,
            "canceled_at": pi.canceled_at,
            "cancellation_reason": pi.cancellation_reason,
            "client_secret": f"{pi.id}_secret_{derived(pi.id, 'secret', 25)}",
            "created": pi.created,
            "currency": pi.currency,
            "customer": pi.customer,
            "description": pi.description,
            "last_payment_error": error,
            "latest_charge": pi.latest_charge,
            "metadata": pi.metadata,
            "payment_method": pi.card.payment_method if pi.status != "canceled" else None,
            "receipt_email": pi.receipt_email,
            "status": pi.status,
        }
    )


def invoice_payment_bytes(ip: InvoicePayment) -> bytes:
    amount = ip.invoice.total
    return INVOICE_PAYMENT.render(
        {
            "id": ip.id,
            "amount_paid": amount if ip.status == "paid" else None,
            "amount_requested": amount,
            "created": ip.created,
            "currency": ip.invoice.currency,
            "invoice": ip.invoice.id,
            "is_default": ip.is_default,
            "status": ip.status,
            "payment_intent": ip.payment_intent,
            "paid_at": ip.paid_at,
        }
    )


def event_bytes(ev: Event) -> bytes:
    """Events are immutable: their bytes are assembled once around the snapshot."""
    if ev.object_json is None and ev.snapshot is not None:
        ev.object_json = ev.snapshot()
    previous = ev.previous_attributes
    if callable(previous):
        previous = ev.previous_attributes = previous()
    data = b'{"object":' + (ev.object_json or b"null")
    if previous is not None:
        data += b',"previous_attributes":' + dumps(previous)
    data += b"}"
    head = dumps({"id": ev.id, "object": "event", "api_version": ev.api_version,
                  "created": ev.created})
    tail = dumps(
        {
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": ev.request_id, "idempotency_key": None},
            "type": ev.type,
        }
    )
    return head[:-1] + b',"data":' + data + b"," + tail[1:]
