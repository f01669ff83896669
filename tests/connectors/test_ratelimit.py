"""The token bucket, on a fake clock: bursts, steady rate, fairness under threads, and how
refusals for rate slow it down and time brings it back."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.connectors.ratelimit import (
    CUT,
    CUT_INTERVAL_S,
    FLOOR,
    QUIET_S,
    RECOVERY_PER_S,
    RateLimiter,
)


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


def test_a_refusal_cuts_the_rate_once_per_interval_down_to_the_floor() -> None:
    t = FakeTime()
    limiter = RateLimiter(100, 10, clock=t.clock, sleep=t.sleep)
    assert limiter.throttle()
    assert limiter.rate == 100 * CUT
    # The other answers to requests sent before the cut say the same thing: no second cut.
    t.now += CUT_INTERVAL_S / 2
    assert not limiter.throttle()
    assert limiter.rate == 100 * CUT  # and no recovery while refusals keep coming
    t.now += CUT_INTERVAL_S
    assert limiter.throttle()
    assert limiter.rate == pytest.approx(100 * CUT * CUT)
    for _ in range(200):
        t.now += CUT_INTERVAL_S
        limiter.throttle()
    assert limiter.rate == limiter.lowest_rate == 100 * FLOOR
    assert not limiter.throttle()  # at the floor: nothing left to cut


def test_the_rate_climbs_back_while_no_refusal_comes_never_past_the_ceiling() -> None:
    t = FakeTime()
    limiter = RateLimiter(100, 10, clock=t.clock, sleep=t.sleep)
    limiter.throttle()
    cut = limiter.rate
    t.now += QUIET_S
    limiter.acquire()
    assert limiter.rate == cut  # a quiet spell first: refusals may still be on their way
    t.now += 2.0
    limiter.acquire()
    assert limiter.rate == pytest.approx(cut + 2.0 * 100 * RECOVERY_PER_S)
    t.now += 3600
    limiter.acquire()
    assert limiter.rate == 100 and limiter.burst == 10
    assert limiter.lowest_rate == cut


@given(cuts=st.integers(1, 8), n=st.integers(20, 200))
def test_after_cuts_requests_are_spaced_by_the_lowered_rate(cuts: int, n: int) -> None:
    t = FakeTime()
    limiter = RateLimiter(100, 10, clock=t.clock, sleep=lambda s: None)
    for _ in range(cuts):
        t.now += CUT_INTERVAL_S
        assert limiter.throttle()
    rate, burst = limiter.rate, limiter.burst
    assert burst == max(1, int(10 * rate / 100))  # the burst shrinks with the rate
    # Nobody advances the clock: reservations queue up 1/rate apart after the burst.
    waits = [limiter.acquire() for _ in range(n)]
    assert waits[-1] == pytest.approx((n - burst) / rate, rel=1e-6)


def test_set_ceiling_moves_rate_and_burst_and_keeps_a_cut_as_its_share() -> None:
    t = FakeTime()
    limiter = RateLimiter(10, 10, clock=t.clock, sleep=t.sleep)
    limiter.set_ceiling(4)
    assert (limiter.ceiling, limiter.rate, limiter.max_burst) == (4.0, 4.0, 4)
    assert limiter.throttle()
    limiter.set_ceiling(20, burst=5)
    assert limiter.ceiling == 20 and limiter.rate == pytest.approx(20 * CUT)
    assert limiter.max_burst == 5 and limiter.lowest_rate == pytest.approx(4 * CUT)
    with pytest.raises(ValueError):
        limiter.set_ceiling(0)


@given(first=st.floats(0.5, 100), second=st.floats(0.5, 100), n=st.integers(20, 200))
def test_after_set_ceiling_requests_are_spaced_by_the_new_rate(
        first: float, second: float, n: int) -> None:
    t = FakeTime()
    limiter = RateLimiter(first, 1, clock=t.clock, sleep=t.sleep)
    limiter.set_ceiling(second, burst=1)
    for _ in range(n):
        limiter.acquire()
    assert t.now >= (n - 1) / second - 1e-6
