"""The sandbox's settings: how much data to generate, and how the server misbehaves.

Two value objects, kept apart because they change at different times: :class:`Volumes` fixes
the generated world when the sandbox starts; :class:`Knobs` (latency, rate limits, faults) can
be changed while it runs. Both travel to a sandbox subprocess as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

PROVIDERS: tuple[str, ...] = ("stripe", "resend", "slack")

#: Obviously fake credentials, short enough that no secret scanner mistakes them for real ones.
CREDENTIALS: Mapping[str, str] = {
    "stripe": "sk_test_sandbox",
    "resend": "re_sandbox",
    "slack": "xoxb-sandbox",
}

#: how a sandbox subprocess receives its credentials: JSON in this environment variable
CREDENTIALS_ENV = "CSCOR_SANDBOX_CREDENTIALS"


def provider_base_url(url: str, provider: str) -> str:
    """What each provider's client takes as its base on a sandbox at ``url``: Stripe and
    Resend the host (their clients add ``/v1/…`` and ``/emails``), Slack ``…/api/``."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    return f"{url}/api/" if provider == "slack" else url


def accepted_credentials(given: Mapping[str, str | None] | None) -> dict[str, str]:
    """The credentials to accept: the fixed ones, with those ``given`` in their place."""
    out = dict(CREDENTIALS)
    for provider, value in (given or {}).items():
        if provider not in CREDENTIALS:
            raise ValueError(f"unknown provider {provider!r}; one of {', '.join(CREDENTIALS)}")
        if value is None:
            continue
        if not value or any(c.isspace() for c in value):
            raise ValueError(f"the {provider} credential must be non-empty, without spaces")
        out[provider] = value
    return out


#: "Now" when the sandbox starts, unless told otherwise: every generated timestamp hangs off it.
DEFAULT_ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)


class FaultKind(StrEnum):
    """A way a response can go wrong on purpose."""

    RATE_LIMITED = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    UNAVAILABLE = "503"
    RESET = "reset"  # the connection is reset instead of answered
    TRUNCATED = "truncate"  # Content-Length promises more bytes than are sent
    SLOW = "slow"  # the body trickles out in chunks with pauses

    @classmethod
    def parse(cls, values: str | Iterable[str | FaultKind]) -> tuple[FaultKind, ...]:
        """Read ``"429,reset"`` or an iterable of names; ``"all"`` means every kind."""
        items = values.split(",") if isinstance(values, str) else list(values)
        names = [str(v).strip() for v in items if str(v).strip()]
        if names == ["all"]:
            return tuple(cls)
        try:
            return tuple(dict.fromkeys(cls(n) for n in names))
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown fault kind in {names!r}; known: {known}, all") from None


