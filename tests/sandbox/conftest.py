"""Fixtures: a small shared sandbox for read-only tests, and an HTTP client per provider.

Tests that change a sandbox (mutations, knobs) start their own; every sandbox a test used
must finish without an internal error.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cscor_tools.sandbox import Sandbox

SEED = 7
SCALE = 0.1  # 20 customers, 60 invoices, 100 emails, 150 Slack messages


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """Shared and read-only: never mutate it or change its knobs."""
    with Sandbox(seed=SEED, scale=SCALE) as sb:
        yield sb
        assert not sb.internal_errors, sb.internal_errors[0]


def client_for(sb: Sandbox, provider: str, **kw: object) -> httpx.Client:
    headers = {"User-Agent": "cscor-tests/1",
               "Authorization": f"Bearer {sb.credentials(provider)}"}
    return httpx.Client(base_url=sb.base_url(provider), headers=headers, timeout=30,
                        **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stripe_http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, "stripe") as client:
        yield client


@pytest.fixture(scope="session")
def resend_http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, "resend") as client:
        yield client


@pytest.fixture(scope="session")
def slack_http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, "slack") as client:
        yield client
