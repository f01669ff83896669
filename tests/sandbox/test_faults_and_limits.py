"""Faults, rate limits and latency behave as configured, and faults follow the seed."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter

import pytest

from cscor_tools.sandbox import FaultKind, Knobs, Sandbox
from cscor_tools.sandbox.faults import FaultPlan
from cscor_tools.sandbox.limits import RateLimiter, TokenBucket

from .specs import stripe_error_problems

STRIPE_AUTH = {"Authorization": "Bearer sk_test_sandbox"}


def _get(sb: Sandbox, path: str, headers: dict[str, str] | None = None,
         timeout: float = 10) -> http.client.HTTPResponse:
    port = int(sb.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path, headers={"User-Agent": "tests", **(headers or STRIPE_AUTH)})
    response = conn.getresponse()
    return response


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take().allowed for _ in range(4)] == [True, True, True, False]
    refused = bucket.take()
    assert not refused.allowed and refused.retry_after == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take().allowed
    assert not bucket.take().allowed
    clock.now += 10
    state = bucket.take(cost=0.0)
    assert state.remaining == 3 and state.reset == 0


def test_limiter_per_provider_and_per_method() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Knobs(rate_limit={"stripe": 1.0}), clock=clock)
    assert limiter.take("resend") is None  # unlimited
    assert limiter.take("stripe").allowed  # type: ignore[union-attr]
    assert not limiter.take("stripe").allowed  # type: ignore[union-attr]
    first = limiter.take("slack", "slack:conversations.history", per_minute=1.0)
    again = limiter.take("slack", "slack:conversations.history", per_minute=1.0)
    assert first is not None and first.allowed
    assert again is not None and not again.allowed and again.retry_after == pytest.approx(60)


def test_resend_limit_is_described_even_when_not_enforced() -> None:
    clock = FakeClock()
    unset = RateLimiter(Knobs(), clock=clock)
    assert unset.limits("resend") and not unset.limits("stripe")
    assert all(unset.take("resend") is None for _ in range(10))  # never refused…
    state = unset.peek("resend")  # …yet described as Resend's documented default
    assert (state.limit, state.remaining, state.reset) == (2, 2, 0)

    configured = RateLimiter(Knobs(rate_limit={"resend": 5.0}, burst=3), clock=clock)
    assert configured.take("resend").allowed  # type: ignore[union-attr]
    state = configured.peek("resend")
    assert (state.limit, state.remaining) == (3, 2)


def test_fault_plan_depends_on_signature_and_occurrence_not_order() -> None:
    signatures = [f"stripe GET /v1/customers?page={i % 7}" for i in range(300)]
    plan = FaultPlan(5, 0.3, tuple(FaultKind))
    outcomes = [(s, plan.decide(s)) for s in signatures]
    shuffled = FaultPlan(5, 0.3, tuple(FaultKind))
    by_sig: dict[str, list[FaultKind | None]] = {}
    for s in reversed(signatures):  # a different arrival order of different signatures…
        by_sig.setdefault(s, []).append(shuffled.decide(s))
    expected: dict[str, list[FaultKind | None]] = {}
    for s, outcome in outcomes:
        expected.setdefault(s, []).append(outcome)
    assert by_sig == expected  # …gives each signature the same sequence of decisions
    share = sum(o is not None for _, o in outcomes) / len(outcomes)
    assert 0.2 < share < 0.4
    other_seed = FaultPlan(6, 0.3, tuple(FaultKind))
    assert [other_seed.decide(s) for s in signatures] != [o for _, o in outcomes]


@pytest.mark.parametrize("kind", ["500", "502", "503", "429"])
def test_status_faults_answer_as_the_provider_or_its_proxy(kind: str) -> None:
    with Sandbox(seed=1, scale=0.02, fault_rate=1.0, faults=kind) as sb:
        response = _get(sb, "/v1/customers")
        body = response.read()
        assert response.status == int(kind)
        if kind in ("502", "503"):
            assert response.getheader("Content-Type") == "text/html"
            assert kind.encode() in body
        else:
            assert stripe_error_problems(json.loads(body)) == []
        slack = _get(sb, "/api/auth.test", {"Authorization": "Bearer xoxb-sandbox"})
        slack_body = slack.read()
        assert slack.status == int(kind)
        if kind == "429":
            assert json.loads(slack_body) == {"ok": False, "error": "ratelimited"}
            assert slack.getheader("Retry-After") == "1"
        resend = _get(sb, "/domains", {"Authorization": "Bearer re_sandbox"})
        resend_body = resend.read()
        assert resend.status == int(kind)
        assert resend.getheader("ratelimit-limit") == "2"  # on every Resend response
        if kind == "429":
            assert json.loads(resend_body)["name"] == "rate_limit_exceeded"
            assert resend.getheader("retry-after") == "1"
        else:
            assert resend.getheader("retry-after") is None
        assert sb.stats()["stripe"]["faults"] == {kind: 1}


def test_reset_breaks_the_connection() -> None:
    with Sandbox(seed=1, scale=0.02, fault_rate=1.0, faults="reset") as sb:
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            _get(sb, "/v1/customers").read()
        assert sb.stats()["stripe"]["faults"] == {"reset": 1}


def test_truncated_body_is_shorter_than_promised() -> None:
    with Sandbox(seed=1, scale=0.02, fault_rate=1.0, faults="truncate") as sb:
        response = _get(sb, "/v1/customers?limit=3")
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
        assert 0 < len(caught.value.partial) < int(response.getheader("Content-Length") or 0)


def test_slow_body_arrives_whole_but_late() -> None:
    with Sandbox(seed=1, scale=0.02, fault_rate=1.0, faults="slow", slow_body_ms=400) as sb:
        started = time.perf_counter()
        response = _get(sb, "/v1/customers?limit=3")
        first_byte = time.perf_counter() - started
        body = response.read()
        total = time.perf_counter() - started
        assert len(json.loads(body)["data"]) == 3
        assert total - first_byte >= 0.35  # the headers came at once, the body trickled


def test_faults_follow_the_seed_under_concurrency() -> None:
    paths = [f"/v1/customers?limit={n}" for n in range(1, 11)] * 12  # 120 requests

    def run() -> tuple[Counter[tuple[str, str]], dict[str, int]]:
        seen: Counter[tuple[str, str]] = Counter()
        lock = threading.Lock()
        with Sandbox(seed=9, scale=0.02, fault_rate=0.3, faults="500,503,429") as sb:
            def worker(chunk: list[str]) -> None:
                for path in chunk:
                    response = _get(sb, path)
                    response.read()
                    with lock:
                        seen[(path, str(response.status))] += 1

            threads = [threading.Thread(target=worker, args=(paths[i::6],)) for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return seen, sb.stats()["stripe"]["faults"]

    first, second = run(), run()
    assert first == second
    faults = sum(first[1].values())
    assert 20 <= faults <= 55  # about 30% of 120


def test_latency_is_fixed_plus_per_object() -> None:
    with Sandbox(seed=1, scale=0.1, latency_ms=120, per_object_latency_ms=4) as sb:
        started = time.perf_counter()
        _get(sb, "/v1/customers?limit=1").read()
        one = time.perf_counter() - started
        started = time.perf_counter()
        _get(sb, "/v1/customers?limit=20").read()
        twenty = time.perf_counter() - started
        assert one >= 0.124
        assert twenty >= 0.12 + 20 * 0.004
        assert one < 5 and twenty < 5  # generous: a loaded machine, yet no runaway


def test_stripe_rate_limit_then_recovery() -> None:
    with Sandbox(seed=1, scale=0.02, rate_limit=0.2, burst=2) as sb:
        statuses = []
        for _ in range(4):
            response = _get(sb, "/v1/customers?limit=1")
            body = response.read()
            statuses.append(response.status)
        assert statuses == [200, 200, 429, 429]
        refused = json.loads(body)
        assert refused["error"]["code"] == "rate_limit"
        assert stripe_error_problems(refused) == []
        stats = sb.stats()["stripe"]
        assert stats["rate_limited"] == statuses.count(429)
        sb.configure(rate_limit=None)
        assert all(_get(sb, "/v1/customers?limit=1").status == 200 for _ in range(5))
