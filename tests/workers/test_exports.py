"""Export jobs on the queue, run by real worker processes into moto's S3 server: queued from
the command line or by a named job (after its syncs), retried with backoff, parked with
their error, and a bundle that is whole or not counted (manifest last)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.config import Config, ExportSpec, parse_config
from cscor_tools.errors import ConfigError, RejectedInputError
from cscor_tools.sandbox.accounts import SandboxAccounts
from cscor_tools.store import open_store
from cscor_tools.workers import ExportJob, Queue
from tests.export.s3 import BUCKET, moto_s3, objects
from tests.export.sample import seed

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def s3env() -> Iterator[dict[str, str]]:
    with moto_s3() as env:
        yield env


@pytest.fixture
def workspace(new_schema: Callable[[], str]) -> str:
    url = new_schema()
    with open_store(url, create=True) as store:
        seed(store)
    return url


def worker(queue_url: str, *args: str, env: dict[str, str] | None = None,
           cwd: Path | None = None, concurrency: int = 1) -> subprocess.Popen[bytes]:
    """A `cscor worker` process (the package from this checkout); ``args``: global options."""
    return subprocess.Popen(
        [sys.executable, "-c", "from cscor_tools.cli import main; main()", *args,
         "--log-format", "json", "worker", "--queue", queue_url, "--heartbeat", "0.5",
         "--concurrency", str(concurrency)],
        env={**os.environ, "PYTHONPATH": os.getcwd(), **(env or {})}, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_for(what: Callable[[], bool], timeout: float, message: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            pytest.fail(message())
        time.sleep(0.1)


def stop(*procs: subprocess.Popen[bytes] | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def assert_whole(prefix: str) -> dict[str, object]:
    """The bundle under ``prefix`` is whole: its manifest lists every data object, with the
    size and sha256 each has, and nothing of a writer is left."""
    found = objects(prefix)
    assert "_cscor_writing" not in found
    manifest = json.loads(found.pop("manifest.json"))
    found.pop("datapackage.json", None)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(found)
    for path, data in found.items():
        assert listed[path]["bytes"] == len(data)
        assert listed[path]["sha256"] == hashlib.sha256(data).hexdigest()
    return manifest


def test_a_queued_export_is_written_by_a_worker_process(
    s3env: dict[str, str], queue_url: str, workspace: str
) -> None:
    runner = CliRunner()
    queued = runner.invoke(cli, ["--workspace", workspace, "enqueue", "export", "--queue",
                                 queue_url, "--out", f"s3://{BUCKET}/one/", "--format",
                                 "parquet"])
    assert queued.exit_code == 0, queued.output
    assert "Queued job #" in queued.output
    again = runner.invoke(cli, ["--workspace", workspace, "enqueue", "export", "--queue",
                                queue_url, "--out", f"s3://{BUCKET}/one"])
    assert again.exit_code == 0 and "already waiting" in again.output

    proc = worker(queue_url, env=s3env)
    try:
        wait_for(lambda: [j.status for j in Queue(queue_url).jobs()] == ["succeeded"], 60,
                 lambda: f"{Queue(queue_url).jobs()}")
    finally:
        stop(proc)
    manifest = assert_whole("one/")
    with open_store(workspace) as store:
        assert {f["entity"]: f["rows"] for f in manifest["files"]}["clients"] == \
            store.count("clients", include_deleted=False)
        (run,) = [r for r in store.runs(10) if r.kind == "export"]
    assert run.status == "succeeded" and run.details["out"] == f"s3://{BUCKET}/one/".rstrip("/")
    listed = runner.invoke(cli, ["jobs", "--queue", queue_url])
    assert f"to s3://{BUCKET}/one/" in listed.output


def test_a_named_job_exports_once_its_syncs_succeeded(
    s3env: dict[str, str], queue_url: str, new_schema: Callable[[], str], tmp_path: Path
) -> None:
    workspace = new_schema()
    with SandboxAccounts(["acme"], scale=0.05, rate_limit={"stripe": 50}) as sb:
        config = tmp_path / "cscor.toml"
        config.write_text(
            f'workspace = "{workspace}"\n'
            f'[connectors.stripe]\nbase_url = "{sb.base_url("stripe")}"\n'
            'rate_limit = 50\ncredential_env = "ACME_KEY"\n'
            '[jobs.nightly]\nconnectors = ["stripe"]\n'
            f'[jobs.nightly.export]\nout = "s3://{BUCKET}/nightly/"\nformat = "parquet"\n'
            'partition_by = ["source", "month"]\noverwrite = true\n')
        runner = CliRunner()
        queued = runner.invoke(cli, ["--config", str(config), "enqueue", "job", "nightly",
                                     "--queue", queue_url])
        assert queued.exit_code == 0, queued.output
        assert "nightly: sync stripe" in queued.output
        assert "nightly: export " in queued.output
        # two jobs at once: the export is taken while its sync runs, and waits for it
        proc = worker(queue_url, "--config", str(config), concurrency=2, env={
            **s3env, "ACME_KEY": sb.credentials("acme", "stripe")})
        try:
            wait_for(lambda: [j.status for j in Queue(queue_url).jobs()]
                     == ["succeeded", "succeeded"], 90,
                     lambda: f"{Queue(queue_url).jobs()}")
        finally:
            stop(proc)
        expected = sb.account("acme").expected_counts()
    export, _sync = Queue(queue_url).jobs()
    assert export.attempts >= 2 and Queue(queue_url).failed_attempts(export.id) == 0  # waited
    manifest = assert_whole("nightly/")
    assert manifest["partition_by"] == ["source", "month"]
    rows: dict[str, int] = {}
    for f in manifest["files"]:
        rows[f["entity"]] = rows.get(f["entity"], 0) + f["rows"]
    assert rows["clients"] == expected["stripe.customers"]  # written after the sync, whole


def test_an_export_after_a_failed_sync_is_parked_unwritten(
    s3env: dict[str, str], queue_url: str, workspace: str,
) -> None:
    config = parse_config({"jobs": {"nightly": {
        "connectors": ["stripe"], "workspace": workspace,
        "export": {"out": f"s3://{BUCKET}/stale/"}}}})
    config = Config(None, {}, config.jobs)
    queue = Queue(queue_url)
    parts = queue.enqueue_named(config, "nightly")
    assert [p.title.split()[0] for p in parts] == ["sync", "export"]
    # no STRIPE_API_KEY on the worker: the sync is parked at once, the export then
    env_key = os.environ.pop("STRIPE_API_KEY", None)
    try:
        queue.run_worker(config=config, wait=False, heartbeat=1)
    finally:
        if env_key is not None:
            os.environ["STRIPE_API_KEY"] = env_key
    export, sync = queue.jobs()
    assert sync.parked and export.parked and export.attempts == 1
    assert export.error is not None and f"#{sync.id}" in export.error
    assert "did not succeed" in export.error
    assert objects("stale/") == {}
    with open_store(workspace) as store:
        parked = [r for r in store.runs(10) if r.kind == "job"]
    assert {r.name for r in parked} == {"sync stripe", f"export to s3://{BUCKET}/stale/"}


def test_an_export_that_cannot_reach_its_store_is_retried_then_parked(
    s3env: dict[str, str], queue_url: str, workspace: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = Queue(queue_url)
    queue.enqueue_export(ExportJob(workspace, ExportSpec(f"s3://{BUCKET}/down/"),
                                   attempts=2, backoff=0))
    # the object store is down: nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # cached by arguments, not by the environment
    try:
        queue.run_worker(config=Config(), wait=False, heartbeat=1)
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
    (job,) = queue.jobs()
    assert job.parked and job.status == "failed"
    assert job.error is not None and "cannot write" in job.error
    assert queue.failed_attempts(job.id) == 2  # retried once, after its backoff
    runner = CliRunner()
    status = runner.invoke(cli, ["--workspace", workspace, "status", "--json"])
    runs = json.loads(status.output)["runs"]
    assert [r["status"] for r in runs if r["kind"] == "job"] == ["failed"]
    assert any(r["error"].startswith("parked after 2 attempt(s): ") for r in runs
               if r["kind"] == "job")


def test_what_workers_could_not_export_is_refused_when_queued(workspace: str) -> None:
    with pytest.raises(ConfigError, match="absolute path"):
        ExportJob(workspace, ExportSpec("relative/bundle"))
    with pytest.raises(ConfigError, match="PostgreSQL"):
        ExportJob("w.db", ExportSpec(f"s3://{BUCKET}/x/"))
    with pytest.raises(RejectedInputError, match="since"):
        ExportJob(workspace, ExportSpec(f"s3://{BUCKET}/x/", since="yesterday"))
    with pytest.raises(RejectedInputError, match="Parquet"):
        ExportJob(workspace, ExportSpec(f"s3://{BUCKET}/x/", format="csv",
                                        partition_by=("source",)))
    with pytest.raises(ConfigError, match="key or password"):
        ExportJob(workspace, ExportSpec(f"s3://k:secret@{BUCKET}/x/"))
    job = ExportJob(workspace, ExportSpec(f"s3://{BUCKET}/x/", format="parquet",
                                          partition_by=("source", "month")), after=(3, 4))
    assert ExportJob.from_kwargs(json.loads(json.dumps(job.as_kwargs()))) == job
    with pytest.raises(ConfigError, match=r"jobs\.n\.export: unknown setting 'folder'"):
        parse_config({"jobs": {"n": {"connectors": ["stripe"], "export": {"folder": "x"}}}})
    with pytest.raises(ConfigError, match=r"jobs\.n\.export\.out is missing"):
        parse_config({"jobs": {"n": {"connectors": ["stripe"], "export": {"format": "csv"}}}})


#: what a bundle under way shows: its writer's marker, or, done, its manifest
BEGAN = {"_cscor_writing", "manifest.json"}


@pytest.mark.slow
def test_a_killed_workers_export_is_redone_by_another_and_never_seen_half(
    s3env: dict[str, str], queue_url: str, new_schema: Callable[[], str]
) -> None:
    queue = Queue(queue_url)
    # A kill must land while the bundle is being written. An export that finished first
    # proves nothing: it is not counted, and tried again with four times the data.
    for size in (6000, 24000, 96000):
        workspace = new_schema()
        with open_store(workspace, create=True) as store:
            seed(store, clients=size, invoices=size)
        prefix = f"killed-{size}/"
        job_id = queue.enqueue_export(
            ExportJob(workspace, ExportSpec(f"s3://{BUCKET}/{prefix}"), backoff=0))
        assert job_id is not None
        first = worker(queue_url, env=s3env)
        second = None
        try:
            # killed once its writing has begun: the marker is there, data files are coming
            wait_for(lambda at=prefix: bool(BEGAN & set(objects(at))),
                     60, lambda: f"the export never began: {queue.jobs()}")
            first.kill()
            first.wait()
            if "manifest.json" in objects(prefix):
                continue  # it finished before the kill
            second = worker(queue_url, env=s3env)
            wait_for(lambda job=job_id: [j.status for j in queue.jobs()
                                         if j.id == job] == ["succeeded"],
                     90, lambda: f"{queue.jobs()}")
        finally:
            stop(first, second)
        break
    else:
        pytest.fail("every export finished before its worker could be killed")
    manifest = assert_whole(prefix)
    with open_store(workspace) as store:
        assert {f["entity"]: f["rows"] for f in manifest["files"]}["clients"] == \
            store.count("clients", include_deleted=False)
    (job,) = [j for j in queue.jobs() if j.id == job_id]
    assert queue.failed_attempts(job.id) == 1
    assert job.error is not None and "stopped" in job.error  # its first attempt's
