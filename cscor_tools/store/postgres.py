"""The hosted store: PostgreSQL (what Supabase runs), through psycopg 3.

Bulk upserts COPY rows into a session-private staging table, then move them with one
``INSERT … SELECT … ON CONFLICT``: COPY is PostgreSQL's fastest way in, and the staging table
lets one statement resolve every conflict. psycopg is imported here only, so the SQLite path
never needs it (install the ``postgres`` extra).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cscor_tools.errors import ConfigError, StoreError, WorkspaceLockedError
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

try:
    import psycopg
except ImportError:  # pragma: no cover - exercised only without the extra installed
    psycopg = None  # type: ignore[assignment]


def redact_url(url: str) -> str:
    """The URL without its password, fit for logs and messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _copy_rows(ent: Entity, columns: Sequence[str], rows: Sequence[Row]) -> Iterator[list[Any]]:
    """Rows as COPY value lists: JSON columns encoded, naive datetimes refused."""
    types = [ent.field(c).type for c in columns]
    json_at = [i for i, t in enumerate(types) if t in (FieldType.STRING_LIST, FieldType.STRUCT)]
    time_at = [i for i, t in enumerate(types) if t == FieldType.TIMESTAMP]
    for row in rows:
        values = [row[c] for c in columns]
        for i in json_at:
            if values[i] is not None:
                values[i] = dumps_json(values[i])
        for i in time_at:
            v = values[i]
            if v is not None and v.tzinfo is None:
                raise StoreError(f"refusing a naive datetime ({v}): times must carry a time zone")
        yield values


class _PostgresTransaction(Transaction):
    def __init__(self, store: PostgresStore) -> None:
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
            stage = self._store._staging_table(ent)
            col_list = ", ".join(quote(c) for c in cols)
            with self._conn.cursor() as cur:
                with cur.copy(f"COPY {stage} ({col_list}) FROM STDIN") as copy:
                    for values in _copy_rows(ent, cols, group):
                        copy.write_row(values)
                cur.execute(
                    f"INSERT INTO {quote(ent.name)} ({col_list}) SELECT {col_list} FROM {stage} "
                    f'ON CONFLICT ("id") DO UPDATE SET {upsert_assignments(cols, ent.name)}'
                )
                cur.execute(f"TRUNCATE {stage}")
            written += len(group)
        return written

    def tombstone(self, entity_name: str, stones: Sequence[Tombstone], synced_at: datetime) -> int:
        ent = entity(entity_name)
        marked = 0
        with self._conn.cursor() as cur:
            for s in stones:
                cur.execute(
                    f'UPDATE {quote(ent.name)} SET "deleted" = TRUE, '
                    '"deleted_at" = COALESCE("deleted_at", %s), '
                    '"deleted_reason" = COALESCE("deleted_reason", %s), "synced_at" = %s '
                    'WHERE "id" = %s',
                    (s.deleted_at, s.reason, synced_at, s.id),
                )
                marked += cur.rowcount
        return marked

    def sweep(self, sweep: Sweep, at: datetime) -> int:
        ent = entity(sweep.entity)
        where = ['"source" = %s', '"synced_at" < %s', 'NOT "deleted"']
        params: list[Any] = [sweep.source, sweep.listed_since]
        if sweep.created_from is not None:
            where.append('"created_at" >= %s')
            params.append(sweep.created_from)
        if sweep.created_to is not None:
            where.append('"created_at" < %s')
            params.append(sweep.created_to)
        with self._conn.cursor() as cur:
            cur.execute(
                f'UPDATE {quote(ent.name)} SET "deleted" = TRUE, "deleted_at" = %s, '
                f'"deleted_reason" = %s, "synced_at" = %s WHERE {" AND ".join(where)}',
                [at, sweep.reason, at, *params],
            )
            return cur.rowcount

    def set_cursor(self, update: CursorUpdate) -> None:
        with self._conn.cursor() as cur:
            if update.cursor is None:
                cur.execute(
                    'DELETE FROM "cscor_sync_state" WHERE "connector" = %s AND "stream" = %s '
                    'AND "slice" = %s',
                    (update.connector, update.stream, update.slice),
                )
                return
            cur.execute(
                'INSERT INTO "cscor_sync_state" ("connector", "stream", "slice", "cursor", '
                '"updated_at") VALUES (%s, %s, %s, %s::jsonb, now()) '
                'ON CONFLICT ("connector", "stream", "slice") DO UPDATE SET '
                '"cursor" = excluded."cursor", "updated_at" = excluded."updated_at"',
                (update.connector, update.stream, update.slice, dumps_json(update.cursor)),
            )

    def clear_slices(self, connector: str, stream: str) -> None:
        with self._conn.cursor() as cur:
            cur.execute(
                'DELETE FROM "cscor_sync_state" WHERE "connector" = %s AND "stream" = %s '
                "AND \"slice\" <> ''",
                (connector, stream),
            )


