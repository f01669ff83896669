"""Fixtures shared by the export tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cscor_tools.store import Store, open_store
from tests.export.sample import seed_two_sources


@pytest.fixture
def two_sources(tmp_path: Path) -> Iterator[Store]:
    """A SQLite workspace holding the sample with clients of two sources (partitions by
    source have more than one value)."""
    s = open_store(tmp_path / "workspace.db")
    seed_two_sources(s)
    try:
        yield s
    finally:
        s.close()
