"""Subject export: exactly the person's rows, as a bundle any tool reads, with a summary."""

from __future__ import annotations

import json
from pathlib import Path

from cscor_tools.privacy.access import export_subject
from cscor_tools.privacy.keys import key_info, rotate_hash_key
from cscor_tools.privacy.subject import Subject
from cscor_tools.store import Store
from tests.export.readback import read_bundle
from tests.privacy.people import ANN, ANN_NAME, ANN_PHONE
from tests.privacy.scan import assert_no_personal_data, bookkeeping_text


def test_the_bundle_holds_exactly_anns_rows_with_lineage(store: Store, people,
                                                         tmp_path: Path) -> None:
    ann, _ = people
    result = export_subject(store, Subject.of(ANN), tmp_path / "ann")
    data = read_bundle(result.out)
    assert {name: sorted(r["id"] for r in rows) for name, rows in data.items() if rows} == ann
    assert all(r["source"] and r["source_id"] and r["synced_at"]
               for rows in data.values() for r in rows)
    assert result.counts() == {name: len(ids) for name, ids in ann.items()}
    summary = (result.out / "SUMMARY.md").read_text()
    assert "| slack | contacts | 1 |" in summary and "| resend | notifications | 1 |" in summary
    assert "<table>" in (result.out / "SUMMARY.html").read_text()
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["policy"]["name"] == "portability"
    text = bookkeeping_text(store)
    assert "subject.export" in text and manifest["policy"]["fingerprint"] in text
    assert_no_personal_data(text, ANN, ANN_NAME, ANN_PHONE)


def test_nobody_gets_an_empty_bundle_and_a_summary_saying_so(store: Store, people,
                                                             tmp_path: Path) -> None:
    result = export_subject(store, Subject.of("nobody@example.org"), tmp_path / "b")
    assert result.rows == 0 and result.export.rows == 0
    assert "Nothing" in (result.out / "SUMMARY.md").read_text()


def test_a_destination_naming_the_person_is_not_kept(store: Store, people,
                                                     tmp_path: Path) -> None:
    export_subject(store, Subject.of(ANN), tmp_path / f"{ANN}.zip", zip=True)
    assert_no_personal_data(bookkeeping_text(store), ANN)


def test_rotating_the_key_changes_every_pseudonym(store: Store, people,
                                                  tmp_path: Path) -> None:
    before = export_subject(store, Subject.of(ANN), tmp_path / "a", policy="pseudonymized",
                            env={})
    old_id = key_info(store, env={})["key_id"]
    assert rotate_hash_key(store, dry_run=True, env={}).old_key_id == old_id
    assert key_info(store, env={})["key_id"] == old_id  # a dry run keeps the key
    rotation = rotate_hash_key(store, env={})
    assert rotation.old_key_id == old_id != rotation.new_key_id
    after = export_subject(store, Subject.of(ANN), tmp_path / "b", policy="pseudonymized",
                           env={})
    ids = [{r["id"] for rows in read_bundle(b.out).values() for r in rows}
           for b in (before, after)]
    assert ids[0] and not ids[0] & ids[1]  # bundles of the old key no longer join new ones
    keys = [json.loads((b.out / "manifest.json").read_text())["policy"]["pseudonym_key"]
            for b in (before, after)]
    assert keys[0]["key_id"] == old_id and keys[1]["key_id"] == rotation.new_key_id
    text = bookkeeping_text(store)
    assert rotation.new_key_id in text and store.get_meta("hash_key") not in text
