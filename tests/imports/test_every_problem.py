"""A rejected row names every problem it has, not only the first."""

from __future__ import annotations

from pathlib import Path

from cscor_tools.imports import import_file
from cscor_tools.store import Store


def test_a_row_with_several_problems_names_them_all(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("email,name,rating,currency,created\n"
                    "not-an-email,Ann,nine,EURO,yesterday-ish\n"
                    "bad@,Bob,3,eur,2024-01-01\n"
                    "ok@example.com,Cy,4,eur,2024-01-01\n", encoding="utf-8")
    result = import_file(path, store=sqlite_store)
    assert (result.inserted, result.rejected) == (1, 2)
    several, one = result.files[0].messages
    assert several.startswith("row 2: ")
    for field in ("email", "rating", "currency", "created_at"):
        assert f"{field}: " in several, (field, several)
    assert several.count(";") >= 3
    # a row with one problem is reported as before, naming its field
    assert one.startswith("row 3, field 'email': ")
