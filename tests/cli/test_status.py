"""`cscor status`: the run log as a user reads it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.cli.output import clip, plural
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


def test_status_shows_an_imports_file_name_and_sha256(tmp_path: Path) -> None:
    source = tmp_path / "clients.csv"
    source.write_text(CLIENTS)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert invoke(tmp_path, "import", str(source)).exit_code == 0
    table = invoke(tmp_path, "status").output
    assert "clients.csv" in table and digest in table.replace("\n", "").replace(" ", "")
    (run,) = status_runs(tmp_path)
    assert run["name"] == "clients.csv"
    assert run["details"]["sha256"] == digest  # type: ignore[index]


def test_a_negative_number_of_runs_is_refused(tmp_path: Path) -> None:
    assert invoke(tmp_path, "init").exit_code == 0
    result = invoke(tmp_path, "status", "--runs", "-1")
    assert result.exit_code == 2 and "--runs" in result.output
    assert invoke(tmp_path, "status", "--runs", "0").exit_code == 0


def test_a_long_error_is_shortened_between_words(tmp_path: Path) -> None:
    with open_store(tmp_path / "w.db") as store:
        run = store.start_run("sync", "demo")
        store.finish_run(run, RunStatus.FAILED, error="zebra " * 60)
    table = invoke(tmp_path, "status").output
    assert "…" in table
    assert set(re.findall(r"z\w*", table)) == {"zebra"}


def test_one_row_is_one_row(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(CLIENTS)
    assert invoke(tmp_path, "import", str(tmp_path / "clients.csv")).exit_code == 0
    result = invoke(tmp_path, "export", "--entities", "clients", "--out", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert "Exported 1 row in 1 jsonl file " in result.output
    assert "1 rows" not in invoke(tmp_path, "status").output


def test_plural_and_clip() -> None:
    assert [plural(n, "row") for n in (0, 1, 2, 1500)] == ["0 rows", "1 row", "2 rows",
                                                           "1,500 rows"]
    assert plural(1, "retry", "retries") == "1 retry" and plural(3, "retry", "retries") == (
        "3 retries")
    assert clip("short text", 80) == "short text"
    assert clip("a bb ccc dddd eeeee", 12) == "a bb ccc…"
    assert clip("x" * 30, 10) == "x" * 9 + "…"
