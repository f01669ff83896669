"""The polars chunk reader reads a CSV file exactly as the record reader does.

For generated files — well-formed ones and ones with stray quotes, short and long rows,
blank lines, empty rows, CRLF, bytes that are not UTF-8, values with delimiters and line
breaks — the records the chunk reader gives (its chunks, then the record reader's records
from wherever it handed over) must be the record reader's, row numbers and problems
included. Chunks are made tiny so that files cross many of them and hand over mid-file.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscor_tools.imports import csvchunks
from cscor_tools.imports.csvchunks import Chunk, can_read_fast, read_chunks
from cscor_tools.imports.readers import Source, open_csv

CELL = st.text(alphabet=st.sampled_from([*'ab ,;"\n\ré\t', "\u2003"]), max_size=6)


@st.composite
def csv_files(draw: Any) -> bytes:
    width = draw(st.integers(1, 4))
    header = [f"col{i}" for i in range(width)]
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 1), max_size=25))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    for row in rows:
        if draw(st.booleans()):
            writer.writerow(row)  # quoted as a spreadsheet would
        else:
            out.write(",".join(row) + "\n")  # as a careless script would
    data = out.getvalue().encode("utf-8")
    if draw(st.integers(0, 9)) == 0:  # a byte that is not UTF-8, somewhere after the header
        at = draw(st.integers(len(header[0]), len(data)))
        data = data[:at] + b"\xff" + data[at:]
    return data


def _records(path: Path) -> list[tuple[int, Any, str | None]]:
    table = open_csv(Source.from_path(path))
    try:
        return [(n, cells, problem) for n, cells, _, problem in table.records]
    finally:
        table.close()


def _chunked(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    table = open_csv(Source.from_path(path))
    try:
        assert can_read_fast(table)
        for part in read_chunks(table):
            if isinstance(part, Chunk):
                for n, row in zip(part.numbers, part.frame.rows(), strict=True):
                    yield n, list(row), None
            else:
                for n, cells, _, problem in part.records:
                    yield n, cells, problem
    finally:
        table.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=csv_files(), block=st.sampled_from([16, 64, 1 << 20]))
def test_chunks_read_what_the_record_reader_reads(data: bytes, block: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)
        table = open_csv(Source.from_path(path))
        fast = can_read_fast(table)
        table.close()
        if not fast:
            return
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csvchunks, "BLOCK", block)
            patch.setattr(csvchunks, "LIMIT", block * 4)
            assert list(_chunked(path)) == _records(path)


def test_a_clean_file_is_read_in_chunks_and_an_irregular_row_hands_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["id,name"] + [f"{i},name {i}" for i in range(200)]
    lines[150] = "150,a,b"  # one value too many: the record reader names it
    path = tmp_path / "clients.csv"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csvchunks, "BLOCK", 256)
    table = open_csv(Source.from_path(path))
    parts = list(read_chunks(table))
    table.close()
    assert isinstance(parts[0], Chunk) and isinstance(parts[-1], type(table))
    assert sum(len(p.numbers) for p in parts if isinstance(p, Chunk)) >= 100
    assert list(_chunked(path)) == _records(path)
