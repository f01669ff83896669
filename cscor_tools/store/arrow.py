"""The export read path: rows of an entity as Arrow record batches, from either store.

Rows come ordered by id (so the same data always comes out in the same order), a batch at a
time from one streaming cursor, so memory stays flat however large the table. Only the columns
asked for are selected: a field a policy drops is never read. Both dialects are asked for the
same wire values (timestamps as fixed-width UTC text, nested values as JSON text), which Arrow
and Polars then parse a whole column at a time.

Everything an export asks of the store in SQL lives here: the batches, a consistent snapshot
across entities, and the count of foreign keys that would point outside the export.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import pyarrow as pa

from cscor_tools.errors import StoreError
from cscor_tools.schema import Field, FieldType, entity
from cscor_tools.schema_render import arrow_schema, arrow_type
from cscor_tools.store.base import Store
from cscor_tools.store.ddl import quote
from cscor_tools.store.sqlite import encode_time

DEFAULT_BATCH_ROWS = 16 * 1024
_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, without importing psycopg here
_cursor_numbers = itertools.count()
_PG_TIME = "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\""
_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class RowSelection:
    """Which rows of an entity to read: created_at in [since, until), tombstones, statuses."""

    since: datetime | None = None
    until: datetime | None = None
    include_deleted: bool = True
    statuses: tuple[str, ...] | None = None
    #: only the rows with these ids (one person's rows: a privacy request), when given
    ids: tuple[str, ...] | None = None


def read_batches(
    store: Store,
    entity_name: str,
    *,
    columns: Sequence[str] | None = None,
    selection: RowSelection | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Record batches of an entity's rows ordered by id, typed by ``schema_render.arrow_schema``.

    Inside :func:`read_snapshot` every call sees the same moment of the store.
    """
    ent = entity(entity_name)
    names = list(columns) if columns is not None else ent.column_names
    fields = [ent.field(n) for n in names]
    schema = arrow_schema(ent, fields=names)
    schema = pa.schema([schema.field(n) for n in names], metadata=schema.metadata)
    select = ", ".join(_select_expr(store, f) for f in fields) or "NULL"
    where, params = _where(store, selection or RowSelection(), "")
    sql = f"SELECT {select} FROM {quote(ent.name)}{where} ORDER BY \"id\""
    for rows in _fetch(store, sql, params, batch_rows, ent.name):
        yield _to_batch(store, fields, schema, rows)


@contextmanager
def read_snapshot(store: Store) -> Iterator[None]:
    """Reads inside this block see one consistent state of the store (a read transaction).

    An export reads several tables and the sync cursors; a sync committing meanwhile must not
    leave a bundle whose invoices are newer than its clients or than its recorded cursors.
    """
    conn = _connection(store)
    if store.dialect == "sqlite":
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")  # deferred: the snapshot is taken by the first read
        try:
            yield
        finally:
            conn.execute("COMMIT")  # read-only: nothing to roll back
        return
    if conn.info.transaction_status != _PG_IDLE:
        yield  # already inside the caller's transaction: it decides what is seen
        return
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def count_dangling(
    store: Store,
    entity_name: str,
    field_name: str,
    selection: RowSelection,
    target_selection: RowSelection,
) -> int:
    """Selected rows whose foreign key ``field_name`` names no selected row of its target."""
    ent = entity(entity_name)
    target = ent.field(field_name).references
    if target is None:
        raise ValueError(f"{entity_name}.{field_name} is not a foreign key")
    src_where, src_params = _where(store, selection, "s.")
    tgt_where, tgt_params = _where(store, target_selection, "t.")
    fk = f"s.{quote(field_name)}"
    link = f't."id" = {fk}' + (f" AND {tgt_where[len(' WHERE '):]}" if tgt_where else "")
    src = f" AND {src_where[len(' WHERE '):]}" if src_where else ""
    sql = (
        f"SELECT COUNT(*) FROM {quote(ent.name)} s WHERE {fk} IS NOT NULL{src} "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(target)} t WHERE {link})"
    )
    rows = _query(store, sql, [*src_params, *tgt_params])
    return int(rows[0][0])


def latest(
    store: Store, entity_name: str, field_name: str, selection: RowSelection
) -> datetime | None:
    """The latest value of timestamp ``field_name`` among the selected rows (None: no rows).

    An export dates its bundle by the data it holds, not by the clock, so that the same
    store gives the same bundle.
    """
    ent = entity(entity_name)
    if ent.field(field_name).type != FieldType.TIMESTAMP:
        raise ValueError(f"{entity_name}.{field_name} is not a timestamp")
    where, params = _where(store, selection, "")
    rows = _query(store, f"SELECT MAX({quote(field_name)}) FROM {quote(ent.name)}{where}",
                  params)
    value = rows[0][0]
    if value is None:
        return None
    return store._decode_time(value)


