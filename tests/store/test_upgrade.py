"""A workspace made by an older version comes up to the current schema, on both stores."""

from __future__ import annotations

from cscor_tools.records import ChangeSet
from cscor_tools.schema import ENTITIES, make_id, provenance, utc_now
from cscor_tools.store import Store, open_store

#: entities this version added, and a column it added to an older entity
NEWER_ENTITIES = ("integrations",)
NEWER_COLUMN = ("clients", "metadata")


def _as_an_older_version(store: Store) -> None:
    """What a workspace of the version before looked like: no table for the newer entities,
    no newer column, the privacy step never run (so none of its tables or indexes)."""
    with store.transaction():
        for name in NEWER_ENTITIES:
            store._execute(f'DROP TABLE "{name}"')
        table, column = NEWER_COLUMN
        store._execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        for name in ("cscor_deletion_log", "cscor_suppression", "cscor_audit",
                     "cscor_corrections"):
            store._execute(f'DROP TABLE "{name}"')
        store._execute('DELETE FROM "cscor_migrations" WHERE "name" = \'0004_privacy\'')
        store._execute("DELETE FROM \"cscor_meta\" WHERE \"key\" = 'subject_key'")


def test_an_older_workspace_gets_new_tables_columns_and_steps(store_url: str) -> None:
    first = open_store(store_url)
    try:
        _as_an_older_version(first)
        assert "integrations" not in first._columns()
    finally:
        first.close()

    store = open_store(store_url)  # opening migrates
    try:
        columns = store._columns()
        for name in ENTITIES:
            assert set(ENTITIES[name].column_names) <= columns[name], name
        assert "cscor_suppression" in columns
        assert "0004_privacy" in [r[0] for r in store._query(
            'SELECT "name" FROM "cscor_migrations"')]
        row = provenance("integrations", "resend", "dom_1", synced_at=utc_now())
        row.update(provider="resend", kind="email_domain", name="mail.example.org")
        changes = ChangeSet()
        changes.add("integrations", row)
        store.apply(changes)
        assert store.count("integrations") == 1
        assert make_id("integrations", "resend", "dom_1") == row["id"]
        assert store.migrate() == []  # and a second migrate has nothing left to do
    finally:
        store.close()
