"""The Stripe connector against the sandbox: counts, incremental, kill and resume, a 429
storm and faults, the 30-day horizon, a refused key, a missing permission and a missing
endpoint."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from cscor_tools.errors import ExitCode
from cscor_tools.schema import make_id
from cscor_tools.store import Store, open_store
from cscor_tools.sync import SyncResult
from cscor_tools.workspace import sync_connector

REPO = Path(__file__).resolve().parents[3]
ENTITIES = ("clients", "contacts", "invoices", "invoice_lines", "payments")
#: columns that say when or how we wrote a row, not what Stripe holds
BOOKKEEPING = {"synced_at", "updated_at", "deleted_at", "deleted_reason"}


def sync(sb: Any, store: Store, *, key: str | None = None, **kw: Any) -> SyncResult:
    return sync_connector("stripe", store=store, base_url=sb.base_url("stripe"),
                          env={"STRIPE_API_KEY": key or sb.credentials("stripe")}, **kw)


def data(store: Store, *, live_only: bool = True) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row by entity and id, without the bookkeeping columns."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for entity in ENTITIES:
        rows = out.setdefault(entity, {})
        for batch in store.iter_rows(entity, include_deleted=not live_only):
            for row in batch:
                rows[row["id"]] = {k: v for k, v in row.items() if k not in BOOKKEEPING}
    return out


def source_ids(store: Store, entity: str, *, deleted: bool = False,
               kind: str | None = None) -> set[str]:
    out = set()
    for batch in store.iter_rows(entity):
        for row in batch:
            if row["deleted"] == deleted and (kind is None or row.get("kind") == kind):
                out.add(row["source_id"])
    return out


def assert_matches_sandbox(sb: Any, store: Store) -> None:
    truth = sb.expected_counts()
    assert source_ids(store, "clients") == set(sb.expected_ids("stripe.customers"))
    assert source_ids(store, "invoices") == set(sb.expected_ids("stripe.invoices"))
    assert len(source_ids(store, "invoice_lines")) == truth["stripe.line_items"]
    assert source_ids(store, "payments", kind="charge") == set(sb.expected_ids("stripe.charges"))
    assert source_ids(store, "payments", kind="payment_intent") == set(
        sb.expected_ids("stripe.payment_intents"))


def test_full_sync_equals_the_sandbox(sandbox_1x: Any, store: Store) -> None:
    sandbox = sandbox_1x
    result = sync(sandbox, store)
    assert result.status == "succeeded", result
    assert_matches_sandbox(sandbox, store)
    truth = sandbox.expected_counts()
    logged = store.runs(1)[0].details["streams"]
    listed = {s["stream"]: s["objects"] for s in logged if s["stream"] != "events"}
    assert listed == {"customers": truth["stripe.customers"],
                      "invoices": truth["stripe.invoices"],
                      "charges": truth["stripe.charges"],
                      "payment_intents": truth["stripe.payment_intents"]}
    rows = result.rows()
    assert rows["clients"] == truth["stripe.customers"]  # listed == written: nothing lost
    assert rows["invoices"] == truth["stripe.invoices"]
    paid = [r for b in store.iter_rows("payments") for r in b
            if r["kind"] == "payment_intent" and r["invoice_id"]]
    assert len(paid) == truth["stripe.invoice_payments"]  # every invoice payment linked
    assert result.requests["failed"] == 0
    assert {s.stream: s.slices for s in result.streams}["invoices"] > 1  # read in windows


def test_incremental_after_mutations_reflects_creates_updates_and_deletes(
    sandbox: Any, store: Store, tmp_path: Path
) -> None:
    full = sync(sandbox, store)
    summary = sandbox.mutate(create=0.05, update=0.1, delete=0.05)
    deleted_customers = set(summary.deleted.get("stripe.customer", []))
    deleted_invoices = set(summary.deleted.get("stripe.invoice", []))
    assert deleted_customers and summary.updated.get("stripe.invoice")
    result = sync(sandbox, store)
    assert result.status == "succeeded"
    assert result.requests["requests"] < full.requests["requests"] / 3
    assert_matches_sandbox(sandbox, store)
    assert source_ids(store, "clients", deleted=True) == deleted_customers
    assert source_ids(store, "invoices", deleted=True) == deleted_invoices
    reference = open_store(tmp_path / "reference.db")
    try:
        sync(sandbox, reference)
        assert data(store) == data(reference)  # every live row, field for field
    finally:
        reference.close()
    gone = {r["source_id"]: r for b in store.iter_rows("clients") for r in b if r["deleted"]}
    assert all("customer.deleted" in r["deleted_reason"] for r in gone.values())


def test_past_the_30_day_horizon_a_reconcile_finds_the_deletions(
    sandbox: Any, store: Store, tmp_path: Path
) -> None:
    sync(sandbox, store)
    summary = sandbox.mutate(create=0.02, update=0.05, delete=0.05)
    deleted = set(summary.deleted.get("stripe.customer", []))
    sandbox.advance(days=31)  # the events of those deletions are gone
    result = sync(sandbox, store)
    assert result.status == "reconciled" and result.exit_code == ExitCode.RECONCILED
    events = {s.stream: s for s in result.streams}["events"]
    assert events.reconciled
    # found by the reconcile's sweeps (or, for a customer created since the last run's
    # newest, by the customers stream's own window sweep)
    assert result.rows().get("clients.deleted") == len(deleted)
    assert source_ids(store, "clients", deleted=True) == deleted
    reasons = {r["deleted_reason"] for b in store.iter_rows("clients") for r in b
               if r["deleted"]}
    assert any("reconcile" in r for r in reasons)
    assert all("deleted at source" in r for r in reasons)
    assert_matches_sandbox(sandbox, store)
    reference = open_store(tmp_path / "reference.db")
    try:
        sync(sandbox, reference)
        assert data(store) == data(reference)
    finally:
        reference.close()
    # the next run is an ordinary incremental one again
    again = sync(sandbox, store)
    assert again.status == "succeeded" and again.requests["requests"] < 15


def clean_sync_data(sb: Any, tmp_path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """What an untroubled sync of the sandbox as it is now writes: the reference to match."""
    reference = open_store(tmp_path / "reference.db")
    try:
        result = sync(sb, reference)
        assert result.status == "succeeded" and result.requests["retries"] == 0
        return data(reference, live_only=False)
    finally:
        reference.close()


def test_a_429_storm_below_the_connectors_rate_ends_with_the_exact_data(
    sandbox: Any, sqlite_store: Store, tmp_path: Path
) -> None:
    clean = clean_sync_data(sandbox, tmp_path)
    # A test-mode account (Stripe allows 25 requests/s) synced at the live 100/s the
    # connector is told it has: Stripe's own limiter refuses what the connector's lets through.
    sandbox.configure(rate_limit={"stripe": 25})
    sandbox.reset_stats()
    result = sync(sandbox, sqlite_store, rate_limit=100)
    assert result.status == "succeeded", [s.error for s in result.streams]
    served = sandbox.stats()["stripe"]
    assert served["faults"] == {}  # every 429 came from the rate limit, none was injected
    assert served["rate_limited"] > 0, served
    assert result.requests["rate_limited"] == served["rate_limited"]
    assert result.requests["retries"] == served["rate_limited"]  # each refusal retried
    assert result.requests["failed"] == 0
    assert data(sqlite_store, live_only=False) == clean  # every row, field for field


def test_an_account_allowed_a_fraction_of_the_rate_is_synced_slower_not_failed(
    sandbox: Any, sqlite_store: Store, tmp_path: Path
) -> None:
    clean = clean_sync_data(sandbox, tmp_path)
    # Told 100/s, allowed 10/s with no room for bursts: without slowing down for good, every
    # pause ends in the next round of 429s until retries run out.
    sandbox.configure(rate_limit={"stripe": 10}, burst=2)
    sandbox.reset_stats()
    result = sync(sandbox, sqlite_store, rate_limit=100)
    assert result.status == "succeeded", [s.error for s in result.streams]
    assert result.requests["rate_limited"] > 0 and result.requests["rate_cuts"] > 0
    assert result.requests["failed"] == 0
    assert data(sqlite_store, live_only=False) == clean


def test_5xx_resets_and_truncated_bodies_end_with_the_exact_data(
    sandbox: Any, sqlite_store: Store, tmp_path: Path
) -> None:
    clean = clean_sync_data(sandbox, tmp_path)
    sandbox.configure(fault_rate=0.1, faults="500,502,503,reset,truncate")
    sandbox.reset_stats()
    result = sync(sandbox, sqlite_store)
    assert result.status == "succeeded", [s.error for s in result.streams]
    faults = sandbox.stats()["stripe"]["faults"]
    assert sum(faults.values()) == result.requests["retries"] > 0
    assert result.requests["server_errors"] > 0 and result.requests["network_errors"] > 0
    assert result.requests["failed"] == 0
    assert data(sqlite_store, live_only=False) == clean
    assert_matches_sandbox(sandbox, sqlite_store)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_a_random_page_then_resume_equals_an_uninterrupted_run(
    sandbox_1x: Any, tmp_path: Path, seed: int
) -> None:
    sandbox = sandbox_1x
    workspace = tmp_path / "killed.db"
    reference = open_store(tmp_path / "reference.db")
    try:
        before = sandbox.stats()["stripe"]["requests"]
        pages = sum(s.pages for s in sync(sandbox, reference).streams)
        uninterrupted = sandbox.stats()["stripe"]["requests"] - before
        # after the planning probes, while pages are being read and written
        kill_at = random.Random(seed).randint(uninterrupted - pages + 3, uninterrupted - 2)
        proc = subprocess.run(
            [sys.executable, "-m", "tests.connectors.stripe.kill_child",
             sandbox.base_url("stripe"), str(workspace), str(kill_at)],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
            timeout=120,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
        store = open_store(workspace)
        try:
            committed = sum(store.count(e) for e in ENTITIES)
            assert 0 < committed < sum(reference.count(e) for e in ENTITIES)
            before = sandbox.stats()["stripe"]["requests"]
            result = sync(sandbox, store)
            resumed = sandbox.stats()["stripe"]["requests"] - before
            assert result.status == "succeeded"
            assert resumed < uninterrupted  # resumed where it was, not from zero
            assert data(store, live_only=False) == data(reference, live_only=False)
            for stream in ("customers", "invoices", "charges", "payment_intents", "events"):
                assert store.load_state("stripe", stream) == reference.load_state(
                    "stripe", stream)
        finally:
            store.close()
    finally:
        reference.close()


def test_a_refused_key_fails_every_stream_naming_the_variable(
    sandbox: Any, sqlite_store: Store
) -> None:
    result = sync(sandbox, sqlite_store, key="sk_test_wrong_key_0000")
    assert result.status == "failed" and result.exit_code == ExitCode.PROVIDER_AUTH
    for stream in result.streams:
        assert "STRIPE_API_KEY" in (stream.error or "")
        assert "wrong_key" not in (stream.error or "")
    assert sqlite_store.count("clients") == 0


def test_rows_record_version_and_mode(sandbox: Any, sqlite_store: Store) -> None:
    from cscor_tools.connectors.stripe import API_VERSION

    sync(sandbox, sqlite_store)
    row = sqlite_store.get_rows("clients", [make_id(
        "clients", "stripe", sandbox.expected_ids("stripe.customers")[0])])
    (client,) = row.values()
    assert client["source_version"] == API_VERSION and client["livemode"] is False
    details = sqlite_store.runs(1)[0].details
    assert details["api_version"] == API_VERSION and details["key_mode"] == "test"


class NoChargesPermission(httpx.HTTPTransport):
    """The sandbox seen through a restricted key that lacks the Charges read permission:
    Stripe answers such a key's charge requests with this 403."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/charges"):
            return httpx.Response(403, json={"error": {
                "type": "invalid_request_error",
                "message": "The provided key 'rk_test_****abcd' does not have the required "
                           "permissions for this endpoint on account 'acct_1'. Having the "
                           "'rak_charge_read' permission would allow this request to continue.",
            }})
        return super().handle_request(request)


