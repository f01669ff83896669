"""`cscor import` through click: exit codes, output, JSON, and registration in the root group."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.cli.imports import import_
from cscor_tools.errors import ExitCode
from cscor_tools.store import open_store

GOOD = "id,email,name\n1,a@example.com,A\n2,b@example.com,B\n"
BAD = GOOD + "3,not-an-email,C\n"


def run(args: list[str], tmp_path: Path, command=cli):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command, args, env={"CSCOR_WORKSPACE": str(tmp_path / "w.db")})


def test_clean_import_exits_zero_and_prints_a_summary(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(GOOD)
    result = run(["import", str(tmp_path / "clients.csv")], tmp_path)
    assert result.exit_code == 0, result.output
    assert "clients" in result.output and "inserted" in result.output
    again = run(["import", str(tmp_path / "clients.csv"), "--json"], tmp_path)
    assert json.loads(again.output)["totals"] == {"rows": 2, "inserted": 0, "updated": 0,
                                                  "unchanged": 2, "rejected": 0}


def test_rejected_rows_exit_7_after_importing_the_rest(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(BAD)
    result = run(["import", str(tmp_path / "clients.csv")], tmp_path)
    assert result.exit_code == ExitCode.REJECTED_INPUT
    assert "row 4, field 'email': not an email address" in result.output
    assert "clients.rejects.csv" in result.output
    with open_store(tmp_path / "w.db") as store:
        assert store.count("clients") == 2


def test_stop_imports_nothing_and_exits_7_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(BAD)
    result = run(["import", str(tmp_path / "clients.csv"), "--on-error", "stop"], tmp_path)
    assert result.exit_code == ExitCode.REJECTED_INPUT
    assert "nothing was imported" in result.output and "Traceback" not in result.output
    with open_store(tmp_path / "w.db") as store:
        assert store.count("clients") == 0


def test_dry_run_and_options(tmp_path: Path) -> None:
    (tmp_path / "list.csv").write_text(BAD)
    (tmp_path / "m.toml").write_text('source = "crm"\n')
    result = run(["import", str(tmp_path / "list.csv"), "--entity", "clients", "--dry-run",
                  "--map", str(tmp_path / "m.toml"), "--rejects", str(tmp_path / "out.csv"),
                  "--json"], tmp_path)
    assert result.exit_code == ExitCode.REJECTED_INPUT
    data = json.loads(result.output)
    assert (data["dry_run"], data["source"], data["totals"]["inserted"]) == (True, "crm", 2)
    assert (tmp_path / "out.csv").exists()
    with open_store(tmp_path / "w.db") as store:
        assert store.count("clients") == 0 and store.runs() == []


def test_unreadable_file_is_an_error_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_bytes(b"\x00\x01" * 300)
    result = run(["import", str(tmp_path / "clients.csv")], tmp_path)
    assert result.exit_code == ExitCode.REJECTED_INPUT
    assert result.output.startswith("Error: ") and "binary" in result.output


def test_the_command_alone_has_help() -> None:
    result = CliRunner().invoke(import_, ["--help"])
    assert result.exit_code == 0
    assert "--on-error" in result.output and "Mapping file" in result.output


def test_progress_bar_follows_bytes_and_rows(tmp_path: Path) -> None:
    from cscor_tools.cli.imports import _ProgressBar
    from cscor_tools.imports import ImportProgress, import_file

    (tmp_path / "clients.csv").write_text(GOOD * 1)
    seen: list[ImportProgress] = []
    bar = _ProgressBar()
    try:
        with open_store(tmp_path / "w.db") as store:
            import_file(tmp_path / "clients.csv", store=store, batch_size=1,
                        progress=lambda p: (seen.append(p), bar(p)))
    finally:
        bar.close()
    assert [p.rows for p in seen] == [1, 2, 2]
    assert seen[-1].bytes_read == seen[-1].total_bytes == len(GOOD)


def test_the_import_package_never_reaches_up_into_the_cli() -> None:
    import ast

    package = Path(__file__).parents[2] / "cscor_tools" / "imports"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("cscor_tools.cli", "cscor_tools.connectors",
                                            "cscor_tools.export")), (module.name, name)
