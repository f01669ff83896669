"""Routes a request to its provider and decides how the answer goes out: rate limits, faults
and latency, all before a byte is written.

Stripe lives under ``/v1/``, Slack under ``/api/``, the admin endpoints under ``/_sandbox/``,
and Resend at the root, as each provider's own clients expect with only the host changed.
The result is a :class:`Delivery`: the response, how long to wait before sending it, and
whether to break the transport on purpose. The server carries it out.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cscor_tools.sandbox.admin import handle_admin
from cscor_tools.sandbox.config import CREDENTIALS, FaultKind, Knobs
from cscor_tools.sandbox.faults import FaultPlan, signature
from cscor_tools.sandbox.limits import RateLimiter
from cscor_tools.sandbox.resend_api import ResendAPI
from cscor_tools.sandbox.slack_api import SlackAPI
from cscor_tools.sandbox.stats import Stats
from cscor_tools.sandbox.stripe_api import StripeAPI
from cscor_tools.sandbox.wire import Request, Response
from cscor_tools.sandbox.world import World

ADMIN_PREFIX = "/_sandbox/"
_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1>"
    b"</center>\r\n</body>\r\n</html>\r\n"
)
_GATEWAY_TEXT = {502: b"502 Bad Gateway", 503: b"503 Service Temporarily Unavailable"}
#: what a transport fault does to the response instead of replacing it
TRANSPORT_FAULTS = frozenset({FaultKind.RESET, FaultKind.TRUNCATED, FaultKind.SLOW})


class ProviderAPI(Protocol):
    name: str

    def handle(self, req: Request) -> Response: ...

    def rate_limited(self, req: Request, retry_after: float) -> Response: ...

    def server_error(self, req: Request, status: int) -> Response: ...


@dataclass
class Delivery:
    response: Response
    #: seconds to wait before the first byte
    delay: float = 0.0
    #: reset, truncate or slow: break the transport on purpose
    transport_fault: FaultKind | None = None
    slow_seconds: float = 0.0


def provider_of(path: str) -> str | None:
    if path.startswith(ADMIN_PREFIX):
        return None
    if path == "/v1" or path.startswith("/v1/"):
        return "stripe"
    if path.startswith("/api/"):
        return "slack"
    return "resend"


class SandboxApp:
    """The server's brain, free of sockets (tests drive it with plain requests)."""

    def __init__(self, world: World, knobs: Knobs,
                 credentials: Mapping[str, str] = CREDENTIALS) -> None:
        self.world = world
        self.stats = Stats()
        self._knobs_lock = threading.Lock()
        self.apis: dict[str, ProviderAPI] = {
            "stripe": StripeAPI(world.stripe, credentials["stripe"]),
            "resend": ResendAPI(world.resend, credentials["resend"]),
            "slack": SlackAPI(world.slack, credentials["slack"], lambda: self.knobs),
        }
        self.configure(knobs)

    def configure(self, knobs: Knobs) -> None:
        """Swap latency, limits and faults at once; buckets and fault counts start afresh."""
        with self._knobs_lock:
            self.knobs = knobs
            self.limiter = RateLimiter(knobs)
            self.faults = FaultPlan(self.world.config.seed, knobs.fault_rate, knobs.faults)

    def dispatch(self, req: Request) -> Delivery:
        provider = provider_of(req.path)
        if provider is None:
            return Delivery(handle_admin(self, req))
        knobs, limiter, faults = self.knobs, self.limiter, self.faults
        api = self.apis[provider]
        self.stats.request(provider)
        fault = faults.decide(signature(provider, req.method, req.path, req.query, req.body))
        response = self._limited(provider, api, req, limiter, knobs)
        if response is not None:
            fault = None  # refused by the limit: that is this request's answer
        elif fault is not None and fault not in TRANSPORT_FAULTS:
            self.stats.fault(provider, fault.value)
            response = self._fault_response(api, req, fault)
            fault = None
        if response is None:
            with self.world.lock:
                response = api.handle(req)
        self._add_rate_headers(provider, response, limiter)
        if fault is not FaultKind.RESET:  # a reset connection carries no status at all
            self.stats.response(provider, response.status, response.objects)
        if fault is not None:
            self.stats.fault(provider, fault.value)
        delay = (knobs.latency_ms + knobs.per_object_latency_ms * response.objects) / 1000.0
        return Delivery(response, delay, fault, knobs.slow_body_ms / 1000.0)

    def _limited(self, provider: str, api: ProviderAPI, req: Request, limiter: RateLimiter,
                 knobs: Knobs) -> Response | None:
        method, per_minute, burst = None, None, 1
        if provider == "slack":  # Slack limits each method apart, by tier
            method, per_minute, burst = SlackAPI.method_budget(req, knobs)
        decision = limiter.take(provider, method, per_minute, burst)
        if decision is None or decision.allowed:
            return None
        self.stats.rate_limited(provider)
        return api.rate_limited(req, decision.retry_after)

    @staticmethod
    def _fault_response(api: ProviderAPI, req: Request, fault: FaultKind) -> Response:
        if fault is FaultKind.RATE_LIMITED:
            return api.rate_limited(req, 1.0)
        status = int(fault.value)
        if status in _GATEWAY_TEXT:
            # a proxy in front of the provider answers these, in HTML, whatever the API
            page = _GATEWAY_PAGE.replace(b"{status}", _GATEWAY_TEXT[status])
            return Response(status, page, content_type="text/html")
        return api.server_error(req, status)

    def _add_rate_headers(self, provider: str, response: Response, limiter: RateLimiter) -> None:
        """Resend describes its limit on every response (IETF draft ``ratelimit-*`` fields)."""
        if provider != "resend" or not limiter.limits("resend"):
            return
        state = limiter.peek("resend")
        response.headers += [
            ("ratelimit-limit", str(state.limit)),
            ("ratelimit-remaining", str(state.remaining)),
            ("ratelimit-reset", str(max(0, round(state.reset + 0.499)))),
        ]
        if response.status == 429:
            response.headers.append(("retry-after", str(max(1, round(state.retry_after + 0.499)))))
