"""``Transaction.load``: the bulk route of imports, on both stores.

It must count inserted, updated and unchanged rows as the row-at-a-time upsert would leave
them, write nothing for an unchanged row, keep tombstones sticky, store the same text as
``upsert`` (so later comparisons see equal rows), and survive being told rows are new when
one is not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscor_tools.imports.apply import changes
from cscor_tools.schema import make_id
from cscor_tools.store import Store

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.from_dicts(rows, schema={
        "id": pl.String, "source": pl.String, "source_id": pl.String, "deleted": pl.Boolean,
        "name": pl.String, "rating": pl.Int64, "tags": pl.List(pl.String),
        "address": pl.Struct({"line1": pl.String, "city": pl.String}),
        "created_at": pl.Datetime("us", "UTC"),
    })


def _row(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": make_id("clients", "import", str(n)), "source": "import", "source_id": str(n),
        "deleted": False, "name": f"Client {n}", "rating": 1 + n % 5,
        "tags": ["vip", "é"] if n % 2 else None,
        "address": {"line1": f"{n} Main St", "city": "Lyon"} if n % 3 else None,
        "created_at": T0,
    }
    return {**row, **changes}


def _load(store: Store, rows: list[dict[str, Any]], new: bool = False) -> tuple[int, int]:
    with store.transaction() as tx:
        return tx.load("clients", _frame(rows), new=new)


@pytest.mark.parametrize("new", [False, True], ids=["upsert", "insert"])
def test_counts_and_unchanged_rows_untouched(store: Store, new: bool) -> None:
    assert _load(store, [_row(n) for n in range(10)], new=new) == (10, 0)
    before = {r["id"]: r["synced_at"] for b in store.iter_rows("clients") for r in b}
    assert _load(store, [_row(n) for n in range(10)]) == (0, 0)
    changed = [_row(n, name="Renamed") if n < 3 else _row(n) for n in range(12)]
    assert _load(store, changed) == (2, 3)
    after = {r["id"]: r for b in store.iter_rows("clients") for r in b}
    assert len(after) == 12
    for n in range(3, 10):  # unchanged rows keep the time they were written
        rid = make_id("clients", "import", str(n))
        assert after[rid]["synced_at"] == before[rid]
    assert after[make_id("clients", "import", "0")]["name"] == "Renamed"
    assert after[make_id("clients", "import", "1")]["tags"] == ["vip", "é"]
    assert after[make_id("clients", "import", "2")]["address"] == {"line1": "2 Main St",
                                                                    "city": "Lyon"}
    assert after[make_id("clients", "import", "3")]["created_at"] == T0


def test_rows_said_to_be_new_that_are_not_are_upserted(store: Store) -> None:
    _load(store, [_row(1), _row(2)])
    # another writer stored row 2 meanwhile: the plain insert is undone, the upsert counts
    assert _load(store, [_row(2, name="Changed"), _row(3)], new=True) == (1, 1)
    rows = {r["source_id"]: r for b in store.iter_rows("clients") for r in b}
    assert set(rows) == {"1", "2", "3"} and rows["2"]["name"] == "Changed"


def test_a_tombstone_stays_and_counts_as_no_change(store: Store) -> None:
    _load(store, [_row(1, deleted=True)])
    assert _load(store, [_row(1, deleted=False)]) == (0, 0)
    (row,) = [r for b in store.iter_rows("clients") for r in b]
    assert row["deleted"] is True


def test_loaded_rows_are_stored_as_upserted_ones(store: Store) -> None:
    """The same rows, upserted one way and loaded the other, compare equal in the store."""
    rows = [_row(n) for n in range(6)]
    with store.transaction() as tx:
        tx.upsert("clients", rows)
    assert _load(store, rows) == (0, 0)


def test_loaded_text_is_the_upserted_text(sqlite_store: Store) -> None:
    rows = [_row(n) for n in range(6)]
    query = 'SELECT "tags", "address", "created_at", "deleted" FROM "clients" ORDER BY "id"'
    conn = sqlite_store.connection
    with sqlite_store.transaction() as tx:
        tx.upsert("clients", rows)
    upserted = conn.execute(query).fetchall()
    conn.execute('DELETE FROM "clients"')
    _load(sqlite_store, rows, new=True)
    assert conn.execute(query).fetchall() == upserted


CHANGES = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["Client 1", "Other", None]),
    "rating": st.sampled_from([1, 2, None]),
    "deleted": st.booleans(),
    "tags": st.sampled_from([["vip", "é"], ["vip"], [], None]),
    "address": st.sampled_from([{"line1": "1 Main St", "city": "Lyon"}, None,
                                {"line1": None, "city": "Lyon"}]),
    "created_at": st.sampled_from([T0, T0.replace(microsecond=1), None]),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(first=st.lists(CHANGES, min_size=1, max_size=6), second=st.lists(CHANGES, min_size=1,
                                                                          max_size=8))
def test_a_load_counts_and_leaves_what_upserts_would(store: Store, first: list[dict[str, Any]],
                                                       second: list[dict[str, Any]]) -> None:
    """Counts against the row-at-a-time definition (``apply.changes``), and rows an upsert
    of the same rows then leaves alone."""
    with store.transaction():
        store.connection.execute('DELETE FROM "clients"')  # hypothesis reuses the store
    base = [_row(n, **c) for n, c in enumerate(first)]
    again = [_row(n, **c) for n, c in enumerate(second)]
    _load(store, base)
    stored = store.get_rows("clients", [r["id"] for r in again])
    inserted = sum(1 for r in again if r["id"] not in stored)
    updated = sum(1 for r in again if r["id"] in stored and changes(stored[r["id"]], r))
    assert _load(store, again) == (inserted, updated)
    before = {r["id"]: r for b in store.iter_rows("clients") for r in b}
    with store.transaction() as tx:
        tx.upsert("clients", again)
    after = {r["id"]: r for b in store.iter_rows("clients") for r in b}
    assert after == before  # the upsert found nothing to change
    assert _load(store, again) == (0, 0)


def test_values_shared_by_a_batch_reach_sqlite_as_text_only_when_plain(
        sqlite_store: Store) -> None:
    """A value every row shares is written into the statement once, but only plain text
    (letters, digits, ``_.:+-``): a quote or a control character stays a parameter."""
    hostile = "x'); DROP TABLE \"clients\"; --\n"
    statements: list[str] = []
    real = sqlite_store._conn  # type: ignore[attr-defined]

    class Recording:
        """The connection, noting the statements run for many rows (before binding)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def executemany(self, sql: str, rows: Any) -> Any:
            statements.append(sql)
            return real.executemany(sql, rows)

    sqlite_store._conn = Recording()  # type: ignore[attr-defined]
    try:
        assert _load(sqlite_store, [_row(n, name=hostile) for n in range(3)], new=True) == (3, 0)
        assert _load(sqlite_store, [_row(n, name=hostile, rating=4) for n in range(3)]) == (0, 3)
    finally:
        sqlite_store._conn = real  # type: ignore[attr-defined]
    assert len(statements) == 2 and all("DROP" not in s for s in statements)
    assert all("'import'" in s for s in statements)  # the plain shared value, written once
    stored = [r for b in sqlite_store.iter_rows("clients") for r in b]
    assert [r["name"] for r in stored] == [hostile] * 3 and {r["rating"] for r in stored} == {4}
