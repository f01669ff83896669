"""Bundles: layout, metadata, determinism, permissions, atomicity, and what never leaves."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from frictionless import Package, validate

from cscor_tools.errors import RejectedInputError
from cscor_tools.export import export_bundle
from cscor_tools.formats.base import FormatWriter
from cscor_tools.minimize import Action, Policy, Rule
from cscor_tools.schema import ENTITIES, SCHEMA_VERSION, Privacy
from cscor_tools.store import Store
from tests.export.readback import bundle_files
from tests.export.sample import SECRET_URL, seed

FORMATS = ["jsonl", "json", "csv", "parquet"]
POLICIES = ["portability", "pseudonymized", "accounting"]
DATA_EXT = ("jsonl", "json", "csv", "parquet")


@pytest.fixture
def seeded(sqlite_store: Store) -> Store:
    seed(sqlite_store)
    return sqlite_store


def outside_workspace(folder: Path) -> list[str]:
    """What a folder holds besides the test's workspace database files."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("workspace.db"))


def data_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k not in ("manifest.json", "datapackage.json")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_layout_and_manifest(seeded: Store, tmp_path: Path, fmt: str) -> None:
    result = export_bundle(seeded, tmp_path / "b", format=fmt, policy="pseudonymized")
    files = bundle_files(result.out)
    assert sorted(files) == sorted(
        [f"{n}.{fmt}" for n in ENTITIES] + ["manifest.json", "datapackage.json"]
    )
    m = json.loads(files["manifest.json"])
    assert m["tool"]["name"] == "cscor_tools" and m["schema_version"] == SCHEMA_VERSION
    assert m["format"] == fmt and m["generated_at"] is None
    assert m["data_as_of"] == "2024-06-01T12:00:00.000000Z"  # the newest synced_at
    assert m["policy"]["name"] == "pseudonymized"
    assert m["policy"]["fingerprint"] == result.fingerprint
    assert m["policy"]["rules"]["classes"]["identifier"] == "hash"
    assert m["policy"]["fields"]["clients"]["email"] == "hash"
    assert m["policy"]["pseudonym_key"]["origin"] == "workspace"
    assert m["cursors"] == [
        {"connector": "stripe", "stream": "invoices", "slice": "",
         "cursor": {"created": 1718000000}}
    ]
    assert m["selection"]["time_range"] == {"field": "created_at", "since": None, "until": None}
    for entry in m["files"]:
        body = files[entry["path"]]
        assert entry["bytes"] == len(body)
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
    rows = {e["entity"]: e["rows"] for e in m["files"]}
    assert rows == {n: seeded.count(n, include_deleted=False) for n in ENTITIES}
    assert m["datapackage"]["sha256"] == hashlib.sha256(files["datapackage.json"]).hexdigest()
    run = seeded.runs(1, kind="export")[0]
    assert (run.status, run.name, run.counts) == ("succeeded", "pseudonymized", rows)


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_exports_same_bytes(seeded: Store, tmp_path: Path, fmt: str) -> None:
    a = bundle_files(export_bundle(seeded, tmp_path / "a", format=fmt, policy="pseudonymized").out)
    b = bundle_files(export_bundle(seeded, tmp_path / "b", format=fmt, policy="pseudonymized").out)
    assert data_files(a) == data_files(b)
    assert a["datapackage.json"] == b["datapackage.json"]


def test_zip_entries_are_reproducible(seeded: Store, tmp_path: Path) -> None:
    infos = []
    for name in ("a.zip", "b.zip"):
        result = export_bundle(seeded, tmp_path / name, format="parquet", zip=True)
        with zipfile.ZipFile(result.out) as zf:
            infos.append([(i.filename, i.date_time, i.external_attr >> 16, i.CRC, i.compress_type)
                          for i in zf.infolist()])
    assert infos[0] == infos[1]
    names = [i[0] for i in infos[0]]
    assert names == [f"{n}.parquet" for n in ENTITIES] + ["datapackage.json", "manifest.json"]
    assert {i[1] for i in infos[0]} == {(1980, 1, 1, 0, 0, 0)}
    assert {i[2] for i in infos[0]} == {0o100600}
    assert infos[0][0][4] == zipfile.ZIP_STORED and infos[0][-1][4] == zipfile.ZIP_DEFLATED


def test_owner_only_permissions(seeded: Store, tmp_path: Path) -> None:
    folder = export_bundle(seeded, tmp_path / "f", format="csv").out
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for p in folder.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    zipped = export_bundle(seeded, tmp_path / "z.zip", format="csv", zip=True).out
    assert stat.S_IMODE(zipped.stat().st_mode) == 0o600


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("policy", POLICIES)
def test_frictionless_validates_the_bundle(
    seeded: Store, tmp_path: Path, fmt: str, policy: str
) -> None:
    result = export_bundle(seeded, tmp_path / "b", format=fmt, policy=policy, include_deleted=True)
    report = validate(str(result.out / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "type", "note"])[:5]


