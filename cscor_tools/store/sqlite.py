"""The embedded default store: one SQLite file, owner-only, in WAL mode."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cscor_tools.errors import StoreError, WorkspaceLockedError
from cscor_tools.records import Row
from cscor_tools.schema import Entity, FieldType
from cscor_tools.store.base import NO_WORKSPACE, Store, dumps_json
from cscor_tools.store.ddl import quote

if TYPE_CHECKING:
    import polars as pl


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
_encode_utc_cached = functools.lru_cache(maxsize=1 << 12)(encode_time)


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


_PLAIN_LITERAL = re.compile(r"[A-Za-z0-9_.:+-]{0,64}")


def _values_of(frame: pl.DataFrame,
               into: Sequence[tuple[str, str]]) -> tuple[str, Iterator[tuple[Any, ...]]]:
    """The VALUES list of a bulk insert of ``frame``, and its rows as parameters.

    A column holding one value on every row (the source, the time of the import, "not
    deleted") is written into the statement once instead of bound on each row: binding
    is most of what SQLite's insert costs Python, and holds the GIL meanwhile. Only
    numbers and text of letters, digits and ``_.:+-`` are written so: any other value, a
    quote or a control character among them, stays a parameter.
    """
    import polars as pl

    constant: dict[str, str] = {}
    for name, dtype in frame.schema.items():
        col = frame[name]
        if frame.height < 2 or col.null_count() or col.n_unique() != 1:
            continue
        value = col[0]
        if dtype == pl.Boolean():
            constant[name] = "1" if value else "0"
        elif dtype == pl.Int64():
            constant[name] = str(int(value))
        elif dtype == pl.String() and _PLAIN_LITERAL.fullmatch(value):
            constant[name] = f"'{value}'"
    bound = [c for c in frame.columns if c not in constant]
    position = {c: i for i, c in enumerate(bound, start=1)}
    values = ", ".join(constant.get(s) or f"?{position[s]}" for _, s in into)
    return values, frame.select(bound).iter_rows()


class SQLiteStore(Store):
    """A workspace in one SQLite file (``:memory:`` for a throwaway one)."""

    dialect = "sqlite"
    ph = "?"
    driver_errors = (sqlite3.Error,)
    distinct_from = "IS NOT"  # IS DISTINCT FROM needs SQLite 3.39

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        """Open the workspace file at ``path``; with ``create`` a missing file is created
        owner-only (its folder must exist), without it a missing file is an error."""
        self.path = str(path)
        self.location = self.path
        self._memory_locks: set[str] = set()
        self._memory_guard = threading.Lock()
        if self.path != ":memory:":
            _check_or_create(Path(self.path), create)
        try:
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE so that
            # a writer takes the write lock up front instead of failing half-way through.
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            # 16 MiB of page cache instead of 2: ids are hashes, so primary-key inserts land
            # all over the index, and a small cache turns each into a disk read. Not more:
            # the cache fills up to its size with the workspace, and a sync's memory must not
            # grow with the account (64 MiB made a 20,000-customer Stripe sync peak at 180 MB
            # against 121 MB; the store_upsert benchmark measures the speed side).
            self._conn.execute("PRAGMA cache_size=-16384")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the workspace: {exc}") from exc

    @contextmanager
    def _outermost_transaction(self) -> Iterator[None]:
        try:
            # IMMEDIATE: a writer takes the write lock up front instead of failing half-way.
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot start a transaction: {exc}") from exc
        try:
            yield
        except BaseException:
            # SQLite rolls back by itself on some errors (a full disk): a second ROLLBACK
            # would fail and hide the error that matters.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: commit failed: {exc}") from exc

    def _lock_migrations(self) -> None:
        pass  # BEGIN IMMEDIATE took the write lock: a second migration waits for it already

    def _bulk_upsert(
        self,
        ent: Entity,
        columns: Sequence[str],
        rows: Sequence[Row],
        into: Sequence[tuple[str, str]],
        on_conflict: str,
    ) -> None:
        # Numbered parameters let one value fill several columns without copying rows.
        position = {c: i for i, c in enumerate(columns, start=1)}
        self._conn.executemany(
            f"INSERT INTO {quote(ent.name)} ({', '.join(quote(t) for t, _ in into)}) "
            f"VALUES ({', '.join(f'?{position[s]}' for _, s in into)}) {on_conflict}",
            encode_rows(ent, columns, rows),
        )

    def _bulk_load(
        self,
        ent: Entity,
        columns: Sequence[str],
        frame: pl.DataFrame,
        into: Sequence[tuple[str, str]],
        sets: str,
        changed: str,
    ) -> tuple[int, int]:
        values, rows = _values_of(frame, into)
        table = quote(ent.name)
        on_conflict = f'ON CONFLICT ("id") DO UPDATE SET {sets} WHERE {changed}'
        # A new row of a rowid table gets the largest rowid so far plus one (SQLite's
        # documented choice below the 64-bit maximum); an upsert's update keeps its rowid.
        # So the growth of max(rowid) counts the inserts, and total_changes the writes.
        (top,) = self._conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()
        changes = self._conn.total_changes
        self._conn.executemany(
            f"INSERT INTO {table} ({', '.join(quote(t) for t, _ in into)}) "
            f"VALUES ({values}) {on_conflict}",
            rows,
        )
        written = self._conn.total_changes - changes
        (new_top,) = self._conn.execute(
            f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()
        return new_top - top, written - (new_top - top)

    def _bulk_insert_new(
        self,
        ent: Entity,
        columns: Sequence[str],
        frame: pl.DataFrame,
        into: Sequence[tuple[str, str]],
    ) -> bool:
        values, rows = _values_of(frame, into)
        self._conn.execute("SAVEPOINT cscor_load")
        try:
            self._conn.executemany(
                f"INSERT INTO {quote(ent.name)} ({', '.join(quote(t) for t, _ in into)}) "
                f"VALUES ({values})",
                rows,
            )
        except sqlite3.IntegrityError:
            self._conn.execute("ROLLBACK TO cscor_load")
            self._conn.execute("RELEASE cscor_load")
            return False
        self._conn.execute("RELEASE cscor_load")
        return True

    def _insert_returning_id(self, sql: str, params: Sequence[Any]) -> int:
        rowid = self._conn.execute(sql, params).lastrowid
        assert rowid is not None
        return rowid

    def _columns(self) -> dict[str, set[str]]:
        return {
            name: {r[1] for r in self._query(f"PRAGMA table_info({quote(name)})")}
            for (name,) in self._query("SELECT name FROM sqlite_master WHERE type = 'table'")
        }

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

    def _encode_time(self, value: datetime) -> Any:
        return encode_time(value)

    def _decode_time(self, value: Any) -> datetime:
        return decode_time(value)

    def _decode_json(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


def _check_or_create(path: Path, create: bool) -> None:
    """Create the database file readable by its owner only (it holds personal data), in a
    folder that exists; or, without ``create``, insist that the file is there."""
    if path.is_file() and (create or path.stat().st_size):
        return
    if path.exists() and not path.is_file():
        raise StoreError(f"{path}: not a file, so not a workspace")
    if not create:  # missing, or empty: opening would write a header into it
        raise StoreError(f"{path}: {NO_WORKSPACE}")
    if not path.parent.is_dir():
        raise StoreError(
            f"{path}: the folder {path.parent} does not exist; create it first "
            "(a workspace is created in a folder, never with one)"
        )
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it a moment ago
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the workspace: {exc.strerror}") from exc
    os.close(fd)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
