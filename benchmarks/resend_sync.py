"""Resend sync against the sandbox: how much of its share of the team's limit a sync uses, how
many requests it makes over the fewest the data needs, and what an incremental run costs.

The sandbox runs in a subprocess (its own GIL) holding 20,000 sent emails, 5,000 contacts and
20 broadcasts (with a tenth as many received emails, three segments and their recipients),
with Resend's team limit compressed in time to 20 requests/s (``ratelimit-*`` headers say so)
and 20 ms of latency. The connector runs with its defaults: it learns the team's limit from
the headers and takes half of it, 10 requests/s.

* **rate use**: requests per second over the run, as a fraction of that share;
* **requests over the minimum**: the fewest requests the data needs is one per hundred
  objects of each list read (at least one per list): sent and received emails, contacts,
  segments and each segment's members, broadcasts, each sent broadcast's recipients per
  outcome read, domains; the sandbox's own listings give the counts;
* **incremental**: after 1% of the objects changed (0.4% created, 0.5% updated — emails moving
  to a new ``last_event`` — 0.1% deleted), the next run's requests over the full run's, the
  re-read window of recent emails (``status_window_days``) counted apart.

Not measured here: ``contact_topics`` (one request per contact, the only way Resend lists a
contact's topic subscriptions: 5,000 requests would be the whole run) is left out of both runs.

``--set emails=2000 --set contacts=500`` for a quick run.
"""

from __future__ import annotations

import math
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks import target

TEAM_LIMIT = 20.0
SHARE = 0.5
STREAMS = ("emails", "received_emails", "contacts", "broadcasts", "broadcast_recipients",
           "domains")


def run(options: dict[str, str]) -> dict[str, Any]:
    from cscor_tools.connectors.resend.streams import BroadcastRecipientsStream
    from cscor_tools.sandbox.sandbox import Sandbox

    emails = int(options.get("emails", 20_000))
    contacts = int(options.get("contacts", 5_000))
    broadcasts = int(options.get("broadcasts", 20))
    latency = float(options.get("latency_ms", 20))
    limit = float(options.get("team_limit", TEAM_LIMIT))
    out: dict[str, Any] = {"emails": emails, "contacts": contacts, "broadcasts": broadcasts,
                           "latency_ms": latency, "team_limit_per_s": limit,
                           "share": SHARE, "streams": list(STREAMS)}
    with Sandbox(seed=13, emails=emails, contacts=contacts, broadcasts=broadcasts,
                 customers=max(1, contacts // 2), latency_ms=latency, process=True) as sb:
        truth = sb.expected_counts()
        out["sandbox_objects"] = {k: v for k, v in truth.items() if k.startswith("resend.")}
        minimum = _minimum(sb, truth, BroadcastRecipientsStream.default_outcomes)
        sb.configure(rate_limit={"resend": limit})  # the team's limit, for the measured runs
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "w.db"
            full = _sync(sb, path)
            sb.mutate(create=0.004, update=0.005, delete=0.001)
            incremental = _sync(sb, path)
        refused = sb.stats()["resend"]["rate_limited"]
    share = limit * SHARE
    req = full["requests"]
    rps = req["requests"] / full["seconds"]
    window = incremental["window_requests"]
    without_window = incremental["requests"]["requests"] - window
    out.update({
        "full_seconds": round(full["seconds"], 2),
        "full_requests": int(req["requests"]),
        "requests_per_s": round(rps, 2),
        "minimum_requests": minimum,
        "learned_team_rate_per_s": full["team_rate"],
        "rows_written": full["rows"],
        "rate_limited_429": int(refused),
        "retries": int(req["retries"]),
        "failed_requests": int(req["failed"]),
        "full_status": full["status"],
        "incremental_requests": int(incremental["requests"]["requests"]),
        "incremental_window_requests": int(window),
        "incremental_status_changes": incremental["status_changes"],
        "incremental_seconds": round(incremental["seconds"], 2),
        "incremental_rows": incremental["rows"],
        "incremental_status": incremental["status"],
    })
    out["targets"] = {
        "rate_use_of_share": target(rps / share, 0.9),
        "requests_over_minimum": target(req["requests"] / minimum, 1.1, at_least=False),
        "incremental_request_fraction": target(without_window / req["requests"], 0.05,
                                               at_least=False),
        "failed_requests": target(req["failed"], 0, at_least=False),
    }
    return out


def _pages(n: int) -> int:
    return max(1, math.ceil(n / 100))


def _minimum(sb: Any, truth: dict[str, int], outcomes: tuple[str, ...]) -> int:
    """The fewest requests that read every object once, a hundred to a page."""
    headers = {"User-Agent": "cscor-benchmark", "Authorization":
               f"Bearer {sb.credentials('resend')}"}
    with httpx.Client(base_url=sb.base_url("resend"), headers=headers, timeout=60) as http:
        def count(path: str, params: dict[str, str]) -> int:
            total, after = 0, None
            while True:
                body = http.get(path, params={**params, "limit": "100",
                                              **({"after": after} if after else {})}).json()
                total += len(body["data"])
                if not body["has_more"]:
                    return total
                after = body["data"][-1]["id"]

        need = _pages(truth["resend.emails"]) + _pages(truth["resend.received_emails"])
        need += _pages(truth["resend.contacts"]) + _pages(truth["resend.domains"])
        segments = http.get("/segments", params={"limit": "100"}).json()["data"]
        need += _pages(len(segments))
        for segment in segments:
            need += _pages(count("/contacts", {"segment_id": segment["id"]}))
        listed = http.get("/broadcasts", params={"limit": "100"}).json()["data"]
        need += _pages(len(listed))
        for broadcast in listed:
            if broadcast["status"] != "sent":
                continue
            for outcome in outcomes:
                need += _pages(count(f"/broadcasts/{broadcast['id']}/recipients",
                                     {"type": outcome}))
    return need


def _sync(sb: Any, path: Path) -> dict[str, Any]:
    """One sync with the connector's defaults, in a fresh process."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(1) as pool:
        out: dict[str, Any] = pool.apply(
            _sync_here, (sb.base_url("resend"), sb.credentials("resend"), str(path)))
    return out


def _sync_here(base_url: str, key: str, path: str) -> dict[str, Any]:
    from cscor_tools.config import Config
    from cscor_tools.store import open_store
    from cscor_tools.workspace import sync_connector

    store = open_store(path)
    try:
        started = time.perf_counter()
        result = sync_connector("resend", store=store, base_url=base_url,
                                env={"RESEND_API_KEY": key}, streams=STREAMS, config=Config())
        seconds = time.perf_counter() - started
        details = store.runs(1)[0].details
    finally:
        store.close()
    emails = details.get("emails", {})
    return {
        "seconds": seconds,
        "status": str(result.status),
        "requests": result.requests,
        "rows": result.rows(),
        "team_rate": details.get("team_rate_per_s"),
        "window_requests": emails.get("window_requests", 0),
        "status_changes": emails.get("status_changes", 0),
    }
