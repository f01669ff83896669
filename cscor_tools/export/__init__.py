"""Exports: a workspace written as a bundle of JSON Lines, JSON, CSV or Parquet files.

``export_bundle(store, out, format=…, policy=…)`` is the whole job; ``ExportResult`` says what
was written. The bundle layout, manifest and Frictionless descriptor are described in
``describe.py``, the atomic placement in ``bundle.py`` and ``place.py``.
"""

from __future__ import annotations

from cscor_tools.export.dataset import DatasetResult, export_dataset
from cscor_tools.export.describe import ExportedFile
from cscor_tools.export.run import ExportResult, export_bundle

__all__ = ["DatasetResult", "ExportResult", "ExportedFile", "export_bundle", "export_dataset"]
