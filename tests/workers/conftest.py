"""Fixtures of the worker tests: a queue and workspaces, each a fresh PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import _require_postgres, with_search_path

pytest.importorskip("procrastinate")


@pytest.fixture
def new_schema() -> Iterator[Callable[[], str]]:
    """Makes fresh schemas (dropped after the test); returns their URLs."""
    import psycopg

    base = _require_postgres()
    made: list[str] = []

    def make() -> str:
        schema = f"w_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return with_search_path(base, schema)

    yield make
    with psycopg.connect(base, autocommit=True) as conn:
        for schema in made:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def queue_url(new_schema: Callable[[], str]) -> str:
    return new_schema()
