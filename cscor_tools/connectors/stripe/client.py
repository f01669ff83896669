"""Stripe over our one HTTP discipline: its error bodies, its list envelope and its clock.

Every request goes through :class:`~cscor_tools.connectors.http.HttpClient` (shared rate
limiter, retries on transient errors only, one error mapping); this module adds what is
Stripe's own: ``Stripe-Should-Retry``, redaction of the partial key Stripe echoes in some error
messages (and of payment client secrets), which read permission a 403 lacks, what a 404 of a
whole endpoint means, and the bracketed ``created`` filter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from cscor_tools.connectors.http import HttpClient, path_only
from cscor_tools.errors import (
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)

#: how Stripe's messages show a key ("Invalid API Key provided: sk_test_****abcd")
_KEY = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9*]*|\b(?:sk|rk|pk)_[A-Za-z0-9*]{4,}")
#: a PaymentIntent's or SetupIntent's ``client_secret`` (``pi_…_secret_…``): whoever holds it
#: can confirm that payment from a browser, so it is as sensitive as a key
_CLIENT_SECRET = re.compile(r"\b[a-z]{2,5}_[A-Za-z0-9]{8,}_secret_[A-Za-z0-9]{8,}")

#: the restricted-key permission each list endpoint needs, for 403 messages that say the fix
PERMISSIONS = {
    "customers": "Customers",
    "invoices": "Invoices",
    "charges": "Charges",
    "payment_intents": "PaymentIntents",
    "events": "Events",
    "invoice_payments": "Invoices",
}

Params = Sequence[tuple[str, str | int]]


def redact_keys(text: str) -> str:
    """Stripe echoes part of a refused key in its message; we never repeat any of it."""
    return _KEY.sub("[key redacted]", text)


def redact_secrets(text: str) -> str:
    """Keys and client secrets, wherever they appear (messages, recorded cassettes)."""
    return _CLIENT_SECRET.sub("[client secret redacted]", redact_keys(text))


class StripeHttpClient(HttpClient):
    """Reads Stripe's error object and honours its ``Stripe-Should-Retry`` advice."""

    def error_details(self, body: Any) -> tuple[str, str | None]:
        message, code = super().error_details(body)
        return redact_secrets(message), code

    def shown_base_url(self) -> str:
        """The base URL fit for a message: no user info, query or fragment."""
        url = httpx.URL(self.base_url).copy_with(userinfo=b"", query=None, fragment=None)
        return str(url).rstrip("/")

    def raise_for_status(self, response: httpx.Response, body: Any, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        advice = response.headers.get("stripe-should-retry")
        if advice == "true" and status not in (401, 403, 404):
            # Stripe says the same request may succeed (a lock timeout, a 409): transient.
            message, code = self.error_details(body)
            raise UnavailableError(self.provider, f"retryable error: {message}", status=status,
                                   code=code, path=path_only(path),
                                   retry_after=self.retry_after(response))
        if status == 403:
            message, code = self.error_details(body)
            resource = path.strip("/").split("/")
            needed = PERMISSIONS.get(resource[1] if len(resource) > 1 else "", "")
            hint = (f" Give the key in {self.credential_env} the '{needed}: Read' permission."
                    if needed else self.credential_hint())
            raise PermissionDeniedError(
                self.provider, f"permission denied: {message}.{hint}", status=status,
                code=code, path=path_only(path),
            )
        if status == 404:
            message, code = self.error_details(body)
            if code != "resource_missing":
                # Not "no such customer" (an object gone: callers handle it) but no such
                # endpoint: the whole stream cannot be read, and the user has something to fix.
                raise NotFoundError(
                    self.provider,
                    f"{self.shown_base_url()} does not serve this endpoint: "
                    f"{message.rstrip('.')}. "
                    "Check that --api-base (STRIPE_API_BASE, or base_url in cscor.toml) names "
                    "Stripe's API or a Stripe-compatible server; if it does, this account "
                    "may not have access to this API.",
                    status=status, code=code, path=path_only(path),
                )
        super().raise_for_status(response, body, path)


def created_params(gte: int | None = None, lt: int | None = None,
                   lte: int | None = None) -> list[tuple[str, str | int]]:
    """Stripe's bracketed ``created`` filter."""
    out: list[tuple[str, str | int]] = []
    if gte is not None:
        out.append(("created[gte]", gte))
    if lt is not None:
        out.append(("created[lt]", lt))
    if lte is not None:
        out.append(("created[lte]", lte))
    return out
