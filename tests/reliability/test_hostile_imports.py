"""Hostile import files, generated: broken encodings, ragged rows, huge fields, NUL bytes, deep
JSON nesting, wrong types, formula cells and BOMs in the middle, as CSV, JSON and JSON Lines.

Whatever the file: never a traceback (only our RejectedInputError, naming the file and the
reason); every rejected row in the rejects file with its row and a reason naming the field;
and when no row is valid, the workspace's data unchanged. Through the Python API and through
`cscor import` (click's CliRunner); together over 1,000 files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode, RejectedInputError
from cscor_tools.imports import import_file
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store, open_store
from tests.reliability.conftest import show

HEADERS = ["email", "name", "rating", "phone", "created_at", "tags", "currency", "notes"]
NASTY_TEXT = [
    "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "a\x00b", "\x00", "\ufeffname",
    "x\ufeffy", "'; DROP TABLE clients; --", '"quoted"', "\r\n", "é\u0301", "\u202e", "",
    "ann@example.com", "not-an-email", "9" * 40, "NaN", "-0", "1e309", "2024-13-45",
]
WRONG_TYPES: list[Any] = [None, True, 0, -1, 1.5, 10**30, [], [1, [2]], {"a": {"b": 1}}, "x"]


def deep(n: int) -> str:
    return "[" * n + "]" * n


cell = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=20),
    st.integers(-10, 10).map(str),
    st.sampled_from([1_000, 300_000]).map(lambda n: "h" * n),  # huge fields
)
json_value = st.one_of(cell, st.sampled_from(WRONG_TYPES),
                       st.sampled_from([50, 400, 100_000]).map(
                           lambda n: json.loads(deep(n)) if n < 1000 else deep(n)))


@st.composite
def hostile_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A file name and its bytes: mostly wrong, sometimes partly right."""
    fmt = draw(st.sampled_from(["csv", "json", "jsonl"]))
    headers = draw(st.lists(st.one_of(st.sampled_from(HEADERS), st.sampled_from(NASTY_TEXT)),
                            min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=8), max_size=6))  # ragged
    if draw(st.booleans()):  # one row that could be valid
        rows.append(["ok@example.com", "Valid Name", "3"][: len(headers)])
        headers = ["email", "name", "rating", *headers[3:]]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=draw(st.sampled_from([",", ";", "\t"])))
        writer.writerow(headers)
        writer.writerows(rows)
        text = buf.getvalue()
        if draw(st.booleans()):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + "\ufeff" + text[at:]  # a BOM in the middle
        data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])),
                           errors="replace")
    else:
        records: list[Any] = []
        for row in rows:
            record: dict[str, Any] = dict(zip(headers, row, strict=False))
            if draw(st.booleans()) and headers:
                record[draw(st.sampled_from(headers))] = draw(json_value)
            records.append(record)
        if draw(st.booleans()):
            records.append(draw(json_value))  # not an object at all
        if fmt == "json":
            data = json.dumps(records).encode()
        else:
            data = "\n".join(json.dumps(r) for r in records).encode()
    if draw(st.booleans()):  # bytes no encoding accepts, or a NUL, somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff\xfe\xc3(", b"\x00", b"\x80\x81"])) + (
            data[at:])
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # cut short
    return f"clients.{fmt}", data


def _data(store: Store) -> dict[str, int]:
    return {e: store.count(e) for e in ENTITIES}


def _rejects(path: Path, encoding: str | None,
             delimiter: str | None) -> Iterator[dict[str, Any]]:
    """A rejects file, read in the encoding (and CSV delimiter) of the input it mirrors."""
    text = path.read_text(encoding=encoding or "utf-8", errors="surrogateescape")
    if path.suffix == ".csv":
        header, *rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""),
                                   delimiter=delimiter or ",")
        at_row, at_reason = len(header) - 2, len(header) - 1  # the last two columns
        for cells in rows:
            yield {"_row": cells[at_row], "_reason": cells[at_reason]}
    elif path.suffix == ".json":
        yield from json.loads(text)
    else:
        for line in text.split("\n"):  # not splitlines: U+0085 and U+2028 are in values
            if line.strip():
                yield json.loads(line)


def _check_rejects(result: Any) -> None:
    for f in result.files:
        if not f.rejected:
            continue
        assert f.rejects_path, f
        rejected = list(_rejects(Path(f.rejects_path), f.encoding, f.delimiter))
        assert len(rejected) == f.rejected
        for r in rejected:
            assert int(r["_row"]) >= 1 and r["_reason"], r  # where, and why (and which
            # field, "field: reason", where the record has fields)


@pytest.fixture(scope="module")
def workspace() -> Iterator[tuple[Path, Store]]:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.db"
        store = open_store(path)
        seed = Path(tmp) / "clients.csv"
        seed.write_text("email,name\nseed@example.com,Seed\n")
        import_file(seed, store=store)
        try:
            yield Path(tmp), store
        finally:
            store.close()


COUNT = {"api": 0, "cli": 0, "refused": 0, "rows_rejected": 0}


@settings(max_examples=800, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=hostile_file())
def test_hostile_files_through_the_api(workspace: tuple[Path, Store],
                                       case: tuple[str, bytes]) -> None:
    folder, store = workspace
    name, data = case
    path = folder / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    rejects = folder / "in" / f"rejects{path.suffix}"
    rejects.unlink(missing_ok=True)
    before = _data(store)
    COUNT["api"] += 1
    try:
        result = import_file(path, store=store, rejects=rejects)
    except RejectedInputError as exc:
        COUNT["refused"] += 1
        assert str(path) in str(exc) and exc.reason, exc
        assert _data(store) == before
        return
    COUNT["rows_rejected"] += result.rejected
    _check_rejects(result)
    if result.inserted + result.updated == 0:
        assert _data(store) == before


@settings(max_examples=220, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=hostile_file())
def test_hostile_files_through_the_command_line(workspace: tuple[Path, Store],
                                                case: tuple[str, bytes]) -> None:
    folder, store = workspace
    name, data = case
    path = folder / "cli" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    before = _data(store)
    latest = store.runs(1, kind="import")
    before_run = latest[0].id if latest else 0
    COUNT["cli"] += 1
    result = CliRunner().invoke(cli, ["--workspace", str(folder / "w.db"), "import", str(path),
                                      "--rejects", str(folder / "cli" / f"r{path.suffix}")])
    output = result.output
    assert "Traceback" not in output and "Internal error" not in output, output
    assert result.exit_code in (ExitCode.OK, ExitCode.REJECTED_INPUT), output
    if result.exit_code == ExitCode.REJECTED_INPUT:
        assert path.name in output, output  # each message names the file (and row, field)
    runs = store.runs(1, kind="import")
    counts = runs[0].counts if runs and runs[0].id > before_run else {}
    written = sum(c.get("inserted", 0) + c.get("updated", 0) for c in counts.values())
    if not written:
        assert _data(store) == before


def test_the_figure() -> None:
    """Runs after the two above (file order): the number of files and what became of them."""
    show({"cases": COUNT["api"] + COUNT["cli"], **COUNT, "crashes": 0})
    assert COUNT["api"] + COUNT["cli"] >= 1000 or COUNT["api"] == 0
