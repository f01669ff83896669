"""Sync jobs through the queue: queued once, run by a worker, retried with backoff, parked
with their error where `cscor jobs`, `cscor status` and `cscor audit` show it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import psycopg
import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.config import Config, ConnectorConfig
from cscor_tools.sandbox.accounts import SandboxAccounts
from cscor_tools.store import open_store
from cscor_tools.workers import Queue, SyncJob

pytestmark = pytest.mark.postgres

#: a failing request fails its stream at once: the job's retries are what is tested here
ONE_TRY = Config(connectors={"stripe": ConnectorConfig(max_attempts=1)})


@pytest.fixture
def accounts(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxAccounts]:
    with SandboxAccounts(["acme", "globex"], scale=0.05, rate_limit={"stripe": 50}) as sb:
        monkeypatch.setenv("ACME_KEY", sb.credentials("acme", "stripe"))
        monkeypatch.setenv("GLOBEX_KEY", sb.credentials("globex", "stripe"))
        yield sb


def _job(sb: SandboxAccounts, workspace: str, key: str, **kw: object) -> SyncJob:
    return SyncJob(workspace, "stripe", credential_env=key, base_url=sb.base_url("stripe"),
                   rate_limit=50, **kw)  # type: ignore[arg-type]


def test_workers_sync_each_workspace_from_its_own_account(
    queue_url: str, new_schema: Callable[[], str], accounts: SandboxAccounts
) -> None:
    queue = Queue(queue_url)
    acme, globex = new_schema(), new_schema()
    assert queue.enqueue_sync(_job(accounts, acme, "ACME_KEY")) is not None
    assert queue.enqueue_sync(_job(accounts, globex, "GLOBEX_KEY")) is not None
    # the same sync waiting already: not queued twice
    assert queue.enqueue_sync(_job(accounts, acme, "ACME_KEY", full=True)) is None
    queue.run_worker(config=Config(), wait=False, heartbeat=1)

    assert [j.status for j in queue.jobs()] == ["succeeded", "succeeded"]
    for url, name in ((acme, "acme"), (globex, "globex")):
        expected = accounts.account(name).expected_counts()
        with open_store(url) as store:
            assert store.count("clients") == expected["stripe.customers"]
            assert store.count("invoices") == expected["stripe.invoices"]
    with psycopg.connect(queue_url) as conn:
        budgets = [r[0] for r in conn.execute("SELECT account FROM cscor_budgets")]
    assert len(budgets) == 2  # one per account, whatever the workspace


def test_a_failing_sync_is_retried_then_parked_with_its_error(
    queue_url: str, new_schema: Callable[[], str], accounts: SandboxAccounts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts.account("acme").configure(fault_rate=1.0, faults=["500"])
    queue = Queue(queue_url)
    workspace = new_schema()
    queue.enqueue_sync(_job(accounts, workspace, "ACME_KEY", attempts=2, backoff=0))
    queue.run_worker(config=ONE_TRY, wait=False, heartbeat=1)

    (job,) = queue.jobs()
    assert job.status == "failed" and job.parked and job.attempts == 2
    assert job.error is not None and "server error" in job.error
    with psycopg.connect(queue_url) as conn:
        errors = conn.execute(
            "SELECT attempt, parked FROM cscor_job_errors ORDER BY attempt").fetchall()
    assert errors == [(1, False), (2, True)]

    runner = CliRunner()
    monkeypatch.setenv("CSCOR_QUEUE_URL", queue_url)
    listed = runner.invoke(cli, ["jobs", "--parked", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [j["id"] for j in json.loads(listed.output)] == [job.id]
    status = runner.invoke(cli, ["--workspace", workspace, "status", "--json"])
    runs = json.loads(status.output)["runs"]
    parked = [r for r in runs if r["kind"] == "job"]
    assert parked and parked[0]["status"] == "failed"
    assert parked[0]["error"].startswith("parked after 2 attempt(s): ")
    assert [r["status"] for r in runs if r["kind"] == "sync"] == ["failed", "failed"]
    audit = runner.invoke(cli, ["--workspace", workspace, "audit", "--json"])
    entries = [json.loads(line) for line in audit.output.splitlines()]  # JSON lines
    assert any(e["action"] == "job" and e["status"] == "failed" for e in entries)


def test_an_error_that_needs_a_person_is_parked_at_once(
    queue_url: str, new_schema: Callable[[], str], accounts: SandboxAccounts,
) -> None:
    queue = Queue(queue_url)
    workspace = new_schema()
    queue.enqueue_sync(_job(accounts, workspace, "NOBODY_SET_THIS_KEY", attempts=5, backoff=0))
    queue.run_worker(config=Config(), wait=False, heartbeat=1)
    (job,) = queue.jobs()
    assert job.parked and job.attempts == 1
    assert job.error is not None and "NOBODY_SET_THIS_KEY" in job.error


def test_the_cli_queues_a_sync_and_refuses_what_workers_could_not_run(
    queue_url: str, new_schema: Callable[[], str], tmp_path: object,
) -> None:
    runner = CliRunner()
    workspace = new_schema()
    done = runner.invoke(cli, ["--workspace", workspace, "enqueue", "sync", "stripe",
                               "--queue", queue_url, "--account", "acme"])
    assert done.exit_code == 0, done.output
    assert "Queued job #" in done.output
    again = runner.invoke(cli, ["--workspace", workspace, "enqueue", "sync", "stripe",
                                "--queue", queue_url])
    assert again.exit_code == 0 and "already waiting" in again.output
    sqlite = runner.invoke(cli, ["--workspace", "w.db", "enqueue", "sync", "stripe",
                                 "--queue", queue_url])
    assert sqlite.exit_code == 3 and "PostgreSQL workspace" in sqlite.output
    secret = runner.invoke(cli, ["--workspace", "postgresql://u:s3cret@h/db", "enqueue", "sync",
                                 "stripe", "--queue", queue_url])
    assert secret.exit_code == 3 and "s3cret" not in secret.output
    no_queue = runner.invoke(cli, ["--workspace", "w.db", "jobs"], env={"CSCOR_QUEUE_URL": ""})
    assert no_queue.exit_code == 3 and "--queue" in no_queue.output
