"""The writes of a transaction, written once over the backend hooks of :class:`Store`.

Upserts group rows by the columns they carry and hand each group to the backend's bulk
route; tombstones, sweeps and cursors are plain SQL that both dialects run as written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cscor_tools.errors import StoreError
from cscor_tools.records import CursorUpdate, Row, Sweep, Tombstone, merge_rows
from cscor_tools.schema import Entity, entity
from cscor_tools.store.ddl import quote

if TYPE_CHECKING:
    import polars as pl

    from cscor_tools.store.base import Store

#: columns of a tombstone that an ordinary upsert may set but never clear
TOMBSTONE_COLUMNS = ("deleted", "deleted_at", "deleted_reason")


class Transaction:
    """Writes that commit together or not at all (get one from :meth:`Store.transaction`)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def upsert(self, entity_name: str, rows: Sequence[Row]) -> int:
        """Insert or update rows by id; returns how many distinct rows were written.

        A row that changes nothing keeps its ``synced_at`` (so exports stay the same); only
        its ``seen_at`` says it was written again (so a sweep knows it is still there).
        """
        ent = entity(entity_name)
        written = 0
        for columns, group in group_by_columns(ent, rows):
            cols = list(columns)
            if "synced_at" not in cols:
                cols.append("synced_at")
                now = datetime.now(UTC)
                group = [{**r, "synced_at": now} for r in group]
            # (table column, row column): seen_at is the synced_at the write carries
            into = [*((c, c) for c in cols), ("seen_at", "synced_at")]
            sets = upsert_assignments(cols, ent.name, self._store.distinct_from)
            on_conflict = f'ON CONFLICT ("id") DO UPDATE SET {sets}'
            self._store._bulk_upsert(ent, cols, group, into, on_conflict)
            written += len(group)
        return written

    def load(self, entity_name: str, frame: pl.DataFrame, *,
             new: bool = False) -> tuple[int, int]:
        """Write a frame of complete rows of one entity, each id once; returns (inserted,
        updated). A row that would change nothing is not written at all (its ``synced_at``
        and ``seen_at`` stay), so loading the same rows again writes nothing.

        The route of bulk imports: the frame goes to the backend's bulk path as it is
        (``executemany`` of its rows for SQLite, ``COPY`` of its CSV text for PostgreSQL),
        and the store tells which rows were new. ``new`` says the caller knows none of the
        ids is stored (an import into an empty table): the rows are then inserted without
        an upsert's conflict handling, which costs PostgreSQL a second pass over the primary
        key. Should one be stored after all (another writer), that insert is undone and the
        rows are upserted.
        """
        # polars only here: a sync never loads it (its import costs tens of megabytes)
        import polars as pl

        from cscor_tools.store.frames import encode_frame

        ent = entity(entity_name)
        unknown = [c for c in frame.columns if not ent.has_field(c)]
        if unknown:
            raise StoreError(f"{ent.name} has no column {unknown[0]!r}")
        if "id" not in frame.columns:
            raise StoreError(f"{ent.name}: a row without an id cannot be stored")
        if frame.height == 0:
            return 0, 0
        if "synced_at" not in frame.columns:
            frame = frame.with_columns(pl.lit(datetime.now(UTC)).dt.replace_time_zone(
                "UTC").alias("synced_at"))
        cols = frame.columns
        into = [*((c, c) for c in cols), ("seen_at", "synced_at")]
        encoded = encode_frame(frame)
        if new and self._store._bulk_insert_new(ent, cols, encoded, into):
            return frame.height, 0
        sets, changed = _load_assignments(cols, ent.name, self._store.distinct_from)
        return self._store._bulk_load(ent, cols, encoded, into, sets, changed)

    def tombstone(self, entity_name: str, stones: Sequence[Tombstone], synced_at: datetime) -> int:
        """Mark existing rows deleted; returns how many rows this changed (a row deleted,
        with its time and reason, already is left as it is: a replayed deletion rewrites
        nothing)."""
        store, p = self._store, self._store.ph
        enc = store._encode_time
        return store._executemany(
            f'UPDATE {quote(entity(entity_name).name)} SET "deleted" = TRUE, '
            f'"deleted_at" = COALESCE("deleted_at", {p}), '
            f'"deleted_reason" = COALESCE("deleted_reason", {p}), "synced_at" = {p} '
            f'WHERE "id" = {p} AND NOT ("deleted" AND "deleted_at" IS NOT NULL '
            'AND "deleted_reason" IS NOT NULL)',
            [(enc(s.deleted_at), s.reason, enc(synced_at), s.id) for s in stones],
        )

    def sweep(self, sweep: Sweep, at: datetime) -> int:
        """Tombstone the rows of a listed scope that the listing did not touch."""
        store, p = self._store, self._store.ph
        enc = store._encode_time
        where = [f'"source" = {p}', f'"seen_at" < {p}', 'NOT "deleted"']
        params: list[Any] = [sweep.source, enc(sweep.listed_since)]
        if sweep.created_from is not None:
            where.append(f'"created_at" >= {p}')
            params.append(enc(sweep.created_from))
        if sweep.created_to is not None:
            where.append(f'"created_at" < {p}')
            params.append(enc(sweep.created_to))
        return store._execute(
            f'UPDATE {quote(entity(sweep.entity).name)} SET "deleted" = TRUE, '
            f'"deleted_at" = {p}, "deleted_reason" = {p}, "synced_at" = {p} '
            f'WHERE {" AND ".join(where)}',
            [enc(at), sweep.reason, enc(at), *params],
        )

    def set_cursor(self, update: CursorUpdate) -> None:
        """Record (or, with cursor None, forget) where a stream slice stands."""
        store, p = self._store, self._store.ph
        key = (update.connector, update.stream, update.slice)
        if update.cursor is None:
            store._execute(
                f'DELETE FROM "cscor_sync_state" WHERE "connector" = {p} AND "stream" = {p} '
                f'AND "slice" = {p}',
                key,
            )
            return
        store._execute(
            'INSERT INTO "cscor_sync_state" ("connector", "stream", "slice", "cursor", '
            f'"updated_at") VALUES ({p}, {p}, {p}, {p}, {p}) '
            'ON CONFLICT ("connector", "stream", "slice") DO UPDATE SET '
            '"cursor" = excluded."cursor", "updated_at" = excluded."updated_at"',
            (*key, store._encode_json(update.cursor), store._encode_time(datetime.now(UTC))),
        )

    def clear_slices(self, connector: str, stream: str) -> None:
        """Forget every slice cursor of a stream, keeping its stream-level cursor."""
        p = self._store.ph
        self._store._execute(
            f'DELETE FROM "cscor_sync_state" WHERE "connector" = {p} AND "stream" = {p} '
            "AND \"slice\" <> ''",
            (connector, stream),
        )


