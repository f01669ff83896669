"""``cscor sandbox serve`` serves what it prints; request parameters decode as Stripe's do."""

from __future__ import annotations

import importlib

import httpx
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.cli.sandbox import sandbox as sandbox_command
from cscor_tools.sandbox import Sandbox
from cscor_tools.sandbox.config import Volumes
from cscor_tools.sandbox.wire import Request, decode_brackets


def test_serve_prints_the_base_urls_and_serves(monkeypatch: object) -> None:
    seen: dict[str, object] = {}

    def probe(sb: Sandbox, duration: float | None) -> None:
        # instead of waiting for Ctrl-C: use the running server as a client would
        seen["duration"] = duration
        stripe = httpx.get(f"{sb.base_url('stripe')}/v1/customers",
                           headers={"Authorization": f"Bearer {sb.credentials('stripe')}"})
        seen["customers"] = len(stripe.json()["data"])
        slack = httpx.post(f"{sb.base_url('slack')}auth.test",
                           data={"token": sb.credentials("slack")})
        seen["slack"] = slack.json()["ok"]
        seen["knobs"] = sb.info()["knobs"]

    # the module, not the command the cli package re-binds its name to
    module = importlib.import_module("cscor_tools.cli.sandbox")
    monkeypatch.setattr(module, "_wait", probe)
    result = CliRunner().invoke(sandbox_command, [
        "serve", "--port", "0", "--seed", "4", "--customers", "7", "--emails", "5",
        "--latency-ms", "1", "--rate-limit", "50", "--slack-rate-limit", "9",
        "--fault-rate", "0", "--faults", "429,reset", "--duration", "3",
    ])
    assert result.exit_code == 0, result.output
    assert seen["customers"] == 7 and seen["slack"] is True and seen["duration"] == 3
    knobs = seen["knobs"]
    assert isinstance(knobs, dict)
    assert knobs["rate_limit"] == {"stripe": 50, "resend": 50, "slack": 9}
    assert knobs["faults"] == ["429", "reset"] and knobs["latency_ms"] == 1
    for needle in ("Stripe ", "Resend ", "Slack ", "/api/", "sk_test_sandbox", "re_sandbox",
                   "xoxb-sandbox", "/_sandbox/", "Stopped after 2 request(s)."):
        assert needle in result.output


def test_serve_refuses_bad_flags() -> None:
    runner = CliRunner()
    bad = [["--faults", "teapot"], ["--fault-rate", "1.5"], ["--anchor", "yesterday"],
           ["--anchor", "2026-11-01T00:00:00"], ["--scale", "0"]]
    for flags in bad:
        result = runner.invoke(sandbox_command, ["serve", *flags])
        assert result.exit_code == 2, flags


def test_every_command_has_help() -> None:
    result = CliRunner().invoke(sandbox_command, ["serve", "--help"])
    assert result.exit_code == 0
    for flag in ("--port", "--seed", "--scale", "--latency-ms", "--per-object-latency-ms",
                 "--rate-limit", "--fault-rate", "--faults", "--slow-body-ms", "--burst"):
        assert flag in result.output


def test_scale_sets_every_volume() -> None:
    big = Volumes.from_scale(100)
    assert (big.customers, big.invoices) == (20_000, 60_000)
    assert Volumes.from_scale(1, customers=5).customers == 5
    assert Volumes.from_scale(0.01).users >= 3


def test_brackets_decode_like_stripe() -> None:
    pairs = [("created[gte]", "1"), ("created[lt]", "9"), ("types[]", "a"), ("types[]", "b"),
             ("expand[1]", "y"), ("expand[0]", "x"), ("limit", "3")]
    assert decode_brackets(pairs) == {"created": {"gte": "1", "lt": "9"}, "types": ["a", "b"],
                                      "expand": ["x", "y"], "limit": "3"}
    form = Request("POST", "/api/x", "a=1", {"content-type": "application/x-www-form-urlencoded"},
                   b"b=2&a=3")
    assert form.flat == {"a": "3", "b": "2"}


@given(st.lists(st.text(st.characters(blacklist_characters="[]&=", codec="utf-8"),
                        min_size=1, max_size=6), min_size=1, max_size=8))
def test_appended_values_keep_their_order(values: list[str]) -> None:
    assert decode_brackets([("k[]", v) for v in values]) == {"k": values}
