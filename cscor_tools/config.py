"""Configuration: cscor.toml, the environment and flags, resolved with flags > env > file.

A config file may name the workspace, per-connector settings and named jobs. Secrets appear in
it only as references to environment variables (``credential_env = "STRIPE_API_KEY"``): a
literal key in a file that gets committed or shared is a leak waiting to happen, so we refuse it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cscor_tools.errors import ConfigError

CONFIG_FILE = "cscor.toml"
DEFAULT_WORKSPACE = "workspace.db"

_SECRET_WORDS = ("key", "token", "secret", "password")
_CONNECTOR_KEYS = {
    "base_url", "credential_env", "rate_limit", "rate_share", "burst", "concurrency",
    "streams", "options", "max_attempts", "timeout",
}
_JOB_KEYS = {"connectors", "full", "streams", "export", "schedule", "workspace"}
_EXPORT_TYPES: dict[str, Any] = {
    "out": str, "format": str, "policy": str, "entities": list, "since": str, "until": str,
    "include_deleted": bool, "zip": bool, "partition_by": list, "overwrite": bool,
}


@dataclass(frozen=True)
class ConnectorConfig:
    base_url: str | None = None
    credential_env: str | None = None
    rate_limit: float | None = None
    #: the fraction of the provider's rate limit this workspace may use (several workers
    #: sharing one account each take a share)
    rate_share: float | None = None
    burst: int | None = None
    concurrency: int | None = None
    streams: tuple[str, ...] | None = None
    max_attempts: int | None = None
    timeout: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportSpec:
    """The export a named job writes once its syncs succeeded: ``cscor export``'s options."""

    out: str
    format: str = "jsonl"
    policy: str = "portability"
    entities: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    include_deleted: bool = False
    zip: bool = False
    #: hive-partitioned Parquet by these keys (``source``, ``month``) instead of a bundle
    partition_by: tuple[str, ...] = ()
    #: replace the bundle of the previous run (a scheduled job writing to one place needs it)
    overwrite: bool = False


@dataclass(frozen=True)
class Job:
    """A named job: which connectors to sync, how, and optionally an export to write after."""

    name: str
    connectors: tuple[str, ...]
    full: bool = False
    streams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    export: ExportSpec | None = None
    #: when `cscor worker` queues it: a cron expression ("0 2 * * *"; a sixth field: seconds)
    schedule: str | None = None
    #: the workspace a scheduled run syncs into (default: the config's workspace)
    workspace: str | None = None


