"""Reading files: encodings, delimiters, JSON streaming, Parquet, and files that cannot be read."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports import import_file, readers
from cscor_tools.imports.sniff import detect_delimiter, detect_encoding
from cscor_tools.store import Store

TEXT = "email,name\nanna@example.com,Anna Müller\nzoe@example.com,Zoë Ça\n"


@pytest.mark.parametrize(("data", "expected"), [
    (codecs.BOM_UTF8 + TEXT.encode(), "utf-8-sig"),
    (TEXT.encode(), "utf-8"),
    (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    (TEXT.encode("utf-16-le"), "utf-16-le"),
    (TEXT.encode("cp1252"), "cp1252"),
    (TEXT.encode("latin-1") + b"\x81", "latin-1"),  # a byte cp1252 leaves undefined
])
def test_encodings(sqlite_store: Store, tmp_path: Path, data: bytes, expected: str) -> None:
    assert detect_encoding(data, complete=True) == expected
    path = tmp_path / "clients.csv"
    path.write_bytes(data)
    result = import_file(path, store=sqlite_store)
    assert result.files[0].encoding == expected
    names = sorted(r["name"].rstrip("\x81") for b in sqlite_store.iter_rows("clients")
                   for r in b)
    assert names == ["Anna Müller", "Zoë Ça"]


def test_a_cut_multibyte_character_does_not_fool_the_guess() -> None:
    data = "é".encode() * 10
    assert detect_encoding(data[:-1], complete=False) == "utf-8"
    # complete, it is nine UTF-8 characters and a stray byte: still UTF-8, on the evidence
    assert detect_encoding(data[:-1], complete=True) == "utf-8"
    assert detect_encoding("é".encode("cp1252") * 10, complete=True) == "cp1252"
    assert detect_encoding(b"caf\xe9 cr\xe8me, " + "é".encode(), complete=True) == "cp1252"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    rows = ["a,b;c|d", "x", "y"]
    text = "\n".join(delimiter.join(['"' + c + '"' for c in (r, "2", "3")]) for r in rows)
    assert detect_delimiter(f"h1{delimiter}h2{delimiter}h3\n" + text, complete=True) == delimiter


def test_excel_sep_line_and_quoted_newlines_keep_row_numbers(sqlite_store: Store,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text('sep=;\nemail;notes\na@example.com;"line 1\nline 2"\n\nbad;x\n')
    result = import_file(path, store=sqlite_store)
    assert result.files[0].delimiter == ";"
    assert result.files[0].messages == ["row 5, field 'email': not an email address"]


def test_a_late_invalid_byte_names_its_row(sqlite_store: Store, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "ENCODING_SAMPLE", 64)
    path = tmp_path / "clients.csv"
    path.write_bytes(b"email,name\n" + b"".join(b"a%d@example.com,x\n" % i for i in range(20))
                     + b"c@example.com,caf\xe9\n")
    result = import_file(path, store=sqlite_store, dry_run=True)
    assert (result.inserted, result.rejected) == (20, 1)
    (message,) = result.files[0].messages
    assert message.startswith("row 22: bytes that are not valid UTF-8 in name: 0xE9")
    assert "--encoding" in message
    result = import_file(path, store=sqlite_store, encoding="cp1252")
    assert result.inserted == 21


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"\x00\x01\x02\x03" * 100, "binary"),
    (b"\n\n   \n", "empty"),
])
def test_unreadable_files(sqlite_store: Store, tmp_path: Path, content: bytes,
                          reason: str) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(content)
    with pytest.raises(RejectedInputError, match=reason) as caught:
        import_file(path, store=sqlite_store)
    assert str(path) in str(caught.value)


def test_missing_file_and_unknown_encoding(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(RejectedInputError, match="no such file"):
        import_file(tmp_path / "clients.csv", store=sqlite_store)
    (tmp_path / "clients.csv").write_text(TEXT)
    with pytest.raises(RejectedInputError, match="unknown text encoding"):
        import_file(tmp_path / "clients.csv", store=sqlite_store, encoding="klingon")


def test_header_only_file_imports_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("email,name\n")
    result = import_file(tmp_path / "clients.csv", store=sqlite_store)
    assert (result.rows, result.inserted, result.files[0].rejects_path) == (0, 0, None)


def test_json_array_is_streamed_across_chunks(sqlite_store: Store, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_CHUNK", 7)
    items = [{"email": f"c{i}@example.com", "rating": 1 + i % 5, "tags": ["a", "b"],
              "address": {"city": "Köln", "country": "DE"}} for i in range(30)]
    items[4]["rating"] = 12345678901
    items.insert(9, ["not", "an", "object"])
    path = tmp_path / "clients.json"
    path.write_text(" \n" + json.dumps(items, indent=1, ensure_ascii=False))
    result = import_file(path, store=sqlite_store, rejects=tmp_path / "r.json")
    assert (result.inserted, result.rejected) == (29, 2)
    assert [m.split(":")[0] for m in result.files[0].messages] == ["row 5, field 'rating'",
                                                                   "row 10"]
    rejected = json.loads((tmp_path / "r.json").read_text())
    assert [r["_row"] for r in rejected] == [5, 10]
    assert rejected[1]["_value"] == ["not", "an", "object"]


@pytest.mark.parametrize(("text", "reason"), [
    ('{"email": "a@example.com"}', "not a JSON array"),
    ('[{"email": "a@example.com"}, {"email": ', "invalid JSON in element 2"),
    ('[{"email": "a@example.com"} {"x": 1}]', "expected ',' or ']' after element 1"),
    ('[{"email": "a@example.com"}] trailing', "unexpected content"),
])
def test_broken_json_arrays_refuse_the_file(sqlite_store: Store, tmp_path: Path, text: str,
                                            reason: str) -> None:
    path = tmp_path / "clients.json"
    path.write_text(text)
    with pytest.raises(RejectedInputError, match=reason):
        import_file(path, store=sqlite_store)
    assert sqlite_store.count("clients") == 0


def test_parquet_typed_values_and_rejects(sqlite_store: Store, tmp_path: Path) -> None:
    table = pa.table({
        "id": ["p1", "p2", "p3"],
        "email": ["a@example.com", "b@example.com", "nope"],
        "rating": pa.array([5, 9, 3], pa.int64()),
        "created_at": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("us",
                                                                                  tz="UTC")),
        "tags": [["x"], [], None],
        "address": [{"city": "Oslo", "country": "NO"}, None, None],
    })
    path = tmp_path / "clients.parquet"
    pq.write_table(table, path)
    result = import_file(path, store=sqlite_store)
    assert (result.inserted, result.rejected) == (1, 2)
    rejects = pq.read_table(tmp_path / "clients.rejects.parquet").to_pylist()
    assert [(r["id"], r["_row"], r["_reason"]) for r in rejects] == [
        ("p2", 2, "rating: 9 is out of range (1 to 5)"),
        ("p3", 3, "email: not an email address"),
    ]
    (row,) = [r for b in sqlite_store.iter_rows("clients") for r in b]
    assert row["address"] == {"city": "Oslo", "country": "NO"}
    assert row["created_at"] == datetime(2024, 1, 1, tzinfo=UTC)


def test_jsonl_rejects_keep_the_original_objects(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "contacts.jsonl"
    path.write_text('{"email": "a@example.com", "unsubscribed": "maybe"}\n'
                    '{"email": "b@example.com", "unsubscribed": true}\n')
    result = import_file(path, store=sqlite_store)
    assert result.inserted == 1
    (line,) = (tmp_path / "contacts.rejects.jsonl").read_text().splitlines()
    assert json.loads(line) == {"email": "a@example.com", "unsubscribed": "maybe", "_row": 1,
                                "_reason": "unsubscribed: not a yes/no value: 'maybe'"}


def test_entity_comes_from_the_file_name(sqlite_store: Store, tmp_path: Path) -> None:
    for name in ("Customers-2024.csv", "people_export_v2.csv"):
        (tmp_path / name).write_text(TEXT)
    assert import_file(tmp_path / "Customers-2024.csv", store=sqlite_store).files[0].entity \
        == "clients"
    assert import_file(tmp_path / "people_export_v2.csv", store=sqlite_store).files[0].entity \
        == "contacts"
    (tmp_path / "data.csv").write_text(TEXT)
    with pytest.raises(RejectedInputError, match="--entity"):
        import_file(tmp_path / "data.csv", store=sqlite_store)


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet"])
def test_rejects_files_are_owner_only(sqlite_store: Store, tmp_path: Path, fmt: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Rejected rows are personal data: 0600 whatever the umask, even over an older file."""
    import os
    import stat

    rows = [{"email": "a@example.com", "name": "Anna"}, {"email": "nope", "name": "Zoë"}]
    path = tmp_path / f"clients.{fmt}"
    if fmt == "csv":
        path.write_text("email,name\n" + "".join(f"{r['email']},{r['name']}\n" for r in rows))
    elif fmt == "json":
        path.write_text(json.dumps(rows))
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    given = tmp_path / "new-folder" / f"r.{fmt}"
    default = tmp_path / f"clients.rejects.{fmt}"
    default.write_text("left by an older run")
    default.chmod(0o644)
    old = os.umask(0)
    try:
        import_file(path, store=sqlite_store, rejects=given)
        result = import_file(path, store=sqlite_store)
    finally:
        os.umask(old)
    assert result.files[0].rejects_path == str(default)
    for written in (given, default):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600, written
    assert stat.S_IMODE(given.parent.stat().st_mode) == 0o700
    reread = (pq.read_table(default).to_pylist() if fmt == "parquet" else default.read_text())
    assert "nope" in str(reread)