def test_frictionless_checks_declared_foreign_keys(seeded: Store, tmp_path: Path) -> None:
    """A key left in datapackage.json is one that holds: validation would catch a bad one."""
    result = export_bundle(seeded, tmp_path / "b", format="csv", include_deleted=True)
    package = json.loads((result.out / "datapackage.json").read_text())
    resources = {r["name"]: r for r in package["resources"]}
    declared = {k["fields"][0] for k in resources["payments"]["schema"].get("foreignKeys", [])}
    assert declared == {"client_id", "invoice_id"}
    assert "foreignKeys" not in resources["invoices"]["schema"]  # one invoice dangles
    m = json.loads((result.out / "manifest.json").read_text())
    assert m["foreign_keys_left_out"] == [
        {"field": "invoices.client_id", "references": "clients",
         "reason": "1 row(s) point to clients rows not in this export (filtered out, deleted, "
                   "or never synced)"}
    ]
    assert result.warnings and "invoices.client_id" in result.warnings[0]


def test_parquet_bundle_reads_in_duckdb_and_polars(seeded: Store, tmp_path: Path) -> None:
    result = export_bundle(seeded, tmp_path / "b", format="parquet", policy="pseudonymized")
    invoices = str(result.out / "invoices.parquet")
    clients = str(result.out / "clients.parquet")
    con = duckdb.connect()
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{invoices}'").fetchall()}
    assert types["total"] == "BIGINT"
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["deleted"] == "BOOLEAN"
    assert types["id"] == "VARCHAR"
    joined = con.execute(
        f"SELECT count(*) FROM '{invoices}' i JOIN '{clients}' c ON c.id = i.client_id"
    ).fetchone()
    assert joined is not None and joined[0] > 0  # hashed keys still join
    frame = pl.read_parquet(invoices)
    assert frame.height == seeded.count("invoices", include_deleted=False)
    assert frame.schema["created_at"] == pl.Datetime("us", "UTC")
    cl = pl.read_parquet(clients)
    assert cl.schema["address"] == pl.Struct({"country": pl.String})
    assert cl.schema["tags"] == pl.List(pl.String)
    report = Package.validate_descriptor(str(result.out / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    package = json.loads((result.out / "datapackage.json").read_text())
    described = {f["name"]: f["type"] for f in package["resources"][2]["schema"]["fields"]}
    assert described["total"] == "integer" and described["customer_email"] == "string"
    assert described["created_at"] == "datetime"


def all_bytes(out: Path) -> list[tuple[str, bytes]]:
    return list(bundle_files(out).items())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("policy", POLICIES)
def test_secrets_never_leave(seeded: Store, tmp_path: Path, fmt: str, policy: str) -> None:
    result = export_bundle(seeded, tmp_path / "b.zip", format=fmt, policy=policy, zip=True,
                           include_deleted=True)
    raw = result.out.read_bytes()
    for name, body in [*all_bytes(result.out), ("zip", raw)]:
        assert b"CAPABILITY_TOKEN" not in body, name
        assert SECRET_URL.encode() not in body, name
        assert b"hosted_invoice_url" not in body or name == "manifest.json", name


def test_secrets_never_leave_even_when_a_policy_keeps_them(seeded: Store, tmp_path: Path) -> None:
    leaky = Policy(
        name="leaky",
        classes=tuple((p, Rule(Action.KEEP)) for p in Privacy),
        fields=(("invoices.hosted_invoice_url", Rule(Action.KEEP)),),
    )
    for fmt in FORMATS:
        result = export_bundle(seeded, tmp_path / fmt, format=fmt, policy=leaky)
        for name, body in all_bytes(result.out):
            assert b"CAPABILITY_TOKEN" not in body, (fmt, name)
        m = json.loads((result.out / "manifest.json").read_text())
        assert m["policy"]["fields"]["invoices"]["hosted_invoice_url"] == "drop"


def test_a_policy_file_that_keeps_a_secret_is_refused(seeded: Store, tmp_path: Path) -> None:
    from cscor_tools.errors import PolicyError

    path = tmp_path / "leak.toml"
    path.write_text('[policy]\nname = "leak"\n[classes]\nsecret = "keep"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="never leave"):
        export_bundle(seeded, tmp_path / "b", policy=path)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("env_key", [None, "an-environment-provided-key-0123456789abcdef"])
def test_hash_key_never_written(seeded: Store, tmp_path: Path, env_key: str | None) -> None:
    env = {"CSCOR_HASH_KEY": env_key} if env_key else {}
    key = env_key or seeded.get_meta("hash_key")
    assert key
    for fmt in FORMATS:
        result = export_bundle(seeded, tmp_path / f"{fmt}.zip", format=fmt, zip=True,
                               policy="pseudonymized", env=env)
        for name, body in [*all_bytes(result.out), ("zip", result.out.read_bytes())]:
            assert key.encode() not in body, name
            assert key[:16].encode() not in body, name
    run = seeded.runs(1, kind="export")[0]
    assert key not in json.dumps(run.details) and key not in json.dumps(run.counts)


def test_existing_out_is_refused_then_replaced_whole(seeded: Store, tmp_path: Path) -> None:
    out = tmp_path / "b"
    first = export_bundle(seeded, out, format="csv")
    with pytest.raises(RejectedInputError, match="already exists"):
        export_bundle(seeded, out, format="jsonl")
    assert sorted(p.name for p in out.iterdir()) == sorted(bundle_files(first.out))
    export_bundle(seeded, out, format="jsonl", overwrite=True)
    assert sorted(p.suffix for p in out.iterdir()) == [".json", ".json"] + [".jsonl"] * len(
        ENTITIES)
    assert outside_workspace(tmp_path) == ["b"]  # no temporary left behind


def test_overwrite_never_replaces_a_folder_that_is_not_a_bundle(
    seeded: Store, tmp_path: Path
) -> None:
    home = tmp_path / "documents"
    home.mkdir()
    (home / "thesis.txt").write_text("precious")
    with pytest.raises(RejectedInputError, match="does not hold a bundle"):
        export_bundle(seeded, home, overwrite=True)
    assert (home / "thesis.txt").read_text() == "precious"


def test_zip_overwrite_and_missing_parent(seeded: Store, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    export_bundle(seeded, out, format="csv", zip=True)
    export_bundle(seeded, out, format="parquet", zip=True, overwrite=True)
    with zipfile.ZipFile(out) as zf:
        assert "invoices.parquet" in zf.namelist()
    with pytest.raises(RejectedInputError, match="does not exist"):
        export_bundle(seeded, tmp_path / "no" / "such" / "dir", format="csv")


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("zipped", [False, True])
def test_interrupted_export_leaves_no_partial_bundle(
    seeded: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zipped: bool
) -> None:
    out = tmp_path / ("b.zip" if zipped else "b")
    old = export_bundle(seeded, out, format="jsonl", zip=zipped)
    before = bundle_files(old.out)
    calls = {"n": 0}
    original = FormatWriter.write

    def explode(self: FormatWriter, batch) -> None:  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # mid-export: two files written, the third half-way
            raise Boom("disk on fire")
        original(self, batch)

    monkeypatch.setattr(FormatWriter, "write", explode)
    with pytest.raises(Boom):
        export_bundle(seeded, out, format="jsonl", zip=zipped, overwrite=True, batch_rows=2)
    assert bundle_files(out) == before  # the old bundle, intact
    assert outside_workspace(tmp_path) == [out.name]
    fresh = tmp_path / "fresh"
    calls["n"] = 0
    with pytest.raises(Boom):
        export_bundle(seeded, fresh, format="csv", batch_rows=2)
    assert not fresh.exists()
    run = seeded.runs(1, kind="export")[0]
    assert run.status == "failed" and "disk on fire" in (run.error or "")


def test_keyboard_interrupt_also_cleans_up(
    seeded: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(self: FormatWriter, batch) -> None:  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(FormatWriter, "write", interrupt)
    with pytest.raises(KeyboardInterrupt):
        export_bundle(seeded, tmp_path / "b.zip", zip=True)
    assert outside_workspace(tmp_path) == []


def test_overwrite_only_replaces_a_bundle_of_the_same_kind(seeded: Store, tmp_path: Path) -> None:
    notes = tmp_path / "notes.zip"
    notes.write_bytes(b"not a zip at all")
    with pytest.raises(RejectedInputError, match="not a zip bundle"):
        export_bundle(seeded, notes, zip=True, overwrite=True)
    assert notes.read_bytes() == b"not a zip at all"
    folder = export_bundle(seeded, tmp_path / "f", format="csv").out
    with pytest.raises(RejectedInputError, match="a zip bundle cannot replace it"):
        export_bundle(seeded, folder, zip=True, overwrite=True)
    zipped = export_bundle(seeded, tmp_path / "z.zip", zip=True).out
    with pytest.raises(RejectedInputError, match="a folder bundle cannot replace it"):
        export_bundle(seeded, zipped, overwrite=True)
    assert zipfile.is_zipfile(zipped) and (folder / "manifest.json").is_file()


def test_a_failure_before_writing_leaves_nothing(seeded: Store, tmp_path: Path) -> None:
    from cscor_tools.errors import ConfigError

    seeded.set_meta("hash_key", "")
    with pytest.raises(ConfigError, match="no pseudonymization key"):
        export_bundle(seeded, tmp_path / "b", policy="pseudonymized", env={})
    assert outside_workspace(tmp_path) == []
    assert export_bundle(seeded, tmp_path / "b", policy="portability").rows > 0  # needs no key
