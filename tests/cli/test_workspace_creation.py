"""Only init, sync and import create a workspace, never its folders; a read never does."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode, StoreError
from cscor_tools.store import open_store, open_workspace

CLIENTS = "id,email,name\n1,a@example.com,A\n"


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.parametrize(
    "command",
    [["status"], ["status", "--json"], ["export", "--out", "bundle"]],
    ids=["status", "status-json", "export"],
)
def test_a_command_that_reads_creates_no_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("--workspace", "typo.db", *command)
    assert result.exit_code == ExitCode.STORE, result.output
    assert "typo.db: no workspace here" in result.output and "cscor init" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no typo.db, no bundle


def test_init_sync_and_import_may_create_one(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(CLIENTS)
    created = invoke("-w", str(tmp_path / "a.db"), "import", str(tmp_path / "clients.csv"))
    assert created.exit_code == 0, created.output
    assert invoke("-w", str(tmp_path / "b.db"), "init").exit_code == 0
    assert (tmp_path / "a.db").is_file() and (tmp_path / "b.db").is_file()
    for name in ("a.db", "b.db"):
        assert invoke("-w", str(tmp_path / name), "status").exit_code == 0


def test_a_workspace_is_created_in_a_folder_never_with_one(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "ws.db"
    result = invoke("-w", str(target), "init")
    assert result.exit_code == ExitCode.STORE, result.output
    assert "does not exist" in result.output
    assert not (tmp_path / "nonexistent").exists()


def test_an_empty_file_is_not_a_workspace_to_read(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    result = invoke("-w", str(tmp_path / "empty.db"), "status")
    assert result.exit_code == ExitCode.STORE and "no workspace here" in result.output
    assert (tmp_path / "empty.db").stat().st_size == 0


@pytest.mark.parametrize(
    "location", ["mysql://u@db.example/crm", "sqlite://relative.db", "HTTPS://x.example/ws"]
)
def test_an_unknown_url_scheme_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for result in (
        invoke("-w", location, "status"),
        invoke("status", env={"CSCOR_WORKSPACE": location}),
        invoke("-w", location, "init"),
    ):
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "scheme" in result.output or "three slashes" in result.output
    assert list(tmp_path.rglob("*")) == []  # no file named after the URL


def test_an_unknown_scheme_in_cscor_toml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "cscor.toml").write_text('workspace = "mysql://u@db.example/crm"\n')
    result = invoke("--config", str(tmp_path / "cscor.toml"), "status")
    assert result.exit_code == ExitCode.CONFIG
    assert "unknown workspace URL scheme 'mysql'" in result.output


def test_the_python_api_reads_without_creating_too(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no workspace here"):
        open_workspace(str(tmp_path / "typo.db"))
    with pytest.raises(StoreError, match="no workspace here"):
        open_store(tmp_path / "typo.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_postgres_schema_without_a_workspace_is_not_made_one_by_a_read(
    postgres_url: str,
) -> None:
    result = invoke("-w", postgres_url, "status")
    assert result.exit_code == ExitCode.STORE, result.output
    assert "no workspace here" in result.output
    with open_store(postgres_url, migrate=False) as store:
        assert store._columns() == {}  # no tables were created
    assert invoke("-w", postgres_url, "init").exit_code == 0
    assert invoke("-w", postgres_url, "status").exit_code == 0