@dataclass(frozen=True)
class Config:
    workspace: str | None = None
    connectors: Mapping[str, ConnectorConfig] = field(default_factory=dict)
    jobs: Mapping[str, Job] = field(default_factory=dict)
    path: Path | None = None

    def connector(self, name: str) -> ConnectorConfig:
        return self.connectors.get(name, ConnectorConfig())

    def job(self, name: str) -> Job:
        try:
            return self.jobs[name]
        except KeyError:
            known = ", ".join(sorted(self.jobs)) or "none defined"
            raise ConfigError(f"no job called {name!r} in the config (jobs: {known})") from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read ``path``, or ./cscor.toml when it exists; an empty Config when there is none."""
    if path is None:
        candidate = Path(CONFIG_FILE)
        if not candidate.is_file():
            return Config()
        path = candidate
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_config(data, file)


def parse_config(data: Mapping[str, Any], file: Path | None = None) -> Config:
    where = str(file or CONFIG_FILE)
    _refuse_secrets(data, where, ())
    unknown = set(data) - {"workspace", "connectors", "jobs"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting {sorted(unknown)[0]!r}")
    connectors = {}
    for name, raw in _table(data, "connectors", where).items():
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: connectors.{name} must be a table")
        bad = set(raw) - _CONNECTOR_KEYS
        if bad:
            raise ConfigError(f"{where}: connectors.{name}: unknown setting {sorted(bad)[0]!r}")
        base_url = _opt(raw, "base_url", str, where, name)
        problem = base_url_problem(base_url) if base_url is not None else None
        if problem:
            raise ConfigError(f"{where}: connectors.{name}.base_url {problem}")
        connectors[name] = ConnectorConfig(
            base_url=base_url,
            credential_env=_opt(raw, "credential_env", str, where, name),
            rate_limit=_opt(raw, "rate_limit", (int, float), where, name),
            rate_share=_share(raw, where, name),
            burst=_opt(raw, "burst", int, where, name),
            concurrency=_opt(raw, "concurrency", int, where, name),
            streams=_strings(raw.get("streams"), f"{where}: connectors.{name}.streams"),
            max_attempts=_opt(raw, "max_attempts", int, where, name),
            timeout=_opt(raw, "timeout", (int, float), where, name),
            options=dict(raw.get("options", {})),
        )
    jobs = {}
    for name, raw in _table(data, "jobs", where).items():
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: jobs.{name} must be a table")
        bad = set(raw) - _JOB_KEYS
        if bad:
            raise ConfigError(f"{where}: jobs.{name}: unknown setting {sorted(bad)[0]!r}")
        names = _strings(raw.get("connectors"), f"{where}: jobs.{name}.connectors")
        if not names:
            raise ConfigError(f"{where}: jobs.{name} names no connectors")
        streams = {
            k: _strings(v, f"{where}: jobs.{name}.streams.{k}") or ()
            for k, v in dict(raw.get("streams", {})).items()
        }
        export = _export_spec(raw.get("export"), f"{where}: jobs.{name}.export")
        schedule = raw.get("schedule")
        if schedule is not None and (
            not isinstance(schedule, str) or len(schedule.split()) not in (5, 6)
        ):
            raise ConfigError(f"{where}: jobs.{name}.schedule must be a cron expression of 5 "
                              'fields (minute hour day month weekday), e.g. "0 2 * * *"')
        job_ws = raw.get("workspace")
        if job_ws is not None and (
            not isinstance(job_ws, str) or workspace_location_problem(job_ws)
        ):
            raise ConfigError(f"{where}: jobs.{name}.workspace must be a workspace location")
        jobs[name] = Job(name, names, bool(raw.get("full", False)), streams, export, schedule,
                         job_ws)
    workspace = data.get("workspace")
    if workspace is not None and not isinstance(workspace, str):
        raise ConfigError(f"{where}: workspace must be a string")
    problem = workspace_location_problem(workspace) if workspace is not None else None
    if problem:
        raise ConfigError(f"{where}: workspace: {problem}")
    return Config(workspace, connectors, jobs, file)


#: URL schemes a workspace location may have (anything else with "://" is a mistake)
WORKSPACE_SCHEMES = ("postgresql", "postgres", "sqlite")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")


def workspace_location_problem(location: str) -> str | None:
    """Why ``location`` cannot name a workspace, or None when it can.

    A workspace is a SQLite file path (or ``sqlite:///PATH``) or a ``postgresql://`` URL;
    anything else that looks like a URL is refused rather than taken for a file name.
    """
    if not location.strip():
        return "the workspace location is empty"
    match = _SCHEME.match(location)
    if match is None:
        return None
    scheme = match.group(1).lower()
    if scheme not in WORKSPACE_SCHEMES:
        return (
            f"unknown workspace URL scheme {scheme!r}: use a SQLite file path, "
            "sqlite:///PATH or postgresql://USER@HOST/DATABASE"
        )
    if scheme == "sqlite" and not location.lower().startswith("sqlite:///"):
        return "a SQLite workspace URL has three slashes: sqlite:///PATH"
    return None


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a provider base URL, or None when it can.

    The message never repeats the URL: one that carries a key must not spread it further.
    """
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host, e.g. https://api.example.com"
    if parts.username is not None or parts.password is not None:
        return ("must not carry a user name, key or password: credentials come from the "
                "environment (credential_env)")
    if parts.query or parts.fragment:
        return "must not carry a query string or fragment (they could hold a key)"
    return None


def resolve_workspace(flag: str | None, config: Config, env: Mapping[str, str] = os.environ) -> str:
    """The workspace location: --workspace, then $CSCOR_WORKSPACE, then the file, then default."""
    if flag:
        return flag
    if env.get("CSCOR_WORKSPACE"):
        return env["CSCOR_WORKSPACE"]
    if config.workspace:
        base = config.path.parent if config.path else Path()
        ws = config.workspace
        return ws if "://" in ws or Path(ws).is_absolute() else str(base / ws)
    return DEFAULT_WORKSPACE


def _export_spec(raw: Any, where: str) -> ExportSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    for key, value in raw.items():
        kind = _EXPORT_TYPES.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: "
                              f"{', '.join(sorted(_EXPORT_TYPES))})")
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            what = "list of strings" if kind is list else kind.__name__
            raise ConfigError(f"{where}.{key} must be a {what}")
    if not raw.get("out"):
        raise ConfigError(f"{where}.out is missing: where the bundle goes (a folder, a .zip or "
                          "an s3://… URL)")
    values = dict(raw)
    for key in ("entities", "partition_by"):
        if key in values:
            values[key] = _strings(values[key], f"{where}.{key}") or ()
    return ExportSpec(**values)


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {key} must be a table")
    return value


def _opt(raw: Mapping[str, Any], key: str, types: Any, where: str, name: str) -> Any:
    value = raw.get(key)
    if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
        raise ConfigError(f"{where}: connectors.{name}.{key} has the wrong type")
    return value


def _share(raw: Mapping[str, Any], where: str, name: str) -> float | None:
    share = _opt(raw, "rate_share", (int, float), where, name)
    if share is not None and not 0 < share <= 1:
        raise ConfigError(f"{where}: connectors.{name}.rate_share must be in (0, 1]")
    return share


def _strings(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _refuse_secrets(data: Any, where: str, path: tuple[str, ...]) -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            lowered = str(key).lower()
            if (
                isinstance(value, str)
                and any(w in lowered for w in _SECRET_WORDS)
                and not lowered.endswith("_env")
            ):
                dotted = ".".join((*path, str(key)))
                raise ConfigError(
                    f"{where}: {dotted} looks like a secret. Config files hold secrets only as "
                    "references: set `credential_env = \"NAME_OF_ENV_VAR\"` and export the "
                    "value in that variable."
                )
            _refuse_secrets(value, where, (*path, str(key)))
