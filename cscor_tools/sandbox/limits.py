"""Per-provider rate limits: token buckets, as the providers describe their own limits.

A bucket holds ``burst`` tokens and refills at ``rate`` per second; a request takes one or is
refused with how long until the next token. Time comes from an injectable monotonic clock, so
the buckets can be tested without sleeping.

Resend describes its limit in ``ratelimit-*`` headers on every response, limited or not. With no
Resend limit configured, the headers describe Resend's documented default instead, from a
bucket nothing takes from: the sandbox refuses only what a configured limit refuses.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cscor_tools.sandbox.config import Knobs

Clock = Callable[[], float]

#: Resend's documented default limit: 2 requests per second per team
RESEND_DEFAULT_RATE = 2.0
#: providers that describe their limit on every response, with the limit they document
DESCRIBED_DEFAULTS: dict[str, float] = {"resend": RESEND_DEFAULT_RATE}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: seconds until a refused request would be allowed
    retry_after: float
    limit: int
    remaining: int
    #: seconds until the bucket is full again
    reset: float


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self, cost: float = 1.0) -> Decision:
        """Take ``cost`` tokens if there are enough; ``cost=0`` only looks."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            allowed = self._tokens >= cost
            if allowed:
                self._tokens -= cost
            missing = max(0.0, max(cost, 1.0) - self._tokens)
            return Decision(
                allowed=allowed,
                retry_after=0.0 if allowed and cost else missing / self.rate,
                limit=self.burst,
                remaining=max(0, math.floor(self._tokens)),
                reset=(self.burst - self._tokens) / self.rate,
            )


class RateLimiter:
    """One bucket per provider (and per method where a provider limits methods apart)."""

    def __init__(self, knobs: Knobs, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        for provider, rps in knobs.rate_limit.items():
            if rps is not None:
                self._buckets[provider] = TokenBucket(rps, knobs.burst_for(provider), clock)
        self._methods: dict[str, TokenBucket] = {}
        # described, never taken from: their headers always show a full allowance
        self._described = {
            provider: TokenBucket(rps, max(1, math.floor(rps)), clock)
            for provider, rps in DESCRIBED_DEFAULTS.items()
            if provider not in self._buckets
        }

    def limits(self, provider: str) -> bool:
        """Whether ``provider`` has a limit to describe: an enforced one, or its documented
        default (Resend's, described on every response but never enforced)."""
        return provider in self._buckets or provider in self._described

    def peek(self, provider: str) -> Decision:
        """The provider bucket's state, taking nothing (for Resend's ``ratelimit-*`` headers)."""
        bucket = self._buckets.get(provider) or self._described[provider]
        return bucket.take(cost=0.0)

    def take(self, provider: str, method: str | None = None,
             per_minute: float | None = None, burst: int = 1) -> Decision | None:
        """None when nothing limits this request; otherwise the bucket's decision.

        ``per_minute`` adds a bucket for one method (Slack's per-method tiers), holding
        ``burst`` calls.
        """
        decision = None
        if method is not None and per_minute is not None:
            bucket = self._methods.get(method)
            if bucket is None or bucket.rate != per_minute / 60.0:
                bucket = self._methods[method] = TokenBucket(per_minute / 60.0, burst,
                                                             self._clock)
            decision = bucket.take()
            if not decision.allowed:
                return decision
        bucket = self._buckets.get(provider)
        return bucket.take() if bucket is not None else decision
