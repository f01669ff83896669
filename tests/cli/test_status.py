"""`cscor status`: the run log as a user reads it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.runs import RunStatus
from cscor_tools.store import open_store

CLIENTS = "id,email,name\n1,a@example.com,A\n"


def invoke(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--workspace", str(tmp_path / "w.db"), *args])


def status_runs(tmp_path: Path) -> list[dict[str, object]]:
    result = invoke(tmp_path, "status", "--json")
    assert result.exit_code == 0, result.output
    runs: list[dict[str, object]] = json.loads(result.output)["runs"]
    return runs


def test_imports_and_exports_end_with_the_words_syncs_use(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(CLIENTS)
    assert invoke(tmp_path, "import", str(tmp_path / "clients.csv")).exit_code == 0
    assert invoke(tmp_path, "export", "--out", str(tmp_path / "b")).exit_code == 0
    runs = status_runs(tmp_path)
    assert [(r["kind"], r["status"]) for r in runs] == [
        ("export", "succeeded"), ("import", "succeeded")
    ]


def test_an_older_workspace_says_succeeded_for_its_ok_runs(tmp_path: Path) -> None:
    """Workspaces written before the run statuses were one enum hold "ok": the migration
    rewrites them, and a row an older version writes later still reads as succeeded."""
    with open_store(tmp_path / "w.db") as store:
        old = store.start_run("import", "clients.csv")
        with store.transaction():
            store._execute('UPDATE "cscor_runs" SET "status" = ? WHERE "id" = ?', ("ok", old))
            store._execute('DELETE FROM "cscor_migrations" WHERE "name" = ?',
                           ("0003_run_status_words",))
    with open_store(tmp_path / "w.db") as store:  # migrates
        assert store._query('SELECT "status" FROM "cscor_runs"') == [("succeeded",)]
        later = store.start_run("export", "portability")
        with store.transaction():  # an older cscor sharing the workspace
            store._execute('UPDATE "cscor_runs" SET "status" = ? WHERE "id" = ?', ("ok", later))
        assert [r.status for r in store.runs()] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert [r["status"] for r in status_runs(tmp_path)] == ["succeeded", "succeeded"]
    table = invoke(tmp_path, "status").output
    assert "succeeded" in table and " ok " not in table


def test_a_status_word_from_a_newer_version_is_shown_as_it_is() -> None:
    assert RunStatus.from_stored("paused") == "paused"
    assert RunStatus.from_stored("partial") is RunStatus.PARTIAL
