"""Fixtures of the privacy tests: a workspace on each store holding Ann and her lookalikes."""

from __future__ import annotations

import pytest

from cscor_tools.store import Store
from tests.privacy.people import seed_people


@pytest.fixture
def people(store: Store) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    """Ann's ids by entity, and each lookalike's."""
    return seed_people(store)
