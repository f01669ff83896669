"""The store's side of privacy requests: its own tables, the indexes that find a person, and
the SQL that reads, deletes and anonymizes rows by id.

Tables (created by the migration step ``0004_privacy``; none of them holds an email, a name
or a phone number):

- ``cscor_deletion_log``: one line per erasure: when, by which command, the keyed hash of the
  person's address, the key's id, rows deleted and anonymized per entity.
- ``cscor_suppression``: keyed hashes (of addresses, and of the ids of erased rows) that
  later syncs and imports must not bring back.
- ``cscor_audit``: privacy actions (subject exports, erasures, corrections, retention, key
  rotations) with counts, policies, fingerprints and destinations, never the data.
- ``cscor_corrections``: a corrected field, the corrected value (JSON text) and a keyed hash
  of the value the source held when it was corrected, so a sync that brings that value again
  keeps the correction and one that brings a new value wins.

The privacy logic (who matches, what erasure does per entity) lives in ``cscor_tools.privacy``;
this module only runs its SQL, the same on both backends.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cscor_tools.schema import entity
from cscor_tools.store.ddl import Dialect, quote

if TYPE_CHECKING:
    from cscor_tools.store.base import Store

#: (entity, column) pairs searched by normalized value (lower case, surrounding spaces off)
NORMALIZED_LOOKUPS: tuple[tuple[str, str], ...] = (
    ("clients", "email"),
    ("contacts", "email"),
    ("invoices", "customer_email"),
    ("payments", "receipt_email"),
    ("notifications", "recipient"),
    ("notifications", "sender"),
    ("comments", "author"),
    ("campaign_recipients", "email"),
)
#: (entity, column) foreign keys followed from a person's rows to the rows that concern them
REFERENCE_LOOKUPS: tuple[tuple[str, str], ...] = (
    ("invoices", "client_id"),
    ("invoice_lines", "invoice_id"),
    ("payments", "client_id"),
    ("payments", "invoice_id"),
    ("notifications", "client_id"),
    ("notifications", "contact_id"),
    ("channels", "client_id"),
    ("comments", "client_id"),
    ("campaign_recipients", "contact_id"),
)
_CHUNK = 500


def normalized(column: str) -> str:
    """The SQL expression a value is matched by (and indexed on): case and spaces folded."""
    return f"lower(trim({quote(column)}))"


def privacy_statements(dialect: Dialect) -> list[str]:
    """The privacy tables and the indexes that find a person's rows without a scan."""
    ts = "TIMESTAMPTZ" if dialect == "postgresql" else "TEXT"
    js = "JSONB" if dialect == "postgresql" else "TEXT"
    serial = (
        "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        if dialect == "postgresql"
        else "INTEGER PRIMARY KEY AUTOINCREMENT"
    )
    statements = [
        f"""CREATE TABLE IF NOT EXISTS "cscor_deletion_log" (
    "id" {serial},
    "erased_at" {ts} NOT NULL,
    "command" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "counts" {js} NOT NULL
)""",
        f"""CREATE TABLE IF NOT EXISTS "cscor_suppression" (
    "hash" TEXT PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "added_at" {ts} NOT NULL,
    "deletion_id" BIGINT
)""",
        f"""CREATE TABLE IF NOT EXISTS "cscor_audit" (
    "id" {serial},
    "at" {ts} NOT NULL,
    "action" TEXT NOT NULL,
    "subject" TEXT,
    "details" {js} NOT NULL
)""",
        f"""CREATE TABLE IF NOT EXISTS "cscor_corrections" (
    "entity" TEXT NOT NULL,
    "row_id" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "value" TEXT,
    "source_hash" TEXT NOT NULL,
    "corrected_at" {ts} NOT NULL,
    PRIMARY KEY ("entity", "row_id", "field")
)""",
    ]
    for table, column in NORMALIZED_LOOKUPS:
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {quote(f'{table}_{column}_norm')} "
            f"ON {quote(table)} (({normalized(column)}))"
        )
    for table, column in REFERENCE_LOOKUPS:
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {quote(f'{table}_{column}')} "
            f"ON {quote(table)} ({quote(column)})"
        )
    return statements


def new_key_statement() -> str:
    """Create the workspace's subject key (the key of the deletion log and suppression list)
    once; it is never rotated (see README: a rotated key would forget every erasure)."""
    return (
        "INSERT INTO \"cscor_meta\" (\"key\", \"value\") "
        f"VALUES ('subject_key', '{secrets.token_hex(32)}') ON CONFLICT (\"key\") DO NOTHING"
    )


