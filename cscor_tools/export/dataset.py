"""Hive-partitioned Parquet datasets: each entity split by ``source`` and ``month``.

``export_dataset(..., partition_by=("source", "month"))`` writes each entity as
hive-partitioned Parquet (``clients/source=stripe/month=2026-01/part-0.parquet``) that DuckDB,
Polars, Spark and Trino read as one table, to a local folder or any fsspec URL, with
``manifest.json`` last (``lifecycle.py``); partition values come from the *minimized* rows, so a
path never holds what the policy withholds.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cscor_tools.errors import PolicyError, RejectedInputError
from cscor_tools.export.bundle import Bundle
from cscor_tools.export.describe import ExportedFile, FileTotals
from cscor_tools.export.lifecycle import Written, opened, write_recorded
from cscor_tools.export.remote import RemoteBundle, is_remote
from cscor_tools.export.run import _entities, _key, _window
from cscor_tools.formats import ParquetWriter
from cscor_tools.minimize import Minimizer, Policy, Pseudonymizer, load_policy, plan_policy
from cscor_tools.store import Store
from cscor_tools.store.arrow import RowSelection, read_batches, read_snapshot

#: what ``--partition-by`` accepts: a column kept by the policy, or ``month`` of created_at
PARTITION_KEYS = ("source", "month")
#: Hive's name for a partition whose value is null
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class DatasetResult(FileTotals):
    """What ``export_dataset`` wrote."""

    out: str
    policy: str
    fingerprint: str
    partition_by: tuple[str, ...]
    files: tuple[ExportedFile, ...]
    run_id: int
    duration_s: float

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
    replace_unfinished: bool = False,
) -> DatasetResult:
    """Export each entity as hive-partitioned Parquet under ``out`` (a folder or any fsspec
    URL), with ``manifest.json`` last; recorded in the run log like every export.
    ``replace_unfinished``: as for ``export_bundle``."""
    started = time.monotonic()
    keys = tuple(partition_by)
    bad = [k for k in keys if k not in PARTITION_KEYS]
    if not keys or bad or len(set(keys)) != len(keys):
        raise RejectedInputError(
            f"cannot partition by {','.join(keys) or 'nothing'}: choose from "
            f"{', '.join(PARTITION_KEYS)}", field="partition_by")
    chosen = load_policy(policy)
    names = _entities(chosen, entities)
    lo, hi = _window(chosen, since, until)
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
    bundle = RemoteBundle(f"file://{where}" if local else where, overwrite=overwrite,
                          replace_unfinished=replace_unfinished)
    with opened(store) as workspace:
        key = _key(workspace, plans, env if env is not None else os.environ)
        pseudonymizer = Pseudonymizer(key) if key is not None else None

        def write(target: Bundle) -> Written:
            assert isinstance(target, RemoteBundle)
            files: list[ExportedFile] = []
            with read_snapshot(workspace):
                for name, plan in plans.items():
                    selection = RowSelection(lo, hi, include_deleted, chosen.rows.statuses(name))
                    batches = read_batches(workspace, name, columns=plan.source_columns,
                                           selection=selection, batch_rows=batch_rows)
                    files.extend(_write_partitioned(target, name, Minimizer(plan, pseudonymizer),
                                                    batches, keys))
            info = {"kind": "dataset", "format": "parquet", "layout": "hive",
                    "partition_by": list(keys), "policy": chosen.name,
                    "fingerprint": chosen.fingerprint(), "files": [f.as_dict() for f in files]}
            return Written(files, info)

        written, run_id = write_recorded(
            workspace, bundle, policy=chosen,
            started={"format": "parquet", "out": bundle.location, "partition_by": list(keys),
                     "entities": names},
            summary={"format": "parquet", "out": bundle.location, "partition_by": list(keys)},
            write=write,
        )
    return DatasetResult(where if local else bundle.location, chosen.name,
                         chosen.fingerprint(), keys, tuple(written.files), run_id,
                         time.monotonic() - started)


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
