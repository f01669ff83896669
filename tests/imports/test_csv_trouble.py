"""CSV files as people really bring them: a stray byte in UTF-8, an unclosed quote, a giant
field. Each costs the rows it touches, named, and never the rest of the file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.imports import import_file
from cscor_tools.imports.sniff import detect_encoding
from cscor_tools.store import Store


def names(store: Store) -> list[str]:
    return sorted(r["name"] for b in store.iter_rows("clients") for r in b)


def rejects(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as f:
        return list(csv.reader(f))[1:]


def utf8_with_a_stray_byte(path: Path) -> Path:
    rows = "".join(f"José García {i},jose{i}@example.com\n" for i in range(20))
    data = ("name,email\n" + rows).encode().replace("García 7,".encode(), b"Garc\xeda 7,")
    path.write_bytes(data)
    return path


def test_a_stray_byte_in_utf8_costs_its_row_not_the_file(sqlite_store: Store,
                                                          tmp_path: Path) -> None:
    path = utf8_with_a_stray_byte(tmp_path / "clients.csv")
    assert detect_encoding(path.read_bytes(), complete=True) == "utf-8"
    result = import_file(path, store=sqlite_store)
    (f,) = result.files
    assert (f.encoding, result.inserted, result.rejected) == ("utf-8", 19, 1)
    assert f.messages == [
        "row 9: bytes that are not valid UTF-8 in name: 0xED (the rest of the file is read "
        "as UTF-8; pass --encoding if the whole file is in another)"
    ]
    assert f.notes[0] == "read as UTF-8 (detected); 1 row holding bytes that are not UTF-8 rejected"
    assert all("Ã" not in n for n in names(sqlite_store))  # no mojibake
    assert "José García 8" in names(sqlite_store)
    (row,) = rejects(tmp_path / "clients.rejects.csv")
    # the rejects file holds the row's bytes as they were, and the same row number
    assert row[0].encode("utf-8", "surrogateescape") == b"Jos\xc3\xa9 Garc\xeda 7" and row[2] == "9"


def test_windows_1252_is_still_windows_1252(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("name,email\nJosé García,j@example.com\nZoë Ça,z@example.com\n"
                     .encode("cp1252"))
    result = import_file(path, store=sqlite_store)
    assert (result.files[0].encoding, result.rejected) == ("cp1252", 0)
    assert result.files[0].notes[0] == "read as Windows-1252 (detected)"
    assert names(sqlite_store) == ["José García", "Zoë Ça"]


def test_the_summary_names_the_encoding_and_encoding_overrides(tmp_path: Path) -> None:
    path = utf8_with_a_stray_byte(tmp_path / "clients.csv")
    workspace = str(tmp_path / "w.db")
    detected = CliRunner().invoke(cli, ["-w", workspace, "import", str(path), "--dry-run"])
    assert detected.exit_code == 7
    assert "read as UTF-8 (detected); 1 row holding bytes that are not UTF-8" in detected.output
    given = CliRunner().invoke(cli, ["-w", workspace, "import", str(path), "--dry-run",
                                     "--encoding", "cp1252"])
    assert given.exit_code == 0, given.output
    assert "read as Windows-1252 (as given by --encoding)" in given.output


def test_an_unclosed_quote_is_named_and_swallows_nothing(sqlite_store: Store,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text('name,email\nFirst,f@x.com\n"Unclosed,uq@x.com\nValid One,v1@x.com\n'
                    'Valid Two,v2@x.com\n', encoding="utf-8")
    result = import_file(path, store=sqlite_store)
    assert (result.rows, result.inserted, result.rejected) == (4, 3, 1)
    (message,) = result.files[0].messages
    assert message.startswith("row 3: a quote opened on this row (line 3) is not closed")
    assert names(sqlite_store) == ["First", "Valid One", "Valid Two"]
    (row,) = rejects(tmp_path / "clients.rejects.csv")
    assert row[0] == '"Unclosed,uq@x.com' and row[2] == "3"


def test_a_quoted_value_over_several_lines_is_still_one_value(sqlite_store: Store,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text('name,email,notes\nA,a@x.com,"line one\nline two"\nB,b@x.com,x\n',
                    encoding="utf-8")
    result = import_file(path, store=sqlite_store)
    assert (result.inserted, result.rejected) == (2, 0)
    notes = {r["name"]: r["notes"] for b in sqlite_store.iter_rows("clients") for r in b}
    assert notes["A"] == "line one\nline two"


@pytest.mark.slow
def test_a_50_mb_field_rejects_its_row_and_the_rest_is_imported(sqlite_store: Store,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(b"name,email,notes\nA,a@x.com,ok\nB,b@x.com," + b"x" * (50 << 20)
                     + b"\nC,c@x.com,ok\nD,d@x.com,ok\n")
    result = import_file(path, store=sqlite_store)
    assert (result.rows, result.inserted, result.rejected) == (4, 3, 1)
    assert result.files[0].messages == [
        "row 3: a value of 50M characters or more, larger than the 32M a field may hold"
    ]
    assert names(sqlite_store) == ["A", "C", "D"]
    (row,) = rejects(tmp_path / "clients.rejects.csv")
    assert row[-2] == "3"  # the same row number as the message


@pytest.mark.slow
def test_a_huge_field_is_rejected_whatever_limit_another_library_set(
    sqlite_store: Store, tmp_path: Path,
) -> None:
    import csv
    import sys

    saved = csv.field_size_limit()
    try:
        csv.field_size_limit(sys.maxsize)  # what importing frictionless does to the process
        test_a_50_mb_field_rejects_its_row_and_the_rest_is_imported(sqlite_store, tmp_path)
    finally:
        csv.field_size_limit(saved)
