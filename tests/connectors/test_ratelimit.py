"""The token bucket, on a fake clock: bursts, steady rate, fairness under threads."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.connectors.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


@given(rate=st.floats(0.5, 500), burst=st.integers(1, 50), n=st.integers(1, 400))
def test_n_requests_take_at_least_the_time_the_rate_allows(rate: float, burst: int, n: int) -> None:
    t = FakeTime()
    limiter = RateLimiter(rate, burst, clock=t.clock, sleep=t.sleep)
    for _ in range(n):
        limiter.acquire()
    # The first `burst` are free; every further one costs 1/rate seconds.
    expected = max(0, n - burst) / rate
    assert t.now >= expected - 1e-6
    assert t.now <= expected + 1.0 / rate + 1e-6


def test_threads_share_one_budget() -> None:
    t = FakeTime()
    limiter = RateLimiter(10, 1, clock=t.clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            w = limiter.acquire()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # Nobody advanced the clock, so 20 reservations queue up 0.1 s apart.
    assert sorted(round(w, 6) for w in waits) == [round(i / 10, 6) for i in range(20)]
