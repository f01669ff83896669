"""The sandbox's own clock, and the timestamp formats each provider writes.

Time in the sandbox never follows the wall clock: it starts at the anchor and moves only when
told to (``advance`` or ``mutate``), so the same seed gives the same timestamps, and windows such
as Stripe's 30 days of events are measured on it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

US = 1_000_000  # microseconds per second: the clock counts in them for Slack's ``ts``


def to_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


class SandboxClock:
    """A settable "now", in microseconds since the epoch; thread-safe."""

    def __init__(self, anchor: datetime) -> None:
        self._now_us = to_us(anchor)
        self._lock = threading.Lock()

    @property
    def now_us(self) -> int:
        return self._now_us

    @property
    def now(self) -> int:
        """Unix seconds, as Stripe counts."""
        return self._now_us // US

    def now_datetime(self) -> datetime:
        return from_us(self._now_us)

    def advance(self, delta: timedelta) -> tuple[int, int]:
        """Move forward; returns (before, after) in microseconds. Time never runs backwards."""
        step = round(delta.total_seconds() * US)
        if step < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            before = self._now_us
            self._now_us = before + step
            return before, self._now_us


def resend_timestamp(us: int) -> str:
    """Resend's contact, segment, domain and broadcast times: ``2023-10-06 23:47:56.678+00``."""
    moment = from_us(us)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00"


def resend_email_timestamp(us: int) -> str:
    """Resend's email timestamps, as its docs show them: ``2023-04-03T22:13:42.674981+00:00``."""
    return from_us(us).isoformat(timespec="microseconds")


def slack_ts(us: int) -> str:
    """Slack's message id and timestamp: ``1512085950.000216``."""
    return f"{us // US}.{us % US:06d}"


def parse_slack_ts(value: str) -> int:
    """Slack timestamps back to microseconds; raises ValueError on anything else."""
    whole, _, frac = value.strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(value)
    return int(whole) * US + int((frac + "000000")[:6])
