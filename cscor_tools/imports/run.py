"""The import run: from a path to committed rows, a rejects file and a run-log entry.

One run is one transaction: every valid row of every file (all entity files of a bundle, in
dependency order) is written inside it as batches are read, and it commits at the end — or,
with ``on_error="stop"``, rolls back at the first rejected row, so either the valid rows are
committed together or nothing is. Memory holds one batch at a time, whatever the file size.

A batch goes through the columnar pipeline: read as columns (``batches``: polars chunks of a
UTF-8 CSV file, or records from the readers), converted and checked a column at a time
(``columnar``, ``vector``), its references resolved a distinct value at a time and loaded in
one statement (``load``), on a loader thread while the next batch is read. The row-at-a-time
builder and applier stay the definition of every rule; they build the rows the columnar
checks refuse (naming every problem), and apply the batches that need them (a dry run,
erased people to screen, an id twice in one batch).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cscor_tools.config import Config, load_config, resolve_workspace
from cscor_tools.errors import RejectedInputError
from cscor_tools.gc_tuning import lean_gc
from cscor_tools.imports.apply import Applier, BatchOutcome, Overlay
from cscor_tools.imports.batches import Batch, read_batches
from cscor_tools.imports.bundle import Bundle, open_bundle
from cscor_tools.imports.codes import fold
from cscor_tools.imports.columnar import BuiltBatch, ColumnarBuilder
from cscor_tools.imports.load import FrameApplier
from cscor_tools.imports.mapping import ColumnMapping, load_mapping
from cscor_tools.imports.readers import Source, Table, encoding_label, open_table
from cscor_tools.imports.references import LeftOutReferences
from cscor_tools.imports.rejects import RejectsWriter, default_rejects_path
from cscor_tools.imports.result import MAX_MESSAGES, FileResult, ImportResult
from cscor_tools.imports.rowplan import PlanOptions, RowBuilder
from cscor_tools.imports.sniff import detect_format
from cscor_tools.privacy.guard import WriteGuard
from cscor_tools.runs import RunStatus
from cscor_tools.schema import ENTITIES, utc_now
from cscor_tools.store import Store, Transaction, is_postgres_url, open_store, open_workspace

#: the source name of rows imported from plain files, unless the mapping or caller names one
DEFAULT_SOURCE = "import"
#: records per batch: each is converted a column at a time and loaded in one statement
BATCH_SIZE = 50_000
ON_ERROR = ("skip", "stop")

#: words in a file name that say which entity it holds
_ENTITY_WORDS: dict[str, str] = {
    **{fold(name): name for name in ENTITIES},
    **dict.fromkeys(("client", "customer", "customers", "companies", "accounts",
                     "organisations", "organizations"), "clients"),
    **dict.fromkeys(("contact", "people", "persons"), "contacts"),
    **dict.fromkeys(("invoice", "bills"), "invoices"),
    **dict.fromkeys(("line items", "invoice line", "invoice items"), "invoice_lines"),
    **dict.fromkeys(("payment", "transactions", "charges"), "payments"),
    **dict.fromkeys(("comment", "project comments"), "comments"),
}


@dataclass(frozen=True)
class ImportProgress:
    """Where an import stands, for a progress bar."""

    file: str
    entity: str
    rows: int
    bytes_read: int
    total_bytes: int | None


ProgressCallback = Callable[[ImportProgress], None]


class ImportStoppedError(RejectedInputError):
    """``on_error="stop"`` met a rejected row: nothing was imported. ``result`` has counts."""

    def __init__(self, reason: str, *, file: str, row: int, field: str | None,
                 result: ImportResult) -> None:
        super().__init__(f"{reason} (--on-error stop: nothing was imported)", file=file,
                         row=row, field=field)
        self.result = result


def infer_entity(path: Path) -> str:
    """The entity a file holds, from its name ("Customers-2024.csv" → clients)."""
    words = " ".join(re.findall(r"[a-z]+", fold(path.stem)))  # "Clients_2024v2" → clients v
    hits = {entity for word, entity in _ENTITY_WORDS.items()
            if f" {word} " in f" {words} "}
    if "invoice_lines" in hits:
        hits.discard("invoices")
    if len(hits) == 1:
        return hits.pop()
    raise RejectedInputError(
        "cannot tell from the file name which entity it holds; pass --entity "
        f"({', '.join(ENTITIES)})", file=str(path)
    )


def import_file(
    path: str | os.PathLike[str],
    *,
    store: Store | None = None,
    workspace: str | None = None,
    config: Config | None = None,
    entity: str | None = None,
    mapping: ColumnMapping | str | os.PathLike[str] | None = None,
    source: str | None = None,
    dry_run: bool = False,
    rejects: str | os.PathLike[str] | None = None,
    on_error: str = "skip",
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a CSV, JSON, JSON Lines or Parquet file, or an export bundle, into a workspace.

    ``entity`` defaults to the mapping's, then to what the file name says; a bundle names
    its own. Rows are upserted by natural key, so importing the same file twice changes
    nothing. Rejected rows go to ``rejects`` (default: ``NAME.rejects.EXT`` beside the input;
    a folder for a bundle); with ``on_error="stop"`` the first one stops the import and
    nothing is committed (ImportStoppedError). ``dry_run`` writes nothing — not the store,
    not the run log, and a rejects file only when ``rejects`` is given; a SQLite workspace
    that does not exist yet is not created for it. A bundle's references that its manifest
    lists as left out (tombstones not exported, rows never synced) are restored as the
    source held them; every other reference must resolve (see ``references.py``).
    Raises RejectedInputError for a file that cannot be read at all.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    target = Path(path)
    plan = mapping if isinstance(mapping, ColumnMapping) else (
        load_mapping(mapping) if mapping is not None else ColumnMapping()
    )
    chosen_source = (source or plan.source or DEFAULT_SOURCE).strip()
    if not chosen_source:
        raise ValueError("source must not be empty")
    fmt = detect_format(target)
    if entity is not None and entity not in ENTITIES:
        raise RejectedInputError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    with ExitStack() as stack:
        bundle = stack.enter_context(open_bundle(target)) if fmt == "bundle" else None
        if store is None:
            store = stack.enter_context(_open_target(workspace, config, dry_run))
        run = _Run(store, target, fmt, plan, chosen_source, dry_run, on_error, encoding,
                   batch_size, progress, rejects)
        if bundle is not None:
            return run.execute_bundle(bundle, entity)
        return run.execute_file(entity or plan.entity or infer_entity(target))
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


class _Run:
    def __init__(self, store: Store, path: Path, fmt: str, mapping: ColumnMapping, source: str,
                 dry_run: bool, on_error: str, encoding: str | None, batch_size: int,
                 progress: ProgressCallback | None,
                 rejects: str | os.PathLike[str] | None) -> None:
        self.store = store
        self.path = path
        self.mapping = mapping
        self.dry_run = dry_run
        self.on_error = on_error
        self.encoding = encoding
        self.batch_size = batch_size
        self.progress = progress
        self.rejects = Path(rejects) if rejects is not None else None
        self.synced_at = utc_now()
        self.overlay = Overlay() if dry_run else None
        # Privacy: erased people stay erased, corrections stay made (loaded once per run).
        self.guard = WriteGuard.load(store)
        #: a bundle's references that may stay unresolved (None: a plain file, all checked)
        self.left_out: LeftOutReferences | None = None
        #: a bundle's CSV cells carry the exporter's formula apostrophe, to be removed
        self.unguard_formulas = True
        self.result = ImportResult(str(path), fmt, source, dry_run, on_error)

    # -- entry points ---------------------------------------------------------------------

    def execute_file(self, entity: str) -> ImportResult:
        source = Source.from_path(self.path)
        rejects = self.rejects or (None if self.dry_run else default_rejects_path(self.path))
        parts = [(entity, source, self.result.format, False, rejects)]
        details = {"file": str(self.path), "format": self.result.format, "entity": entity}
        return self._execute(parts, details)

    def execute_bundle(self, bundle: Bundle, entity: str | None) -> ImportResult:
        self.result.sha256 = bundle.manifest_sha256
        self.result.bundle = {"policy": bundle.policy, "schema_version": bundle.schema_version}
        self.left_out = LeftOutReferences(bundle.left_out)
        self.unguard_formulas = bundle.formulas_protected
        folder = self.rejects or (
            None if self.dry_run else self.path.with_name(f"{self.path.name}.rejects")
        )
        chosen = [f for f in bundle.files if entity is None or f.entity == entity]
        if not chosen:
            raise RejectedInputError(f"the bundle holds no {entity or 'entity'} file",
                                     file=str(self.path))
        parts = []
        for item in chosen:
            name = Path(item.path).name
            target = folder / f"{Path(name).stem}.rejects{Path(name).suffix}" if folder else None
            parts.append((item.entity, bundle.source(item), item.format, True, target))
        details = {
            "bundle": str(self.path),
            "manifest_sha256": bundle.manifest_sha256,
            "policy": bundle.policy,
            "files": {f.path: f.sha256 for f in chosen},
        }
        return self._execute(parts, details)

    # -- the run --------------------------------------------------------------------------

    def _execute(self, parts: list[tuple[str, Source, str, bool, Path | None]],
                 details: dict[str, Any]) -> ImportResult:
        started = time.perf_counter()
        result = self.result
        details = {**details, "source": result.source, "on_error": self.on_error}
        run_id = None if self.dry_run else self.store.start_run("import", self.path.name,
                                                                details)
        result.run_id = run_id
        try:
            tx_context = nullcontext(None) if self.dry_run else self.store.transaction()
            # rows, cells and batches are acyclic: leave them to reference counting
            with lean_gc(), tx_context as tx:
                for entity, source, fmt, verbatim, rejects in parts:
                    self._import_part(tx, entity, source, fmt, verbatim, rejects)
        except BaseException as exc:
            if run_id is not None:
                status = (RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt)
                          else RunStatus.FAILED)
                self.store.finish_run(run_id, status, counts=result.counts(),
                                      error=str(exc)[:500], details=self._details(details))
            raise
        finally:
            result.duration_s = round(time.perf_counter() - started, 3)
        if result.format != "bundle":
            result.sha256 = result.files[0].sha256
        if run_id is not None:
            status = RunStatus.PARTIAL if result.rejected else RunStatus.SUCCEEDED
            self.store.finish_run(run_id, status, counts=result.counts(),
                                  details=self._details(details))
        return result

    def _details(self, details: dict[str, Any]) -> dict[str, Any]:
        return {
            **details,
            "sha256": self.result.sha256 or (
                self.result.files[0].sha256 if self.result.files else None
            ),
            "duration_s": self.result.duration_s,
            "rejected": self.result.rejected,
            "rejects": [f.rejects_path for f in self.result.files if f.rejects_path],
        }

    def _import_part(self, tx: Transaction | None, entity: str, source: Source, fmt: str,
                     verbatim: bool, rejects_path: Path | None) -> None:
        with _opened(source, fmt, self.encoding) as table:
            file_result = FileResult(entity, source.name, fmt, table.encoding, table.delimiter)
            self.result.files.append(file_result)
            builder = RowBuilder(table.columns, self.mapping, PlanOptions(
                entity=entity,
                source=self.result.source,
                synced_at=self.synced_at,
                file=source.name,
                verbatim=verbatim,
                blank_is_null=fmt == "csv" or not verbatim,
                dynamic=table.dynamic,
                unguard_formulas=verbatim and fmt == "csv" and self.unguard_formulas,
            ))
            writer = RejectsWriter(rejects_path, table) if rejects_path is not None else None
            applier = FrameApplier(Applier(self.store, entity, tx=tx, overlay=self.overlay,
                                           verbatim=verbatim, left_out=self.left_out,
                                           guard=self.guard))
            try:
                self._read(table, builder, applier, file_result, writer)
            finally:
                if writer is not None:
                    writer.close()
                    if writer.count:
                        file_result.rejects_path = str(writer.path)
                # the run log names the file by its hash, failed runs included
                file_result.sha256 = table.sha256()
            report = builder.report
            file_result.columns = report.mapped
            file_result.unknown_columns = report.unknown
            file_result.ignored_columns = report.ignored
            file_result.key = report.key
            file_result.notes = self._encoding_notes(table, verbatim) + report.notes + [
                f"the unnamed column {i + 1} holds values; they were not imported"
                for i in builder.unnamed_with_data
            ] + [
                f"{count} {fname} value(s) point to {builder.references[fname]} rows the bundle "
                "does not hold (deleted, filtered out or never synced at the source): kept as "
                "the source held them, as the manifest allows"
                for fname, count in applier.kept_unresolved.items()
            ]

    def _encoding_notes(self, table: Table, verbatim: bool) -> list[str]:
        """How a plain text file was decoded, said in the summary (a bundle is UTF-8)."""
        if table.encoding is None or verbatim:
            return []
        how = "as given by --encoding" if self.encoding else "detected"
        note = f"read as {encoding_label(table.encoding)} ({how})"
        if table.bad_text_rows:
            rows = "1 row" if table.bad_text_rows == 1 else f"{table.bad_text_rows} rows"
            note += f"; {rows} holding bytes that are not {encoding_label(table.encoding)} rejected"
        return [note]

    def _read(self, table: Table, builder: RowBuilder, applier: FrameApplier,
              out: FileResult, writer: RejectsWriter | None) -> None:
        columnar = ColumnarBuilder(builder)

        def reject(n: int, raw: Any, field: str | None, reason: str) -> None:
            out.rejected += 1
            if self.left_out is not None:
                self.left_out.refused(out.entity, raw, table.columns)
            if len(out.messages) < MAX_MESSAGES:
                where = f"row {n}" + (f", field {field!r}" if field else "")
                out.messages.append(f"{where}: {reason}")
            if writer is not None:
                writer.write(n, raw, field, reason)
            if self.on_error == "stop":
                raise ImportStoppedError(reason, file=table.source.name, row=n, field=field,
                                         result=self.result)

        def finish(batch: Batch, built: BuiltBatch, applied: Future[BatchOutcome]) -> None:
            # the reader's and the builder's refusals in the order of the file, as a row at
            # a time would have met them; then those that needed the store
            early = sorted(batch.unreadable + built.rejected, key=lambda r: r[0])
            outcome = applied.result()
            out.rows += batch.records
            for rejection in early + outcome.rejected:
                reject(*rejection)
            out.inserted += outcome.inserted
            out.updated += outcome.updated
            out.unchanged += outcome.unchanged
            out.suppressed += outcome.suppressed
            self._report(table, out)

        # One loader thread applies batch k (the store's work, which releases the GIL: the
        # database's own time, polars' encoding) while this thread reads and builds batch
        # k+1 (polars' work releases it too). Only the loader touches the store meanwhile;
        # leaving this block waits for it, so an error or a stop rolls back a quiet store.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cscor-import") as loader:
            pending: tuple[Batch, BuiltBatch, Future[BatchOutcome]] | None = None
            for batch in read_batches(table, builder, self.batch_size):
                built = columnar.build(batch.rows)
                # (a copy: a JSON file's next batch may add to the builder's references)
                applied = loader.submit(applier.apply, built, batch.rows,
                                        dict(builder.references))
                if pending is not None:
                    finish(*pending)
                pending = (batch, built, applied)
            if pending is not None:
                finish(*pending)
        self._report(table, out)

    def _report(self, table: Table, out: FileResult) -> None:
        if self.progress is not None:
            self.progress(ImportProgress(out.file, out.entity, out.rows, table.bytes_read,
                                   table.source.size))


def _open_target(workspace: str | None, config: Config | None, dry_run: bool) -> Store:
    """The workspace to import into; for a dry run, never one created just for it.

    A dry run against a SQLite workspace that does not exist yet compares the file with an
    empty in-memory workspace (which is what the new one would be) instead of creating the
    file, its folder and its tables.
    """
    config = config if config is not None else load_config()
    if dry_run:
        location = resolve_workspace(workspace, config)
        path = location.removeprefix("sqlite:///")
        if not is_postgres_url(location) and path != ":memory:" and not Path(path).exists():
            return open_store(":memory:")
    return open_workspace(workspace, config, create=True)


@contextmanager
def _opened(source: Source, fmt: str, encoding: str | None) -> Iterator[Table]:
    table = open_table(source, fmt, encoding)
    try:
        yield table
    finally:
        table.close()
