"""The workspace store: where syncs and imports write and exports read.

``open_store`` picks the backend from a location: a ``postgresql://`` URL, or a SQLite file path.
"""

from __future__ import annotations

import os
from pathlib import Path

from cscor_tools.config import (
    DEFAULT_WORKSPACE,
    Config,
    load_config,
    resolve_workspace,
    workspace_location_problem,
)
from cscor_tools.errors import ConfigError, StoreError
from cscor_tools.store.base import NO_WORKSPACE, RunRecord, Store, Transaction

__all__ = [
    "DEFAULT_WORKSPACE",
    "RunRecord",
    "Store",
    "Transaction",
    "is_postgres_url",
    "open_store",
    "open_workspace",
]


def is_postgres_url(location: str) -> bool:
    return location.lower().startswith(("postgresql://", "postgres://"))


def open_store(
    location: str | os.PathLike[str] | None = None,
    *,
    migrate: bool = True,
    create: bool = True,
) -> Store:
    """Open (and by default migrate) the workspace at ``location``.

    ``None`` means ``$CSCOR_WORKSPACE`` or ``./workspace.db``. With ``create=False`` a
    location that holds no workspace yet (no file, or a database without our tables) is an
    error instead of becoming an empty workspace. A SQLite file is created owner-only, in a
    folder that must exist: a typo in a path never grows a tree of folders.
    """
    loc = str(location) if location is not None else os.environ.get(
        "CSCOR_WORKSPACE", DEFAULT_WORKSPACE
    )
    problem = workspace_location_problem(loc)
    if problem:
        raise ConfigError(problem)
    store: Store
    if is_postgres_url(loc):
        from cscor_tools.store.postgres import PostgresStore

        store = PostgresStore(loc)
    else:
        if loc.lower().startswith("sqlite:///"):
            loc = loc[len("sqlite:///") :]
        from cscor_tools.store.sqlite import SQLiteStore

        store = SQLiteStore(Path(loc) if loc != ":memory:" else loc, create=create)
    try:
        if not create and not store.is_workspace():
            raise StoreError(f"{store.location}: {NO_WORKSPACE}")
        if migrate:
            store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def open_workspace(
    workspace: str | None = None, config: Config | None = None, *, create: bool = False
) -> Store:
    """Open the workspace named by flag, env, config file or default, migrated.

    Only what writes a workspace's first data (init, sync, import) passes ``create=True``:
    a command that reads one never leaves an empty workspace behind a typo.
    """
    cfg = config if config is not None else load_config()
    return open_store(resolve_workspace(workspace, cfg), create=create)