def _connection(store: Store) -> Any:
    conn = getattr(store, "connection", None)
    if conn is None:
        raise StoreError(f"{store.location}: this store has no connection to read from")
    return conn


def _select_expr(store: Store, f: Field) -> str:
    q = quote(f.name)
    if store.dialect == "postgresql":
        if f.type == FieldType.TIMESTAMP:
            return f"to_char({q} AT TIME ZONE 'UTC', '{_PG_TIME}')"
        if f.type in (FieldType.STRUCT, FieldType.STRING_LIST):
            return f"{q}::text"
    return q


def _where(store: Store, sel: RowSelection, alias: str) -> tuple[str, list[Any]]:
    ph = store.ph
    sqlite = store.dialect == "sqlite"
    clauses: list[str] = []
    params: list[Any] = []
    for op, moment in ((">=", sel.since), ("<", sel.until)):
        if moment is not None:
            clauses.append(f'{alias}"created_at" {op} {ph}')
            params.append(encode_time(moment) if sqlite else moment)
    if not sel.include_deleted:
        clauses.append(f'{alias}"deleted" = 0' if sqlite else f'NOT {alias}"deleted"')
    if sel.statuses is not None:
        clauses.append(f'{alias}"status" IN ({", ".join([ph] * len(sel.statuses))})')
        params.extend(sel.statuses)
    if sel.ids is not None:  # one parameter however many ids: a JSON array, a text[]
        if sqlite:
            clauses.append(f'{alias}"id" IN (SELECT "value" FROM json_each({ph}))')
            params.append(json.dumps(sel.ids))
        else:
            clauses.append(f'{alias}"id" = ANY({ph})')
            params.append(list(sel.ids))
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _fetch(
    store: Store, sql: str, params: list[Any], batch_rows: int, name: str
) -> Iterator[list[tuple[Any, ...]]]:
    conn = _connection(store)
    try:
        if store.dialect == "sqlite":
            cursor = conn.execute(sql, params)
            try:
                while rows := cursor.fetchmany(batch_rows):
                    yield rows
            finally:
                cursor.close()
            return
        if conn.info.transaction_status == _PG_IDLE:  # a server-side cursor needs a transaction
            with conn.transaction():
                yield from _pg_fetch(conn, sql, params, batch_rows, name)
        else:
            yield from _pg_fetch(conn, sql, params, batch_rows, name)
    except Exception as exc:
        if _is_driver_error(exc):
            raise StoreError(f"{store.location}: reading {name}: {exc}") from exc
        raise


def _pg_fetch(
    conn: Any, sql: str, params: list[Any], batch_rows: int, name: str
) -> Iterator[list[tuple[Any, ...]]]:
    # A server-side cursor: the server holds the result and sends a batch per fetch.
    with conn.cursor(name=f"cscor_read_{name}_{next(_cursor_numbers)}") as cursor:
        cursor.itersize = batch_rows
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch_rows):
            yield rows


def _query(store: Store, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    conn = _connection(store)
    try:
        return list(conn.execute(sql, params).fetchall())
    except Exception as exc:
        if _is_driver_error(exc):
            raise StoreError(f"{store.location}: {exc}") from exc
        raise


def _is_driver_error(exc: Exception) -> bool:
    """An error of the database driver (turned into a StoreError), not one of ours."""
    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")  # imported already if a PostgreSQL store is open
    return psycopg is not None and isinstance(exc, psycopg.Error)


def _to_batch(
    store: Store, fields: list[Field], schema: pa.Schema, rows: list[tuple[Any, ...]]
) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if fields else []
    arrays = [
        _column(store, f, values) for f, values in zip(fields, columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _column(store: Store, f: Field, values: Sequence[Any]) -> pa.Array:
    t = f.type
    if t == FieldType.TIMESTAMP:
        return pa.array(values, pa.string()).cast(_TIMESTAMP)
    if t == FieldType.BOOLEAN and store.dialect == "sqlite":
        return pa.array(values, pa.int64()).cast(pa.bool_())
    if t in (FieldType.STRUCT, FieldType.STRING_LIST):
        decoded = pl.Series(values, dtype=pl.String).str.json_decode(_polars_type(f))
        return decoded.to_arrow().cast(arrow_type(f))
    return pa.array(values, arrow_type(f))


def _polars_type(f: Field) -> pl.DataType:
    if f.type == FieldType.STRUCT:
        return pl.Struct({s.name: _polars_type(s) for s in f.fields})
    return {
        FieldType.STRING: pl.String(),
        FieldType.INTEGER: pl.Int64(),
        FieldType.NUMBER: pl.Float64(),
        FieldType.BOOLEAN: pl.Boolean(),
        FieldType.STRING_LIST: pl.List(pl.String()),
        FieldType.TIMESTAMP: pl.String(),
    }[f.type]

