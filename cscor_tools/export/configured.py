"""An export described as data (a named job's ``[jobs.NAME.export]``, a queued export job):
a bundle, or hive-partitioned Parquet when it names ``partition_by``."""

from __future__ import annotations

import os
from collections.abc import Mapping

from cscor_tools.config import ExportSpec
from cscor_tools.errors import RejectedInputError
from cscor_tools.export.dataset import DatasetResult, export_dataset
from cscor_tools.export.run import ExportResult, export_bundle
from cscor_tools.formats import FORMATS
from cscor_tools.minimize.policy import parse_moment
from cscor_tools.store import Store


def check_spec(spec: ExportSpec) -> None:
    """Refuse, before any work is queued or done, what no export could do."""
    if spec.partition_by and (spec.format not in ("jsonl", "parquet") or spec.zip):
        raise RejectedInputError("a partitioned export is Parquet in a folder or prefix: "
                                 "use format parquet, without zip", field="partition_by")
    if spec.format not in FORMATS:
        raise RejectedInputError(f"unknown format {spec.format!r} (known: {', '.join(FORMATS)})",
                                 field="format")
    for name, value in (("since", spec.since), ("until", spec.until)):
        if value is not None:
            try:
                parse_moment(value)
            except ValueError as exc:
                raise RejectedInputError(str(exc), field=name) from None


def run_export(store: Store | str | os.PathLike[str] | None, spec: ExportSpec, *,
               env: Mapping[str, str] | None = None,
               replace_unfinished: bool = False) -> ExportResult | DatasetResult:
    """Write the export ``spec`` describes from the workspace ``store`` (``replace_unfinished``:
    see ``export_bundle``)."""
    check_spec(spec)
    entities = list(spec.entities) or None
    if spec.partition_by:
        return export_dataset(store, spec.out, partition_by=spec.partition_by,
                              policy=spec.policy, entities=entities, since=spec.since,
                              until=spec.until, include_deleted=spec.include_deleted,
                              overwrite=spec.overwrite, env=env,
                              replace_unfinished=replace_unfinished)
    return export_bundle(store, spec.out, format=spec.format, policy=spec.policy,
                         entities=entities, since=spec.since, until=spec.until,
                         include_deleted=spec.include_deleted, zip=spec.zip,
                         overwrite=spec.overwrite, env=env,
                         replace_unfinished=replace_unfinished)
