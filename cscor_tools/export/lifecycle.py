"""One export's life, shared by every kind of bundle: recorded in the run log, its files
written data first and ``manifest.json`` last, then committed — or, on any error, removed and
recorded as failed.

A reader takes a bundle as complete exactly when its manifest is there (a local bundle is
also renamed into place whole; object storage has no rename, so there the manifest's being
last is the whole promise). Writing the manifest here, after the caller's files and in one
place, keeps that promise for folder, zip and partitioned bundles alike.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cscor_tools.export.bundle import Bundle
from cscor_tools.export.describe import ExportedFile, to_json
from cscor_tools.minimize import Policy
from cscor_tools.runs import RunStatus
from cscor_tools.store import Store, open_store

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Written:
    """What a bundle's writer produced: its data files and the manifest that lists them."""

    files: list[ExportedFile]
    manifest: dict[str, Any]


@contextmanager
def opened(store: Store | str | os.PathLike[str] | None) -> Iterator[Store]:
    """The workspace to export from: ``store`` itself, or one opened (and closed) here."""
    if isinstance(store, Store):
        yield store
        return
    workspace = open_store(store, create=False)
    try:
        yield workspace
    finally:
        workspace.close()


def write_recorded(
    workspace: Store,
    bundle: Bundle,
    *,
    policy: Policy,
    started: Mapping[str, Any],
    summary: Mapping[str, Any],
    write: Callable[[Bundle], Written],
) -> tuple[Written, int]:
    """Write a bundle through ``write`` (its data files, nothing else), then ``manifest.json``,
    then commit; the export is in the run log either way. Returns what was written and the
    run's id.

    ``started`` is what the run log says of the export when it begins; ``summary`` what it
    adds when it succeeds (the policy, its fingerprint, rows per entity and bytes are added
    here).
    """
    run_id = workspace.start_run("export", policy.name, dict(started))
    try:
        with bundle:
            written = write(bundle)
            bundle.write_file(MANIFEST, to_json(written.manifest))
            bundle.commit()
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the error that stopped the export matters more
            workspace.finish_run(run_id, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    counts: dict[str, int] = {}
    for f in written.files:
        counts[f.entity] = counts.get(f.entity, 0) + f.rows
    workspace.finish_run(run_id, RunStatus.SUCCEEDED, counts=counts, details={
        **summary, "policy": policy.name, "fingerprint": policy.fingerprint(),
        "bytes": sum(f.bytes for f in written.files)})
    return written, run_id
