"""The workspace store, on both backends: upserts, tombstones, cursors, runs, locks."""

from __future__ import annotations

import itertools
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscor_tools.errors import StoreError, WorkspaceLockedError
from cscor_tools.records import ChangeSet, CursorUpdate, Sweep, Tombstone
from cscor_tools.schema import make_id, provenance
from cscor_tools.store import Store, open_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def client(n: int, **fields: Any) -> dict[str, Any]:
    row = provenance("clients", "test", f"c{n}", synced_at=T0, created_at=T0 + timedelta(days=n))
    row.update({"name": f"Client {n}", "email": f"c{n}@example.com", **fields})
    return row


def test_upsert_inserts_then_updates_by_id(store: Store) -> None:
    assert store.upsert("clients", [client(1), client(2)]) == 2
    store.upsert("clients", [client(1, name="Renamed")])
    got = store.get_rows("clients", [make_id("clients", "test", "c1")])
    assert [r["name"] for r in got.values()] == ["Renamed"]
    assert store.count("clients") == 2


def test_values_round_trip_with_their_types(store: Store) -> None:
    row = client(
        3,
        tags=["vip", "é-accent"],
        address={"line1": "1 Rue de la Paix", "country": "FR"},
        rating=5,
        balance=-1250,
        livemode=False,
        updated_at=datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
    )
    store.upsert("clients", [row])
    (got,) = store.get_rows("clients", [row["id"]]).values()
    assert {k: v for k, v in got.items() if k in row} == row
    assert all(got[k] is None for k in got.keys() - row.keys())


def test_a_partial_row_never_blanks_the_columns_it_lacks(store: Store) -> None:
    store.upsert("clients", [client(1, notes="keep me", rating=4)])
    partial = {"id": make_id("clients", "test", "c1"), "source": "test", "source_id": "c1",
               "email": "new@example.com"}
    store.upsert("clients", [partial])
    (got,) = store.get_rows("clients", [partial["id"]]).values()
    assert (got["email"], got["notes"], got["rating"]) == ("new@example.com", "keep me", 4)


def test_duplicate_ids_in_one_batch_keep_the_last(store: Store) -> None:
    assert store.upsert("clients", [client(1, name="first"), client(1, name="last")]) == 1
    (got,) = store.get_rows("clients", [make_id("clients", "test", "c1")]).values()
    assert got["name"] == "last"


def test_tombstones_are_sticky(store: Store) -> None:
    store.upsert("clients", [client(1)])
    cid = make_id("clients", "test", "c1")
    changes = ChangeSet()
    changes.tombstone("clients", Tombstone(cid, T0, "deleted at source"))
    changes.tombstone("clients", Tombstone(make_id("clients", "test", "nope"), T0, "x"))
    assert store.apply(changes) == {"clients.deleted": 1}  # unknown ids are not invented
    store.upsert("clients", [client(1, name="stale page read before the deletion")])
    (got,) = store.get_rows("clients", [cid]).values()
    assert got["deleted"] is True and got["deleted_reason"] == "deleted at source"
    assert got["deleted_at"] == T0
    assert store.count("clients", include_deleted=False) == 0


def test_sweep_tombstones_only_untouched_rows_of_its_scope(store: Store) -> None:
    store.upsert("clients", [client(n) for n in range(6)])
    listing = T0 + timedelta(hours=1)
    # Rows 1 and 4 were listed again; the scope is created_at in [day 1, day 5).
    store.upsert("clients", [client(1, synced_at=listing), client(4, synced_at=listing)])
    sweep = Sweep("clients", "test", listing, "gone at reconcile",
                  created_from=T0 + timedelta(days=1), created_to=T0 + timedelta(days=5))
    assert store.apply(ChangeSet(sweeps=[sweep])) == {"clients.deleted": 2}
    deleted = {r["source_id"] for b in store.iter_rows("clients") for r in b if r["deleted"]}
    assert deleted == {"c2", "c3"}


def test_rows_and_their_cursor_commit_together_or_not_at_all(store: Store) -> None:
    changes = ChangeSet()
    changes.add("clients", client(1))
    changes.add("clients", {"id": "bad", "no_such_column": 1})
    with pytest.raises(StoreError):
        store.apply(changes, CursorUpdate("c", "s", "all", {"page": 1}))
    assert store.count("clients") == 0
    assert store.load_state("c", "s").slices == {}
    good = ChangeSet()
    good.add("clients", client(1))
    store.apply(good, CursorUpdate("c", "s", "all", {"page": 1}))
    assert store.count("clients") == 1
    assert store.load_state("c", "s").slices == {"all": {"page": 1}}


def test_finish_stream_folds_slices_into_the_stream_cursor(store: Store) -> None:
    for key in ("a", "b"):
        store.apply(ChangeSet(), CursorUpdate("c", "s", key, {"at": key}))
    store.finish_stream("c", "s", {"high_water": 42})
    state = store.load_state("c", "s")
    assert (state.cursor, state.slices) == ({"high_water": 42}, {})
    store.reset_state("c")
    assert store.cursors() == []


def test_run_log_records_start_end_counts_and_errors(store: Store) -> None:
    run = store.start_run("sync", "demo", {"full": True})
    store.finish_run(run, "partial", counts={"rows": {"clients": 3}}, error="boom")
    (rec,) = store.runs(5)
    assert (rec.kind, rec.name, rec.status, rec.error) == ("sync", "demo", "partial", "boom")
    assert rec.counts == {"rows": {"clients": 3}} and rec.details == {"full": True}
    assert rec.ended_at is not None and rec.ended_at >= rec.started_at


