"""Round trip: every format, read back by Polars or pyarrow, equals the store under portability."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscor_tools.export import export_bundle
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store
from tests.export.readback import bundle_files, expected_rows, read_rows
from tests.export.sample import seed

FORMATS = ["jsonl", "json", "csv", "parquet"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_portability_round_trip_on_both_stores(store: Store, tmp_path: Path, fmt: str) -> None:
    seed(store)
    result = export_bundle(store, tmp_path / "out", format=fmt, include_deleted=True)
    files = bundle_files(result.out)
    for name in ENTITIES:
        got = read_rows(files[f"{name}.{fmt}"], fmt, name)
        assert got == expected_rows(store, name), name
    assert result.rows == sum(store.count(n) for n in ENTITIES)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_zip_round_trip(sqlite_store: Store, tmp_path: Path, fmt: str) -> None:
    seed(sqlite_store)
    result = export_bundle(sqlite_store, tmp_path / "b.zip", format=fmt, zip=True)
    files = bundle_files(result.out)
    got = read_rows(files[f"invoices.{fmt}"], fmt, "invoices")
    assert got == expected_rows(sqlite_store, "invoices", include_deleted=False)


def test_both_stores_export_the_same_bytes(tmp_path: Path, postgres_url: str) -> None:
    """The same rows in SQLite and PostgreSQL give byte-identical data files."""
    from cscor_tools.store import open_store

    outs = []
    for i, location in enumerate([str(tmp_path / "w.db"), postgres_url]):
        with open_store(location) as s:
            seed(s)
            s.set_meta("hash_key", "same-key-on-both-stores-0123456789")
            outs.append(export_bundle(s, tmp_path / f"out{i}", format="jsonl",
                                      policy="pseudonymized", include_deleted=True, env={}))
    a, b = (bundle_files(r.out) for r in outs)
    for name in ENTITIES:
        assert a[f"{name}.jsonl"] == b[f"{name}.jsonl"], name
    assert a["datapackage.json"] == b["datapackage.json"]
