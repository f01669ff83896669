"""The sync engine end to end, with the proof connector, on both stores."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.connectors import register_connector, unregister_connector
from cscor_tools.errors import ExitCode
from cscor_tools.store import Store, open_store
from cscor_tools.workspace import sync_connector
from tests.proof.connector import ItemsStream, ProofConnector
from tests.proof.server import TOKEN, LedgerServer

REPO = Path(__file__).resolve().parents[2]
ENV = {"PROOF_TOKEN": TOKEN}
PAGES = -(-250 // ItemsStream.page_size)  # 250 items, 20 a page: 13 pages


@pytest.fixture(autouse=True)
def registered() -> Any:
    register_connector(ProofConnector)
    yield
    unregister_connector("proof")


@pytest.fixture
def server() -> Any:
    with LedgerServer(250) as s:
        yield s


def rows(store: Store) -> dict[str, dict[str, Any]]:
    """Every clients row by id, without the column that records *when* we wrote it."""
    out = {}
    for batch in store.iter_rows("clients"):
        for r in batch:
            r.pop("synced_at")
            out[r["id"]] = r
    return out


def test_full_sync_writes_every_item_and_logs_the_run(store: Store, server: LedgerServer) -> None:
    result = sync_connector("proof", store=store, base_url=server.url, env=ENV)
    assert result.status == "succeeded"
    assert result.rows() == {"clients": 250}
    assert store.count("clients") == 250
    assert server.pages_served == PAGES
    run = store.runs(1)[0]
    assert (run.kind, run.name, run.status) == ("sync", "proof", "succeeded")
    assert run.counts["rows"] == {"clients": 250}
    state = store.load_state("proof", "items")
    assert state.slices == {}  # slice cursors folded into the stream cursor
    assert state.cursor is not None and state.cursor["token"][1] == "it_00249"


def test_incremental_sync_fetches_only_changes(store: Store, server: LedgerServer) -> None:
    sync_connector("proof", store=store, base_url=server.url, env=ENV)
    server.ledger.update("it_00007", name="Renamed")
    server.ledger.update("it_00100", email="new@example.com")
    server.ledger.delete("it_00042")
    before = server.requests
    result = sync_connector("proof", store=store, base_url=server.url, env=ENV)
    assert server.requests - before == 1  # one page holds all three changes
    assert result.rows() == {"clients": 2, "clients.deleted": 1}
    got = rows(store)
    from cscor_tools.schema import make_id

    assert got[make_id("clients", "proof", "it_00007")]["name"] == "Renamed"
    assert got[make_id("clients", "proof", "it_00100")]["email"] == "new@example.com"
    gone = got[make_id("clients", "proof", "it_00042")]
    assert gone["deleted"] is True and gone["deleted_reason"] == "deleted at source"
    assert gone["name"] == "Item 42"  # a tombstone keeps what we knew
    assert store.count("clients", include_deleted=False) == 249


def test_full_flag_rescans_everything(store: Store, server: LedgerServer) -> None:
    sync_connector("proof", store=store, base_url=server.url, env=ENV)
    before = server.pages_served
    sync_connector("proof", store=store, base_url=server.url, env=ENV, full=True)
    assert server.pages_served - before == PAGES


def test_retries_transient_errors_and_ends_with_exact_data(
    store: Store, server: LedgerServer
) -> None:
    server.faults = [(429, {"Retry-After": "0"}), (500, {}), (503, {"Retry-After": "0"})]
    result = sync_connector("proof", store=store, base_url=server.url, env=ENV)
    assert result.status == "succeeded"
    assert result.requests["retries"] == 3
    assert result.requests["rate_limited"] == 1
    assert result.requests["server_errors"] == 2
    assert result.requests["failed"] == 0
    assert store.count("clients") == 250


def test_a_401_fails_with_a_clear_message_naming_the_env_var(
    store_url: str, server: LedgerServer
) -> None:
    result = CliRunner().invoke(
        cli, ["--workspace", store_url, "sync", "proof", "--api-base", server.url],
        env={"PROOF_TOKEN": "wrong"},
    )
    assert result.exit_code == ExitCode.PROVIDER_AUTH, result.output
    assert "PROOF_TOKEN" in result.output
    assert "Proof" in result.output
    assert "wrong" not in result.output  # never the credential's value
    assert "Traceback" not in result.output


def test_a_missing_credential_names_the_env_var(store_url: str, server: LedgerServer) -> None:
    result = CliRunner().invoke(
        cli, ["--workspace", store_url, "sync", "proof", "--api-base", server.url], env={}
    )
    assert result.exit_code == ExitCode.CONFIG
    assert "PROOF_TOKEN" in result.output and "Traceback" not in result.output


def test_a_second_sync_of_the_same_connector_is_refused(
    store_url: str, server: LedgerServer
) -> None:
    holder = open_store(store_url)
    try:
        with holder.lock("sync:proof"):
            result = CliRunner().invoke(
                cli, ["--workspace", store_url, "sync", "proof", "--api-base", server.url],
                env=ENV,
            )
        assert result.exit_code == ExitCode.LOCKED
        assert "already running" in result.output
        assert server.requests == 0
        assert holder.count("clients") == 0
        # Once the lock is released the same command works.
        ok = CliRunner().invoke(
            cli, ["--workspace", store_url, "sync", "proof", "--api-base", server.url], env=ENV
        )
        assert ok.exit_code == 0, ok.output
        assert holder.count("clients") == 250
    finally:
        holder.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_a_random_page_then_resume_equals_an_uninterrupted_run(
    store_url: str, server: LedgerServer, tmp_path: Path, seed: int
) -> None:
    kill_at = random.Random(seed).randint(1, PAGES - 1)
    reached = threading.Event()
    release = threading.Event()

    def on_page(n: int) -> None:
        if n == kill_at:
            reached.set()
            release.wait(10)  # hold this connection until the client is dead

    server.on_page = on_page
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.proof.connector", server.url, store_url, TOKEN],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert reached.wait(60), proc.stderr.read().decode() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    server.on_page = None

    store = open_store(store_url)
    try:
        committed = store.count("clients")
        assert committed < 250  # it really died mid-sync
        pages_before = server.pages_served
        result = sync_connector("proof", store=store, base_url=server.url, env=ENV)
        assert result.status == "succeeded"
        # Resumed from the last committed page, not from zero.
        assert server.pages_served - pages_before == PAGES - committed // ItemsStream.page_size
        statuses = [r.status for r in store.runs(5)]
        assert statuses == ["succeeded", "interrupted"]

        reference = open_store(tmp_path / "reference.db")
        try:
            sync_connector("proof", store=reference, base_url=server.url, env=ENV)
            assert rows(store) == rows(reference)
            assert store.load_state("proof", "items") == reference.load_state("proof", "items")
        finally:
            reference.close()
    finally:
        store.close()
