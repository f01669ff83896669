"""Every bundle is read by the tools its descriptor promises: the Frictionless validator,
Polars and DuckDB, on every format and built-in policy, from a workspace holding messy
provider data and empty entities (``messy.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from frictionless import validate

from cscor_tools.export import export_bundle
from cscor_tools.store import Store, open_store
from tests.export import messy

FORMATS = ["jsonl", "json", "csv", "parquet"]
POLICIES = ["portability", "pseudonymized", "accounting"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> str:
    location = str(tmp_path_factory.mktemp("messy") / "workspace.db")
    with open_store(location) as store:
        messy.fill(store)
    return location


@pytest.fixture
def store(workspace: str) -> Store:
    with open_store(workspace, create=False) as s:
        yield s  # type: ignore[misc]


def test_the_workspace_is_as_messy_as_promised(store: Store) -> None:
    counts = {name: c["rows"] for name, c in store.counts().items()}
    assert [n for n, c in counts.items() if c == 0], "some entity must be empty"
    assert counts["invoices"] > len(messy.TEXT), "provider data and messy rows"
    emails = {r["email"] for batch in store.iter_rows("clients") for r in batch}
    assert "first..last@example.de" in emails


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_frictionless_polars_and_duckdb_read_every_bundle(
    store: Store, tmp_path: Path, fmt: str, policy: str
) -> None:
    everything = export_bundle(store, tmp_path / "all", format=fmt, policy=policy,
                               include_deleted=True)
    nothing = export_bundle(store, tmp_path / "none", format=fmt, policy=policy,
                            since="2099-01-01")
    for out in (everything.out, nothing.out):
        _read_as_every_tool_would(out, fmt)


def _read_as_every_tool_would(out: Path, fmt: str) -> None:
    report = validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "fieldName", "type", "note"])[:8]
    manifest = json.loads((out / "manifest.json").read_bytes())
    package = json.loads((out / "datapackage.json").read_bytes())
    declared = {r["name"]: [f["name"] for f in r["schema"]["fields"]]
                for r in package["resources"]}
    for entry in manifest["files"]:
        path = out / entry["path"]
        columns = declared[entry["entity"]]
        frame = _polars(path, fmt, columns)
        assert frame.height == entry["rows"], entry["path"]
        if entry["rows"]:
            assert frame.columns == columns, entry["path"]
        counted = duckdb.sql(f"SELECT count(*) FROM {_duckdb(path, fmt)}").fetchall()
        assert counted == [(entry["rows"],)], entry["path"]


def _polars(path: Path, fmt: str, columns: list[str]) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "csv":
        return pl.read_csv(path, infer_schema=False)
    if fmt == "json":
        return pl.read_json(path)
    # a JSON Lines reader cannot infer columns from no line: it is told them, as the
    # bundle's datapackage.json tells any reader
    schema = dict.fromkeys(columns, pl.String) if path.stat().st_size == 0 else None
    return pl.read_ndjson(path, schema=schema, infer_schema_length=None)


def _duckdb(path: Path, fmt: str) -> str:
    reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json",
              "jsonl": "read_ndjson"}[fmt]
    extra = ", all_varchar = true, max_line_size = 1000000" if fmt == "csv" else ""
    return f"{reader}('{path}'{extra})"
