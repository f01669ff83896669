"""Upsert semantics on both stores: idempotence, updates, dry run, stop, duplicates, tombstones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cscor_tools.errors import StoreError
from cscor_tools.imports import ImportStoppedError, import_file
from cscor_tools.records import Tombstone
from cscor_tools.schema import make_id
from cscor_tools.store import Store, open_store
from tests.imports.conftest import store_digest

CLIENTS = (
    "id,name,email,rating\n"
    "1,Alpha,alpha@example.com,5\n"
    "2,Beta,beta@example.com,4\n"
    "3,Gamma,not-an-email,3\n"
    "4,Delta,delta@example.com,2\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(result) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    return result.inserted, result.updated, result.unchanged, result.rejected


def test_reimport_changes_nothing_and_edits_are_updates(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS)
    assert counts(import_file(path, store=store)) == (3, 0, 0, 1)
    before = {r["id"]: r for batch in store.iter_rows("clients") for r in batch}
    assert counts(import_file(path, store=store)) == (0, 0, 3, 1)
    after = {r["id"]: r for batch in store.iter_rows("clients") for r in batch}
    assert after == before  # not even synced_at moved
    edited = write(tmp_path, "clients.csv", CLIENTS.replace("Beta,", "Beta Ltd,"))
    assert counts(import_file(edited, store=store)) == (0, 1, 2, 1)
    row = store.get_rows("clients", [make_id("clients", "import", "2")])
    assert next(iter(row.values()))["name"] == "Beta Ltd"
    runs = store.runs(kind="import")
    assert [r.status for r in runs] == ["partial"] * 3
    assert runs[0].counts["clients"] == {"rows": 4, "inserted": 0, "updated": 1, "unchanged": 2,
                                         "rejected": 1}
    assert runs[0].details["sha256"] == __import__("hashlib").sha256(
        edited.read_bytes()).hexdigest()


def test_dry_run_reports_what_a_run_would_do_and_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS)
    import_file(path, store=store)
    edited = write(tmp_path, "more_clients.csv", CLIENTS.replace("Alpha,", "Alpha AG,")
                   + "5,Epsilon,eps@example.com,1\n5,Epsilon,eps@example.com,2\n")
    snapshot = (store.counts(), [r.id for r in store.runs()],
                {r["id"]: r for b in store.iter_rows("clients") for r in b})
    dry = import_file(edited, store=store, dry_run=True, batch_size=2)
    assert counts(dry) == (1, 2, 2, 1)  # Epsilon inserted, then updated by its second row
    assert dry.run_id is None
    assert (store.counts(), [r.id for r in store.runs()],
            {r["id"]: r for b in store.iter_rows("clients") for r in b}) == snapshot
    assert not (tmp_path / "more_clients.rejects.csv").exists()
    real = import_file(edited, store=store, batch_size=2)
    assert counts(real) == counts(dry)


def test_dry_run_leaves_the_sqlite_file_untouched(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with open_store(db) as store:
        import_file(write(tmp_path, "clients.csv", CLIENTS), store=store)
    before = store_digest(db)
    with open_store(db) as store:
        result = import_file(write(tmp_path, "clients2.csv", CLIENTS.replace("5\n", "1\n")),
                             store=store, dry_run=True)
    assert counts(result) == (0, 1, 2, 1)
    assert store_digest(db) == before


def test_dry_run_does_not_create_a_missing_workspace(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS)
    db = tmp_path / "not-yet" / "w.db"
    result = import_file(path, workspace=str(db), dry_run=True)
    assert counts(result) == (3, 0, 0, 1)
    monkeypatch.setenv("CSCOR_WORKSPACE", f"sqlite:///{tmp_path / 'env.db'}")
    assert counts(import_file(path, dry_run=True)) == (3, 0, 0, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clients.csv"]
    with pytest.raises(StoreError, match="does not exist"):  # never its folder
        import_file(path, workspace=str(db))
    db.parent.mkdir()
    real = import_file(path, workspace=str(db))  # a real run creates it, as always
    assert counts(real) == (3, 0, 0, 1) and db.exists()


def test_on_error_stop_commits_nothing(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS)
    with pytest.raises(ImportStoppedError) as caught:
        import_file(path, store=store, on_error="stop", batch_size=1)
    err = caught.value
    assert (err.row, err.field, err.file) == (4, "email", str(path))
    assert "nothing was imported" in str(err)
    assert store.count("clients") == 0
    run = store.runs(kind="import")[0]
    assert run.status == "failed" and "row 4" in (run.error or "")
    assert run.details["sha256"] == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / "clients.rejects.csv").read_text().count("\n") == 2  # header + row


def test_stop_without_rejections_commits(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "clients.csv", CLIENTS.replace("not-an-email", "g@example.com"))
    assert counts(import_file(path, store=store, on_error="stop")) == (4, 0, 0, 0)


def test_duplicate_keys_in_one_file_last_row_wins(store: Store, tmp_path: Path) -> None:
    text = "email,name\nsame@example.com,First\nSAME@example.com,Second\nSAME@example.com,Second\n"
    path = write(tmp_path, "clients.csv", text)
    assert counts(import_file(path, store=store)) == (1, 1, 1, 0)
    (row,) = [r for b in store.iter_rows("clients") for r in b]
    assert (row["name"], row["email"], row["source_id"]) == ("Second", "SAME@example.com",
                                                             "same@example.com")


def test_duplicates_across_batches_count_like_sequential_writes(store: Store,
                                                                tmp_path: Path) -> None:
    lines = ["email,rating"] + [f"c{i % 3}@example.com,{1 + i % 5}" for i in range(9)]
    path = write(tmp_path, "clients.csv", "\n".join(lines) + "\n")
    result = import_file(path, store=store, batch_size=2)
    assert counts(result) == (3, 6, 0, 0)
    assert store.count("clients") == 3


def test_columns_absent_from_the_file_are_left_alone(store: Store, tmp_path: Path) -> None:
    import_file(write(tmp_path, "clients.csv", "email,name,notes\na@example.com,A,keep me\n"),
                store=store)
    result = import_file(write(tmp_path, "clients.csv", "email,rating\na@example.com,4\n"),
                         store=store)
    assert counts(result) == (0, 1, 0, 0)
    (row,) = [r for b in store.iter_rows("clients") for r in b]
    assert (row["name"], row["notes"], row["rating"]) == ("A", "keep me", 4)


def test_a_deleted_row_stays_deleted(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "clients.csv", "email,name\na@example.com,A\n")
    import_file(path, store=store)
    rid = make_id("clients", "import", "a@example.com")
    with store.transaction() as tx:
        tx.tombstone("clients", [Tombstone(rid, datetime.now(UTC), "request")],
                     datetime.now(UTC))
    assert counts(import_file(path, store=store)) == (0, 0, 1, 0)
    assert store.get_rows("clients", [rid])[rid]["deleted"] is True


def test_references_resolve_across_batches_and_sources(store: Store, tmp_path: Path) -> None:
    import_file(write(tmp_path, "clients.csv", "id,email\nk1,a@example.com\nk2,b@example.com\n"),
                store=store)
    import_file(write(tmp_path, "other.csv", "email,name\nMixed@Example.com,M\n"),
                store=store, entity="clients", source="legacy")
    invoices = (
        "number,client,total,currency\n"
        "I1,k1,100,eur\n"
        "I2,k2,200,eur\n"
        f"I3,{make_id('clients', 'import', 'k1')},300,eur\n"
        "I4,k3,400,eur\n"
    )
    result = import_file(write(tmp_path, "invoices.csv", invoices), store=store, batch_size=3)
    assert counts(result) == (3, 0, 0, 1)
    assert result.files[0].messages == [
        "row 5, field 'client_id': no client with this reference in the file or the workspace"
    ]
    legacy = import_file(write(tmp_path, "legacy_invoices.csv",
                               "number,client\nL1,Mixed@Example.com\n"),
                         store=store, source="legacy")
    assert counts(legacy) == (1, 0, 0, 0)
    (inv,) = [r for b in store.iter_rows("invoices") for r in b if r["number"] == "L1"]
    assert inv["client_id"] == make_id("clients", "legacy", "mixed@example.com")


def test_unknown_and_unnamed_columns_are_reported_once(store: Store, tmp_path: Path) -> None:
    text = "email,Shoe size,,Favourite colour\n" + "".join(
        f"c{i}@example.com,4{i},{'x' if i == 2 else ''},blue\n" for i in range(5)
    )
    result = import_file(write(tmp_path, "clients.csv", text), store=store)
    f = result.files[0]
    assert f.unknown_columns == ["Shoe size", "Favourite colour"]
    assert f.notes == ["read as UTF-8 (detected)",
                       "the unnamed column 3 holds values; they were not imported"]
    assert result.inserted == 5


def test_a_nul_character_rejects_its_row_on_every_store(store: Store, tmp_path: Path) -> None:
    # PostgreSQL cannot store NUL in text: the row is refused, naming it, on both backends,
    # and the others are imported, rather than the whole write failing on one of them.
    lines = [
        '{"id": "1", "name": "Alpha", "email": "alpha@example.com"}',
        '{"id": "2", "name": "Be\\u0000ta", "email": "beta@example.com"}',
        '{"id": "3", "name": "Gamma", "email": "gamma@example.com", "tags": ["a\\u0000"]}',
        '{"id": "4", "name": "Delta", "email": "delta@example.com"}',
    ]
    path = write(tmp_path, "clients.jsonl", "\n".join(lines) + "\n")
    result = import_file(path, store=store)
    assert counts(result) == (2, 0, 0, 2)
    messages = [m for f in result.files for m in f.messages]
    assert len(messages) == 2 and all("NUL" in m for m in messages), messages
    assert sorted(r["name"] for b in store.iter_rows("clients") for r in b) == ["Alpha", "Delta"]
