"""Where the reliability scenarios run and how they compare: the connectors covered, fresh
workspaces on each store, a sync from the sandbox (through a transport a scenario may wrap),
and row-by-row snapshots of a workspace."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parents[2]
FAST = 1000.0  # requests per second: the sandbox runs unthrottled here
#: columns that say when we wrote a row, not what it holds
WHEN_WRITTEN = ("synced_at", "seen_at")


# -- what is covered --------------------------------------------------------------------------


def sandboxed_connectors() -> list[str]:
    """Installed connectors the sandbox can stand in for (as the contract suite picks them)."""
    from cscor_tools.connectors import available_connectors, load_connector

    names = []
    for name in available_connectors():
        try:
            cls = load_connector(name)
        except Exception:  # a broken plugin has its own test
            continue
        if cls.sandbox_provider:
            names.append(name)
    return names


def backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get("CSCOR_TEST_POSTGRES_URL") else ["sqlite"]


class Locations:
    """Fresh workspace locations on one backend: SQLite files in a folder, or PostgreSQL
    schemas (dropped by ``close``)."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self._schemas: list[str] = []
        self._base = os.environ.get("CSCOR_TEST_POSTGRES_URL", "")
        if backend == "postgres" and not self._base:
            raise RuntimeError("CSCOR_TEST_POSTGRES_URL is not set")

    def new(self, label: str) -> str:
        if self.backend == "sqlite":
            return str(self.folder / f"{label}-{uuid.uuid4().hex[:8]}.db")
        import psycopg

        schema = f"r_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self._schemas.append(schema)
        sep = "&" if "?" in self._base else "?"
        return f"{self._base}{sep}options={quote(f'-csearch_path={schema}')}"

    def close(self) -> None:
        if not self._schemas:
            return
        import psycopg

        with psycopg.connect(self._base, autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._schemas.clear()


@contextlib.contextmanager
def locations(backend: str) -> Iterator[Locations]:
    with tempfile.TemporaryDirectory(prefix="cscor-reliability-") as tmp:
        locs = Locations(backend, Path(tmp))
        try:
            yield locs
        finally:
            locs.close()


# -- syncing and comparing ----------------------------------------------------------------------


class Wrapped(httpx.BaseTransport):
    """The real transport, with ``hook(request, n)`` deciding each request first: it may
    answer in the server's place (return a response) or raise."""

    def __init__(self, hook: Callable[[httpx.Request, int], httpx.Response | None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.hook = hook
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        answer = self.hook(request, self.count)
        return answer if answer is not None else self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def credential(name: str, sb: Any, key: str | None = None) -> dict[str, str]:
    from cscor_tools.connectors import load_connector

    cls = load_connector(name)
    assert cls.sandbox_provider and cls.credential_env
    return {cls.credential_env: key or sb.credentials(cls.sandbox_provider)}


def base_url(name: str, sb: Any) -> str:
    from cscor_tools.connectors import load_connector

    provider = load_connector(name).sandbox_provider
    assert provider
    return str(sb.base_url(provider))


def sync_into(name: str, sb: Any, location: str, *, transport: httpx.BaseTransport | None = None,
              config: Any = None, key: str | None = None) -> Any:
    """One sync of ``name`` from the sandbox into the workspace at ``location``."""
    from cscor_tools.config import Config
    from cscor_tools.store import open_store
    from cscor_tools.workspace import sync_connector

    with open_store(location) as store:
        return sync_connector(name, store=store, base_url=base_url(name, sb),
                              env=credential(name, sb, key), rate_limit=FAST,
                              transport=transport, config=config or Config())


Snapshot = dict[str, dict[str, dict[str, Any]]]


def snapshot(location: str) -> Snapshot:
    """Every row of every entity by id, without the columns that say when it was written."""
    from cscor_tools.schema import ENTITIES
    from cscor_tools.store import open_store

    out: Snapshot = {}
    with open_store(location) as store:
        for entity in ENTITIES:
            rows = out.setdefault(entity, {})
            for batch in store.iter_rows(entity):
                for row in batch:
                    rows[row["id"]] = {k: v for k, v in row.items() if k not in WHEN_WRITTEN}
    return out


def differences(got: Snapshot, want: Snapshot) -> int:
    """Rows missing, extra or unequal between two snapshots."""
    n = 0
    for entity in set(got) | set(want):
        a, b = got.get(entity, {}), want.get(entity, {})
        n += sum(1 for i in set(a) | set(b) if a.get(i) != b.get(i))
    return n


def rows_in(snap: Snapshot) -> int:
    return sum(len(rows) for rows in snap.values())


def integrity(location: str) -> str:
    """``PRAGMA integrity_check`` of a SQLite workspace ("ok"); "n/a" for PostgreSQL."""
    if location.startswith("postgres"):
        return "n/a"
    import sqlite3

    conn = sqlite3.connect(location)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
