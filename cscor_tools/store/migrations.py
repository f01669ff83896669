"""Schema migrations: an ordered list of named steps, each recorded once in a table.

Additive changes (a new entity, a new nullable column) need no step: ``Store.migrate`` creates
missing tables (before the steps, so a step may index a new entity), then adds missing columns
and missing lookup indexes.
Named steps are for what cannot be derived: renames, data moves, new constraints.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cscor_tools.runs import RunStatus
from cscor_tools.schema import ENTITIES
from cscor_tools.store.ddl import (
    Dialect,
    column_definition,
    create_statements,
    internal_column_definition,
    quote,
)
from cscor_tools.store.privacy import new_key_statement, privacy_statements

Execute = Callable[[str], object]


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[Execute, Dialect], None]


def _initial(execute: Execute, dialect: Dialect) -> None:
    for statement in create_statements(dialect):
        execute(statement)


def _workspace_keys(execute: Execute, dialect: Dialect) -> None:
    # A workspace id and the key under which exports pseudonymize (HMAC): created once, so the
    # same person gets the same pseudonym in every export of this workspace.
    for key, value in (
        ("workspace_id", secrets.token_hex(8)),
        ("hash_key", secrets.token_hex(32)),
    ):
        execute(
            f"INSERT INTO \"cscor_meta\" (\"key\", \"value\") VALUES ('{key}', '{value}') "
            "ON CONFLICT (\"key\") DO NOTHING"
        )


def _run_status_words(execute: Execute, dialect: Dialect) -> None:
    # Imports and exports wrote "ok" where syncs wrote "succeeded": one word now (RunStatus).
    execute(
        f"UPDATE \"cscor_runs\" SET \"status\" = '{RunStatus.SUCCEEDED.value}' "
        "WHERE \"status\" = 'ok'"
    )


def _privacy(execute: Execute, dialect: Dialect) -> None:
    # The deletion log, suppression list, audit log and corrections of privacy requests, the
    # indexes that find a person's rows, and the key their hashes are made under.
    for statement in [*privacy_statements(dialect), new_key_statement()]:
        execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _initial),
    Migration("0002_workspace_keys", _workspace_keys),
    Migration("0003_run_status_words", _run_status_words),
    Migration("0004_privacy", _privacy),
)

MIGRATIONS_TABLE = "cscor_migrations"


def migrations_table_ddl(dialect: Dialect) -> str:
    ts = "TIMESTAMPTZ" if dialect == "postgresql" else "TEXT"
    return (
        f'CREATE TABLE IF NOT EXISTS "{MIGRATIONS_TABLE}" '
        f'("name" TEXT PRIMARY KEY, "applied_at" {ts} NOT NULL)'
    )


def pending(applied: Iterable[str]) -> list[Migration]:
    done = set(applied)
    return [m for m in MIGRATIONS if m.name not in done]


def missing_column_statements(
    existing: dict[str, set[str]], dialect: Dialect
) -> list[str]:
    """Statements adding the columns a table lacks (tables given by name): schema fields, and
    the store's own columns, filled in for the rows already there."""
    statements = []
    for entity in ENTITIES.values():
        have = existing.get(entity.name)
        if have is None:
            continue
        table = quote(entity.name)
        for f in entity.fields:
            if f.name not in have:
                definition = column_definition(f, dialect).replace(" NOT NULL", "")
                statements.append(f"ALTER TABLE {table} ADD COLUMN {definition}")
        if "seen_at" not in have:
            # A row written before seen_at existed was last seen when it was last synced.
            statements.append(
                f"ALTER TABLE {table} ADD COLUMN {internal_column_definition('seen_at', dialect)}"
            )
            statements.append(f'UPDATE {table} SET "seen_at" = "synced_at"')
    return statements


def missing_table_statements(dialect: Dialect) -> list[str]:
    """Every table of the schema, created where missing (an entity newer than the workspace):
    named steps that index a new entity's table find it there."""
    return create_statements(dialect)


def index_statements(dialect: Dialect) -> list[str]:
    """The lookup indexes, created where missing: a new entity or column gets its index on a
    workspace that ran the step creating the others before it existed."""
    return [s for s in privacy_statements(dialect) if s.startswith("CREATE INDEX IF NOT EXISTS")]
