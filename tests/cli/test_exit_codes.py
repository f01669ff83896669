"""Exit codes as README.md documents them: usage errors are 2, and several connectors
combine into one code by explicit severity, never by max()."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.cli.sync import SEVERITY, combined_exit_code
from cscor_tools.errors import ExitCode
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import open_store

E = ExitCode


@pytest.fixture
def ws(tmp_path: Path) -> str:
    location = str(tmp_path / "w.db")
    assert CliRunner().invoke(cli, ["-w", location, "init"]).exit_code == 0
    return location


def invoke(ws: str, *args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["-w", ws, *args], env=env)


@pytest.mark.parametrize(
    "args",
    [
        ["--entities", "clients,nosuch"],
        ["--entities", ","],
        ["--since", "2025-01-01", "--until", "2024-01-01"],
        ["--since", "2025-01-01", "--until", "2025-01-01"],
    ],
    ids=["unknown-entity", "no-entity", "reversed-range", "empty-range"],
)
def test_export_usage_mistakes_exit_2(ws: str, tmp_path: Path, args: list[str]) -> None:
    result = invoke(ws, "export", "--out", str(tmp_path / "b"), *args)
    assert result.exit_code == E.USAGE, result.output
    assert "Traceback" not in result.output and not (tmp_path / "b").exists()


def test_export_out_in_a_missing_folder_or_existing_exits_2(ws: str, tmp_path: Path) -> None:
    missing = invoke(ws, "export", "--out", str(tmp_path / "no" / "b"))
    assert missing.exit_code == E.USAGE and "does not exist" in missing.output
    (tmp_path / "b").mkdir()
    exists = invoke(ws, "export", "--out", str(tmp_path / "b"))
    assert exists.exit_code == E.USAGE and "--overwrite" in exists.output


def runs(ws: str) -> list[object]:
    with open_store(ws) as store:
        return list(store.runs())


@pytest.mark.parametrize(
    "url", ["notaurl", "ftp://api.example.com", "https://rk_live_SECRET1234@api.example.com",
            "https://api.example.com/?key=rk_live_SECRET1234", "http://"]
)
def test_a_bad_api_base_is_a_usage_error_and_records_no_run(ws: str, url: str) -> None:
    result = invoke(ws, "sync", "stripe", "--api-base", url,
                    env={"STRIPE_API_KEY": "rk_test_fake"})
    assert result.exit_code == E.USAGE, result.output
    assert "SECRET1234" not in result.output
    assert runs(ws) == []


def test_a_bad_base_url_from_the_environment_or_file_is_a_config_error(
    ws: str, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {"STRIPE_API_KEY": "rk_test_fake",
                                  "STRIPE_API_BASE": "https://k:rk_live_SECRET1234@x.example"}
    from_env = invoke(ws, "sync", "stripe", env=env)
    assert from_env.exit_code == E.CONFIG, from_env.output
    assert "STRIPE_API_BASE" in from_env.output and "SECRET1234" not in from_env.output
    cfg = tmp_path / "cscor.toml"
    cfg.write_text('[connectors.stripe]\nbase_url = "notaurl"\n')
    from_file = invoke(ws, "--config", str(cfg), "sync", "stripe",
                       env={"STRIPE_API_KEY": "rk_test_fake"})
    assert from_file.exit_code == E.CONFIG and "connectors.stripe.base_url" in from_file.output
    assert runs(ws) == []


def test_sync_all_with_one_connector_lacking_its_key_is_partial(ws: str) -> None:
    """README: 11 when some connectors failed and the rest was synced."""
    with Sandbox(seed=3, scale=0.02) as sb:
        env: dict[str, str | None] = {
            "STRIPE_API_KEY": None,
            "RESEND_API_KEY": sb.credentials("resend"),
            "RESEND_API_BASE": sb.base_url("resend"),
            "CSCOR_EXAMPLE_RESEND_RATE_LIMIT": "1000",
        }
        result = invoke(ws, "sync", "all", env=env)
    assert result.exit_code == E.PARTIAL, result.output
    assert "STRIPE_API_KEY" in result.output


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([E.PROVIDER_AUTH, E.RECONCILED], E.PARTIAL),  # max() said 12 and hid the 401
        ([E.CONFIG, E.OK], E.PARTIAL),
        ([E.PARTIAL, E.OK], E.PARTIAL),
        ([E.OK, E.RECONCILED], E.RECONCILED),
        ([E.OK, E.OK], E.OK),
        ([E.PROVIDER_UNAVAILABLE, E.PROVIDER_AUTH], E.PROVIDER_AUTH),  # max() said 5
        ([E.LOCKED, E.CONFIG], E.CONFIG),  # max() said 9
        ([E.PARTIAL, E.PROVIDER_UNAVAILABLE], E.PARTIAL),
        ([E.PARTIAL, E.RECONCILED], E.PARTIAL),
        ([E.INTERNAL, E.STORE], E.INTERNAL),
        ([E.CONFIG], E.CONFIG),
        ([], E.OK),
    ],
)
def test_codes_combine_by_severity(codes: list[int], expected: ExitCode) -> None:
    assert combined_exit_code(codes) == expected


def test_severity_ranks_every_exit_code_once() -> None:
    assert sorted(SEVERITY) == sorted(ExitCode)