def test_a_restricted_key_lacking_a_permission_fails_that_stream_only(
    sandbox: Any, sqlite_store: Store
) -> None:
    result = sync(sandbox, sqlite_store, transport=NoChargesPermission())
    assert result.status == "partial" and result.exit_code == ExitCode.PARTIAL
    by_name = {s.stream: s for s in result.streams}
    charges = by_name.pop("charges")
    assert charges.status == "failed" and charges.error_code == ExitCode.PROVIDER_AUTH
    assert "'Charges: Read'" in (charges.error or "") and "abcd" not in (charges.error or "")
    assert all(s.status == "ok" for s in by_name.values())
    assert sqlite_store.count("clients") == sandbox.expected_counts()["stripe.customers"]


class NoPaymentIntentsEndpoint(httpx.HTTPTransport):
    """A Stripe-compatible server without the PaymentIntents API: Stripe's answer to a URL
    it does not route."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/payment_intents"):
            return httpx.Response(404, json={"error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL (GET: {request.url.path}). Please see "
                           "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            }})
        return super().handle_request(request)


def test_a_404_endpoint_fails_that_stream_only_naming_it(
    sandbox: Any, sqlite_store: Store
) -> None:
    key = sandbox.credentials("stripe")
    result = sync(sandbox, sqlite_store, transport=NoPaymentIntentsEndpoint())
    assert result.status == "partial" and result.exit_code == ExitCode.PARTIAL
    by_name = {s.stream: s for s in result.streams}
    intents = by_name.pop("payment_intents")
    assert intents.status == "failed" and intents.error_code == ExitCode.PROVIDER_REQUEST
    error = intents.error or ""
    assert "/v1/payment_intents (HTTP 404)" in error and "does not serve this endpoint" in error
    assert "--api-base" in error and key not in error
    assert all(s.status == "ok" for s in by_name.values()), by_name
    assert source_ids(sqlite_store, "clients") == set(sandbox.expected_ids("stripe.customers"))
    assert source_ids(sqlite_store, "invoices") == set(sandbox.expected_ids("stripe.invoices"))
    assert source_ids(sqlite_store, "payments", kind="charge") == set(
        sandbox.expected_ids("stripe.charges"))
    assert result.requests["failed"] == 1  # fatal at once: a 404 is not retried


def test_the_cli_says_loudly_that_a_reconcile_ran_and_exits_12(
    sandbox: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from cscor_tools.cli import cli

    args = ["--workspace", str(tmp_path / "w.db"), "--log-format", "json",
            "sync", "stripe", "--api-base", sandbox.base_url("stripe")]
    env = {"STRIPE_API_KEY": sandbox.credentials("stripe")}
    first = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    sandbox.mutate(create=0.02, update=0.05, delete=0.05)
    sandbox.advance(days=31)
    second = CliRunner().invoke(cli, args, env=env)
    assert second.exit_code == ExitCode.RECONCILED, second.output
    assert "NOTE: the provider's change feed no longer reached back" in second.stderr
    assert "stripe: reconciled" in second.stdout

