"""Renders Stripe records to the bytes the API sends, through the templates of
``stripe_shapes``; an invoice can also be rendered as it was at a past moment, for events."""

from __future__ import annotations

from typing import Any

from cscor_tools.sandbox.ids import derived, derived_digits
from cscor_tools.sandbox.stripe_records import (
    Account,
    Charge,
    Customer,
    Event,
    Invoice,
    InvoicePayment,
    Json,
    Line,
    PaymentIntent,
)
from cscor_tools.sandbox.stripe_shapes import (
    CHARGE,
    CUSTOMER,
    INVOICE,
    INVOICE_PAYMENT,
    LINE_ITEM,
    LINE_SUBSCRIPTION,
    PAYMENT_INTENT,
)
from cscor_tools.sandbox.template import Raw, dumps


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


def diff(before: Any, after: Any) -> Any:
    """What ``previous_attributes`` holds: the old values of what changed, nested as needed."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                b, a = before.get(key), after.get(key)
                out[key] = diff(b, a) if isinstance(b, dict) and isinstance(a, dict) else b
        return out
    return before