# -- finding rows ---------------------------------------------------------------------------


def match_normalized(
    store: Store, entity_name: str, column: str, values: Iterable[str]
) -> list[tuple[str, str]]:
    """(id, stored value) of rows whose ``column``, case and spaces folded, is one of
    ``values`` (given folded). Uses the index of ``privacy_statements``."""
    table = quote(entity(entity_name).name)
    wanted = sorted(set(values))
    out: list[tuple[str, str]] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join([store.ph] * len(chunk))
        out.extend(
            (r[0], r[1])
            for r in store._query(
                f'SELECT "id", {quote(column)} FROM {table} '
                f"WHERE {normalized(column)} IN ({marks})",
                chunk,
            )
        )
    return out


def match_pattern(
    store: Store, entity_name: str, column: str, pattern: str
) -> list[tuple[str, str]]:
    """(id, stored value) of rows whose folded ``column`` is LIKE ``pattern`` (``\\`` escapes).

    A scan of the table: for the opt-ins (plus-addressing) and for fields that may hold
    several addresses; the caller checks each value exactly.
    """
    table = quote(entity(entity_name).name)
    return [
        (r[0], r[1])
        for r in store._query(
            f'SELECT "id", {quote(column)} FROM {table} '
            f"WHERE {normalized(column)} LIKE {store.ph} ESCAPE '\\'",
            [pattern],
        )
    ]


def referencing(
    store: Store, entity_name: str, column: str, ids: Iterable[str]
) -> list[str]:
    """Ids of rows whose foreign key ``column`` is one of ``ids``."""
    table = quote(entity(entity_name).name)
    wanted = sorted(set(ids))
    out: list[str] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join([store.ph] * len(chunk))
        out.extend(
            r[0]
            for r in store._query(
                f'SELECT "id" FROM {table} WHERE {quote(column)} IN ({marks})', chunk
            )
        )
    return out


