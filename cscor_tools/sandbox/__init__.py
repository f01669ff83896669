"""A local Stripe, Resend and Slack for tests, benchmarks and demos: seeded data, provider
shapes, and switches for latency, rate limits and faults.

::

    from cscor_tools.sandbox import Sandbox

    with Sandbox(seed=1, scale=0.2, latency_ms=20, fault_rate=0.05) as sb:
        sb.base_url("stripe")        # http://127.0.0.1:PORT   (Stripe under /v1/)
        sb.base_url("slack")         # http://127.0.0.1:PORT/api/
        sb.credentials("resend")     # re_sandbox
        summary = sb.mutate(days=1)  # what changed, exactly
        sb.expected_counts()         # what a complete listing returns now
"""

from __future__ import annotations

from cscor_tools.sandbox.config import (
    CREDENTIALS,
    DEFAULT_ANCHOR,
    PROVIDERS,
    FaultKind,
    Knobs,
    SandboxConfig,
    Volumes,
)
from cscor_tools.sandbox.errors import SandboxError
from cscor_tools.sandbox.mutate import KINDS as MUTABLE_KINDS
from cscor_tools.sandbox.mutate import MutationSummary
from cscor_tools.sandbox.sandbox import Sandbox

__all__ = [
    "CREDENTIALS",
    "DEFAULT_ANCHOR",
    "MUTABLE_KINDS",
    "PROVIDERS",
    "FaultKind",
    "Knobs",
    "MutationSummary",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "Volumes",
]
