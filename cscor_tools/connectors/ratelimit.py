"""A token-bucket rate limiter shared by every concurrent request of one provider in a run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: a refusal for rate multiplies the rate by this
CUT = 0.7
#: refusals this soon after a cut were caused by requests sent before it: they cut no further
CUT_INTERVAL_S = 1.0
#: once no refusal came for QUIET_S, the rate climbs back by this share of the ceiling a second
RECOVERY_PER_S = 0.05
#: refusals keep coming while the rate is still too high: recover only after a quiet spell, or
#: recovery and cuts would settle on a rate the provider keeps refusing
QUIET_S = 2.0
#: the rate never falls below this share of the ceiling
FLOOR = 0.02


class RateLimiter:
    """Grants at most ``rate`` requests per second on average, ``burst`` at once.

    Callers reserve a token under the lock and sleep outside it, so waiting threads are served
    in the order they asked and the lock is never held while sleeping. ``pause`` makes every
    caller wait: when a provider answers 429 with Retry-After, all threads back off, not just
    the one that got the answer.

    The configured rate is a ceiling, not a promise: an account may be allowed less than we
    were told (Stripe gives test mode a quarter of live mode's rate, a key may share its
    account's budget with other integrations). Each refusal for rate (``throttle``) cuts the
    rate by ``CUT``; once refusals stop, every second gives back ``RECOVERY_PER_S`` of the
    ceiling (additive increase, multiplicative decrease). Without it, every pause would end with the
    workers sending at the configured rate again, straight into the next round of 429s, until
    their retries run out.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.ceiling = float(rate)
        self.rate = self.ceiling
        self.lowest_rate = self.ceiling  # how far refusals pushed the rate down (for callers)
        self.max_burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.max_burst)
        self._stamp = clock()
        self._paused_until = 0.0
        self._cut_at: float | None = None
        self._refused_at: float | None = None
        self._recovered_at = self._stamp
        self.waited = 0.0  # total seconds callers spent waiting, for run summaries

    @property
    def burst(self) -> int:
        """How many may go at once now: the configured burst, shrunk with the rate."""
        return max(1, int(self.max_burst * self.rate / self.ceiling))

    def acquire(self) -> float:
        """Take one token, waiting as needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._recover(now)
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = max(-self._tokens / self.rate, self._paused_until - now, 0.0)
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def set_ceiling(self, rate: float, burst: int | None = None) -> None:
        """Move the configured rate to ``rate`` (a provider stated its real limit), and the
        burst to ``burst`` (default: one second's worth).

        A cut made by refusals carries over as a share: a rate at 70% of the old ceiling
        stays at 70% of the new one, so learning the limit never undoes what 429s taught.
        """
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            fraction = self.rate / self.ceiling
            self.ceiling = float(rate)
            self.rate = self.ceiling * fraction
            self.lowest_rate = min(self.lowest_rate, self.rate)
            self.max_burst = max(1, int(rate) if burst is None else int(burst))
            self._tokens = min(self._tokens, float(self.burst))

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (a provider asked us to back off)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            # Spend the bucket too: after the pause, resume at the steady rate, not a burst.
            self._tokens = min(self._tokens, 0.0)

    def throttle(self) -> bool:
        """The provider refused a request for exceeding its rate: send slower from now on.

        Returns whether the rate was cut (False: a cut was just made, or the floor reached).
        """
        with self._lock:
            now = self._clock()
            self._recover(now)
            self._refused_at = now
            if self._cut_at is not None and now - self._cut_at < CUT_INTERVAL_S:
                return False
            lowered = max(self.ceiling * FLOOR, self.rate * CUT)
            if lowered >= self.rate:
                return False
            self.rate = lowered
            self.lowest_rate = min(self.lowest_rate, lowered)
            self._cut_at = now
            self._tokens = min(self._tokens, float(self.burst))
            return True

    def _recover(self, now: float) -> None:
        if self.rate < self.ceiling and self._refused_at is not None:
            since = max(self._recovered_at, self._refused_at + QUIET_S)
            if now > since:
                gained = (now - since) * self.ceiling * RECOVERY_PER_S
                self.rate = min(self.ceiling, self.rate + gained)
        self._recovered_at = now
