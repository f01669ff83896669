"""Workspace operations shared by the CLI and Python scripts: init, sync by name, status."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from cscor_tools.config import Config, base_url_problem, load_config, resolve_workspace
from cscor_tools.connectors import available_connectors, load_connector
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.errors import ConfigError, CscorError
from cscor_tools.store import Store, open_store, open_workspace
from cscor_tools.store.base import RunRecord
from cscor_tools.sync import SyncObserver, SyncResult, sync


@dataclass(frozen=True)
class WorkspaceInfo:
    location: str
    dialect: str
    migrations_applied: list[str]
    workspace_id: str | None


@dataclass
class WorkspaceStatus:
    location: str
    rows: dict[str, dict[str, int]]
    cursors: list[tuple[str, str, str, dict[str, Any]]]
    runs: list[RunRecord]

    def as_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.location,
            "rows": self.rows,
            "cursors": [
                {"connector": c, "stream": s, "slice": sl, "cursor": cur}
                for c, s, sl, cur in self.cursors
            ],
            "runs": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "name": r.name,
                    "status": r.status,
                    "started_at": r.started_at.isoformat(),
                    "ended_at": r.ended_at.isoformat() if r.ended_at else None,
                    "counts": r.counts,
                    "error": r.error,
                    "details": r.details,
                }
                for r in self.runs
            ],
        }


@dataclass
class SyncOutcome:
    """One connector's part of a multi-connector sync: a result, or the error that stopped it."""

    connector: str
    result: SyncResult | None = None
    error: CscorError | None = None


def init_workspace(workspace: str | None = None, config: Config | None = None) -> WorkspaceInfo:
    """Create (or bring up to date) a workspace store."""
    cfg = config if config is not None else load_config()
    store = open_store(resolve_workspace(workspace, cfg), migrate=False)
    try:
        applied = store.migrate()
        return WorkspaceInfo(store.location, store.dialect, applied, store.get_meta("workspace_id"))
    finally:
        store.close()


def sync_connector(
    name: str,
    *,
    workspace: str | None = None,
    store: Store | None = None,
    config: Config | None = None,
    full: bool = False,
    streams: Sequence[str] | None = None,
    base_url: str | None = None,
    rate_limit: float | None = None,
    concurrency: int | None = None,
    transport: httpx.BaseTransport | None = None,
    observer: SyncObserver | None = None,
    env: dict[str, str] | None = None,
) -> SyncResult:
    """Sync the installed connector ``name`` into a workspace: what ``cscor sync NAME`` does."""
    cfg = config if config is not None else load_config()
    cls = load_connector(name)
    settings = connector_settings(
        cls,
        cfg,
        base_url=base_url,
        streams=tuple(streams) if streams else None,
        rate_limit=rate_limit,
        concurrency=concurrency,
        env=env if env is not None else os.environ,
        transport=transport,
    )
    problem = base_url_problem(settings.base_url)
    if problem:  # before any run is recorded: nothing was asked of the provider
        raise ConfigError(
            f"{name}: the provider base URL {problem} (it comes from --api-base, "
            f"{cls.base_url_env or 'the environment'} or cscor.toml [connectors.{name}] "
            "base_url)"
        )
    connector = cls(settings)
    own_store = store is None
    target = store if store is not None else open_workspace(workspace, cfg, create=True)
    try:
        return sync(target, connector, full=full, observer=observer)
    finally:
        connector.close()
        if own_store:
            target.close()


def sync_many(
    names: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[SyncOutcome]:
    """Sync several connectors (all installed ones when ``names`` is None), one after another.

    A connector that fails to start (no credential, locked) does not stop the others.
    """
    outcomes = []
    for name in names if names is not None else list(available_connectors()):
        try:
            outcomes.append(SyncOutcome(name, result=sync_connector(name, **kwargs)))
        except CscorError as exc:
            outcomes.append(SyncOutcome(name, error=exc))
    return outcomes


def workspace_status(
    workspace: str | None = None, config: Config | None = None, *, runs: int = 10
) -> WorkspaceStatus:
    """Row counts, sync cursors and the latest runs of a workspace."""
    with open_workspace(workspace, config) as store:
        return WorkspaceStatus(store.location, store.counts(), store.cursors(), store.runs(runs))
