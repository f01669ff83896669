"""Shared fixtures of the Stripe connector tests: Stripe's example objects and a sandbox."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
CASSETTES = REPO / "cassettes" / "stripe"


@pytest.fixture(scope="session")
def examples() -> dict[str, Any]:
    """Stripe's own example objects (fixtures3.json, kept verbatim beside the cassettes)."""
    return json.loads((CASSETTES / "fixture_objects.json").read_text())


@pytest.fixture
def example(examples: dict[str, Any]) -> Any:
    """A fresh deep copy of one example object, by name."""
    return lambda name: copy.deepcopy(examples[name])


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A small in-thread sandbox: 40 customers, 120 invoices (enough for several windows)."""
    from cscor_tools.sandbox.sandbox import Sandbox

    with Sandbox(seed=5, scale=0.2) as sb:
        yield sb


@pytest.fixture(scope="module")
def sandbox_1x() -> Iterator[Any]:
    """The default-scale sandbox: 200 customers and 600 invoices, read in several windows.
    Shared by a module's tests, so only for tests that do not change it."""
    from cscor_tools.sandbox.sandbox import Sandbox

    with Sandbox(seed=7, scale=1.0) as sb:
        yield sb
