"""Stripe sync against the sandbox: rate-limit use, speed-up over a sequential paginator, and
the cost of an incremental run after 1% of the account changed.

The sandbox runs in a subprocess (its own GIL) with 50 ms of latency per request and a
100 requests/s limit; the connector syncs 20,000 customers and 60,000 invoices (with their
lines, charges and payment intents) into a fresh SQLite workspace.

Baseline: a plain sequential paginator (httpx, ``limit=100``, ``starting_after``, the same
parameters the connector sends) over the same server in the same run, doing the same complete
work — including the extra request for each invoice whose embedded lines are cut short, as the
connector does — timed over the first ``baseline_pages`` pages of each of the four lists and
extrapolated linearly to the objects the connector listed. Then the sandbox mutates 1% of its
objects (0.4% created, 0.5% updated, 0.1% deleted) and an incremental run is counted against
the full one.

Memory: each sync runs in a fresh child process, which reads its own peak resident memory
(``VmHWM``), so neither the SDK measurement below nor an earlier sync's peak is counted. The
same sync of an account a third the size runs first: memory must not grow with the account
(peak ≤ 150 MB at the full size, at most +15% over the third).

Also measured: the CPU cost of decoding one 100-invoice page with the official SDK
(``StripeClient.v1.invoices.list``) against ``json.loads``, the figure behind the connector's
choice of httpx for its hot path.

``--set customers=2000 --set invoices_per_customer=3`` for a quick run.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks import target

LIMIT = 100.0
LISTS = (
    ("/v1/customers", ()),
    ("/v1/invoices", (("expand[]", "data.payments"),)),
    ("/v1/charges", ()),
    ("/v1/payment_intents", ()),
)


def run(options: dict[str, str]) -> dict[str, Any]:
    from cscor_tools.connectors.stripe import API_VERSION
    from cscor_tools.sandbox.sandbox import Sandbox

    customers = int(options.get("customers", 20_000))
    per_customer = float(options.get("invoices_per_customer", 3.0))
    latency = float(options.get("latency_ms", 50))
    limit = float(options.get("rate_limit", LIMIT))
    baseline_pages = int(options.get("baseline_pages", 15))
    concurrency = int(options["concurrency"]) if "concurrency" in options else None
    out: dict[str, Any] = {"customers": customers, "invoices_per_customer": per_customer,
                           "latency_ms": latency, "rate_limit": limit}
    out.update(measure_decoding())
    third = max(1, customers // 3)
    with Sandbox(seed=11, customers=third, invoices_per_customer=per_customer,
                 latency_ms=latency, rate_limit={"stripe": limit}, process=True) as small:
        small.warm()
        with tempfile.TemporaryDirectory() as tmp:
            small_run = _sync(small, Path(tmp) / "w.db", concurrency, limit)
    with Sandbox(seed=11, customers=customers, invoices_per_customer=per_customer,
                 latency_ms=latency, rate_limit={"stripe": limit}, process=True) as sb:
        sb.warm()
        truth = sb.expected_counts()
        out["sandbox_objects"] = {k: v for k, v in truth.items() if k.startswith("stripe.")}
        with tempfile.TemporaryDirectory() as tmp:
            full = _sync(sb, Path(tmp) / "w.db", concurrency, limit)
            sequential = _sequential(sb, baseline_pages, API_VERSION)
            sb.mutate(create=0.004, update=0.005, delete=0.001)
            incremental = _sync(sb, Path(tmp) / "w.db", concurrency, limit)
    req = full["requests"]
    rps = req["requests"] / full["seconds"]
    objects = sum(full["listed"].values())
    objects_per_s = objects / full["seconds"]
    speedup = objects_per_s / sequential["objects_per_s"]
    fraction = incremental["requests"]["requests"] / req["requests"]
    out.update({
        "full_seconds": round(full["seconds"], 2),
        "full_requests": int(req["requests"]),
        "requests_per_s": round(rps, 1),
        "objects_listed": objects,
        "objects_per_s": round(objects_per_s, 1),
        "rows_written": full["rows"],
        "rows_match_sandbox": full["rows_match"],
        "rate_limited_429": int(req["rate_limited"]),
        "retries": int(req["retries"]),
        "failed_requests": int(req["failed"]),
        "peak_rss_mb": full["peak_rss_mb"],
        "peak_rss_mb_third_size": small_run["peak_rss_mb"],
        "third_size_customers": third,
        "incremental_peak_rss_mb": incremental["peak_rss_mb"],
        "sequential_objects_per_s": round(sequential["objects_per_s"], 1),
        "sequential_requests_per_s": round(sequential["requests_per_s"], 1),
        "sequential_sample": sequential["sample"],
        "sequential_extrapolated_s": round(objects / sequential["objects_per_s"], 1),
        "incremental_requests": int(incremental["requests"]["requests"]),
        "incremental_seconds": round(incremental["seconds"], 2),
        "incremental_rows": incremental["rows"],
        "incremental_status": incremental["status"],
        "full_status": full["status"],
    })
    out["targets"] = {
        "rate_utilization": target(rps / limit, 0.9),
        "failed_requests": target(req["failed"], 0, at_least=False),
        "speedup_vs_sequential": target(speedup, 4.0),
        "incremental_request_fraction": target(fraction, 0.03, at_least=False),
        "peak_rss_mb": target(full["peak_rss_mb"], 150.0, at_least=False),
        "rss_growth_third_to_full": target(
            round(full["peak_rss_mb"] / small_run["peak_rss_mb"] - 1, 3), 0.15, at_least=False),
    }
    return out


def _sync(sb: Any, path: Path, concurrency: int | None, limit: float) -> dict[str, Any]:
    """One sync, in a fresh process (see the module docstring), checked against the sandbox."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(1) as pool:
        out: dict[str, Any] = pool.apply(
            _sync_here, (sb.base_url("stripe"), sb.credentials("stripe"), str(path),
                         concurrency, limit))
    truth = sb.expected_counts()
    out["rows_match"] = out.pop("live") == {"clients": truth["stripe.customers"],
                                            "invoices": truth["stripe.invoices"]}
    return out