def group_by_columns(
    ent: Entity, rows: Sequence[Row]
) -> Iterator[tuple[tuple[str, ...], list[Row]]]:
    """Deduplicate rows by id and group them by the set of columns they carry, so a partial
    row never blanks the columns it lacks.

    Rows of one id merge as writing them one after another would leave the row (see
    ``records.merge_rows``): a later row wins on the columns it carries, and the columns only an
    earlier one carries survive — a link row naming a payment's invoice and the payment's
    own row, read in two pages written together, both count.
    """
    latest: dict[str, Row] = {}
    for row in rows:
        try:
            row_id = row["id"]
        except KeyError:
            raise StoreError(f"{ent.name}: a row without an id cannot be stored") from None
        earlier = latest.get(row_id)
        latest[row_id] = row if earlier is None else merge_rows(earlier, row)
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in latest.values():
        groups.setdefault(tuple(row), []).append(row)
    for columns, group in groups.items():
        unknown = [c for c in columns if not ent.has_field(c)]
        if unknown:
            raise StoreError(f"{ent.name} has no column {unknown[0]!r}")
        yield columns, group


def _load_assignments(columns: Sequence[str], table: str,
                      distinct_from: str) -> tuple[str, str]:
    """The SET list of a load, and the condition under which a stored row is rewritten
    (``excluded`` is the row proposed; ``seen_at`` is the ``synced_at`` it carries)."""
    sets, changes = _assignments(columns, table, distinct_from)
    sets += ['"synced_at" = excluded."synced_at"', '"seen_at" = excluded."synced_at"']
    return ", ".join(sets), " OR ".join(changes) or "FALSE"


def _assignments(columns: Sequence[str], table: str,
                 distinct_from: str) -> tuple[list[str], list[str]]:
    """Each column's assignment, and each one's "this changes the stored value" test.

    Tombstone columns are sticky: ``deleted`` only turns on, ``deleted_at`` and
    ``deleted_reason`` keep a stored value.
    """
    sets, changes = [], []
    t = quote(table)
    for c in columns:
        if c in ("id", "synced_at"):
            continue
        q = quote(c)
        if c == "deleted":
            value = f"({t}.{q} OR excluded.{q})"
        elif c in TOMBSTONE_COLUMNS:
            value = f"COALESCE({t}.{q}, excluded.{q})"
        else:
            value = f"excluded.{q}"
        sets.append(f"{q} = {value}")
        changes.append(f"{value} {distinct_from} {t}.{q}")
    return sets, changes


def upsert_assignments(
    columns: Sequence[str], table: str, distinct_from: str = "IS DISTINCT FROM"
) -> str:
    """The SET list of an upsert.

    Tombstone columns are sticky (a deleted row stays deleted when an older page that still
    listed it is written after the deletion). ``synced_at`` moves only when another column
    takes a new value (``distinct_from`` is the dialect's NULL-safe inequality), and
    ``seen_at`` always does.
    """
    sets, changes = _assignments(columns, table, distinct_from)
    t = quote(table)
    changed = " OR ".join(changes) or "FALSE"
    sets.append(
        f'"synced_at" = CASE WHEN {changed} THEN excluded."synced_at" ELSE {t}."synced_at" END'
    )
    sets.append('"seen_at" = excluded."seen_at"')
    return ", ".join(sets)