class PostgresStore(Store):
    """A workspace in a PostgreSQL database (or one schema of it, via ``options``)."""

    dialect = "postgresql"
    ph = "%s"

    def __init__(self, url: str) -> None:
        if psycopg is None:
            raise ConfigError(
                "PostgreSQL support needs psycopg: pip install 'cscor-tools[postgres]'"
            )
        self.url = url
        self.location = redact_url(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True)
            self._conn.execute("SET TIME ZONE 'UTC'")
            row = self._conn.execute("SELECT current_schema()").fetchone()
            self._schema = str(row[0]) if row else "public"
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: cannot connect: {_first_line(exc)}") from exc
        self._staged: set[str] = set()
        self._tx_depth = 0

    def close(self) -> None:
        self._conn.close()

    def migrate(self) -> list[str]:
        applied: list[str] = []
        with self.transaction():
            # Two processes migrating the same database at once wait for each other here.
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("migrate"),))
            self._conn.execute(migrations.migrations_table_ddl("postgresql"))
            done = [r[0] for r in self._conn.execute('SELECT "name" FROM "cscor_migrations"')]
            for step in migrations.pending(done):
                step.apply(self._run_ddl, "postgresql")
                self._conn.execute(
                    'INSERT INTO "cscor_migrations" ("name", "applied_at") VALUES (%s, now())',
                    (step.name,),
                )
                applied.append(step.name)
            existing: dict[str, set[str]] = {}
            for table, column in self._conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema()"
            ):
                existing.setdefault(table, set()).add(column)
            for statement in migrations.missing_column_statements(existing, "postgresql"):
                self._conn.execute(statement)
        return applied

    def _run_ddl(self, sql: str) -> None:
        self._conn.execute(sql)

    def _staging_table(self, ent: Entity) -> str:
        name = quote(f"cscor_stage_{ent.name}")
        if name not in self._staged:
            # A temporary table: private to this session, never WAL-logged, no indexes.
            self._conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {name} "
                f"(LIKE {quote(ent.name)} INCLUDING DEFAULTS)"
            )
            self._staged.add(name)
        return name

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield _PostgresTransaction(self)
            finally:
                self._tx_depth -= 1
            return
        self._tx_depth = 1
        try:
            with self._conn.transaction():
                yield _PostgresTransaction(self)
        except BaseException as exc:
            # A rolled-back transaction takes the staging tables it created with it.
            self._staged.clear()
            if isinstance(exc, psycopg.Error):
                raise StoreError(f"{self.location}: {_first_line(exc)}") from exc
            raise
        finally:
            self._tx_depth = 0

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        key = _lock_key(f"{self._schema}:{name}")
        (got,) = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (key,)
        ).fetchone() or (False,)
        if not got:
            raise WorkspaceLockedError(self.location, name)
        try:
            yield
        finally:
            if not self._conn.closed:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            with self._conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.rowcount
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {_first_line(exc)}") from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {_first_line(exc)}") from exc

    def _insert_run(self, kind: str, name: str, at: datetime, details: dict[str, Any]) -> int:
        row = self._conn.execute(
            'INSERT INTO "cscor_runs" ("kind", "name", "started_at", "status", "details") '
            "VALUES (%s, %s, %s, 'running', %s::jsonb) RETURNING \"id\"",
            (kind, name, at, dumps_json(details)),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _encode_time(self, value: datetime) -> Any:
        return value

    def _decode_time(self, value: Any) -> datetime:
        return value.astimezone(UTC) if isinstance(value, datetime) else datetime.fromisoformat(
            value
        )

    def _encode_json(self, value: Any) -> Any:
        return dumps_json(value)

    def _decode_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @property
    def connection(self) -> Any:
        """The underlying psycopg connection, for fast read paths that stream raw rows."""
        return self._conn


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a lock name, stable across processes."""
    digest = hashlib.sha256(f"cscor_tools:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
