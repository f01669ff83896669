"""CSV formula injection: risky text cells are neutralized, numbers never, and it is reversible."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.formats import open_writer
from cscor_tools.formats.csv import TRIGGERS, neutralize, restore_cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=already", "''=already"),
        ("''+twice", "'''+twice"),
        ("'plain apostrophe", "'plain apostrophe"),
        ("a=b", "a=b"),
        (" =leading space", " =leading space"),
        ("", ""),
        ("SUM", "SUM"),
    ],
)
def test_neutralize_cases(cell: str, written: str) -> None:
    assert neutralize(pa.array([cell])).to_pylist() == [written]
    assert restore_cell(written) == cell


def test_nulls_stay_null() -> None:
    assert neutralize(pa.array([None, "=x"], pa.string())).to_pylist() == [None, "'=x"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from([*list(TRIGGERS), "'", "a", "1", " ", "é"]), max_size=6))
def test_restore_inverts_neutralize(cell: str) -> None:
    (written,) = neutralize(pa.array([cell])).to_pylist()
    assert restore_cell(written) == cell
    assert written[:1] not in TRIGGERS or written == ""


def test_numbers_booleans_and_json_are_never_touched() -> None:
    schema = pa.schema([("n", pa.int64()), ("f", pa.float64()), ("s", pa.string()),
                        ("tags", pa.list_(pa.string()))])
    batch = pa.RecordBatch.from_pylist(
        [{"n": -1200, "f": -0.5, "s": "-1200", "tags": ["=cmd()"]}], schema=schema
    )
    sink = io.BytesIO()
    writer = open_writer("csv", sink, schema)
    writer.write(batch)
    writer.close()
    (_header, row) = list(csv.reader(io.StringIO(sink.getvalue().decode(), newline="")))
    assert row == ["-1200", "-0.5", "'-1200", '["=cmd()"]']
    for cell in row[:2] + row[3:]:
        assert restore_cell(cell) == cell
