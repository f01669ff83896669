"""SQL DDL for both stores, derived from the workspace schema."""

from __future__ import annotations

from typing import Literal

from cscor_tools.schema import ENTITIES, Entity, Field, FieldType

Dialect = Literal["sqlite", "postgresql"]

# SQLite keeps times as fixed-width ISO-8601 text ending in Z (so text order is time order),
# booleans as 0/1, lists and structs as JSON text: the conventions every SQLite tool reads.
_SQLITE_TYPES = {
    FieldType.STRING: "TEXT",
    FieldType.INTEGER: "INTEGER",
    FieldType.NUMBER: "REAL",
    FieldType.BOOLEAN: "INTEGER",
    FieldType.TIMESTAMP: "TEXT",
    FieldType.STRING_LIST: "TEXT",
    FieldType.STRUCT: "TEXT",
}
_POSTGRES_TYPES = {
    FieldType.STRING: "TEXT",
    FieldType.INTEGER: "BIGINT",
    FieldType.NUMBER: "DOUBLE PRECISION",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.TIMESTAMP: "TIMESTAMPTZ",
    FieldType.STRING_LIST: "JSONB",
    FieldType.STRUCT: "JSONB",
}


#: Columns the store keeps beside an entity's fields and never hands out (exports read the
#: schema's fields only). ``seen_at``: when a write last carried the row, changed or not.
#: ``synced_at`` moves only when a row changes (a sync with nothing new leaves the data, and
#: so every export, as it was); sweeps go by ``seen_at``, so a row a listing saw unchanged
#: is never taken for one the provider deleted.
INTERNAL_COLUMNS: dict[str, FieldType] = {"seen_at": FieldType.TIMESTAMP}


def quote(name: str) -> str:
    """Quote an identifier for both dialects; refuses anything but a plain schema name."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"refusing to use {name!r} as an SQL identifier")
    return f'"{name}"'


def column_type(field: Field, dialect: Dialect) -> str:
    return (_SQLITE_TYPES if dialect == "sqlite" else _POSTGRES_TYPES)[field.type]


def column_definition(field: Field, dialect: Dialect) -> str:
    parts = [quote(field.name), column_type(field, dialect)]
    if field.name == "id":
        parts.append("PRIMARY KEY")
    elif not field.nullable:
        parts.append("NOT NULL")
    if field.name == "deleted":
        parts.append("DEFAULT FALSE" if dialect == "postgresql" else "DEFAULT 0")
    return " ".join(parts)


def internal_column_definition(name: str, dialect: Dialect) -> str:
    types = _SQLITE_TYPES if dialect == "sqlite" else _POSTGRES_TYPES
    return f"{quote(name)} {types[INTERNAL_COLUMNS[name]]}"


def create_entity_table(entity: Entity, dialect: Dialect) -> list[str]:
    columns = ",\n    ".join(
        [column_definition(f, dialect) for f in entity.fields]
        + [internal_column_definition(name, dialect) for name in INTERNAL_COLUMNS]
    )
    table = quote(entity.name)
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (\n    {columns}\n)",
        f"CREATE INDEX IF NOT EXISTS {quote(entity.name + '_created_at')} "
        f"ON {table} (\"created_at\")",
    ]


def internal_tables(dialect: Dialect) -> list[str]:
    """The toolkit's own bookkeeping: sync cursors, the run log, workspace settings."""
    json_t = "JSONB" if dialect == "postgresql" else "TEXT"
    ts_t = "TIMESTAMPTZ" if dialect == "postgresql" else "TEXT"
    run_id = (
        "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        if dialect == "postgresql"
        else "INTEGER PRIMARY KEY AUTOINCREMENT"
    )
    return [
        f"""CREATE TABLE IF NOT EXISTS "cscor_sync_state" (
    "connector" TEXT NOT NULL,
    "stream" TEXT NOT NULL,
    "slice" TEXT NOT NULL,
    "cursor" {json_t} NOT NULL,
    "updated_at" {ts_t} NOT NULL,
    PRIMARY KEY ("connector", "stream", "slice")
)""",
        f"""CREATE TABLE IF NOT EXISTS "cscor_runs" (
    "id" {run_id},
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "started_at" {ts_t} NOT NULL,
    "ended_at" {ts_t},
    "status" TEXT NOT NULL,
    "counts" {json_t},
    "error" TEXT,
    "details" {json_t}
)""",
        """CREATE TABLE IF NOT EXISTS "cscor_meta" (
    "key" TEXT PRIMARY KEY,
    "value" TEXT NOT NULL
)""",
    ]


def create_statements(dialect: Dialect) -> list[str]:
    """Every statement that creates the current schema on an empty database."""
    statements = internal_tables(dialect)
    for entity in ENTITIES.values():
        statements.extend(create_entity_table(entity, dialect))
    return statements


def render_sql(dialect: Dialect) -> str:
    return "".join(f"{s};\n\n" for s in create_statements(dialect))
