"""Faults against the sandbox, over every connector and both stores: a fault soak, SIGKILLs at
random moments, and an outage longer than the retry budget. Each prints its figure."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from benchmarks.reliability import (
    Locations,
    Outage,
    crash_resume,
    credential,
    fault_soak,
    outage,
)
from cscor_tools.cli import cli
from cscor_tools.connectors import load_connector
from cscor_tools.errors import ExitCode
from cscor_tools.sandbox import Sandbox
from tests.reliability.conftest import show


def test_a_fault_soak_ends_with_exactly_the_rows_of_a_fault_free_run(
    sandbox: Sandbox, name: str, locs: Locations,
) -> None:
    figure = fault_soak(sandbox, name, locs, rounds=1, fault_rate=0.1, slow_body_ms=100)
    show(figure)
    assert figure.failed_syncs == 0 and figure.differences == 0
    assert figure.rows_compared > 0
    if figure.requests >= 50:  # enough requests that 10% of them were faults
        assert figure.faults > 0 and figure.retries > 0


def test_syncs_killed_at_random_moments_resume_to_the_exact_data(
    sandbox: Sandbox, name: str, locs: Locations,
) -> None:
    figure = crash_resume(sandbox, name, locs, kills=2, seed=hash(name) % 1000)
    show(figure)
    assert figure.kills == 2
    assert figure.survived == figure.kills, figure.failures
    assert all(i in ("ok", "n/a") for i in figure.integrity)


def test_an_outage_longer_than_the_retry_budget_fails_cleanly_and_the_next_run_continues(
    sandbox: Sandbox, name: str, locs: Locations,
) -> None:
    figure = outage(sandbox, name, locs, attempts=3)
    show(figure)
    title = load_connector(name).title
    assert figure.status in ("failed", "partial")
    assert figure.exit_code == (ExitCode.PROVIDER_UNAVAILABLE if figure.status == "failed"
                                else ExitCode.PARTIAL)
    assert figure.errors and all(title in e and "HTTP 503" in e for e in figure.errors)
    if figure.full_requests >= 8:  # the outage began once pages were committed
        assert figure.rows_kept > 0
    assert figure.resumed_status == "succeeded" and figure.differences == 0


def test_the_command_line_says_which_provider_is_down_and_exits_5(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same outage through `cscor sync`: the message and the exit code a script sees."""
    config = tmp_path / "cscor.toml"
    config.write_text("[connectors.stripe]\nmax_attempts = 2\n")
    workspace = tmp_path / "w.db"
    real = httpx.HTTPTransport.handle_request
    down = Outage(lambda n: n > 10)
    count = [0]

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        count[0] += 1
        return down(request, count[0]) or real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    result = CliRunner().invoke(
        cli, ["--workspace", str(workspace), "--config", str(config), "sync", "stripe",
              "--api-base", sandbox.base_url("stripe")],
        env=credential("stripe", sandbox))
    assert result.exit_code == ExitCode.PROVIDER_UNAVAILABLE, result.output
    assert "Stripe" in result.output and "HTTP 503" in result.output
    assert "Traceback" not in result.output
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", real)
    again = CliRunner().invoke(
        cli, ["--workspace", str(workspace), "sync", "stripe", "--api-base",
              sandbox.base_url("stripe")], env=credential("stripe", sandbox))
    assert again.exit_code == 0, again.output