@dataclass(frozen=True)
class Volumes:
    """How many objects of each kind the sandbox generates.

    ``Volumes.from_scale(1.0)`` is a small but varied world; the Stripe benchmark uses
    ``from_scale(100)``: 20,000 customers and 60,000 invoices.
    """

    customers: int = 200
    invoices_per_customer: float = 3.0
    #: one-off payments (a payment intent and its charge) not tied to an invoice, per customer
    payments_per_customer: float = 0.25
    contacts: int = 300
    emails: int = 1000
    broadcasts: int = 10
    users: int = 25
    channels: int = 8
    #: top-level Slack messages across all channels; thread replies come on top
    messages: int = 1500
    #: how far back the generated history reaches before the anchor
    history_days: int = 730
    #: the share of people's Slack messages that start a thread (of 1 to 6 replies)
    thread_share: float = 0.15

    @classmethod
    def from_scale(cls, scale: float = 1.0, **overrides: Any) -> Volumes:
        """Multiply every count by ``scale`` (Slack's users and channels grow more slowly)."""
        if scale <= 0:
            raise ValueError("scale must be positive")
        base = cls()

        def n(value: int, minimum: int = 1) -> int:
            return max(minimum, round(value * scale))

        # A workspace with 100x the customers does not have 100x the staff or channels.
        slow = math.sqrt(scale)
        scaled = cls(
            customers=n(base.customers),
            invoices_per_customer=base.invoices_per_customer,
            payments_per_customer=base.payments_per_customer,
            contacts=n(base.contacts),
            emails=n(base.emails),
            broadcasts=n(base.broadcasts),
            users=max(3, round(base.users * slow)),
            channels=max(3, round(base.channels * slow)),
            messages=n(base.messages, 10),
            history_days=base.history_days,
            thread_share=base.thread_share,
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown volume(s): {', '.join(sorted(unknown))}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(scaled, **given)

    @property
    def invoices(self) -> int:
        return round(self.customers * self.invoices_per_customer)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Knobs:
    """How the server behaves; all of it can change while the sandbox runs."""

    #: added to every response
    latency_ms: float = 0.0
    #: added per object in the response (a 100-object page waits 100 times this)
    per_object_latency_ms: float = 0.0
    #: requests per second per provider (token bucket); None means unlimited
    rate_limit: Mapping[str, float | None] = field(default_factory=dict)
    #: bucket size; None means one second's worth of requests (at least 1)
    burst: int | None = None
    #: probability that a request gets one of ``faults`` instead of its answer
    fault_rate: float = 0.0
    faults: tuple[FaultKind, ...] = tuple(FaultKind)
    #: how long a "slow" body takes to arrive
    slow_body_ms: float = 2000.0
    #: Slack's 2025 terms for apps outside the Marketplace: conversations.history and
    #: conversations.replies return at most 15 messages and allow one call a minute
    slack_non_marketplace: bool = False
    #: Slack's per-method tier limits (Tier 2: 20 calls a minute, Tier 3: 50…), enforced with
    #: time compressed by this factor (24: a minute's budget every 2.5 s); None: not enforced
    slack_tier_scale: float | None = None
    #: OAuth scopes the sandbox's Slack token lacks (e.g. "users:read.email")
    slack_missing_scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.per_object_latency_ms < 0 or self.slow_body_ms < 0:
            raise ValueError("latencies must not be negative")
        if self.burst is not None and self.burst < 1:
            raise ValueError("burst must be at least 1")
        for provider, rps in self.rate_limit.items():
            if provider not in PROVIDERS:
                raise ValueError(f"unknown provider {provider!r} in rate_limit")
            if rps is not None and rps <= 0:
                raise ValueError("rate limits must be positive (None means unlimited)")
        if self.slack_tier_scale is not None and not self.slack_tier_scale > 0:
            raise ValueError("slack_tier_scale must be positive (None: no tier limits)")
        object.__setattr__(self, "slack_missing_scopes", tuple(self.slack_missing_scopes))
        object.__setattr__(self, "faults", FaultKind.parse(self.faults))
        object.__setattr__(self, "rate_limit", dict(self.rate_limit))

    @staticmethod
    def rate_limits(value: float | Mapping[str, float | None] | None) -> dict[str, float | None]:
        """One number for every provider, or a mapping of some providers to their limits."""
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return dict(value)
        return {p: float(value) for p in PROVIDERS}

    def limit_for(self, provider: str) -> float | None:
        return self.rate_limit.get(provider)

    def burst_for(self, provider: str) -> int:
        rps = self.limit_for(provider) or 1.0
        return self.burst if self.burst is not None else max(1, math.floor(rps))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = [k.value for k in self.faults]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Knobs:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox needs to start: what to generate, and how to serve it."""

    seed: int = 0
    volumes: Volumes = field(default_factory=Volumes)
    knobs: Knobs = field(default_factory=Knobs)
    anchor: datetime = DEFAULT_ANCHOR
    port: int = 0
    #: the credential each provider accepts; never in ``to_dict`` (a subprocess gets them
    #: through its environment, ``CREDENTIALS_ENV``, not its command line)
    credentials: Mapping[str, str] = field(default_factory=lambda: dict(CREDENTIALS))

    def __post_init__(self) -> None:
        if self.anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware (UTC)")
        object.__setattr__(self, "anchor", self.anchor.astimezone(UTC))
        object.__setattr__(self, "credentials", accepted_credentials(self.credentials))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "volumes": self.volumes.to_dict(),
            "knobs": self.knobs.to_dict(),
            "anchor": self.anchor.isoformat(),
            "port": self.port,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SandboxConfig:
        return cls(
            seed=int(data["seed"]),
            volumes=Volumes(**data["volumes"]),
            knobs=Knobs.from_dict(data["knobs"]),
            anchor=datetime.fromisoformat(data["anchor"]),
            port=int(data.get("port", 0)),
        )
