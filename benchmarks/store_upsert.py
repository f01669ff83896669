"""Store upsert throughput against a bare bulk load of the same rows, on both stores.

Our path: ``store.upsert("clients", rows)`` — one transaction, conflict handling on the primary
key, sticky tombstones. Baseline, in the same run on the same machine: the same rows written by
the backend's plainest bulk route into a table with the same columns and no constraints at all
(SQLite: executemany in one transaction; PostgreSQL: COPY). Both paths start from the same
Python rows and encode them to what the database accepts, so the ratio measures what upserting
costs over loading. PostgreSQL figures need CSCOR_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import target
from cscor_tools.schema import ENTITIES, provenance
from cscor_tools.store import open_store
from cscor_tools.store.ddl import column_type, quote


def make_rows(n: int) -> list[dict[str, Any]]:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    columns = ENTITIES["clients"].column_names
    rows = []
    for i in range(n):
        row = provenance("clients", "bench", f"c{i}", synced_at=now,
                         created_at=base + timedelta(seconds=i * 7))
        row.update(
            name=f"Client {i}", email=f"client{i}@example.com", phone=f"+3361234{i:05d}",
            company=f"Company {i % 997}", currency="eur", balance=i % 5000, rating=1 + i % 5,
            address={"line1": f"{i} Main Street", "city": "Lyon", "country": "FR"},
            tags=["bench", f"t{i % 7}"], notes=None, workflow_state="active", livemode=False,
        )
        for column in columns:  # fields the schema gains later load as NULL on both paths
            row.setdefault(column, None)
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _bare_sqlite(path: Path, rows: list[dict[str, Any]]) -> float:
    ent = ENTITIES["clients"]
    cols = ent.column_names
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    defs = ", ".join(f"{quote(f.name)} {column_type(f, 'sqlite')}" for f in ent.fields)
    conn.execute(f"CREATE TABLE bare ({defs})")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO bare VALUES ({', '.join('?' * len(cols))})",
        [tuple(_plain(r[c]) for c in cols) for r in rows],
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _bare_postgres(url: str, rows: list[dict[str, Any]]) -> float:
    import psycopg

    ent = ENTITIES["clients"]
    cols = ent.column_names
    table = f"bare_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url) as conn:
        defs = ", ".join(f"{quote(f.name)} {column_type(f, 'postgresql')}" for f in ent.fields)
        conn.execute(f"CREATE TABLE {table} ({defs})")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    [json.dumps(r[c]) if isinstance(r[c], dict | list) else r[c] for c in cols]
                )
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute(f"DROP TABLE {table}")
        conn.commit()
    return elapsed


def _ours(location: str, rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds for a first upsert (all inserts) and a second (all conflicts → updates)."""
    store = open_store(location)
    try:
        start = time.perf_counter()
        store.upsert("clients", rows)
        first = time.perf_counter() - start
        assert store.count("clients") == len(rows)
        start = time.perf_counter()
        store.upsert("clients", rows)
        second = time.perf_counter() - start
        return first, second
    finally:
        store.close()


def run(options: dict[str, str]) -> dict[str, Any]:
    n = int(options.get("rows", 200_000))
    rows = make_rows(n)
    out: dict[str, Any] = {"rows": n}
    targets: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bare = _bare_sqlite(Path(tmp) / "bare.db", rows)
        insert, update = _ours(str(Path(tmp) / "ours.db"), rows)
        out["sqlite"] = {
            "bare_executemany_rows_per_s": round(n / bare),
            "upsert_insert_rows_per_s": round(n / insert),
            "upsert_update_rows_per_s": round(n / update),
            "ratio_insert": round(bare / insert, 3),
            "ratio_update": round(bare / update, 3),
        }
        targets["sqlite_upsert_ratio"] = target(bare / insert, 0.5)

    url = os.environ.get("CSCOR_TEST_POSTGRES_URL")
    if url:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        try:
            bare = _bare_postgres(scoped, rows)
            insert, update = _ours(scoped, rows)
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        out["postgresql"] = {
            "bare_copy_rows_per_s": round(n / bare),
            "upsert_insert_rows_per_s": round(n / insert),
            "upsert_update_rows_per_s": round(n / update),
            "ratio_insert": round(bare / insert, 3),
            "ratio_update": round(bare / update, 3),
        }
        targets["postgres_upsert_ratio"] = target(bare / insert, 0.5)
    else:
        out["postgresql"] = "skipped: CSCOR_TEST_POSTGRES_URL is not set"
    out["targets"] = targets
    return out
