"""Helpers for the import tests: the corpus folder and small file writers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent.parent / "data" / "imports"


@pytest.fixture
def corpus() -> Path:
    return CORPUS


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def store_digest(db: Path) -> dict[str, str]:
    """Hashes of a SQLite workspace and its WAL: a write of any kind changes one of them."""
    return {p.name: file_digest(p) for p in (db, Path(f"{db}-wal"))}