def lineage(store: Store, entity_name: str, ids: Sequence[str]) -> list[tuple[str, str, Any]]:
    """(source, source_id, synced_at) of rows by id, for a summary of where data came from."""
    table = quote(entity(entity_name).name)
    out: list[tuple[str, str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join([store.ph] * len(chunk))
        out.extend(
            (r[0], r[1], store._decode_time(r[2]) if r[2] is not None else None)
            for r in store._query(
                f'SELECT "source", "source_id", "synced_at" FROM {table} '
                f'WHERE "id" IN ({marks})',
                chunk,
            )
        )
    return out


def older_than(
    store: Store, entity_name: str, column: str, cutoff: datetime, *, only_live: bool = False
) -> list[str]:
    """Ids of rows whose timestamp ``column`` is strictly before ``cutoff`` (NULL never is)."""
    ent = entity(entity_name)
    ent.field(column)
    live = ' AND NOT "deleted"' if only_live else ""
    return [
        r[0]
        for r in store._query(
            f'SELECT "id" FROM {quote(ent.name)} WHERE {quote(column)} < {store.ph}{live} '
            'ORDER BY "id"',
            [store._encode_time(cutoff)],
        )
    ]


# -- changing rows (inside the caller's transaction) -----------------------------------------


def delete_rows(store: Store, entity_name: str, ids: Sequence[str]) -> int:
    table = quote(entity(entity_name).name)
    deleted = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join([store.ph] * len(chunk))
        deleted += store._execute(f'DELETE FROM {table} WHERE "id" IN ({marks})', chunk)
    return deleted


def clear_fields(
    store: Store, entity_name: str, ids: Sequence[str], fields: Sequence[str], now: datetime
) -> int:
    """Set ``fields`` to NULL on rows by id (``synced_at`` says when); returns rows changed."""
    ent = entity(entity_name)
    if not fields:
        return 0
    sets = ", ".join(f"{quote(ent.field(f).name)} = NULL" for f in fields)
    changed = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join([store.ph] * len(chunk))
        changed += store._execute(
            f'UPDATE {quote(ent.name)} SET {sets}, "synced_at" = {store.ph} '
            f'WHERE "id" IN ({marks})',
            [store._encode_time(now), *chunk],
        )
    return changed


# -- the privacy tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class Deletion:
    """One line of the deletion log."""

    id: int
    erased_at: datetime
    command: str
    subject: str
    key_id: str
    counts: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """One privacy action of the audit log."""

    id: int
    at: datetime
    action: str
    subject: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Correction:
    entity: str
    row_id: str
    field: str
    value: Any
    source_hash: str
    corrected_at: datetime


def log_deletion(store: Store, erased_at: datetime, command: str, subject: str, key_id: str,
                 counts: dict[str, Any]) -> int:
    p = store.ph
    return store._insert_returning_id(
        'INSERT INTO "cscor_deletion_log" ("erased_at", "command", "subject", "key_id", '
        f'"counts") VALUES ({p}, {p}, {p}, {p}, {p})',
        (store._encode_time(erased_at), command, subject, key_id, store._encode_json(counts)),
    )


def suppress(store: Store, entries: Iterable[tuple[str, str]], added_at: datetime,
             deletion_id: int | None) -> int:
    """Add (hash, kind) entries to the suppression list; those already there stay as they are."""
    p = store.ph
    rows = [(h, kind, store._encode_time(added_at), deletion_id) for h, kind in entries]
    if not rows:
        return 0
    return store._executemany(
        'INSERT INTO "cscor_suppression" ("hash", "kind", "added_at", "deletion_id") '
        f'VALUES ({p}, {p}, {p}, {p}) ON CONFLICT ("hash") DO NOTHING',
        rows,
    )


def suppressed(store: Store) -> dict[str, set[str]]:
    """Every hash of the suppression list, by kind."""
    out: dict[str, set[str]] = {}
    for h, kind in store._query('SELECT "hash", "kind" FROM "cscor_suppression"'):
        out.setdefault(kind, set()).add(h)
    return out


def deletions(store: Store) -> list[Deletion]:
    return [
        Deletion(r[0], store._decode_time(r[1]), r[2], r[3], r[4], store._decode_json(r[5]))
        for r in store._query(
            'SELECT "id", "erased_at", "command", "subject", "key_id", "counts" '
            'FROM "cscor_deletion_log" ORDER BY "id"'
        )
    ]


def log_audit(store: Store, at: datetime, action: str, subject: str | None,
              details: dict[str, Any]) -> int:
    p = store.ph
    return store._insert_returning_id(
        f'INSERT INTO "cscor_audit" ("at", "action", "subject", "details") '
        f"VALUES ({p}, {p}, {p}, {p})",
        (store._encode_time(at), action, subject, store._encode_json(details)),
    )


def audit_entries(store: Store) -> list[AuditEntry]:
    return [
        AuditEntry(r[0], store._decode_time(r[1]), r[2], r[3], store._decode_json(r[4]) or {})
        for r in store._query(
            'SELECT "id", "at", "action", "subject", "details" FROM "cscor_audit" ORDER BY "id"'
        )
    ]


def save_correction(store: Store, c: Correction) -> None:
    p = store.ph
    store._execute(
        'INSERT INTO "cscor_corrections" ("entity", "row_id", "field", "value", "source_hash", '
        f'"corrected_at") VALUES ({p}, {p}, {p}, {p}, {p}, {p}) '
        'ON CONFLICT ("entity", "row_id", "field") DO UPDATE SET "value" = excluded."value", '
        '"source_hash" = excluded."source_hash", "corrected_at" = excluded."corrected_at"',
        (c.entity, c.row_id, c.field, json.dumps(c.value), c.source_hash,
         store._encode_time(c.corrected_at)),
    )


def corrections(store: Store) -> list[Correction]:
    return [
        Correction(r[0], r[1], r[2], json.loads(r[3]), r[4], store._decode_time(r[5]))
        for r in store._query(
            'SELECT "entity", "row_id", "field", "value", "source_hash", "corrected_at" '
            'FROM "cscor_corrections" ORDER BY "entity", "row_id", "field"'
        )
    ]


def forget_corrections(store: Store, keys: Iterable[tuple[str, str, str | None]]) -> int:
    """Drop corrections by (entity, row id, field); a field of None drops all of the row's."""
    p = store.ph
    dropped = 0
    for ent, row_id, field in keys:
        if field is None:
            dropped += store._execute(
                f'DELETE FROM "cscor_corrections" WHERE "entity" = {p} AND "row_id" = {p}',
                (ent, row_id),
            )
        else:
            dropped += store._execute(
                f'DELETE FROM "cscor_corrections" WHERE "entity" = {p} AND "row_id" = {p} '
                f'AND "field" = {p}',
                (ent, row_id, field),
            )
    return dropped
