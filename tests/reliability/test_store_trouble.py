"""Store trouble in the middle of a sync: PostgreSQL restarted, a SQLite disk that fills up, a
SQLite database another process holds locked. Each ends in a clear error (never a traceback),
an intact database, and a next run that completes with the exact data."""

from __future__ import annotations

import glob
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from benchmarks.reliability import (
    REPO,
    committed_rows,
    credential,
    integrity,
    snapshot,
    sync_into,
)
from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import open_store
from tests.conftest import _require_postgres
from tests.reliability.conftest import show

CLI = [sys.executable, "-c", "from cscor_tools.cli import main; main()"]


def cscor(args: list[str], env: dict[str, str],
          **kwargs: object) -> subprocess.CompletedProcess[str]:
    """`cscor ARGS` in a process of its own."""
    return subprocess.run([*CLI, *args], cwd=REPO, env={**os.environ, **env}, text=True,
                          capture_output=True, timeout=300, **kwargs)  # type: ignore[call-overload]


# -- PostgreSQL restarted --------------------------------------------------------------------


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if found:
        return found[-1]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        pytest.skip("pg_ctl not found: cannot restart a PostgreSQL server")
    return str(Path(pg_ctl).parent)


def _as_postgres(command: str) -> None:
    argv = ["su", "postgres", "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else [
        "sh", "-c", command]
    # no pipes: the server started would hold them open after pg_ctl returns
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, str]]:
    """A PostgreSQL server of this test's own (the shared one is never restarted): its URL
    and data folder."""
    _require_postgres()
    out = subprocess.run(
        ["bash", "-c", 'source .ci/postgres.sh start >&2 && echo "$CSCOR_TEST_POSTGRES_URL"'
                       ' && echo "$PGTMP"'],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=True)
    url, folder = out.stdout.split()
    try:
        yield url, folder
    finally:
        subprocess.run(["bash", ".ci/postgres.sh", "stop", folder], cwd=REPO,
                       capture_output=True, timeout=120)


def test_postgres_restarted_mid_sync_fails_clearly_and_the_next_run_completes(
    sandbox: Sandbox, own_postgres: tuple[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, folder = own_postgres
    reference = str(tmp_path / "reference.db")
    sync_into("stripe", sandbox, reference)
    want = snapshot(reference)
    with open_store(url):
        pass  # migrated before the sync: the restart hits the sync, not the migration
    probe = committed_rows(url)
    restarted, back = threading.Event(), threading.Event()
    real = httpx.HTTPTransport.handle_request

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if not restarted.is_set() and probe() > 0:
            restarted.set()
            _as_postgres(f"{_pg_bin()}/pg_ctl -D '{folder}/data' -l '{folder}/server.log' "
                         "-m fast -w restart")
            back.set()
        return real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    result = CliRunner().invoke(cli, ["--workspace", url, "sync", "stripe", "--api-base",
                                      sandbox.base_url("stripe")],
                                env=credential("stripe", sandbox))
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", real)
    probe.close()  # type: ignore[attr-defined]
    show({"exit_code": result.exit_code, "output": result.output[-400:]})
    assert restarted.is_set() and back.wait(60)  # the next run comes once the server is up
    assert result.exit_code == ExitCode.STORE, result.output
    assert "Traceback" not in result.output and "Internal error" not in result.output
    assert "127.0.0.1" in result.output  # names the workspace (without a password)
    again = sync_into("stripe", sandbox, url)
    assert again.status == "succeeded"
    assert snapshot(url) == want
    with open_store(url) as store:
        assert [r.status for r in store.runs(2)] == ["succeeded", "interrupted"]


# -- a SQLite disk that fills up -------------------------------------------------------------


def test_a_full_disk_fails_clearly_leaves_an_intact_database_and_the_next_run_completes(
    sandbox: Sandbox, tmp_path: Path,
) -> None:
    reference = str(tmp_path / "reference.db")
    sync_into("stripe", sandbox, reference)
    want = snapshot(reference)
    full_size = os.path.getsize(reference)
    workspace = tmp_path / "w.db"
    env = credential("stripe", sandbox)
    assert cscor(["--workspace", str(workspace), "init"], env).returncode == 0
    empty = os.path.getsize(workspace)
    limit = empty + (full_size - empty) // 3  # no file may grow past this: the disk is "full"

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    failed = cscor(["--workspace", str(workspace), "sync", "stripe", "--api-base",
                    sandbox.base_url("stripe")], env, preexec_fn=small_disk)
    show({"limit_bytes": limit, "exit_code": failed.returncode, "stderr": failed.stderr[-300:]})
    assert failed.returncode == ExitCode.STORE, failed.stderr
    error = failed.stderr.splitlines()[-1]
    # the file-size limit fails a write with EFBIG, which SQLite reports as an I/O error; a
    # full disk (ENOSPC) is "database or disk is full". Either way the error of the write.
    assert error.startswith(f"Error: {workspace}: ") and (
        "disk is full" in error or "disk I/O error" in error), error
    assert "Traceback" not in failed.stderr
    assert integrity(str(workspace)) == "ok"
    again = cscor(["--workspace", str(workspace), "sync", "stripe", "--api-base",
                   sandbox.base_url("stripe")], env)
    assert again.returncode == 0, again.stderr
    assert integrity(str(workspace)) == "ok"
    assert snapshot(str(workspace)) == want


# -- a SQLite database locked by another process ---------------------------------------------

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO cscor_meta (key, value) VALUES ('held', 'yes')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def _hold_lock(workspace: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(workspace), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_sync_waits_for_another_process_that_holds_the_database_briefly(
    sandbox: Sandbox, tmp_path: Path,
) -> None:
    reference = str(tmp_path / "reference.db")
    sync_into("stripe", sandbox, reference)
    workspace = tmp_path / "w.db"
    env = credential("stripe", sandbox)
    assert cscor(["--workspace", str(workspace), "init"], env).returncode == 0
    holder = _hold_lock(workspace, 2.0)
    started = time.perf_counter()
    done = cscor(["--workspace", str(workspace), "sync", "stripe", "--api-base",
                  sandbox.base_url("stripe")], env)
    holder.wait(30)
    show({"waited_s": round(time.perf_counter() - started, 2), "exit_code": done.returncode})
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - started >= 1.5  # it waited for the lock, it did not fail
    assert integrity(str(workspace)) == "ok"
    assert snapshot(str(workspace)) == snapshot(reference)


@pytest.mark.slow
def test_a_database_locked_longer_than_the_busy_timeout_fails_clearly(
    sandbox: Sandbox, tmp_path: Path,
) -> None:
    workspace = tmp_path / "w.db"
    env = credential("stripe", sandbox)
    assert cscor(["--workspace", str(workspace), "init"], env).returncode == 0
    holder = _hold_lock(workspace, 40.0)
    try:
        failed = cscor(["--workspace", str(workspace), "sync", "stripe", "--api-base",
                        sandbox.base_url("stripe")], env)
    finally:
        holder.kill()
        holder.wait(30)
    show({"exit_code": failed.returncode, "stderr": failed.stderr[-300:]})
    assert failed.returncode == ExitCode.STORE, failed.stderr
    assert str(workspace) in failed.stderr and "locked" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert integrity(str(workspace)) == "ok"
    conn = sqlite3.connect(workspace)
    try:
        assert conn.execute("SELECT COUNT(*) FROM cscor_meta WHERE key = 'held'").fetchone() == (0,)
    finally:
        conn.close()
    again = cscor(["--workspace", str(workspace), "sync", "stripe", "--api-base",
                   sandbox.base_url("stripe")], env)
    assert again.returncode == 0, again.stderr
