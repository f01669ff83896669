"""The shapes of the Stripe objects the normalizer reads, after Stripe's API reference.

Each field is one :mod:`~cscor_tools.connectors.normalize` reads, typed as Stripe documents
it (a time is an integer of Unix seconds, an amount an integer of minor units, an expandable
reference an id or an expanded object). Either invoice layout (before and after
2025-03-31.basil) passes: a field one layout lacks is simply absent.
"""

from __future__ import annotations

from cscor_tools.connectors.shapes import (
    ID,
    Field,
    Shape,
    array,
    boolean,
    integer,
    obj,
    text,
    unix_time,
)

#: an expandable field: an id, or the object expanded in its place
REF = Field((str, dict), shape=Shape({"id": text()}))
#: a time: Unix seconds
TIME = unix_time()

ADDRESS = obj(Shape({k: text() for k in ("line1", "line2", "city", "postal_code", "state",
                                         "country")}))

#: what every object we read carries
_OBJECT = Shape({
    "id": ID,
    "object": text(),
    "created": unix_time(required=True, nullable=False),
    "livemode": boolean(),
    "deleted": boolean(),
    "metadata": obj(),
})

CUSTOMER = _OBJECT.extend(
    name=text(), email=text(), phone=text(), business_name=text(), individual_name=text(),
    address=ADDRESS, currency=text(), balance=integer(), description=text(),
    tax_exempt=text(), preferred_locales=array(text(nullable=False)), invoice_prefix=text(),
    delinquent=boolean(),
    shipping=obj(Shape({"address": ADDRESS, "name": text(), "phone": text()})),
)

_AMOUNT = obj(Shape({"amount": integer()}))

LINE = Shape({
    "id": ID,
    "livemode": boolean(),
    "description": text(),
    "amount": integer(),
    "currency": text(),
    "quantity": integer(),
    "pricing": obj(Shape({"unit_amount_decimal": text()})),
    "price": obj(Shape({"unit_amount_decimal": text(), "unit_amount": integer()})),
    "period": obj(Shape({"start": TIME, "end": TIME})),
    "parent": obj(Shape({"type": text()})),
    "proration": boolean(),
})

_PAYMENT = obj(Shape({"type": text(), "payment_intent": REF, "charge": REF}))

INVOICE = _OBJECT.extend(
    customer=REF,
    **{k: text() for k in ("number", "status", "currency", "customer_name", "customer_email",
                           "description", "hosted_invoice_url")},
    **{k: integer() for k in ("subtotal", "total", "amount_due", "amount_paid",
                              "amount_remaining", "tax", "total_excluding_tax")},
    total_taxes=array(_AMOUNT), total_tax_amounts=array(_AMOUNT),
    status_transitions=obj(Shape({"finalized_at": TIME, "paid_at": TIME})),
    due_date=TIME, period_start=TIME, period_end=TIME,
    parent=obj(Shape({"subscription_details": obj(Shape({"subscription": REF}))})),
    subscription=REF, charge=REF, payment_intent=REF,
    lines=obj(Shape({"data": array(obj(LINE, nullable=False)), "has_more": boolean()})),
    payments=obj(Shape({"data": array(obj(Shape({"payment": _PAYMENT}), nullable=False))})),
)

CHARGE = _OBJECT.extend(
    customer=REF, invoice=REF, payment_intent=REF,
    **{k: text() for k in ("status", "currency", "receipt_email", "description",
                           "failure_code")},
    amount=integer(), amount_refunded=integer(),
    payment_method_details=obj(Shape({
        "type": text(),
        "card": obj(Shape({"brand": text(), "last4": text(), "country": text()})),
    })),
)

PAYMENT_INTENT = _OBJECT.extend(
    customer=REF, invoice=REF,
    **{k: text() for k in ("status", "currency", "receipt_email", "description")},
    amount=integer(),
    last_payment_error=obj(Shape({"code": text()})),
)

INVOICE_PAYMENT = Shape({"id": ID, "invoice": REF, "payment": _PAYMENT})

#: a deletion stub: ``{id, object, deleted: true}`` and nothing else
STUB = Shape({"id": ID, "deleted": boolean()})

EVENT = Shape({
    "id": ID,
    "type": text(required=True, nullable=False),
    "created": unix_time(required=True, nullable=False),
    "api_version": text(),
    "data": obj(Shape({"object": obj(required=True, nullable=False)}), required=True,
                nullable=False),
})
