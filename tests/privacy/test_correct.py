"""Corrections: made in the workspace, audited without values, kept until the source changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports import import_file
from cscor_tools.privacy.correct import correct_subject
from cscor_tools.privacy.subject import Subject
from cscor_tools.store import Store
from tests.privacy.scan import assert_no_personal_data, bookkeeping_text


def _names(store: Store) -> dict[str, str]:
    return {r["email"]: r["name"] for b in store.iter_rows("clients") for r in b}


def test_a_correction_survives_the_same_value_and_yields_to_a_new_one(
    store: Store, tmp_path: Path
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text("id,name,email\nC1,Ann Leee,ann@example.com\nC2,Bob,bob@example.com\n")
    import_file(clients, store=store)
    result = correct_subject(store, Subject.of("ann@example.com"), {"name": "Ann Lee"})
    assert result.rows == {"clients": 1}
    assert _names(store)["ann@example.com"] == "Ann Lee"
    import_file(clients, store=store)  # the source still says "Ann Leee"
    assert _names(store)["ann@example.com"] == "Ann Lee"
    clients.write_text("id,name,email\nC1,Ann Lee-Smith,ann@example.com\n")
    import_file(clients, store=store)  # the source changed it: its value wins
    assert _names(store)["ann@example.com"] == "Ann Lee-Smith"
    assert store._query('SELECT COUNT(*) FROM "cscor_corrections"') == [(0,)]
    assert_no_personal_data(bookkeeping_text(store), "Ann Lee", "Leee", "ann@example.com")


def test_a_dry_run_corrects_nothing(store: Store, tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("id,name,email\nC1,Ann,ann@example.com\n")
    import_file(tmp_path / "clients.csv", store=store)
    result = correct_subject(store, Subject.of("ann@example.com"), {"phone": "+1555"},
                             dry_run=True)
    assert result.rows == {"clients": 1}
    assert next(iter(next(store.iter_rows("clients"))))["phone"] is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"nope": "x"}, "no field 'nope'"),
    ({"source_id": "x"}, "cannot be corrected"),
    ({"address": "x"}, "correct it by importing"),
    ({"rating": "five"}, "takes a integer"),
    ({"rating": True}, "takes a integer"),
    ({"delinquent": "maybe"}, "takes a boolean"),
    ({}, "at least one field"),
])
def test_a_wrong_correction_is_refused(store: Store, changes: dict[str, object],
                                       message: str) -> None:
    with pytest.raises(RejectedInputError, match=message):
        correct_subject(store, Subject.of("ann@example.com"), changes)


def test_numbers_and_flags_from_a_command_line_are_read_as_such(store: Store,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("id,name,email\nC1,Ann,ann@example.com\n")
    import_file(tmp_path / "clients.csv", store=store)
    correct_subject(store, Subject.of("ann@example.com"), {"rating": "4", "delinquent": "true"},
                    entities=["clients"])
    row = next(iter(next(store.iter_rows("clients"))))
    assert (row["rating"], row["delinquent"]) == (4, True)
