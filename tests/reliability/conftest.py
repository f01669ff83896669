"""Fixtures of the reliability suite: one sandbox for the package, workspaces on each store.

The scenarios themselves live in ``benchmarks/reliability/``, which runs them at full size;
here they run at a reduced size, and each test prints its figure (``pytest -s`` shows them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.reliability import Locations, sandboxed_connectors
from cscor_tools.sandbox import Sandbox
from tests.conftest import _require_postgres

#: the size CI runs at (the benchmark's default is 1.0)
SCALE = 0.2
CONNECTORS = sandboxed_connectors()


@pytest.fixture(scope="package")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=14, scale=SCALE) as sb:
        yield sb


@pytest.fixture(params=CONNECTORS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sqlite", "postgres"])
def locs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Locations]:
    """Fresh workspace locations on each store."""
    if request.param == "postgres":
        _require_postgres()
    found = Locations(request.param, tmp_path)
    try:
        yield found
    finally:
        found.close()


def show(figure: object) -> None:
    """Print a test's figure: ``pytest -s tests/reliability`` lists what was measured."""
    print(f"\nFIGURE {figure}")
