"""Stripe's objects as JSON templates: every key and constant written once, slots for the rest.

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
API does (the templates order keys that way when compiled).
"""

from __future__ import annotations

from typing import Any

from cscor_tools.sandbox.template import Slot, Template


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
