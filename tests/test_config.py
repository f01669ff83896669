"""cscor.toml parsing and the precedence of flags over env over file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscor_tools.config import Config, load_config, parse_config, resolve_workspace
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.errors import ConfigError
from tests.proof.connector import ProofConnector

CONFIG = """
workspace = "data/ws.db"

[connectors.proof]
base_url = "http://file.example"
credential_env = "MY_PROOF_KEY"
rate_share = 0.5
streams = ["items"]

[jobs.nightly]
connectors = ["proof"]
full = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cscor.toml"
    path.write_text(text)
    return path


def test_file_values_are_read(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CONFIG))
    assert cfg.job("nightly").full is True
    s = connector_settings(ProofConnector, cfg, env={"MY_PROOF_KEY": "k"})
    assert s.base_url == "http://file.example"
    assert s.rate_limit == ProofConnector.default_rate_limit * 0.5
    assert s.credential is not None and s.credential.reveal() == "k"
    assert s.credential_env == "MY_PROOF_KEY"
    assert s.streams == ("items",)
    assert resolve_workspace(None, cfg, env={}) == str(tmp_path / "data/ws.db")


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CONFIG))
    env = {"PROOF_API_BASE": "http://env.example", "CSCOR_WORKSPACE": "env.db"}
    assert connector_settings(ProofConnector, cfg, env=env).base_url == "http://env.example"
    assert (
        connector_settings(ProofConnector, cfg, env=env, base_url="http://flag.example").base_url
        == "http://flag.example"
    )
    assert resolve_workspace(None, cfg, env=env) == "env.db"
    assert resolve_workspace("flag.db", cfg, env=env) == "flag.db"
    assert resolve_workspace(None, Config(), env={}) == "workspace.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[connectors.stripe]\napi_key = "sk_live_abc"', "looks like a secret"),
        ('[connectors.slack]\ntoken = "xoxb-1"', "looks like a secret"),
        ('[connectors.stripe]\nrate_share = 3', "rate_share"),
        ('[connectors.stripe]\nspeed = 3', "unknown setting 'speed'"),
        ("[jobs.x]\nconnectors = []", "names no connectors"),
        ("nonsense = 1", "unknown setting"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_config(write(tmp_path, text))
    assert "cscor.toml" in str(info.value)
    assert "sk_live_abc" not in str(info.value)


def test_missing_job_lists_the_known_ones() -> None:
    cfg = parse_config({"jobs": {"a": {"connectors": ["x"]}}})
    with pytest.raises(ConfigError, match="jobs: a"):
        cfg.job("b")


@pytest.mark.parametrize("value", ["fast", "0", "-3", "nan", "inf"])
def test_a_bad_rate_limit_in_the_environment_is_a_config_error_naming_it(value: str) -> None:
    from cscor_tools.connectors.stripe import StripeConnector
    from cscor_tools.errors import ConfigError

    with pytest.raises(ConfigError, match="CSCOR_STRIPE_RATE_LIMIT") as err:
        connector_settings(StripeConnector, Config(), env={"CSCOR_STRIPE_RATE_LIMIT": value})
    assert err.value.exit_code == 3


def test_a_good_rate_limit_in_the_environment_is_used() -> None:
    from cscor_tools.connectors.stripe import StripeConnector

    settings = connector_settings(StripeConnector, Config(),
                                  env={"CSCOR_STRIPE_RATE_LIMIT": "12.5"})
    assert settings.rate_limit == 12.5
