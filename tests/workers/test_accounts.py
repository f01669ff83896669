"""The sandbox's accounts: one port, each account its own credential, data and rate limit."""

from __future__ import annotations

import httpx

from cscor_tools.sandbox.accounts import SandboxAccounts


def test_each_account_answers_its_own_key_with_its_own_data() -> None:
    with SandboxAccounts(["acme", "globex"], scale=0.02) as sb:
        url = sb.base_url("stripe") + "/v1/customers?limit=100"

        def ids(key: str) -> list[str]:
            reply = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
            assert reply.status_code == 200
            return [c["id"] for c in reply.json()["data"]]

        acme, globex = ids(sb.credentials("acme", "stripe")), ids(sb.credentials("globex",
                                                                                 "stripe"))
        assert sorted(acme) == sorted(sb.account("acme").expected_ids("stripe.customers"))
        assert sorted(globex) == sorted(sb.account("globex").expected_ids("stripe.customers"))
        assert set(acme) != set(globex)
        # Basic auth (Stripe's other form) routes the same way
        assert httpx.get(url, auth=(sb.credentials("acme", "stripe"), "")).status_code == 200
        # an unknown key, or an account's key for another provider, is refused as Stripe would
        for key in ("sk_test_sandbox_nobody", sb.credentials("acme", "resend")):
            assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 401
        assert sb.internal_errors == []


def test_each_account_has_its_own_rate_limit() -> None:
    with SandboxAccounts(["acme", "globex"], scale=0.02, rate_limit={"stripe": 2},
                         burst=2) as sb:
        url = sb.base_url("stripe") + "/v1/customers?limit=1"

        def statuses(account: str, n: int) -> list[int]:
            key = sb.credentials(account, "stripe")
            return [httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code
                    for _ in range(n)]

        assert 429 in statuses("acme", 6)  # acme spent its burst and more
        assert statuses("globex", 2) == [200, 200]  # globex's budget is its own
        assert sb.account("acme").stats()["stripe"]["rate_limited"] >= 1
        assert sb.account("globex").stats()["stripe"]["rate_limited"] == 0
