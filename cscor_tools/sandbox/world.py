"""The whole generated world: one clock, one pool of people, and the three providers' data.

Handlers read it and ``mutate`` changes it under one lock, so a page is never assembled from
half of a mutation. It also answers the questions tests ask: how many objects of each kind are
live, and which ids they have.
"""

from __future__ import annotations

import gc
import importlib.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cscor_tools.sandbox.clock import SandboxClock, slack_ts
from cscor_tools.sandbox.collection import Collection
from cscor_tools.sandbox.config import SandboxConfig
from cscor_tools.sandbox.people import PeoplePool
from cscor_tools.sandbox.resend_data import ResendData, generate_resend
from cscor_tools.sandbox.slack_data import SlackData
from cscor_tools.sandbox.slack_gen import generate_slack
from cscor_tools.sandbox.stripe_data import StripeData
from cscor_tools.sandbox.stripe_gen import generate_stripe

#: used only when the ``stripe`` package is not installed
FALLBACK_STRIPE_VERSION = "2026-10-28.endive"


def stripe_api_version() -> str:
    """The API version the installed ``stripe`` package pins.

    Read from the package's one-line version module rather than by importing ``stripe``,
    which takes most of a second the sandbox does not otherwise need.
    """
    spec = importlib.util.find_spec("stripe")
    if spec is None or not spec.submodule_search_locations:
        return FALLBACK_STRIPE_VERSION
    path = Path(next(iter(spec.submodule_search_locations))) / "_api_version.py"
    namespace: dict[str, object] = {}
    try:
        # the module is one class holding a constant; it imports nothing
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        return str(namespace["_ApiVersion"].CURRENT)  # type: ignore[attr-defined]
    except (OSError, KeyError, AttributeError, SyntaxError):
        return FALLBACK_STRIPE_VERSION


@contextmanager
def no_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector while making objects by the hundred thousand.

    Every collection walks all the objects made so far, and they are all still in use: with the
    collector on, generating the benchmark's world takes twice as long.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class World:
    """Everything the sandbox serves, generated from one seed."""

    def __init__(self, config: SandboxConfig) -> None:
        started = time.perf_counter()
        self.config = config
        self.clock = SandboxClock(config.anchor)
        self.lock = threading.RLock()
        self.people = PeoplePool(config.seed)
        self.stripe = StripeData(config.seed, self.clock, stripe_api_version())
        self.resend = ResendData(config.seed, self.clock)
        self.slack = SlackData(config.seed, self.clock)
        volumes = config.volumes
        with no_collector():
            generate_stripe(self.stripe, self.people, volumes, config.seed)
            generate_resend(self.resend, self.people, volumes, config.seed)
            generate_slack(self.slack, self.people, volumes, config.seed)
        #: how many mutations have run: each draws from its own random stream
        self.mutations = 0
        #: people made for mutations come after every person the generators used
        self.next_person = volumes.customers + volumes.contacts + volumes.users
        self.generation_seconds = time.perf_counter() - started

    def now(self) -> datetime:
        return self.clock.now_datetime()

    def advance(self, delta: timedelta) -> datetime:
        with self.lock:
            self.clock.advance(delta)
            return self.now()

    def counts(self) -> dict[str, int]:
        """How many objects of each kind a complete listing returns right now."""
        with self.lock:
            return {**self.stripe.counts(), **self.resend.counts(), **self.slack.counts()}

    def ids(self, kind: str) -> list[str]:
        """The ids a complete listing of ``kind`` returns, in list order (newest first)."""
        with self.lock:
            stripe, resend = self.stripe, self.resend
            listings: dict[str, Collection[Any]] = {
                "stripe.customers": stripe.customers,
                "stripe.invoices": stripe.invoices,
                "stripe.charges": stripe.charges,
                "stripe.payment_intents": stripe.payment_intents,
                "stripe.invoice_payments": stripe.invoice_payments,
                "resend.contacts": resend.contacts,
                "resend.emails": resend.emails,
                "resend.segments": resend.segments,
                "resend.domains": resend.domains,
                "resend.broadcasts": resend.broadcasts,
            }
            if kind in listings:
                return [r.id for r in listings[kind]]
            if kind == "stripe.events":
                since = stripe.events_since()
                return [e.id for e in stripe.events if e.created >= since]
            if kind == "stripe.line_items":
                return [line.id for inv in stripe.invoices for line in inv.lines]
            if kind == "slack.users":
                return [u.id for u in self.slack.users]
            if kind == "slack.channels":
                return [c.id for c in self.slack.channels]
            if kind == "slack.messages":
                return [f"{c.id}/{slack_ts(ts)}" for c in self.slack.channels for ts in c.by_ts]
            raise KeyError(kind)

    def warm(self) -> int:
        """Serialize every Stripe object now rather than on first request; returns how many.

        Benchmarks call this so that a measurement is not a measurement of first touches.
        """
        with self.lock:
            stripe = self.stripe
            count = 0
            collections: tuple[Collection[Any], ...] = (
                stripe.customers, stripe.invoices, stripe.charges, stripe.payment_intents,
                stripe.invoice_payments, stripe.events,
            )
            for collection in collections:
                for record in collection:
                    stripe.json_bytes(record)
                    count += 1
            return count
