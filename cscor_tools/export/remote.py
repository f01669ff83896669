"""Bundles in object storage (any fsspec URL: s3://, gs://, az://, memory://…), and
hive-partitioned Parquet datasets.

An object store has no rename, so a remote bundle cannot appear whole the way a local one does
(``bundle.py``). It is written so that a reader never mistakes a half bundle for a whole one:
every data file streams straight to its object (an S3 multipart upload; no local copy), then
``datapackage.json``, and **``manifest.json`` last**: a bundle is complete exactly when its
manifest is there, and the manifest lists every file with its size and sha256. Replacing a
bundle removes the old manifest first, so the old one stops counting as complete before any of
its files change. A failed export removes what it wrote.

Credentials come from each store's usual environment (``AWS_ACCESS_KEY_ID``/``AWS_PROFILE``,
``AWS_ENDPOINT_URL``; ``GOOGLE_APPLICATION_CREDENTIALS``; ``AZURE_STORAGE_CONNECTION_STRING``…),
never from the URL: a URL carrying a key or password is refused, so none reaches the manifest,
the run log or a log line.

``export_dataset(..., partition_by=("source", "month"))`` writes each entity as hive-partitioned
Parquet (``clients/source=stripe/month=2026-01/part-0.parquet``) that DuckDB, Polars, Spark and
Trino read as one table; partition values come from the *minimized* rows, so a path never holds
what the policy withholds.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from cscor_tools.errors import ConfigError, PolicyError, RejectedInputError
from cscor_tools.export.bundle import Bundle
from cscor_tools.export.describe import ExportedFile, to_json
from cscor_tools.formats import ParquetWriter
from cscor_tools.minimize import (
    Minimizer,
    Policy,
    Pseudonymizer,
    load_policy,
    plan_policy,
    resolve_hash_key,
)
from cscor_tools.minimize.policy import parse_moment
from cscor_tools.runs import RunStatus
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store, open_store
from cscor_tools.store.arrow import RowSelection, read_batches, read_snapshot

#: what ``--partition-by`` accepts: a column kept by the policy, or ``month`` of created_at
PARTITION_KEYS = ("source", "month")
#: Hive's name for a partition whose value is null
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
             "abfs": "adlfs", "abfss": "adlfs"}


def is_remote(out: str | os.PathLike[str]) -> bool:
    """Whether ``out`` names object storage (a URL with a scheme other than file://)."""
    text = os.fspath(out)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    return scheme not in ("", "file")


def open_bundle(out: str | os.PathLike[str], *, zip: bool, overwrite: bool) -> Bundle:
    """The bundle to write ``out`` to: a local folder or zip, or a prefix in object storage."""
    if not is_remote(out):
        return Bundle(out, zip=zip, overwrite=overwrite)
    if zip:
        raise RejectedInputError(
            "a bundle in object storage is a prefix of objects: leave out --zip (a zip is "
            "written to a local file)", file=_safe(os.fspath(out)))
    return RemoteBundle(os.fspath(out), overwrite=overwrite)


def _safe(url: str) -> str:
    """A URL fit for messages: no user name, password or query (they may hold keys)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{parts.path}"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system and root path of ``url``; a configuration error when the URL
    carries credentials or the store's package is missing."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or parts.query:
        raise ConfigError(
            f"{_safe(url)}: an export URL must not carry a key, password or query string; "
            "credentials come from the store's environment (e.g. AWS_ACCESS_KEY_ID, "
            "AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_CONNECTION_STRING)"
        )
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise ConfigError("object storage needs fsspec: pip install 'cscor-tools[s3]'") from None
    local = parts.scheme.lower() == "file"
    try:
        fs, root = url_to_fs(url, **({"auto_mkdir": True} if local else {}))
    except (ImportError, ValueError) as exc:
        package = _PACKAGES.get(parts.scheme.lower(), "the fsspec implementation")
        raise ConfigError(f"{_safe(url)}: cannot open this store ({exc.__class__.__name__}); "
                          f"install {package}") from None
    return fs, str(root).rstrip("/")


@contextmanager
def _storage_errors(url: str) -> Iterator[None]:
    """Object-store failures as configuration errors naming the destination, never a key."""
    try:
        yield
    except (ConfigError, RejectedInputError):
        raise
    except Exception as exc:  # botocore, google, azure: each its own tree
        kind = type(exc).__name__
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else kind
        if "credential" in kind.lower() or "credential" in reason.lower():
            reason = (f"{kind}: no usable credentials in the environment (e.g. "
                      "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)")
        raise ConfigError(f"{_safe(url)}: cannot write: {reason}") from None


class RemoteBundle(Bundle):
    """A bundle under a prefix of object storage, complete once ``manifest.json`` is there."""

    def __init__(self, url: str, *, overwrite: bool) -> None:
        self.url = url.rstrip("/")
        self.out = Path(self.url)  # unused for remote bundles: ``location`` says where
        self.zip = False
        self.overwrite = overwrite
        self._fs, self._root = filesystem(self.url)
        self._local = urlsplit(self.url).scheme.lower() == "file"
        self._written: list[str] = []
        self._committed = False
        with _storage_errors(self.url):
            existing = self._existing()
        if existing and not overwrite:
            raise RejectedInputError(
                "already holds objects; choose another --out or pass --overwrite to replace "
                "the bundle there", file=_safe(self.url))
        if existing and f"{self._root}/manifest.json" not in existing:
            raise RejectedInputError(
                "holds objects but no bundle (no manifest.json); refusing to replace them",
                file=_safe(self.url))
        self._old = existing

    @property
    def location(self) -> str:
        return self.url

    def _existing(self) -> list[str]:
        self._fs.invalidate_cache()  # another writer may have been here since we listed
        if not self._fs.exists(self._root):
            return []
        return [str(p) for p in self._fs.find(self._root)]

    def __enter__(self) -> RemoteBundle:
        if self._old:
            with _storage_errors(self.url):
                # The manifest goes first: from now on no reader takes the old bundle as whole.
                self._fs.rm(f"{self._root}/manifest.json")
                rest = [p for p in self._old if not p.endswith("/manifest.json")]
                if rest:
                    self._fs.rm(rest)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed:
            self.abort()

    @contextmanager
    def open_file(self, name: str, *, compressed: bool = False) -> Iterator[IO[bytes]]:
        """A stream straight to the object ``name`` under the prefix (``a/b.parquet`` nests)."""
        if name.startswith(("/", ".")) or ".." in name.split("/"):
            raise ValueError(f"not a bundle file name: {name!r}")
        path = f"{self._root}/{name}"
        self._written.append(path)
        with _storage_errors(self.url):
            file = self._fs.open(path, "wb")
        try:
            yield file
        except BaseException:
            _drop(file)
            raise
        with _storage_errors(self.url):
            file.close()  # the object appears whole, now (S3: the multipart upload completes)
            if self._local:  # personal data: owner-only, as every local bundle
                os.chmod(path, 0o600)

    def commit(self) -> Path:
        """Nothing left to move: ``manifest.json``, written last, made the bundle whole."""
        if f"{self._root}/manifest.json" not in self._written:
            raise RuntimeError("a remote bundle is complete only once manifest.json is written")
        self._committed = True
        return self.out

    def abort(self) -> None:
        """Remove what was written (the manifest first, so no reader sees it complete)."""
        paths = sorted(self._written, key=lambda p: not p.endswith("/manifest.json"))
        for path in paths:
            with contextlib.suppress(Exception):
                self._fs.rm(path)
        self._written = []


def _drop(file: Any) -> None:
    """Give up an unfinished upload: nothing of it becomes an object."""
    with contextlib.suppress(Exception):
        discard = getattr(file, "discard", None)
        if discard is None:
            file.close()
            return
        discard()  # S3: the multipart upload is aborted
        file.closed = True  # or its finalizer would try to complete what was dropped


# -- hive-partitioned Parquet ------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetResult:
    """What ``export_dataset`` wrote."""

    out: str
    policy: str
    fingerprint: str
    partition_by: tuple[str, ...]
    files: tuple[ExportedFile, ...]
    run_id: int
    duration_s: float

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {"out": self.out, "format": "parquet", "policy": self.policy,
                "fingerprint": self.fingerprint, "partition_by": list(self.partition_by),
                "rows": self.rows, "bytes": self.bytes,
                "files": [f.as_dict() for f in self.files], "run_id": self.run_id,
                "duration_s": round(self.duration_s, 3)}


def export_dataset(
    store: Store | str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    *,
    partition_by: Sequence[str] = PARTITION_KEYS,
    policy: str | os.PathLike[str] | Policy = "portability",
    entities: Sequence[str] | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    include_deleted: bool = False,
    overwrite: bool = False,
    env: Mapping[str, str] | None = None,
    batch_rows: int = 50_000,
) -> DatasetResult:
    """Export each entity as hive-partitioned Parquet under ``out`` (a folder or any fsspec
    URL), with ``manifest.json`` last; recorded in the run log like every export."""
    started = time.monotonic()
    keys = tuple(partition_by)
    bad = [k for k in keys if k not in PARTITION_KEYS]
    if not keys or bad or len(set(keys)) != len(keys):
        raise RejectedInputError(
            f"cannot partition by {','.join(keys) or 'nothing'}: choose from "
            f"{', '.join(PARTITION_KEYS)}", field="partition_by")
    chosen = load_policy(policy)
    names = _entities(chosen, entities)
    lo = parse_moment(since) if since is not None else chosen.rows.since
    hi = parse_moment(until) if until is not None else chosen.rows.until
    plans = plan_policy(chosen, names)
    for name, plan in plans.items():
        kept = set(plan.arrow_schema().names)
        needed = {"source": "source", "month": "created_at"}
        missing = [needed[k] for k in keys if needed[k] not in kept]
        if missing:
            raise PolicyError(f"the {chosen.name!r} policy does not let {name}.{missing[0]} out: "
                              f"cannot partition {name} by it")
    where = os.fspath(out)
    local = not is_remote(where)
    if local:  # through fsspec's local file system, the same code as every store
        if not Path(where).absolute().parent.is_dir():
            raise RejectedInputError(f"the folder {Path(where).absolute().parent} does not "
                                     "exist", file=where)
        Path(where).mkdir(mode=0o700, exist_ok=True)
        where = str(Path(where).absolute())
    bundle = RemoteBundle(f"file://{where}" if local else where, overwrite=overwrite)
    workspace = store if isinstance(store, Store) else open_store(store, create=False)
    try:
        key = None
        if any(p.needs_key for p in plans.values()):
            key = resolve_hash_key(workspace.get_meta("hash_key"),
                                   env if env is not None else os.environ)
        pseudonymizer = Pseudonymizer(key) if key is not None else None
        run_id = workspace.start_run("export", chosen.name, {
            "format": "parquet", "out": bundle.location, "partition_by": list(keys),
            "entities": names})
        try:
            files: list[ExportedFile] = []
            with bundle:
                with read_snapshot(workspace):
                    for name, plan in plans.items():
                        selection = RowSelection(lo, hi, include_deleted,
                                                 chosen.rows.statuses(name))
                        batches = read_batches(workspace, name, columns=plan.source_columns,
                                               selection=selection, batch_rows=batch_rows)
                        files.extend(_write_partitioned(bundle, name, Minimizer(plan,
                                                        pseudonymizer), batches, keys))
                info = {"kind": "dataset", "format": "parquet", "layout": "hive",
                        "partition_by": list(keys), "policy": chosen.name,
                        "fingerprint": chosen.fingerprint(),
                        "files": [f.as_dict() for f in files]}
                bundle.write_file("manifest.json", to_json(info))
                bundle.commit()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                workspace.finish_run(run_id, RunStatus.FAILED,
                                     error=f"{type(exc).__name__}: {exc}")
            raise
        rows: dict[str, int] = {}
        for f in files:
            rows[f.entity] = rows.get(f.entity, 0) + f.rows
        workspace.finish_run(run_id, RunStatus.SUCCEEDED, counts=rows, details={
            "format": "parquet", "out": bundle.location, "partition_by": list(keys),
            "policy": chosen.name, "fingerprint": chosen.fingerprint(),
            "bytes": sum(f.bytes for f in files)})
    finally:
        if workspace is not store:
            workspace.close()
    return DatasetResult(where if local else bundle.location, chosen.name,
                         chosen.fingerprint(), keys, tuple(files), run_id,
                         time.monotonic() - started)


def _entities(policy: Policy, requested: Sequence[str] | None) -> list[str]:
    allowed = list(policy.rows.entities) if policy.rows.entities is not None else list(ENTITIES)
    wanted = list(requested) if requested is not None else allowed
    unknown = [n for n in wanted if n not in ENTITIES]
    if unknown:
        raise RejectedInputError(f"unknown entity {unknown[0]!r}", field="entities")
    refused = [n for n in wanted if n not in allowed]
    if refused:
        raise PolicyError(f"the {policy.name!r} policy does not let {refused[0]} out")
    return [n for n in ENTITIES if n in wanted]


class _Partition:
    """One open partition file: a Parquet writer streaming to its object."""

    def __init__(self, bundle: RemoteBundle, path: str, schema: pa.Schema) -> None:
        self.path = path
        self._cm = bundle.open_file(path, compressed=True)
        self.writer = ParquetWriter(self._cm.__enter__(), schema)

    def close(self, entity: str) -> ExportedFile:
        result = self.writer.close()
        self._cm.__exit__(None, None, None)
        return ExportedFile(self.path, entity, result.rows, result.bytes, result.sha256,
                            ParquetWriter.media_type)


def _partition_values(batch: pa.RecordBatch, keys: tuple[str, ...]) -> list[pa.Array]:
    values = []
    for k in keys:
        if k == "month":
            column = batch.column("created_at")
            values.append(pc.strftime(column, format="%Y-%m"))
        else:
            values.append(pc.cast(batch.column(k), pa.string()))
    return values


def _write_partitioned(bundle: RemoteBundle, entity: str, minimizer: Minimizer,
                       batches: Iterator[pa.RecordBatch], keys: tuple[str, ...]
                       ) -> list[ExportedFile]:
    """An entity's rows, minimized, split by partition: one streaming writer per partition
    (a few dozen at most: sources times months) while the entity is read."""
    file_schema = pa.schema([f for f in minimizer.schema if f.name not in keys])
    open_files: dict[tuple[str, ...], _Partition] = {}
    try:
        for raw in batches:
            batch = minimizer.apply(raw)
            parts = _partition_values(batch, keys)
            table = pa.Table.from_batches([batch]).select(file_schema.names)
            combos = pa.Table.from_arrays(parts, names=list(keys))
            for combo in combos.group_by(list(keys)).aggregate([]).to_pylist():
                mask = None
                for k in keys:
                    value = combo[k]
                    test = pc.is_null(combos[k]) if value is None else pc.equal(combos[k], value)
                    mask = test if mask is None else pc.and_(mask, test)
                labels = tuple(NULL_PARTITION if combo[k] is None else str(combo[k])
                               for k in keys)
                part = open_files.get(labels)
                if part is None:
                    folder = "/".join(f"{k}={v}" for k, v in zip(keys, labels, strict=True))
                    part = open_files[labels] = _Partition(
                        bundle, f"{entity}/{folder}/part-0.parquet", file_schema)
                for chunk in table.filter(mask).to_batches():
                    part.writer.write(chunk)
        return [open_files[k].close(entity) for k in sorted(open_files)]
    except BaseException:
        for part in open_files.values():
            with contextlib.suppress(Exception):
                part._cm.__exit__(None, None, None)
        raise
