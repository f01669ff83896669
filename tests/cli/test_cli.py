"""The command line: help everywhere, thin commands, errors as exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cscor_tools import __version__
from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, (*prefix, name)))
    return out


@pytest.mark.parametrize("path", all_commands(cli))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"cscor {' '.join(path)} --help shows no example"


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert __version__ in result.output


def test_init_then_status(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws.db")
    runner = CliRunner()
    first = runner.invoke(cli, ["--workspace", ws, "init"])
    assert first.exit_code == 0 and "0001_initial" in first.output
    again = runner.invoke(cli, ["--workspace", ws, "init"])
    assert "already up to date" in again.output
    status = runner.invoke(cli, ["--workspace", ws, "status", "--json"])
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert data["rows"]["clients"] == {"rows": 0, "deleted": 0}


@pytest.mark.parametrize("fmt", ["markdown", "json-schema", "table-schema", "sql", "arrow"])
def test_schema_formats(fmt: str) -> None:
    result = CliRunner().invoke(cli, ["schema", "--format", fmt])
    assert result.exit_code == 0
    assert "clients" in result.output and "invoice_lines" in result.output


def test_schema_sql_for_postgres_uses_its_types() -> None:
    result = CliRunner().invoke(cli, ["schema", "--format", "sql", "--dialect", "postgresql"])
    assert "TIMESTAMPTZ" in result.output and "JSONB" in result.output


def test_unknown_connector_is_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "w.db"), "sync", "nope"])
    assert result.exit_code == ExitCode.CONFIG
    assert "no connector called 'nope'" in result.output
    assert "Traceback" not in result.output


def test_a_broken_workspace_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    result = CliRunner().invoke(cli, ["--workspace", str(bad), "status"])
    assert result.exit_code == ExitCode.STORE
    assert "not-a-db.db" in result.output and "Traceback" not in result.output


def test_a_bad_config_file_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[connectors.stripe]\napi_key = "sk_live_x"\n')
    result = CliRunner().invoke(cli, ["--config", str(cfg), "connectors"])
    assert result.exit_code == ExitCode.CONFIG
    assert "credential_env" in result.output


def test_connectors_lists_installed_ones_as_json() -> None:
    result = CliRunner().invoke(cli, ["connectors", "--json"])
    assert result.exit_code == 0
    assert isinstance(json.loads(result.output), list)


def test_connectors_shows_the_settings_a_sync_would_use(tmp_path: Path) -> None:
    """Flags beat the environment beat cscor.toml, for `cscor connectors` as for `cscor sync`."""
    from cscor_tools.config import load_config
    from cscor_tools.connectors import available_connectors, load_connector
    from cscor_tools.connectors.settings import connector_settings

    cfg = tmp_path / "cscor.toml"
    cfg.write_text(
        '[connectors.stripe]\nbase_url = "http://file.example"\n'
        'credential_env = "MY_STRIPE_KEY"\n'
    )
    env = {"STRIPE_API_BASE": "http://env.example", "MY_STRIPE_KEY": "rk_test_fake"}
    result = CliRunner().invoke(cli, ["--config", str(cfg), "connectors", "--json"], env=env)
    assert result.exit_code == 0, result.output
    listed = {e["name"]: e for e in json.loads(result.output)}
    stripe = listed["stripe"]
    assert stripe["base_url"] == "http://env.example"  # the environment beats the file
    assert (stripe["credential_env"], stripe["credential_set"]) == ("MY_STRIPE_KEY", True)
    config = load_config(cfg)
    for name in available_connectors():
        settings = connector_settings(load_connector(name), config, env=env)
        assert listed[name]["base_url"] == settings.base_url, name
