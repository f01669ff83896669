"""The Stripe connector: its settings, its API version, its streams and what a run recorded.

Streams and entities: ``customers`` → clients (+ contacts, see ``normalize.customer_person``),
``invoices`` → invoices + invoice_lines (+ the invoice a payment paid), ``charges`` and
``payment_intents`` → payments, ``events`` → changes and deletions of all of them.

API version. Every request sends ``Stripe-Version`` = :data:`API_VERSION`, a literal: the
version ``stripe`` 16.1.0 pins, so the layouts we read are the ones its typed classes
describe. It is not read from ``stripe.api_version``: upgrading the package would then change
the layouts we ask for without anyone deciding it. ``tests/connectors/stripe/test_api_version``
fails when the installed SDK pins another version, so an upgrade is a deliberate change
(normalize, sandbox, cassettes, then this constant). Every row records the version it was
read under (event payloads: their event's).

Rate. Stripe's documented default is 100 read requests per second in live mode and 25 in
test mode. The default here is the live 100 — syncs mostly run against live accounts, and a
test-mode account that gets 429s is slowed by the shared limiter, which lowers its rate on
each refusal (``RateLimiter.throttle``), not failed — and
``rate_share`` in cscor.toml divides it (``[connectors.stripe] rate_limit = 25`` for test
mode). Eight workers keep about six requests in flight at 50 ms of latency, which is what
100 requests per second needs.

SDK or httpx. Measured on this project's 2-core machine (``python -m benchmarks stripe_sync``
repeats the measurement on every run): turning one 100-invoice list page (Stripe's example
invoice, ~5 KB each) into ``StripeObject``s through ``StripeClient.v1.invoices.list`` over a
canned HTTP client costs 176 ms of CPU, against 3.3 ms for ``json.loads`` of the same bytes —
53× more, paid per page under one GIL: at 100 pages per second the SDK alone would need about
18 cores. The SDK also keeps its own retry policy (it does not retry a plain 429) beside ours
and its own connection pool beside the shared rate limiter. So every request here — list
pages, lines, event checks, all on or next to the hot path — goes through our ``HttpClient``
over httpx and plain JSON. The connector does not import ``stripe``: its typed resource
classes are the reference for the pinned version's object layouts, and the benchmark measures
it. A ``StripeClient`` would earn its place for writes or for endpoints we do not model; this
connector only reads, all of it on the hot path.
"""

from __future__ import annotations

from typing import Any, ClassVar

from cscor_tools.connectors.base import Connector, ConnectorSettings
from cscor_tools.connectors.stripe.client import StripeHttpClient
from cscor_tools.connectors.stripe.events import EventsStream
from cscor_tools.connectors.stripe.streams import (
    ChargesStream,
    CustomersStream,
    InvoicesStream,
    PaymentIntentsStream,
)
from cscor_tools.errors import ConfigError

#: the API version we send and read. A literal, not ``stripe.api_version``: a ``stripe``
#: upgrade must not silently change the layouts we ask for (the test_api_version test fails
#: until this, normalize and the cassettes are updated on purpose). Equal to stripe 16.1.0's.
API_VERSION = "2026-10-28.endive"


def key_mode(secret: str) -> str:
    """``live``, ``test`` or ``unknown`` — the only thing about a key we ever record."""
    for mode in ("live", "test"):
        if secret.startswith((f"sk_{mode}_", f"rk_{mode}_")):
            return mode
    return "unknown"


class StripeConnector(Connector):
    """Customers, invoices, payments and their changes from one Stripe account."""

    name = "stripe"
    title = "Stripe"
    credential_env = "STRIPE_API_KEY"
    base_url_env = "STRIPE_API_BASE"
    default_base_url = "https://api.stripe.com"
    default_rate_limit = 100.0
    default_burst = 10
    default_concurrency = 8
    http_client_class = StripeHttpClient
    sandbox_provider = "stripe"
    # List streams first: the events stream plans last, knowing which kinds they rescan.
    stream_classes: ClassVar = (
        CustomersStream,
        InvoicesStream,
        ChargesStream,
        PaymentIntentsStream,
        EventsStream,
    )

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        secret = settings.credential.reveal() if settings.credential else ""
        if secret.startswith("pk_"):
            raise ConfigError(
                f"Stripe: {settings.credential_env or self.credential_env} holds a publishable "
                "key, which cannot read data; use a secret (sk_) or restricted (rk_) key"
            )
        self.api_version = API_VERSION
        self._mode = key_mode(secret)

    def http_headers(self) -> dict[str, str]:
        return {"Stripe-Version": self.api_version}

    # -- the run log ----------------------------------------------------------------------------

    def run_details(self) -> dict[str, Any]:
        return {"base_url": self.settings.base_url, "api_version": self.api_version,
                "key_mode": self._mode}
