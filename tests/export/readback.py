"""Reading a bundle back as another tool would: Polars for text formats, pyarrow for Parquet."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from cscor_tools.formats.csv import restore_cell
from cscor_tools.schema import ENTITIES, Field, FieldType, Privacy
from cscor_tools.store import Store

_TIME = "%Y-%m-%dT%H:%M:%S%.fZ"


def bundle_files(out: Path) -> dict[str, bytes]:
    """Every file of a bundle (folder or zip) by name."""
    if out.is_dir():
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    with zipfile.ZipFile(out) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def expected_rows(store: Store, entity_name: str, *, include_deleted: bool = True) -> list[dict]:  # type: ignore[type-arg]
    """The store's rows as portability exports them: every field but secrets, structs complete."""
    ent = ENTITIES[entity_name]
    out = []
    for batch in store.iter_rows(entity_name, include_deleted=include_deleted):
        for row in batch:
            clean = {}
            for f in ent.fields:
                if f.privacy is Privacy.SECRET:
                    continue
                value = row[f.name]
                if f.type == FieldType.STRUCT and value is not None:
                    value = {s.name: value.get(s.name) for s in f.fields}
                clean[f.name] = value
            out.append(clean)
    return out


def read_bundle(out: Path) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """Every entity's rows, typed by the bundle's own datapackage.json (minimized types)."""
    files = bundle_files(out)
    package = json.loads(files["datapackage.json"])
    rows = {}
    for resource in package["resources"]:
        if "path" not in resource:  # an empty JSON table, described inline: a header, no row
            assert resource["data"] == [[f["name"] for f in resource["schema"]["fields"]]]
            rows[resource["name"]] = []
            continue
        data = files[resource["path"]]
        fmt = resource["format"]
        types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
        if fmt == "parquet":
            rows[resource["name"]] = pq.read_table(pa.BufferReader(data)).to_pylist()
        elif fmt == "csv":
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
            rows[resource["name"]] = [
                {n: _cell(row[n], t) for n, t in types.items()} for row in frame.to_dicts()
            ]
        else:
            objects = json.loads(data) if fmt == "json" else [
                json.loads(line) for line in data.decode().splitlines()
            ]
            rows[resource["name"]] = [
                {n: _value(obj[n], t) for n, t in types.items()} for obj in objects
            ]
    return rows


def _value(value: Any, table_type: str) -> Any:
    if value is not None and table_type == "datetime":
        return datetime.fromisoformat(value)
    return value


def _cell(cell: str | None, table_type: str) -> Any:
    if cell is None or cell == "":
        return None
    if table_type == "string":
        return restore_cell(cell)
    if table_type == "integer":
        return int(cell)
    if table_type == "boolean":
        return {"true": True, "false": False}[cell]
    if table_type == "datetime":
        return datetime.fromisoformat(cell)
    return json.loads(cell)


def read_rows(data: bytes, fmt: str, entity_name: str) -> list[dict]:  # type: ignore[type-arg]
    """Rows of one file exported under portability, typed by the workspace schema."""
    fields = [f for f in ENTITIES[entity_name].fields if f.privacy is not Privacy.SECRET]
    if fmt == "parquet":
        return pq.read_table(pa.BufferReader(data)).to_pylist()
    if fmt == "csv":
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
        return [_from_csv(fields, row) for row in frame.to_dicts()]
    schema = {f.name: _polars_text_type(f) for f in fields}
    if fmt == "jsonl":
        frame = pl.read_ndjson(io.BytesIO(data), schema=schema)
    else:
        frame = pl.DataFrame(json.loads(data), schema=schema)
    times = [f.name for f in fields if f.type == FieldType.TIMESTAMP]
    frame = frame.with_columns(
        [pl.col(n).str.to_datetime(_TIME, time_zone="UTC") for n in times]
    )
    return frame.to_dicts()


def _polars_text_type(f: Field) -> pl.DataType:
    if f.type == FieldType.STRUCT:
        return pl.Struct({s.name: _polars_text_type(s) for s in f.fields})
    return {
        FieldType.STRING: pl.String(),
        FieldType.TIMESTAMP: pl.String(),
        FieldType.INTEGER: pl.Int64(),
        FieldType.NUMBER: pl.Float64(),
        FieldType.BOOLEAN: pl.Boolean(),
        FieldType.STRING_LIST: pl.List(pl.String()),
    }[f.type]


def _from_csv(fields: list[Field], row: dict[str, str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        cell = row[f.name]
        if cell is None or cell == "":
            out[f.name] = None
        elif f.type == FieldType.STRING:
            out[f.name] = restore_cell(cell)
        elif f.type == FieldType.INTEGER:
            out[f.name] = int(cell)
        elif f.type == FieldType.BOOLEAN:
            out[f.name] = {"true": True, "false": False}[cell]
        elif f.type == FieldType.TIMESTAMP:
            out[f.name] = datetime.fromisoformat(cell)
        else:
            out[f.name] = json.loads(cell)
    return out
