"""The shared HTTP discipline: retries, Retry-After, error mapping, secrecy."""

from __future__ import annotations

import inspect
import json
import time
from typing import Any

import httpx
import pytest

from cscor_tools import errors
from cscor_tools.connectors.base import Secret
from cscor_tools.connectors.http import (
    HttpClient,
    RatePolicy,
    map_transport_error,
    parse_retry_after,
)
from cscor_tools.connectors.ratelimit import RateLimiter

KEY = "sk_test_do_not_leak_me"


def client(handler: Any, sleeps: list[float] | None = None, **kw: Any) -> HttpClient:
    recorded = sleeps if sleeps is not None else []
    return HttpClient(
        "Acme",
        "https://api.example.test/v1",
        credential=Secret(KEY),
        credential_env="ACME_KEY",
        transport=httpx.MockTransport(handler),
        # The limiter's own waits are not what these tests look at.
        limiter=RateLimiter(1000, 100, sleep=lambda s: None),
        sleep=recorded.append,
        **kw,
    )


def scripted(*responses: httpx.Response | Exception) -> Any:
    queue = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def test_retries_429_and_5xx_honouring_retry_after() -> None:
    sleeps: list[float] = []
    handler = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow"}}),
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.Response(500),
        ok({"data": [1]}),
    )
    c = client(handler, sleeps)
    assert c.get("items").data == {"data": [1]}
    assert sleeps[:2] == [7.0, 2.0]
    assert 0 < sleeps[2] <= 30  # no Retry-After: exponential backoff with jitter
    assert c.stats.as_dict()["retries"] == 3
    assert c.stats.as_dict()["rate_limited"] == 1
    assert len(handler.seen) == 4


def test_a_429_pauses_the_shared_limiter() -> None:
    fake_now = [0.0]
    limiter = RateLimiter(1000, 100, clock=lambda: fake_now[0], sleep=lambda s: None)
    limiter.pause(5)
    assert limiter.acquire() == pytest.approx(5.0)


def test_network_errors_and_truncated_bodies_are_retried() -> None:
    request = httpx.Request("GET", "https://api.example.test/v1/items")
    handler = scripted(
        httpx.ConnectError("refused", request=request),
        httpx.RemoteProtocolError("peer closed connection", request=request),
        httpx.Response(200, content=b'{"data": [1, 2'),  # cut short
        ok(),
    )
    c = client(handler)
    assert c.get("items").data == {"ok": True}
    assert c.stats.as_dict()["network_errors"] == 3


def test_retries_stop_after_max_attempts() -> None:
    c = client(scripted(*[httpx.Response(502)] * 3), max_attempts=3)
    with pytest.raises(errors.UnavailableError, match="HTTP 502"):
        c.get("items")
    assert c.stats.as_dict()["failed"] == 1


def test_an_error_whose_retries_ran_out_says_how_many_over_how_long_and_the_last_status(
) -> None:
    waited: list[float] = []
    handler = scripted(httpx.Response(429, headers={"Retry-After": "4"}),
                       httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(502))
    c = client(handler, waited, max_attempts=3)
    start = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:  # time passes only in the waits
        mp.setattr(time, "monotonic", lambda: start + sum(waited))
        with pytest.raises(errors.UnavailableError) as info:
            c.get("items")
    message = str(info.value)
    assert "gave up after 3 attempts over 6.0 s; the last answered HTTP 502" in message
    assert info.value.status == 502 and message.count("gave up") == 1


def test_a_network_error_whose_retries_ran_out_says_no_answer_came() -> None:
    request = httpx.Request("GET", "https://api.example.test/v1/items")
    c = client(scripted(*[httpx.ReadTimeout("slow", request=request)] * 2), max_attempts=2)
    with pytest.raises(errors.UnavailableError,
                       match=r"gave up after 2 attempts over .* s; the last got no answer"):
        c.get("items")


def test_a_fatal_error_does_not_claim_retries() -> None:
    with pytest.raises(errors.NotFoundError) as info:
        client(scripted(httpx.Response(404))).get("items")
    assert "gave up" not in str(info.value)


