"""The same seed serves the same bytes, in a thread or in a subprocess; the subprocess
sandbox answers the same Python API through its admin endpoints."""

from __future__ import annotations

import httpx
import pytest

from cscor_tools.sandbox import Sandbox, SandboxError

from .conftest import SCALE, SEED, client_for

PROBES = [
    ("stripe", "/v1/customers?limit=100"),
    ("stripe", "/v1/invoices?limit=100"),
    ("stripe", "/v1/charges?limit=50"),
    ("stripe", "/v1/payment_intents?limit=50"),
    ("stripe", "/v1/invoice_payments?limit=50"),
    ("stripe", "/v1/events?limit=100"),
    ("resend", "/emails?limit=100"),
    ("resend", "/contacts"),
    ("resend", "/broadcasts"),
    ("resend", "/domains"),
    ("slack", "users.list"),
    ("slack", "conversations.list"),
]


def _bodies(sb: Sandbox) -> list[bytes]:
    out = []
    for provider, path in PROBES:
        with client_for(sb, provider) as http:
            response = http.get(path)
            assert response.status_code == 200, (path, response.text[:200])
            out.append(response.content)
    with client_for(sb, "slack") as http:
        for channel in http.get("conversations.list").json()["channels"]:
            if channel["is_member"]:
                out.append(http.get("conversations.history",
                                    params={"channel": channel["id"], "limit": 999}).content)
    return out


def test_same_seed_same_bytes(sandbox: Sandbox) -> None:
    with Sandbox(seed=SEED, scale=SCALE) as twin:
        assert _bodies(twin) == _bodies(sandbox)
    with Sandbox(seed=SEED + 1, scale=SCALE) as other:
        assert _bodies(other)[0] != _bodies(sandbox)[0]


def test_a_subprocess_sandbox_is_the_same_sandbox(sandbox: Sandbox) -> None:
    with Sandbox(seed=SEED, process=True, scale=SCALE) as child:
        with pytest.raises(SandboxError):
            child.world  # noqa: B018 - the world lives in the child
        assert _bodies(child) == _bodies(sandbox)
        assert child.expected_counts() == sandbox.expected_counts()
        assert child.expected_ids("stripe.customers") == sandbox.expected_ids("stripe.customers")
        assert child.info()["generation_seconds"] > 0
        summary = child.mutate(counts={"stripe.customers": {"create": 1, "delete": 1}})
        assert summary.count("created", "stripe.customer") == 1
        assert child.expected_counts()["stripe.customers.deleted"] == 1
        child.configure(latency_ms=5, fault_rate=0.0, rate_limit={"stripe": 100})
        stats = child.stats()["stripe"]
        assert stats["requests"] > 0 and stats["statuses"]["200"] == stats["requests"]
        child.reset_stats()
        assert child.stats()["stripe"]["requests"] == 0
        url = child.url
    with pytest.raises(httpx.TransportError):  # the child is gone
        httpx.get(f"{url}/_sandbox/health", timeout=2)


def test_admin_rejects_what_it_does_not_know(sandbox: Sandbox) -> None:
    base = sandbox.url
    assert httpx.get(f"{base}/_sandbox/health").json() == {"ok": True}
    assert httpx.post(f"{base}/_sandbox/mutate", content=b"[1]").status_code == 400
    assert httpx.post(f"{base}/_sandbox/mutate", json={"colour": 1}).status_code == 400
    assert httpx.post(f"{base}/_sandbox/knobs", json={"fault_rate": 2}).status_code == 400
    assert httpx.get(f"{base}/_sandbox/ids", params={"kind": "x"}).status_code == 400
    assert httpx.get(f"{base}/_sandbox/nothing").status_code == 404
    with pytest.raises(ValueError, match="fault_rate"):
        sandbox.configure(fault_rate=-1)