def test_stale_running_runs_are_marked_interrupted(store: Store) -> None:
    store.start_run("sync", "demo")
    assert store.interrupt_stale_runs("sync", "demo") == 1
    assert store.runs(1)[0].status == "interrupted"


def test_iter_rows_pages_in_id_order_with_filters(store: Store) -> None:
    store.upsert("clients", [client(n) for n in range(25)])
    batches = list(store.iter_rows("clients", batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    ids = [r["id"] for b in batches for r in b]
    assert ids == sorted(ids)
    window = [r for b in store.iter_rows("clients", since=T0 + timedelta(days=5),
                                         until=T0 + timedelta(days=8)) for r in b]
    assert sorted(r["source_id"] for r in window) == ["c5", "c6", "c7"]


def test_the_lock_refuses_a_second_holder_and_frees_on_release(store_url: str) -> None:
    a, b = open_store(store_url), open_store(store_url)
    try:
        with a.lock("sync:x"):
            with (
                pytest.raises(WorkspaceLockedError, match="already running"),
                b.lock("sync:x"),
            ):
                pass
            with b.lock("sync:other"):  # other connectors are not blocked
                pass
        with b.lock("sync:x"):
            pass
    finally:
        a.close()
        b.close()


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="naive"):
        store.upsert("clients", [client(1, updated_at=datetime(2026, 1, 1))])


def test_migrate_is_idempotent_and_keys_persist(store_url: str) -> None:
    first = open_store(store_url)
    key = first.get_meta("hash_key")
    assert key and len(key) == 64
    assert first.migrate() == []
    first.close()
    again = open_store(store_url)
    assert again.get_meta("hash_key") == key
    again.close()


def test_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    s = open_store(tmp_path / "ws.db")
    s.close()
    mode = stat.S_IMODE(os.stat(tmp_path / "ws.db").st_mode)
    assert mode == 0o600


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(
    names=st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=20),
    tags=st.lists(st.text(max_size=10), max_size=4),
)
def test_any_text_round_trips(sqlite_store: Store, names: list[str], tags: list[str]) -> None:
    rows = [client(i, name=n.replace("\x00", ""), tags=tags) for i, n in enumerate(names)]
    sqlite_store.upsert("clients", rows)
    got = sqlite_store.get_rows("clients", [r["id"] for r in rows])
    for r in rows:
        assert got[r["id"]]["name"] == r["name"] and got[r["id"]]["tags"] == tags


# PostgreSQL text cannot hold NUL; everything else is fair game
_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_PARTIAL_FIELDS = {
    "name": st.text(_TEXT, min_size=1, max_size=8),
    "email": st.emails(),
    "notes": st.none() | st.text(_TEXT, max_size=8),
    "rating": st.none() | st.integers(1, 5),
    "deleted": st.booleans(),
    "deleted_at": st.none() | st.sampled_from([T0, T0 + timedelta(days=1)]),
    "deleted_reason": st.none() | st.sampled_from(["gone", "swept"]),
}
_EXAMPLES = itertools.count()
_PARTIALS = st.lists(
    st.tuples(st.sampled_from([1, 2]), st.fixed_dictionaries({}, optional=_PARTIAL_FIELDS)),
    max_size=8,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partials=_PARTIALS)
def test_rows_of_one_id_in_one_write_leave_what_writing_them_in_turn_would(
    store: Store, partials: list[tuple[int, dict[str, Any]]]
) -> None:
    """Two pages written together may name one row twice with different columns (a payment
    and the link row naming its invoice): nothing either carries may be lost."""
    def rows(source: str) -> list[dict[str, Any]]:
        out = []
        for n in (1, 2):
            full = client(n)
            out.append({**full, "id": make_id("clients", source, f"c{n}"), "source": source})
        for n, fields in partials:
            out.append({"id": make_id("clients", source, f"c{n}"), "source": source,
                        "source_id": f"c{n}", **fields})
        return out

    # Examples share the store: each writes under sources of its own.
    example = next(_EXAMPLES)
    sources = (f"together-{example}", f"in-turn-{example}")
    store.upsert("clients", rows(sources[0]))
    for row in rows(sources[1]):
        store.upsert("clients", [row])
    got = {source: {r["source_id"]: {k: v for k, v in r.items()
                                     if k not in ("id", "source", "synced_at")}
                    for b in store.iter_rows("clients") for r in b if r["source"] == source}
           for source in sources}
    assert got[sources[0]] == got[sources[1]]


def test_two_instants_of_a_fall_back_hour_are_stored_apart(store: Store) -> None:
    from zoneinfo import ZoneInfo

    # 01:30 happens twice in New York on 2026-11-01; equal and hash do not tell them apart.
    early = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    late = early.replace(fold=1)
    store.upsert("clients", [client(1, created_at=early), client(2, created_at=late)])
    got = {r["source_id"]: r["created_at"] for b in store.iter_rows("clients") for r in b}
    assert got == {"c1": early.astimezone(UTC), "c2": late.astimezone(UTC)}
    assert got["c2"] - got["c1"] == timedelta(hours=1)
