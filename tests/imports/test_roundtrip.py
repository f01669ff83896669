"""Round trip over a workspace as syncs leave it: export → import into an empty one → export.

The store (``realistic.py``) holds tombstones still referenced by live rows and references to
rows never synced, so most of its foreign keys are left out of the bundle; the import must
restore every row as the source held it, and the second export must give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cscor_tools.imports import import_file
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store, open_store
from tests.imports.realistic import NEVER_SYNCED, SOURCE, rows, seed

export = pytest.importorskip("cscor_tools.export")

FORMATS = ["jsonl", "json", "csv", "parquet"]


@pytest.fixture
def source(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "source.db")
    seed(store)
    return store


def data_files(folder: Path) -> dict[str, bytes]:
    """Every file of a bundle but the manifest (which says when it was made)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


def rehash(bundle: Path, name: str) -> None:
    """Make the manifest vouch for an edited file, as a careful forger would."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    data = (bundle / name).read_bytes()
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["bytes"] = len(data)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_the_store_is_realistic(source: Store, tmp_path: Path) -> None:
    """Guard the fixture: every entity filled, tombstones, and every foreign key left out."""
    counts = source.counts()
    assert all(counts[name]["rows"] > 0 for name in ENTITIES)
    assert sum(c["deleted"] for c in counts.values()) >= 4
    result = export.export_bundle(source, tmp_path / "guard", format="jsonl",
                                  include_deleted=True)
    left_out = {k["field"] for k in result.manifest["foreign_keys_left_out"]}
    assert left_out == {f"{e.name}.{f.name}" for e in ENTITIES.values()
                        for f in e.foreign_keys()}


@pytest.mark.parametrize("include_deleted", [False, True], ids=["live", "with-tombstones"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_gives_identical_files(source: Store, store: Store, tmp_path: Path,
                                          fmt: str, include_deleted: bool) -> None:
    first = tmp_path / "first"
    exported = export.export_bundle(source, first, format=fmt, include_deleted=include_deleted)
    assert exported.manifest["foreign_keys_left_out"]  # the case this test is about

    result = import_file(first, store=store, rejects=tmp_path / "rejects")
    assert result.rejected == 0, [m for f in result.files for m in f.messages]
    assert result.inserted == exported.rows
    assert any("kept as the source held them" in n for f in result.files for n in f.notes)

    second = tmp_path / "second"
    again = export.export_bundle(store, second, format=fmt, include_deleted=include_deleted)
    assert data_files(second) == data_files(first)
    assert again.manifest["foreign_keys_left_out"] == exported.manifest["foreign_keys_left_out"]

    repeat = import_file(first, store=store)
    assert (repeat.inserted, repeat.updated, repeat.unchanged, repeat.rejected) == (
        0, 0, exported.rows, 0)


def test_dry_run_counts_what_a_real_run_writes(source: Store, tmp_path: Path) -> None:
    first = tmp_path / "b"
    exported = export.export_bundle(source, first, format="csv")
    with open_store(tmp_path / "t.db") as target:
        result = import_file(first, store=target, dry_run=True)
        assert (result.inserted, result.rejected) == (exported.rows, 0)
        assert target.count("clients") == 0


def test_a_refused_row_still_costs_its_dependants(source: Store, tmp_path: Path) -> None:
    """Only references the bundle could not satisfy are waived, not those to refused rows."""
    bundle = tmp_path / "b"
    export.export_bundle(source, bundle, format="jsonl")
    path = bundle / "clients.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    victim = lines[0]
    victim["source_id"] = "edited"  # its id no longer derives: the row is refused
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
    rehash(bundle, "clients.jsonl")
    with open_store(tmp_path / "t.db") as target:
        result = import_file(bundle, store=target, rejects=tmp_path / "rejects")
    by_entity = result.counts()
    assert by_entity["clients"]["rejected"] == 1
    data = rows()
    dependants = {name: sum(1 for r in batch if r.get("client_id") == victim["id"]
                            and not r["deleted"])
                  for name, batch in data.items() if name != "clients"}
    assert dependants["invoices"] and dependants["contacts"] and dependants["comments"]
    for name in ("contacts", "invoices", "comments"):
        assert by_entity[name]["rejected"] == dependants[name], name
    # and what depends on those: the lines of the client's invoices
    lost = {r["id"] for r in data["invoices"] if r["client_id"] == victim["id"]}
    assert by_entity["invoice_lines"]["rejected"] == sum(
        1 for r in data["invoice_lines"] if r["invoice_id"] in lost)
    kept = result.files[[f.entity for f in result.files].index("invoices")]
    assert any("kept as the source held them" in n for n in kept.notes)


def test_without_the_manifests_word_references_are_checked(source: Store,
                                                           tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    export.export_bundle(source, bundle, format="jsonl")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["foreign_keys_left_out"] = []
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with open_store(tmp_path / "t.db") as target:
        result = import_file(bundle, store=target, rejects=tmp_path / "rejects")
    assert result.rejected > 0
    assert all("no client" in m or "no invoice" in m or "no contact" in m
               or "no campaign" in m for f in result.files for m in f.messages)


def test_a_plain_file_keeps_the_strict_check(tmp_path: Path) -> None:
    ghost = NEVER_SYNCED["clients"]
    path = tmp_path / "invoices.csv"
    path.write_text(f"id,client,number,currency,total\nin_1,{ghost},F-1,EUR,10\n")
    with open_store(tmp_path / "t.db") as target:
        result = import_file(path, store=target, source=SOURCE, rejects=tmp_path / "r.csv")
    assert result.rejected == 1
    assert "no client with this reference" in result.files[0].messages[0]
