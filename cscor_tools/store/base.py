"""What a workspace store is: the contract both backends keep, and the logic they share.

Everything written here (and in ``writes.py``, the writes of a transaction) in plain SQL runs
unchanged on SQLite and PostgreSQL: transactions, upsert rules, tombstones, sweeps, cursors,
the run log and migrations. A backend supplies only
what differs between the two (the hooks at the end of :class:`Store`): its connection and
driver errors, its placeholder, value codecs, its bulk route for an upsert, how a transaction
begins, how it lists its columns, and its lock.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cscor_tools.errors import StoreError
from cscor_tools.records import ChangeSet, CursorUpdate, Row, StreamState
from cscor_tools.runs import RunStatus
from cscor_tools.schema import ENTITIES, Entity, FieldType, entity
from cscor_tools.store import migrations
from cscor_tools.store.ddl import Dialect, quote
from cscor_tools.store.writes import Transaction

if TYPE_CHECKING:
    import polars as pl

#: what to say where a command that only reads finds no workspace
NO_WORKSPACE = (
    "no workspace here. Check the location (--workspace, CSCOR_WORKSPACE or cscor.toml), "
    "or create one: cscor init (cscor sync and cscor import create one too)"
)


@dataclass(frozen=True)
class RunRecord:
    """One line of the run log."""

    id: int
    kind: str
    name: str
    started_at: datetime
    ended_at: datetime | None
    #: a RunStatus (an older store's "ok" reads as succeeded)
    status: RunStatus | str
    counts: dict[str, Any]
    error: str | None
    details: dict[str, Any]


class Store(ABC):
    """A workspace: the entity tables, sync cursors, the run log and the workspace lock."""

    dialect: Dialect
    #: where the store lives, fit to print (never holds a password)
    location: str

    #: the DB-API connection (for fast read paths, e.g. exports that stream raw rows)
    _conn: Any
    #: how deep in nested ``transaction()`` blocks we are (0: none open)
    _depth: int = 0

    # -- lifecycle --------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Bring the database to the current schema; returns the names of steps applied."""
        applied: list[str] = []
        p = self.ph
        with self.transaction():
            self._lock_migrations()
            self._execute(migrations.migrations_table_ddl(self.dialect))
            done = [r[0] for r in self._query('SELECT "name" FROM "cscor_migrations"')]
            if done:  # a workspace of an older version: tables of newer entities first
                for statement in migrations.missing_table_statements(self.dialect):
                    self._execute(statement)
            for step in migrations.pending(done):
                step.apply(self._execute, self.dialect)
                self._execute(
                    f'INSERT INTO "cscor_migrations" ("name", "applied_at") VALUES ({p}, {p})',
                    (step.name, self._encode_time(datetime.now(UTC))),
                )
                applied.append(step.name)
            for statement in migrations.missing_column_statements(self._columns(), self.dialect):
                self._execute(statement)
            for statement in migrations.index_statements(self.dialect):
                self._execute(statement)
        return applied

    def is_workspace(self) -> bool:
        """Whether the database holds a workspace already (``migrate`` has run on it)."""
        return migrations.MIGRATIONS_TABLE in self._columns()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> Any:
        """The underlying connection, for fast read paths (exports) that stream raw rows."""
        return self._conn

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction: committed when the block ends, rolled back if it raises.

        Nested use joins the outer transaction: the outermost block decides.
        """
        if self._depth:
            self._depth += 1
            try:
                yield Transaction(self)
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self._driver_errors(), self._outermost_transaction():
                yield Transaction(self)
        finally:
            self._depth = 0

    def upsert(self, entity_name: str, rows: Sequence[Row]) -> int:
        """Insert or update rows by id in one transaction."""
        with self.transaction() as tx:
            return tx.upsert(entity_name, rows)

    def apply(self, changes: ChangeSet, cursor: CursorUpdate | None = None) -> dict[str, int]:
        """Write a page's changes and the cursor that follows them, atomically.

        This is what makes a sync resumable: if the process dies before the commit, neither
        the rows nor the cursor are there, and the page is read again; after it, both are.
        """
        return self.apply_many([(changes, [cursor] if cursor is not None else [])])[0]

    def apply_many(
        self, batches: Sequence[tuple[ChangeSet, Sequence[CursorUpdate]]]
    ) -> list[dict[str, int]]:
        """Several change sets, each with its cursors, in one transaction (a group commit).

        Committing pages together keeps every cursor beside the rows it follows, and saves a
        transaction per page: the sync engine writes whatever pages are waiting at once.
        Returns the rows written per entity, one dict per change set.
        """
        now = datetime.now(UTC)
        results: list[dict[str, int]] = []
        with self.transaction() as tx:
            for changes, cursors in batches:
                written: dict[str, int] = {}
                for name, rows in changes.upserts.items():
                    if rows:
                        written[name] = written.get(name, 0) + tx.upsert(name, rows)
                for name, stones in changes.tombstones.items():
                    if stones:
                        key = f"{name}.deleted"
                        written[key] = written.get(key, 0) + tx.tombstone(name, stones, now)
                for sweep in changes.sweeps:
                    key = f"{sweep.entity}.deleted"
                    written[key] = written.get(key, 0) + tx.sweep(sweep, now)
                for cursor in cursors:
                    tx.set_cursor(cursor)
                results.append(written)
        return results

    # -- sync state -------------------------------------------------------------------------

    def load_state(self, connector: str, stream: str) -> StreamState:
        state = StreamState()
        for slice_key, cursor in self._query(
            'SELECT "slice", "cursor" FROM "cscor_sync_state" '
            f'WHERE "connector" = {self.ph} AND "stream" = {self.ph} ORDER BY "slice"',
            (connector, stream),
        ):
            value = self._decode_json(cursor)
            if slice_key == "":
                state.cursor = value
            else:
                state.slices[slice_key] = value
        return state

    def finish_stream(self, connector: str, stream: str, cursor: dict[str, Any] | None) -> None:
        """Replace a stream's slice cursors by its stream-level cursor, atomically."""
        with self.transaction() as tx:
            tx.clear_slices(connector, stream)
            tx.set_cursor(CursorUpdate(connector, stream, "", cursor))

    def reset_state(self, connector: str, streams: Sequence[str] | None = None) -> None:
        sql = f'DELETE FROM "cscor_sync_state" WHERE "connector" = {self.ph}'
        params: list[Any] = [connector]
        if streams:
            sql += f' AND "stream" IN ({", ".join([self.ph] * len(streams))})'
            params.extend(streams)
        with self.transaction():
            self._execute(sql, params)

    def cursors(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Every cursor: (connector, stream, slice, cursor), sorted."""
        return [
            (c, s, sl, self._decode_json(cur))
            for c, s, sl, cur in self._query(
                'SELECT "connector", "stream", "slice", "cursor" FROM "cscor_sync_state" '
                'ORDER BY "connector", "stream", "slice"'
            )
        ]

    # -- run log ----------------------------------------------------------------------------

    def start_run(self, kind: str, name: str, details: dict[str, Any] | None = None) -> int:
        p = self.ph
        with self.transaction():
            return self._insert_returning_id(
                'INSERT INTO "cscor_runs" ("kind", "name", "started_at", "status", "details") '
                f"VALUES ({p}, {p}, {p}, {p}, {p})",
                (kind, name, self._encode_time(datetime.now(UTC)), RunStatus.RUNNING.value,
                 self._encode_json(details or {})),
            )

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        *,
        counts: dict[str, Any] | None = None,
        error: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        sets = ['"ended_at" = {p}', '"status" = {p}', '"counts" = {p}', '"error" = {p}']
        params: list[Any] = [
            self._encode_time(datetime.now(UTC)),
            RunStatus(status).value,
            self._encode_json(counts or {}),
            error,
        ]
        if details is not None:
            sets.append('"details" = {p}')
            params.append(self._encode_json(details))
        sql = f'UPDATE "cscor_runs" SET {", ".join(sets)} WHERE "id" = {{p}}'
        with self.transaction():
            self._execute(sql.replace("{p}", self.ph), [*params, run_id])

    def interrupt_stale_runs(self, kind: str, name: str) -> int:
        """Mark runs left 'running' by a killed process; call only while holding the lock."""
        with self.transaction():
            p = self.ph
            return self._execute(
                f'UPDATE "cscor_runs" SET "status" = {p} WHERE "kind" = {p} AND "name" = {p} '
                f'AND "status" = {p}',
                (RunStatus.INTERRUPTED.value, kind, name, RunStatus.RUNNING.value),
            )

    def runs(self, limit: int = 20, kind: str | None = None) -> list[RunRecord]:
        where = f'WHERE "kind" = {self.ph} ' if kind else ""
        params: tuple[Any, ...] = (kind, limit) if kind else (limit,)
        rows = self._query(
            'SELECT "id", "kind", "name", "started_at", "ended_at", "status", "counts", '
            f'"error", "details" FROM "cscor_runs" {where}ORDER BY "id" DESC LIMIT {self.ph}',
            params,
        )
        return [
            RunRecord(
                id=r[0],
                kind=r[1],
                name=r[2],
                started_at=self._decode_time(r[3]),
                ended_at=self._decode_time(r[4]) if r[4] is not None else None,
                status=RunStatus.from_stored(r[5]),
                counts=self._decode_json(r[6]) or {},
                error=r[7],
                details=self._decode_json(r[8]) or {},
            )
            for r in rows
        ]

    # -- reading ----------------------------------------------------------------------------

    def count(self, entity_name: str, *, include_deleted: bool = True) -> int:
        ent = entity(entity_name)
        where = "" if include_deleted else ' WHERE NOT "deleted"'
        ((n,),) = self._query(f"SELECT COUNT(*) FROM {quote(ent.name)}{where}")
        return int(n)

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per entity: total and deleted."""
        out = {}
        for name in ENTITIES:
            total = self.count(name)
            live = self.count(name, include_deleted=False)
            out[name] = {"rows": total, "deleted": total - live}
        return out

    def iter_rows(
        self,
        entity_name: str,
        *,
        columns: Sequence[str] | None = None,
        include_deleted: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int = 5000,
    ) -> Iterator[list[Row]]:
        """Rows of an entity ordered by id, decoded, in batches (memory stays flat).

        ``since``/``until`` bound ``created_at`` as [since, until).
        Pages by id (keyset) rather than holding one cursor open, so a long export never
        pins a read transaction or a server-side cursor.
        """
        ent = entity(entity_name)
        names = list(columns) if columns else ent.column_names
        for n in names:
            ent.field(n)
        select = ", ".join(quote(n) for n in names)
        filters, params = self._time_filters(since, until)
        if not include_deleted:
            filters.append('NOT "deleted"')
        last_id: str | None = None
        decoders = [self._decoder(ent, n) for n in names]
        while True:
            where = list(filters)
            page_params = list(params)
            if last_id is not None:
                where.append(f'"id" > {self.ph}')
                page_params.append(last_id)
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            sql = (
                f"SELECT {select}, \"id\" FROM {quote(ent.name)}{clause} "
                f'ORDER BY "id" LIMIT {int(batch_size)}'
            )
            raw = self._query(sql, page_params)
            if not raw:
                return
            yield [_decode_row(names, decoders, r) for r in raw]
            last_id = raw[-1][-1]
            if len(raw) < batch_size:
                return

    def get_rows(self, entity_name: str, ids: Sequence[str]) -> dict[str, Row]:
        """The rows with these ids, by id (absent ids are simply missing)."""
        ent = entity(entity_name)
        names = ent.column_names
        decoders = [self._decoder(ent, n) for n in names]
        out: dict[str, Row] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            sql = (
                f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(ent.name)} "
                f'WHERE "id" IN ({", ".join([self.ph] * len(chunk))})'
            )
            for r in self._query(sql, chunk):
                row = _decode_row(names, decoders, r)
                out[row["id"]] = row
        return out

    # -- workspace settings -----------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._query(f'SELECT "value" FROM "cscor_meta" WHERE "key" = {self.ph}', (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._execute(
                f'INSERT INTO "cscor_meta" ("key", "value") VALUES ({self.ph}, {self.ph}) '
                'ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"',
                (key, value),
            )

    # -- locking ----------------------------------------------------------------------------

    @abstractmethod
    def lock(self, name: str) -> AbstractContextManager[None]:
        """Hold the workspace lock called ``name`` or raise WorkspaceLockedError at once.

        The lock dies with its process (file lock, session advisory lock): a SIGKILLed sync
        never leaves a lock behind.
        """

    # -- what backends provide --------------------------------------------------------------

    #: the DB-API placeholder of this backend
    ph: str = "?"
    #: the driver's exception classes, reported as StoreError naming the workspace
    driver_errors: tuple[type[Exception], ...] = ()
    #: the dialect's NULL-safe inequality
    distinct_from: str = "IS DISTINCT FROM"

    @abstractmethod
    def _outermost_transaction(self) -> AbstractContextManager[None]:
        """Begin a transaction; commit when the block ends, roll back if it raises."""

    @abstractmethod
    def _bulk_upsert(
        self,
        ent: Entity,
        columns: Sequence[str],
        rows: Sequence[Row],
        into: Sequence[tuple[str, str]],
        on_conflict: str,
    ) -> None:
        """Insert ``rows`` (each carrying every one of ``columns``) by the fastest route:
        ``into`` pairs each table column written with the row column it takes (a row column
        may fill several); conflicts resolve by the ``ON CONFLICT …`` clause given."""

    @abstractmethod
    def _bulk_load(
        self,
        ent: Entity,
        columns: Sequence[str],
        frame: pl.DataFrame,
        into: Sequence[tuple[str, str]],
        sets: str,
        changed: str,
    ) -> tuple[int, int]:
        """Insert the encoded frame's new rows and, where ``changed`` holds (``excluded``
        being the row proposed), update stored ones with ``sets``; returns (inserted,
        updated)."""

    @abstractmethod
    def _bulk_insert_new(
        self,
        ent: Entity,
        columns: Sequence[str],
        frame: pl.DataFrame,
        into: Sequence[tuple[str, str]],
    ) -> bool:
        """Insert rows whose ids should not be stored yet, inside a savepoint; False (and
        nothing written) when one was."""

    @abstractmethod
    def _insert_returning_id(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT of one row and return the id it was given."""

    @abstractmethod
    def _columns(self) -> dict[str, set[str]]:
        """The columns of every table of the workspace, by table."""

    @abstractmethod
    def _lock_migrations(self) -> None:
        """Make a concurrent migration of the same database wait (inside the transaction)."""

    @abstractmethod
    def _encode_time(self, value: datetime) -> Any: ...

    @abstractmethod
    def _decode_time(self, value: Any) -> datetime: ...

    @abstractmethod
    def _decode_json(self, value: Any) -> Any: ...

    def _encode_json(self, value: Any) -> Any:
        return dumps_json(value)

    def _describe_error(self, exc: BaseException) -> str:
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        try:
            yield
        except self.driver_errors as exc:
            raise StoreError(f"{self.location}: {self._describe_error(exc)}") from exc

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement inside the current transaction; returns rows affected."""
        with self._driver_errors():
            rowcount: int = self._conn.execute(sql, params).rowcount
            return rowcount

    def _executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> int:
        """Run one statement per parameter tuple; returns the rows affected in all."""
        if not params:
            return 0
        with self._driver_errors():
            cursor = self._conn.cursor()
            try:
                cursor.executemany(sql, params)
                rowcount: int = cursor.rowcount
                return rowcount
            finally:
                cursor.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._driver_errors():
            rows: list[tuple[Any, ...]] = self._conn.execute(sql, params).fetchall()
            return rows

    def _decoder(self, ent: Entity, column: str) -> Any:
        ftype = ent.field(column).type
        if ftype == FieldType.TIMESTAMP:
            return self._decode_time
        if ftype in (FieldType.STRING_LIST, FieldType.STRUCT):
            return self._decode_json
        if ftype == FieldType.BOOLEAN:
            return bool
        return _identity

    def _time_filters(
        self, since: datetime | None, until: datetime | None
    ) -> tuple[list[str], list[Any]]:
        filters: list[str] = []
        params: list[Any] = []
        if since is not None:
            filters.append(f'"created_at" >= {self.ph}')
            params.append(self._encode_time(since))
        if until is not None:
            filters.append(f'"created_at" < {self.ph}')
            params.append(self._encode_time(until))
        return filters, params


def _identity(value: Any) -> Any:
    return value


def _decode_row(names: Sequence[str], decoders: Sequence[Any], raw: Sequence[Any]) -> Row:
    return {
        n: (dec(v) if v is not None else None)
        for n, dec, v in zip(names, decoders, raw, strict=False)
    }


_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def dumps_json(value: Any) -> str:
    """Canonical JSON: the same value always gives the same text."""
    return _CANONICAL_JSON.encode(value)
