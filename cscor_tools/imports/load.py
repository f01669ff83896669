"""Built batches into the store: references resolved a distinct value at a time, then one
bulk load that writes only what is new or changed and says which was which.

The row applier (``apply.py``) stays the definition of how rows are classified; it still
applies the batches that need its row-at-a-time bookkeeping: a dry run (which writes
nothing and remembers what it would have), a workspace with erased people (each row goes
through the privacy guard), and a batch naming one id twice (the last row wins, each
counted as written one after another). Everything else is a ``Transaction.load``, which
counts inserted and updated rows in the store itself.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cscor_tools.imports.apply import Applier, BatchOutcome, Item
from cscor_tools.imports.columnar import INDEX, BuiltBatch, RawBatch


class FrameApplier:
    """Applies built batches of one entity; ``rows`` is the row applier it shares state with
    (its reference cache, the references a bundle kept unresolved)."""

    def __init__(self, rows: Applier) -> None:
        self.rows = rows

    @property
    def kept_unresolved(self) -> dict[str, int]:
        return self.rows.kept_unresolved

    def apply(self, built: BuiltBatch, batch: RawBatch,
              references: dict[str, str]) -> BatchOutcome:
        out = BatchOutcome()
        frame = built.frame
        if frame.height and references:
            frame = self._resolve(frame, batch, references, out)
        rows = self.rows
        if frame.height == 0:
            pass
        elif rows.tx is None or rows.overlay is not None or (
            rows.guard is not None and rows.guard.active
        ) or frame["id"].is_duplicated().any():
            at = frame[INDEX].to_list()
            items = [(batch.numbers[i], row, batch.raw_of(i))
                     for i, row in zip(at, frame.drop(INDEX).to_dicts(), strict=True)]
            self._row_by_row(items, {}, out)
        else:
            # into a table empty when the import began, a row is new unless an earlier
            # batch wrote its id: the store tries the plain insert and upserts if so
            inserted, updated = rows.tx.load(rows.entity, frame.drop(INDEX), new=rows.fresh)
            out.inserted += inserted
            out.updated += updated
            out.unchanged += frame.height - inserted - updated
        if built.rows:
            self._row_by_row(built.rows, references, out)
        return out

    def _row_by_row(self, items: list[Item], references: dict[str, str],
                    out: BatchOutcome) -> None:
        got = self.rows.apply(items, references)
        out.inserted += got.inserted
        out.updated += got.updated
        out.unchanged += got.unchanged
        out.suppressed += got.suppressed
        out.rejected.extend(got.rejected)

    def _resolve(self, frame: pl.DataFrame, batch: RawBatch, references: dict[str, str],
                 out: BatchOutcome) -> pl.DataFrame:
        """Each reference to the id of the row it names, or the row refused (see
        ``Applier._resolve``, which this does for each distinct value instead of each row)."""
        rows = self.rows
        sources = frame["source"].to_list()
        refused: dict[int, tuple[str, str]] = {}
        resolved: dict[str, list[Any]] = {}
        kept: dict[int, list[str]] = {}
        for fname, ref in references.items():
            if fname not in frame.columns:
                continue
            values = frame[fname].to_list()
            pairs = {(v, s) for v, s in zip(values, sources, strict=True) if v is not None}
            wanted = {c for v, s in pairs for c in rows.candidates(ref, v, s)}
            found = rows.existing(ref, wanted)
            hits: dict[tuple[str, str], str | None] = {}
            for v, s in pairs:
                options = rows.candidates(ref, v, s)
                hit = next((c for c in options if c in found), None)
                if hit is None and rows.guard is not None:
                    hit = rows.guard.erased_id(options)
                hits[(v, s)] = hit
            column: list[Any] = []
            for k, (v, s) in enumerate(zip(values, sources, strict=True)):
                if v is None or k in refused:
                    column.append(v)
                    continue
                hit = hits[(v, s)]
                if hit is not None:
                    column.append(hit)
                    continue
                column.append(v)
                if rows.left_out is not None and rows.left_out.keeps(rows.entity, fname, ref, v):
                    kept.setdefault(k, []).append(fname)
                else:
                    singular = ref[:-1] if ref.endswith("s") else ref
                    refused[k] = (fname, f"no {singular} with this reference in the file or "
                                         "the workspace")
            resolved[fname] = column
        if resolved:
            frame = frame.with_columns(pl.Series(name, values, dtype=frame.schema[name])
                                       for name, values in resolved.items())
        for k, fnames in kept.items():
            if k not in refused:
                for fname in fnames:
                    rows.kept_unresolved[fname] = rows.kept_unresolved.get(fname, 0) + 1
        if not refused:
            return frame
        at = frame[INDEX].to_list()
        for k in sorted(refused):
            fname, reason = refused[k]
            i = at[k]
            out.rejected.append((batch.numbers[i], batch.raw_of(i), fname, reason))
        keep = pl.Series([k not in refused for k in range(frame.height)])
        return frame.filter(keep)
