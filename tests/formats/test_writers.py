"""The format writers: what they write, that they say truly what they wrote, and streaming."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cscor_tools.formats import FORMATS, ParquetWriter, open_writer
from cscor_tools.formats.csv import restore_cell

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("amount", pa.int64()),
        pa.field("paid", pa.bool_()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("address", pa.struct([pa.field("city", pa.string()),
                                       pa.field("country", pa.string())])),
        pa.field("note", pa.string()),
    ]
)
ROWS = [
    {"id": "a", "amount": -1200, "paid": True, "at": datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
     "tags": ["x", "=y"], "address": {"city": "Köln", "country": "DE"}, "note": "=1+2"},
    {"id": "b", "amount": None, "paid": None, "at": None, "tags": None, "address": None,
     "note": None},
    {"id": "c", "amount": 0, "paid": False,
     "at": datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "tags": [],
     "address": {"city": None, "country": "FR"}, "note": 'line\r\nbreak, "quoted" 🎉'},
]


def batch(rows: list[dict] = ROWS) -> pa.RecordBatch:  # type: ignore[type-arg]
    return pa.RecordBatch.from_pylist(rows, schema=SCHEMA)


def write(fmt: str, *batches: pa.RecordBatch) -> tuple[bytes, object]:
    sink = io.BytesIO()
    writer = open_writer(fmt, sink, SCHEMA)
    for b in batches:
        writer.write(b)
    result = writer.close()
    return sink.getvalue(), result


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_result_tells_rows_bytes_and_sha256(fmt: str) -> None:
    data, result = write(fmt, batch(), batch().slice(1))
    assert result.rows == 5  # type: ignore[attr-defined]
    assert result.bytes == len(data)  # type: ignore[attr-defined]
    assert result.sha256 == hashlib.sha256(data).hexdigest()  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_same_batches_same_bytes(fmt: str) -> None:
    assert write(fmt, batch())[0] == write(fmt, batch())[0]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_batch_of_another_schema_is_refused(fmt: str) -> None:
    writer = open_writer(fmt, io.BytesIO(), SCHEMA)
    with pytest.raises(ValueError, match="schema"):
        writer.write(pa.record_batch({"id": ["x"]}))


def test_jsonl_reads_back_through_polars() -> None:
    data, _ = write("jsonl", batch())
    lines = data.decode().splitlines()
    assert len(lines) == 3
    assert list(json.loads(lines[0])) == SCHEMA.names  # schema order
    assert json.loads(lines[0])["at"] == "2024-05-01T08:00:00.000000Z"
    assert json.loads(lines[2])["at"] == "1999-12-31T23:59:59.999999Z"
    frame = pl.read_ndjson(io.BytesIO(data), schema={
        "id": pl.String, "amount": pl.Int64, "paid": pl.Boolean, "at": pl.String,
        "tags": pl.List(pl.String),
        "address": pl.Struct({"city": pl.String, "country": pl.String}), "note": pl.String,
    }).with_columns(pl.col("at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC"))
    assert frame.to_dicts() == ROWS
    assert "Köln".encode() in data  # UTF-8 as it is, not \u escapes


def test_json_array_is_one_json_document() -> None:
    data, _ = write("json", batch(), batch())
    rows = json.loads(data)
    assert len(rows) == 6
    assert rows[0]["note"] == "=1+2"  # JSON is not a spreadsheet: no neutralization
    assert rows[2]["note"] == 'line\r\nbreak, "quoted" 🎉'
    empty, result = write("json")
    assert json.loads(empty) == [] and result.rows == 0  # type: ignore[attr-defined]


def test_jsonl_empty_is_empty() -> None:
    assert write("jsonl")[0] == b""


def test_csv_is_rfc4180() -> None:
    data, _ = write("csv", batch())
    text = data.decode("utf-8")
    assert text.startswith(",".join(SCHEMA.names) + "\r\n")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == SCHEMA.names
    a, b, c = rows[1:]
    assert a == ["a", "-1200", "true", "2024-05-01T08:00:00.000000Z", '["x","=y"]',
                 '{"city":"Köln","country":"DE"}', "'=1+2"]
    assert b == ["b", "", "", "", "", "", ""]
    assert c[4] == "[]"
    assert restore_cell(c[6]) == 'line\r\nbreak, "quoted" 🎉'
    assert c[5] == '{"city":null,"country":"FR"}'


def test_csv_has_a_header_even_without_rows() -> None:
    data, result = write("csv")
    assert data == (",".join(SCHEMA.names) + "\r\n").encode()
    assert result.rows == 0  # type: ignore[attr-defined]


def test_parquet_types_follow_the_schema() -> None:
    data, _ = write("parquet", batch())
    table = pq.read_table(io.BytesIO(data))
    assert table.schema.equals(SCHEMA)
    assert table.to_pylist() == ROWS
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_parquet_row_groups_are_cut_at_fixed_sizes() -> None:
    rows = [dict(ROWS[0], id=f"r{i}") for i in range(25)]
    sink = io.BytesIO()
    writer = ParquetWriter(sink, SCHEMA, row_group_rows=10)
    for start in range(0, 25, 7):  # batches that do not line up with the groups
        writer.write(batch(rows[start:start + 7]))
    writer.close()
    meta = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [10, 10, 5]
    assert pq.read_table(io.BytesIO(sink.getvalue())).column("id").to_pylist() == [
        r["id"] for r in rows
    ]


def test_parquet_empty_file_still_has_its_schema() -> None:
    data, _ = write("parquet")
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == 0 and table.schema.equals(SCHEMA)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_writers_stream_batch_by_batch(fmt: str) -> None:
    """Bytes reach the sink while writing, not all at close (Parquet: per row group)."""
    sink = io.BytesIO()
    writer = (ParquetWriter(sink, SCHEMA, row_group_rows=3) if fmt == "parquet"
              else open_writer(fmt, sink, SCHEMA))
    sizes = []
    for _ in range(4):
        writer.write(batch())
        sizes.append(len(sink.getvalue()))
    writer.close()
    assert sizes == sorted(sizes) and sizes[0] > 0 and sizes[-1] > sizes[0]