class PerPathPolicy(RatePolicy):
    """A test policy: one limiter per first path segment, a 429 noted, nothing paused."""

    def __init__(self) -> None:
        self.limiters = {"a": RateLimiter(1000, 1, sleep=lambda s: None),
                         "b": RateLimiter(1000, 1, sleep=lambda s: None)}
        self.refused: list[tuple[str | None, float]] = []

    def limiter_for(self, path: str) -> RateLimiter:
        return self.limiters[path.strip("/").split("/")[0]]

    def rate_limited(self, client: HttpClient, error: errors.RateLimitedError,
                     wait: float) -> None:
        self.refused.append((error.path, wait))


def test_a_rate_policy_picks_a_limiter_per_path_and_owns_what_a_429_does() -> None:
    policy = PerPathPolicy()
    handler = scripted(httpx.Response(429, headers={"Retry-After": "3"}), ok(), ok(), ok())
    c = client(handler, rate_policy=policy)
    shared_rate = c.limiter.rate
    c.get("a/items")
    c.get("a/items")
    c.get("b/items")
    # each attempt waited on its path's limiter (the 429's retry too), then on the shared one
    assert policy.limiters["a"].max_burst == 1 and policy.limiters["a"].waited > 0
    assert policy.refused == [("/a/items", 3.0)]
    # the shared limiter was neither paused nor slowed: the policy decided
    assert c.limiter.rate == shared_rate and c.limiter.acquire() == 0
    assert c.stats.as_dict()["rate_cuts"] == 0 and c.stats.as_dict()["retries"] == 1


def test_the_default_policy_pauses_and_slows_every_request_on_a_429() -> None:
    c = client(scripted(httpx.Response(429, headers={"Retry-After": "3"}), ok()))
    rate = c.limiter.rate
    c.get("items")
    assert c.limiter.rate < rate and c.stats.as_dict()["rate_cuts"] == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (400, errors.BadRequestError),
        (409, errors.BadRequestError),
    ],
)
def test_client_errors_are_fatal_and_never_retried(status: int, error: type) -> None:
    handler = scripted(httpx.Response(status, json={"error": {"message": "nope"}}))
    with pytest.raises(error) as info:
        client(handler).get("items?email=someone@example.com")
    assert len(handler.seen) == 1
    message = str(info.value)
    assert "Acme" in message and "/items" in message
    assert "someone@example.com" not in message  # query strings stay out of messages
    assert KEY not in message


def test_401_names_the_env_var_not_the_value() -> None:
    with pytest.raises(errors.AuthenticationError) as info:
        client(scripted(httpx.Response(401))).get("x")
    assert "ACME_KEY" in str(info.value) and KEY not in str(info.value)
    assert info.value.exit_code == errors.ExitCode.PROVIDER_AUTH


def test_the_credential_is_sent_but_never_shown() -> None:
    handler = scripted(ok())
    c = client(handler)
    c.get("x")
    assert handler.seen[0].headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(c) and KEY not in repr(Secret(KEY)) and KEY not in str(Secret(KEY))
    with pytest.raises(TypeError):
        json.dumps({"k": Secret(KEY)})
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret(KEY))


def test_every_httpx_transport_error_is_translated() -> None:
    """No httpx exception can escape untranslated: each concrete transport error subclasses
    one of the families we map."""
    concrete = [
        cls
        for cls in vars(httpx).values()
        if inspect.isclass(cls) and issubclass(cls, httpx.TransportError)
        and cls is not httpx.TransportError
    ]
    assert len(concrete) >= 10
    request = httpx.Request("GET", "https://x.test/y")
    for cls in concrete:
        mapped = map_transport_error("Acme", cls("boom", request=request), "/y")
        assert isinstance(mapped, errors.ProviderError), cls
    transient = [c for c in concrete if isinstance(
        map_transport_error("Acme", c("boom", request=request), "/y"), errors.TransientError)]
    assert httpx.ReadTimeout in transient and httpx.RemoteProtocolError in transient
    assert httpx.UnsupportedProtocol not in transient


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
