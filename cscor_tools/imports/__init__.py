"""Bulk import: CSV, JSON, JSON Lines, Parquet and export bundles into the workspace store.

::

    from cscor_tools.imports import import_file

    result = import_file("customers.csv", workspace="workspace.db")
    print(result.inserted, result.updated, result.unchanged, result.rejected)

Modules, one job each: ``sniff`` (format, encoding, delimiter), ``readers`` (records out of
files), ``csvchunks`` (a regular UTF-8 CSV read by polars), ``batches`` (records as batches of
columns), ``aliases`` and ``mapping`` (which column is which field), ``cells``, ``convert``,
``checks`` and ``money`` (cells to values), ``vector`` (the same a column at a time), ``keys``
(natural keys and ids), ``rowplan`` (records to validated rows), ``columnar`` (batches to
validated rows), ``apply`` (foreign keys, insert/update/unchanged, upsert, a row at a time),
``load`` (the same for a batch, in one bulk load), ``rejects`` (the rejects file), ``bundle``
(manifest, checksums, policy), ``references`` (what a bundle may leave unresolved), ``codes``
(ISO lists), ``result`` and ``run`` (the transaction, the run log, the result).
"""

from __future__ import annotations

from cscor_tools.imports.aliases import known_aliases
from cscor_tools.imports.mapping import ColumnMapping, FieldOptions, load_mapping, parse_mapping
from cscor_tools.imports.result import FileResult, ImportResult
from cscor_tools.imports.run import (
    DEFAULT_SOURCE,
    ImportProgress,
    ImportStoppedError,
    import_file,
    infer_entity,
)

__all__ = [
    "DEFAULT_SOURCE",
    "ColumnMapping",
    "FieldOptions",
    "FileResult",
    "ImportProgress",
    "ImportResult",
    "ImportStoppedError",
    "import_file",
    "infer_entity",
    "known_aliases",
    "load_mapping",
    "parse_mapping",
]
