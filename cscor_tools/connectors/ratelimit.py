"""A token-bucket rate limiter shared by every concurrent request of one provider in a run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Grants at most ``rate`` requests per second on average, ``burst`` at once.

    Callers reserve a token under the lock and sleep outside it, so waiting threads are served
    in the order they asked and the lock is never held while sleeping. ``pause`` makes every
    caller wait: when a provider answers 429 with Retry-After, all threads back off, not just
    the one that got the answer.
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
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._paused_until = 0.0
        self.waited = 0.0  # total seconds callers spent waiting, for run summaries

    def acquire(self) -> float:
        """Take one token, waiting as needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = max(-self._tokens / self.rate, self._paused_until - now, 0.0)
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (a provider asked us to back off)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            # Spend the bucket too: after the pause, resume at the steady rate, not a burst.
            self._tokens = min(self._tokens, 0.0)
