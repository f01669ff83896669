"""One provider account's request budget, shared by every worker that syncs for the account.

A provider limits an *account* (a Stripe account, a Resend team), not a process: two workers
syncing two workspaces of one account must share its rate, while workspaces of other accounts
go at their own pace. The budget lives in the queue's PostgreSQL database, one row per
account, kept by GCRA (the generic cell rate algorithm): the row holds the *theoretical
arrival time* (TAT) of the next request. Taking a request is one ``INSERT … ON CONFLICT DO
UPDATE`` that pushes the TAT on by ``1/rate`` and answers how long to wait before sending:

    wait = max(0, TAT' - now - burst/rate)

so requests are granted in the order they asked, at ``rate`` per second on average and
``burst`` at once, whatever machine asks, on the database's clock (no clocks to keep in step).
The row lock is held for the statement alone: microseconds, once per provider request.

Advisory locks were the other candidate: they bound how many hold a slot at once, not how many
requests go out per second, and a provider's limit is a rate; a token row in a table says
exactly that, survives nothing it should not (a dead worker holds no budget), and can be read
with plain SQL (``SELECT * FROM cscor_budgets``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from cscor_tools.connectors.base import Secret
from cscor_tools.connectors.ratelimit import RateLimiter
from cscor_tools.errors import StoreError

BUDGETS_DDL = """
CREATE TABLE IF NOT EXISTS cscor_budgets (
    account text PRIMARY KEY,
    rate double precision NOT NULL,
    burst integer NOT NULL,
    tat timestamptz NOT NULL
)
"""

_TAKE = """
WITH clock AS (SELECT clock_timestamp() AS now)
INSERT INTO cscor_budgets AS b (account, rate, burst, tat)
SELECT %(account)s, %(rate)s, %(burst)s, now + make_interval(secs => 1.0 / %(rate)s)
  FROM clock
ON CONFLICT (account) DO UPDATE
   SET rate = excluded.rate,
       burst = excluded.burst,
       tat = greatest(b.tat, (SELECT now FROM clock))
             + make_interval(secs => 1.0 / excluded.rate)
RETURNING greatest(0.0, extract(epoch FROM b.tat - (SELECT now FROM clock))
                        - b.burst / b.rate)::float8
"""

_PAUSE = """
UPDATE cscor_budgets
   SET tat = greatest(tat, clock_timestamp()
                           + make_interval(secs => %(seconds)s + burst / rate))
 WHERE account = %(account)s
RETURNING 0.0::float8
"""


def account_key(connector: str, credential: Secret | None, account: str | None = None) -> str:
    """The budget an instance draws on: ``connector:account`` when the account is named, else
    ``connector:`` and a fingerprint of the credential (one key, one account's budget).

    The fingerprint is an unkeyed SHA-256 prefix: an API key has far too much entropy to be
    guessed back from it, and it never appears anywhere else.
    """
    if account:
        return f"{connector}:{account}"
    if credential is None:
        return f"{connector}:-"
    digest = hashlib.sha256(credential.reveal().encode()).hexdigest()[:16]
    return f"{connector}:key-{digest}"


class SharedRateLimiter(RateLimiter):
    """A :class:`RateLimiter` that also draws every request from the account's shared budget.

    The local limiter keeps what it always did within one sync (order among threads, pauses
    on Retry-After, a rate cut on each refusal); the shared row keeps the sum of every
    worker's requests for the account under the account's rate. A provider's Retry-After
    pauses every worker of the account, not just this one.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        account: str,
        rate: float,
        burst: int = 1,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, burst, sleep=sleep)
        self.account = account
        self._connect = connect
        self._conn: Any = None
        self._db_lock = threading.Lock()

    def acquire(self) -> float:
        waited = super().acquire()
        shared = self._run(_TAKE, {"account": self.account, "rate": self.ceiling,
                                   "burst": self.max_burst})
        if shared > 0:
            self._sleep(shared)
            with self._lock:
                self.waited += shared
        return waited + shared

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        self._run(_PAUSE, {"account": self.account, "seconds": float(seconds)})

    def close(self) -> None:
        with self._db_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _run(self, sql: str, params: dict[str, Any]) -> float:
        import psycopg

        with self._db_lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                row = self._conn.execute(sql, params).fetchone()
            except psycopg.Error as exc:
                # The budget is the queue's: a worker that cannot reach it must not send
                # unmetered; the stream fails and the job is retried (with backoff).
                raise StoreError(f"the shared request budget is unreachable: "
                                 f"{type(exc).__name__}") from exc
        return float(row[0]) if row else 0.0
