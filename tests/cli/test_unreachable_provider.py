"""A provider that cannot be reached fails the sync within seconds, naming host and reason."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.connectors.http import CONNECT_ATTEMPTS, HttpClient
from cscor_tools.errors import ConnectFailedError, ExitCode, UnavailableError


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_fails_the_sync_within_seconds(tmp_path: Path) -> None:
    port = closed_port()
    ws = str(tmp_path / "w.db")
    started = time.monotonic()
    result = CliRunner().invoke(
        cli, ["-w", ws, "sync", "stripe", "--api-base", f"http://127.0.0.1:{port}"],
        env={"STRIPE_API_KEY": "rk_test_fake"},
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == ExitCode.PROVIDER_UNAVAILABLE, result.output
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in result.output
    assert elapsed < 15, f"took {elapsed:.1f}s"  # 130 s of retries before


def _client(errors: list[Exception], slept: list[float]) -> tuple[HttpClient, list[int]]:
    calls = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        raise errors[min(calls[0], len(errors)) - 1]

    client = HttpClient("prov", "http://api.example.test", transport=httpx.MockTransport(handler),
                        max_attempts=8, sleep=slept.append)
    return client, calls


def test_connect_errors_have_a_short_budget_of_their_own() -> None:
    request = httpx.Request("GET", "http://api.example.test/v1/x")
    slept: list[float] = []
    client, calls = _client([httpx.ConnectError("[Errno 111] Connection refused",
                                                request=request)], slept)
    with pytest.raises(ConnectFailedError) as caught:
        client.get("/v1/x")
    assert calls[0] == CONNECT_ATTEMPTS and sum(slept) <= 1.0
    message, _, retries = str(caught.value).partition("; ")
    assert message == "prov on /v1/x: cannot connect to api.example.test: Connection refused"
    assert retries.startswith(f"gave up after {CONNECT_ATTEMPTS} attempts over ")


def test_other_network_errors_keep_the_full_budget() -> None:
    request = httpx.Request("GET", "http://api.example.test/v1/x")
    slept: list[float] = []
    client, calls = _client([httpx.ReadError("reset", request=request)], slept)
    with pytest.raises(UnavailableError):
        client.get("/v1/x")
    assert calls[0] == 8


def test_a_server_that_comes_back_within_the_budget_is_read() -> None:
    request = httpx.Request("GET", "http://api.example.test/v1/x")
    calls = [0]

    def handler(req: httpx.Request) -> httpx.Response:
        calls[0] += 1
        if calls[0] < CONNECT_ATTEMPTS:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(200, json={"ok": True})

    client = HttpClient("prov", "http://api.example.test",
                        transport=httpx.MockTransport(handler), sleep=lambda s: None)
    assert client.get("/v1/x").data == {"ok": True}
