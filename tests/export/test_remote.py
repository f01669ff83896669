"""Bundles in object storage, against moto's S3 server on 127.0.0.1, and hive-partitioned
Parquet that DuckDB and Polars read as one dataset."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.errors import ConfigError, RejectedInputError
from cscor_tools.export import export_bundle
from cscor_tools.export.dataset import export_dataset
from cscor_tools.export.remote import RemoteBundle
from cscor_tools.store import Store
from tests.export.s3 import BUCKET, SECRET, moto_s3, objects

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")



@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, and the environment every S3 client reads."""
    with moto_s3() as env:
        yield env["AWS_ENDPOINT_URL"]




_objects = objects


def _disk_gone_at_third_batch(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The export's third batch read fails; ``calls["n"] = 0`` arms it again."""
    import cscor_tools.export.run as run

    calls = {"n": 0}
    real = run.read_batches

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(run, "read_batches", failing)
    return calls


def test_a_bundle_in_s3_is_the_local_bundle_byte_for_byte(
    s3: str, two_sources: Store, tmp_path: Path
) -> None:
    remote = export_bundle(two_sources, f"s3://{BUCKET}/same/", format="parquet")
    local = export_bundle(two_sources, tmp_path / "local", format="parquet")
    objects = _objects("same/")
    files = {p.name: p.read_bytes() for p in (tmp_path / "local").iterdir()}
    assert objects == files
    assert remote.location == f"s3://{BUCKET}/same"
    assert [f.sha256 for f in remote.files] == [f.sha256 for f in local.files]
    (run,) = [r for r in two_sources.runs(5) if r.details.get("out") == remote.location]
    assert run.status == "succeeded"


def test_the_manifest_is_written_last(s3: str, two_sources: Store,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    original = RemoteBundle.open_file

    def spy(self: RemoteBundle, name: str, **kw: Any) -> Any:
        order.append(name)
        return original(self, name, **kw)

    monkeypatch.setattr(RemoteBundle, "open_file", spy)
    export_bundle(two_sources, f"s3://{BUCKET}/order/")
    assert order[-1] == "manifest.json" and order.count("manifest.json") == 1
    assert order[-2] == "datapackage.json"


def test_a_failed_export_leaves_no_object(s3: str, two_sources: Store,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _disk_gone_at_third_batch(monkeypatch)
    with pytest.raises(OSError, match="disk gone"):
        export_bundle(two_sources, f"s3://{BUCKET}/failed/")
    assert _objects("failed/") == {}


def test_a_bundle_is_replaced_only_when_asked_and_only_a_bundle(s3: str,
                                                              two_sources: Store) -> None:
    export_bundle(two_sources, f"s3://{BUCKET}/again/")
    with pytest.raises(RejectedInputError, match="--overwrite"):
        export_bundle(two_sources, f"s3://{BUCKET}/again/")
    export_bundle(two_sources, f"s3://{BUCKET}/again/", format="csv", overwrite=True)
    names = set(_objects("again/"))
    assert "clients.csv" in names and "clients.jsonl" not in names
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).pipe(f"{BUCKET}/notabundle/data.txt", b"x")
    with pytest.raises(RejectedInputError, match=r"no manifest\.json"):
        export_bundle(two_sources, f"s3://{BUCKET}/notabundle/", overwrite=True)


def test_no_credential_in_objects_logs_or_run_log(
    s3: str, two_sources: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        export_bundle(two_sources, f"s3://{BUCKET}/secret/")
    assert all(SECRET.encode() not in data for data in _objects("secret/").values())
    assert SECRET not in caplog.text
    assert all(SECRET not in json.dumps(r.details) for r in two_sources.runs(10))
    with pytest.raises(ConfigError) as err:
        export_bundle(two_sources, f"s3://moto-key:{SECRET}@{BUCKET}/inline/")
    assert SECRET not in str(err.value) and "environment" in str(err.value)


def test_the_cli_exports_to_s3(s3: str, two_sources: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "workspace.db")
    done = runner.invoke(cli, ["--workspace", ws, "export", "--out", f"s3://{BUCKET}/cli/",
                               "--format", "csv"])
    assert done.exit_code == 0, done.output
    assert f"s3://{BUCKET}/cli" in done.output
    assert "manifest.json" in _objects("cli/")
    zipped = runner.invoke(cli, ["--workspace", ws, "export", "--out", f"s3://{BUCKET}/z.zip",
                                 "--zip"])
    assert zipped.exit_code == 0, zipped.output
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(_objects("z.zip")[""])).namelist()


def test_a_zip_bundle_streams_to_one_object_that_reads_back(
    s3: str, two_sources: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = export_bundle(two_sources, f"s3://{BUCKET}/zips/b.zip", format="csv", zip=True)
    local = export_bundle(two_sources, tmp_path / "b.zip", format="csv", zip=True)
    with zipfile.ZipFile(io.BytesIO(_objects("zips/b.zip")[""])) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[-1] == "manifest.json"  # the last entry, then the central directory
        with zipfile.ZipFile(tmp_path / "b.zip") as lz:
            assert names == lz.namelist()
            assert {n: zf.read(n) for n in names} == {n: lz.read(n) for n in names}
    assert [f.sha256 for f in remote.files] == [f.sha256 for f in local.files]
    assert remote.location == f"s3://{BUCKET}/zips/b.zip"

    # Replaced only when asked; an export that fails leaves the old object as it was.
    with pytest.raises(RejectedInputError, match="--overwrite"):
        export_bundle(two_sources, f"s3://{BUCKET}/zips/b.zip", zip=True)
    before = _objects("zips/b.zip")[""]
    calls = _disk_gone_at_third_batch(monkeypatch)
    with pytest.raises(OSError, match="disk gone"):
        export_bundle(two_sources, f"s3://{BUCKET}/zips/b.zip", zip=True, overwrite=True)
    assert _objects("zips/b.zip")[""] == before
    calls["n"] = 0
    with pytest.raises(OSError, match="disk gone"):
        export_bundle(two_sources, f"s3://{BUCKET}/zips/new.zip", zip=True)
    assert "new.zip" not in "".join(_objects("zips/"))
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).pipe(f"{BUCKET}/zips/other.zip", b"not a zip")
    with pytest.raises(RejectedInputError, match=r"no manifest\.json"):
        export_bundle(two_sources, f"s3://{BUCKET}/zips/other.zip", zip=True, overwrite=True)


def test_a_half_bundle_left_by_a_killed_export_is_replaced_when_asked(
    s3: str, two_sources: Store
) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    # what a writer killed mid-export leaves: its marker and some data files, no manifest
    fs.pipe(f"{BUCKET}/half/_cscor_writing", b"x")
    fs.pipe(f"{BUCKET}/half/clients.jsonl", b'{"half": true}\n')
    # it may be another export still writing: replaced only when asked
    with pytest.raises(RejectedInputError, match="half-written"):
        export_bundle(two_sources, f"s3://{BUCKET}/half/")
    export_bundle(two_sources, f"s3://{BUCKET}/half/", replace_unfinished=True)
    objects = _objects("half/")
    assert "_cscor_writing" not in objects and "manifest.json" in objects
    assert b'"half"' not in objects["clients.jsonl"]


def _read_with_duckdb_and_polars(root: str, entity: str) -> tuple[Any, Any]:
    import duckdb
    import polars as pl

    pattern = f"{root}/{entity}/**/*.parquet"
    con = duckdb.connect()
    ducks = con.execute(
        f"SELECT source, month, count(*) FROM read_parquet('{pattern}', hive_partitioning=true)"
        " GROUP BY ALL ORDER BY ALL").fetchall()
    bears = (pl.scan_parquet(pattern, hive_partitioning=True)
             .group_by("source", "month").len().sort("source", "month").collect())
    return ducks, bears


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_partitioned_dataset_reads_as_one_in_duckdb_and_polars(
    where: str, s3: str, two_sources: Store, tmp_path: Path
) -> None:
    out = str(tmp_path / "lake") if where == "local" else f"s3://{BUCKET}/lake-{tmp_path.name}/"
    result = export_dataset(two_sources, out, partition_by=("source", "month"))
    manifest = json.loads(Path(out, "manifest.json").read_text()) if where == "local" else \
        json.loads(_objects(f"lake-{tmp_path.name}/")["manifest.json"])
    assert manifest["partition_by"] == ["source", "month"]
    assert len(manifest["files"]) == len(result.files)
    if where == "s3":  # DuckDB reads S3 through an extension it downloads: read a copy
        import s3fs

        local = tmp_path / "copy"
        s3fs.S3FileSystem(skip_instance_cache=True).get(
            f"{BUCKET}/lake-{tmp_path.name}/", str(local), recursive=True)
        out = str(local)
    ducks, bears = _read_with_duckdb_and_polars(out, "clients")
    live = [r for batch in two_sources.iter_rows("clients", include_deleted=False) for r in batch]
    expected: dict[tuple[str, str], int] = {}
    for r in live:
        key = (r["source"], r["created_at"].strftime("%Y-%m"))
        expected[key] = expected.get(key, 0) + 1
    assert [(s, m, n) for s, m, n in ducks] == sorted((s, m, n) for (s, m), n in expected.items())
    assert bears.rows() == [(s, m, n) for s, m, n in ducks]
    assert {s for s, _, _ in ducks} == {"stripe", "import"}
    # every file of every entity: rows add up to the workspace's
    assert result.rows == sum(two_sources.count(n, include_deleted=False)
                              for n in {f.entity for f in result.files})


def test_a_partition_the_policy_withholds_is_refused(s3: str, two_sources: Store,
                                                      tmp_path: Path) -> None:
    from cscor_tools.errors import PolicyError

    policy = tmp_path / "no-dates.toml"
    policy.write_text('[policy]\nname = "no-dates"\nextends = "portability"\n'
                      '[fields]\n"*.created_at" = "drop"\n')
    with pytest.raises(PolicyError, match="created_at"):  # a path must not hold it either
        export_dataset(two_sources, str(tmp_path / "p"), partition_by=("source", "month"),
                       policy=str(policy))
    with pytest.raises(RejectedInputError, match="partition"):
        export_dataset(two_sources, str(tmp_path / "q"), partition_by=("country",))
