"""The sandbox's own Stripe account, as ``GET /v1/account`` answers it.

Keys and nesting are those of the ``account`` example in ``shared/specs/stripe/fixtures3.json``
(a standard account, not yet verified); the values are the sandbox account's name, country,
statement descriptor and id, and the example's own values everywhere else, so nothing is added
that the example does not carry.
"""

from __future__ import annotations

from typing import Any

from cscor_tools.sandbox.stripe_records import Account

_REQUIRED = [
    "business_profile.product_description",
    "business_profile.support_phone",
    "business_profile.url",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def _address() -> dict[str, Any]:
    return {k: None for k in ("city", "country", "line1", "line2", "postal_code", "state")}


def account_json(account: Account, created: int) -> dict[str, Any]:
    descriptor = account.statement_descriptor
    return {
        "id": account.id,
        "object": "account",
        "business_profile": {
            "annual_revenue": {"amount": None, "currency": None, "fiscal_year_end": None},
            "estimated_worker_count": None,
            "mcc": None,
            "minority_owned_business_designation": None,
            "name": account.name,
            "product_description": None,
            "support_address": _address(),
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": False,
        "controller": {"type": "account"},
        "country": account.country,
        "created": created,
        "default_currency": "usd",
        "details_submitted": False,
        "email": None,
        "external_accounts": {"object": "list", "data": [], "has_more": False,
                              "url": f"/v1/accounts/{account.id}/external_accounts"},
        "future_requirements": {
            "alternatives": [], "current_deadline": None, "currently_due": [],
            "disabled_reason": None, "errors": [], "eventually_due": [], "past_due": [],
            "pending_verification": [],
        },
        "metadata": {},
        "payouts_enabled": False,
        "requirements": {
            "alternatives": [], "current_deadline": None, "currently_due": list(_REQUIRED),
            "disabled_reason": "requirements.past_due", "errors": [],
            "eventually_due": list(_REQUIRED), "past_due": [], "pending_verification": [],
        },
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {"icon": None, "logo": None, "primary_color": None,
                         "secondary_color": None},
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": True, "cvc_failure": True},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": account.name, "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": None},
            "payments": {
                "statement_descriptor": descriptor,
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {"debit_negative_balances": True,
                        "schedule": {"delay_days": 2, "interval": "daily"},
                        "statement_descriptor": None},
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }
