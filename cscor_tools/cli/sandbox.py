"""``cscor sandbox``: run the local Stripe, Resend and Slack from the command line."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from typing import Any

import click

from cscor_tools.sandbox import DEFAULT_ANCHOR, FaultKind, Sandbox
from cscor_tools.sandbox.config import accepted_credentials

_FAULT_NAMES = ", ".join(k.value for k in FaultKind)


def _anchor(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return DEFAULT_ANCHOR
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-11-01T00:00:00Z")
    return moment


def _faults(ctx: click.Context, param: click.Parameter, value: str) -> tuple[FaultKind, ...]:
    try:
        return FaultKind.parse(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _wait(sb: Sandbox, duration: float | None) -> None:
    """Serve until Ctrl-C, or for ``duration`` seconds."""
    threading.Event().wait(duration)


@click.group(name="sandbox")
def sandbox() -> None:
    """A local Stripe, Resend and Slack with seeded data: no keys, no network.

    \b
    Example:
      cscor sandbox serve --port 8686 --latency-ms 50 --rate-limit 100
    """


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8686, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The same seed serves the same data, byte for byte.")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Multiplies every count (100 gives 20,000 customers).")
@click.option("--customers", type=click.IntRange(0), help="Stripe customers (overrides scale).")
@click.option("--invoices-per-customer", type=click.FloatRange(0), help="Invoices per customer.")
@click.option("--payments-per-customer", type=click.FloatRange(0),
              help="One-off payments per customer.")
@click.option("--contacts", type=click.IntRange(0), help="Resend contacts.")
@click.option("--emails", type=click.IntRange(0), help="Resend emails.")
@click.option("--broadcasts", type=click.IntRange(0), help="Resend broadcasts.")
@click.option("--users", type=click.IntRange(1), help="Slack members.")
@click.option("--channels", type=click.IntRange(1), help="Slack channels.")
@click.option("--messages", type=click.IntRange(0), help="Top-level Slack messages.")
@click.option("--history-days", type=click.IntRange(1), help="How far back the history goes.")
@click.option("--anchor", callback=_anchor,
              help="The sandbox's 'now' at start [default: 2026-11-01T00:00:00Z].")
@click.option("--latency-ms", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Added to every response.")
@click.option("--per-object-latency-ms", type=click.FloatRange(0), default=0.0,
              show_default=True, help="Added per object in a response.")
@click.option("--rate-limit", type=click.FloatRange(min=0, min_open=True),
              help="Requests per second per provider (token bucket) [default: unlimited].")
@click.option("--stripe-rate-limit", type=click.FloatRange(min=0, min_open=True),
              help="Stripe's limit alone (overrides --rate-limit).")
@click.option("--resend-rate-limit", type=click.FloatRange(min=0, min_open=True),
              help="Resend's limit alone (Resend's own default is 2).")
@click.option("--slack-rate-limit", type=click.FloatRange(min=0, min_open=True),
              help="Slack's limit alone.")
@click.option("--burst", type=click.IntRange(1),
              help="Token bucket size [default: one second's worth].")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests that get an injected fault.")
@click.option("--faults", callback=_faults, default="all", show_default=True,
              help=f"Comma-separated fault kinds: {_FAULT_NAMES}, or all.")
@click.option("--slow-body-ms", type=click.FloatRange(0), default=2000.0, show_default=True,
              help="How long a 'slow' fault takes to send its body.")
@click.option("--slack-non-marketplace", is_flag=True,
              help="Slack's 2025 terms: history/replies at most 15 messages, 1 call a minute.")
@click.option("--stripe-key", envvar="CSCOR_SANDBOX_STRIPE_KEY", metavar="KEY",
              help="The Stripe key the sandbox accepts [default: sk_test_sandbox]. Prefer the "
              "environment variable CSCOR_SANDBOX_STRIPE_KEY: a command line is visible to "
              "every user of the machine.")
@click.option("--resend-key", envvar="CSCOR_SANDBOX_RESEND_KEY", metavar="KEY",
              help="The Resend key it accepts [default: re_sandbox]; or "
              "CSCOR_SANDBOX_RESEND_KEY.")
@click.option("--slack-token", envvar="CSCOR_SANDBOX_SLACK_TOKEN", metavar="TOKEN",
              help="The Slack token it accepts [default: xoxb-sandbox]; or "
              "CSCOR_SANDBOX_SLACK_TOKEN.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True),
              help="Stop after this many seconds [default: run until Ctrl-C].")
def serve(port: int, seed: int, scale: float, anchor: datetime, latency_ms: float,
          per_object_latency_ms: float, rate_limit: float | None,
          stripe_rate_limit: float | None, resend_rate_limit: float | None,
          slack_rate_limit: float | None, burst: int | None, fault_rate: float,
          faults: tuple[FaultKind, ...], slow_body_ms: float, slack_non_marketplace: bool,
          stripe_key: str | None, resend_key: str | None, slack_token: str | None,
          duration: float | None, **volumes: Any) -> None:
    """Serve Stripe (/v1/), Slack (/api/) and Resend (/) on one local port.

    \b
    Example:
      cscor sandbox serve --seed 7 --scale 10 --fault-rate 0.05
      STRIPE_API_KEY=sk_test_sandbox cscor sync stripe --api-base http://127.0.0.1:8686
    """
    limits: dict[str, float | None] = {p: rate_limit for p in ("stripe", "resend", "slack")}
    for provider, value in (("stripe", stripe_rate_limit), ("resend", resend_rate_limit),
                            ("slack", slack_rate_limit)):
        if value is not None:
            limits[provider] = value
    chosen = {"stripe": stripe_key, "resend": resend_key, "slack": slack_token}
    try:
        accepted_credentials(chosen)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--stripe-key/--resend-key/--slack-token") \
            from None
    sb = Sandbox(
        credentials=chosen,
        seed=seed, scale=scale, anchor=anchor, port=port, latency_ms=latency_ms,
        per_object_latency_ms=per_object_latency_ms,
        rate_limit={p: v for p, v in limits.items() if v is not None},
        burst=burst, fault_rate=fault_rate, faults=faults, slow_body_ms=slow_body_ms,
        slack_non_marketplace=slack_non_marketplace,
        **{k: v for k, v in volumes.items() if v is not None},
    )
    click.echo("Generating the sandbox's data…", err=True)
    with sb:
        info = sb.info()
        click.echo(f"Sandbox ready in {info['generation_seconds']:.1f}s (seed {seed}, "
                   f"clock {info['now']}, Stripe API {info['stripe_api_version']}).")
        rows = [
            ("Stripe", sb.base_url("stripe"), sb.credentials("stripe")),
            ("Resend", sb.base_url("resend"), sb.credentials("resend")),
            ("Slack", sb.base_url("slack"), sb.credentials("slack")),
        ]
        for name, url, credential in rows:
            # a key the user chose is theirs to know: never printed
            given = chosen[name.lower()] is not None
            click.echo(f"  {name:<7} {url:<32} {'(the key you gave)' if given else credential}")
        click.echo(f"  {'Admin':<7} {sb.url}/_sandbox/")
        click.echo("Press Ctrl-C to stop." if duration is None
                   else f"Serving for {duration:g}s.")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops it
            _wait(sb, duration)
        served = sb.stats()
    total = sum(s["requests"] for s in served.values())
    click.echo(f"Stopped after {total} request(s).")
