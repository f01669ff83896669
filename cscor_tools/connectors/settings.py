"""Settings of one connector instance, resolved from flags, the environment and cscor.toml."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cscor_tools.config import Config
from cscor_tools.connectors.base import Connector, ConnectorSettings, Secret
from cscor_tools.errors import ConfigError


def connector_settings(
    cls: type[Connector],
    config: Config,
    *,
    base_url: str | None = None,
    streams: tuple[str, ...] | None = None,
    rate_limit: float | None = None,
    concurrency: int | None = None,
    credential: Secret | None = None,
    env: Mapping[str, str] = os.environ,
    **overrides: Any,
) -> ConnectorSettings:
    """Settings for one connector: flags (arguments) beat the environment beat cscor.toml."""
    file = config.connector(cls.name)
    credential_env = file.credential_env or cls.credential_env
    if credential is None and credential_env and env.get(credential_env):
        credential = Secret(env[credential_env])
    url = (
        base_url
        or (env.get(cls.base_url_env) if cls.base_url_env else None)
        or file.base_url
        or cls.default_base_url
    )
    rate = rate_limit or _env_rate(cls, env) or file.rate_limit
    if rate is None:
        rate = cls.default_rate_limit * (file.rate_share or 1.0)
    return ConnectorSettings(
        base_url=url,
        credential=credential,
        credential_env=credential_env,
        rate_limit=rate,
        burst=file.burst or max(1, min(cls.default_burst, int(rate) or 1)),
        concurrency=concurrency or file.concurrency or cls.default_concurrency,
        streams=streams or file.streams,
        options=dict(file.options),
        max_attempts=file.max_attempts or 8,
        timeout=file.timeout or 30.0,
        **overrides,
    )


def _env_rate(cls: type[Connector], env: Mapping[str, str]) -> float | None:
    """``CSCOR_<NAME>_RATE_LIMIT``: requests per second, a positive number."""
    name = f"CSCOR_{cls.name.upper()}_RATE_LIMIT"
    value = env.get(name)
    if not value:
        return None
    try:
        rate = float(value)
    except ValueError:
        rate = 0.0
    if not rate > 0 or rate == float("inf"):
        raise ConfigError(f"{name}={value!r}: the request rate must be a positive number of "
                          "requests per second")
    return rate
