"""The embedded default store: one SQLite file, owner-only, in WAL mode."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cscor_tools.errors import StoreError, WorkspaceLockedError
from cscor_tools.records import CursorUpdate, Row, Sweep, Tombstone
from cscor_tools.schema import Entity, FieldType, entity
from cscor_tools.store import migrations
from cscor_tools.store.base import (
    Store,
    Transaction,
    dumps_json,
    group_by_columns,
    upsert_assignments,
)
from cscor_tools.store.ddl import quote


def encode_time(value: datetime) -> str:
    """Fixed-width UTC ISO-8601 with microseconds and Z: text order is time order."""
    if value.tzinfo is not UTC:
        offset = value.utcoffset()
        if offset is None:
            raise StoreError(f"refusing a naive datetime ({value}): times must carry a time zone")
        value = value.astimezone(UTC)
    # isoformat is about twice as fast as strftime; "+00:00" is always its last six characters
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


# Rows repeat their times (a page's synced_at, an invoice's created on each of its lines,
# billing periods): a cache hit costs a tenth of formatting. Only UTC times are cached: equal
# and hash ignore ``fold``, so two instants of a fall-back hour elsewhere would share an entry.
_encode_utc_cached = functools.lru_cache(maxsize=1 << 16)(encode_time)


def _encode_time_cached(value: datetime) -> str:
    return _encode_utc_cached(value) if value.tzinfo is UTC else encode_time(value)


def decode_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _encoder(ftype: FieldType) -> Callable[[Any], Any] | None:
    if ftype == FieldType.TIMESTAMP:
        return _encode_time_cached
    if ftype in (FieldType.STRING_LIST, FieldType.STRUCT):
        return dumps_json
    return None  # ints, floats, strings and bools bind as they are


def encode_rows(ent: Entity, columns: Sequence[str], rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """Rows as SQLite parameter tuples, in column order."""
    encoders = [_encoder(ent.field(c).type) for c in columns]
    plain = [c for c, enc in zip(columns, encoders, strict=True) if enc is None]
    if len(plain) == len(columns):
        return [tuple(r[c] for c in columns) for r in rows]
    # Encode column by column (one tight loop each), then zip the columns back into rows.
    encoded_columns = []
    for c, enc in zip(columns, encoders, strict=True):
        values = [r[c] for r in rows]
        if enc is not None:
            values = [None if v is None else enc(v) for v in values]
        encoded_columns.append(values)
    return list(zip(*encoded_columns, strict=True))


class _SQLiteTransaction(Transaction):
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._conn = store._conn

    def upsert(self, entity_name: str, rows: Sequence[Row]) -> int:
        ent = entity(entity_name)
        written = 0
        for columns, group in group_by_columns(ent, rows):
            cols = list(columns)
            if "synced_at" not in cols:
                cols.append("synced_at")
                now = datetime.now(UTC)
                group = [{**r, "synced_at": now} for r in group]
            sql = (
                f"INSERT INTO {quote(ent.name)} ({', '.join(quote(c) for c in cols)}) "
                f"VALUES ({', '.join('?' * len(cols))}) "
                f'ON CONFLICT ("id") DO UPDATE SET {upsert_assignments(cols, ent.name)}'
            )
            self._conn.executemany(sql, encode_rows(ent, cols, group))
            written += len(group)
        return written

    def tombstone(self, entity_name: str, stones: Sequence[Tombstone], synced_at: datetime) -> int:
        ent = entity(entity_name)
        cur = self._conn.executemany(
            f"UPDATE {quote(ent.name)} SET \"deleted\" = 1, "
            '"deleted_at" = COALESCE("deleted_at", ?), '
            '"deleted_reason" = COALESCE("deleted_reason", ?), "synced_at" = ? WHERE "id" = ?',
            [
                (encode_time(s.deleted_at), s.reason, encode_time(synced_at), s.id)
                for s in stones
            ],
        )
        return cur.rowcount

    def sweep(self, sweep: Sweep, at: datetime) -> int:
        ent = entity(sweep.entity)
        where = ['"source" = ?', '"synced_at" < ?', '"deleted" = 0']
        params: list[Any] = [sweep.source, encode_time(sweep.listed_since)]
        if sweep.created_from is not None:
            where.append('"created_at" >= ?')
            params.append(encode_time(sweep.created_from))
        if sweep.created_to is not None:
            where.append('"created_at" < ?')
            params.append(encode_time(sweep.created_to))
        cur = self._conn.execute(
            f'UPDATE {quote(ent.name)} SET "deleted" = 1, "deleted_at" = ?, '
            f'"deleted_reason" = ?, "synced_at" = ? WHERE {" AND ".join(where)}',
            [encode_time(at), sweep.reason, encode_time(at), *params],
        )
        return cur.rowcount

    def set_cursor(self, update: CursorUpdate) -> None:
        if update.cursor is None:
            self._conn.execute(
                'DELETE FROM "cscor_sync_state" WHERE "connector" = ? AND "stream" = ? '
                'AND "slice" = ?',
                (update.connector, update.stream, update.slice),
            )
            return
        self._conn.execute(
            'INSERT INTO "cscor_sync_state" ("connector", "stream", "slice", "cursor", '
            '"updated_at") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("connector", "stream", "slice") '
            'DO UPDATE SET "cursor" = excluded."cursor", "updated_at" = excluded."updated_at"',
            (
                update.connector,
                update.stream,
                update.slice,
                dumps_json(update.cursor),
                encode_time(datetime.now(UTC)),
            ),
        )

    def clear_slices(self, connector: str, stream: str) -> None:
        self._conn.execute(
            'DELETE FROM "cscor_sync_state" WHERE "connector" = ? AND "stream" = ? '
            "AND \"slice\" <> ''",
            (connector, stream),
        )


class SQLiteStore(Store):
    """A workspace in one SQLite file (``:memory:`` for a throwaway one)."""

    dialect = "sqlite"
    ph = "?"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.location = self.path
        self._memory_locks: set[str] = set()
        self._memory_guard = threading.Lock()
        try:
            if self.path != ":memory:":
                _create_owner_only(Path(self.path))
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE so that
            # a writer takes the write lock up front instead of failing half-way through.
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            # 64 MiB of page cache instead of 2: ids are hashes, so primary-key inserts land
            # all over the index, and a small cache turns each into a disk read.
            self._conn.execute("PRAGMA cache_size=-65536")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the workspace: {exc}") from exc
        self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def migrate(self) -> list[str]:
        applied: list[str] = []
        with self.transaction():
            self._conn.execute(migrations.migrations_table_ddl("sqlite"))
            done = [r[0] for r in self._conn.execute('SELECT "name" FROM "cscor_migrations"')]
            for step in migrations.pending(done):
                step.apply(self._run_ddl, "sqlite")
                self._conn.execute(
                    'INSERT INTO "cscor_migrations" ("name", "applied_at") VALUES (?, ?)',
                    (step.name, encode_time(datetime.now(UTC))),
                )
                applied.append(step.name)
            existing = {
                name: {r[1] for r in self._conn.execute(f"PRAGMA table_info({quote(name)})")}
                for (name,) in self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).fetchall()
            }
            for statement in migrations.missing_column_statements(existing, "sqlite"):
                self._conn.execute(statement)
        return applied

    def _run_ddl(self, sql: str) -> None:
        self._conn.execute(sql)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        if self._depth:
            # Nested use joins the outer transaction: the outermost block decides.
            self._depth += 1
            try:
                yield _SQLiteTransaction(self)
            finally:
                self._depth -= 1
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot start a transaction: {exc}") from exc
        self._depth = 1
        try:
            yield _SQLiteTransaction(self)
        except BaseException:
            self._depth = 0
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._depth = 0
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise StoreError(f"{self.path}: commit failed: {exc}") from exc

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        if self.path == ":memory:":
            with self._memory_guard:
                if name in self._memory_locks:
                    raise WorkspaceLockedError(self.location, name)
                self._memory_locks.add(name)
            try:
                yield
            finally:
                self._memory_locks.discard(name)
            return
        lock_path = Path(f"{self.path}.{_safe(name)}.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceLockedError(self.location, name) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def _insert_run(self, kind: str, name: str, at: datetime, details: dict[str, Any]) -> int:
        cur = self._conn.execute(
            'INSERT INTO "cscor_runs" ("kind", "name", "started_at", "status", "details") '
            "VALUES (?, ?, ?, 'running', ?)",
            (kind, name, encode_time(at), dumps_json(details)),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def _encode_time(self, value: datetime) -> Any:
        return encode_time(value)

    def _decode_time(self, value: Any) -> datetime:
        return decode_time(value)

    def _encode_json(self, value: Any) -> Any:
        return dumps_json(value)

    def _decode_json(self, value: Any) -> Any:
        return None if value is None else json.loads(value)

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for fast read paths (exports) that stream raw rows."""
        return self._conn


def _create_owner_only(path: Path) -> None:
    """Create the database file readable by its owner only: it holds personal data."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
