"""Provider accounts' budgets in the queue: shared by the workers of one account, apart for
different accounts, granted on the database's clock."""

from __future__ import annotations

import threading

import psycopg
import pytest

from cscor_tools.workers import Queue, SharedRateLimiter

pytestmark = pytest.mark.postgres


def _limiter(url: str, account: str, waits: list[float]) -> SharedRateLimiter:
    # Waits are recorded, not slept: the database's TAT alone says what each request waits.
    return SharedRateLimiter(lambda: psycopg.connect(url, autocommit=True), account,
                             rate=10.0, burst=1, sleep=waits.append)


def _take(limiters: list[SharedRateLimiter], each: int) -> None:
    threads = [threading.Thread(target=lambda lim=lim: [lim.acquire() for _ in range(each)])
               for lim in limiters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_two_workers_of_one_account_share_its_rate(queue_url: str) -> None:
    Queue(queue_url).install()
    waits_a: list[float] = []
    waits_b: list[float] = []
    a, b = _limiter(queue_url, "stripe:acme", waits_a), _limiter(queue_url, "stripe:acme", waits_b)
    _take([a, b], 10)
    # 20 requests at 10 a second: the last is granted about 1.9 s after the first.
    assert max(waits_a + waits_b) == pytest.approx(1.9, abs=0.15)
    a.close()
    b.close()


def test_accounts_do_not_share(queue_url: str) -> None:
    Queue(queue_url).install()
    waits_a: list[float] = []
    waits_b: list[float] = []
    a = _limiter(queue_url, "stripe:acme", waits_a)
    b = _limiter(queue_url, "stripe:globex", waits_b)
    _take([a, b], 10)
    # Each account's 10 requests at its own 10 a second: the last waits about 0.9 s.
    assert max(waits_a) == pytest.approx(0.9, abs=0.15)
    assert max(waits_b) == pytest.approx(0.9, abs=0.15)
    with psycopg.connect(queue_url) as conn:
        rows = conn.execute("SELECT account, rate FROM cscor_budgets ORDER BY 1").fetchall()
    assert rows == [("stripe:acme", 10.0), ("stripe:globex", 10.0)]


def test_a_retry_after_pauses_every_worker_of_the_account(queue_url: str) -> None:
    Queue(queue_url).install()
    waits_a: list[float] = []
    waits_b: list[float] = []
    a, b = _limiter(queue_url, "stripe:acme", waits_a), _limiter(queue_url, "stripe:acme", waits_b)
    a.acquire()
    a.pause(5.0)  # the provider told worker A to wait 5 s
    b.acquire()
    assert waits_b and waits_b[-1] >= 4.9


def test_an_unreachable_budget_fails_the_request_rather_than_sending_unmetered() -> None:
    from cscor_tools.errors import StoreError

    def refuse() -> psycopg.Connection:
        raise psycopg.OperationalError("connection refused")

    limiter = SharedRateLimiter(refuse, "stripe:acme", rate=10.0, burst=1)
    with pytest.raises(StoreError, match="budget is unreachable"):
        limiter.acquire()
