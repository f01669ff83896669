"""Formula safety around imports: rejects files are as safe as exports, and a bundle's cells
are taken back as its manifest says they were written (protected or not)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cscor_tools.export import export_bundle
from cscor_tools.formats.csv import restore_cell
from cscor_tools.imports import import_file
from cscor_tools.store import Store, open_store


def test_a_rejects_csv_neutralizes_what_a_spreadsheet_would_run(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "email,name,phone,rating,=HEADER()\n"
        '=cmd|"/c calc"!A1,+SUM(1),-2+3,9,@x\n'
        "ok@example.com,Fine,+33 6 12 34 56 78,-1200,\tt\n",
        encoding="utf-8",
    )
    result = import_file(path, store=sqlite_store)
    assert result.rejected == 2
    with (tmp_path / "clients.rejects.csv").open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["email", "name", "phone", "rating", "'=HEADER()", "_row", "_reason"]
    first, second = rows
    assert first[:5] == ['\'=cmd|"/c calc"!A1', "'+SUM(1)", "'-2+3", "9", "'@x"]
    # a plain number is no formula: a spreadsheet shows -1200 as the number it is
    assert second[:5] == ["ok@example.com", "Fine", "'+33 6 12 34 56 78", "-1200", "'\tt"]
    assert [restore_cell(c) for c in first[:5]] == ['=cmd|"/c calc"!A1', "+SUM(1)", "-2+3",
                                                    "9", "@x"]
    assert all(not (cell and cell[0] in "=+-@\t\r") for row in rows for cell in row
               if cell != "-1200")


@pytest.mark.parametrize("protect", [True, False])
def test_a_bundle_imports_back_whether_its_formulas_were_protected_or_not(
    sqlite_store: Store, tmp_path: Path, protect: bool
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("email,name,phone\n"
                    "a@example.com,=SUM(A1),'+33 6 12 34 56 78\n"
                    "b@example.com,''=twice,+44 20 7946 0000\n", encoding="utf-8")
    assert import_file(path, store=sqlite_store).rejected == 0
    out = export_bundle(sqlite_store, tmp_path / "b", format="csv",
                        protect_formulas=protect).out
    text = (out / "clients.csv").read_text(encoding="utf-8")
    assert (",'=SUM(A1)," in text) is protect and (",=SUM(A1)," in text) is not protect
    with open_store(tmp_path / "again.db") as again:
        assert import_file(out, store=again).rejected == 0
        assert _rows(again) == _rows(sqlite_store)


def _rows(store: Store) -> list[tuple[str, str, str]]:
    return sorted((r["email"], r["name"], r["phone"]) for b in store.iter_rows("clients")
                  for r in b)
