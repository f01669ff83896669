"""Export bundles as input: round trip, checksums, policies, and what a bundle may not do."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports import import_file
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store, open_store
from tests.imports.conftest import CORPUS

export = pytest.importorskip("cscor_tools.export")

SEED = [
    ("excel_semicolon_bom.csv", {"entity": "clients"}),
    ("latin1_clients.csv", {"entity": "clients"}),
    ("utf16_contacts.txt", {}),
    ("invoices_de.csv", {"mapping": CORPUS / "invoices.toml"}),
    ("comments.jsonl", {}),
    ("payments.json", {}),
]


def seed(store: Store, tmp_path: Path) -> None:
    """A workspace with every kind of value: structs, lists, unicode, formula-like text."""
    for name, options in SEED:
        import_file(CORPUS / name, store=store, rejects=tmp_path / "seed-rejects" / name,
                    **options)


@pytest.fixture
def source(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "source.db")
    seed(store, tmp_path)
    return store


def data_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_round_trip_gives_identical_files(source: Store, store: Store, tmp_path: Path,
                                          fmt: str) -> None:
    first = tmp_path / "first"
    export.export_bundle(source, first, format=fmt, policy="portability")
    result = import_file(first, store=store)
    assert result.format == "bundle" and result.rejected == 0
    assert result.bundle == {"policy": "portability", "schema_version": "1.0.0"}
    assert [f.entity for f in result.files] == list(ENTITIES)  # every entity, in order
    assert result.inserted == sum(source.count(e) for e in result.counts())
    second = tmp_path / "second"
    export.export_bundle(store, second, format=fmt, policy="portability")
    assert data_files(second) == data_files(first)
    again = import_file(first, store=store)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, result.inserted)


def test_zip_bundle_round_trip(source: Store, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    export.export_bundle(source, out, format="csv", policy="portability", zip=True)
    with open_store(tmp_path / "target.db") as target:
        result = import_file(out, store=target)
        assert result.rejected == 0
        assert target.counts() == source.counts()
        run = target.runs(kind="import")[0]
        assert run.details["policy"] == "portability"
        assert run.details["manifest_sha256"] == result.sha256


def _exported(source: Store, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    export.export_bundle(source, out, format="jsonl", policy="portability")
    return out


def _refused(path: Path, tmp_path: Path) -> str:
    with open_store(tmp_path / "target.db") as target:
        with pytest.raises(RejectedInputError) as caught:
            import_file(path, store=target)
        assert sum(c["rows"] for c in target.counts().values()) == 0
        assert target.runs() == []  # refused before anything was written
    return str(caught.value)


def test_a_tampered_file_is_refused_by_name(source: Store, tmp_path: Path) -> None:
    out = _exported(source, tmp_path)
    data = (out / "invoices.jsonl").read_bytes()
    (out / "invoices.jsonl").write_bytes(data.replace(b'"paid"', b'"void"', 1))
    message = _refused(out, tmp_path)
    assert "invoices.jsonl" in message and "checksum mismatch" in message


def test_a_tampered_zip_is_refused(source: Store, tmp_path: Path) -> None:
    out = _exported(source, tmp_path)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        for p in sorted(out.iterdir()):
            data = p.read_bytes()
            if p.name == "clients.jsonl":
                data = data.replace(b"Firma", b"Firmx", 1)
            zf.writestr(f"bundle/{p.name}", data)
    message = _refused(tampered, tmp_path)
    assert "clients.jsonl" in message and "checksum mismatch" in message


def test_missing_file_and_escaping_paths_are_refused(source: Store, tmp_path: Path) -> None:
    out = _exported(source, tmp_path)
    (out / "comments.jsonl").unlink()
    assert "comments.jsonl" in _refused(out, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"][0]["path"] = "../outside.jsonl"
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert "outside the bundle" in _refused(out, tmp_path)


def test_a_pseudonymized_bundle_is_refused(source: Store, tmp_path: Path) -> None:
    out = tmp_path / "pseudo"
    export.export_bundle(source, out, format="jsonl", policy="pseudonymized",
                         env={"CSCOR_HASH_KEY": "k" * 40})
    message = _refused(out, tmp_path)
    assert "'pseudonymized' policy" in message and "portability" in message


def test_a_row_edited_with_a_matching_manifest_is_rejected(source: Store,
                                                           tmp_path: Path) -> None:
    out = _exported(source, tmp_path)
    path = out / "comments.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["source_id"] = "someone-else"
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "comments.jsonl":
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            entry["bytes"] = path.stat().st_size
    (out / "manifest.json").write_text(json.dumps(manifest))
    with open_store(tmp_path / "target.db") as target:
        result = import_file(out, store=target, rejects=tmp_path / "rejects")
    comments = next(f for f in result.files if f.entity == "comments")
    assert comments.rejected == 1
    assert comments.messages == ["row 1, field 'id': does not derive from source and source_id "
                                 "(a pseudonymized or edited row cannot be restored)"]
    assert (tmp_path / "rejects" / "comments.rejects.jsonl").exists()


def test_one_entity_of_a_bundle(source: Store, tmp_path: Path) -> None:
    out = _exported(source, tmp_path)
    with open_store(tmp_path / "target.db") as target:
        result = import_file(out, store=target, entity="clients")
        assert [f.entity for f in result.files] == ["clients"]
        assert target.count("clients") == source.count("clients")
        assert target.count("invoices") == 0


def test_another_schema_major_version_is_refused(source: Store, tmp_path: Path) -> None:
    out = _exported(source, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["schema_version"] = "2.0.0"
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert "schema 2.0.0" in _refused(out, tmp_path)


def test_a_folder_without_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(CORPUS / "payments.json", folder)
    with open_store(tmp_path / "t.db") as target, pytest.raises(RejectedInputError,
                                                               match=r"no manifest\.json"):
        import_file(folder, store=target)


# -- entries the manifest does not list ------------------------------------------------------


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_an_entry_the_manifest_does_not_list_is_refused_by_name(
    source: Store, tmp_path: Path, zipped: bool,
) -> None:
    """A file nobody vouches for is never passed over in silence: the import is refused,
    naming every such entry, and nothing is imported."""
    folder = _exported(source, tmp_path)
    (folder / "notes.txt").write_text("not in the manifest")
    (folder / "extra").mkdir()
    (folder / "extra" / "clients.jsonl").write_text('{"email": "mallory@example.com"}\n')
    bundle = folder
    if zipped:
        bundle = tmp_path / "bundle.zip"
        with zipfile.ZipFile(bundle, "w") as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(folder).as_posix())
    with open_store(tmp_path / "target.db") as target:
        with pytest.raises(RejectedInputError) as caught:
            import_file(bundle, store=target)
        assert sum(c["rows"] for c in target.counts().values()) == 0
    message = str(caught.value)
    assert "entries the manifest does not list: extra/clients.jsonl, notes.txt" in message


def test_a_normal_export_bundle_holds_nothing_unlisted(source: Store, tmp_path: Path) -> None:
    """What the exporter writes, the manifest lists (datapackage.json included)."""
    for zipped in (False, True):
        out = tmp_path / ("b.zip" if zipped else "b")
        export.export_bundle(source, out, format="csv", policy="portability", zip=zipped)
        with open_store(tmp_path / f"target-{zipped}.db") as target:
            assert import_file(out, store=target).rejected == 0
            assert target.counts() == source.counts()


def test_a_subject_export_with_its_summary_imports(source: Store, tmp_path: Path) -> None:
    """A subject-access bundle carries SUMMARY.md and SUMMARY.html beside its data: known
    documentation, not unlisted data."""
    from cscor_tools.privacy.access import export_subject
    from cscor_tools.privacy.subject import Subject

    person = next(r for batch in source.iter_rows("clients") for r in batch if r.get("email"))
    for zipped in (False, True):
        out = tmp_path / ("subject.zip" if zipped else "subject")
        result = export_subject(source, Subject.of(person["email"]), out, zip=zipped)
        names = (zipfile.ZipFile(out).namelist() if zipped
                 else [p.name for p in out.iterdir()])
        assert {"SUMMARY.md", "SUMMARY.html"} <= {Path(n).name for n in names}
        with open_store(tmp_path / f"subject-{zipped}.db") as target:
            imported = import_file(out, store=target)
            assert imported.rejected == 0
            assert imported.inserted == sum(result.counts().values()) > 0