def _sync_here(base_url: str, key: str, path: str, concurrency: int | None,
               limit: float) -> dict[str, Any]:
    from cscor_tools.store import open_store
    from cscor_tools.workspace import sync_connector

    store = open_store(path)
    try:
        started = time.perf_counter()
        result = sync_connector("stripe", store=store, base_url=base_url,
                                env={"STRIPE_API_KEY": key}, rate_limit=limit,
                                concurrency=concurrency)
        seconds = time.perf_counter() - started
        live = {e: store.count(e, include_deleted=False) for e in ("clients", "invoices")}
        details = store.runs(1)[0].details
    finally:
        store.close()
    with open("/proc/self/status") as status:
        peak_kb = int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
    return {
        "seconds": seconds,
        "status": result.status,
        "requests": result.requests,
        "rows": result.rows(),
        "listed": {s["stream"]: s["objects"] for s in details["streams"]
                   if s["stream"] != "events"},
        "live": live,
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def _sequential(sb: Any, pages: int, version: str) -> dict[str, Any]:
    """The crawl users complain about: one page per round trip, one list after another."""
    headers = {"Authorization": f"Bearer {sb.credentials('stripe')}", "Stripe-Version": version}
    objects = requests = 0
    started = time.perf_counter()
    with httpx.Client(base_url=sb.base_url("stripe"), headers=headers, timeout=60) as client:
        for path, extra in LISTS:
            after: str | None = None
            for _ in range(pages):
                params: list[tuple[str, str | int]] = [("limit", 100), *extra]
                if after:
                    params.append(("starting_after", after))
                response = client.get(path, params=params)
                response.raise_for_status()
                body = json.loads(response.content)
                requests += 1
                objects += len(body["data"])
                # A complete crawl also fetches the lines an invoice does not embed in full.
                for obj in body["data"]:
                    lines = obj.get("lines") if path == "/v1/invoices" else None
                    line_after = lines["data"][-1]["id"] if lines and lines["has_more"] else None
                    while line_after:
                        more = client.get(f"/v1/invoices/{obj['id']}/lines",
                                          params={"limit": 100, "starting_after": line_after})
                        more.raise_for_status()
                        requests += 1
                        got = json.loads(more.content)
                        line_after = got["data"][-1]["id"] if got["has_more"] else None
                if not body["has_more"]:
                    break
                after = body["data"][-1]["id"]
    seconds = time.perf_counter() - started
    return {"objects_per_s": objects / seconds, "requests_per_s": requests / seconds,
            "sample": f"{requests} pages, {objects} objects in {seconds:.1f}s"}


def measure_decoding(repeat: int = 5) -> dict[str, Any]:
    """CPU per 100-invoice page: the official SDK's list call against json.loads."""
    import stripe
    from stripe._http_client import HTTPClient

    fixture = json.loads(Path(__file__).resolve().parents[1].joinpath(
        "cassettes", "stripe", "fixture_objects.json").read_text())
    invoice = fixture["invoice"]
    page = json.dumps({"object": "list", "has_more": True, "url": "/v1/invoices",
                       "data": [dict(invoice, id=f"in_{i:024d}") for i in range(100)]}).encode()

    class Canned(HTTPClient):
        name = "canned"

        def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
            return page, 200, {"request-id": "req_benchmark"}

        def request_stream(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        def close(self) -> None:
            pass

    client = stripe.StripeClient("sk_test_benchmark", http_client=Canned(),
                                 stripe_version=stripe.api_version)

    def best(func: Any) -> float:
        times = []
        for _ in range(repeat):
            started = time.process_time()
            func()
            times.append(time.process_time() - started)
        return min(times) * 1000

    sdk = best(lambda: client.v1.invoices.list({"limit": 100}))
    plain = best(lambda: json.loads(page))
    return {"sdk_ms_per_100_invoice_page": round(sdk, 1),
            "json_ms_per_100_invoice_page": round(plain, 1),
            "sdk_over_json": round(sdk / plain, 1)}
