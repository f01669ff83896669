"""The workspace store: where syncs and imports write and exports read.

``open_store`` picks the backend from a location: a ``postgresql://`` URL, or a SQLite file path.
"""

from __future__ import annotations

import os
from pathlib import Path

from cscor_tools.config import DEFAULT_WORKSPACE, Config, load_config, resolve_workspace
from cscor_tools.store.base import RunRecord, Store, Transaction

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
    return location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default migrate) the workspace at ``location``.

    ``None`` means ``$CSCOR_WORKSPACE`` or ``./workspace.db``.
    """
    loc = str(location) if location is not None else os.environ.get(
        "CSCOR_WORKSPACE", DEFAULT_WORKSPACE
    )
    store: Store
    if is_postgres_url(loc):
        from cscor_tools.store.postgres import PostgresStore

        store = PostgresStore(loc)
    else:
        if loc.startswith("sqlite:///"):
            loc = loc[len("sqlite:///") :]
        from cscor_tools.store.sqlite import SQLiteStore

        store = SQLiteStore(Path(loc) if loc != ":memory:" else loc)
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def open_workspace(workspace: str | None = None, config: Config | None = None) -> Store:
    """Open the workspace named by flag, env, config file or default, migrated."""
    cfg = config if config is not None else load_config()
    return open_store(resolve_workspace(workspace, cfg))
